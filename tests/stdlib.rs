//! The standard modules `io` and `os`, and the globals that reach outside the
//! program (`input`, `args`), driven through the real `pvm` binary: checked with
//! permissions granted and denied, on files in a fresh temporary folder per test.
//! `math` and `random` are in `stdlib_math_random.rs`.

mod common;

use common::*;
use std::process::Command;
// ---------------------------------------------------------------- io

/// A program that tries every io function on the paths it is given, printing
/// each result or error message on its own line.
const IO_PROBE: &str = r#"
import "io";
fun attempt(label, action) {
  try {
    print label + ": " + str(action());
  } catch (e) {
    print label + ": " + e.message;
  }
}
var readPath = args()[0];
var writePath = args()[1];
attempt("writeFile", fun () { return io.writeFile(writePath, "first\r\nsecond"); });
attempt("appendFile", fun () { return io.appendFile(writePath, "\nthird\n"); });
attempt("readFile", fun () { return io.readFile(readPath); });
attempt("lines", fun () { return io.lines(readPath); });
attempt("exists", fun () { return io.exists(readPath); });
"#;

fn denied_read(path: &str) -> String {
    format!("Reading '{path}' is not permitted; run with --allow-read[=PATH] or -A.")
}

fn denied_write(path: &str) -> String {
    format!("Writing '{path}' is not permitted; run with --allow-write[=PATH] or -A.")
}

#[test]
fn io_reads_writes_and_appends_with_every_permission() {
    let dir = TempDir::new("io-all");
    let program = dir.write("probe.lox", IO_PROBE);
    let target = dir.path("out.txt");
    let target = target.to_str().expect("temp paths are UTF-8");
    let outcome = Invocation::new()
        .option("-A")
        .argument(target)
        .argument(target)
        .run(&program);
    // readFile gives the bytes as they are, CR included; lines drops CR LF and
    // LF endings and does not invent an empty last line.
    assert_eq!(
        outcome.ok(),
        "writeFile: nil\n\
         appendFile: nil\n\
         readFile: first\r\nsecond\nthird\n\n\
         lines: [\"first\", \"second\", \"third\"]\n\
         exists: true\n"
    );
    assert_eq!(dir.text("out.txt"), "first\r\nsecond\nthird\n");
}

#[test]
fn io_without_permission_throws_naming_the_flag_and_touches_nothing() {
    let dir = TempDir::new("io-none");
    let program = dir.write("probe.lox", IO_PROBE);
    let secret = dir.write("secret.txt", "not for you");
    let secret = secret.to_str().expect("temp paths are UTF-8");
    let target = dir.path("never.txt");
    let target_text = target.to_str().expect("temp paths are UTF-8");
    let outcome = Invocation::new()
        .argument(secret)
        .argument(target_text)
        .run(&program);
    assert_eq!(
        lines(&outcome.ok()),
        [
            format!("writeFile: {}", denied_write(target_text)),
            format!("appendFile: {}", denied_write(target_text)),
            format!("readFile: {}", denied_read(secret)),
            format!("lines: {}", denied_read(secret)),
            format!("exists: {}", denied_read(secret)),
        ]
    );
    assert!(!target.exists(), "a denied write created the file");
}

#[test]
fn io_read_and_write_permissions_are_separate() {
    let dir = TempDir::new("io-separate");
    let program = dir.write("probe.lox", IO_PROBE);
    let existing = dir.write("existing.txt", "old");
    let existing = existing.to_str().expect("temp paths are UTF-8");
    let target = dir.path("new.txt");
    let target = target.to_str().expect("temp paths are UTF-8");

    let read_only = Invocation::new()
        .option("--allow-read")
        .argument(existing)
        .argument(target)
        .run(&program);
    assert_eq!(
        lines(&read_only.ok()),
        [
            format!("writeFile: {}", denied_write(target)),
            format!("appendFile: {}", denied_write(target)),
            "readFile: old".to_string(),
            "lines: [\"old\"]".to_string(),
            "exists: true".to_string(),
        ]
    );

    let write_only = Invocation::new()
        .option("--allow-write")
        .argument(existing)
        .argument(target)
        .run(&program);
    assert_eq!(
        lines(&write_only.ok()),
        [
            "writeFile: nil".to_string(),
            "appendFile: nil".to_string(),
            format!("readFile: {}", denied_read(existing)),
            format!("lines: {}", denied_read(existing)),
            format!("exists: {}", denied_read(existing)),
        ]
    );
    assert_eq!(dir.text("new.txt"), "first\r\nsecond\nthird\n");
}

/// Reads each argument and prints its text or the error.
const READ_EACH: &str = r#"
import "io";
for (var path in args()) {
  try {
    print io.readFile(path);
  } catch (e) {
    print e.message;
  }
}
"#;

#[test]
fn allow_read_with_a_folder_covers_only_what_is_inside_it() {
    let dir = TempDir::new("io-scope");
    let program = dir.write("read_each.lox", READ_EACH);
    let inside = dir.write("allowed/inner/file.txt", "inside");
    dir.write("allowed-not/file.txt", "sibling with the same prefix");
    dir.write("secret.txt", "outside");
    let allowed = dir.path("allowed");
    let grant = format!("--allow-read={}", allowed.display());
    let root = dir.0.display().to_string();
    let escape = format!("{root}/allowed/../secret.txt");
    let dotted = format!("{root}/allowed/./inner/../inner/file.txt");
    let sibling = format!("{root}/allowed-not/file.txt");
    let outside = format!("{root}/secret.txt");
    let outcome = Invocation::new()
        .option(&grant)
        .argument(&inside)
        .argument(&dotted)
        .argument(&escape)
        .argument(&sibling)
        .argument(&outside)
        .run(&program);
    assert_eq!(
        lines(&outcome.ok()),
        [
            "inside".to_string(),
            "inside".to_string(),
            denied_read(&escape),
            denied_read(&sibling),
            denied_read(&outside),
        ]
    );
}

#[cfg(unix)]
#[test]
fn allow_read_is_not_escaped_through_symbolic_links() {
    let dir = TempDir::new("io-symlink");
    let program = dir.write("read_each.lox", READ_EACH);
    dir.write("allowed/plain.txt", "plain");
    dir.write("secret.txt", "outside");
    std::os::unix::fs::symlink(dir.path("secret.txt"), dir.path("allowed/link.txt"))
        .expect("symlinks can be made in the temp folder");
    std::os::unix::fs::symlink(&dir.0, dir.path("allowed/up"))
        .expect("symlinks can be made in the temp folder");
    let grant = format!("--allow-read={}", dir.path("allowed").display());
    let root = dir.0.display().to_string();
    let link = format!("{root}/allowed/link.txt");
    let through_folder = format!("{root}/allowed/up/secret.txt");
    let plain = format!("{root}/allowed/plain.txt");
    let outcome = Invocation::new()
        .option(&grant)
        .argument(&link)
        .argument(&through_folder)
        .argument(&plain)
        .run(&program);
    assert_eq!(
        lines(&outcome.ok()),
        [
            denied_read(&link),
            denied_read(&through_folder),
            "plain".to_string(),
        ]
    );
}

#[test]
fn allow_read_takes_relative_paths_and_lists() {
    let dir = TempDir::new("io-relative");
    let program = dir.write("read_each.lox", READ_EACH);
    dir.write("a/x.txt", "in a");
    dir.write("b/y.txt", "in b");
    dir.write("c/z.txt", "in c");
    let only_a = Invocation::new()
        .cwd(&dir.0)
        .option("--allow-read=a")
        .argument("a/x.txt")
        .argument("b/y.txt")
        .run(&program);
    assert_eq!(
        lines(&only_a.ok()),
        ["in a".to_string(), denied_read("b/y.txt")]
    );

    let a_and_b = Invocation::new()
        .cwd(&dir.0)
        .option("--allow-read=a,b")
        .argument("a/x.txt")
        .argument("b/y.txt")
        .argument("c/z.txt")
        .run(&program);
    assert_eq!(
        lines(&a_and_b.ok()),
        [
            "in a".to_string(),
            "in b".to_string(),
            denied_read("c/z.txt")
        ]
    );
}

#[test]
fn allow_write_with_a_folder_covers_only_what_is_inside_it() {
    let dir = TempDir::new("io-write-scope");
    let program = dir.write(
        "write_each.lox",
        r#"
        import "io";
        for (var path in args()) {
          try {
            io.writeFile(path, "written");
            print "wrote";
          } catch (e) {
            print e.message;
          }
        }
        "#,
    );
    std::fs::create_dir_all(dir.path("out")).expect("the temp folder is writable");
    let root = dir.0.display().to_string();
    let inside = format!("{root}/out/ok.txt");
    let escape = format!("{root}/out/../escaped.txt");
    let grant = format!("--allow-write={root}/out");
    let outcome = Invocation::new()
        .option(&grant)
        .argument(&inside)
        .argument(&escape)
        .run(&program);
    assert_eq!(
        lines(&outcome.ok()),
        ["wrote".to_string(), denied_write(&escape)]
    );
    assert_eq!(dir.text("out/ok.txt"), "written");
    assert!(!dir.path("escaped.txt").exists());
}

#[cfg(unix)]
#[test]
fn allow_write_is_not_escaped_through_a_dangling_link() {
    let dir = TempDir::new("io-dangling");
    std::fs::create_dir_all(dir.path("allowed")).expect("the temp folder is writable");
    std::os::unix::fs::symlink("../escaped.txt", dir.path("allowed/dangling.txt"))
        .expect("symlinks can be made in the temp folder");
    let program = dir.write(
        "write.lox",
        r#"
        import "io";
        try { io.writeFile(args()[0], "x"); print "wrote"; } catch (e) { print e.message; }
        try { io.appendFile(args()[0], "y"); print "appended"; } catch (e) { print e.message; }
        "#,
    );
    let link = format!("{}/allowed/dangling.txt", dir.0.display());
    let grant = format!("--allow-write={}", dir.path("allowed").display());
    let outcome = Invocation::new()
        .option(&grant)
        .argument(&link)
        .run(&program);
    let escaped = dir.path("escaped.txt").exists();
    assert_eq!(
        lines(&outcome.ok()),
        [denied_write(&link), denied_write(&link)]
    );
    assert!(!escaped, "a file was created outside the allowed folder");
}

#[test]
fn io_failures_name_the_function_the_path_and_the_reason() {
    let dir = TempDir::new("io-failures");
    let root = dir.0.display().to_string();
    std::fs::create_dir_all(dir.path("folder")).expect("the temp folder is writable");
    let program = dir.write(
        "fail.lox",
        r#"
        import "io";
        var root = args()[0];
        fun attempt(action) {
          try { action(); print "no error"; } catch (e) { print e.message; }
        }
        attempt(fun () { io.readFile(root + "/missing.txt"); });
        attempt(fun () { io.lines(root + "/missing.txt"); });
        attempt(fun () { io.writeFile(root + "/no/such/dir.txt", "x"); });
        attempt(fun () { io.readFile(root + "/folder"); });
        attempt(fun () { io.readFile(1); });
        attempt(fun () { io.writeFile(root + "/x.txt", 1); });
        print io.exists(root + "/missing.txt");
        print io.exists(root + "/folder");
        "#,
    );
    let outcome = Invocation::new().option("-A").argument(&root).run(&program);
    let stdout = outcome.ok();
    let got = lines(&stdout);
    assert_eq!(got.len(), 8, "{stdout}");
    let failures = [
        ("readFile", "missing.txt"),
        ("lines", "missing.txt"),
        ("writeFile", "no/such/dir.txt"),
        ("readFile", "folder"),
    ];
    for (line, (function, path)) in got.iter().zip(failures) {
        let prefix = format!("{function}: '{root}/{path}': ");
        assert!(
            line.starts_with(&prefix),
            "{line:?} should start with {prefix:?}"
        );
        assert!(line.len() > prefix.len(), "{line:?} gives no reason");
    }
    assert_eq!(
        got[4..],
        [
            "readFile() needs a string argument.",
            "writeFile() needs a string argument.",
            "false",
            "true"
        ]
    );
}

#[test]
fn write_and_ewrite_go_to_their_own_streams_in_order() {
    let program = r#"
        import "io";
        io.write("out 1, ");
        io.ewrite("err 1, ");
        print "printed";
        io.ewrite("err 2\n");
        io.write("out 2 é\n");
        io.write("");
        io.ewrite("");
    "#;
    let outcome = run_source("io-streams", program);
    assert_eq!(outcome.code, Some(0));
    assert_eq!(outcome.stdout, "out 1, printed\nout 2 é\n");
    assert_eq!(outcome.stderr, "err 1, err 2\n");
}

#[cfg(unix)]
#[test]
fn write_and_ewrite_interleave_in_program_order_on_one_file() {
    // Not promised by the spec in so many words, but a user sending progress
    // to stderr and results to stdout of one terminal expects this order.
    let dir = TempDir::new("io-interleave");
    let program = dir.write(
        "main.lox",
        "import \"io\";\nio.write(\"a\");\nio.ewrite(\"B\");\nprint \"c\";\nio.ewrite(\"D\\n\");\nio.write(\"e\\n\");\n",
    );
    let log = std::fs::File::create(dir.path("both.log")).expect("the temp folder is writable");
    let status = Command::new(PVM)
        .arg("run")
        .arg(&program)
        .env_remove("PVM_GC_STRESS")
        .stdout(log.try_clone().expect("the log file can be shared"))
        .stderr(log)
        .status()
        .expect("the pvm binary runs");
    assert_eq!(status.code(), Some(0));
    assert_eq!(dir.text("both.log"), "aBc\nD\ne\n");
}

// ---------------------------------------------------------------- os

#[test]
fn os_env_needs_allow_env() {
    let program = r#"
        import "os";
        try {
          print os.env("PVM_STDLIB_TEST_VALUE");
        } catch (e) {
          print e.message;
        }
        try {
          print os.env("PVM_STDLIB_TEST_SURELY_UNSET");
        } catch (e) {
          print e.message;
        }
    "#;
    let dir = TempDir::new("os-env");
    let path = dir.write("main.lox", program);
    let denied = Invocation::new()
        .env("PVM_STDLIB_TEST_VALUE", "héllo wörld")
        .run(&path);
    assert_eq!(
        lines(&denied.ok()),
        [
            "Reading environment variable 'PVM_STDLIB_TEST_VALUE' is not permitted; \
             run with --allow-env or -A.",
            "Reading environment variable 'PVM_STDLIB_TEST_SURELY_UNSET' is not permitted; \
             run with --allow-env or -A.",
        ]
    );
    for grant in ["--allow-env", "-A", "--allow-all"] {
        let granted = Invocation::new()
            .option(grant)
            .env("PVM_STDLIB_TEST_VALUE", "héllo wörld")
            .run(&path);
        assert_eq!(lines(&granted.ok()), ["héllo wörld", "nil"], "with {grant}");
    }
    // Read and write permissions do not include the environment.
    let other = Invocation::new()
        .option("--allow-read")
        .option("--allow-write")
        .env("PVM_STDLIB_TEST_VALUE", "x")
        .run(&path);
    assert!(other.ok().starts_with("Reading environment variable"));
}

#[test]
fn os_exit_ends_the_program_with_its_status_and_cannot_be_caught() {
    let program = r#"
        import "os";
        import "io";
        fun inner() {
          try {
            io.write("before exit");
            os.exit(3);
          } catch (e) {
            print "caught " + str(e);
          }
          print "after the try";
        }
        fun outer() {
          try {
            inner();
          } catch (e) {
            print "outer caught";
          }
          print "after inner";
        }
        outer();
        print "after outer";
    "#;
    let outcome = run_source("os-exit", program);
    assert_eq!(outcome.code, Some(3), "{outcome:#?}");
    // Output written before the exit is flushed; nothing after it runs.
    assert_eq!(outcome.stdout, "before exit");
    assert_eq!(outcome.stderr, "");
}

#[test]
fn os_exit_inside_try_finally_still_exits_with_its_status() {
    let program = r#"
        import "os";
        fun work() {
          try {
            os.exit(3);
          } finally {
            print "finally";
          }
        }
        try { work(); } catch (e) { print "caught"; }
        print "not reached";
    "#;
    let outcome = run_source("os-exit-finally", program);
    assert_eq!(outcome.code, Some(3), "{outcome:#?}");
    assert!(!outcome.stdout.contains("caught"), "{outcome:#?}");
    assert!(!outcome.stdout.contains("not reached"), "{outcome:#?}");
}

#[test]
fn os_exit_takes_every_status_from_0_to_255_and_rejects_others() {
    for status in [0, 1, 64, 70, 255] {
        let program = format!("import \"os\";\nos.exit({status});\nprint \"not reached\";\n");
        let outcome = run_source("os-exit-status", &program);
        assert_eq!(outcome.code, Some(status), "{outcome:#?}");
        assert_eq!(outcome.stdout, "");
    }
    let program = r#"
        import "os";
        fun attempt(action) {
          try { action(); print "no error"; } catch (e) { print e.message; }
        }
        attempt(fun () { os.exit(256); });
        attempt(fun () { os.exit(-1); });
        attempt(fun () { os.exit(1.5); });
        attempt(fun () { os.exit("0"); });
        attempt(fun () { os.exit(); });
    "#;
    let stdout = run_source("os-exit-bad", program).ok();
    assert_eq!(
        lines(&stdout),
        [
            "exit() needs a status from 0 to 255, got 256.",
            "exit() needs a status from 0 to 255, got -1.",
            "exit() needs an integer argument.",
            "exit() needs a number argument.",
            "Expected 1 arguments but got 0.",
        ]
    );
}

#[test]
fn os_exit_from_a_callback_and_from_compiled_bytecode() {
    let dir = TempDir::new("os-exit-pbc");
    let source = dir.write(
        "main.lox",
        "import \"os\";\n[1, 2, 3].map(fun (x) { if (x == 2) os.exit(9); print x; return x; });\n",
    );
    let bytecode = dir.path("main.pbc");
    let compiled = Command::new(PVM)
        .arg("compile")
        .arg(&source)
        .arg("-o")
        .arg(&bytecode)
        .output()
        .expect("the pvm binary runs");
    assert!(compiled.status.success(), "{compiled:?}");
    for program in [&source, &bytecode] {
        let outcome = Invocation::new().run(program);
        assert_eq!(outcome.code, Some(9), "{outcome:#?}");
        assert_eq!(outcome.stdout, "1\n");
    }
}

#[test]
fn args_are_the_words_after_the_program_and_grant_nothing() {
    let program = r#"
        import "os";
        import "io";
        print args();
        print os.args() == args();
        print os.args().join("|") == args().join("|");
        try {
          io.readFile(args()[0]);
          print "read allowed";
        } catch (e) {
          print "read denied";
        }
    "#;
    let dir = TempDir::new("os-args");
    let path = dir.write("main.lox", program);
    let outcome = Invocation::new()
        .argument("-A")
        .argument("--allow-read")
        .argument("two words")
        .argument("é😀")
        .argument("")
        .argument("--")
        .run(&path);
    assert_eq!(
        lines(&outcome.ok()),
        [
            "[\"-A\", \"--allow-read\", \"two words\", \"é😀\", \"\", \"--\"]",
            "false",
            "true",
            "read denied",
        ]
    );
}

// ---------------------------------------------------------------- input

const ECHO_INPUT: &str = r#"
var count = 0;
while (true) {
  var line = input();
  if (line == nil) break;
  count += 1;
  print str(count) + ": [" + line + "] " + str(line.len());
}
print "end " + str(input());
"#;

#[test]
fn input_reads_lines_without_endings_and_gives_nil_at_the_end() {
    let dir = TempDir::new("input");
    let path = dir.write("main.lox", ECHO_INPUT);
    let outcome = Invocation::new()
        .stdin("first\nsecond\r\n\nhé😀\n  spaced  \nlast without newline".as_bytes())
        .run(&path);
    assert_eq!(
        lines(&outcome.ok()),
        [
            "1: [first] 5",
            "2: [second] 6",
            "3: [] 0",
            "4: [hé😀] 3",
            "5: [  spaced  ] 10",
            "6: [last without newline] 20",
            "end nil",
        ]
    );
}

#[test]
fn input_at_once_at_end_of_input_is_nil() {
    let dir = TempDir::new("input-empty");
    let path = dir.write("main.lox", ECHO_INPUT);
    let outcome = Invocation::new().stdin(b"").run(&path);
    assert_eq!(lines(&outcome.ok()), ["end nil"]);
    let newline_only = Invocation::new().stdin(b"\n").run(&path);
    assert_eq!(lines(&newline_only.ok()), ["1: [] 0", "end nil"]);
}

#[test]
fn input_reads_long_lines_whole() {
    let dir = TempDir::new("input-long");
    let path = dir.write(
        "main.lox",
        "var a = input(); var b = input(); print a.len(); print b.len(); print input();\n",
    );
    let long = format!("{}\n{}\n", "x".repeat(200_000), "é".repeat(100_000));
    let outcome = Invocation::new().stdin(long.as_bytes()).run(&path);
    assert_eq!(lines(&outcome.ok()), ["200000", "100000", "nil"]);
}

#[test]
fn input_takes_no_arguments() {
    let outcome = run_source("input-arity", "input(1);\n");
    assert_eq!(outcome.code, Some(EXIT_RUNTIME));
    assert!(
        outcome.stderr.contains("Expected 0 arguments but got 1."),
        "{outcome:#?}"
    );
}

#[test]
fn permission_flags_reject_malformed_values() {
    let dir = TempDir::new("flags");
    let path = dir.write("main.lox", "print 1;\n");
    let outcome = Invocation::new().option("--allow-read=").run(&path);
    assert_eq!(outcome.code, Some(EXIT_USAGE), "{outcome:#?}");
    assert_eq!(outcome.stdout, "");
}

// ---------------------------------------------------------------- callbacks

#[test]
fn errors_in_callbacks_are_reported_where_they_happen() {
    let dir = TempDir::new("callback-trace");
    for (method, call) in [
        ("map", "[1].map(boom);"),
        ("filter", "[1].filter(boom);"),
        ("reduce", "[1].reduce(fun (a, x) { return boom(x); }, 0);"),
        ("sort", "[2, 1].sort(fun (a, b) { return boom(a); });"),
    ] {
        let program = dir.write(
            &format!("{method}.lox"),
            format!("fun boom(x) {{\n  throw Error(\"in callback\");\n}}\n{call}\n"),
        );
        let outcome = Invocation::new().run(&program);
        assert_eq!(outcome.code, Some(EXIT_RUNTIME), "{method}: {outcome:#?}");
        let stderr = lines(&outcome.stderr);
        assert!(
            stderr[0].starts_with(&format!("{method}.lox:2:"))
                && stderr[0].ends_with(": runtime error: in callback"),
            "{method}: {stderr:?}"
        );
        assert_eq!(stderr[1], format!("  at boom ({method}.lox:2)"), "{method}");
        assert_eq!(
            stderr.last().copied(),
            Some(format!("  at script ({method}.lox:4)").as_str()),
            "{method}"
        );
    }
}
