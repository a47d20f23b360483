//! Mutation sweep: a `.pbc` may come from anywhere, so every single-byte change
//! to a real program must be rejected by the loader or run to an end (success or
//! a runtime error) without a panic, an abort or unbounded memory.
//!
//! For thirteen programs compiled here, and three with subclasses in a test of
//! their own, every byte offset is replaced by ten
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
/// classes, inheritance and `super`, closures and upvalues, exceptions and
/// `finally`, lists, maps, `for in`, modules and the collector, plus
/// [`LIBRARY_TOUR`]. Each must finish unmutated within [`BUDGET`] (so not
/// `examples/fib.lox`).
const PROGRAMS: &[&str] = &[
    "examples/hello.lox",
    "tests/lang/exceptions/finally_paths.lox",
    "tests/lang/exceptions/handler_closes_upvalues.lox",
    "tests/lang/maps/literals_and_indexing.lox",
    "tests/lang/lists/literals_and_indexing.lox",
    "tests/lang/loops/for_in.lox",
    "tests/lang/loops/break_closes_upvalues.lox",
    "tests/lang/closures/closures_in_loop_body_are_independent.lox",
    "tests/lang/function_expressions/function_expressions.lox",
    "tests/lang/compound_assignment/evaluates_target_once.lox",
    "tests/lang/gc/mixed_object_graph_with_closures_and_classes.lox",
    "tests/lang/modules/import_basics.lox",
];

/// Programs with subclasses, swept by a test of their own: one-byte mutants of
/// these once crashed pvm (a class inheriting from itself made `inherit` insert
/// into the method table it was iterating; fixed, and tests/regressions.rs keeps
/// the minimal input).
const PROGRAMS_WITH_SUBCLASSES: &[&str] = &[
    "examples/shapes.lox",
    "tests/lang/super/super_in_nested_closure.lox",
    "tests/lang/inheritance/three_levels.lox",
];

/// A program that calls into the standard library and the built-in methods, with
/// callbacks (`sort`, `map`, `filter`, `reduce`), so mutants reach natives with
/// wrong arguments and re-entrant calls.
const LIBRARY_TOUR: &str = r#"
import "math";
import "random";
import "os";
var xs = [5, 3, 8, 1];
xs.sort();
print xs.map(fun (x) { return x * 2; }).filter(fun (x) { return x > 4; })
  .reduce(fun (a, b) { return a + b; }, 0);
xs.sort(fun (a, b) { return b - a; });
print xs.join(",") + str(xs.indexOf(8)) + str(xs.contains(3));
xs.insert(1, "i");
xs.reverse();
print xs.slice(0, 2).pop();
print xs.remove(0);
var m = {"a": 1, "b": [1, 2]};
m["c"] = "x".repeat(3);
for (var k in m) print k + ":" + str(m[k]);
print m.keys().len() + m.values().len();
print m.has("a") and m.get("z", nil) == nil;
m.remove("a");
var s = " Hello, World ";
print s.trim().lower().upper().split(", ").join("|") + s.replace("o", "0");
print s.startsWith(" H") and s.endsWith(" ") and s.contains("lo");
print s.indexOf("W") + s.len() + s.slice(1, 4).len();
print math.sqrt(16) + math.floor(2.5) + math.max(1, 2) + math.pi;
random.seed(7);
print random.int(1, 6) >= 1 and random.next() < 1;
print random.choice([1, 2, 3]) > 0;
var ys = [1, 2, 3];
random.shuffle(ys);
print type(ys) + type(1) + type("") + type(nil) + type(m) + type(math);
print num("2.5") + num(str(1.5));
print os.args().len();
try {
  throw Error("boom");
} catch (e) {
  print e.message;
} finally {
  print "done";
}
var nested = [[1, [2]], {"k": [3]}];
print nested;
print nested == nested;
"#;

/// Calls plus backward jumps a mutant may make: enough for every program above to
/// finish unmutated, small enough that a mutant turned into a loop ends quickly.
const BUDGET: u64 = 10_000;

/// Most bytes this test process may hold at once. The VM reserves a 32 MiB
/// register stack per load; everything else a sane mutant does is far smaller.
const MEMORY_CAP: usize = 1 << 30;

/// A new value for a byte, from the original.
type Replace = fn(u8) -> u8;

/// The replacement values tried at each offset, from the original byte.
const REPLACEMENTS: &[(&str, Replace)] = &[
    ("b ^ 0x01", |b| b ^ 0x01),
    ("b ^ 0x02", |b| b ^ 0x02),
    ("b ^ 0x10", |b| b ^ 0x10),
    ("b ^ 0x80", |b| b ^ 0x80),
    ("0x00", |_| 0x00),
    ("0x7f", |_| 0x7f),
    ("0x80", |_| 0x80),
    ("0xff", |_| 0xff),
    ("b + 1", |b| b.wrapping_add(1)),
    ("b - 1", |b| b.wrapping_sub(1)),
];

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// The mutant being run, for the message if it breaks the memory cap: a
/// [`program_name`] index, offset and value.
static CURRENT_PROGRAM: AtomicUsize = AtomicUsize::new(0);
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
            "mutation sweep: the mutant of {} at offset {} (byte set to {:#04x}) asked for \
             {size} bytes with {before} live, past the {MEMORY_CAP}-byte cap",
            program_name(CURRENT_PROGRAM.load(Ordering::Relaxed)),
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
    /// The mutant that reached [`Tally::peak_heap_bytes`]: program, offset, value.
    peak_mutant: String,
    /// (program, offset, replacement, what went wrong)
    failures: Vec<String>,
}

fn repository_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn compile_options() -> pvm_compiler::CompileOptions {
    pvm_compiler::CompileOptions {
        native_modules: pvm_stdlib::native_module_names(),
        lox_modules: pvm_stdlib::LOX_MODULES,
    }
}

fn compile(relative: &str) -> Vec<u8> {
    let program = pvm_compiler::compile_file_with(&repository_file(relative), &compile_options())
        .unwrap_or_else(|error| panic!("{relative} does not compile: {error}"));
    pvm_bytecode::encode(&program)
}

/// Writes the CRC-32 of everything before the last four bytes into them.
fn reseal(bytes: &mut [u8]) {
    let body_end = bytes.len() - 4;
    let checksum = crc32fast::hash(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&checksum.to_le_bytes());
}

/// A mutant runs with a small budget and a small heap, as the fuzzers do: within
/// the budget a mutant can still double a string thirty times, and the default
/// 2 GiB heap limit would let it.
fn options() -> Options {
    Options {
        instruction_budget: Some(BUDGET),
        max_heap: 64 << 20,
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
fn load_and_run(bytes: &[u8], tally: &mut Tally, label: &str) -> Result<Outcome, String> {
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
            if peak > tally.peak_heap_bytes {
                tally.peak_heap_bytes = peak;
                tally.peak_mutant = label.to_string();
            }
            Ok(outcome)
        }
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())),
    }
}

fn sweep(program: &str, original: &[u8], tally: &mut Tally) {
    match load_and_run(original, tally, program) {
        Ok(Outcome::Ok) => {}
        _ => panic!("{program} must run to completion unmutated within the budget"),
    }
    // The last four bytes are the checksum, which re-sealing overwrites.
    for offset in 0..original.len() - 4 {
        for &(name, replace) in REPLACEMENTS {
            let value = replace(original[offset]);
            if value == original[offset] {
                continue;
            }
            let mut mutant = original.to_vec();
            mutant[offset] = value;
            if pvm_bytecode::decode(&mutant).is_ok() {
                tally.failures.push(format!(
                    "{program} @ {offset} ({name}): the checksum missed a one-byte change"
                ));
            }
            reseal(&mut mutant);
            CURRENT_OFFSET.store(offset, Ordering::Relaxed);
            CURRENT_VALUE.store(usize::from(value), Ordering::Relaxed);
            tally.tried += 1;
            match load_and_run(
                &mutant,
                tally,
                &format!("{program} @ {offset} = {value:#04x}"),
            ) {
                Ok(Outcome::Rejected) => tally.rejected += 1,
                Ok(Outcome::Ok) => tally.ran_ok += 1,
                Ok(Outcome::RuntimeError) => tally.runtime_error += 1,
                Ok(Outcome::BudgetExhausted) => tally.budget_exhausted += 1,
                Err(panic) => tally.failures.push(format!(
                    "{program} @ {offset} ({name} = {value:#04x}): panicked: {panic}"
                )),
            }
        }
    }
}

/// The name of program `index` in [`PROGRAMS`], then [`PROGRAMS_WITH_SUBCLASSES`],
/// then [`LIBRARY_TOUR`].
fn program_name(index: usize) -> &'static str {
    PROGRAMS
        .iter()
        .chain(PROGRAMS_WITH_SUBCLASSES)
        .nth(index)
        .copied()
        .unwrap_or("LIBRARY_TOUR")
}

thread_local! {
    /// Set while this thread sweeps: its panics are counted, not printed.
    static SWEEPING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sweeps the given programs (and [`LIBRARY_TOUR`] if asked), prints the tally
/// and fails on any panic.
fn sweep_all(programs: &[&'static str], with_tour: bool) {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !SWEEPING.with(|sweeping| sweeping.get()) {
                default_hook(info);
            }
        }));
    });
    let started = Instant::now();
    let mut tally = Tally::default();
    SWEEPING.with(|sweeping| sweeping.set(true));
    for &relative in programs {
        let index = (0..PROGRAMS.len() + PROGRAMS_WITH_SUBCLASSES.len())
            .find(|&i| program_name(i) == relative)
            .unwrap_or(usize::MAX);
        CURRENT_PROGRAM.store(index, Ordering::Relaxed);
        sweep(relative, &compile(relative), &mut tally);
    }
    if with_tour {
        CURRENT_PROGRAM.store(usize::MAX, Ordering::Relaxed);
        let tour = pvm_compiler::compile_source_with("tour.lox", LIBRARY_TOUR, &compile_options())
            .unwrap_or_else(|error| panic!("LIBRARY_TOUR does not compile: {error}"));
        sweep("LIBRARY_TOUR", &pvm_bytecode::encode(&tour), &mut tally);
    }
    SWEEPING.with(|sweeping| sweeping.set(false));

    println!(
        "mutation sweep: {} programs, {} mutants: {} rejected by the loader, {} ran ok, \
         {} ended in a runtime error, {} ran out of budget; peak heap {} bytes ({}); {:.1} s",
        programs.len() + usize::from(with_tour),
        tally.tried,
        tally.rejected,
        tally.ran_ok,
        tally.runtime_error,
        tally.budget_exhausted,
        tally.peak_heap_bytes,
        tally.peak_mutant,
        started.elapsed().as_secs_f64(),
    );
    assert!(
        tally.failures.is_empty(),
        "{} mutants broke pvm:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

#[test]
fn every_one_byte_mutant_is_rejected_or_runs_to_an_end() {
    sweep_all(PROGRAMS, true);
}

#[test]
fn every_one_byte_mutant_of_programs_with_subclasses_is_rejected_or_runs_to_an_end() {
    sweep_all(PROGRAMS_WITH_SUBCLASSES, false);
}
