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
