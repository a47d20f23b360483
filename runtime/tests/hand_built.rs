//! Runs programs assembled by hand with `ProgramBuilder`, so the interpreter and
//! the verifier are tested without the compiler.

use pvm_bytecode::{Function, Instr, LineEntry, Program, ProgramBuilder, UpvalueDesc};
use pvm_runtime::{GcStress, Options, Vm};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn function(
    b: &mut ProgramBuilder,
    name: &str,
    arity: u8,
    regs: u16,
    code: Vec<Instr>,
) -> Function {
    Function {
        name: b.string(name),
        file: b.file("hand.lox"),
        arity,
        num_regs: regs,
        upvalues: Vec::new(),
        lines: vec![LineEntry {
            pc: 0,
            line: 1,
            column: 1,
        }],
        code,
    }
}

fn run(program: &Program, stress: GcStress) -> Result<String, String> {
    let bytes = pvm_bytecode::encode(program);
    let out = Captured::default();
    let options = Options {
        gc_stress: stress,
        ..Options::default()
    };
    let mut vm = pvm_runtime::load_bytes(
        &bytes,
        &pvm_runtime::Library::default(),
        options,
        Box::new(out.clone()),
    )
    .map_err(|e| e.to_string())?;
    vm.run().map_err(|e| e.to_string())?;
    let text = String::from_utf8(out.0.borrow().clone()).expect("utf-8 output");
    Ok(text)
}

/// fib(n) = n < 2 ? n : fib(n-1) + fib(n-2), as a global function.
fn fib_program(n: i32) -> Program {
    let mut b = ProgramBuilder::new();
    let fib_slot = b.global("fib");
    let fib_index = b.reserve_function();
    let fib = function(
        &mut b,
        "fib",
        1,
        6,
        vec![
            Instr::LoadInt { dst: 2, value: 2 },
            Instr::Lt { dst: 2, a: 1, b: 2 },
            Instr::JumpIfFalse { cond: 2, offset: 1 },
            Instr::Return { src: 1 },
            Instr::GetGlobal {
                dst: 2,
                slot: fib_slot,
            },
            Instr::LoadInt { dst: 4, value: 1 },
            Instr::Sub { dst: 3, a: 1, b: 4 },
            Instr::Call { a: 2, argc: 1 },
            Instr::GetGlobal {
                dst: 3,
                slot: fib_slot,
            },
            Instr::LoadInt { dst: 5, value: 2 },
            Instr::Sub { dst: 4, a: 1, b: 5 },
            Instr::Call { a: 3, argc: 1 },
            Instr::Add { dst: 2, a: 2, b: 3 },
            Instr::Return { src: 2 },
        ],
    );
    b.set_function(fib_index, fib);
    let script_index = b.reserve_function();
    let script = function(
        &mut b,
        "script",
        0,
        3,
        vec![
            Instr::Closure {
                dst: 1,
                proto: fib_index,
            },
            Instr::DefineGlobal {
                src: 1,
                slot: fib_slot,
            },
            Instr::GetGlobal {
                dst: 1,
                slot: fib_slot,
            },
            Instr::LoadInt { dst: 2, value: n },
            Instr::Call { a: 1, argc: 1 },
            Instr::Print { src: 1 },
            Instr::ReturnNil {},
        ],
    );
    b.set_function(script_index, script);
    b.finish(script_index)
}

#[test]
fn recursive_fib_runs() {
    assert_eq!(
        run(&fib_program(20), GcStress::Off).as_deref(),
        Ok("6765\n")
    );
}

/// A counter closure: make() returns a closure that increments a captured local.
#[test]
fn closures_share_captured_variables_under_gc_stress() {
    let mut b = ProgramBuilder::new();
    let inc_index = b.reserve_function();
    let mut inc = function(
        &mut b,
        "inc",
        0,
        3,
        vec![
            Instr::GetUpval { dst: 1, idx: 0 },
            Instr::LoadInt { dst: 2, value: 1 },
            Instr::Add { dst: 1, a: 1, b: 2 },
            Instr::SetUpval { src: 1, idx: 0 },
            Instr::Return { src: 1 },
        ],
    );
    inc.upvalues = vec![UpvalueDesc {
        is_local: true,
        index: 1,
    }];
    b.set_function(inc_index, inc);
    let make_index = b.reserve_function();
    let make = function(
        &mut b,
        "make",
        0,
        3,
        vec![
            Instr::LoadInt { dst: 1, value: 10 },
            Instr::Closure {
                dst: 2,
                proto: inc_index,
            },
            Instr::Return { src: 2 },
        ],
    );
    b.set_function(make_index, make);
    let greeting = b.string("count");
    let script_index = b.reserve_function();
    let script = function(
        &mut b,
        "script",
        0,
        4,
        vec![
            Instr::Closure {
                dst: 1,
                proto: make_index,
            },
            Instr::Call { a: 1, argc: 0 },
            Instr::Move { dst: 2, src: 1 },
            Instr::Call { a: 2, argc: 0 },
            Instr::Move { dst: 2, src: 1 },
            Instr::Call { a: 2, argc: 0 },
            Instr::Print { src: 2 },
            Instr::LoadConst {
                dst: 3,
                k: greeting,
            },
            Instr::Add { dst: 3, a: 3, b: 3 },
            Instr::Print { src: 3 },
            Instr::ReturnNil {},
        ],
    );
    b.set_function(script_index, script);
    let program = b.finish(script_index);
    assert_eq!(
        run(&program, GcStress::Every(1)).as_deref(),
        Ok("12\ncountcount\n")
    );
}

#[test]
fn runtime_errors_carry_a_trace() {
    let mut b = ProgramBuilder::new();
    let text = b.string("x");
    let script_index = b.reserve_function();
    let script = function(
        &mut b,
        "script",
        0,
        3,
        vec![
            Instr::LoadConst { dst: 1, k: text },
            Instr::LoadInt { dst: 2, value: 1 },
            Instr::Sub { dst: 1, a: 1, b: 2 },
            Instr::ReturnNil {},
        ],
    );
    b.set_function(script_index, script);
    let error = run(&b.finish(script_index), GcStress::Off).unwrap_err();
    assert_eq!(
        error,
        "hand.lox:1:1: runtime error: Operands must be numbers.\n  at script (hand.lox:1)"
    );
}

#[test]
fn verifier_rejects_out_of_range_register_with_offset() {
    let mut b = ProgramBuilder::new();
    let script_index = b.reserve_function();
    let script = function(
        &mut b,
        "script",
        0,
        2,
        vec![Instr::Move { dst: 5, src: 0 }, Instr::ReturnNil {}],
    );
    b.set_function(script_index, script);
    let program = b.finish(script_index);
    let error = run(&program, GcStress::Off).unwrap_err();
    assert!(error.starts_with("byte offset "), "{error}");
    assert!(error.contains("register r5 out of range"), "{error}");
}

#[test]
fn deep_recursion_is_a_stack_overflow_not_a_crash() {
    let mut b = ProgramBuilder::new();
    let slot = b.global("f");
    let f_index = b.reserve_function();
    let f = function(
        &mut b,
        "f",
        0,
        2,
        vec![
            Instr::GetGlobal { dst: 1, slot },
            Instr::Call { a: 1, argc: 0 },
            Instr::Return { src: 1 },
        ],
    );
    b.set_function(f_index, f);
    let script_index = b.reserve_function();
    let script = function(
        &mut b,
        "script",
        0,
        2,
        vec![
            Instr::Closure {
                dst: 1,
                proto: f_index,
            },
            Instr::DefineGlobal { src: 1, slot },
            Instr::Call { a: 1, argc: 0 },
            Instr::ReturnNil {},
        ],
    );
    b.set_function(script_index, script);
    let error = run(&b.finish(script_index), GcStress::Off).unwrap_err();
    assert!(error.contains("runtime error: Stack overflow."), "{error}");
}

#[test]
fn vm_type_is_usable_after_load() {
    // The Vm is the embedding API; make sure it is nameable from outside.
    fn takes(_: &Vm) {}
    let program = fib_program(1);
    let bytes = pvm_bytecode::encode(&program);
    let vm = pvm_runtime::load_bytes(
        &bytes,
        &pvm_runtime::Library::default(),
        Options::default(),
        Box::new(Vec::new()),
    )
    .expect("loads");
    takes(&vm);
}
