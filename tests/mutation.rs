//! Mutation sweep: a `.pbc` may come from anywhere, so every single-byte change
//! to a real program must be rejected by the loader or run to an end (success or
//! a runtime error) without a panic, an abort or unbounded memory.
//!
//! For a few programs compiled here, every byte offset is replaced by several
//! values; each mutant is first checked to fail the CRC-32, then re-sealed with a
//! fresh CRC-32 so it reaches the decoder and verifier, loaded in-process and, if
//! it loads, run with a small instruction budget and output to a sink. A counting
//! allocator caps the memory the test may hold, so a mutant that allocates without
//! bound aborts this test (naming the mutant) instead of exhausting the machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use pvm_runtime::{Options, RuntimeErrorKind};

/// Programs swept: the examples and corpus programs that between them use
/// classes, closures, exceptions and `finally`, lists, maps and modules. Each must
/// finish unmutated within [`BUDGET`] (so not `examples/fib.lox`).
const PROGRAMS: &[&str] = &[
    "examples/hello.lox",
    "examples/shapes.lox",
    "tests/lang/exceptions/finally_paths.lox",
    "tests/lang/maps/literals_and_indexing.lox",
    "tests/lang/lists/literals_and_indexing.lox",
    "tests/lang/closures/closures_in_loop_body_are_independent.lox",
    "tests/lang/modules/import_basics.lox",
];

/// Calls plus backward jumps a mutant may make: enough for every program above to
/// finish unmutated, small enough that a mutant turned into a loop ends quickly.
const BUDGET: u64 = 10_000;

/// Most bytes this test process may hold at once. The VM reserves a 32 MiB
/// register stack per load; everything else a sane mutant does is far smaller.
const MEMORY_CAP: usize = 1 << 30;

/// The replacement values tried at each offset, from the original byte.
const REPLACEMENTS: &[(&str, fn(u8) -> u8)] = &[
    ("b ^ 0x01", |b| b ^ 0x01),
    ("b ^ 0x80", |b| b ^ 0x80),
    ("0x00", |_| 0x00),
    ("0xff", |_| 0xff),
    ("b + 1", |b| b.wrapping_add(1)),
];

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// The mutant being run, for the message if it breaks the memory cap.
static CURRENT_OFFSET: AtomicUsize = AtomicUsize::new(usize::MAX);
static CURRENT_VALUE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, refusing any allocation that would take the process past
/// [`MEMORY_CAP`] (which aborts the test with the mutant's offset and value).
struct CappedAllocator;

impl CappedAllocator {
    fn admit(&self, size: usize) -> bool {
        let before = LIVE_BYTES.fetch_add(size, Ordering::Relaxed);
        if before.saturating_add(size) <= MEMORY_CAP {
            return true;
        }
        LIVE_BYTES.fetch_sub(size, Ordering::Relaxed);
        // Formatting integers to stderr does not allocate.
        let _ = writeln!(
            std::io::stderr(),
            "mutation sweep: the mutant at offset {} (byte set to {:#04x}) asked for {size} \
             bytes with {before} live, past the {MEMORY_CAP}-byte cap",
            CURRENT_OFFSET.load(Ordering::Relaxed),
            CURRENT_VALUE.load(Ordering::Relaxed),
        );
        false
    }
}

// SAFETY: every method forwards to `System` with the caller's layout and pointer
// unchanged; the counter only decides whether to forward, never what is returned.
unsafe impl GlobalAlloc for CappedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !self.admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout (we forward every call).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && !self.admit(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `dealloc`; `new_size` is the caller's, checked by them.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            if new_size > layout.size() {
                LIVE_BYTES.fetch_sub(new_size - layout.size(), Ordering::Relaxed);
            }
        } else if new_size < layout.size() {
            LIVE_BYTES.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CappedAllocator = CappedAllocator;

/// How the sweep's mutants ended.
#[derive(Debug, Default)]
struct Tally {
    tried: usize,
    rejected: usize,
    ran_ok: usize,
    runtime_error: usize,
    budget_exhausted: usize,
    peak_heap_bytes: usize,
    /// (program, offset, replacement, what went wrong)
    failures: Vec<String>,
}

fn repository_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn compile(relative: &str) -> Vec<u8> {
    let options = pvm_compiler::CompileOptions {
        native_modules: pvm_stdlib::native_module_names(),
        lox_modules: pvm_stdlib::LOX_MODULES,
    };
    let program = pvm_compiler::compile_file_with(&repository_file(relative), &options)
        .unwrap_or_else(|error| panic!("{relative} does not compile: {error}"));
    pvm_bytecode::encode(&program)
}

/// Writes the CRC-32 of everything before the last four bytes into them.
fn reseal(bytes: &mut [u8]) {
    let body_end = bytes.len() - 4;
    let checksum = crc32fast::hash(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&checksum.to_le_bytes());
}

fn options() -> Options {
    Options {
        instruction_budget: Some(BUDGET),
        ..Options::default()
    }
}

/// How a mutant ended, when it did not panic.
enum Outcome {
    Rejected,
    Ok,
    RuntimeError,
    BudgetExhausted,
}

/// Loads and runs `bytes`; a panic is returned as its message.
fn load_and_run(bytes: &[u8], tally: &mut Tally) -> Result<Outcome, String> {
    let library = pvm_stdlib::library();
    let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let Ok(mut vm) =
            pvm_runtime::load_bytes(bytes, &library, options(), Box::new(std::io::sink()))
        else {
            return (Outcome::Rejected, 0);
        };
        let outcome = match vm.run() {
            Ok(()) => Outcome::Ok,
            Err(error) if error.kind == RuntimeErrorKind::BudgetExhausted => {
                Outcome::BudgetExhausted
            }
            Err(_) => Outcome::RuntimeError,
        };
        (outcome, vm.peak_heap_bytes())
    }));
    match run {
        Ok((outcome, peak)) => {
            tally.peak_heap_bytes = tally.peak_heap_bytes.max(peak);
            Ok(outcome)
        }
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())),
    }
}

fn sweep(relative: &str, tally: &mut Tally) {
    let original = compile(relative);
    match load_and_run(&original, tally) {
        Ok(Outcome::Ok) => {}
        _ => panic!("{relative} must run to completion unmutated within the budget"),
    }
    // The last four bytes are the checksum, which re-sealing overwrites.
    for offset in 0..original.len() - 4 {
        for &(name, replace) in REPLACEMENTS {
            let value = replace(original[offset]);
            if value == original[offset] {
                continue;
            }
            let mut mutant = original.clone();
            mutant[offset] = value;
            if pvm_bytecode::decode(&mutant).is_ok() {
                tally.failures.push(format!(
                    "{relative} @ {offset} ({name}): the checksum missed a one-byte change"
                ));
            }
            reseal(&mut mutant);
            CURRENT_OFFSET.store(offset, Ordering::Relaxed);
            CURRENT_VALUE.store(usize::from(value), Ordering::Relaxed);
            tally.tried += 1;
            match load_and_run(&mutant, tally) {
                Ok(Outcome::Rejected) => tally.rejected += 1,
                Ok(Outcome::Ok) => tally.ran_ok += 1,
                Ok(Outcome::RuntimeError) => tally.runtime_error += 1,
                Ok(Outcome::BudgetExhausted) => tally.budget_exhausted += 1,
                Err(panic) => tally.failures.push(format!(
                    "{relative} @ {offset} ({name} = {value:#04x}): panicked: {panic}"
                )),
            }
        }
    }
}

#[test]
fn every_one_byte_mutant_is_rejected_or_runs_to_an_end() {
    let started = Instant::now();
    // Panics are counted and reported below; the default hook would print each one.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut tally = Tally::default();
    for relative in PROGRAMS {
        sweep(relative, &mut tally);
    }
    std::panic::set_hook(default_hook);

    println!(
        "mutation sweep: {} programs, {} mutants: {} rejected by the loader, {} ran ok, \
         {} ended in a runtime error, {} ran out of budget; peak heap {} bytes; {:.1} s",
        PROGRAMS.len(),
        tally.tried,
        tally.rejected,
        tally.ran_ok,
        tally.runtime_error,
        tally.budget_exhausted,
        tally.peak_heap_bytes,
        started.elapsed().as_secs_f64(),
    );
    assert!(
        tally.failures.is_empty(),
        "{} mutants broke pvm:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
