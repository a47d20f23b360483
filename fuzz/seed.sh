#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's own programs: tests/lang/**/*.lox
# and examples/*.lox as text for compile, run and roundtrip, and the same
# programs compiled to .pbc (those that compile) for load. The corpora live in
# fuzz/corpus/ (git-ignored) and grow as the fuzzer runs; this script only adds.
#
# Usage: fuzz/seed.sh        (builds the pvm CLI with cargo if PVM is not set)
#        PVM=path/to/pvm fuzz/seed.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PVM:-}" ]; then
    cargo build --quiet --bin pvm
    PVM="${CARGO_TARGET_DIR:-target}/debug/pvm"
fi

for target in compile run roundtrip load; do
    mkdir -p "fuzz/corpus/$target"
done

sources=$(find tests/lang examples -name '*.lox' | sort)
compiled=0
for source in $sources; do
    # One file name per program, flat, so seeds from different folders never collide.
    name=$(echo "$source" | tr '/' '_')
    for target in compile run roundtrip; do
        cp "$source" "fuzz/corpus/$target/$name"
    done
    # Compile errors are expected for some programs; they seed only the text targets.
    if "$PVM" compile "$source" -o "fuzz/corpus/load/${name%.lox}.pbc" 2>/dev/null; then
        compiled=$((compiled + 1))
    fi
done
echo "seeded $(echo "$sources" | wc -l) source programs, $compiled compiled .pbc files"
