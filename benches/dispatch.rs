//! Criterion benchmarks of the dispatch loop: time per executed instruction for
//! arithmetic, calls, field access, method invocation and upvalue access.
//!
//! Each case is a Lox function `bench` whose loop body is straight-line code
//! (plus straight-line callees). The instructions one iteration executes are
//! counted from the compiled program itself — the loop from its back-edge target
//! to the back-edge, plus the full code of each callee named in the case — and
//! given to criterion as the throughput, so reports read as instructions/second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pvm_bytecode::{Instr, OperandKind, Program};
use pvm_runtime::Options;

const ITERATIONS: u32 = 200_000;

struct Case {
    name: &'static str,
    /// Lox source defining `bench()`; `N` is replaced by the iteration count.
    source: &'static str,
    /// Functions called once per iteration, whose whole code runs each time.
    callees: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "arithmetic",
        source: "fun bench() { var a = 1; var b = 2; var c = 0;
                 for (var i = 0; i < N; i = i + 1) { c = a * b + c - a / b; } return c; }",
        callees: &[],
    },
    Case {
        name: "call",
        source: "fun add(x, y) { return x + y; }
                 fun bench() { var s = 0; for (var i = 0; i < N; i = i + 1) { s = add(s, i); } return s; }",
        callees: &["add"],
    },
    Case {
        name: "field_get_set",
        source: "class P { init() { this.x = 0; this.y = 0; } }
                 fun bench() { var p = P();
                 for (var i = 0; i < N; i = i + 1) { p.x = p.y + i; p.y = p.x; } return p.x; }",
        callees: &[],
    },
    Case {
        name: "method_invoke",
        source: "class C { init() { this.n = 0; } inc(k) { this.n = this.n + k; return this; } }
                 fun bench() { var c = C(); for (var i = 0; i < N; i = i + 1) { c.inc(i); } return c.n; }",
        callees: &["inc"],
    },
    Case {
        name: "upvalue",
        source: "fun bench() { var count = 0;
                 fun bump() { count = count + 1; }
                 for (var i = 0; i < N; i = i + 1) { bump(); } return count; }",
        callees: &["bump"],
    },
];

fn function_named<'p>(program: &'p Program, name: &str) -> &'p pvm_bytecode::Function {
    program
        .functions
        .iter()
        .find(|function| program.string(function.name) == Some(name))
        .unwrap_or_else(|| panic!("benchmark program has no function {name}"))
}

/// Instructions executed by one loop iteration of `bench` plus its callees.
fn instructions_per_iteration(program: &Program, case: &Case) -> u64 {
    let bench = function_named(program, "bench");
    let (back_edge, target) = bench
        .code
        .iter()
        .enumerate()
        .find_map(|(pc, instr)| {
            // Loops are inverted, so the back edge is usually a compare-and-branch.
            let offset = backward_jump_offset(instr)?;
            Some((pc, (pc as i64 + 1 + offset) as usize))
        })
        .expect("bench() has a loop");
    let loop_len = (back_edge - target + 1) as u64;
    let callee_len: u64 = case
        .callees
        .iter()
        .map(|name| function_named(program, name).code.len() as u64)
        .sum();
    loop_len + callee_len
}

/// The offset of `instr` if it is a jump backward (of any kind: plain or conditional).
fn backward_jump_offset(instr: &Instr) -> Option<i64> {
    instr
        .operands()
        .iter()
        .find(|operand| matches!(operand.kind, OperandKind::Jump | OperandKind::Jump16))
        .map(|operand| operand.value)
        .filter(|&offset| offset < 0)
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    for case in CASES {
        let source = format!(
            "{}\nbench();",
            case.source.replace('N', &ITERATIONS.to_string())
        );
        let program =
            pvm_compiler::compile_source("bench.lox", &source).expect("benchmark compiles");
        let per_iteration = instructions_per_iteration(&program, case);
        let bytes = pvm_bytecode::encode(&program);
        group.throughput(Throughput::Elements(per_iteration * u64::from(ITERATIONS)));
        group.bench_with_input(
            BenchmarkId::from_parameter(case.name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let mut vm = pvm_runtime::load_bytes(
                        bytes,
                        &pvm_runtime::Library::default(),
                        Options::default(),
                        Box::new(std::io::sink()),
                    )
                    .expect("benchmark loads");
                    vm.run().expect("benchmark runs");
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
