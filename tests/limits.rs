//! The resource limits a user sets on `pvm run`: `--max-heap` (a catchable
//! `Out of memory` error), `--budget` (an uncatchable stop) and
//! `--max-call-depth` (a catchable `Stack overflow.`), plus the limits the
//! runtime applies on its own (printing depth, huge integral arguments).
//!
//! Every program here is bounded: a test that hits a bug in a limit must not
//! take the host down with it, so loops that should be stopped by a limit are
//! written to end by themselves after a few hundred megabytes at most.

mod common;

use common::*;
use std::path::PathBuf;

/// A program written to its own temp folder as `main.lox`, removed when dropped.
struct Program {
    _dir: TempDir,
    file: PathBuf,
}

impl Program {
    fn new(label: &str, source: &str) -> Program {
        let dir = TempDir::new(&format!("limits-{label}"));
        let file = dir.write("main.lox", source);
        Program { _dir: dir, file }
    }

    fn run(&self, options: &[&str]) -> Outcome {
        options
            .iter()
            .fold(Invocation::new(), |invocation, option| {
                invocation.option(*option)
            })
            .run(&self.file)
    }
}

const OUT_OF_MEMORY_32M: &str = "Out of memory: the heap limit of 33554432 bytes is exhausted.";

// ---------------------------------------------------------------- --max-heap

#[test]
fn out_of_memory_is_catchable_and_the_program_recovers() {
    let program = Program::new(
        "oom-caught",
        r#"
        var hog = [];
        fun grow() {
          while (true) hog.push(["element", hog.len()]);
        }
        for (var round = 1; round <= 2; round += 1) {
          try {
            grow();
            print "not reached";
          } catch (e) {
            var grown = hog.len() > 10000;
            hog = [];
            print "round " + str(round) + ": " + e.message;
            print grown;
            print type(e);
          }
        }
        // With the data dropped, ordinary allocation works again.
        var fresh = [];
        for (var i = 0; i < 100000; i += 1) fresh.push(str(i));
        print fresh.len();
        print fresh[99999];
        "#,
    );
    let stdout = program.run(&["--max-heap", "32M"]).ok();
    assert_eq!(
        lines(&stdout),
        [
            format!("round 1: {OUT_OF_MEMORY_32M}").as_str(),
            "true",
            "instance",
            format!("round 2: {OUT_OF_MEMORY_32M}").as_str(),
            "true",
            "instance",
            "100000",
            "99999",
        ]
    );
}

#[test]
fn out_of_memory_from_natives_and_operators_is_catchable() {
    // Each case keeps its data in a global and drops it first thing in the
    // catch, so the handler itself allocates nothing.
    let cases = [
        ("repeat", r#"data = "x".repeat(100000000);"#),
        (
            "doubling",
            r#"data = "ab"; while (true) data = data + data;"#,
        ),
        (
            "instances",
            r#"class P { init(n) { this.n = n; } } data = []; while (true) data.push(P(data.len()));"#,
        ),
        (
            "slices",
            r#"var xs = []; for (var i = 0; i < 100000; i += 1) xs.push(i);
               data = []; while (true) data.push(xs.slice(0, 100000));"#,
        ),
        (
            "closures",
            r#"data = []; while (true) { var n = data.len(); data.push(fun () { return n; }); }"#,
        ),
    ];
    for (label, grow) in cases {
        let source = format!(
            "var data;\ntry {{\n  {grow}\n  print \"no error\";\n}} catch (e) {{\n  data = nil;\n  print e.message;\n}}\nprint \"after\";\n"
        );
        let program = Program::new(label, &source);
        let stdout = program.run(&["--max-heap", "32M"]).ok();
        assert_eq!(lines(&stdout), [OUT_OF_MEMORY_32M, "after"], "{label}");
    }
    // Below the limit nothing is reported.
    let small = Program::new("small", "var s = \"x\".repeat(1000);\nprint s.len();\n");
    assert_eq!(small.run(&["--max-heap", "32M"]).ok(), "1000\n");
}

#[test]
fn out_of_memory_caught_in_a_function_can_build_its_message() {
    let program = Program::new(
        "oom-message",
        r#"
        fun attempt(label, action) {
          try {
            action();
          } catch (e) {
            print label + ": " + e.message;
          }
        }
        attempt("list", fun () { var xs = []; while (true) xs.push([1]); });
        print "after";
        "#,
    );
    let stdout = program.run(&["--max-heap", "32M"]).ok();
    assert_eq!(
        lines(&stdout),
        [format!("list: {OUT_OF_MEMORY_32M}").as_str(), "after"]
    );
}

#[test]
fn strings_can_be_built_in_the_grace_after_out_of_memory_while_the_data_stays() {
    // The handler keeps everything it allocated (`hog` is global): only the grace of an
    // eighth of the limit lets it build strings, and `+`, `join` and `repeat` must
    // count that grace as `push` does.
    let program = Program::new(
        "oom-grace-strings",
        r#"
        var hog = [];
        try {
          while (true) hog.push(["element", hog.len()]);
        } catch (e) {
          print "caught: " + e.message;
          print ["a", "b", str(hog.len() > 1000)].join(",");
          print "ab".repeat(3);
        }
        "#,
    );
    let stdout = program.run(&["--max-heap", "32M"]).ok();
    assert_eq!(
        lines(&stdout),
        [
            format!("caught: {OUT_OF_MEMORY_32M}").as_str(),
            "a,b,true",
            "ababab",
        ]
    );
}

#[test]
fn max_heap_counts_the_storage_of_lists_and_maps() {
    // Each loop ends by itself (at a few hundred megabytes) so that the bug
    // cannot exhaust the host.
    let program = Program::new(
        "oom-storage",
        r#"
        fun attempt(label, action) {
          try {
            action();
            print label + " was not stopped";
          } catch (e) {
            print label + " " + str(e.message.contains("Out of memory"));
          }
        }
        attempt("list", fun () {
          var xs = [];
          for (var i = 0; i < 20000000; i += 1) xs.push(i);
        });
        attempt("map", fun () {
          var m = {};
          for (var i = 0; i < 5000000; i += 1) m[i] = i;
        });
        "#,
    );
    let stdout = program.run(&["--max-heap", "32M"]).ok();
    assert_eq!(lines(&stdout), ["list true", "map true"]);
}

#[test]
fn uncaught_out_of_memory_exits_70_with_a_clean_message() {
    let program = Program::new(
        "oom-uncaught",
        "print \"start\";\nvar hog = [];\nwhile (true) hog.push([hog.len()]);\n",
    );
    let stdout = program
        .run(&["--max-heap", "32M"])
        .runtime_error(3, OUT_OF_MEMORY_32M);
    assert_eq!(stdout, "start\n");
}

#[test]
fn max_heap_sizes_take_suffixes_in_powers_of_1024() {
    let program = Program::new("oom-sizes", "var hog = [];\nwhile (true) hog.push([1]);\n");
    for (size, bytes) in [
        ("4000000", 4_000_000u64),
        ("4096K", 4 << 20),
        ("8M", 8 << 20),
        ("8m", 8 << 20),
        ("1G", 1 << 30),
    ] {
        if bytes > 64 << 20 {
            continue; // filling a gigabyte would be slow; the parse is shown below
        }
        let message = format!("Out of memory: the heap limit of {bytes} bytes is exhausted.");
        program
            .run(&["--max-heap", size])
            .runtime_error(2, &message);
    }
    // A large limit parses and lets a small program run.
    let small = Program::new("oom-large-limit", "print [1, 2, 3].len();\n");
    assert_eq!(small.run(&["--max-heap", "1G"]).ok(), "3\n");
}

#[test]
fn max_heap_with_a_bad_size_is_a_usage_error() {
    let program = Program::new("oom-bad-size", "print \"ran\";\n");
    for size in [
        "0",
        "abc",
        "32X",
        "1.5M",
        "",
        "M",
        "-1",
        "99999999999G",
        "12 M",
    ] {
        let option = format!("--max-heap={size}");
        let outcome = program.run(&[&option]);
        assert_eq!(outcome.code, Some(EXIT_USAGE), "{size:?}: {outcome:#?}");
        assert_eq!(outcome.stdout, "", "{size:?}: the program must not run");
        assert!(
            outcome.stderr.contains("--max-heap"),
            "{size:?}: {}",
            outcome.stderr
        );
    }
}

// ---------------------------------------------------------------- --budget

#[test]
fn budget_stops_an_endless_loop_and_cannot_be_caught() {
    let program = Program::new(
        "budget-loop",
        r#"print "start";
try {
  while (true) {}
} catch (e) {
  print "caught " + str(e);
} finally {
  print "finally";
}
print "after";
"#,
    );
    let stdout = program
        .run(&["--budget", "100000"])
        .runtime_error(3, "Instruction budget exhausted.");
    assert_eq!(stdout, "start\n");
}

#[test]
fn budget_stops_endless_recursion_and_loops_inside_callbacks() {
    let recursion = Program::new(
        "budget-recursion",
        "fun f(n) { return f(n + 1); }\ntry { f(0); } catch (e) { print \"caught\"; }\n",
    );
    let stdout = recursion
        .run(&["--budget", "5000", "--max-call-depth", "1000000"])
        .runtime_error(1, "Instruction budget exhausted.");
    assert_eq!(stdout, "");

    let callback = Program::new(
        "budget-callback",
        "try {\n  [3, 1, 2].sort(fun (a, b) { while (true) {} });\n} catch (e) { print \"caught\"; }\n",
    );
    let stdout = callback
        .run(&["--budget", "5000"])
        .runtime_error(2, "Instruction budget exhausted.");
    assert_eq!(stdout, "");
}

#[test]
fn a_program_within_its_budget_is_unaffected() {
    let program = Program::new(
        "budget-fits",
        "var total = 0;\nfor (var i = 0; i < 100; i += 1) total += i;\nprint total;\n",
    );
    assert_eq!(program.run(&["--budget", "1000"]).ok(), "4950\n");
    // The same program with too small a budget is stopped in the loop.
    program
        .run(&["--budget", "50"])
        .runtime_error(2, "Instruction budget exhausted.");
}

// ---------------------------------------------------------------- --max-call-depth

const DEPTH_PROBE: &str = r#"fun depth(n) { if (n == 0) return 0; return depth(n - 1) + 1; }
fun deepest() {
  var n = 0;
  while (true) {
    try {
      depth(n + 1);
      n += 1;
    } catch (e) {
      print e.message;
      return n;
    }
  }
}
print deepest();
"#;

#[test]
fn small_call_depths_give_stack_overflow_at_the_limit() {
    let program = Program::new("depth-small", DEPTH_PROBE);
    // The script's frame, deepest()'s frame, then depth(n) takes n + 1 frames.
    for limit in [4usize, 5, 10, 100] {
        let stdout = program.run(&["--max-call-depth", &limit.to_string()]).ok();
        let deepest = limit - 3;
        assert_eq!(
            lines(&stdout),
            ["Stack overflow.".to_string(), deepest.to_string()],
            "--max-call-depth {limit}"
        );
    }
}

#[test]
fn tiny_call_depths_still_fail_cleanly() {
    let program = Program::new("depth-tiny", "fun f() { return 1; }\nprint f();\n");
    for limit in ["1", "0"] {
        program
            .run(&["--max-call-depth", limit])
            .runtime_error(2, "Stack overflow.");
    }
    assert_eq!(program.run(&["--max-call-depth", "2"]).ok(), "1\n");
}

#[test]
fn stack_overflow_is_catchable_and_later_calls_work() {
    let program = Program::new(
        "depth-recover",
        r#"
        fun forever(n) { return forever(n + 1); }
        for (var i = 0; i < 3; i += 1) {
          try { forever(0); } catch (e) { print e.message; }
        }
        fun depth(n) { if (n == 0) return 0; return depth(n - 1) + 1; }
        print depth(40);
        "#,
    );
    let stdout = program.run(&["--max-call-depth", "50"]).ok();
    assert_eq!(
        lines(&stdout),
        [
            "Stack overflow.",
            "Stack overflow.",
            "Stack overflow.",
            "40"
        ]
    );
}

#[test]
fn printing_deeper_than_the_call_depth_is_a_catchable_stack_overflow() {
    let program = Program::new(
        "depth-print",
        r#"
        var nested = [];
        for (var i = 0; i < 500; i += 1) nested = [nested];
        try { print nested; } catch (e) { print "list: " + e.message; }
        var map = {};
        for (var i = 0; i < 500; i += 1) map = {"k": map};
        try { print map; } catch (e) { print "map: " + e.message; }
        var shallow = [[[1]]];
        print shallow;
        "#,
    );
    let stdout = program.run(&["--max-call-depth", "100"]).ok();
    assert_eq!(
        lines(&stdout),
        ["list: Stack overflow.", "map: Stack overflow.", "[[[1]]]"]
    );
}

#[test]
fn str_join_and_write_obey_the_same_depth_as_print() {
    // str(v), join() and io.write(v) show the text print shows, so they refuse
    // the same nesting; before, they rendered it in full (and took quadratic time
    // on deep lists).
    let program = Program::new(
        "depth-str",
        r#"
        import "io";
        var nested = [];
        for (var i = 0; i < 500; i += 1) nested = [nested];
        try { print str(nested).len(); } catch (e) { print "str: " + e.message; }
        try { print [nested].join("").len(); } catch (e) { print "join: " + e.message; }
        try { io.write(nested); } catch (e) { print "write: " + e.message; }
        var map = {};
        for (var i = 0; i < 500; i += 1) map = {"k": map};
        try { print str(map).len(); } catch (e) { print "str map: " + e.message; }
        var shallow = [[[1]]];
        print str(shallow) + [shallow, shallow].join(" ");
        "#,
    );
    let stdout = program.run(&["--max-call-depth", "100"]).ok();
    assert_eq!(
        lines(&stdout),
        [
            "str: Stack overflow.",
            "join: Stack overflow.",
            "write: Stack overflow.",
            "str map: Stack overflow.",
            "[[[1]]][[[1]]] [[[1]]]"
        ]
    );
}

#[test]
fn str_and_print_show_nesting_up_to_the_call_depth_left() {
    // At top level one frame (the script) is in use, so 99 levels fit in 100.
    let program = Program::new(
        "depth-edge",
        r#"
        var fits = [];
        for (var i = 1; i < 99; i += 1) fits = [fits];
        print str(fits).len();
        var over = [fits];
        try { print str(over).len(); } catch (e) { print "str: " + e.message; }
        try { print over; } catch (e) { print "print: " + e.message; }
        "#,
    );
    let stdout = program.run(&["--max-call-depth", "100"]).ok();
    assert_eq!(
        lines(&stdout),
        ["198", "str: Stack overflow.", "print: Stack overflow."]
    );
}

#[test]
fn bad_limit_values_are_usage_errors() {
    let program = Program::new("bad-limits", "print \"ran\";\n");
    for (option, value) in [
        ("--max-call-depth", "abc"),
        ("--max-call-depth", "-1"),
        ("--max-call-depth", "1.5"),
        ("--budget", "many"),
        ("--budget", "-5"),
    ] {
        let argument = format!("{option}={value}");
        let outcome = program.run(&[&argument]);
        assert_eq!(outcome.code, Some(EXIT_USAGE), "{argument}: {outcome:#?}");
        assert_eq!(outcome.stdout, "", "{argument}");
    }
}

// ---------------------------------------------------------------- integral arguments

#[test]
fn huge_integral_arguments_are_integers() {
    let program = Program::new(
        "huge-integers",
        r#"
        var big = 9007199254740992;
        print [1, 2, 3].slice(0, big);
        print [1, 2, 3].slice(-big, 2);
        try { "ab".repeat(big); } catch (e) { print e.message.startsWith("repeat() would build"); }
        "#,
    );
    let stdout = program.run(&[]).ok();
    assert_eq!(lines(&stdout), ["[1, 2, 3]", "[1, 2]", "true"]);
}
