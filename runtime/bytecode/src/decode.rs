//! Reads a `.pbc` file back into a [`Program`], rejecting anything malformed with
//! the byte offset of the first bad field.
//!
//! Decoding checks the container: magic, version, checksum, lengths, tags, UTF-8,
//! opcodes. Whether the indices inside instructions make sense is the verifier's
//! job (in the runtime), which works on the decoded program.

use crate::encode::{CONSTANT_NUMBER, CONSTANT_STRING};
use crate::isa::Instr;
use crate::program::{Constant, Export, Function, LineEntry, Module, Program, UpvalueDesc};
use crate::{FORMAT_VERSION, MAGIC, OLDEST_READABLE_VERSION};

/// Why a `.pbc` file could not be decoded, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte offset {offset}: {problem}")]
pub struct DecodeError {
    pub offset: usize,
    pub problem: String,
}

/// A place in a decoded program, for errors found after decoding (by the
/// verifier) that must still name a byte offset in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Global(usize),
    Function(usize),
    Upvalue { function: usize, index: usize },
    Instruction { function: usize, pc: usize },
    LineTable(usize),
    Module(usize),
    Entry,
}

/// Where each decoded item started in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ByteMap {
    globals: Vec<usize>,
    functions: Vec<FunctionOffsets>,
    modules: Vec<usize>,
    entry: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FunctionOffsets {
    header: usize,
    upvalues: Vec<usize>,
    code: Vec<usize>,
    lines: usize,
}

impl ByteMap {
    /// The byte offset at which `location` starts (0 if the map does not know it,
    /// which only happens for programs that did not come from bytes).
    pub fn offset(&self, location: Location) -> usize {
        let function = |index: usize| self.functions.get(index);
        match location {
            Location::Global(index) => self.globals.get(index).copied(),
            Location::Function(index) => function(index).map(|f| f.header),
            Location::Upvalue {
                function: index,
                index: slot,
            } => function(index).and_then(|f| f.upvalues.get(slot).copied()),
            Location::Instruction {
                function: index,
                pc,
            } => function(index).and_then(|f| f.code.get(pc).copied()),
            Location::LineTable(index) => function(index).map(|f| f.lines),
            Location::Module(index) => self.modules.get(index).copied(),
            Location::Entry => Some(self.entry),
        }
        .unwrap_or(0)
    }
}

/// Decodes the bytes of a `.pbc` file.
pub fn decode(bytes: &[u8]) -> Result<Program, DecodeError> {
    decode_with_offsets(bytes).map(|(program, _)| program)
}

/// Decodes the bytes of a `.pbc` file and says where each item started.
pub fn decode_with_offsets(bytes: &[u8]) -> Result<(Program, ByteMap), DecodeError> {
    let mut map = ByteMap::default();
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(DecodeError {
            offset: 0,
            problem: "not a pvm bytecode file (bad magic number)".into(),
        });
    }
    let mut reader = Reader {
        bytes,
        pos: MAGIC.len(),
        end: bytes.len(),
        version: 0,
    };
    let version = reader.u32("format version")?;
    reader.version = version;
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(DecodeError {
            offset: MAGIC.len(),
            problem: format!(
                "unsupported format version {version} (this pvm reads versions \
                 {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
            ),
        });
    }
    let body_end = bytes
        .len()
        .checked_sub(4)
        .filter(|&end| end >= reader.pos)
        .ok_or(DecodeError {
            offset: bytes.len(),
            problem: "file truncated before its checksum".into(),
        })?;
    let stored = u32::from_le_bytes([
        bytes[body_end],
        bytes[body_end + 1],
        bytes[body_end + 2],
        bytes[body_end + 3],
    ]);
    let computed = crc32fast::hash(&bytes[..body_end]);
    if stored != computed {
        return Err(DecodeError {
            offset: body_end,
            problem: format!(
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): \
                 the file is corrupt or truncated"
            ),
        });
    }
    reader.end = body_end;

    let mut program = Program::default();
    let file_count = reader.count("file count", 4)?;
    for _ in 0..file_count {
        program.files.push(reader.text("file name")?);
    }

    let constant_count = reader.count("constant count", 5)?;
    for _ in 0..constant_count {
        let at = reader.pos;
        let constant = match reader.u8("constant tag")? {
            CONSTANT_NUMBER => Constant::Number(f64::from_bits(reader.u64("number constant")?)),
            CONSTANT_STRING => Constant::String(reader.text("string constant")?),
            tag => return Err(reader.error_at(at, format!("unknown constant tag {tag}"))),
        };
        program.constants.push(constant);
    }

    let global_count = reader.count("global count", 4)?;
    for _ in 0..global_count {
        map.globals.push(reader.pos);
        program.globals.push(reader.u32("global name")?);
    }

    let function_count = reader.count("function count", 16)?;
    for _ in 0..function_count {
        let mut offsets = FunctionOffsets {
            header: reader.pos,
            ..FunctionOffsets::default()
        };
        program
            .functions
            .push(read_function(&mut reader, &mut offsets)?);
        map.functions.push(offsets);
    }
    let module_count = reader.count("module count", 12)?;
    for _ in 0..module_count {
        map.modules.push(reader.pos);
        let name = reader.u32("module name")?;
        let function = reader.u32("module function")?;
        let export_count = reader.count("export count", 8)?;
        let mut exports = Vec::with_capacity(export_count);
        for _ in 0..export_count {
            exports.push(Export {
                name: reader.u32("export name")?,
                slot: reader.u32("export slot")?,
            });
        }
        program.modules.push(Module {
            name,
            function,
            exports,
        });
    }
    map.entry = reader.pos;
    program.entry = reader.u32("entry function")?;
    if reader.pos != reader.end {
        return Err(reader.error_at(
            reader.pos,
            format!(
                "{} unexpected bytes after the program",
                reader.end - reader.pos
            ),
        ));
    }
    Ok((program, map))
}

/// The format version that introduced the instruction with opcode `opcode`: a file
/// of an older version that uses it was not written by a pvm of that version.
fn introduced_in(opcode: u8) -> u32 {
    const VERSION_3: [u8; 2] = [
        Instr::IncJumpIfLtK {
            a: 0,
            step: 0,
            k: 0,
            offset: 0,
        }
        .opcode(),
        Instr::IncJumpIfLeK {
            a: 0,
            step: 0,
            k: 0,
            offset: 0,
        }
        .opcode(),
    ];
    if VERSION_3.contains(&opcode) {
        3
    } else {
        OLDEST_READABLE_VERSION
    }
}

fn read_function(
    reader: &mut Reader,
    offsets: &mut FunctionOffsets,
) -> Result<Function, DecodeError> {
    let name = reader.u32("function name")?;
    let file = reader.u32("function file")?;
    let arity = reader.u8("function arity")?;
    let num_regs = reader.u16("register count")?;
    let upvalue_count = reader.count("upvalue count", 3)?;
    let mut upvalues = Vec::with_capacity(upvalue_count);
    for _ in 0..upvalue_count {
        let at = reader.pos;
        offsets.upvalues.push(at);
        let is_local = match reader.u8("upvalue kind")? {
            0 => false,
            1 => true,
            other => return Err(reader.error_at(at, format!("bad upvalue kind {other}"))),
        };
        upvalues.push(UpvalueDesc {
            is_local,
            index: reader.u16("upvalue index")?,
        });
    }
    let code_len = reader.count("code length", 1)?;
    let mut code = Vec::with_capacity(code_len);
    let mut values = Vec::with_capacity(4);
    for _ in 0..code_len {
        let at = reader.pos;
        offsets.code.push(at);
        let opcode = reader.u8("opcode")?;
        let kinds = Instr::operand_kinds(opcode)
            .ok_or_else(|| reader.error_at(at, format!("unknown opcode {opcode:#04x}")))?;
        let since = introduced_in(opcode);
        if reader.version < since {
            return Err(reader.error_at(
                at,
                format!(
                    "opcode {opcode:#04x} needs format version {since}, the file says {}",
                    reader.version
                ),
            ));
        }
        values.clear();
        for kind in kinds {
            values.push(reader.operand(kind.width())?);
        }
        let instr = Instr::from_parts(opcode, &values)
            .ok_or_else(|| reader.error_at(at, "malformed instruction".into()))?;
        code.push(instr);
    }
    offsets.lines = reader.pos;
    let line_count = reader.count("line-table length", 12)?;
    let mut lines = Vec::with_capacity(line_count);
    for _ in 0..line_count {
        lines.push(LineEntry {
            pc: reader.u32("line-table pc")?,
            line: reader.u32("line number")?,
            column: reader.u32("column number")?,
        });
    }
    Ok(Function {
        name,
        file,
        arity,
        num_regs,
        upvalues,
        code,
        lines,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    /// The file's format version, once read.
    version: u32,
}

impl Reader<'_> {
    fn error_at(&self, offset: usize, problem: String) -> DecodeError {
        DecodeError { offset, problem }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], DecodeError> {
        if self.end - self.pos < n {
            return Err(self.error_at(self.pos, format!("file truncated inside {what}")));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let mut word = [0u8; 8];
        word.copy_from_slice(b);
        Ok(u64::from_le_bytes(word))
    }

    /// Reads an operand of `width` bytes, sign-extending 4-byte operands so that
    /// jump offsets and immediates keep their sign.
    fn operand(&mut self, width: usize) -> Result<i64, DecodeError> {
        Ok(match width {
            1 => i64::from(self.u8("operand")?),
            2 => i64::from(self.u16("operand")?),
            _ => i64::from(self.u32("operand")? as i32),
        })
    }

    /// Reads a table length and checks that the rest of the file could hold that
    /// many entries of at least `min_entry_size` bytes, so a corrupt length cannot
    /// make the decoder reserve gigabytes.
    fn count(&mut self, what: &str, min_entry_size: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let count = self.u32(what)? as usize;
        if count.saturating_mul(min_entry_size) > self.end - self.pos {
            return Err(self.error_at(
                at,
                format!("{what} {count} is larger than the rest of the file can hold"),
            ));
        }
        Ok(count)
    }

    fn text(&mut self, what: &str) -> Result<String, DecodeError> {
        let len = self.count(what, 1)?;
        let at = self.pos;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            self.error_at(
                at + e.utf8_error().valid_up_to(),
                format!("{what} is not valid UTF-8"),
            )
        })
    }
}
