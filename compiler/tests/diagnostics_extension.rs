//! Compile errors of the language extension through the public API: `break`/`continue`
//! outside loops, bad string escapes, and module errors (missing files, cycles, errors inside
//! an imported file) with the import chain named; plus the module bundle's file names and
//! determinism.

use std::path::{Path, PathBuf};

use pvm_compiler::{compile_file_with, compile_source, CompileError, CompileOptions};

/// The diagnostics of a failed compile, one string each.
fn diagnostics(result: Result<pvm_bytecode::Program, CompileError>) -> Vec<String> {
    match result {
        Ok(_) => panic!("expected compile errors"),
        Err(CompileError::Diagnostics(found)) => found.iter().map(|d| d.to_string()).collect(),
        Err(other) => panic!("unexpected error {other}"),
    }
}

fn errors(source: &str) -> Vec<String> {
    diagnostics(compile_source("t.lox", source))
}

#[test]
fn break_and_continue_need_a_loop_of_their_own_function() {
    assert_eq!(
        errors("break;\nwhile (true) { fun f() { continue; } }\nfor (;;) { var g = fun () { break; }; }"),
        [
            "t.lox:1:1: error at 'break': Can't use 'break' outside of a loop.",
            "t.lox:2:26: error at 'continue': Can't use 'continue' outside of a loop.",
            "t.lox:3:29: error at 'break': Can't use 'break' outside of a loop.",
        ]
    );
    // Inside try, catch and finally of a loop body they are fine.
    let fine = "while (true) { try { break; } catch (e) { continue; } finally { break; } }";
    assert!(compile_source("t.lox", fine).is_ok());
}

#[test]
fn bad_escapes_name_their_own_line_and_column() {
    assert_eq!(
        errors("var s = \"ok\nstill \\x and \\u{FFFFFF}\";"),
        [
            "t.lox:2:7: error at '\\x': Invalid escape sequence (use \\n, \\t, \\r, \\\", \\\\ or \\u{HEX}).",
            "t.lox:2:14: error at '\\u{FFFFFF}': Invalid unicode escape: not a Unicode scalar value (a surrogate or above 10FFFF).",
        ]
    );
}

#[test]
fn a_brace_at_statement_start_is_a_block_not_a_map() {
    assert_eq!(
        errors("{\"a\": 1};"),
        // As in plain Lox, the `;` after the block is an empty statement, which is an error.
        [
            "t.lox:1:5: error at ':': Expect ';'.",
            "t.lox:1:9: error at ';': Expect expression.",
        ]
    );
    // In expression position it is a map.
    assert!(compile_source("t.lox", "var m = {\"a\": 1}; print {}; m = {1: {2: {}}};").is_ok());
}

#[test]
fn only_variables_properties_and_elements_take_compound_assignment() {
    assert_eq!(
        errors("var a; a + 1 += 2;\n[1] -= 1;"),
        [
            "t.lox:1:14: error at '+=': Invalid assignment target.",
            "t.lox:2:5: error at '-=': Invalid assignment target.",
        ]
    );
}

/// A fresh folder under the system temp folder holding `files` (path, text).
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("pvm-compiler-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (path, text) in files {
        let path = root.join(path);
        let folder = path.parent().expect("files are in the project folder");
        std::fs::create_dir_all(folder).expect("temp folder");
        std::fs::write(&path, text).expect("temp file");
    }
    root
}

fn compile_project(root: &Path, entry: &str) -> Result<pvm_bytecode::Program, CompileError> {
    let options = CompileOptions {
        native_modules: vec!["math"],
        lox_modules: &[("strings", "fun upper(s) { return s.upper(); }")],
    };
    compile_file_with(&root.join(entry), &options)
}

#[test]
fn a_missing_module_names_the_import_chain() {
    let root = project(
        "missing",
        &[
            ("main.lox", "import \"./lib/a\";"),
            ("lib/a.lox", "var x = 1;\nimport \"../gone\";"),
        ],
    );
    assert_eq!(
        diagnostics(compile_project(&root, "main.lox")),
        ["lib/a.lox:2:8: error at '\"../gone\"': Can't import module gone.lox (main.lox -> lib/a.lox -> gone.lox): no such file."]
    );
}

#[test]
fn an_import_cycle_is_an_error_naming_the_cycle() {
    let root = project(
        "cycle",
        &[
            ("main.lox", "import \"./a\";"),
            ("a.lox", "import \"./b\";"),
            ("b.lox", "import \"./a.lox\";"),
        ],
    );
    assert_eq!(
        diagnostics(compile_project(&root, "main.lox")),
        ["b.lox:1:8: error at '\"./a.lox\"': import cycle: main.lox -> a.lox -> b.lox -> a.lox"]
    );
}

#[test]
fn errors_in_an_imported_module_name_that_module() {
    let root = project(
        "broken",
        &[
            ("main.lox", "import \"./lib/broken\";\nprint ;"),
            ("lib/broken.lox", "var ok = 1;\nbreak;"),
        ],
    );
    assert_eq!(
        diagnostics(compile_project(&root, "main.lox")),
        [
            "lib/broken.lox:2:1: error at 'break': Can't use 'break' outside of a loop.",
            "main.lox:2:7: error at ';': Expect expression.",
        ]
    );
}

#[test]
fn bare_names_are_standard_modules_only() {
    let root = project(
        "bare",
        &[(
            "main.lox",
            "import \"math\";\nimport \"strings\";\nimport \"nope\";\nimport \"/etc/x\";",
        )],
    );
    assert_eq!(
        diagnostics(compile_project(&root, "main.lox")),
        [
            "main.lox:3:8: error at '\"nope\"': No standard module named 'nope' (a file path starts with './' or '../').",
            "main.lox:4:8: error at '\"/etc/x\"': An import path starts with './' or '../', or names a standard module.",
        ]
    );
}

#[test]
fn a_standard_module_cannot_import_a_file() {
    let options = CompileOptions {
        native_modules: Vec::new(),
        lox_modules: &[("sneaky", "import \"./secret\";")],
    };
    let result = pvm_compiler::compile_source_with("t.lox", "import \"sneaky\";", &options);
    assert_eq!(
        diagnostics(result),
        ["<stdlib>/sneaky.lox:1:8: error at '\"./secret\"': A standard module can't import a file."]
    );
}

const GEOMETRY_PROJECT: &[(&str, &str)] = &[
    (
        "app/main.lox",
        "import \"./lib/geometry\" as geo;\nimport \"./lib/geometry.lox\";\nimport \"strings\";\nprint geo.area(2);",
    ),
    ("app/lib/geometry.lox", "import \"../../shared/units\";\nfun area(r) { return 3 * r * r; }"),
    ("shared/units.lox", "var metre = 1;"),
];

#[test]
fn bundled_file_names_are_relative_to_the_entry_folder() {
    let root = project("names", GEOMETRY_PROJECT);
    let program = compile_project(&root, "app/main.lox").unwrap_or_else(|e| panic!("{e}"));
    // Dependencies first; the same file under two spellings is one module.
    assert_eq!(
        program.files,
        [
            "../shared/units.lox",
            "lib/geometry.lox",
            "<stdlib>/strings.lox",
            "main.lox"
        ]
    );
    let names: Vec<&str> = program
        .modules
        .iter()
        .map(|module| program.string(module.name).unwrap_or("?"))
        .collect();
    assert_eq!(names, ["units", "geometry", "strings"]);
}

#[test]
fn the_bundle_does_not_depend_on_where_the_project_lives() {
    let here = project("here", GEOMETRY_PROJECT);
    let there = project("there/deeper", GEOMETRY_PROJECT);
    let first = compile_project(&here, "app/main.lox").unwrap_or_else(|e| panic!("{e}"));
    let second = compile_project(&there, "app/main.lox").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, second);
}

#[test]
fn a_broken_function_header_keeps_its_body() {
    // The body is the function's, so `return` and `this` in it invent no errors.
    assert_eq!(
        errors("fun f()\n  return 1;\n}\nclass A {\n  m(a {\n    return this;\n  }\n}"),
        [
            "t.lox:2:3: error at 'return': Expect '{'.",
            "t.lox:5:7: error at '{': Expect one of ')', ','.",
        ]
    );
    // Left open to the end of input, it gets clox's second error there.
    assert_eq!(
        errors("fun f() 123;\n"),
        [
            "t.lox:1:9: error at '123': Expect '{'.",
            "t.lox:2:1: error at end: Expect '}'.",
        ]
    );
    // A statement starting with `fun` declares; a function expression there needs parentheses.
    assert_eq!(
        errors("fun (a) {}"),
        ["t.lox:1:5: error at '(': Expect identifier."]
    );
    assert!(compile_source("t.lox", "(fun (a) { print a; })(1);").is_ok());
}
