//! The process's memory allocator: mimalloc instead of the system's malloc.
//!
//! A Lox program allocates and frees small objects at a high rate (instances, their
//! field tables, closures, upvalues, strings), and the collector frees them in bulk.
//! glibc's malloc spends a sixth of `closures` and most of `binary_trees` in
//! `malloc`/`free` (see benches/README.md); mimalloc's per-size free lists make the
//! same work several times cheaper. Output never depends on addresses, so the choice
//! is invisible to programs. Cargo feature `mimalloc` (on by default); without it
//! the system allocator serves, as AddressSanitizer runs need.

use libmimalloc_sys::mi_option_set;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Indices into mimalloc 3's `mi_option_t` (include/mimalloc.h of the version that
// Cargo.lock pins, libmimalloc-sys 0.1.49): the crate names only a few of them.
const PURGE_DELAY: i32 = 15;
const ALLOW_THP: i32 = 43;
const ARENA_MAX_OBJECT_SIZE: i32 = 45;

/// Tunes mimalloc for a short-lived interpreter whose peak memory matters as much as
/// its speed. Runs first thing in `main`.
pub fn tune() {
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option table; it
    // is called before any other thread exists.
    unsafe {
        // Transparent huge pages make every touched arena fault in 2 MiB at a time:
        // an empty program's resident size went from 3.5 MiB to 11 MiB, and its
        // start-up from 2 ms to 5 ms.
        mi_option_set(ALLOW_THP, 0);
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        // Give pages the collector emptied back to the OS after 10 ms (the default
        // keeps them): binary_trees' peak resident size 55 MiB -> 40 MiB.
        mi_option_set(PURGE_DELAY, 10);
        // Blocks past 32 MiB (big strings and lists) come straight from the OS, as
        // with glibc, instead of from mimalloc's 1 GiB arenas: under an address-space
        // limit (`ulimit -v`) an arena reserved for one such block can fail where the
        // block alone fits.
        mi_option_set(ARENA_MAX_OBJECT_SIZE, 32 * 1024);
    }
}
