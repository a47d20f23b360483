//! Fuzz target `compile`: any text given to the compiler yields a program or
//! diagnostics, never a panic, hang or stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 files are a diagnostic before the lexer; lossy text reaches it.
    let source = String::from_utf8_lossy(data);
    let _ = pvm_fuzz::compile(&source);
});
