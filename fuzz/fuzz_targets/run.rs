//! Fuzz target `run`: any source that compiles runs to completion, a runtime
//! error or the end of its budget, never a panic, crash or hang; the compiler's
//! output always passes the verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(program) = pvm_fuzz::compile(source) else {
        return;
    };
    let bytes = pvm_bytecode::encode(&program);
    let library = pvm_stdlib::library();
    let vm = pvm_runtime::load_bytes(
        &bytes,
        &library,
        pvm_fuzz::options(),
        Box::new(std::io::sink()),
    )
    .unwrap_or_else(|error| panic!("the verifier rejects compiled code: {error}"));
    let _ = pvm_fuzz::run(vm);
});
