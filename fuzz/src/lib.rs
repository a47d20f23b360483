//! What the fuzz targets share: how to compile and run a program the way `pvm`
//! does (the standard library, no permissions, an instruction budget so that no
//! input can loop forever) and a capped output sink whose contents can be
//! compared. Kept here so the targets themselves stay a few lines each.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use pvm_runtime::{Options, RuntimeError, Vm};

/// Calls plus backward jumps a fuzzed program may make. Small, so an input runs
/// in milliseconds and (until the runtime has a heap cap) cannot allocate much.
/// The budget bounds iterations, not work: a loop that grows a string by one
/// character per iteration does quadratic work, and at 100,000 iterations one
/// such input took 40 s under AddressSanitizer (and libFuzzer called it an OOM,
/// from ASan's quarantine), so 10,000.
pub const BUDGET: u64 = 10_000;

/// The compile options `pvm compile` uses: the standard library's modules.
pub fn compile_options() -> pvm_compiler::CompileOptions {
    pvm_compiler::CompileOptions {
        native_modules: pvm_stdlib::native_module_names(),
        lox_modules: pvm_stdlib::LOX_MODULES,
    }
}

/// Default options (no permissions) with the fuzzing budget.
pub fn options() -> Options {
    Options {
        instruction_budget: Some(BUDGET),
        ..Options::default()
    }
}

/// Compiles `source` as `fuzz.lox` with the standard modules.
pub fn compile(source: &str) -> Result<pvm_bytecode::Program, pvm_compiler::CompileError> {
    pvm_compiler::compile_source_with("fuzz.lox", source, &compile_options())
}

/// Replaces the last four bytes with the CRC-32 of everything before them, so a
/// mutated file passes the checksum and reaches the decoder and verifier.
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < 4 {
        return;
    }
    let body_end = bytes.len() - 4;
    let checksum = crc32fast::hash(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&checksum.to_le_bytes());
}

/// Bytes of output kept for comparison; the rest is only counted and hashed.
const KEPT_OUTPUT: usize = 1 << 16;

/// What a program printed: its first bytes, its length and a CRC-32 of all of it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Printed {
    pub head: Vec<u8>,
    pub length: u64,
    pub checksum: u32,
}

#[derive(Default)]
struct Capture {
    printed: Printed,
    hasher: crc32fast::Hasher,
}

/// An output sink that keeps what it is given (capped), for comparing runs.
#[derive(Clone, Default)]
pub struct CapturedOutput(Rc<RefCell<Capture>>);

impl CapturedOutput {
    /// What has been written so far.
    pub fn printed(&self) -> Printed {
        let capture = self.0.borrow();
        Printed {
            head: capture.printed.head.clone(),
            length: capture.printed.length,
            checksum: capture.hasher.clone().finalize(),
        }
    }
}

impl Write for CapturedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut capture = self.0.borrow_mut();
        let room = KEPT_OUTPUT.saturating_sub(capture.printed.head.len());
        capture
            .printed
            .head
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
        capture.printed.length += bytes.len() as u64;
        capture.hasher.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a loaded program to its end; its result is what the targets compare.
pub fn run(mut vm: Vm) -> Result<(), RuntimeError> {
    vm.run()
}
