//! The module bundler: compiles the entry file and, depth first, every module it imports into
//! one [`Program`], like a jar.
//!
//! A module is known by its key: its path relative to the entry file's folder, normalised and
//! ending in `.lox` (`lib/geometry.lox`), or `<stdlib>/NAME.lox` for a standard module written
//! in Lox. Keys are what the program records as file names, so the output never depends on
//! where the project lives, and two spellings of one path are one module, compiled once. The
//! modules being compiled form a chain from the entry; an import of a module on the chain is
//! a cycle. Each unit reports into its own diagnostics sink, so errors name their own file.

use std::collections::HashMap;
use std::path::PathBuf;

use bumpalo::Bump;
use pvm_bytecode::{Module, Program, ProgramBuilder};

use crate::ast::prefetching;
use crate::builder::{module_binding_name, Builder};
use crate::codegen::{ImportTarget, Unit, UnitGenerator};
use crate::diagnostic::{CompileError, Diagnostic, Diagnostics, Near, Pos};
use crate::resolver::{Resolution, Resolver};
use crate::{lexer, parser, CompileOptions};

/// The folder standard modules written in Lox appear to live in, in keys and file names.
const STDLIB_FOLDER: &str = "<stdlib>";

pub(crate) struct Bundler<'o> {
    options: &'o CompileOptions,
    /// The entry file's folder, which keys are relative to.
    root: PathBuf,
    program: ProgramBuilder,
    /// Modules compiled so far by key: their index, or `None` if they failed (reported).
    finished: HashMap<String, Option<u32>>,
    /// Keys of the units being compiled, the entry first.
    chain: Vec<String>,
    errors: Vec<Diagnostic>,
}

impl<'o> Bundler<'o> {
    pub(crate) fn new(options: &'o CompileOptions, root: PathBuf) -> Self {
        Bundler {
            options,
            root,
            program: ProgramBuilder::new(),
            finished: HashMap::new(),
            chain: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Compiles the entry unit `source`, known as `key`, and everything it imports.
    pub(crate) fn compile_entry(
        mut self,
        key: &str,
        source: &str,
    ) -> Result<Program, CompileError> {
        let entry = self.unit(key, source, None);
        match entry {
            Some((function, _)) if self.errors.is_empty() => Ok(self.program.finish(function)),
            _ => Err(CompileError::Diagnostics(self.errors)),
        }
    }

    /// Compiles one unit: parse, resolve, compile its imports, generate. Returns its top-level
    /// function and, for an imported module (`module_name` given), its module index.
    fn unit(
        &mut self,
        key: &str,
        source: &str,
        module_name: Option<&str>,
    ) -> Option<(u32, Option<u32>)> {
        let diagnostics = Diagnostics::new(key);
        if let Some(offset) = source.find('\0') {
            let pos = lexer::Lexer::end_position(&source[..offset]);
            diagnostics.report(
                pos,
                Near::Nothing,
                format!("Source contains a NUL byte (byte offset {offset})."),
            );
            self.errors.extend(diagnostics.into_sorted());
            return None;
        }
        let arena = Bump::new();
        let builder = Builder::new(&arena, source, &diagnostics);
        let stmts = parser::parse(&builder, lexer::Lexer::new(source, &diagnostics));

        self.chain.push(key.to_string());
        let mut imports = HashMap::new();
        // An import can fail with the error in another file (a cycle closed there, an error
        // in the module), so this unit's own diagnostics may be clean. Its own import errors
        // wait in a sink of their own until the unit is resolved, so that they follow the
        // resolver's, as they did when resolution came first: two reports at one position
        // (a duplicate name and the failed import that declares it) keep their order.
        let import_diagnostics = Diagnostics::new(key);
        let mut imports_failed = false;
        for (path, pos) in builder.take_imports() {
            if imports.contains_key(path) {
                continue;
            }
            match self.import(key, path, pos, &import_diagnostics) {
                Some(target) => {
                    imports.insert(path, target);
                }
                None => imports_failed = true,
            }
        }
        self.chain.pop();

        let mut generated = None;
        if let Some(stmts) = stmts {
            let resolution = Resolution::new(builder.id_counts());
            // Code is generated only for an error-free unit: its own errors so far, and any
            // the resolver finds, stop generation. Generation's own errors (a function out of
            // registers) go to a sink of their own, kept only if the resolver found none, as
            // when the whole tree was resolved before any code was generated.
            let codegen_diagnostics = Diagnostics::new(key);
            let mut generator = None;
            if diagnostics.is_empty() && !imports_failed {
                // Reserved before generating: the top level ends with `GetModule` of itself.
                let module = module_name.map(|name| {
                    let name = self.program.string(name);
                    self.program.add_module(Module {
                        name,
                        function: 0,
                        exports: Vec::new(),
                    })
                });
                let unit = Unit {
                    statements: stmts.len(),
                    resolution: &resolution,
                    file_name: key,
                    source,
                    imports: &imports,
                    module,
                };
                generator = Some((
                    UnitGenerator::new(unit, &mut self.program, &codegen_diagnostics),
                    module,
                ));
            }
            // Each top-level statement is resolved and at once generated, while its nodes are
            // still in the cache; a statement's code needs nothing resolved after it.
            let mut resolver = Resolver::new(&resolution, &diagnostics);
            for stmt in prefetching(stmts) {
                resolver.top_level(stmt);
                if !diagnostics.is_empty() {
                    generator = None;
                }
                if let Some((unit, _)) = &mut generator {
                    unit.top_level(stmt);
                }
            }
            generated = generator.and_then(|(unit, module)| Some((unit.finish()?, module)));
            if diagnostics.is_empty() {
                diagnostics.append(codegen_diagnostics);
            }
        }
        diagnostics.append(import_diagnostics);
        let failed = !diagnostics.is_empty();
        self.errors.extend(diagnostics.into_sorted());
        let (code, module) = generated.filter(|_| !failed)?;
        if let (Some(index), Some(name)) = (module, module_name) {
            let name = self.program.string(name);
            self.program.set_module(
                index,
                Module {
                    name,
                    function: code.function,
                    exports: code.exports,
                },
            );
        }
        Some((code.function, module))
    }

    /// What `import "path"` in unit `importer` refers to; problems are reported at `pos`.
    fn import(
        &mut self,
        importer: &str,
        path: &str,
        pos: Pos,
        diagnostics: &Diagnostics,
    ) -> Option<ImportTarget> {
        let report = |message: String| {
            diagnostics.report(pos, Near::Token(format!("\"{path}\"")), message);
            None
        };
        if path.starts_with("./") || path.starts_with("../") {
            if importer.starts_with(STDLIB_FOLDER) {
                return report("A standard module can't import a file.".to_string());
            }
            let key = resolve_relative(importer, path);
            return self.source_module(key, None, path, pos, diagnostics);
        }
        let is_bare_name =
            !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_bare_name {
            return report(
                "An import path starts with './' or '../', or names a standard module.".to_string(),
            );
        }
        if let Some(&native) = self.options.native_modules.iter().find(|&&n| n == path) {
            return Some(ImportTarget::Native(native));
        }
        match self
            .options
            .lox_modules
            .iter()
            .find(|(name, _)| *name == path)
        {
            Some(&(name, source)) => {
                let key = format!("{STDLIB_FOLDER}/{name}.lox");
                self.source_module(key, Some(source), path, pos, diagnostics)
            }
            None => report(format!(
                "No standard module named '{path}' (a file path starts with './' or '../')."
            )),
        }
    }

    /// The module with `key`, compiled now if it is new. Its source is `builtin` for a
    /// standard module, else read from the file.
    fn source_module(
        &mut self,
        key: String,
        builtin: Option<&str>,
        path: &str,
        pos: Pos,
        diagnostics: &Diagnostics,
    ) -> Option<ImportTarget> {
        let near = Near::Token(format!("\"{path}\""));
        let chain = format!("{} -> {key}", self.chain.join(" -> "));
        if self.chain.contains(&key) {
            diagnostics.report(pos, near, format!("import cycle: {chain}"));
            return None;
        }
        if let Some(done) = self.finished.get(&key) {
            return done.map(ImportTarget::Source);
        }
        let source = match builtin {
            Some(source) => source.to_string(),
            None => match read_module(&self.root.join(&key), &key) {
                Ok(source) => source,
                Err(ReadFailure::Io(why)) => {
                    diagnostics.report(
                        pos,
                        near,
                        format!("Can't import module {key} ({chain}): {why}."),
                    );
                    self.finished.insert(key, None);
                    return None;
                }
                Err(ReadFailure::Encoding(diagnostic)) => {
                    self.errors.push(diagnostic);
                    self.finished.insert(key, None);
                    return None;
                }
            },
        };
        let name = module_binding_name(&key).to_string();
        let module = self.unit(&key, &source, Some(&name)).and_then(|(_, m)| m);
        self.finished.insert(key, module);
        module.map(ImportTarget::Source)
    }
}

/// Why a module's source could not be had.
enum ReadFailure {
    /// Missing or unreadable: what went wrong, for the importer's diagnostic.
    Io(String),
    /// Not UTF-8: a diagnostic in the module's own file.
    Encoding(Diagnostic),
}

fn read_module(path: &std::path::Path, key: &str) -> Result<String, ReadFailure> {
    let bytes = std::fs::read(path).map_err(|error| {
        ReadFailure::Io(match error.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => error.to_string(),
        })
    })?;
    decode_source(bytes, key).map_err(ReadFailure::Encoding)
}

/// The text of a source file, or a diagnostic pointing at its first byte that is not UTF-8.
pub(crate) fn decode_source(bytes: Vec<u8>, file_name: &str) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let offset = error.utf8_error().valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
        let line_start = bytes[..offset]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        // Columns count characters; everything before the bad byte is valid UTF-8.
        let column = 1 + String::from_utf8_lossy(&bytes[line_start..offset])
            .chars()
            .count();
        Diagnostic {
            file: file_name.to_string(),
            line: line as u32,
            column: column as u32,
            near: Near::Nothing,
            message: format!("Source is not valid UTF-8 (byte offset {offset})."),
        }
    })
}

/// The key of relative import `path` written in the unit with key `importer`: the path
/// joined to the importer's folder, `.` and `..` resolved, `.lox` added when missing.
pub(crate) fn resolve_relative(importer: &str, path: &str) -> String {
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut key = parts.join("/");
    if !key.ends_with(".lox") {
        key.push_str(".lox");
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_normalise_to_one_key() {
        assert_eq!(resolve_relative("main.lox", "./lib/x"), "lib/x.lox");
        assert_eq!(resolve_relative("main.lox", "./lib/x.lox"), "lib/x.lox");
        assert_eq!(resolve_relative("lib/a.lox", "./../lib/./x"), "lib/x.lox");
        assert_eq!(resolve_relative("lib/a.lox", "../../up"), "../up.lox");
        assert_eq!(resolve_relative("../a.lox", "../b"), "../../b.lox");
        assert_eq!(resolve_relative("t/main.lox", "./geo"), "t/geo.lox");
    }
}

#[cfg(test)]
mod generation_tests {
    use super::*;

    fn errors(source: &str) -> Vec<String> {
        let options = CompileOptions::default();
        match Bundler::new(&options, PathBuf::from(".")).compile_entry("t.lox", source) {
            Ok(_) => Vec::new(),
            Err(CompileError::Diagnostics(found)) => found.iter().map(|d| d.to_string()).collect(),
            Err(other) => vec![other.to_string()],
        }
    }

    /// A function whose locals need more registers than a frame has.
    fn register_hungry_function() -> String {
        let locals: String = (0..300).map(|i| format!("var v{i} = {i}; ")).collect();
        format!("fun f() {{ {locals} }}\n")
    }

    /// A failed import reported where a duplicate name is reported too comes after it, as
    /// when the whole unit was resolved before its imports were compiled.
    #[test]
    fn a_duplicate_name_comes_before_the_failed_import_at_its_place() {
        let found = errors("{ import \"a/b\"; import \"x/b\"; }");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[1].contains("1:24") && found[1].contains("Already a variable"),
            "{found:?}"
        );
        assert!(
            found[2].contains("1:24") && found[2].contains("An import path"),
            "{found:?}"
        );
    }

    #[test]
    fn running_out_of_registers_is_reported_alone() {
        let found = errors(&register_hungry_function());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("registers"), "{found:?}");
    }

    /// Statements are resolved and generated one by one, but as before, code generation's
    /// errors count only for a unit the resolver found clean, wherever its errors are.
    #[test]
    fn a_static_error_anywhere_hides_generation_errors() {
        let hungry = register_hungry_function();
        for source in [
            format!("{hungry}return 1;\n"),
            format!("return 1;\n{hungry}"),
        ] {
            let found = errors(&source);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].contains("Can't return from top-level code."),
                "{found:?}"
            );
        }
    }
}
