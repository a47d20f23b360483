//! Fuzz target `load`: any bytes given to the loader are rejected with a
//! `LoadError`, or verified and then run (with a budget) without a panic, crash
//! or hang. The input's last four bytes are re-sealed with a correct CRC-32
//! first, so mutations reach the decoder and verifier instead of stopping at
//! the checksum; the unsealed bytes go through the decoder too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pvm_bytecode::decode(data);
    let mut bytes = data.to_vec();
    pvm_fuzz::reseal(&mut bytes);
    let library = pvm_stdlib::library();
    let loaded = pvm_runtime::load_bytes(
        &bytes,
        &library,
        pvm_fuzz::options(),
        Box::new(std::io::sink()),
    );
    if let Ok(vm) = loaded {
        let _ = pvm_fuzz::run(vm);
    }
});
