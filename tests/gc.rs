//! Garbage-collector behaviour seen from outside: cyclic garbage is reclaimed, so
//! a loop that keeps building cycles runs in flat memory, and collections happen.

use pvm_runtime::{Options, Vm};

/// Compiles `source` and runs it, returning the VM afterwards for inspection.
fn run(source: &str) -> Vm {
    let program = pvm_compiler::compile_source("cycles.lox", source).expect("compiles");
    let bytes = pvm_bytecode::encode(&program);
    let mut vm = pvm_runtime::load_bytes(
        &bytes,
        &pvm_runtime::Library::default(),
        Options::default(),
        Box::new(Vec::new()),
    )
    .expect("loads");
    vm.run().expect("runs");
    vm
}

fn cycles_program(iterations: u32) -> String {
    format!(
        "class Node {{ init(label) {{ this.label = label; this.next = nil; }} }}
         for (var i = 0; i < {iterations}; i = i + 1) {{
           var a = Node(\"a\");
           var b = Node(\"b\");
           a.next = b;
           b.next = a;
           fun closure() {{ return a; }}
           a.callback = closure;
         }}"
    )
}

#[test]
fn cyclic_garbage_is_reclaimed_and_peak_heap_stays_flat() {
    let small = run(&cycles_program(20_000));
    let large = run(&cycles_program(200_000));
    assert!(
        large.collections() > small.collections(),
        "the larger run must collect more"
    );
    // Ten times the garbage must not mean more live heap: the peak is set by the
    // collection threshold, not by how many cycles were built.
    let (small_peak, large_peak) = (small.peak_heap_bytes(), large.peak_heap_bytes());
    assert!(
        large_peak <= small_peak + small_peak / 4,
        "peak heap grew with the number of cycles: {small_peak} -> {large_peak} bytes"
    );
    assert!(
        large_peak < 8 << 20,
        "peak heap {large_peak} bytes is far above the threshold"
    );
}

#[test]
fn live_data_survives_collections() {
    // A long linked list stays reachable through a global while garbage churns.
    let vm = run(
        "class Node { init(v, next) { this.v = v; this.next = next; } }
         var list = nil;
         for (var i = 0; i < 50000; i = i + 1) { list = Node(i, list); var junk = Node(i, nil); }
         var sum = 0;
         var node = list;
         while (node != nil) { sum = sum + node.v; node = node.next; }
         if (sum != 1249975000) { undefined_function_to_fail(); }",
    );
    assert!(
        vm.collections() > 0,
        "the loop must have triggered collections"
    );
}
