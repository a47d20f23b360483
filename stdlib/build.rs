//! Build script: compiles every standard module written in Lox (`lox/*.lox`) with
//! pvm-compiler, so a module that does not compile fails the build with its diagnostics
//! instead of failing every program that imports it. The sources are embedded by `lib.rs`
//! with `include_str!`; nothing is generated here.

use std::path::Path;
use std::process::ExitCode;

use pvm_compiler::{compile_source_with, CompileOptions};

/// The native modules a Lox standard module may import. It mirrors the table in
/// `src/lib.rs`, which a build script can't see: the library's own crate is what is being
/// built.
const NATIVE_MODULES: &[&str] = &["math", "random", "io", "os"];

fn main() -> ExitCode {
    let folder = Path::new("lox");
    println!("cargo:rerun-if-changed={}", folder.display());
    let modules = match read_modules(folder) {
        Ok(modules) => modules,
        Err(error) => {
            eprintln!("error: can't read {}: {error}", folder.display());
            return ExitCode::FAILURE;
        }
    };
    // Leaked so the options can take the `'static` table the compiler API wants; a build
    // script is a short-lived process.
    let table: &'static [(&'static str, &'static str)] = Vec::leak(
        modules
            .iter()
            .map(|(name, source)| {
                let name: &'static str = String::leak(name.clone());
                let source: &'static str = String::leak(source.clone());
                (name, source)
            })
            .collect(),
    );
    let options = CompileOptions {
        native_modules: NATIVE_MODULES.to_vec(),
        lox_modules: table,
    };
    let mut failed = false;
    for (name, source) in table {
        println!(
            "cargo:rerun-if-changed={}",
            folder.join(format!("{name}.lox")).display()
        );
        let file_name = format!("<stdlib>/{name}.lox");
        if let Err(error) = compile_source_with(&file_name, source, &options) {
            // Cargo shows a failing build script's output; one line per diagnostic.
            eprintln!("{error}");
            failed = true;
        }
    }
    if failed {
        eprintln!("error: a standard module written in Lox does not compile");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Every `NAME.lox` in `folder` as (NAME, source), sorted by name for a stable order.
fn read_modules(folder: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "lox") {
            if let Some(stem) = path.file_stem() {
                let source = std::fs::read_to_string(&path)?;
                modules.push((stem.to_string_lossy().into_owned(), source));
            }
        }
    }
    modules.sort();
    Ok(modules)
}
