//! Criterion benchmarks of the compiler: lines per second on generated programs
//! of 10,000 and 100,000 lines, to show that cost grows linearly with size.
//!
//! The compiler runs here with the allocator `pvm compile` runs it with (mimalloc, see
//! src/allocator.rs), so the numbers are the command's: a compile allocates a few large
//! arena chunks and many small vectors, and glibc's malloc, which the other benchmarks keep,
//! makes it about a fifth slower.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A program of about `lines` lines mixing functions, classes, loops, closures
/// and expressions, as ordinary code does.
fn program(lines: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut index = 0;
    while count < lines {
        out.push_str(&format!(
            "class Shape{index} {{\n  init(w, h) {{ this.w = w; this.h = h; }}\n  area() {{ return this.w * this.h + {index}; }}\n}}\n\
             fun compute{index}(n) {{\n  var total = 0;\n  for (var i = 0; i < n; i = i + 1) {{\n    if (i % 3 == 0) total += i; else total -= 1;\n  }}\n  var f = fun (x) {{ return x + total; }};\n  return f(Shape{index}(n, 2).area());\n}}\n\
             var result{index} = [compute{index}(10), {{\"k\": \"v{index}\"}}, nil, true];\n"
        ));
        count += 14;
        index += 1;
    }
    out
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compiler");
    group.sample_size(10);
    for lines in [10_000usize, 100_000] {
        let source = program(lines);
        let actual_lines = source.lines().count() as u64;
        group.throughput(Throughput::Elements(actual_lines));
        group.bench_with_input(BenchmarkId::new("lines", lines), &source, |b, source| {
            b.iter(|| pvm_compiler::compile_source("generated.lox", source).expect("compiles"))
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
