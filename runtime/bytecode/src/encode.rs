//! Writes a [`Program`] as a `.pbc` file: explicit little-endian fields in a fixed
//! order, sealed by a CRC-32 of every byte before it.
//!
//! The layout is specified in `spec/bytecode.md`; [`crate::decode`] is its mirror
//! and the two must change together (bump [`crate::FORMAT_VERSION`] when they do).

use crate::isa::Instr;
use crate::program::{Constant, Program};
use crate::{FORMAT_VERSION, MAGIC};

/// Tag bytes of constant-pool entries.
pub(crate) const CONSTANT_NUMBER: u8 = 0;
pub(crate) const CONSTANT_STRING: u8 = 1;

/// Encodes `program` as the bytes of a `.pbc` file.
pub fn encode(program: &Program) -> Vec<u8> {
    // Sized exactly up front: a large program's file is megabytes, which growing by
    // doubling would copy several times over and leave half unused.
    let mut out = Writer {
        buf: Vec::with_capacity(encoded_len(program)),
    };
    out.bytes(&MAGIC);
    out.u32(FORMAT_VERSION);

    out.len(program.files.len());
    for file in &program.files {
        out.text(file);
    }

    out.len(program.constants.len());
    for constant in &program.constants {
        match constant {
            Constant::Number(value) => {
                out.u8(CONSTANT_NUMBER);
                out.bytes(&value.to_bits().to_le_bytes());
            }
            Constant::String(text) => {
                out.u8(CONSTANT_STRING);
                out.text(text);
            }
        }
    }

    out.len(program.globals.len());
    for &name in &program.globals {
        out.u32(name);
    }

    out.len(program.functions.len());
    for function in &program.functions {
        out.u32(function.name);
        out.u32(function.file);
        out.u8(function.arity);
        out.u16(function.num_regs);
        out.len(function.upvalues.len());
        for upvalue in &function.upvalues {
            out.u8(upvalue.is_local as u8);
            out.u16(upvalue.index);
        }
        out.len(function.code.len());
        for instr in &function.code {
            encode_instr(&mut out, instr);
        }
        out.len(function.lines.len());
        for entry in &function.lines {
            out.u32(entry.pc);
            out.u32(entry.line);
            out.u32(entry.column);
        }
    }
    out.len(program.modules.len());
    for module in &program.modules {
        out.u32(module.name);
        out.u32(module.function);
        out.len(module.exports.len());
        for export in &module.exports {
            out.u32(export.name);
            out.u32(export.slot);
        }
    }
    out.u32(program.entry);

    let checksum = crc32fast::hash(&out.buf);
    out.u32(checksum);
    out.buf
}

/// The length of `encode(program)`, field by field in the same order; a mistake here would
/// only cost a reallocation (and fail the test below).
fn encoded_len(program: &Program) -> usize {
    const U8: usize = 1;
    const U16: usize = 2;
    const U32: usize = 4;
    let text = |text: &str| U32 + text.len();
    let header = MAGIC.len() + U32;
    let files = U32 + program.files.iter().map(|file| text(file)).sum::<usize>();
    let constants = U32
        + program
            .constants
            .iter()
            .map(|constant| {
                U8 + match constant {
                    Constant::Number(_) => 8,
                    Constant::String(string) => text(string),
                }
            })
            .sum::<usize>();
    let globals = U32 + U32 * program.globals.len();
    let functions = U32
        + program
            .functions
            .iter()
            .map(|function| {
                let fixed = U32 + U32 + U8 + U16;
                let upvalues = U32 + (U8 + U16) * function.upvalues.len();
                let code = U32 + function.code.iter().map(instr_len).sum::<usize>();
                let lines = U32 + 3 * U32 * function.lines.len();
                fixed + upvalues + code + lines
            })
            .sum::<usize>();
    let modules = U32
        + program
            .modules
            .iter()
            .map(|module| U32 + U32 + U32 + 2 * U32 * module.exports.len())
            .sum::<usize>();
    let entry_and_checksum = U32 + U32;
    header + files + constants + globals + functions + modules + entry_and_checksum
}

/// The encoded length of `instr`: its opcode byte and its operands' widths, from the
/// opcode's static operand list (no operand values needed).
fn instr_len(instr: &Instr) -> usize {
    let operands = Instr::operand_kinds(instr.opcode()).unwrap_or(&[]);
    1 + operands.iter().map(|kind| kind.width()).sum::<usize>()
}

fn encode_instr(out: &mut Writer, instr: &Instr) {
    out.u8(instr.opcode());
    for operand in instr.operands() {
        let bytes = operand.value.to_le_bytes();
        out.bytes(&bytes[..operand.kind.width()]);
    }
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }
    fn u16(&mut self, value: u16) {
        self.bytes(&value.to_le_bytes());
    }
    fn u32(&mut self, value: u32) {
        self.bytes(&value.to_le_bytes());
    }
    /// Lengths are u32 on disk; the compiler never builds a table that large, and
    /// a program that did could not be loaded back, so saturating is harmless.
    fn len(&mut self, len: usize) {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX));
    }
    fn text(&mut self, text: &str) {
        self.len(text.len());
        self.bytes(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{Export, Function, LineEntry, Module, UpvalueDesc};

    #[test]
    fn encoded_len_is_exact() {
        let program = Program {
            files: vec!["main.lox".into(), "lib/util.lox".into()],
            constants: vec![Constant::Number(1.5), Constant::String("héllo".into())],
            globals: vec![1, 1],
            functions: vec![Function {
                name: 1,
                file: 0,
                arity: 2,
                num_regs: 4,
                upvalues: vec![UpvalueDesc {
                    is_local: true,
                    index: 3,
                }],
                code: vec![
                    Instr::LoadConst { dst: 1, k: 0 },
                    Instr::IncJumpIfLtK {
                        a: 1,
                        step: 0,
                        k: 0,
                        offset: -1,
                    },
                    Instr::ReturnNil {},
                ],
                lines: vec![LineEntry {
                    pc: 0,
                    line: 1,
                    column: 1,
                }],
            }],
            modules: vec![Module {
                name: 1,
                function: 0,
                exports: vec![Export { name: 1, slot: 0 }],
            }],
            entry: 0,
        };
        assert_eq!(encoded_len(&program), encode(&program).len());
        assert_eq!(
            encoded_len(&Program::default()),
            encode(&Program::default()).len()
        );
    }
}
