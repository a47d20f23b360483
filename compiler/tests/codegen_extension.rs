//! Snapshot checks of the code emitted for the language extension: `finally` duplicated on
//! every way out, per-iteration variables of for-in, compound assignment evaluating its
//! target once, chunked literals, and the shape of modules and imports.

mod common;

use common::{compile, function_listing, listing};
use pvm_bytecode::{Instr, Program};
use pvm_compiler::{compile_source_with, CompileOptions};

#[test]
fn return_inside_try_computes_the_value_first_then_runs_finally() {
    // The returned value is copied to a fresh register (r3) before `finally` assigns x.
    let source = "fun f(x) { try { return x; } finally { x = 2; } }";
    assert_eq!(
        function_listing(source, 1),
        "try r2 7\n\
         move r3 r1\n\
         endtry\n\
         loadint r1 2\n\
         return r3\n\
         endtry\n\
         loadint r1 2\n\
         jump 2\n\
         loadint r1 2\n\
         throw r2\n\
         returnnil"
    );
}

#[test]
fn break_and_continue_pop_handlers_and_run_finally_on_the_way_out() {
    let source = "fun g() {
        while (true) {
            try { break; } catch (e) { continue; } finally { print 1; }
        }
    }";
    assert_eq!(
        function_listing(source, 1),
        // `while (true)` has no test; the handlers, finally outside catch; `continue` goes
        // to the loop's bottom, here the unconditional jump back.
        "try r0 16\n\
         try r1 7\n\
         endtry\n\
         endtry\n\
         loadint r2 1\n\
         print r2\n\
         jump 14\n\
         endtry\n\
         jump 4\n\
         endtry\n\
         loadint r2 1\n\
         print r2\n\
         jump 7\n\
         endtry\n\
         loadint r1 1\n\
         print r1\n\
         jump 3\n\
         loadint r1 1\n\
         print r1\n\
         throw r0\n\
         jump -21\n\
         returnnil"
    );
}

#[test]
fn a_handler_closes_the_upvalues_of_the_region_it_protects() {
    let source = "fun f() {
        try { var v = 1; fun g() { return v; } throw g; } catch (e) { print e; }
    }";
    // The catch variable lives in r0, the body's locals from r1; the handler closes them
    // before the catch body runs.
    assert_eq!(
        function_listing(source, 1),
        "try r0 6\n\
         loadint r1 1\n\
         closure r2 fn2\n\
         throw r2\n\
         close r1\n\
         endtry\n\
         jump 2\n\
         close r1\n\
         print r0\n\
         returnnil"
    );
}

#[test]
fn for_in_closes_the_loop_variable_every_iteration() {
    let source = "fun k(xs) {
        var fs = [];
        for (var x in xs) fs.push(fun () { return x; });
    }";
    assert_eq!(
        function_listing(source, 1),
        "newlist r2 r2 0\n\
         move r3 r1\n\
         loadint r4 0\n\
         forin r5 r3 5\n\
         move r6 r2\n\
         closure r7 fn2\n\
         invoke r6 1 #1\n\
         close r5\n\
         jump -6\n\
         close r3\n\
         returnnil"
    );
}

#[test]
fn compound_index_assignment_evaluates_object_and_index_once() {
    // Parameters nothing reassigns are read in place: one getindex, one setindex.
    assert_eq!(
        function_listing("fun h(xs, i) { xs[i] += 1; }", 1),
        "getindex r3 r1 r2\n\
         loadint r4 1\n\
         add r3 r3 r4\n\
         setindex r1 r2 r3\n\
         returnnil"
    );
    // Calls in the target run once; the right side may reassign `i`, so the index is
    // copied to a temporary first.
    let source = "fun h(i) { f()[g(i)] -= (i = 2); }";
    let code = function_listing(source, 1);
    assert_eq!(code.matches("call").count(), 2, "{code}");
    assert_eq!(code.matches("getindex").count(), 1, "{code}");
    assert_eq!(code.matches("setindex").count(), 1, "{code}");
}

#[test]
fn compound_property_assignment_reads_and_writes_one_object() {
    assert_eq!(
        function_listing("fun f(o) { o.n *= 3; }", 1),
        "getprop r2 r1 #0\n\
         loadint r3 3\n\
         mul r2 r2 r3\n\
         setprop r1 r2 #0\n\
         returnnil"
    );
}

/// The `newlist`/`listextend` (or map) instructions of `code`, with their counts.
fn literal_chunks(code: &[Instr]) -> Vec<(&'static str, u8)> {
    code.iter()
        .filter_map(|instr| match *instr {
            Instr::NewList { count, .. }
            | Instr::ListExtend { count, .. }
            | Instr::NewMap { count, .. }
            | Instr::MapExtend { count, .. } => Some((instr.mnemonic(), count)),
            _ => None,
        })
        .collect()
}

#[test]
fn long_literals_are_built_in_chunks_within_the_registers() {
    let elements: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let program = compile(&format!("var xs = [{}];", elements.join(", ")));
    let script = &program.functions[program.entry as usize];
    assert_eq!(
        literal_chunks(&script.code),
        [("newlist", 255), ("listextend", 255), ("listextend", 90)]
    );
    assert!(script.num_regs <= 256);

    let entries: Vec<String> = (0..300).map(|i| format!("{i}: {i}")).collect();
    let program = compile(&format!("var m = {{{}}};", entries.join(", ")));
    let script = &program.functions[program.entry as usize];
    // A pair takes two registers: 127 pairs fill 254 of the 255 left above `m`.
    assert_eq!(
        literal_chunks(&script.code),
        [("newmap", 127), ("mapextend", 127), ("mapextend", 46)]
    );
}

#[test]
fn a_chunked_literal_assigned_to_a_local_goes_through_a_temporary() {
    let elements: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    let source = format!("fun f() {{ var xs; xs = [{}, xs]; }}", elements.join(", "));
    let program = compile(&source);
    let code = &program.functions[1].code;
    // xs is r0; the list is built in r1 and moved into r0 at the very end.
    let first = code
        .iter()
        .find(|instr| matches!(instr, Instr::NewList { .. }));
    assert!(
        matches!(first, Some(Instr::NewList { dst: 1, .. })),
        "{code:?}"
    );
    assert_eq!(code[code.len() - 2], Instr::Move { dst: 0, src: 1 });
}

const LIB: &str = "var a = 1;\nfun f() {}\nclass C {}\na = 2;\n";

fn compile_with_lib(source: &str) -> Program {
    let options = CompileOptions {
        native_modules: vec!["math"],
        lox_modules: &[("lib", LIB)],
    };
    compile_source_with("t.lox", source, &options).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn a_module_top_level_returns_its_module_object_and_exports_its_names() {
    let program = compile_with_lib("import \"lib\";");
    assert_eq!(program.files, ["<stdlib>/lib.lox", "t.lox"]);
    let [module] = &program.modules[..] else {
        panic!("one module: {:?}", program.modules)
    };
    assert_eq!(program.string(module.name), Some("lib"));
    assert_eq!(
        listing(&program.functions[module.function as usize].code),
        "loadint r0 1\n\
         defglobal r0 g0\n\
         closure r0 fn1\n\
         defglobal r0 g1\n\
         class r0 #3\n\
         defglobal r0 g2\n\
         loadint r0 2\n\
         setglobal r0 g0\n\
         getmodule r0 m0\n\
         return r0"
    );
    let exports: Vec<(&str, u32)> = module
        .exports
        .iter()
        .map(|export| (program.string(export.name).unwrap_or("?"), export.slot))
        .collect();
    assert_eq!(exports, [("a", 0), ("f", 1), ("C", 2)]);
}

#[test]
fn every_module_has_its_own_global_slots() {
    // The entry's `f` and `a` are not the module's.
    let program = compile_with_lib("import \"lib\";\nfun f() {}\nvar a = f;");
    let names: Vec<&str> = program
        .globals
        .iter()
        .map(|&name| program.string(name).unwrap_or("?"))
        .collect();
    assert_eq!(names, ["a", "f", "C", "lib", "f", "a"]);
}

#[test]
fn an_import_targets_the_highest_register_and_binds_a_local_in_a_block() {
    let program = compile_with_lib(
        "fun f() { var a = 1; import \"lib\" as m; import \"math\"; return m; }\n\
         import \"lib\";",
    );
    // Function 0 is the module, 1 its `f`; 2 is the entry and 3 the entry's `f`.
    assert_eq!(
        listing(&program.functions[3].code),
        "loadint r0 1\n\
         import r1 m0\n\
         importnative r2 #5\n\
         return r1\n\
         returnnil"
    );
    assert_eq!(program.string(5), Some("math"));
    // Imported twice, bundled once.
    assert_eq!(program.modules.len(), 1);
}
