//! Fuzz target `roundtrip`: a compiled program behaves the same whether it is
//! loaded as built or after encoding to `.pbc` bytes and decoding them again:
//! same output, same outcome. Encoding the decoded program gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pvm_fuzz::CapturedOutput;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    // clock() is the one source of output that differs between two runs.
    if source.contains("clock") {
        return;
    }
    let Ok(program) = pvm_fuzz::compile(source) else {
        return;
    };
    let library = pvm_stdlib::library();

    let bytes = pvm_bytecode::encode(&program);
    let (decoded, map) = pvm_bytecode::decode_with_offsets(&bytes)
        .unwrap_or_else(|error| panic!("encoded program does not decode: {error}"));
    assert!(
        pvm_bytecode::encode(&decoded) == bytes,
        "re-encoding the decoded program changes its bytes"
    );

    let direct_output = CapturedOutput::default();
    let direct = pvm_runtime::Vm::load(
        program,
        &pvm_bytecode::ByteMap::default(),
        &library,
        pvm_fuzz::options(),
        Box::new(direct_output.clone()),
    )
    .unwrap_or_else(|error| panic!("the verifier rejects compiled code: {error}"));
    let direct = pvm_fuzz::run(direct);

    let decoded_output = CapturedOutput::default();
    let via_bytes = pvm_runtime::Vm::load(
        decoded,
        &map,
        &library,
        pvm_fuzz::options(),
        Box::new(decoded_output.clone()),
    )
    .unwrap_or_else(|error| panic!("the verifier rejects decoded code: {error}"));
    let via_bytes = pvm_fuzz::run(via_bytes);

    assert_eq!(direct, via_bytes, "outcome differs after encode/decode");
    assert_eq!(
        direct_output.printed(),
        decoded_output.printed(),
        "output differs after encode/decode"
    );
});
