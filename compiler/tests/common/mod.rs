//! Helpers shared by the codegen test files: compiling a snippet and rendering code
//! compactly (mnemonic and operands), so expectations show register use exactly without
//! depending on the disassembler's layout.

// Each test file uses its own subset of the helpers.
#![allow(dead_code)]

use pvm_bytecode::{Instr, OperandKind, Program};
use pvm_compiler::compile_source;

pub fn compile(source: &str) -> Program {
    compile_source("t.lox", source).unwrap_or_else(|error| panic!("{error}"))
}

pub fn listing(code: &[Instr]) -> String {
    code.iter()
        .map(|instr| {
            let operands: Vec<String> = instr
                .operands()
                .iter()
                .map(|operand| match operand.kind {
                    OperandKind::Reg | OperandKind::Pair => format!("r{}", operand.value),
                    OperandKind::Span | OperandKind::PairSpan => operand.value.to_string(),
                    OperandKind::Module => format!("m{}", operand.value),
                    OperandKind::Const
                    | OperandKind::Name
                    | OperandKind::NumConst
                    | OperandKind::NumConst16 => format!("#{}", operand.value),
                    OperandKind::Global => format!("g{}", operand.value),
                    OperandKind::Upval => format!("u{}", operand.value),
                    OperandKind::Proto => format!("fn{}", operand.value),
                    OperandKind::Count
                    | OperandKind::Jump
                    | OperandKind::Jump16
                    | OperandKind::Imm => operand.value.to_string(),
                })
                .collect();
            format!("{} {}", instr.mnemonic(), operands.join(" "))
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The listing of function `index` of the compiled `source`.
pub fn function_listing(source: &str, index: usize) -> String {
    listing(&compile(source).functions[index].code)
}
