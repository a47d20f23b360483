//! pvm's portable bytecode: the instruction set, the in-memory [`Program`], and the
//! `.pbc` file format that carries it between `pvm compile` and `pvm run`.
//!
//! This crate is the only thing the compiler and the runtime share. It knows
//! nothing about values, the heap or execution, so the compiler never depends on
//! the interpreter, and the runtime never needs the front end.

mod decode;
mod disasm;
mod encode;
pub mod isa;
mod program;

pub use decode::{decode, decode_with_offsets, ByteMap, DecodeError, Location};
pub use disasm::disassemble;
pub use encode::encode;
pub use isa::{
    Instr, Operand, OperandKind, Operands, MAX_ARITY, MAX_OPERANDS, MAX_REGISTERS, MAX_UPVALUES,
};
pub use program::{
    Constant, Export, Function, LineEntry, Module, Program, ProgramBuilder, UpvalueDesc,
};

/// The first four bytes of every `.pbc` file.
pub const MAGIC: [u8; 4] = *b"PVMB";

/// The format version this build writes. Any change to the encoding, the
/// instruction set or the meaning of an instruction bumps it.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build reads. Version 3 only added instructions
/// (the fused loop steps `incjltk` and friends), so a version 2 file is a valid
/// version 3 file that happens not to use them.
pub const OLDEST_READABLE_VERSION: u32 = 2;
