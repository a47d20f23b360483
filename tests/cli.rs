//! Behaviour of the `pvm` command line as a user sees it: help and version,
//! exit codes (64 usage, 65 compile or load, 70 runtime, 74 I/O), where
//! `pvm compile` writes and what it refuses to do, that compiling is
//! deterministic and position-independent, `disasm`, a reader closing the pipe
//! early, and the loader's answer to damaged `.pbc` files (truncated, wrong
//! magic or version, bad checksum, and corrupted files whose checksum was
//! recomputed so that only the decoder and verifier stand in the way).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const PVM: &str = env!("CARGO_BIN_EXE_pvm");

const EXIT_USAGE: i32 = 64;
const EXIT_COMPILE: i32 = 65;
const EXIT_RUNTIME: i32 = 70;
const EXIT_IO: i32 = 74;

/// A fresh, empty folder under the system temp folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("pvm-cli-{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir writable");
        Scratch(path)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("temp dir writable");
        }
        std::fs::write(&path, contents).expect("temp dir writable");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries in the folder, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("scratch exists")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pvm_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(PVM);
    command.args(args).env_remove("PVM_GC_STRESS");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().expect("the pvm binary runs")
}

fn pvm(args: &[&str]) -> Output {
    pvm_in(None, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Panics with everything pvm said unless it exited with `code`.
#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        !text(&output.stderr).contains("panicked"),
        "pvm panicked:\n{}",
        text(&output.stderr)
    );
}

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

// Damaged bytecode files.

/// CRC-32 with the zlib (IEEE 802.3, reflected 0xEDB88320) polynomial.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Rewrites the last four bytes with the CRC-32 of everything before them.
fn reseal(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Where the fields of a `.pbc` file start, read by following spec/bytecode.md
/// as far as the first function's first instruction.
#[derive(Debug)]
struct Layout {
    file_count: usize,
    constant_count: usize,
    /// (offset of the tag, tag)
    constants: Vec<(usize, u8)>,
    global_count: usize,
    globals: Vec<usize>,
    function_count: usize,
    first_function: usize,
    /// The first function's instruction count, and its first opcode.
    code_count: usize,
    first_opcode: usize,
    entry: usize,
}

impl Layout {
    fn read(bytes: &[u8]) -> Layout {
        assert_eq!(&bytes[..4], b"PVMB");
        let mut at = 8;
        let file_count = at;
        let files = u32_at(bytes, at);
        at += 4;
        for _ in 0..files {
            at += 4 + u32_at(bytes, at);
        }
        let constant_count = at;
        let count = u32_at(bytes, at);
        at += 4;
        let mut constants = Vec::new();
        for _ in 0..count {
            let tag = bytes[at];
            constants.push((at, tag));
            at += 1;
            at += match tag {
                0 => 8,
                1 => 4 + u32_at(bytes, at),
                other => panic!("unknown tag {other} in a freshly compiled file"),
            };
        }
        let global_count = at;
        let count = u32_at(bytes, at);
        at += 4;
        let globals = (0..count).map(|i| at + 4 * i).collect();
        at += 4 * count;
        let function_count = at;
        at += 4;
        let first_function = at;
        // name u32, file u32, arity u8, registers u16, then the upvalue table
        let upvalue_count = first_function + 11;
        let code_count = upvalue_count + 4 + 3 * u32_at(bytes, upvalue_count);
        Layout {
            file_count,
            constant_count,
            constants,
            global_count,
            globals,
            function_count,
            first_function,
            code_count,
            first_opcode: code_count + 4,
            entry: bytes.len() - 8,
        }
    }

    // Offsets inside the first function, per the function table in the spec.
    fn name(&self) -> usize {
        self.first_function
    }
    fn file(&self) -> usize {
        self.first_function + 4
    }
    fn arity(&self) -> usize {
        self.first_function + 8
    }
    fn registers(&self) -> usize {
        self.first_function + 9
    }
    fn first_string(&self) -> usize {
        self.constants
            .iter()
            .find(|(_, tag)| *tag == 1)
            .expect("a string constant")
            .0
    }
    fn first_number(&self) -> usize {
        self.constants
            .iter()
            .find(|(_, tag)| *tag == 0)
            .expect("a number constant")
            .0
    }
}

/// A compiled program whose first function is the script (it declares no
/// function of its own) and whose first instruction writes a register.
fn sample_bytecode(scratch: &Scratch) -> Vec<u8> {
    let source = scratch.write(
        "sample.lox",
        "var greeting = \"hi\";\nprint greeting + \" there\";\nprint 2.5;\n",
    );
    let compiled = scratch.path("sample.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let listing = text(&pvm(&["disasm", p(&compiled)]).stdout);
    let first_instruction = listing
        .lines()
        .find(|line| line.trim_start().starts_with("1 "))
        .expect("an instruction on line 1");
    assert!(
        first_instruction
            .split_whitespace()
            .nth(3)
            .is_some_and(|op| op.starts_with('r')),
        "the sample's first instruction should write a register: {first_instruction}"
    );
    std::fs::read(compiled).expect("compiled")
}

/// Checks that `pvm run` refuses `bytes` with one `pvm: FILE: byte offset N: …`
/// line and exit 65, and returns that line. `pvm disasm` only decodes (it is
/// the tool for looking at a file the verifier rejects), so it must either
/// refuse the same way or list the file, but never panic.
#[track_caller]
fn assert_rejected(scratch: &Scratch, what: &str, bytes: &[u8]) -> String {
    let file = scratch.write("damaged.pbc", bytes);
    let output = pvm(&["run", p(&file)]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_COMPILE), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: printed something");
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    assert!(stderr.contains("byte offset"), "{what}: {stderr}");

    let listing = pvm(&["disasm", p(&file)]);
    let listing_stderr = text(&listing.stderr);
    assert!(
        !listing_stderr.contains("panicked"),
        "{what} (disasm): {listing_stderr}"
    );
    match listing.status.code() {
        Some(0) => assert!(
            listing_stderr.is_empty(),
            "{what} (disasm): {listing_stderr}"
        ),
        Some(EXIT_COMPILE) => {
            assert_eq!(
                listing_stderr.lines().count(),
                1,
                "{what} (disasm): {listing_stderr}"
            );
            assert!(
                listing_stderr.contains("byte offset"),
                "{what} (disasm): {listing_stderr}"
            );
        }
        other => panic!("{what} (disasm): exit {other:?}: {listing_stderr}"),
    }
    stderr.trim_end().to_string()
}

fn offset_in(message: &str) -> usize {
    let rest = &message[message.find("byte offset ").expect("an offset") + "byte offset ".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn crc32_helper_matches_the_files_checksum() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let scratch = Scratch::new("crc");
    let bytes = sample_bytecode(&scratch);
    let mut resealed = bytes.clone();
    reseal(&mut resealed);
    assert_eq!(resealed, bytes);
}

#[test]
fn truncated_files_are_rejected() {
    let scratch = Scratch::new("truncated");
    let bytes = sample_bytecode(&scratch);
    // Shorter than the magic number, a file is read as source instead.
    let lengths: Vec<usize> = (4..bytes.len()).collect();
    for length in lengths {
        assert_rejected(&scratch, &format!("first {length} bytes"), &bytes[..length]);
    }
}

#[test]
fn wrong_magic_is_rejected() {
    let scratch = Scratch::new("magic");
    let mut bytes = sample_bytecode(&scratch);
    bytes[3] = b'X';
    reseal(&mut bytes);
    // Not bytecode, so pvm tries it as source, and binary is not Lox.
    assert_rejected(&scratch, "magic PVMX", &bytes);
}

#[test]
fn wrong_version_is_rejected() {
    let scratch = Scratch::new("version");
    let bytes = sample_bytecode(&scratch);
    for version in [0, pvm_bytecode::FORMAT_VERSION + 1, 0xFFFF_FFFF] {
        for resealed in [false, true] {
            let mut damaged = bytes.clone();
            put_u32(&mut damaged, 4, version);
            if resealed {
                reseal(&mut damaged);
            }
            let message = assert_rejected(&scratch, &format!("version {version}"), &damaged);
            assert_eq!(offset_in(&message), 4, "{message}");
            assert!(message.contains("version"), "{message}");
        }
    }
}

#[test]
fn files_of_the_previous_format_version_still_run() {
    // Version 3 only added instructions, so a version 2 file (the same bytes, without
    // them) must load and run unchanged.
    let scratch = Scratch::new("version2");
    let mut bytes = sample_bytecode(&scratch);
    assert_eq!(pvm_bytecode::OLDEST_READABLE_VERSION, 2);
    put_u32(&mut bytes, 4, 2);
    reseal(&mut bytes);
    let old = scratch.path("old.pbc");
    std::fs::write(&old, &bytes).expect("write");
    let output = pvm(&["run", p(&old)]);
    assert_exit(&output, 0);
    assert_eq!(text(&output.stdout), "hi there\n2.5\n");

    // A "version 2" file with an instruction version 3 introduced was not written by
    // a pvm of version 2: rejected at the instruction.
    let source = scratch.write("count.lox", "for (var i = 0; i < 3; i = i + 1) print i;\n");
    let compiled = scratch.path("count.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let listing = text(&pvm(&["disasm", p(&compiled)]).stdout);
    assert!(listing.contains("incjltk"), "{listing}");
    let mut bytes = std::fs::read(&compiled).expect("compiled");
    put_u32(&mut bytes, 4, 2);
    reseal(&mut bytes);
    let message = assert_rejected(&scratch, "version 2 with incjltk", &bytes);
    assert!(message.contains("needs format version 3"), "{message}");
}

#[test]
fn bad_checksum_is_rejected() {
    let scratch = Scratch::new("checksum");
    let bytes = sample_bytecode(&scratch);
    let last = bytes.len() - 1;
    for (what, at) in [
        ("stored checksum", last),
        ("body byte", 20),
        ("entry", last - 4),
    ] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        let message = assert_rejected(&scratch, what, &damaged);
        assert_eq!(offset_in(&message), bytes.len() - 4, "{what}: {message}");
    }
    // A byte appended after the checksum moves it.
    let mut longer = bytes.clone();
    longer.push(0);
    assert_rejected(&scratch, "appended byte", &longer);
}

#[test]
fn corrupted_but_resealed_files_are_rejected() {
    let scratch = Scratch::new("resealed");
    let bytes = sample_bytecode(&scratch);
    let layout = Layout::read(&bytes);
    assert!(!layout.globals.is_empty(), "the sample defines a global");

    // Each case damages the file knowing where its fields are; the offset, when
    // given, is where the loader must say the problem is.
    type Damage = fn(&mut Vec<u8>, &Layout);
    let cases: Vec<(&str, Option<usize>, Damage)> = vec![
        ("file count beyond the file", None, |b, l| {
            put_u32(b, l.file_count, u32::MAX)
        }),
        ("constant count beyond the file", None, |b, l| {
            put_u32(b, l.constant_count, u32::MAX)
        }),
        (
            "unknown constant tag",
            Some(layout.first_string()),
            |b, l| b[l.first_string()] = 9,
        ),
        ("string length beyond the file", None, |b, l| {
            put_u32(b, l.first_string() + 1, 1 << 30)
        }),
        ("string constant not UTF-8", None, |b, l| {
            b[l.first_string() + 5] = 0xFF
        }),
        ("number constant read as a string", None, |b, l| {
            b[l.first_number()] = 1
        }),
        ("global count beyond the file", None, |b, l| {
            put_u32(b, l.global_count, u32::MAX)
        }),
        ("global named by a missing constant", None, |b, l| {
            put_u32(b, l.globals[0], 1_000_000)
        }),
        ("global named by a number constant", None, |b, l| {
            let index = l
                .constants
                .iter()
                .position(|(_, tag)| *tag == 0)
                .expect("a number");
            put_u32(b, l.globals[0], index as u32)
        }),
        ("function count beyond the file", None, |b, l| {
            put_u32(b, l.function_count, u32::MAX)
        }),
        ("function named by a missing constant", None, |b, l| {
            put_u32(b, l.name(), 1_000_000)
        }),
        ("function in a missing file", None, |b, l| {
            put_u32(b, l.file(), 7)
        }),
        ("entry function takes an argument", None, |b, l| {
            b[l.arity()] = 1
        }),
        ("zero registers", None, |b, l| {
            b[l.registers()..l.registers() + 2].copy_from_slice(&[0, 0])
        }),
        ("257 registers", None, |b, l| {
            b[l.registers()..l.registers() + 2].copy_from_slice(&257u16.to_le_bytes())
        }),
        ("code count beyond the file", None, |b, l| {
            put_u32(b, l.code_count, u32::MAX)
        }),
        ("unknown opcode", None, |b, l| b[l.first_opcode] = 0xEE),
        ("register operand out of range", None, |b, l| {
            b[l.first_opcode + 1] = 250
        }),
        (
            "entry names a missing function",
            Some(layout.entry),
            |b, l| put_u32(b, l.entry, 5),
        ),
        ("extra byte before the checksum", None, |b, _| {
            b.insert(b.len() - 4, 0)
        }),
        ("entry cut short", None, |b, _| {
            b.remove(b.len() - 5);
        }),
    ];
    let mut failures = Vec::new();
    for (what, expected_offset, damage) in &cases {
        let mut damaged = bytes.clone();
        damage(&mut damaged, &layout);
        reseal(&mut damaged);
        let result = std::panic::catch_unwind(|| assert_rejected(&scratch, what, &damaged));
        match result {
            Ok(message) => {
                if let Some(offset) = expected_offset {
                    if offset_in(&message) != *offset {
                        failures.push(format!("{what}: expected byte offset {offset}: {message}"));
                    }
                }
            }
            Err(panic) => failures.push(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| format!("{what}: failed")),
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every single-byte change to a real program, resealed, is either rejected by
/// the loader with one line naming a byte offset, or runs to an ordinary end
/// (output, a runtime error, the budget) — never a panic or a signal; and
/// `disasm` of it never crashes either.
#[test]
fn every_resealed_byte_flip_is_rejected_or_runs_safely() {
    let scratch = Scratch::new("flips");
    let source = scratch.write(
        "flip.lox",
        // Calls, a loop, a closure over a local, a class with init, a subclass
        // and super: most instruction kinds appear at least once.
        "fun add(a, b) { return a + b; }\nvar n = 0;\nwhile (n < 3) n = add(n, 1);\n\
         fun make() { var k = n; fun get() { return k; } return get; }\n\
         class A { init(x) { this.x = x; } get() { return this.x; } }\n\
         class B < A { get() { return super.get() + 1; } }\n\
         print B(make()()).get();\n",
    );
    let compiled = scratch.path("flip.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let bytes = std::fs::read(&compiled).expect("compiled");
    // A few workers, each with its own file, share the positions.
    let next = AtomicUsize::new(4);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..3 {
            let (bytes, next, failures, scratch) = (&bytes, &next, &failures, &scratch);
            scope.spawn(move || loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                if at >= bytes.len() - 4 {
                    break;
                }
                let mut damaged = bytes.clone();
                damaged[at] ^= 0xFF;
                reseal(&mut damaged);
                let file = scratch.write(&format!("flipped-{worker}.pbc"), &damaged);
                for problem in check_flipped(&file) {
                    failures
                        .lock()
                        .expect("no panic while locked")
                        .push(format!("byte {at}: {problem}"));
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no panic while locked");
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with how pvm treated one flipped file (empty when nothing).
fn check_flipped(file: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let output = pvm(&["run", "--budget", "100000", p(file)]);
    let stderr = text(&output.stderr);
    let code = output.status.code();
    let acceptable = match code {
        Some(0) => stderr.is_empty(),
        Some(EXIT_COMPILE) => stderr.lines().count() == 1 && stderr.contains("byte offset"),
        Some(EXIT_RUNTIME) => stderr.contains("runtime error"),
        _ => false,
    };
    if !acceptable || stderr.contains("panicked") {
        problems.push(format!("run: exit {code:?}: {}", stderr.trim_end()));
    }
    // disasm decodes without verifying, so it meets operands the verifier
    // would refuse; it may list them or refuse, but not crash.
    let listing = pvm(&["disasm", p(file)]);
    let listing_stderr = text(&listing.stderr);
    let listing_code = listing.status.code();
    if !matches!(listing_code, Some(0) | Some(EXIT_COMPILE)) || listing_stderr.contains("panicked")
    {
        problems.push(format!(
            "disasm: exit {listing_code:?}: {}",
            listing_stderr.trim_end()
        ));
    }
    problems
}
