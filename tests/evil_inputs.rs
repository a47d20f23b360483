//! Hostile and oversized source files, generated at test time (nothing big is
//! committed). Each must either run correctly or be refused with a diagnostic
//! that names the limit and the place, and none may crash `pvm`: no panic
//! message, no exit code 101, no death by signal.
//!
//! Sizes: a 10 MB string literal, a 1 MB line, a million distinct number
//! constants, a 10,000-deep class hierarchy, 100,000 levels of every kind of
//! nesting, 100,000 locals in one function, bytes that are not UTF-8, NUL
//! bytes, and a "source file" that is a folder or unreadable.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const PVM: &str = env!("CARGO_BIN_EXE_pvm");
const EXIT_COMPILE: i32 = 65;
const EXIT_IO: i32 = 74;

/// A fresh folder under the system temp folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("pvm-evil-{}-{n}-{label}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temp folder is writable");
        TempDir(path)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("the temp folder is writable");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `pvm ARGS`, and fails the test if it panicked or died by a signal.
fn pvm(args: &[&std::ffi::OsStr]) -> Outcome {
    let output = Command::new(PVM)
        .args(args)
        .env_remove("PVM_GC_STRESS")
        .output()
        .expect("the pvm binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // Keep failure messages readable when stderr is huge.
    let short_stderr: String = stderr.chars().take(2000).collect();
    assert!(!stderr.contains("panicked"), "pvm panicked: {short_stderr}");
    let Some(code) = output.status.code() else {
        panic!(
            "pvm was killed by a signal: {:?}: {short_stderr}",
            output.status
        );
    };
    assert_ne!(code, 101, "exit code 101 is a Rust panic: {short_stderr}");
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    }
}

fn run(program: &Path) -> Outcome {
    pvm(&["run".as_ref(), program.as_os_str()])
}

/// Runs the program from source and, compiled, from bytecode; both must
/// succeed with `expected` as their whole output.
fn assert_runs_both_ways(dir: &TempDir, program: &Path, expected: &str) {
    let from_source = run(program);
    assert_eq!(from_source.code, 0, "{}", from_source.stderr);
    assert_eq!(from_source.stdout, expected);

    let bytecode = dir.0.join("program.pbc");
    let compiled = pvm(&[
        "compile".as_ref(),
        program.as_os_str(),
        "-o".as_ref(),
        bytecode.as_os_str(),
    ]);
    assert_eq!(compiled.code, 0, "{}", compiled.stderr);
    let from_bytecode = run(&bytecode);
    assert_eq!(from_bytecode.code, 0, "{}", from_bytecode.stderr);
    assert_eq!(from_bytecode.stdout, expected);
}

/// The line and column of a `FILE:LINE:COL: error...` diagnostic for `file`.
fn diagnostic_position(stderr: &str, file: &str) -> (usize, usize) {
    let first = stderr.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix(file)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or_else(|| panic!("not a diagnostic for {file}: {first}"));
    let mut parts = rest.splitn(3, ':');
    let line = parts.next().and_then(|n| n.parse().ok());
    let column = parts.next().and_then(|n| n.parse().ok());
    match (line, column) {
        (Some(line), Some(column)) => (line, column),
        _ => panic!("no LINE:COL in {first}"),
    }
}

// ------------------------------------------------------ big but valid

#[test]
fn ten_megabyte_string_literal() {
    let dir = TempDir::new("big-string");
    let mut source = String::with_capacity(10_000_100);
    source.push_str("var s = \"");
    // A pattern rather than one repeated byte, so a truncation or a shifted
    // chunk boundary shows in the checked characters.
    for i in 0..1_000_000 {
        write!(source, "{:010}", i).expect("writing to a String cannot fail");
    }
    source.push_str("\";\nprint s.len();\nprint s.slice(0, 20);\nprint s.slice(-10, s.len());\n");
    let program = dir.write("big_string.lox", &source);
    assert_runs_both_ways(
        &dir,
        &program,
        "10000000\n00000000000000000001\n0000999999\n",
    );
}

#[test]
fn one_megabyte_line_of_statements() {
    let dir = TempDir::new("long-line");
    let mut source = String::from("var total = 0;");
    let mut expected_total: u64 = 0;
    let mut i = 0u64;
    while source.len() < 1_000_000 {
        write!(source, " total = total + {i};").expect("writing to a String cannot fail");
        expected_total += i;
        i += 1;
    }
    // An error at the far end of the line is reported at the right column.
    let broken = format!("{source} @\n");
    let column = source.chars().count() + 2;
    source.push_str(" print total; // a comment at the end of a very long line\n");
    let program = dir.write("long_line.lox", &source);
    let outcome = run(&program);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, format!("{expected_total}\n"));

    let broken_program = dir.write("broken.lox", &broken);
    let outcome = run(&broken_program);
    assert_eq!(outcome.code, EXIT_COMPILE, "{}", outcome.stderr);
    assert_eq!(
        diagnostic_position(&outcome.stderr, "broken.lox"),
        (1, column)
    );
}

#[test]
fn one_megabyte_comment_and_identifier() {
    let dir = TempDir::new("long-name");
    let name = format!("v{}", "x".repeat(1_000_000));
    let source = format!(
        "// {}\nvar {name} = 41;\n{name} = {name} + 1;\nprint {name};\n",
        "c".repeat(1_000_000)
    );
    let program = dir.write("long_name.lox", &source);
    assert_runs_both_ways(&dir, &program, "42\n");
}

#[test]
fn a_million_distinct_number_constants_in_a_list_literal() {
    let dir = TempDir::new("million-list");
    let mut source = String::from("var xs = [");
    for i in 0..1_000_000u64 {
        // i + 0.5 keeps every constant distinct and non-integral.
        write!(source, "{i}.5,").expect("writing to a String cannot fail");
    }
    source.push_str("];\nvar total = 0;\nfor (var x in xs) total += x;\n");
    source.push_str("print xs.len();\nprint total;\nprint xs[0];\nprint xs[999999];\n");
    let program = dir.write("million.lox", &source);
    // The sum of i + 0.5 for i < 10^6 is exact in a double.
    assert_runs_both_ways(&dir, &program, "1000000\n500000000000\n0.5\n999999.5\n");
}

#[test]
fn a_million_distinct_number_constants_in_separate_statements() {
    let dir = TempDir::new("million-statements");
    let mut source = String::from("var total = 0;\n");
    for i in 0..1_000_000u64 {
        writeln!(source, "total += {i}.25;").expect("writing to a String cannot fail");
    }
    source.push_str("print total;\n");
    let program = dir.write("million_statements.lox", &source);
    // From source only: compiling this takes seconds, and the list literal test
    // above already carries a million constants through a .pbc file.
    let outcome = run(&program);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, "499999750000\n");
}

#[test]
fn a_million_distinct_number_constants_in_one_long_sum() {
    // A left-associated chain of a million `+`: one nesting level, and one register.
    let dir = TempDir::new("million-sum");
    let mut source = String::from("print 0");
    for i in 1..1_000_000u64 {
        write!(source, " + {i}.5").expect("writing to a String cannot fail");
    }
    source.push_str(";\n");
    let program = dir.write("million_sum.lox", &source);
    assert_runs_both_ways(&dir, &program, "499999999999.5\n");
}

#[test]
fn a_long_method_chain() {
    let dir = TempDir::new("chain");
    let mut source =
        String::from("class C { init() { this.n = 0; } m() { this.n += 1; return this; } }\n");
    source.push_str("print C()");
    source.push_str(&".m()".repeat(DEPTH));
    source.push_str(".n;\n");
    let program = dir.write("chain.lox", &source);
    assert_runs_both_ways(&dir, &program, &format!("{DEPTH}\n"));
}

#[test]
fn long_chains_of_calls_properties_and_indexing() {
    let dir = TempDir::new("chains");
    let mut source = String::from("fun f() { return f; }\nvar xs = [0];\nxs[0] = xs;\n");
    source.push_str("class Node { init() { this.next = this; this.k = 1; } }\n");
    source.push_str("var node = Node();\n");
    writeln!(source, "print f{} == f;", "()".repeat(DEPTH)).expect("writing to a String");
    writeln!(source, "print xs{} == xs;", "[0]".repeat(DEPTH)).expect("writing to a String");
    writeln!(source, "print node{} == node;", ".next".repeat(DEPTH)).expect("writing to a String");
    // Mixed links, each with a little nesting of its own.
    writeln!(
        source,
        "print 0{};",
        " + xs[0][0].len() * 2 - -node.next.k".repeat(DEPTH)
    )
    .expect("writing to a String");
    // A runtime error deep in a chain names the link's line and column.
    writeln!(source, "print xs{}[1];", "[0]".repeat(DEPTH)).expect("writing to a String");
    let program = dir.write("chains.lox", &source);
    let outcome = run(&program);
    assert_eq!(outcome.code, 70, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, format!("true\ntrue\ntrue\n{}\n", 3 * DEPTH));
    let column = "print xs".len() + 3 * DEPTH + 1;
    assert!(
        outcome
            .stderr
            .starts_with(&format!("chains.lox:10:{column}: ")),
        "{}",
        outcome.stderr
    );
}

/// Appends ` OP at(K, VALUE)` for each (OP, VALUE) of `links`, numbering K on from
/// `first`; returns the next K.
fn push_logical_links<'a>(
    source: &mut String,
    first: usize,
    links: impl Iterator<Item = (&'a str, &'a str)>,
) -> usize {
    let mut k = first;
    for (op, value) in links {
        write!(source, " {op} at({k}, {value})").expect("writing to a String");
        k += 1;
    }
    k
}

#[test]
fn long_and_or_chains_short_circuit_in_order() {
    let dir = TempDir::new("and-or");
    // `at(k, v)` checks it is the k-th operand evaluated since `n` was last reset, and
    // returns v; `never()` must not run at all, as it comes after the deciding operand.
    let mut source = String::from(
        "var n = 0;\n\
         fun at(k, v) { if (n != k) { print \"out of order:\"; print k; } n = n + 1; return v; }\n\
         fun never() { print \"evaluated after the decision\"; return true; }\n",
    );
    let falsy = ["false", "nil"].into_iter().cycle();
    // As a value: `or` over falsy operands, then the first truthy one.
    source.push_str("var x = at(0, false)");
    let k = push_logical_links(&mut source, 1, falsy.clone().take(DEPTH).map(|v| ("or", v)));
    writeln!(source, " or at({k}, \"or\"){};", " or never()".repeat(100)).expect("writing");
    source.push_str("print x;\nprint n;\nn = 0;\n");
    // `and` over truthy operands, then a falsy one.
    source.push_str("print at(0, true)");
    let truthy = ["true", "0", "\"\""].into_iter().cycle();
    let k = push_logical_links(&mut source, 1, truthy.take(DEPTH).map(|v| ("and", v)));
    writeln!(source, " and at({k}, nil){};", " and never()".repeat(100)).expect("writing");
    source.push_str("print n;\nn = 0;\n");
    // Mixed, as the parser groups it: `(((a or (b and c)) or (d and e)) ...`; every
    // `b and c` is false, so every operand runs until the last pair.
    source.push_str("print at(0, false)");
    let pairs = std::iter::repeat_n([("or", "true"), ("and", "false")], DEPTH / 2).flatten();
    let k = push_logical_links(&mut source, 1, pairs);
    writeln!(
        source,
        " or at({k}, true) and at({}, \"mixed\"){};",
        k + 1,
        " or never() and never()".repeat(100)
    )
    .expect("writing");
    source.push_str("print n;\nn = 0;\n");
    // As conditions, compiled to jumps.
    source.push_str("if (at(0, false)");
    let k = push_logical_links(&mut source, 1, falsy.clone().take(DEPTH).map(|v| ("or", v)));
    writeln!(
        source,
        " or at({k}, 1) or never()) print \"taken\"; else print \"not\";"
    )
    .expect("writing");
    source.push_str("print n;\nn = 0;\n");
    source.push_str("if (at(0, true)");
    let k = push_logical_links(&mut source, 1, std::iter::repeat_n(("and", "true"), DEPTH));
    writeln!(
        source,
        " and at({k}, nil) and never()) print \"taken\"; else print \"not\";"
    )
    .expect("writing");
    source.push_str("print n;\n");
    // A loop whose test is a chain of comparisons of a local with 100,000 distinct
    // constants, more than a compare-with-constant jump can name.
    source.push_str("fun count() { var i = 0; while (i == -1");
    for c in 2..=DEPTH {
        write!(source, " or i == -{c}").expect("writing");
    }
    source.push_str(" or i < 3) i = i + 1; return i; }\nprint count();\n");
    let program = dir.write("and_or.lox", &source);
    let expected = format!(
        "or\n{}\nnil\n{}\nmixed\n{}\ntaken\n{}\nnot\n{}\n3\n",
        DEPTH + 2,
        DEPTH + 2,
        DEPTH + 3,
        DEPTH + 2,
        DEPTH + 2
    );
    assert_runs_both_ways(&dir, &program, &expected);
}

#[test]
fn a_runtime_error_at_the_end_of_a_long_or_chain_names_its_column() {
    let dir = TempDir::new("or-error");
    let source = format!("print false{} or -\"x\";\n", " or false".repeat(DEPTH));
    let program = dir.write("or_error.lox", &source);
    let outcome = run(&program);
    assert_eq!(outcome.code, 70, "{}", outcome.stderr);
    let column = "print false".len() + " or false".len() * DEPTH + " or ".len() + 1;
    assert!(
        outcome
            .stderr
            .starts_with(&format!("or_error.lox:1:{column}: runtime error: ")),
        "{}",
        outcome.stderr
    );
}

#[test]
fn ten_thousand_deep_class_hierarchy() {
    let dir = TempDir::new("deep-classes");
    let mut source = String::from(
        "class C0 {\n  init() { this.made = \"C0 init\"; }\n  hello() { return \"hello from C0\"; }\n}\n",
    );
    for i in 1..=10_000 {
        writeln!(source, "class C{i} < C{} {{}}", i - 1).expect("writing to a String cannot fail");
    }
    // A method overridden half-way down, reached through super from the bottom.
    source.push_str("class Bottom < C10000 { hello() { return \"bottom, \" + super.hello(); } }\n");
    source.push_str("var c = C10000();\nprint c.hello();\nprint c.made;\n");
    source.push_str("print Bottom().hello();\nprint C10000;\n");
    let program = dir.write("deep_classes.lox", &source);
    assert_runs_both_ways(
        &dir,
        &program,
        "hello from C0\nC0 init\nbottom, hello from C0\nC10000\n",
    );
}

// ------------------------------------------------------ nesting limits

/// Runs `source`, whose nesting starts at line 1 and is `depth` levels deep;
/// it must print `expected` or stop with a compile error about nesting that
/// names a line and column inside the nested part.
fn assert_works_or_refuses_nesting(label: &str, source: &str, expected: &str) {
    let dir = TempDir::new(label);
    let file = format!("{label}.lox");
    let program = dir.write(&file, source);
    let outcome = run(&program);
    if outcome.code == 0 {
        assert_eq!(outcome.stdout, expected, "{label}");
        return;
    }
    assert_eq!(outcome.code, EXIT_COMPILE, "{label}: {}", outcome.stderr);
    assert_eq!(
        outcome.stdout, "",
        "{label}: nothing runs after a compile error"
    );
    assert!(
        outcome.stderr.contains("nests too deeply") && outcome.stderr.contains("1000"),
        "{label}: the error should name the nesting limit: {}",
        outcome.stderr
    );
    assert_eq!(
        outcome.stderr.lines().count(),
        1,
        "{label}: one error, not one per level: {}",
        outcome.stderr.chars().take(2000).collect::<String>()
    );
    let (line, column) = diagnostic_position(&outcome.stderr, &file);
    let source_line = source.lines().nth(line - 1).unwrap_or_default();
    assert!(
        column >= 1 && column <= source_line.chars().count(),
        "{label}: column {column} is not on line {line}"
    );
}

const DEPTH: usize = 100_000;

#[test]
fn hundred_thousand_nested_parentheses() {
    let source = format!("print {}1{};\n", "(".repeat(DEPTH), ")".repeat(DEPTH));
    assert_works_or_refuses_nesting("parens", &source, "1\n");
}

#[test]
fn hundred_thousand_nested_blocks() {
    let source = format!("{}print 1;{}\n", "{".repeat(DEPTH), "}".repeat(DEPTH));
    assert_works_or_refuses_nesting("blocks", &source, "1\n");
}

#[test]
fn hundred_thousand_nested_calls() {
    let source = format!(
        "fun f(x) {{ return x; }} print {}1{};\n",
        "f(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    assert_works_or_refuses_nesting("calls", &source, "1\n");
}

#[test]
fn hundred_thousand_unary_operators() {
    let minus = format!("print {}1;\n", "-".repeat(DEPTH));
    assert_works_or_refuses_nesting("minus", &minus, "1\n");
    let not = format!("print {}true;\n", "!".repeat(DEPTH));
    assert_works_or_refuses_nesting("not", &not, "true\n");
}

#[test]
fn hundred_thousand_nested_list_literals_and_indexing() {
    let lists = format!("print {}{};\n", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let mut nested_output = "[".repeat(DEPTH);
    nested_output.push_str(&"]".repeat(DEPTH));
    nested_output.push('\n');
    assert_works_or_refuses_nesting("lists", &lists, &nested_output);
    let maps = format!(
        "print {}1{};\n",
        "{\"k\": ".repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    let mut map_output = "{\"k\": ".repeat(DEPTH);
    map_output.push('1');
    map_output.push_str(&"}".repeat(DEPTH));
    map_output.push('\n');
    assert_works_or_refuses_nesting("maps", &maps, &map_output);
    // Indexing into an index, not a chain of indexing (see long_chains_of_calls_...).
    let indexing = format!(
        "var x = [0]; print {}0{};\n",
        "x[".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    assert_works_or_refuses_nesting("indexing", &indexing, "0\n");
}

#[test]
fn hundred_thousand_nested_and_or() {
    // Nesting on the right, in parentheses: unlike a chain, each level is a level.
    let value = format!(
        "var a; print a{};\n",
        " or (a and (a".repeat(DEPTH / 2) + &"))".repeat(DEPTH / 2)
    );
    assert_works_or_refuses_nesting("or-value", &value, "nil\n");
    let condition = format!(
        "var a; if (a{}) print 1; else print 2;\n",
        " or (a".repeat(DEPTH) + &")".repeat(DEPTH)
    );
    assert_works_or_refuses_nesting("or-condition", &condition, "2\n");
}

#[test]
fn hundred_thousand_nested_statements_and_functions() {
    let ifs = format!("{}print 1;\n", "if (true) ".repeat(DEPTH));
    assert_works_or_refuses_nesting("ifs", &ifs, "1\n");
    let whiles = format!("{}print 1;\n", "while (false) ".repeat(DEPTH));
    assert_works_or_refuses_nesting("whiles", &whiles, "");
    let functions = format!(
        "{}{}print 1;\n",
        "fun f() {".repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    assert_works_or_refuses_nesting("functions", &functions, "1\n");
    let lambdas = format!(
        "var f = {}1{};\nprint f;\n",
        "fun () { return ".repeat(DEPTH),
        "; }".repeat(DEPTH)
    );
    assert_works_or_refuses_nesting("lambdas", &lambdas, "<fn anonymous>\n");
}

#[test]
fn hundred_thousand_locals_in_one_function() {
    let dir = TempDir::new("locals");
    let mut source = String::from("fun f() {\n");
    for i in 0..100_000 {
        writeln!(source, "  var v{i} = {i};").expect("writing to a String cannot fail");
    }
    source.push_str("  return v99999;\n}\nprint f();\n");
    let program = dir.write("locals.lox", &source);
    let outcome = run(&program);
    if outcome.code == 0 {
        assert_eq!(outcome.stdout, "99999\n");
        return;
    }
    assert_eq!(outcome.code, EXIT_COMPILE, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, "");
    // The first local that does not fit: R0 and 255 locals fill 256 registers.
    assert!(
        outcome
            .stderr
            .starts_with("locals.lox:258:7: error at 'v256': ")
            && outcome.stderr.contains("256 registers"),
        "{}",
        outcome.stderr.chars().take(2000).collect::<String>()
    );
}

// ------------------------------------------------------ bad bytes and files

#[test]
fn invalid_utf8_is_a_compile_error_naming_line_and_byte() {
    let dir = TempDir::new("utf8");
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "in_string.lox",
            b"print 1;\nprint \"a\xffb\";\n",
            "in_string.lox:2:9: error: Source is not valid UTF-8 (byte offset 17).",
        ),
        (
            "in_comment.lox",
            b"print 1;\n// comment \xc3\x28 here\n",
            "in_comment.lox:2:12: error: Source is not valid UTF-8 (byte offset 20).",
        ),
        (
            "surrogate.lox",
            b"print 1;\n\xed\xa0\x80\n",
            "surrogate.lox:2:1: error: Source is not valid UTF-8 (byte offset 9).",
        ),
        (
            "truncated.lox",
            b"print \"\xe2\x82",
            "truncated.lox:1:8: error: Source is not valid UTF-8 (byte offset 7).",
        ),
    ];
    for (name, bytes, expected) in cases {
        let program = dir.write(name, bytes);
        let outcome = run(&program);
        assert_eq!(outcome.code, EXIT_COMPILE, "{name}: {}", outcome.stderr);
        assert_eq!(outcome.stdout, "", "{name}");
        assert_eq!(outcome.stderr.trim_end(), expected, "{name}");
    }
}

#[test]
fn nul_bytes_are_a_compile_error_naming_line_and_byte() {
    let dir = TempDir::new("nul");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "between.lox",
            b"print 1;\nprint 2; \x00 print 3;\n",
            "between.lox:2:10: error: Source contains a NUL byte (byte offset 18).",
        ),
        (
            "in_string.lox",
            b"print \"\x00\";\n",
            "in_string.lox:1:8: error: Source contains a NUL byte (byte offset 7).",
        ),
        (
            "after_accent.lox",
            "// é\n\u{0}".as_bytes(),
            "after_accent.lox:2:1: error: Source contains a NUL byte (byte offset 6).",
        ),
    ];
    for (name, bytes, expected) in cases {
        let program = dir.write(name, bytes);
        let outcome = run(&program);
        assert_eq!(outcome.code, EXIT_COMPILE, "{name}: {}", outcome.stderr);
        assert_eq!(outcome.stderr.trim_end(), expected, "{name}");
    }
}

#[test]
fn a_folder_given_as_the_program_is_an_io_error() {
    let dir = TempDir::new("folder");
    std::fs::create_dir_all(dir.0.join("not_a_file.lox")).expect("the temp folder is writable");
    for command in ["run", "compile", "disasm"] {
        let outcome = pvm(&[command.as_ref(), dir.0.join("not_a_file.lox").as_os_str()]);
        assert_eq!(outcome.code, EXIT_IO, "{command}: {}", outcome.stderr);
        assert!(
            outcome.stderr.contains("not_a_file.lox"),
            "{}",
            outcome.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn an_unreadable_program_is_an_io_error() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("unreadable");
    let program = dir.write("secret.lox", "print 1;\n");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o000))
        .expect("permissions can be changed in the temp folder");
    // Root reads the file regardless of its mode; then there is nothing to test
    // here (the folder case above still covers exit 74).
    if std::fs::read(&program).is_ok() {
        eprintln!("skipped: running as a user that can read mode-000 files");
        return;
    }
    let outcome = run(&program);
    assert_eq!(outcome.code, EXIT_IO, "{}", outcome.stderr);
    assert!(outcome.stderr.contains("secret.lox"), "{}", outcome.stderr);
}

#[test]
fn a_missing_program_is_an_io_error() {
    let dir = TempDir::new("missing");
    let outcome = run(&dir.0.join("nowhere.lox"));
    assert_eq!(outcome.code, EXIT_IO, "{}", outcome.stderr);
}

#[test]
fn empty_and_comment_only_files_run_and_print_nothing() {
    let dir = TempDir::new("empty");
    for (name, contents) in [
        ("empty.lox", ""),
        ("comment.lox", "// only a comment, no newline"),
        ("blank.lox", "\n\n   \t\r\n"),
    ] {
        let program = dir.write(name, contents);
        let outcome = run(&program);
        assert_eq!(outcome.code, 0, "{name}: {}", outcome.stderr);
        assert_eq!(outcome.stdout, "", "{name}");
    }
}

#[test]
fn a_hundred_thousand_lines_report_the_right_line() {
    let dir = TempDir::new("many-lines");
    let mut source = "\n".repeat(99_999);
    source.push_str("print nil + 1;\n");
    let program = dir.write("many_lines.lox", &source);
    let outcome = run(&program);
    assert_eq!(outcome.code, 70, "{}", outcome.stderr);
    assert!(
        outcome.stderr.starts_with("many_lines.lox:100000:"),
        "{}",
        outcome.stderr
    );
}
