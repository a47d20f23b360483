//! Criterion benchmarks of the garbage collector: allocation throughput,
//! collection throughput over a live heap, and pause times on a binary-trees
//! workload (printed after the run, since criterion measures whole iterations).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pvm_runtime::{Library, Options, Vm};

fn load(source: &str) -> Vm {
    let program = pvm_compiler::compile_source("gc.lox", source).expect("benchmark compiles");
    let bytes = pvm_bytecode::encode(&program);
    pvm_runtime::load_bytes(
        &bytes,
        &Library::default(),
        Options::default(),
        Box::new(std::io::sink()),
    )
    .expect("benchmark loads")
}

const ALLOCATIONS: u64 = 200_000;

fn allocation(c: &mut Criterion) {
    let source = format!(
        "class Pair {{ init(a, b) {{ this.a = a; this.b = b; }} }}
         for (var i = 0; i < {ALLOCATIONS}; i = i + 1) {{ var p = Pair(i, nil); }}"
    );
    let mut group = c.benchmark_group("gc");
    group.throughput(Throughput::Elements(ALLOCATIONS));
    group.bench_function("allocate_short_lived_instances", |b| {
        b.iter(|| load(&source).run().expect("runs"))
    });
    group.finish();
}

fn collection(c: &mut Criterion) {
    // A live linked list of 100,000 instances, kept by a global.
    let live = 100_000;
    let mut vm = load(&format!(
        "class Node {{ init(next) {{ this.next = next; }} }}
         var list = nil;
         for (var i = 0; i < {live}; i = i + 1) list = Node(list);"
    ));
    vm.run().expect("builds the heap");
    let mut group = c.benchmark_group("gc");
    group.throughput(Throughput::Elements(live));
    group.bench_function("collect_live_heap_of_100k_objects", |b| {
        b.iter(|| vm.collect_garbage())
    });
    group.finish();
}

fn binary_trees_pauses(c: &mut Criterion) {
    let source = "
        class Tree { init(left, right) { this.left = left; this.right = right; } }
        fun build(depth) {
          if (depth == 0) return Tree(nil, nil);
          return Tree(build(depth - 1), build(depth - 1));
        }
        fun check(tree) {
          if (tree.left == nil) return 1;
          return 1 + check(tree.left) + check(tree.right);
        }
        var long = build(14);
        for (var d = 4; d <= 14; d = d + 2) {
          var n = 1;
          for (var i = 0; i < 14 - d; i = i + 1) n = n * 2;
          for (var i = 0; i < n; i = i + 1) check(build(d));
        }
        check(long);";
    let mut group = c.benchmark_group("gc");
    group.sample_size(10);
    let mut worst = std::time::Duration::ZERO;
    let mut total = std::time::Duration::ZERO;
    let mut collections = 0;
    group.bench_function("binary_trees_depth_14", |b| {
        b.iter(|| {
            let mut vm = load(source);
            vm.run().expect("runs");
            let (spent, longest) = vm.gc_pauses();
            worst = worst.max(longest);
            total += spent;
            collections += vm.collections();
        })
    });
    group.finish();
    if collections > 0 {
        println!(
            "gc/binary_trees_depth_14 pauses: {collections} collections, mean {:?}, longest {:?}",
            total / collections as u32,
            worst
        );
    }
}

criterion_group!(benches, allocation, collection, binary_trees_pauses);
criterion_main!(benches);
