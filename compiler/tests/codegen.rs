//! Snapshot checks of the code the compiler emits, rendered compactly (mnemonic and operands)
//! so that the expectations show register use exactly without depending on the disassembler's
//! layout; plus determinism and the file name recorded by `compile_file`.

mod common;

use common::{compile, function_listing, listing};
use pvm_bytecode::Instr;

#[test]
fn locals_are_read_in_place_and_chains_reuse_the_result_register() {
    let source = "fun f(a, b) { var c = a + b * 2 - 1; return c; }";
    assert_eq!(
        function_listing(source, 1),
        "mulk r4 r2 #0\n\
         add r3 r1 r4\n\
         subk r3 r3 #1\n\
         return r3\n\
         returnnil"
    );
}

#[test]
fn long_chains_use_as_many_registers_as_short_ones() {
    // Each shape in a function, short and 100,000 links long: the chain's links reuse the
    // result register (or one temporary), so the register count does not grow with length.
    let shapes = [
        ("fun f(a, b) { return a", " + b", "; }"),
        ("fun f(a, b) { return a", " + b * 2 - 1", "; }"),
        ("fun f(a, b) { return a", " + g(b, 1)", "; }"),
        ("fun f(a) { return a", ".m(1, 2)", "; }"),
        ("fun f(a) { return a", ".p", "; }"),
        ("fun f(a) { return a", "()", "; }"),
        ("fun f(a, i) { return a", "[i + 1]", "; }"),
        ("fun f(a, i) { a", "[i]", " = i; }"),
        ("fun f(a, b) { var c = a", " + b", "; return c; }"),
        ("fun f(a, b) { return a", " or b", "; }"),
        ("fun f(a, b) { return a", " and b < 1 or !a", "; }"),
        ("fun f(a, b) { a = b", " or a", "; return a; }"),
        ("fun f(a, b) { if (a", " or b and g(a)", ") return 1; }"),
        (
            "fun f(a, b) { while (a < b",
            " and a != 2 or b",
            ") a = a + 1; }",
        ),
    ];
    for (head, link, tail) in shapes {
        let registers = |links: usize| {
            let source = format!("{head}{}{tail}", link.repeat(links));
            compile(&source).functions[1].num_regs
        };
        assert_eq!(registers(100_000), registers(2), "{head}{link}...{tail}");
    }
    // The 100,000 additions are one instruction each, all into one register.
    let sum = format!("fun f(a, b) {{ return a{}; }}", " + b".repeat(100_000));
    let code = &compile(&sum).functions[1].code;
    assert_eq!(code.len(), 100_000 + 2);
    assert_eq!(
        listing(&code[..3]),
        "add r3 r1 r2\nadd r3 r3 r2\nadd r3 r3 r2"
    );
}

#[test]
fn chains_of_calls_indexing_and_properties_keep_evaluation_order() {
    let source = "fun f(o, i) { return o.m(i)[i + 1].p(o.q)(2); }";
    assert_eq!(
        function_listing(source, 1),
        "move r3 r1\n\
         move r4 r2\n\
         invoke r3 1 #0\n\
         addk r4 r2 #1\n\
         getindex r3 r3 r4\n\
         getprop r4 r1 #2\n\
         invoke r3 1 #3\n\
         loadint r4 2\n\
         call r3 1\n\
         return r3\n\
         returnnil"
    );
}

#[test]
fn and_or_chains_short_circuit_in_order() {
    // `a or b and c or a` is `(a or (b and c)) or a`: each left value is tested where it
    // lands, and a right operand runs only when the value left of it decides nothing.
    let source = "fun f(a, b, c) { return a or b and c or a; }";
    assert_eq!(
        function_listing(source, 1),
        "move r4 r1\n\
         jumpiftrue r4 3\n\
         move r4 r2\n\
         jumpiffalse r4 1\n\
         move r4 r3\n\
         jumpiftrue r4 1\n\
         move r4 r1\n\
         return r4\n\
         returnnil"
    );
    // As a condition, no value is built: `a < 1` jumps straight into the body, a false `b`
    // skips to the last test, and only that test jumps past the body.
    let source = "fun f(a, b, c) { if (a < 1 or b and !c or a == 2) return 1; return 2; }";
    assert_eq!(
        function_listing(source, 1),
        "jltk r1 #0 3\n\
         jumpiffalse r2 1\n\
         jumpiffalse r3 1\n\
         jnek r1 #1 2\n\
         loadint r4 1\n\
         return r4\n\
         loadint r4 2\n\
         return r4\n\
         returnnil"
    );
}

#[test]
fn assignment_to_a_local_writes_its_register_last() {
    // `a = x or a` must not clobber `a` before its right side reads it.
    let source = "fun f(a, x) { a = x or a; }";
    assert_eq!(
        function_listing(source, 1),
        "move r3 r2\n\
         jumpiftrue r3 1\n\
         move r3 r1\n\
         move r1 r3\n\
         returnnil"
    );
    // `a + g()` where a closure captures `a`, so the call may change it: `a` is copied first.
    let source = "fun f(a, g) { fun h() { a = 0; } return a + g(); }";
    assert_eq!(
        function_listing(source, 1),
        "closure r3 fn2\n\
         move r4 r1\n\
         move r5 r2\n\
         call r5 0\n\
         add r4 r4 r5\n\
         return r4\n\
         returnnil"
    );
    // No closure captures `a`, so no call can change it: it is read in place.
    let source = "fun f(a, g) { return a + g(); }";
    assert_eq!(
        function_listing(source, 1),
        "move r4 r2\n\
         call r4 0\n\
         add r3 r1 r4\n\
         return r3\n\
         returnnil"
    );
    // An assignment to `a` on the right still forces the copy.
    let source = "fun f(a) { return a + (a = 2); }";
    assert_eq!(
        function_listing(source, 1),
        "move r2 r1\n\
         loadint r1 2\n\
         move r3 r1\n\
         add r2 r2 r3\n\
         return r2\n\
         returnnil"
    );
}

#[test]
fn calls_put_callee_and_arguments_in_consecutive_registers() {
    // `o` is not read back: r0 still holds what `defglobal` just stored.
    let source = "var o; o.m(1, 2); print f(o)(3);";
    assert_eq!(
        function_listing(source, 0),
        "loadnil r0\n\
         defglobal r0 g0\n\
         loadint r1 1\n\
         loadint r2 2\n\
         invoke r0 2 #1\n\
         getglobal r0 g1\n\
         getglobal r1 g0\n\
         call r0 1\n\
         loadint r1 3\n\
         call r0 1\n\
         print r0\n\
         returnnil"
    );
}

#[test]
fn captured_block_locals_are_closed_at_block_end() {
    let source = "{ var a = 1; fun g() { return a; } }";
    let program = compile(source);
    assert_eq!(
        listing(&program.functions[0].code),
        "loadint r0 1\n\
         closure r1 fn1\n\
         close r0\n\
         returnnil"
    );
    let g = &program.functions[1];
    assert_eq!(g.upvalues.len(), 1);
    assert!(g.upvalues[0].is_local);
    assert_eq!(g.upvalues[0].index, 0);
    assert_eq!(listing(&g.code), "getupval r0 u0\nreturn r0\nreturnnil");
}

#[test]
fn loops_jump_relative_to_the_next_instruction() {
    // Inverted: tested once on entry, then at the bottom with a backward compare-and-branch.
    let source = "for (var i = 0; i < n; i = i + 1) print i;";
    assert_eq!(
        function_listing(source, 0),
        "loadint r0 0\n\
         getglobal r1 g0\n\
         jnlt r0 r1 4\n\
         print r0\n\
         addk r0 r0 #1\n\
         getglobal r1 g0\n\
         jlt r0 r1 -4\n\
         returnnil"
    );
    // `0 < 3` holds on entry: no entry test.
    let source = "for (var i = 0; i < 3; i = i + 1) print i;";
    assert_eq!(
        function_listing(source, 0),
        "loadint r0 0\n\
         print r0\n\
         incjltk r0 #0 #1 -2\n\
         returnnil"
    );
}

#[test]
fn a_counted_loops_step_and_test_fuse_into_one_instruction() {
    let source = "fun f(n) { var i = 0; while (i <= 10) { print i; i = i + 2; } }";
    assert!(function_listing(source, 1).contains("incjlek r2 #1 #0 -"));
    // Against a register the test can fail, and its error must name the `<`: not fused.
    let source = "fun f(n) { for (var i = 0; i < n; i = i + 1) print i; }";
    assert_eq!(
        function_listing(source, 1),
        "loadint r2 0\n\
         jnlt r2 r1 3\n\
         print r2\n\
         addk r2 r2 #0\n\
         jlt r2 r1 -3\n\
         returnnil"
    );
    // `continue` lands on the test, which must then run without the step: not fused.
    let source = "fun f(c) { var i = 0; while (i < 9) { if (c) continue; i = i + 1; } }";
    let listing = function_listing(source, 1);
    assert!(
        listing.contains("addk r2 r2 #1\njltk r2 #0 -") && !listing.contains("inc"),
        "{listing}"
    );
    // Only a step of the tested register in place.
    let source = "fun f() { var i = 0; var j = 0; while (i < 9) j = i + 1; }";
    assert!(!function_listing(source, 1).contains("inc"));
}

#[test]
fn division_by_a_power_of_two_multiplies_by_its_exact_reciprocal() {
    let program =
        compile("fun f(x) { return [x / 2, x / -0.25, x / 3, x / 0, x / 89884656743115795386465259539451236680898848947115328636715040578866337902750481566354238661203768010560056939935696678829394884407208311246423715319737062188883946712432742638151109800623047059726541476042502884419075341171231440736956555270413618581675255342293149119973622969239858152417678164812112068608]; }");
    let code = listing(&program.functions[1].code);
    assert!(
        code.starts_with(
            "mulk r3 r1 #0\nmulk r4 r1 #1\ndivk r5 r1 #2\ndivk r6 r1 #3\ndivk r7 r1 #4"
        ),
        "{code}"
    );
    use pvm_bytecode::Constant;
    let numbers: Vec<f64> = program.constants[..5]
        .iter()
        .map(|k| match k {
            Constant::Number(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    // 2^1023's reciprocal would be subnormal, so that division stays.
    assert_eq!(numbers, [0.5, -4.0, 3.0, 0.0, 8.98846567431158e307]);
}

#[test]
fn classes_methods_super_and_initializers() {
    let source = "class A { init(x) { this.x = x; return; } }\n\
                  class B < A { m() { return super.m(1); } }";
    let program = compile(source);
    assert_eq!(
        listing(&program.functions[0].code),
        "class r0 #0\n\
         defglobal r0 g0\n\
         closure r1 fn1\n\
         method r0 r1 #2\n\
         class r0 #3\n\
         defglobal r0 g1\n\
         getglobal r1 g0\n\
         inherit r0 r1\n\
         closure r2 fn2\n\
         method r0 r2 #4\n\
         close r1\n\
         returnnil"
    );
    // `return;` in an initializer and its implicit end both return `this`.
    assert_eq!(
        listing(&program.functions[1].code),
        "setprop r0 r1 #1\nreturn r0\nreturn r0"
    );
    assert_eq!(
        listing(&program.functions[2].code),
        "move r1 r0\n\
         loadint r2 1\n\
         getupval r3 u0\n\
         superinvoke r1 1 r3 #4\n\
         return r1\n\
         returnnil"
    );
}

#[test]
fn numbers_and_strings_are_deduplicated_constants() {
    let program = compile("print 1.5; print 1.5; print \"s\"; print \"s\"; print -0; print 70000;");
    let numbers = program
        .constants
        .iter()
        .filter(|c| matches!(c, pvm_bytecode::Constant::Number(_)))
        .count();
    // 1.5 and -0 (which an integer immediate can't hold); 70000 is an immediate.
    assert_eq!(numbers, 2);
    assert_eq!(
        program
            .constants
            .iter()
            .filter(|c| **c == pvm_bytecode::Constant::String("s".into()))
            .count(),
        1
    );
}

#[test]
fn many_constants_go_past_u16() {
    let source: String = (0..70_000).map(|i| format!("print {i}.5;\n")).collect();
    let program = compile(&source);
    assert!(program.constants.len() > 70_000);
}

#[test]
fn line_table_points_at_operators_and_calls() {
    let program = compile("var a = 1;\nprint a\n  + \"x\";\nf(\n1\n);");
    let script = &program.functions[0];
    let add = script
        .code
        .iter()
        .position(|i| matches!(i, Instr::Add { .. }))
        .expect("an add");
    assert_eq!(script.position(add), Some((3, 3)));
    let call = script
        .code
        .iter()
        .position(|i| matches!(i, Instr::Call { .. }))
        .expect("a call");
    assert_eq!(script.position(call), Some((6, 1)));

    // An operand that continues onto later lines moves the operator's position to where the
    // operand ends (the line the book's interpreters report), at its last character.
    let program = compile("var c = 1 +\n  2 *\n  \"x\";");
    let script = &program.functions[0];
    let mul = script
        .code
        .iter()
        .position(|i| matches!(i, Instr::Mul { .. }))
        .expect("a mul");
    assert_eq!(script.position(mul), Some((3, 5)));
}

#[test]
fn compiling_twice_gives_identical_bytes() {
    let source = "var z = 1; var a = 2; class K < Z { m() { return this.q + z; } }\n\
                  fun f(x) { fun g() { return x; } return g; } print f(3)() + \"s\";";
    let first = pvm_bytecode::encode(&compile(source));
    for _ in 0..5 {
        assert_eq!(pvm_bytecode::encode(&compile(source)), first);
    }
}

#[test]
fn compile_file_records_only_the_file_name() {
    let dir = std::env::temp_dir().join(format!("pvm-compiler-name-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("main.lox");
    std::fs::write(&path, "print 1;").expect("write");
    let program = pvm_compiler::compile_file(&path);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(program.expect("compiles").files, ["main.lox"]);
}

#[test]
fn the_disassembler_can_read_the_output() {
    let text = pvm_bytecode::disassemble(&compile("fun f() { return 1; } print f();"));
    assert!(text.contains("function #1 f"), "{text}");
    assert!(text.contains("call"), "{text}");
}

#[test]
fn short_compare_jumps_out_of_range_become_a_negated_test_and_a_long_jump() {
    // Each `x = x + 1;` on a local is one instruction, so the body is 40,000 long: past the
    // 32,767 a 16-bit offset reaches, both forward (the entry test) and backward.
    let body = "x = x + 1; ".repeat(40_000);
    let source = format!("fun f(x) {{ while (x < 5) {{ {body} }} }}");
    let program = compile(&source);
    let code = &program.functions[1].code;
    let rendered = listing(&code[..2]);
    assert_eq!(rendered, "jltk r1 #0 1\njump 40002");
    // The last step fused with the test (`incjltk`) comes apart again: step, negated test,
    // long jump.
    let tail = listing(&code[code.len() - 4..]);
    assert_eq!(tail, "addk r1 r1 #1\njnltk r1 #0 1\njump -40002\nreturnnil");
    // Short ones in range stay single instructions.
    let source = "fun f(x) { while (x < 5) x = x + 1; }";
    assert_eq!(
        function_listing(source, 1),
        "jnltk r1 #0 1\nincjltk r1 #1 #0 -1\nreturnnil"
    );
}

#[test]
fn a_variable_just_stored_from_a_register_is_not_loaded_back() {
    let source = "fun f() { var t = 0; fun add(n) { t = t + n; return t; } }";
    assert_eq!(
        function_listing(source, 2),
        "getupval r2 u0\n\
         add r2 r2 r1\n\
         setupval r2 u0\n\
         return r2\n\
         returnnil"
    );
    // Where a jump lands the register may hold something else: the load stays.
    let source = "var g; fun f(c) { if (c) g = 1; return g; }";
    assert_eq!(
        function_listing(source, 1),
        "jumpiffalse r1 2\n\
         loadint r2 1\n\
         setglobal r2 g0\n\
         getglobal r2 g0\n\
         return r2\n\
         returnnil"
    );
}
