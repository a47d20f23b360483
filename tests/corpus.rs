//! Runs every Lox program under `tests/lang/` through the `pvm` binary and checks
//! it against the annotations in its own comments.
//!
//! Annotations (written on the line they concern):
//!
//! - `// expect: TEXT` — the next line of stdout, in file order;
//! - `// compile error: MESSAGE` — a diagnostic must name this line and contain
//!   MESSAGE; every diagnostic must name an annotated line; exit 65;
//! - `// runtime error: MESSAGE` — stderr starts with
//!   `FILE:LINE:COL: runtime error: MESSAGE` for this line, then a stack trace
//!   ending in `script`; exit 70;
//! - `// gc-stress: N` — collect every N-th allocation instead of every one in
//!   the GC-stress pass (for programs that allocate a lot).
//!
//! Each program is checked three ways: `pvm run FILE.lox`; `pvm compile` to a
//! temporary `.pbc` then `pvm run` of that; and `pvm run --gc-stress N`. All
//! failures are collected and reported together, with a diff of stdout, so one
//! run shows everything that is wrong. Programs too big to commit (more than
//! 65,535 constants) are generated into a temporary folder at test time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const PVM: &str = env!("CARGO_BIN_EXE_pvm");
const EXIT_OK: i32 = 0;
const EXIT_COMPILE: i32 = 65;
const EXIT_RUNTIME: i32 = 70;

/// How a program is handed to pvm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Source,
    Compiled,
    GcStress,
}

/// What a program's annotations say should happen.
#[derive(Debug, Default)]
struct Expected {
    stdout: Vec<String>,
    /// (line, message substring)
    compile_errors: Vec<(usize, String)>,
    /// (line, exact message)
    runtime_error: Option<(usize, String)>,
    gc_stress: Option<u32>,
}

impl Expected {
    fn exit_code(&self) -> i32 {
        if !self.compile_errors.is_empty() {
            EXIT_COMPILE
        } else if self.runtime_error.is_some() {
            EXIT_RUNTIME
        } else {
            EXIT_OK
        }
    }
}

fn annotation<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let start = line.find(marker)? + marker.len();
    let rest = &line[start..];
    Some(
        rest.strip_prefix(' ')
            .unwrap_or(rest)
            .trim_end_matches('\r'),
    )
}

fn parse_expectations(source: &str) -> Expected {
    let mut expected = Expected::default();
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        if let Some(text) = annotation(line, "// expect:") {
            expected.stdout.push(text.to_string());
        }
        if let Some(text) = annotation(line, "// compile error:") {
            expected.compile_errors.push((number, text.to_string()));
        }
        if let Some(text) = annotation(line, "// runtime error:") {
            assert!(
                expected.runtime_error.is_none(),
                "two runtime errors annotated"
            );
            expected.runtime_error = Some((number, text.to_string()));
        }
        if let Some(text) = annotation(line, "// gc-stress:") {
            expected.gc_stress = Some(text.trim().parse().expect("gc-stress takes a number"));
        }
    }
    expected
}

fn lox_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            // A `helpers` folder holds modules that tests import; they are not
            // tests themselves.
            if path.file_name().is_some_and(|name| name == "helpers") {
                continue;
            }
            lox_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "lox") {
            found.push(path);
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lang");
    let mut found = Vec::new();
    lox_files(&root, &mut found);
    found.sort();
    found
}

/// A path under the system temp folder that no other test (or test run) uses.
fn unique_temp_path(stem: &str, extension: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "pvm-corpus-{}-{n}-{stem}.{extension}",
        std::process::id()
    ))
}

fn pvm(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(PVM)
        .args(args)
        .env_remove("PVM_GC_STRESS")
        .output()
        .expect("the pvm binary runs")
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs one program in one mode; returns a description of every way it
/// disagreed with its annotations (empty when it passed).
fn check(path: &Path, mode: Mode) -> Vec<String> {
    let source = std::fs::read_to_string(path).expect("corpus files are UTF-8");
    let expected = parse_expectations(&source);
    let file_name = path
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned();
    let mut problems = Vec::new();

    let output = match mode {
        Mode::Source => pvm(&["run".as_ref(), path.as_os_str()]),
        Mode::GcStress => {
            let every = expected.gc_stress.unwrap_or(1).to_string();
            pvm(&[
                "run".as_ref(),
                "--gc-stress".as_ref(),
                every.as_ref(),
                path.as_os_str(),
            ])
        }
        Mode::Compiled => {
            let stem = path.file_stem().expect("a file").to_string_lossy();
            let bytecode = unique_temp_path(&stem, "pbc");
            let compiled = pvm(&[
                "compile".as_ref(),
                path.as_os_str(),
                "-o".as_ref(),
                bytecode.as_os_str(),
            ]);
            let ran = if compiled.status.success() {
                if !compiled.stdout.is_empty() || !compiled.stderr.is_empty() {
                    problems.push("`pvm compile` printed something although it succeeded".into());
                }
                pvm(&["run".as_ref(), bytecode.as_os_str()])
            } else {
                if bytecode.exists() {
                    problems.push("`pvm compile` failed but left an output file".into());
                }
                compiled
            };
            let _ = std::fs::remove_file(&bytecode);
            ran
        }
    };

    let stdout = lines(&output.stdout);
    let stderr = lines(&output.stderr);
    let code = output.status.code();
    if code != Some(expected.exit_code()) {
        problems.push(format!(
            "exit code: expected {}, got {code:?}",
            expected.exit_code()
        ));
    }
    if stderr.iter().any(|line| line.contains("panicked")) {
        problems.push("pvm panicked".into());
    }

    if stdout != expected.stdout {
        problems.push(format!(
            "stdout differs (- expected, + got):\n{}",
            diff(&expected.stdout, &stdout)
        ));
    }

    if !expected.compile_errors.is_empty() {
        check_compile_errors(&expected, &file_name, &stderr, &mut problems);
    } else if let Some((line, message)) = &expected.runtime_error {
        check_runtime_error(*line, message, &file_name, &stderr, &mut problems);
    } else if !stderr.is_empty() {
        problems.push(format!("unexpected stderr:\n    {}", stderr.join("\n    ")));
    }
    problems
}

/// The line number in `FILE:LINE:COL: rest` if FILE is `file_name`.
fn diagnostic_line(line: &str, file_name: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix(file_name)?.strip_prefix(':')?;
    let mut parts = rest.splitn(3, ':');
    let line_number = parts.next()?.parse().ok()?;
    let column = parts.next()?.parse().ok()?;
    Some((line_number, column))
}

fn check_compile_errors(
    expected: &Expected,
    file_name: &str,
    stderr: &[String],
    problems: &mut Vec<String>,
) {
    let mut reported = Vec::new();
    for line in stderr {
        match diagnostic_line(line, file_name) {
            Some((number, _)) if line.contains(": error") => reported.push((number, line)),
            _ => problems.push(format!("stderr line is not a diagnostic: {line}")),
        }
    }
    for (number, message) in &expected.compile_errors {
        let found = reported
            .iter()
            .any(|(n, text)| n == number && text.contains(message.as_str()));
        if !found {
            problems.push(format!(
                "missing compile error on line {number} containing '{message}'"
            ));
        }
    }
    for (number, text) in &reported {
        if !expected.compile_errors.iter().any(|(n, _)| n == number) {
            problems.push(format!("unexpected compile error: {text}"));
        }
    }
}

fn check_runtime_error(
    line: usize,
    message: &str,
    file_name: &str,
    stderr: &[String],
    problems: &mut Vec<String>,
) {
    let Some(first) = stderr.first() else {
        problems.push(format!(
            "expected runtime error '{message}' on line {line}, stderr empty"
        ));
        return;
    };
    let position = diagnostic_line(first, file_name);
    let wanted_suffix = format!(": runtime error: {message}");
    if position.map(|(n, _)| n) != Some(line) || !first.ends_with(&wanted_suffix) {
        problems.push(format!(
            "runtime error: expected '{file_name}:{line}:COL{wanted_suffix}', got '{first}'"
        ));
    }
    let trace = &stderr[1..];
    // A frame line, or the line that stands for a run of identical frames.
    let well_formed = trace.iter().all(|frame| {
        (frame.starts_with("  at ") && frame.ends_with(')') && frame.contains(" ("))
            || (frame.starts_with("  ... the line above repeats ")
                && frame.ends_with(" more times"))
    });
    if trace.is_empty() || !well_formed {
        problems.push(format!(
            "malformed stack trace:\n    {}",
            trace.join("\n    ")
        ));
    } else {
        let innermost = format!("({file_name}:{line})");
        if !trace[0].ends_with(&innermost) {
            problems.push(format!(
                "innermost frame should end with {innermost}: {}",
                trace[0]
            ));
        }
        let outermost = trace.last().expect("not empty");
        if !outermost.starts_with("  at script (") {
            problems.push(format!("outermost frame should be script: {outermost}"));
        }
    }
}

/// A line diff good enough for short outputs: the common prefix and suffix are
/// elided, the rest shown as removed and added lines.
fn diff(expected: &[String], got: &[String]) -> String {
    let prefix = expected.iter().zip(got).take_while(|(a, b)| a == b).count();
    let suffix = expected[prefix..]
        .iter()
        .rev()
        .zip(got[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut text = String::new();
    if prefix > 0 {
        let _ = writeln!(
            text,
            "    ({prefix} matching lines; last: {})",
            expected[prefix - 1]
        );
    }
    for line in expected[prefix..expected.len() - suffix].iter().take(20) {
        let _ = writeln!(text, "    - {line}");
    }
    for line in got[prefix..got.len() - suffix].iter().take(20) {
        let _ = writeln!(text, "    + {line}");
    }
    if suffix > 0 {
        let _ = writeln!(text, "    ({suffix} matching lines after)");
    }
    text
}

/// Checks every program in `files` in `mode` on a few threads and panics with a
/// report of all failures.
fn check_all(files: &[PathBuf], mode: Mode) {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(index) else { break };
                let problems = check(path, mode);
                if !problems.is_empty() {
                    failures
                        .lock()
                        .expect("no panics while locked")
                        .push((path.clone(), problems));
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no panics while locked");
    if failures.is_empty() {
        return;
    }
    failures.sort();
    let mut report = format!(
        "{} of {} programs failed ({mode:?}):\n",
        failures.len(),
        files.len()
    );
    for (path, problems) in &failures {
        let shown = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path);
        let _ = writeln!(report, "\nFAIL {}", shown.display());
        for problem in problems {
            let _ = writeln!(report, "  {problem}");
        }
    }
    panic!("{report}");
}

#[test]
fn corpus_from_source() {
    check_all(&corpus(), Mode::Source);
}

#[test]
fn corpus_from_bytecode() {
    check_all(&corpus(), Mode::Compiled);
}

#[test]
fn corpus_under_gc_stress() {
    check_all(&corpus(), Mode::GcStress);
}

#[test]
fn corpus_covers_at_least_100_programs() {
    let programs = corpus();
    assert!(
        programs.len() >= 100,
        "only {} programs under tests/lang",
        programs.len()
    );
    let unannotated: Vec<_> = programs
        .iter()
        .filter(|path| {
            let source = std::fs::read_to_string(path).expect("corpus files are UTF-8");
            let expected = parse_expectations(&source);
            expected.stdout.is_empty()
                && expected.compile_errors.is_empty()
                && expected.runtime_error.is_none()
        })
        .collect();
    assert!(
        unannotated.is_empty(),
        "programs that check nothing: {unannotated:?}"
    );
}

#[test]
fn annotations_are_parsed() {
    let expected = parse_expectations(
        "print 1; // expect: 1\nprint \"\"; // expect: \nx; // compile error: Oops\n\
         y(); // runtime error: Bad.\n// gc-stress: 50\n",
    );
    assert_eq!(expected.stdout, ["1", ""]);
    assert_eq!(expected.compile_errors, [(3, "Oops".to_string())]);
    assert_eq!(expected.runtime_error, Some((4, "Bad.".to_string())));
    assert_eq!(expected.gc_stress, Some(50));
    assert_eq!(
        diagnostic_line("a.lox:12:3: error at 'x': m", "a.lox"),
        Some((12, 3))
    );
    assert_eq!(diagnostic_line("b.lox:12:3: error", "a.lox"), None);
}

// Programs generated at test time: too big to commit, checked like the corpus.

/// Writes `program` to a fresh temporary `.lox` file, checks it from source and
/// from bytecode, and removes it.
fn check_generated(name: &str, program: &str) {
    let path = unique_temp_path(name, "lox");
    std::fs::write(&path, program).expect("temp dir writable");
    let mut report = String::new();
    for mode in [Mode::Source, Mode::Compiled] {
        for problem in check(&path, mode) {
            let _ = writeln!(report, "{name} ({mode:?}): {problem}");
        }
    }
    let _ = std::fs::remove_file(&path);
    assert!(report.is_empty(), "{report}");
}

/// More than 65,535 distinct string constants, compared like the book's
/// string_equality benchmark, then a runtime error past line 65,535 so the
/// line table has to reach that far.
#[test]
fn more_than_65535_string_constants() {
    const COUNT: usize = 70_000;
    let mut program = String::from("var hits = 0;\nvar wanted = \"key\" + \"69999\";\n");
    program.push_str("fun check(s) { if (s == wanted) hits = hits + 1; }\n");
    for i in 0..COUNT {
        let _ = writeln!(program, "check(\"key{i}\");");
    }
    program.push_str("print hits; // expect: 1\n");
    program.push_str("print \"key0\" == \"key\" + \"0\"; // expect: true\n");
    let error_line = program.lines().count() + 1;
    program.push_str(
        "print hits + \"x\"; // runtime error: Operands must be two numbers or two strings.\n",
    );
    assert!(error_line > 65_535);
    check_generated("many_strings", &program);
}

/// More than 65,535 distinct number constants (fractions, so no compiler can
/// turn them into small-integer immediates), summed.
#[test]
fn more_than_65535_number_constants() {
    const COUNT: usize = 66_000;
    let mut program = String::from("var sum = 0;\n");
    for i in 0..COUNT {
        let _ = writeln!(program, "sum = sum + {i}.5;");
    }
    // sum of i for i < COUNT, plus COUNT halves
    let total = (COUNT * (COUNT - 1)) / 2 + COUNT / 2;
    let _ = writeln!(program, "print sum; // expect: {total}");
    // Comparisons with constants numbered past 65,535, too far for the short
    // compare-with-constant jumps.
    program.push_str("if (sum > 0.25) print \"big\"; // expect: big\n");
    program.push_str("if (!(0.125 < sum)) print \"wrong\";\n");
    program.push_str("var j = 0;\nwhile (j < 2.75) j = j + 1;\nprint j; // expect: 3\n");
    check_generated("many_numbers", &program);
}

/// Jumps longer than 65,535 instructions, forward (over an `if` body) and
/// backward (a loop), where a 16-bit jump offset would overflow.
#[test]
fn jumps_over_more_than_65535_instructions() {
    const STATEMENTS: usize = 40_000;
    let mut program = String::from("var x = 0;\nvar i = 0;\nif (x > 0) {\n");
    program.push_str(&"  x = x - 1;\n".repeat(STATEMENTS));
    program.push_str("}\nprint x; // expect: 0\nwhile (i < 2) {\n");
    program.push_str(&"  x = x + 1;\n".repeat(STATEMENTS));
    program.push_str("  i = i + 1;\n}\n");
    let _ = writeln!(program, "print x; // expect: {}", 2 * STATEMENTS);
    check_generated("long_jumps", &program);
}
