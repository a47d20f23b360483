//! The programs in `examples/` are documentation, so they must keep working: each
//! one runs (from source and from its compiled `.pbc`) and prints exactly what
//! `examples/expected/NAME.out` records, and compiling it twice gives the same
//! bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn pvm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pvm"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Extra `pvm run` flags and program arguments an example needs.
fn invocation(name: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    match name {
        "wordcount" => (vec!["--allow-read"], vec!["examples/data/sample.txt", "5"]),
        _ => (Vec::new(), Vec::new()),
    }
}

fn run(flags: &[&str], file: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = pvm()
        .current_dir(root())
        .arg("run")
        .args(flags)
        .arg(file)
        .args(args)
        .output()
        .expect("pvm runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_example_prints_its_recorded_output_from_source_and_bytecode() {
    let scratch = std::env::temp_dir().join(format!("pvm-examples-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let mut failures = Vec::new();
    let mut checked = 0;
    for name in ["hello", "shapes", "bank", "pretty", "wordcount"] {
        let source = root().join("examples").join(format!("{name}.lox"));
        let expected =
            std::fs::read_to_string(root().join(format!("examples/expected/{name}.out")))
                .expect("recorded output");
        let (flags, args) = invocation(name);
        let bytecode = scratch.join(format!("{name}.pbc"));
        let compiled = pvm()
            .arg("compile")
            .arg(&source)
            .arg("-o")
            .arg(&bytecode)
            .status();
        assert!(
            compiled.is_ok_and(|status| status.success()),
            "{name} compiles"
        );
        for file in [&source, &bytecode] {
            let (code, stdout, stderr) = run(&flags, file, &args);
            if code != Some(0) || stdout != expected {
                failures.push(format!(
                    "{}: exit {code:?}\n--- expected\n{expected}--- got\n{stdout}--- stderr\n{stderr}",
                    file.display()
                ));
            }
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 10);
}

#[test]
fn compiling_an_example_twice_gives_identical_bytes() {
    for name in ["shapes", "bank", "pretty", "wordcount", "fib"] {
        let path = root().join("examples").join(format!("{name}.lox"));
        let options = pvm_compiler::CompileOptions {
            native_modules: pvm_stdlib::native_module_names(),
            lox_modules: pvm_stdlib::LOX_MODULES,
        };
        let first = pvm_compiler::compile_file_with(&path, &options).expect("compiles");
        let second = pvm_compiler::compile_file_with(&path, &options).expect("compiles");
        assert_eq!(
            pvm_bytecode::encode(&first),
            pvm_bytecode::encode(&second),
            "{name}"
        );
    }
}

/// The SHA-256 of each example's `.pbc`. Any change to the bytes the compiler
/// writes shows up here, so it is made on purpose (and bumps the format version
/// when the format itself changes). To update after a deliberate change, run the
/// test and copy the hashes it prints.
const GOLDEN_HASHES: &[(&str, &str)] = &[
    (
        "hello",
        "fea8485fdd6db84b97caa316f62348155a341535030ce27980357abbb21c610a",
    ),
    (
        "shapes",
        "be2282de77ffa26f55ac46e94663ca4e5c63a96c92d38dbd0005ed42b0899df1",
    ),
    (
        "bank",
        "8d2f37157f63b088bc399c2fe90640c30180a490be5699d473ea22788ae459f3",
    ),
    (
        "pretty",
        "9dff8db1beeec7e11aea59fb49471c3a4607aabec506605e5a6885bb46f59f4d",
    ),
    (
        "wordcount",
        "d16a96772b34d8e8873193b957ed395e9865cfbedf3768072545c1c5c2642119",
    ),
    (
        "fib",
        "23776ad57a82b1bbe944e6a012f89fb55f3e61a8679ca2b37ba46b7c22927095",
    ),
];

#[test]
fn example_bytecode_matches_its_recorded_hash() {
    use sha2::{Digest, Sha256};
    let options = pvm_compiler::CompileOptions {
        native_modules: pvm_stdlib::native_module_names(),
        lox_modules: pvm_stdlib::LOX_MODULES,
    };
    let mut actual = Vec::new();
    for name in ["hello", "shapes", "bank", "pretty", "wordcount", "fib"] {
        let path = root().join("examples").join(format!("{name}.lox"));
        let program = pvm_compiler::compile_file_with(&path, &options).expect("compiles");
        let digest = Sha256::digest(pvm_bytecode::encode(&program));
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        actual.push((name, hex));
    }
    let listing: Vec<String> = actual
        .iter()
        .map(|(name, hex)| format!("    (\"{name}\", \"{hex}\"),"))
        .collect();
    let expected: Vec<(String, String)> = GOLDEN_HASHES
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect();
    let got: Vec<(String, String)> = actual
        .iter()
        .map(|(n, h)| (n.to_string(), h.clone()))
        .collect();
    assert_eq!(
        got,
        expected,
        "example .pbc bytes changed; if deliberate, record:\n{}",
        listing.join("\n")
    );
}
