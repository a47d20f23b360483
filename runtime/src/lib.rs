//! pvm's runtime: loads a verified [`pvm_bytecode::Program`] and runs it on a
//! register-based interpreter with a precise, tracing garbage collector.
//!
//! Module map: `value` (NaN-boxed values), `object` (heap layouts), `heap`
//! (allocation, interning, mark and sweep), `gc` (roots), `stack` (the register
//! stack), `verify` (what must hold before code runs), `vm` (loading and shared
//! operations), `interp` (the dispatch loop), `alloc` and `print` (object
//! construction and display). The runtime never ends the process and never
//! prints diagnostics itself: it returns errors to its host.

mod alloc;
mod builtins;
mod callback;
mod calls;
mod error;
mod exceptions;
mod gc;
mod heap;
mod interp;
mod map;
pub mod object;
mod print;
mod stack;
mod table;
pub mod value;
pub mod verify;
mod vm;

pub use error::{native_error, LoadError, NativeError, RuntimeError, RuntimeErrorKind, TraceLine};
pub use heap::GcStress;
pub use value::Value;
pub use vm::{
    Library, NativeDef, NativeMember, NativeModuleDef, Options, Permissions, Vm,
    DEFAULT_MAX_CALL_DEPTH, DEFAULT_MAX_HEAP, MAX_STRING_BYTES,
};

/// Decodes, verifies and loads the bytes of a `.pbc` file.
pub fn load_bytes(
    bytes: &[u8],
    library: &Library,
    options: Options,
    out: Box<dyn std::io::Write>,
) -> Result<Vm, LoadError> {
    let (program, map) = pvm_bytecode::decode_with_offsets(bytes)?;
    Vm::load(program, &map, library, options, out)
}
