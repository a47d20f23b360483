//! Heap object layouts. Every object starts with a [`Header`] (`#[repr(C)]`, first
//! field), so a `*mut Header` can be cast to the concrete type its `kind` names.
//!
//! Objects are created and freed only by [`crate::heap::Heap`]; everything here
//! is plain data plus the typed accessors the interpreter uses.

use crate::value::Value;
use hashbrown::HashMap;
use pvm_bytecode::{Instr, LineEntry, UpvalueDesc};
use std::cell::Cell;
use std::hash::{BuildHasherDefault, Hash, Hasher};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ObjKind {
    String,
    Closure,
    Upvalue,
    Class,
    Instance,
    BoundMethod,
    Native,
    List,
    Map,
    Module,
}

/// The part every object shares: the sweep list link, the kind and the mark.
#[repr(C)]
pub struct Header {
    pub(crate) next: *mut Header,
    pub kind: ObjKind,
    pub(crate) marked: bool,
}

impl Header {
    pub(crate) fn new(kind: ObjKind) -> Header {
        Header {
            next: std::ptr::null_mut(),
            kind,
            marked: false,
        }
    }
}

/// An immutable, interned string. Interning makes equality a pointer compare and
/// lets field tables hash by identity.
#[repr(C)]
pub struct ObjString {
    pub header: Header,
    pub hash: u32,
    /// Number of characters (Unicode scalar values); equal to `text.len()` exactly
    /// when the string is ASCII, which makes character indexing O(1).
    pub chars: usize,
    pub text: Box<str>,
}

impl ObjString {
    #[inline]
    pub fn is_ascii(&self) -> bool {
        self.chars == self.text.len()
    }

    /// The byte offset of character `index` (`text.len()` for `index == chars`).
    pub fn byte_offset(&self, index: usize) -> usize {
        if self.is_ascii() {
            return index.min(self.text.len());
        }
        self.text
            .char_indices()
            .nth(index)
            .map_or(self.text.len(), |(offset, _)| offset)
    }
}

/// A function prototype as the runtime keeps it: loaded once, never collected,
/// owned by the loaded program (closures point into it).
pub struct Proto {
    pub name: *mut ObjString,
    pub file: u32,
    pub arity: u8,
    pub num_regs: u16,
    pub upvalues: Box<[UpvalueDesc]>,
    pub code: Box<[Instr]>,
    pub lines: Box<[LineEntry]>,
    pub index: u32,
    /// One inline cache per instruction, used by the property instructions
    /// (`getprop`, `setprop`, `invoke`): the table position where the name was found
    /// last time. A hint only, checked before use (see [`crate::table::Table`]).
    pub hints: Box<[Cell<u8>]>,
}

impl Proto {
    /// Line and column of instruction `pc` (0, 0 when the line table has none).
    pub fn position(&self, pc: usize) -> (u32, u32) {
        let after = self.lines.partition_point(|entry| entry.pc as usize <= pc);
        match after.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some(entry) => (entry.line, entry.column),
            None => (0, 0),
        }
    }
}

#[repr(C)]
pub struct ObjClosure {
    pub header: Header,
    pub proto: *const Proto,
    pub upvalues: Box<[*mut ObjUpvalue]>,
}

/// A captured variable. While open, `location` points at a live stack slot; when
/// the slot's frame ends, the value moves into `closed` and `location` points there.
#[repr(C)]
pub struct ObjUpvalue {
    pub header: Header,
    pub location: *mut Value,
    pub closed: Value,
    /// Next open upvalue, further down the stack (the open list is sorted).
    pub next_open: *mut ObjUpvalue,
}

/// Field and method tables are keyed by interned string pointers, hashed by the
/// string's precomputed hash so lookups never touch the characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StrKey(pub *mut ObjString);

impl Hash for StrKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // SAFETY: keys are only built from live interned strings, and tables that
        // hold them are traced, so the string outlives the key.
        state.write_u32(unsafe { (*self.0).hash });
    }
}

/// A hasher that passes the precomputed string hash straight through.
#[derive(Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        // Spread the 32-bit hash over the high bits too: hashbrown takes its
        // control byte from the top seven bits.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

pub use crate::table::Table;

#[repr(C)]
pub struct ObjClass {
    pub header: Header,
    pub name: *mut ObjString,
    pub methods: Table,
    /// The `init` method, cached because every construction looks it up.
    pub initializer: Value,
    /// The most fields an instance of this class has had: new instances reserve
    /// that much, so filling them in `init` allocates once, exactly sized.
    pub field_hint: usize,
}

#[repr(C)]
pub struct ObjInstance {
    pub header: Header,
    pub class: *mut ObjClass,
    pub fields: Table,
}

/// A method together with the receiver it was read from (`var f = obj.method;`).
/// The method is a closure, or a native method of a built-in type.
#[repr(C)]
pub struct ObjBoundMethod {
    pub header: Header,
    pub receiver: Value,
    pub method: Value,
}

/// The signature of a function implemented in Rust. Arguments are a copy of the
/// caller's argument registers; the result replaces the callee register.
/// For a method of a built-in type, the receiver comes first in the slice.
pub type NativeFn = fn(&mut crate::Vm, &[Value]) -> Result<Value, crate::NativeError>;

#[repr(C)]
pub struct ObjNative {
    pub header: Header,
    pub name: *mut ObjString,
    /// Exact argument count (not counting a method's receiver), or `None` for
    /// natives that check their own.
    pub arity: Option<u8>,
    /// True for methods: the receiver is passed as the first argument.
    pub is_method: bool,
    pub function: NativeFn,
}

#[repr(C)]
pub struct ObjList {
    pub header: Header,
    pub items: Vec<Value>,
}

#[repr(C)]
pub struct ObjMap {
    pub header: Header,
    pub map: crate::map::ValueMap,
}

/// A module object. Source modules read their names live from global slots;
/// native modules hold their members directly.
#[repr(C)]
pub struct ObjModule {
    pub header: Header,
    pub name: *mut ObjString,
    pub slots: HashMap<StrKey, u32, BuildHasherDefault<PassThroughHasher>>,
    pub values: Table,
}

/// FNV-1a, 32 bits: cheap, and identical on every host (no random seed), so
/// nothing observable can depend on where a program runs.
pub fn hash_str(text: &str) -> u32 {
    let mut hash: u32 = 2_166_136_261;
    for &byte in text.as_bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
}
