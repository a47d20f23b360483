//! Behaviour of the `pvm` command line as a user sees it: help and version,
//! exit codes (64 usage, 65 compile or load, 70 runtime, 74 I/O), where
//! `pvm compile` writes and what it refuses to do, that compiling is
//! deterministic and position-independent, `disasm`, and a reader closing the
//! pipe early. Damaged `.pbc` files are in `cli_bytecode.rs`.

mod common;

use common::cli::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const PROGRAM: &str = "\
fun greet(name) { return \"hello \" + name; }
class Counter {
  init() { this.n = 0; }
  add() { this.n = this.n + 1; return this; }
}
print greet(\"world\");
print Counter().add().add().n;
print 1.5 * 4;
";
const PROGRAM_OUTPUT: &str = "hello world\n2\n6\n";

// Help, version and usage errors.

#[test]
fn help_on_every_subcommand() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["compile", "--help"],
        &["run", "--help"],
        &["disasm", "--help"],
        &["help", "run"],
        &["sysvm", "--help"],
    ] {
        let output = pvm(args);
        assert_exit(&output, 0);
        let stdout = text(&output.stdout);
        assert!(stdout.contains("Usage: pvm"), "{args:?} printed:\n{stdout}");
        assert!(output.stderr.is_empty(), "{args:?} wrote to stderr");
    }
    let run_help = text(&pvm(&["run", "--help"]).stdout);
    for option in ["--gc-stress", "--max-call-depth", "--budget"] {
        assert!(
            run_help.contains(option),
            "run --help does not mention {option}"
        );
    }
    assert!(text(&pvm(&["compile", "--help"]).stdout).contains("--output"));
}

#[test]
fn version() {
    let output = pvm(&["--version"]);
    assert_exit(&output, 0);
    assert_eq!(
        text(&output.stdout).trim(),
        format!("pvm {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_64() {
    let scratch = Scratch::new("usage");
    let source = scratch.write("ok.lox", "print 1;\n");
    let source = p(&source);
    for args in [
        &[][..],
        &["frobnicate"],
        &["run"],
        &["compile"],
        &["disasm"],
        &["run", "--no-such-flag", source],
        &["run", "--gc-stress", "often", source],
        &["run", "--max-call-depth", "-3", source],
        &["run", "--budget", source],
        &["compile", source, "extra", "arguments"],
        &["compile", source, "-o"],
        &["disasm", source, source],
    ] {
        let output = pvm(args);
        assert_exit(&output, EXIT_USAGE);
        assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
        assert!(!output.stderr.is_empty(), "{args:?} explained nothing");
    }
}

// I/O errors.

#[test]
fn missing_file_exits_74() {
    let scratch = Scratch::new("missing");
    let missing = scratch.path("nothing-here.lox");
    for command in ["run", "compile", "disasm"] {
        let output = pvm(&[command, p(&missing)]);
        assert_exit(&output, EXIT_IO);
        let stderr = text(&output.stderr);
        assert!(stderr.contains("nothing-here.lox"), "{command}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
    }
    assert!(!scratch.path("nothing-here.pbc").exists());
}

#[test]
fn directory_as_input_exits_74() {
    let scratch = Scratch::new("dir-input");
    let folder = scratch.path("looks_like.lox");
    std::fs::create_dir(&folder).expect("mkdir");
    for command in ["run", "compile", "disasm"] {
        let output = pvm(&[command, p(&folder)]);
        assert_exit(&output, EXIT_IO);
    }
}

#[test]
fn unwritable_output_exits_74_and_leaves_nothing_behind() {
    let scratch = Scratch::new("unwritable");
    let source = scratch.write("prog.lox", PROGRAM);
    let into_missing_folder = scratch.path("no/such/folder/prog.pbc");
    let output = pvm(&["compile", p(&source), "-o", p(&into_missing_folder)]);
    assert_exit(&output, EXIT_IO);

    let folder_as_output = scratch.path("out");
    std::fs::create_dir(&folder_as_output).expect("mkdir");
    let output = pvm(&["compile", p(&source), "-o", p(&folder_as_output)]);
    assert_exit(&output, EXIT_IO);
    assert!(folder_as_output.is_dir());
    assert_eq!(scratch.listing(), ["out", "prog.lox"]);
}

// Where `pvm compile` writes.

#[test]
fn compile_default_output_replaces_the_extension() {
    let scratch = Scratch::new("default-name");
    for (source, expected) in [
        ("prog.lox", "prog.pbc"),
        ("no_extension", "no_extension.pbc"),
        ("two.dots.lox", "two.dots.pbc"),
        ("sub/inner.lox", "sub/inner.pbc"),
    ] {
        let path = scratch.write(source, PROGRAM);
        let output = pvm(&["compile", p(&path)]);
        assert_exit(&output, 0);
        assert!(
            output.stdout.is_empty() && output.stderr.is_empty(),
            "compile is silent"
        );
        let bytes = std::fs::read(scratch.path(expected)).expect("default output written");
        assert!(bytes.starts_with(b"PVMB"), "{expected} is not bytecode");
    }
    // Relative to the working directory, too.
    let output = pvm_in(Some(&scratch.0), &["compile", "prog.lox"]);
    assert_exit(&output, 0);
    assert!(scratch.path("prog.pbc").exists());
}

#[test]
fn compile_refuses_to_overwrite_its_input() {
    let scratch = Scratch::new("overwrite");
    let source = scratch.write("prog.lox", PROGRAM);
    let spellings = [
        p(&source).to_string(),
        format!("{}/./prog.lox", p(&scratch.0)),
        format!("{}/sub/../prog.lox", p(&scratch.0)),
    ];
    std::fs::create_dir(scratch.path("sub")).expect("mkdir");
    for output_path in &spellings {
        let output = pvm(&["compile", p(&source), "-o", output_path]);
        assert_exit(&output, EXIT_USAGE);
        assert_eq!(
            std::fs::read_to_string(&source).expect("source kept"),
            PROGRAM
        );
    }
    // Relative spelling from the source's own folder.
    let output = pvm_in(Some(&scratch.0), &["compile", "prog.lox", "-o", "prog.lox"]);
    assert_exit(&output, EXIT_USAGE);

    // A source that is already named .pbc would be its own default output.
    let pbc_named_source = scratch.write("already.pbc", PROGRAM);
    let output = pvm(&["compile", p(&pbc_named_source)]);
    assert_exit(&output, EXIT_USAGE);
    assert_eq!(
        std::fs::read_to_string(&pbc_named_source).expect("kept"),
        PROGRAM
    );
    assert_eq!(scratch.listing(), ["already.pbc", "prog.lox", "sub"]);
}

#[test]
fn compile_output_is_atomic_and_leaves_no_temporary_files() {
    let scratch = Scratch::new("atomic");
    let source = scratch.write("prog.lox", PROGRAM);
    let output = pvm(&["compile", p(&source)]);
    assert_exit(&output, 0);
    assert_eq!(scratch.listing(), ["prog.lox", "prog.pbc"]);
    let good = std::fs::read(scratch.path("prog.pbc")).expect("written");

    // Recompiling over an existing output replaces it, still without leftovers.
    let output = pvm(&["compile", p(&source)]);
    assert_exit(&output, 0);
    assert_eq!(scratch.listing(), ["prog.lox", "prog.pbc"]);

    // A source that fails to compile leaves the previous output untouched.
    std::fs::write(&source, "print 1 +;\n").expect("rewrite");
    let output = pvm(&["compile", p(&source)]);
    assert_exit(&output, EXIT_COMPILE);
    assert_eq!(scratch.listing(), ["prog.lox", "prog.pbc"]);
    assert_eq!(std::fs::read(scratch.path("prog.pbc")).expect("kept"), good);

    // And writes nothing at all when there was no previous output.
    let output = pvm(&["compile", p(&source), "-o", p(&scratch.path("other.pbc"))]);
    assert_exit(&output, EXIT_COMPILE);
    assert_eq!(scratch.listing(), ["prog.lox", "prog.pbc"]);
}

// What `pvm compile` produces.

#[test]
fn compiled_program_behaves_like_its_source() {
    let scratch = Scratch::new("round-trip");
    let programs = [
        ("ok.lox", PROGRAM.to_string()),
        (
            "fails.lox",
            "fun inner() { return -\"x\"; }\nfun outer() { return inner(); }\nprint 1;\nouter();\n"
                .to_string(),
        ),
    ];
    for (name, program) in &programs {
        let source = scratch.write(name, program);
        let from_source = pvm(&["run", p(&source)]);
        let output = pvm(&["compile", p(&source)]);
        assert_exit(&output, 0);
        let from_bytecode = pvm(&["run", p(&source.with_extension("pbc"))]);
        assert_eq!(
            from_source.status.code(),
            from_bytecode.status.code(),
            "{name}"
        );
        assert_eq!(
            text(&from_source.stdout),
            text(&from_bytecode.stdout),
            "{name}"
        );
        assert_eq!(
            text(&from_source.stderr),
            text(&from_bytecode.stderr),
            "{name}"
        );
    }
    let ok = pvm(&["run", p(&scratch.path("ok.pbc"))]);
    assert_exit(&ok, 0);
    assert_eq!(text(&ok.stdout), PROGRAM_OUTPUT);
}

#[test]
fn compiling_twice_gives_identical_bytes() {
    let scratch = Scratch::new("deterministic");
    let source = scratch.write("prog.lox", PROGRAM);
    let first = scratch.path("first.pbc");
    let second = scratch.path("second.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&first)]), 0);
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&second)]), 0);
    assert_eq!(
        std::fs::read(first).expect("first"),
        std::fs::read(second).expect("second")
    );
}

#[test]
fn compiled_bytes_do_not_depend_on_the_folder() {
    let one = Scratch::new("where-one");
    let two = Scratch::new("where-two-with-a-longer-name");
    let in_one = one.write("app/prog.lox", PROGRAM);
    let in_two = two.write("elsewhere/deeper/prog.lox", PROGRAM);
    assert_exit(&pvm(&["compile", p(&in_one)]), 0);
    assert_exit(&pvm(&["compile", p(&in_two)]), 0);
    // Relative invocation from the file's own folder, too.
    assert_exit(
        &pvm_in(
            Some(&one.0.join("app")),
            &["compile", "prog.lox", "-o", "rel.pbc"],
        ),
        0,
    );
    let bytes_one = std::fs::read(in_one.with_extension("pbc")).expect("one");
    let bytes_two = std::fs::read(in_two.with_extension("pbc")).expect("two");
    let bytes_relative = std::fs::read(one.path("app/rel.pbc")).expect("relative");
    assert_eq!(bytes_one, bytes_two);
    assert_eq!(bytes_one, bytes_relative);
    let scratch_name = one
        .0
        .file_name()
        .expect("named")
        .to_string_lossy()
        .into_owned();
    assert!(
        !String::from_utf8_lossy(&bytes_one).contains(&scratch_name),
        "the .pbc records the folder it was compiled in"
    );
}

#[test]
fn disasm_lists_constants_functions_and_lines() {
    let scratch = Scratch::new("disasm");
    let source = scratch.write("prog.lox", PROGRAM);
    let output = pvm(&["disasm", p(&source)]);
    assert_exit(&output, 0);
    let listing = text(&output.stdout);
    for wanted in [
        "constants",
        "\"hello \"",
        "greet",
        "Counter",
        "init",
        "add",
        "prog.lox",
    ] {
        assert!(
            listing.contains(wanted),
            "listing lacks {wanted}:\n{listing}"
        );
    }
    for name in ["script", "greet", "init", "add"] {
        let header = listing
            .lines()
            .any(|line| line.starts_with("function") && line.contains(name));
        assert!(header, "no function header for {name}:\n{listing}");
    }
    // Every source line with code shows up as a line number in the listing.
    for line in [1, 3, 4, 6, 7, 8] {
        let shown = listing
            .lines()
            .any(|l| l.split_whitespace().next() == Some(&line.to_string()));
        assert!(shown, "line {line} missing from the listing:\n{listing}");
    }

    assert_exit(&pvm(&["compile", p(&source)]), 0);
    let from_bytecode = pvm(&["disasm", p(&source.with_extension("pbc"))]);
    assert_exit(&from_bytecode, 0);
    assert_eq!(
        text(&from_bytecode.stdout),
        listing,
        "disasm of source and of .pbc differ"
    );
}

// `pvm run`.

#[test]
fn arguments_after_the_file_belong_to_the_program() {
    let scratch = Scratch::new("args");
    // Recursion and a loop, so that a --max-call-depth or --budget wrongly taken
    // by pvm itself would show.
    let source = scratch.write(
        "prog.lox",
        "fun depth(n) { if (n == 0) return 0; return 1 + depth(n - 1); }\n\
         var i = 0;\nwhile (i < 10) i = i + 1;\nprint depth(20) + i;\n",
    );
    let mut failures = Vec::new();
    for extra in [
        &["one", "two"][..],
        &["-o", "x", "--", "-"],
        &["--help"],
        &["--version"],
        &["--gc-stress", "nonsense"],
        &["--max-call-depth", "2"],
        &["--budget", "3"],
        &["--no-such-pvm-flag"],
    ] {
        let mut args = vec!["run", p(&source)];
        args.extend_from_slice(extra);
        let output = pvm(&args);
        if output.status.code() != Some(0) || text(&output.stdout) != "30\n" {
            failures.push(format!(
                "pvm run FILE {}: exit {:?}, stdout {:?}, stderr {:?}",
                extra.join(" "),
                output.status.code(),
                text(&output.stdout).lines().next().unwrap_or(""),
                text(&output.stderr).lines().next().unwrap_or("")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn file_kind_is_decided_by_magic_not_name() {
    let scratch = Scratch::new("magic");
    let source = scratch.write("prog.lox", PROGRAM);
    let disguised = scratch.path("bytecode_named.lox");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&disguised)]), 0);
    let output = pvm(&["run", p(&disguised)]);
    assert_exit(&output, 0);
    assert_eq!(text(&output.stdout), PROGRAM_OUTPUT);

    let source_named_pbc = scratch.write("source_named.pbc", PROGRAM);
    let output = pvm(&["run", p(&source_named_pbc)]);
    assert_exit(&output, 0);
    assert_eq!(text(&output.stdout), PROGRAM_OUTPUT);
}

#[test]
fn empty_source_runs_and_prints_nothing() {
    let scratch = Scratch::new("empty");
    let empty = scratch.write("empty.lox", "");
    let output = pvm(&["run", p(&empty)]);
    assert_exit(&output, 0);
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    assert_exit(&pvm(&["compile", p(&empty)]), 0);
    assert_exit(&pvm(&["run", p(&scratch.path("empty.pbc"))]), 0);
}

#[test]
fn runtime_error_prints_message_and_every_frame() {
    let scratch = Scratch::new("trace");
    let source = scratch.write(
        "trace.lox",
        "class Box {\n  open() { return helper(this); }\n}\nfun helper(box) {\n  \
         return box.lid;\n}\nprint \"start\";\nBox().open();\n",
    );
    let output = pvm(&["run", p(&source)]);
    assert_exit(&output, EXIT_RUNTIME);
    assert_eq!(text(&output.stdout), "start\n");
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(lines[0].starts_with("trace.lox:5:"), "{stderr}");
    assert!(
        lines[0].ends_with(": runtime error: Undefined property 'lid'."),
        "{stderr}"
    );
    assert_eq!(lines[1], "  at helper (trace.lox:5)");
    assert_eq!(lines[2], "  at open (trace.lox:2)");
    assert_eq!(lines[3], "  at script (trace.lox:8)");
}

#[test]
fn compile_errors_go_to_stderr_one_line_each() {
    let scratch = Scratch::new("diagnostics");
    let source = scratch.write(
        "bad.lox",
        "print \"never\";\nvar x = ;\nreturn 1;\nprint this;\n",
    );
    for command in ["run", "compile", "disasm"] {
        let output = pvm(&[command, p(&source)]);
        assert_exit(&output, EXIT_COMPILE);
        assert!(output.stdout.is_empty(), "{command} printed on stdout");
        let stderr = text(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 3, "{command}: {stderr}");
        for (line, number) in lines.iter().zip([2, 3, 4]) {
            assert!(
                line.starts_with(&format!("bad.lox:{number}:")),
                "{command}: {line}"
            );
            assert!(line.contains(": error"), "{command}: {line}");
        }
        assert!(
            lines[0].contains("error at ';': Expect expression."),
            "{}",
            lines[0]
        );
    }
    assert!(!scratch.path("bad.pbc").exists());
}

#[test]
fn source_that_is_not_utf8_or_has_nul_is_a_compile_error() {
    let scratch = Scratch::new("encoding");
    let latin1 = scratch.write("latin1.lox", b"print \"caf\xe9\";\n");
    let nul = scratch.write("nul.lox", b"print 1;\nprint \"a\0b\";\n");
    for (file, line) in [(&latin1, 1), (&nul, 2)] {
        let output = pvm(&["run", p(file)]);
        assert_exit(&output, EXIT_COMPILE);
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!(".lox:{line}:")), "{stderr}");
    }
}

#[test]
fn max_call_depth_option_limits_recursion() {
    let scratch = Scratch::new("depth");
    let source = scratch.write(
        "depth.lox",
        "fun down(n) {\n  if (n == 0) return \"bottom\";\n  return down(n - 1);\n}\nprint down(30);\n",
    );
    let ok = pvm(&["run", "--max-call-depth", "100", p(&source)]);
    assert_exit(&ok, 0);
    assert_eq!(text(&ok.stdout), "bottom\n");
    // The limit counts frames, the script's included, as clox's FRAMES_MAX does.
    let boundary = scratch.write(
        "boundary.lox",
        "fun down(n) { if (n == 0) return 0; return down(n - 1); }\nprint down(8);\nprint down(9);\n",
    );
    let output = pvm(&["run", "--max-call-depth", "10", p(&boundary)]);
    assert_exit(&output, EXIT_RUNTIME);
    assert_eq!(text(&output.stdout), "0\n");
    assert!(
        text(&output.stderr).starts_with("boundary.lox:1:"),
        "{}",
        text(&output.stderr)
    );

    let overflow = pvm(&["run", "--max-call-depth", "10", p(&source)]);
    assert_exit(&overflow, EXIT_RUNTIME);
    let stderr = text(&overflow.stderr);
    assert!(stderr.starts_with("depth.lox:3:"), "{stderr}");
    assert!(stderr
        .lines()
        .next()
        .expect("a line")
        .ends_with("runtime error: Stack overflow."));
}

#[test]
fn budget_stops_an_endless_loop() {
    let scratch = Scratch::new("budget");
    let source = scratch.write("loop.lox", "print \"before\";\nwhile (true) {}\n");
    let output = pvm(&["run", "--budget", "10000", p(&source)]);
    assert_exit(&output, EXIT_RUNTIME);
    assert_eq!(text(&output.stdout), "before\n");
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("loop.lox:2:"), "{stderr}");
    assert!(
        stderr
            .lines()
            .next()
            .expect("a line")
            .contains(": runtime error: "),
        "{stderr}"
    );

    let recursion = scratch.write("calls.lox", "fun f() { return f(); }\nf();\n");
    let output = pvm(&["run", "--budget", "50", p(&recursion)]);
    assert_exit(&output, EXIT_RUNTIME);
    assert!(
        !text(&output.stderr).contains("Stack overflow."),
        "the budget should stop it first"
    );

    // A program that fits in its budget is unaffected.
    let fits = scratch.write("fits.lox", PROGRAM);
    let output = pvm(&["run", "--budget", "1000", p(&fits)]);
    assert_exit(&output, 0);
    assert_eq!(text(&output.stdout), PROGRAM_OUTPUT);
}

#[test]
fn closed_stdout_pipe_ends_quietly() {
    let scratch = Scratch::new("pipe");
    let source = scratch.write(
        "many.lox",
        "for (var i = 0; i < 1000000; i = i + 1) print \"line \" + \"of output\";\n",
    );
    let compiled = scratch.path("many.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    for args in [["run", p(&compiled)], ["run", p(&source)]] {
        let mut child = Command::new(PVM)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pvm");
        let stdout = child.stdout.take().expect("piped");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("one line");
        assert_eq!(first, "line of output\n");
        // Reader and pipe dropped here, like `head -1` exiting.
        let output = child.wait_with_output().expect("pvm ends");
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.is_empty(),
            "a closed pipe should end pvm silently: {stderr}"
        );
        assert_eq!(output.status.code(), Some(EXIT_IO));
    }
}

#[test]
fn closed_stderr_pipe_does_not_panic() {
    // A long stack trace (deep recursion) or many diagnostics, read by a
    // consumer that stops after the first line (`pvm run x 2>&1 | head -1`).
    let scratch = Scratch::new("stderr-pipe");
    let deep = scratch.write("deep.lox", "fun f() { return f(); }\nf();\n");
    let noisy: String = (0..5000).map(|_| "print ;\n").collect();
    let noisy = scratch.write("noisy.lox", noisy);
    let mut failures = Vec::new();
    for (file, expected) in [(&deep, EXIT_RUNTIME), (&noisy, EXIT_COMPILE)] {
        let mut child = Command::new(PVM)
            .args(["run", p(file)])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pvm");
        let stderr = child.stderr.take().expect("piped");
        let mut first = String::new();
        BufReader::new(stderr)
            .read_line(&mut first)
            .expect("one line");
        assert!(first.contains("error"), "{first}");
        let status = child.wait().expect("pvm ends");
        // The error was still the program's; only its report was cut short.
        if status.code() != Some(expected) && status.code() != Some(EXIT_IO) {
            failures.push(format!("{}: exit {:?}", file.display(), status.code()));
        }
    }
    assert!(
        failures.is_empty(),
        "(101 is a Rust panic)\n{}",
        failures.join("\n")
    );
}
