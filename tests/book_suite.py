#!/usr/bin/env python3
"""Run the test suite of *Crafting Interpreters* against pvm.

The book's tests are not part of this repository: point this script at a
checkout of the book's `test/` folder.

    tests/book_suite.py BOOK_TEST_DIR [--pvm PATH] [--compiled]

Every `.lox` file under BOOK_TEST_DIR is run, except the folders that test
things pvm deliberately does differently or not at all (`limit/`, which relies
on clox's exact limits; `scanning/` and `expressions/`, which drive the early
chapters' tree printers; `benchmark/`, which only measures speed).

The expectations are read from each file's comments, the way the book's own
runner reads them:

    // expect: TEXT                     the next line of stdout
    // expect runtime error: MESSAGE    stderr's first runtime error, on this line, exit 70
    // Error ...                        a compile error on this line, exit 65
    // [line N] Error ...               a compile error on line N, exit 65
    // [c line N] Error ...             only clox reports it (optional: a follow-on
                                        error of clox's recovery, which the issue
                                        does not require)
    // [java line N] Error ...          only jlox reports it (ignored)

pvm words its diagnostics its own way (`FILE:LINE:COL: error at 'TOKEN': MESSAGE`),
so for compile errors only the set of lines is compared, not the wording. Runtime
errors are compared on both message and line, from pvm's first stderr line
`FILE:LINE:COL: runtime error: MESSAGE`.

With --compiled each file is first compiled with `pvm compile` to a temporary
`.pbc` and that file is run, so the suite also covers the encoder, the loader and
the verifier. Compile errors are then expected from `pvm compile`.

Prints every failure with what was expected and what pvm did, then
`N passed, M failed`; exits 1 if anything failed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIPPED_FOLDERS = {"limit", "scanning", "expressions", "benchmark"}

# Tests whose expectation the language extension changes on purpose: `{}` in
# expression position is an empty map (spec/language.md), so a for loop whose
# condition or increment is `{}` is valid code rather than "Expect expression."
# (and it loops forever).
SKIPPED_FILES = {"for/statement_condition.lox", "for/statement_increment.lox"}

EXPECT_OUTPUT = re.compile(r"// expect: ?(.*)")
EXPECT_RUNTIME_ERROR = re.compile(r"// expect runtime error: (.+)")
# `// [line 3] Error…`, `// [c line 3] Error…`, `// [java line 3] Error…`
ERROR_ON_OTHER_LINE = re.compile(r"// \[(?:(c|java) )?line (\d+)\] (Error.*)")
# `// Error at 'x': …` names the line it sits on.
ERROR_ON_THIS_LINE = re.compile(r"// (Error.*)")
NOT_A_TEST = re.compile(r"// nontest")

PVM_RUNTIME_ERROR = re.compile(r"^(.*?):(\d+):(\d+): runtime error: (.*)$")
PVM_DIAGNOSTIC = re.compile(r"^(.*?):(\d+):(\d+): error\b")

EXIT_OK, EXIT_COMPILE, EXIT_RUNTIME = 0, 65, 70
TIMEOUT_SECONDS = 60


class Expectations:
    """What one book test says should happen."""

    def __init__(self):
        self.output = []  # list of (source line, text)
        self.compile_error_lines = set()
        # Lines of `[c line N]` errors: pvm may report them or not.
        self.optional_error_lines = set()
        self.compile_error_texts = []  # for failure messages only
        self.runtime_error = None  # (source line, message)

    @property
    def exit_code(self):
        if self.compile_error_lines:
            return EXIT_COMPILE
        if self.runtime_error:
            return EXIT_RUNTIME
        return EXIT_OK


def read_expectations(path):
    """Returns the file's Expectations, or None if it is not a test."""
    expected = Expectations()
    with open(path, encoding="utf-8") as source:
        for number, line in enumerate(source.read().split("\n"), start=1):
            if NOT_A_TEST.search(line):
                return None
            match = EXPECT_OUTPUT.search(line)
            if match:
                expected.output.append((number, match.group(1)))
                continue
            match = EXPECT_RUNTIME_ERROR.search(line)
            if match:
                expected.runtime_error = (number, match.group(1))
                continue
            match = ERROR_ON_OTHER_LINE.search(line)
            if match:
                interpreter, on_line, text = match.groups()
                if interpreter == "c":
                    expected.optional_error_lines.add(int(on_line))
                elif interpreter is None:
                    expected.compile_error_lines.add(int(on_line))
                    expected.compile_error_texts.append(f"[line {on_line}] {text}")
                continue
            match = ERROR_ON_THIS_LINE.search(line)
            if match:
                expected.compile_error_lines.add(number)
                expected.compile_error_texts.append(f"[line {number}] {match.group(1)}")
    return expected


def run(command):
    """Runs pvm; returns (exit code, stdout lines, stderr lines)."""
    try:
        finished = subprocess.run(
            command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return None, [], [f"(killed after {TIMEOUT_SECONDS}s)"]
    stdout = finished.stdout.decode("utf-8", "replace").split("\n")
    stderr = finished.stderr.decode("utf-8", "replace").split("\n")
    # A final newline leaves one empty string behind.
    if stdout and stdout[-1] == "":
        stdout.pop()
    if stderr and stderr[-1] == "":
        stderr.pop()
    return finished.returncode, stdout, stderr


def run_test(pvm, path, compiled, scratch):
    """Runs one test the chosen way; returns (exit code, stdout lines, stderr lines)."""
    if not compiled:
        return run([pvm, "run", path])
    bytecode = os.path.join(scratch, "test.pbc")
    if os.path.exists(bytecode):
        os.remove(bytecode)
    code, stdout, stderr = run([pvm, "compile", path, "-o", bytecode])
    if code != EXIT_OK:
        return code, stdout, stderr
    if stdout or stderr:
        return code, stdout, ["(pvm compile printed something on success)"] + stdout + stderr
    return run([pvm, "run", bytecode])


def check(expected, code, stdout, stderr):
    """Every way pvm's run disagreed with the expectations (empty when it passed)."""
    problems = []
    if code != expected.exit_code:
        problems.append(f"exit code: expected {expected.exit_code}, got {code}")
        problems.extend("  stderr: " + line for line in stderr[:8])
        if len(stderr) > 8:
            problems.append(f"  stderr: ({len(stderr) - 8} more lines)")

    if expected.runtime_error:
        line, message = expected.runtime_error
        first = stderr[0] if stderr else ""
        match = PVM_RUNTIME_ERROR.match(first)
        if not match:
            problems.append(
                f"runtime error: expected '{message}' on line {line}, got stderr '{first}'"
            )
        else:
            got_line, got_message = int(match.group(2)), match.group(4)
            if got_message != message:
                problems.append(
                    f"runtime error message: expected '{message}', got '{got_message}'"
                )
            if got_line != line:
                problems.append(f"runtime error line: expected {line}, got {got_line}")
    else:
        got_lines = set()
        for line in stderr:
            match = PVM_DIAGNOSTIC.match(line)
            if match:
                got_lines.add(int(match.group(2)))
            elif line.strip():
                problems.append(f"unexpected stderr line: {line}")
        for missing in sorted(expected.compile_error_lines - got_lines):
            texts = [t for t in expected.compile_error_texts if t.startswith(f"[line {missing}]")]
            problems.append(f"missing compile error on line {missing}: expected {texts[0]}")
        for extra in sorted(got_lines - expected.compile_error_lines - expected.optional_error_lines):
            shown = [l for l in stderr if PVM_DIAGNOSTIC.match(l) and
                     int(PVM_DIAGNOSTIC.match(l).group(2)) == extra]
            problems.append(f"unexpected compile error on line {extra}: {shown[0]}")

    for index, (line, text) in enumerate(expected.output):
        if index >= len(stdout):
            problems.append(f"missing output '{text}' (line {line})")
        elif stdout[index] != text:
            problems.append(
                f"output line {index + 1}: expected '{text}' (line {line}), got '{stdout[index]}'"
            )
    for extra in stdout[len(expected.output):][:5]:
        problems.append(f"unexpected output '{extra}'")
    return problems


def find_tests(root):
    found = []
    for folder, subfolders, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        top = relative.split(os.sep)[0]
        if top in SKIPPED_FOLDERS:
            subfolders[:] = []
            continue
        subfolders.sort()
        found.extend(
            os.path.join(folder, name)
            for name in sorted(files)
            if name.endswith(".lox")
            and os.path.normpath(os.path.join(relative, name)).replace(os.sep, "/")
            not in SKIPPED_FILES
        )
    return found


def find_pvm(explicit):
    """The pvm binary to test: the one named, or the first that exists."""
    if explicit:
        return shutil.which(explicit) or (explicit if os.access(explicit, os.X_OK) else None)
    candidates = [os.environ.get("PVM"), shutil.which("pvm")]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for target in [os.environ.get("CARGO_TARGET_DIR"), os.path.join(repo, "target")]:
        if target:
            candidates.append(os.path.join(target, "debug", "pvm"))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book_test_dir", help="the book's test/ folder")
    parser.add_argument("--pvm", default=None, help="the pvm binary (default: $PVM, pvm on "
                        "PATH, or debug/pvm under $CARGO_TARGET_DIR or the repo's target/)")
    parser.add_argument("--compiled", action="store_true",
                        help="compile each test to .pbc, then run the bytecode")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    arguments = parser.parse_args()

    pvm = find_pvm(arguments.pvm)
    if pvm is None:
        print("book_suite: no pvm binary found; build it or pass --pvm PATH", file=sys.stderr)
        return 2
    if not os.path.isdir(arguments.book_test_dir):
        print(f"book_suite: {arguments.book_test_dir}: not a directory", file=sys.stderr)
        return 2

    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="pvm-book-suite-") as scratch:
        for path in find_tests(arguments.book_test_dir):
            expected = read_expectations(path)
            if expected is None:
                skipped += 1
                continue
            code, stdout, stderr = run_test(pvm, path, arguments.compiled, scratch)
            problems = check(expected, code, stdout, stderr)
            if any("panicked" in line for line in stderr):
                problems.append("pvm panicked: " + next(l for l in stderr if "panicked" in l))
            if problems:
                failed += 1
                if not arguments.quiet:
                    print(f"FAIL {os.path.relpath(path, arguments.book_test_dir)}")
                    for problem in problems:
                        print(f"    {problem}")
            else:
                passed += 1

    mode = "compiled" if arguments.compiled else "source"
    print(f"{passed} passed, {failed} failed ({mode}; {skipped} non-test files skipped)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
