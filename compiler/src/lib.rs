//! pvm-compiler: Lox source to pvm bytecode.
//!
//! The pipeline is lexer ([`lexer`], logos) → parser (LALRPOP grammar whose actions call
//! [`builder`] to build an AST in a bumpalo arena) → [`resolver`] (scopes, upvalues, static
//! errors) → [`codegen`] (register bytecode through pvm-bytecode's `ProgramBuilder`). Every pass
//! reports into one diagnostics sink per file, so a compile shows every error of every file, in
//! source order; code is generated only for an error-free tree. [`modules`] runs that pipeline
//! for the entry file and every module it imports, bundling them into one program.

mod ast;
mod builder;
mod codegen;
mod diagnostic;
mod lexer;
mod modules;
mod parser;
mod resolver;

use std::path::{Path, PathBuf};

pub use builder::MAX_NESTING_DEPTH;
pub use diagnostic::{CompileError, Diagnostic, Near, Pos};

/// Stack for the thread the passes run on. The resolver and code generator recurse per nesting
/// level; measured (rustc 1.95), input nested to the limit needs up to about 2 MiB in a debug
/// build, the most for 995 parentheses or `!`s. A thread of our own makes that independent of
/// the caller's stack (cargo test's threads get 2 MiB), with ample headroom; the memory is only
/// reserved, not touched.
const COMPILER_STACK_BYTES: usize = 16 << 20;

/// The standard modules a program may import by bare name (`import "math";`).
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Modules the runtime provides natively; importing one compiles to `ImportNative`.
    pub native_modules: Vec<&'static str>,
    /// Modules written in Lox, as (name, source): bundled into the program like a file and
    /// recorded as `<stdlib>/NAME.lox`.
    pub lox_modules: &'static [(&'static str, &'static str)],
}

/// Compiles Lox source text with no standard modules. `file_name` is recorded in the program
/// and in diagnostics.
pub fn compile_source(
    file_name: &str,
    source: &str,
) -> Result<pvm_bytecode::Program, CompileError> {
    compile_source_with(file_name, source, &CompileOptions::default())
}

/// Compiles the file at `path` with no standard modules.
pub fn compile_file(path: &Path) -> Result<pvm_bytecode::Program, CompileError> {
    compile_file_with(path, &CompileOptions::default())
}

/// Compiles Lox source text and the modules it imports. `file_name` is recorded in the
/// program and in diagnostics; relative imports are found from the current directory.
pub fn compile_source_with(
    file_name: &str,
    source: &str,
    options: &CompileOptions,
) -> Result<pvm_bytecode::Program, CompileError> {
    on_compiler_thread(file_name, || {
        modules::Bundler::new(options, PathBuf::from(".")).compile_entry(file_name, source)
    })
}

/// Compiles the file at `path` and the modules it imports. The program records file names
/// relative to the entry file's folder, so the bytes do not depend on where the project lives.
pub fn compile_file_with(
    path: &Path,
    options: &CompileOptions,
) -> Result<pvm_bytecode::Program, CompileError> {
    let io_error = |source| CompileError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io_error)?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let source = modules::decode_source(bytes, &file_name)
        .map_err(|diagnostic| CompileError::Diagnostics(vec![diagnostic]))?;
    let root = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    on_compiler_thread(&file_name, || {
        modules::Bundler::new(options, root).compile_entry(&file_name, &source)
    })
}

/// Runs `compile` on a thread of its own with [`COMPILER_STACK_BYTES`] of stack.
fn on_compiler_thread(
    file_name: &str,
    compile: impl FnOnce() -> Result<pvm_bytecode::Program, CompileError> + Send,
) -> Result<pvm_bytecode::Program, CompileError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pvm-compiler".into())
            .stack_size(COMPILER_STACK_BYTES)
            .spawn_scoped(scope, compile)
            .map_err(|error| CompileError::Io {
                path: file_name.to_string(),
                source: error,
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nesting limit must leave the recursive passes room on an ordinary 8 MiB main-thread
    /// stack even in a debug build, so the dedicated compiler thread is headroom, not a need.
    #[test]
    fn nesting_just_under_the_limit_fits_an_8_mib_stack() {
        let n = (MAX_NESTING_DEPTH - 5) as usize;
        let shapes = [
            format!("print {}1{};", "(".repeat(n), ")".repeat(n)),
            format!("{}{}", "{".repeat(n), "}".repeat(n)),
            format!("print {}1;", "!".repeat(n)),
            // Chains are one level however long, so these nest a chain link in every third
            // level: `-(-(f)())()`, `-(-(f).b()).b()`, `-(-(1 + 1) + 1)`, ...
            format!(
                "fun f() {{ return f; }} {}f{};",
                "-(".repeat(n / 3),
                ")()".repeat(n / 3)
            ),
            format!(
                "fun f() {{ return f; }} {}f{};",
                "-(".repeat(n / 3),
                ").b()".repeat(n / 3)
            ),
            format!("print {}1{};", "-(".repeat(n / 3), " + 1)".repeat(n / 3)),
            format!(
                "var xs; print {}xs{};",
                "-(".repeat(n / 3),
                ")[0]".repeat(n / 3)
            ),
            format!("var a; a{} = 1;", " = a".repeat(n)),
            format!("{}{}", "fun f() {".repeat(n / 2), "}".repeat(n / 2)),
            format!("{}{}", "class A { m() {".repeat(n / 3), "} }".repeat(n / 3)),
            format!("{}print 1;", "while (true) ".repeat(n)),
            format!("{}print 1;", "for (;;) ".repeat(n)),
            format!("{}print 1;", "if (true) print 0; else ".repeat(n)),
            // `and`/`or` chains too: `!(!(a or b and c) or b and c)`, as a value and as a
            // condition.
            format!(
                "print {}a{};",
                "!(".repeat(n / 3),
                " or b and c)".repeat(n / 3)
            ),
            format!(
                "if ({}a{}) print 1;",
                "!(".repeat(n / 3),
                " or b and c)".repeat(n / 3)
            ),
        ];
        for source in shapes {
            let result = std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(move || {
                    let options = CompileOptions::default();
                    modules::Bundler::new(&options, PathBuf::from("."))
                        .compile_entry("t.lox", &source)
                        .map(|_| ())
                })
                .expect("spawn")
                .join()
                .expect("no stack overflow");
            if let Err(error) = result {
                panic!("{error}");
            }
        }
    }
}
