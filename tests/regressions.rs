//! Inputs that once broke pvm, kept so they never break it again. Each is a file
//! under `tests/regressions/` (Lox source, or a `.pbc` made by a fuzzer or by
//! hand) run through the `pvm` binary in a child process, as a user would, with
//! an instruction budget and a capped address space: a crash, an abort or a
//! runaway allocation fails its test instead of taking the test runner (or the
//! machine) down with it. The file's own comment says where it came from.
//!
//! Each test says how the input must end: a runtime error with a message, or a
//! clean run. Tests for bugs not fixed yet are `#[ignore]`d with a `FIXME:`
//! naming the bug; run them with `cargo test --test regressions -- --ignored`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PVM: &str = env!("CARGO_BIN_EXE_pvm");

/// Calls plus backward jumps a regression input may make before pvm stops it.
const BUDGET: u64 = 100_000;

/// Address space for the child, in KiB (`ulimit -v`): room for pvm's reserved
/// stacks and a 1 GiB string, far below the machine's memory.
const ADDRESS_SPACE_KIB: u64 = 4 << 20;

/// Runs `pvm run --budget=BUDGET FILE` on a file under `tests/regressions/`.
fn run(file: &str) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(file);
    assert!(path.is_file(), "{} is missing", path.display());
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" run --budget={BUDGET} \"$1\""
        ))
        .arg(PVM)
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs")
}

/// Asserts pvm exited with `code` (not a signal, not a panic) and that stderr
/// contains `message`.
fn assert_ends(output: &Output, code: i32, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "pvm ended with {} instead of exit {code}; stderr:\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "pvm panicked:\n{stderr}");
    assert!(
        stderr.contains(message),
        "stderr lacks {message:?}:\n{stderr}"
    );
}

const EXIT_RUNTIME: i32 = 70;

#[test]
fn string_doubling_is_a_runtime_error() {
    assert_ends(&run("string_doubling.lox"), EXIT_RUNTIME, "runtime error");
}

#[test]
fn string_replace_squaring_is_a_runtime_error() {
    assert_ends(
        &run("string_replace_squares.lox"),
        EXIT_RUNTIME,
        "runtime error",
    );
}

#[test]
fn repeat_past_the_size_limit_is_a_runtime_error() {
    assert_ends(
        &run("repeat_past_limit.lox"),
        EXIT_RUNTIME,
        "repeat() would build a string of 20000000000 bytes (limit 1073741824).",
    );
}

/// Asserts pvm ended by itself, with success or a runtime error: not a signal,
/// a panic or an abort.
fn assert_no_crash(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | EXIT_RUNTIME)),
        "pvm ended with {}; stderr:\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "pvm panicked:\n{stderr}");
}

/// `inherit r1, r1` in a hand-edited compile of
/// `class A { m() {} n() {} o() {} } class B < A {}`: the class inherits from
/// itself, which source cannot say but bytecode can. ASan reports a
/// heap-use-after-free in Instr::Inherit; without ASan this small case happens to
/// survive, so the next test is the one that fails today.
#[test]
fn a_class_inheriting_from_itself_does_not_crash() {
    assert_no_crash(&run("inherit_self.pbc"));
}

/// examples/shapes.lox compiled, with byte 360 changed from 0x00 to 0x01 (found by
/// tests/mutation.rs): `class r0, "Rectangle"` becomes `class r1, …`, so the
/// following `inherit r0, r1` makes Shape inherit from Shape. pvm dies with
/// SIGSEGV (release) or a misaligned-pointer abort (debug).
#[test]
fn shapes_with_a_self_inheriting_class_does_not_crash() {
    assert_no_crash(&run("inherit_self_shapes.pbc"));
}
