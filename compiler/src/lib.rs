//! pvm-compiler: Lox source to pvm bytecode.
//!
//! The pipeline is lexer ([`lexer`], logos) → parser (LALRPOP grammar whose actions call
//! [`builder`] to build an AST in a bumpalo arena) → [`resolver`] (scopes, upvalues, static
//! errors) → [`codegen`] (register bytecode through pvm-bytecode's `ProgramBuilder`). Every pass
//! reports into one diagnostics sink, so a compile shows every error of the file, in source
//! order; code is generated only for an error-free tree.

mod ast;
mod builder;
mod codegen;
mod diagnostic;
mod lexer;
mod parser;
mod resolver;

use std::path::Path;

use bumpalo::Bump;

pub use builder::MAX_NESTING_DEPTH;
pub use diagnostic::{CompileError, Diagnostic, Near, Pos};

use diagnostic::Diagnostics;

/// Stack for the thread the passes run on. The resolver and code generator recurse per nesting
/// level; measured, input nested to the limit in every shape needs under 1 MiB in a debug
/// build. A thread of our own makes that independent of the caller's stack (cargo test's
/// threads get 2 MiB), with ample headroom; the memory is only reserved, not touched.
const COMPILER_STACK_BYTES: usize = 16 << 20;

/// Compiles Lox source text. `file_name` is recorded in the program and in diagnostics.
pub fn compile_source(
    file_name: &str,
    source: &str,
) -> Result<pvm_bytecode::Program, CompileError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pvm-compiler".into())
            .stack_size(COMPILER_STACK_BYTES)
            .spawn_scoped(scope, || compile_on_this_thread(file_name, source))
            .map_err(|error| CompileError::Io {
                path: file_name.to_string(),
                source: error,
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Compiles the file at `path`. The program records only the file's own name, so the bytes do
/// not depend on where the project lives.
pub fn compile_file(path: &Path) -> Result<pvm_bytecode::Program, CompileError> {
    let io_error = |source| CompileError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io_error)?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match std::str::from_utf8(&bytes) {
        Ok(source) => compile_source(&file_name, source),
        Err(error) => {
            let offset = error.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            let line_start = bytes[..offset]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            // Columns count characters; everything before the bad byte is valid UTF-8.
            let column = 1 + String::from_utf8_lossy(&bytes[line_start..offset])
                .chars()
                .count();
            Err(CompileError::Diagnostics(vec![Diagnostic {
                file: file_name,
                line: line as u32,
                column: column as u32,
                near: Near::Nothing,
                message: format!("Source is not valid UTF-8 (byte offset {offset})."),
            }]))
        }
    }
}

fn compile_on_this_thread(
    file_name: &str,
    source: &str,
) -> Result<pvm_bytecode::Program, CompileError> {
    let diagnostics = Diagnostics::new(file_name);
    if let Some(offset) = source.find('\0') {
        let pos = lexer::Lexer::end_position(&source[..offset]);
        diagnostics.report(
            pos,
            Near::Nothing,
            format!("Source contains a NUL byte (byte offset {offset})."),
        );
        return Err(CompileError::Diagnostics(diagnostics.into_sorted()));
    }
    let arena = Bump::new();
    let program = {
        let builder = builder::Builder::new(&arena, source, &diagnostics);
        let lexer = lexer::Lexer::new(source, &diagnostics);
        parser::parse(&builder, lexer).map(|stmts| (stmts, builder.id_counts()))
    };
    let generated = match program {
        Some((stmts, counts)) => {
            let resolution = resolver::resolve(stmts, counts, &diagnostics);
            if diagnostics.is_empty() {
                codegen::generate(stmts, &resolution, file_name, source, &diagnostics)
            } else {
                None
            }
        }
        None => None,
    };
    match generated {
        Some(program) if diagnostics.is_empty() => Ok(program),
        _ => Err(CompileError::Diagnostics(diagnostics.into_sorted())),
    }
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
            format!("fun f() {{ return f; }} f{};", "()".repeat(n)),
            format!("fun f() {{ return f; }} f{};", ".b()".repeat(n / 2)),
            format!("var a; a{} = 1;", " = a".repeat(n)),
            format!("print 1{};", " + 1".repeat(n)),
            format!("{}{}", "fun f() {".repeat(n / 2), "}".repeat(n / 2)),
            format!("{}{}", "class A { m() {".repeat(n / 3), "} }".repeat(n / 3)),
            format!("{}print 1;", "while (true) ".repeat(n)),
            format!("{}print 1;", "for (;;) ".repeat(n)),
            format!("{}print 1;", "if (true) print 0; else ".repeat(n)),
            format!("print a{};", " or b and c".repeat(n / 2)),
        ];
        for source in shapes {
            let result = std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(move || compile_on_this_thread("t.lox", &source).map(|_| ()))
                .expect("spawn")
                .join()
                .expect("no stack overflow");
            if let Err(error) = result {
                panic!("{error}");
            }
        }
    }
}
