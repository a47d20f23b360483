//! Compile errors through the public API: their format, their order, recovery from syntax
//! errors (every error of a file is reported), the book's static errors, and the nesting limit.

use pvm_compiler::{compile_source, CompileError};

/// The diagnostics of `source`, one string each; panics if it compiles.
fn errors(source: &str) -> Vec<String> {
    match compile_source("t.lox", source) {
        Ok(_) => panic!("expected compile errors for {source:?}"),
        Err(CompileError::Diagnostics(found)) => found.iter().map(|d| d.to_string()).collect(),
        Err(other) => panic!("unexpected error {other}"),
    }
}

fn compiles(source: &str) {
    if let Err(error) = compile_source("t.lox", source) {
        panic!("{source:?} should compile, got:\n{error}");
    }
}

#[test]
fn syntax_error_format_names_token_line_and_column() {
    assert_eq!(
        errors("print 1;\nprint ;"),
        ["t.lox:2:7: error at ';': Expect expression."]
    );
}

#[test]
fn error_at_end_of_input() {
    assert_eq!(errors("print 1"), ["t.lox:1:8: error at end: Expect ';'."]);
}

#[test]
fn recovery_reports_every_syntax_error_in_order() {
    let found = errors("var 1 = 2;\nprint 3;\nprint (;\nfun f( {}\nprint 4 5;\n");
    let lines: Vec<&str> = found
        .iter()
        .map(|d| d.split(": error").next().unwrap_or(""))
        .collect();
    assert_eq!(lines, ["t.lox:1:5", "t.lox:3:8", "t.lox:4:8", "t.lox:5:9"]);
}

#[test]
fn recovery_at_a_block_end_keeps_the_tree_for_static_checks() {
    let found = errors("class A {\n  m() { return this.y }\n  init() { return 1; }\n}\nprint 1");
    assert_eq!(
        found,
        [
            "t.lox:2:23: error at '}': Expect ';'.",
            "t.lox:3:12: error at 'return': Can't return a value from an initializer.",
            "t.lox:5:8: error at end: Expect ';'.",
        ]
    );
    assert_eq!(
        errors("fun f() {\n  print 1;\n"),
        ["t.lox:3:1: error at end: Expect '}'."]
    );
}

#[test]
fn lexical_and_syntax_and_static_errors_come_together_in_source_order() {
    let found = errors("return 1;\nvar a = @;\nthis;\n");
    assert_eq!(
        found,
        [
            "t.lox:1:1: error at 'return': Can't return from top-level code.",
            // The bad character is reported once; the parser recovers past it quietly.
            "t.lox:2:9: error at '@': Unexpected character.",
            "t.lox:3:1: error at 'this': Can't use 'this' outside of a class.",
        ]
    );
}

#[test]
fn unterminated_string_points_at_its_start() {
    assert_eq!(
        errors("print 1;\nprint \"abc\n\ndef"),
        ["t.lox:2:7: error: Unterminated string."]
    );
}

#[test]
fn quoted_tokens_stay_on_one_line() {
    assert_eq!(
        errors("print \"a\nb\" \"c\";"),
        ["t.lox:2:4: error at '\"c\"': Expect ';'."]
    );
    assert_eq!(
        errors("print 1 \"two\nlines\";"),
        ["t.lox:1:9: error at '\"two...': Expect ';'."]
    );
}

#[test]
fn invalid_assignment_targets() {
    assert_eq!(
        errors("var a; var b;\na + b = 1;\n(a) = 2;\na.b = 3;"),
        [
            "t.lox:2:7: error at '=': Invalid assignment target.",
            "t.lox:3:5: error at '=': Invalid assignment target.",
        ]
    );
}

#[test]
fn the_books_static_errors() {
    let cases = [
        (
            "fun f() {}\nreturn;",
            "t.lox:2:1: error at 'return': Can't return from top-level code.",
        ),
        (
            "class A { init() { return 1; } }",
            "t.lox:1:20: error at 'return': Can't return a value from an initializer.",
        ),
        (
            "fun f() { this; }",
            "t.lox:1:11: error at 'this': Can't use 'this' outside of a class.",
        ),
        (
            "super.x;",
            "t.lox:1:1: error at 'super': Can't use 'super' outside of a class.",
        ),
        (
            "class A { m() { super.m(); } }",
            "t.lox:1:17: error at 'super': Can't use 'super' in a class with no superclass.",
        ),
        (
            "class A < A {}",
            "t.lox:1:11: error at 'A': A class can't inherit from itself.",
        ),
        (
            "{ var a = 1; { var a = a; } }",
            "t.lox:1:24: error at 'a': Can't read local variable in its own initializer.",
        ),
        (
            "{ var a; var a; }",
            "t.lox:1:14: error at 'a': Already a variable with this name in this scope.",
        ),
        (
            "fun f(a, a) {}",
            "t.lox:1:10: error at 'a': Already a variable with this name in this scope.",
        ),
    ];
    for (source, expected) in cases {
        assert_eq!(errors(source), [expected], "for {source:?}");
    }
}

#[test]
fn things_the_book_allows() {
    // Globals may be redeclared and read in their own initializer; `return;` in an initializer
    // is fine; a method may be called `init` without being one in a nested function.
    compiles("var a = 1; var a = a;");
    compiles("class A { init() { return; } }");
    compiles("{ var a = 1; { var b = a; var a = b; } }");
}

#[test]
fn too_many_parameters_and_arguments() {
    let params: Vec<String> = (0..256).map(|i| format!("p{i}")).collect();
    let found = errors(&format!("fun f({}) {{}}", params.join(", ")));
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("at 'p255': Can't have more than 255 parameters."));

    let args = vec!["1"; 256].join(", ");
    let found = errors(&format!("f({args});"));
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("Can't have more than 255 arguments."));

    // 255 parameters fill R1..R255; R0 (free in a plain function) holds the sum.
    let all = params[..255].join(", ");
    compiles(&format!("fun f({all}) {{ return p0 + p254; }}"));
    // Likewise a method's R0 once nothing in it uses `this`.
    compiles(&format!("class C {{ m({all}) {{ return p0 + p254; }} }}"));
    // A call of 255 arguments takes all 256 registers; the script's R0 is free to be one.
    compiles(&format!("f({});", vec!["1"; 255].join(", ")));
    compiles(&format!("print o.m({});", vec!["1"; 255].join(", ")));
}

#[test]
fn too_many_registers_is_an_error_naming_the_limit() {
    let locals: String = (0..300).map(|i| format!("var v{i};\n")).collect();
    let found = errors(&format!("{{\n{locals}}}"));
    assert_eq!(found.len(), 1);
    // The script's R0 is free for its own use, so v0..v255 fill R0..R255.
    assert!(
        found[0].starts_with("t.lox:258:5: error at 'v256'"),
        "{found:?}"
    );
    assert!(found[0].contains("256 registers"), "{found:?}");
}

#[test]
fn nul_bytes_are_rejected_with_their_offset() {
    assert_eq!(
        errors("print 1;\nprint\0 2;"),
        ["t.lox:2:6: error: Source contains a NUL byte (byte offset 14)."]
    );
}

#[test]
fn invalid_utf8_in_a_file_is_rejected_with_its_offset() {
    let dir = std::env::temp_dir().join(format!("pvm-compiler-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.lox");
    std::fs::write(&path, b"print 1;\nprint \xff;").expect("write");
    let result = pvm_compiler::compile_file(&path);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Err(CompileError::Diagnostics(found)) => assert_eq!(
            found[0].to_string(),
            "bad.lox:2:7: error: Source is not valid UTF-8 (byte offset 15)."
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unreadable_files_are_io_errors() {
    let missing = std::path::Path::new("/nonexistent/pvm/missing.lox");
    assert!(matches!(
        pvm_compiler::compile_file(missing),
        Err(CompileError::Io { .. })
    ));
    assert!(matches!(
        pvm_compiler::compile_file(&std::env::temp_dir()),
        Err(CompileError::Io { .. })
    ));
}

/// Nesting 100,000 deep of every recursive shape is rejected with one error naming the limit,
/// instead of overflowing the stack.
#[test]
fn deep_nesting_is_rejected_not_a_crash() {
    let n = 100_000;
    let shapes = [
        format!("print {}1{};", "(".repeat(n), ")".repeat(n)),
        format!("{}{}", "{".repeat(n), "}".repeat(n)),
        format!("print {}1;", "-".repeat(n)),
        format!("print {}true;", "!".repeat(n)),
        format!("print {}1{};", "f(".repeat(n), ")".repeat(n)),
        format!("print {}0{};", "xs[".repeat(n), "]".repeat(n)),
        format!("print 1{};", " + (1".repeat(n) + &")".repeat(n)),
        format!("print 1{};", " + -f(1".repeat(n) + &")".repeat(n)),
        format!("print a{};", " or (a".repeat(n) + &")".repeat(n)),
        format!("print a{};", " and !(a".repeat(n) + &")".repeat(n)),
        format!("if (a{}) print 1;", " or (a".repeat(n) + &")".repeat(n)),
        format!(
            "while (a{}) print 1;",
            " and (b or c".repeat(n) + &")".repeat(n)
        ),
        format!("a{} = 1;", " = a".repeat(n)),
        format!("{}print 1;", "if (true) ".repeat(n)),
        format!("{}{}", "fun f() {".repeat(n / 10), "}".repeat(n / 10)),
        format!(
            "{}{}",
            "class A { m() {".repeat(n / 10),
            "} }".repeat(n / 10)
        ),
    ];
    for source in &shapes {
        let found = errors(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("Code nests too deeply (the limit is 1000 levels)."),
            "{found:?}"
        );
    }
}

/// A left-leaning chain is one nesting level however long: the passes walk its links with a
/// loop. Each shape is 100,000 links long, with operands that nest a little themselves.
#[test]
fn long_chains_are_not_nesting() {
    let n = 100_000;
    let shapes = [
        format!("print 1{};", " + 1".repeat(n)),
        format!("print 1{};", " - x * 2".repeat(n)),
        format!("print 1{};", " < 2".repeat(n)),
        format!("print 1{};", " + (2 * -(3))".repeat(n)),
        format!("print 1{};", " + f(g(x), y[0])".repeat(n)),
        format!("f{};", "()".repeat(n)),
        format!("a{};", ".b".repeat(n)),
        format!("a{};", ".b()".repeat(n)),
        format!("a{}.c = 1;", ".b(1)".repeat(n)),
        format!("xs{};", "[0]".repeat(n)),
        format!("xs{} += 1;", "[i + 1]".repeat(n)),
        format!("print -a{};", ".b()[0](1, 2) + 1".repeat(n)),
        format!("if (a{} < 1) print 1;", " + b".repeat(n)),
        format!("fun f(x) {{ return x{}; }}", " + x".repeat(n)),
        format!("class A {{ m() {{ return this{}; }} }}", ".m()".repeat(n)),
        format!("print a{};", " or a".repeat(n)),
        format!("print a{};", " and a".repeat(n)),
        format!("print a{};", " or b and c".repeat(n)),
        format!("print a{};", " and b or c".repeat(n)),
        format!("print a{};", " or b < 1 and !c(d)".repeat(n)),
        format!("var x = a{};", " or b".repeat(n)),
        format!("{{ var x; x = x{}; }}", " or x".repeat(n)),
        format!("if (a{}) print 1;", " or b".repeat(n)),
        format!("if (a{}) print 1;", " and b or c".repeat(n)),
        format!("while (a < 1{}) print 1;", " and b > 2 or !c".repeat(n)),
        format!("for (;a{};) print 1;", " and b".repeat(n)),
        format!("print a + 1{};", " or b + 1 == 2".repeat(n)),
    ];
    for source in &shapes {
        if let Err(error) = compile_source("t.lox", source) {
            let start: String = source.chars().take(60).collect();
            panic!("{start}... should compile, got:\n{error}");
        }
    }
    // In parentheses, a chain nests exactly as deep as a single `1 + 1`: both compile at one
    // depth and are refused at the next.
    let chain = "1".to_string() + &" + 1".repeat(n);
    let in_parentheses = |inner: &str, depth: usize| {
        let source = format!("print {}{inner}{};", "(".repeat(depth), ")".repeat(depth));
        compile_source("t.lox", &source).is_ok()
    };
    let deepest = (900..1000)
        .take_while(|&depth| in_parentheses("1 + 1", depth))
        .last()
        .expect("`1 + 1` in 900 parentheses compiles");
    assert!(in_parentheses(&chain, deepest));
    let found = errors(&format!(
        "print {}{chain}{};",
        "(".repeat(deepest + 1),
        ")".repeat(deepest + 1)
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("Code nests too deeply"), "{found:?}");
    // The same for a chain of `and`/`or`, as a value and as a condition.
    let chain = "a".to_string() + &" or b and c".repeat(n);
    let deepest_print = (900..1000)
        .take_while(|&depth| in_parentheses("a or b and c", depth))
        .last()
        .expect("`a or b and c` in 900 parentheses compiles");
    assert!(in_parentheses(&chain, deepest_print));
    let found = errors(&format!(
        "print {}{chain}{};",
        "(".repeat(deepest_print + 1),
        ")".repeat(deepest_print + 1)
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("Code nests too deeply"), "{found:?}");
    let in_condition = |inner: &str, depth: usize| {
        let source = format!(
            "if ({}{inner}{}) print 1;",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        compile_source("t.lox", &source).is_ok()
    };
    let deepest_if = (900..1000)
        .take_while(|&depth| in_condition("a or b and c", depth))
        .last()
        .expect("`a or b and c` in 900 parentheses compiles");
    assert!(in_condition(&chain, deepest_if));
    assert!(!in_condition(&chain, deepest_if + 1));
}
