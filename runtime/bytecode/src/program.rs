//! The in-memory form of a compiled program: what the compiler builds, the
//! `.pbc` encoder writes, the decoder reads back, and the runtime loads.
//!
//! A program is one flat unit, like a jar: a constant pool shared by every
//! function, a table of global slots, the function prototypes, and the index of
//! the entry function. Everything refers to everything else by index, so the
//! structure has no pointers and encodes byte-for-byte deterministically.

use crate::isa::Instr;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use std::hash::BuildHasher;

/// A constant-pool entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Number(f64),
    String(String),
}

/// How a closure obtains one of its upvalues when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpvalueDesc {
    /// True: capture register `index` of the enclosing frame. False: share the
    /// enclosing closure's upvalue number `index`.
    pub is_local: bool,
    pub index: u16,
}

/// The source position of the instructions from `pc` up to the next entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineEntry {
    pub pc: u32,
    pub line: u32,
    pub column: u32,
}

/// A function prototype: code plus what the runtime needs to call it.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// String constant holding the function's name (`script` for top-level code).
    pub name: u32,
    /// Index into [`Program::files`] of the source file the function came from.
    pub file: u32,
    pub arity: u8,
    /// Registers the function uses, R0 included; at most [`crate::MAX_REGISTERS`].
    pub num_regs: u16,
    pub upvalues: Vec<UpvalueDesc>,
    pub code: Vec<Instr>,
    /// Sorted by `pc`, first entry at pc 0 when code is non-empty.
    pub lines: Vec<LineEntry>,
}

impl Function {
    /// The source position of instruction `pc`, if the line table covers it.
    pub fn position(&self, pc: usize) -> Option<(u32, u32)> {
        let after = self.lines.partition_point(|entry| entry.pc as usize <= pc);
        let entry = self.lines.get(after.checked_sub(1)?)?;
        Some((entry.line, entry.column))
    }
}

/// A name a source module exposes, and the global slot that holds its value. The
/// module object reads the slot live, so later assignments inside the module
/// are visible through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    pub name: u32,
    pub slot: u32,
}

/// A source module bundled into the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// String constant: the module's name (the last path segment, or the standard
    /// module's name).
    pub name: u32,
    /// The function holding the module's top-level code.
    pub function: u32,
    pub exports: Vec<Export>,
}

/// A whole program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// Source file names, relative to the entry file's folder.
    pub files: Vec<String>,
    pub constants: Vec<Constant>,
    /// For each global slot, the string constant holding its name.
    pub globals: Vec<u32>,
    pub functions: Vec<Function>,
    pub modules: Vec<Module>,
    /// Index into `functions` of the top-level code that runs first.
    pub entry: u32,
}

impl Program {
    /// The text of string constant `index`, if it is one.
    pub fn string(&self, index: u32) -> Option<&str> {
        match self.constants.get(index as usize)? {
            Constant::String(text) => Some(text),
            Constant::Number(_) => None,
        }
    }
}

/// Helps a compiler fill a [`Program`]: deduplicates constants and global names so
/// that identical sources give identical pools.
///
/// The maps only answer lookups and are never iterated, so their hash order (the
/// default hasher is randomly seeded) cannot reach the program: indices follow the
/// order of first use.
#[derive(Debug, Default)]
pub struct ProgramBuilder {
    program: Program,
    /// Number constants, by bit pattern.
    numbers: HashMap<u64, u32>,
    /// String constants, as (hash of the text, index into the pool): the text itself is
    /// only in the pool, so adding a string allocates it once, and growing the table
    /// needs no rehashing of texts.
    strings: HashTable<(u64, u32)>,
    /// Hashes the texts in `strings`.
    hasher: DefaultHashBuilder,
    global_slots: HashMap<u32, u32>,
    file_indices: HashMap<String, u32>,
}

impl ProgramBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The constant index of number `value`, added if new (deduplicated by bits,
    /// so `0` and `-0` stay distinct).
    pub fn number(&mut self, value: f64) -> u32 {
        let constants = &mut self.program.constants;
        *self.numbers.entry(value.to_bits()).or_insert_with(|| {
            constants.push(Constant::Number(value));
            (constants.len() - 1) as u32
        })
    }

    /// The constant index of string `text`, added if new.
    pub fn string(&mut self, text: &str) -> u32 {
        let hash = self.hasher.hash_one(text);
        let constants = &mut self.program.constants;
        let entry = self.strings.entry(
            hash,
            |&(entry_hash, index)| {
                entry_hash == hash
                    && matches!(&constants[index as usize], Constant::String(s) if s == text)
            },
            |&(entry_hash, _)| entry_hash,
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => found.get().1,
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let index = constants.len() as u32;
                constants.push(Constant::String(text.to_owned()));
                vacant.insert((hash, index));
                index
            }
        }
    }

    /// The global slot named `name`, added if new.
    pub fn global(&mut self, name: &str) -> u32 {
        let name_index = self.string(name);
        let globals = &mut self.program.globals;
        *self.global_slots.entry(name_index).or_insert_with(|| {
            globals.push(name_index);
            (globals.len() - 1) as u32
        })
    }

    /// A new global slot named `name`, even if a slot of that name exists: each
    /// source module of a program has its own top-level namespace.
    pub fn add_global(&mut self, name: &str) -> u32 {
        let name_index = self.string(name);
        self.program.globals.push(name_index);
        (self.program.globals.len() - 1) as u32
    }

    /// The string constant naming global slot `slot` (from [`Self::global`] or
    /// [`Self::add_global`]).
    pub fn global_name(&self, slot: u32) -> u32 {
        self.program.globals[slot as usize]
    }

    /// The index of source file `name`, added if new.
    pub fn file(&mut self, name: &str) -> u32 {
        let files = &mut self.program.files;
        *self.file_indices.entry(name.to_owned()).or_insert_with(|| {
            files.push(name.to_owned());
            (files.len() - 1) as u32
        })
    }

    /// Reserves a function index, so that a function can refer to prototypes that
    /// are finished later (nested functions finish before their parent).
    pub fn reserve_function(&mut self) -> u32 {
        self.program.functions.push(Function {
            name: 0,
            file: 0,
            arity: 0,
            num_regs: 1,
            upvalues: Vec::new(),
            code: Vec::new(),
            lines: Vec::new(),
        });
        (self.program.functions.len() - 1) as u32
    }

    /// Makes room for `additional` more functions, for a compiler that knows how many
    /// it will add: the table then never has to move.
    pub fn reserve_functions(&mut self, additional: usize) {
        self.program.functions.reserve(additional);
    }

    /// Stores a finished function at an index from [`Self::reserve_function`].
    pub fn set_function(&mut self, index: u32, function: Function) {
        self.program.functions[index as usize] = function;
    }

    /// Adds a module and returns its index.
    pub fn add_module(&mut self, module: Module) -> u32 {
        self.program.modules.push(module);
        (self.program.modules.len() - 1) as u32
    }

    /// Replaces a module added earlier (its exports are known only once its top
    /// level has been compiled).
    pub fn set_module(&mut self, index: u32, module: Module) {
        self.program.modules[index as usize] = module;
    }

    /// Finishes the program with `entry` as its top-level function.
    pub fn finish(mut self, entry: u32) -> Program {
        self.program.entry = entry;
        self.program
    }
}
