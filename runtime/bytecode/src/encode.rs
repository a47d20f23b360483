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
    let mut out = Writer::default();
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

fn encode_instr(out: &mut Writer, instr: &Instr) {
    out.u8(instr.opcode());
    for operand in instr.operands() {
        let bytes = operand.value.to_le_bytes();
        out.bytes(&bytes[..operand.kind.width()]);
    }
}

#[derive(Default)]
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
