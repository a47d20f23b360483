//! The loader's answer to damaged `.pbc` files, through the `pvm` command line:
//! truncated, wrong magic or version, bad checksum, and corrupted files whose
//! checksum was recomputed so that only the decoder and verifier stand in the way.

mod common;

use common::cli::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// CRC-32 with the zlib (IEEE 802.3, reflected 0xEDB88320) polynomial.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Rewrites the last four bytes with the CRC-32 of everything before them.
fn reseal(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Where the fields of a `.pbc` file start, read by following spec/bytecode.md
/// as far as the first function's first instruction.
#[derive(Debug)]
struct Layout {
    file_count: usize,
    constant_count: usize,
    /// (offset of the tag, tag)
    constants: Vec<(usize, u8)>,
    global_count: usize,
    globals: Vec<usize>,
    function_count: usize,
    first_function: usize,
    /// The first function's instruction count, and its first opcode.
    code_count: usize,
    first_opcode: usize,
    entry: usize,
}

impl Layout {
    fn read(bytes: &[u8]) -> Layout {
        assert_eq!(&bytes[..4], b"PVMB");
        let mut at = 8;
        let file_count = at;
        let files = u32_at(bytes, at);
        at += 4;
        for _ in 0..files {
            at += 4 + u32_at(bytes, at);
        }
        let constant_count = at;
        let count = u32_at(bytes, at);
        at += 4;
        let mut constants = Vec::new();
        for _ in 0..count {
            let tag = bytes[at];
            constants.push((at, tag));
            at += 1;
            at += match tag {
                0 => 8,
                1 => 4 + u32_at(bytes, at),
                other => panic!("unknown tag {other} in a freshly compiled file"),
            };
        }
        let global_count = at;
        let count = u32_at(bytes, at);
        at += 4;
        let globals = (0..count).map(|i| at + 4 * i).collect();
        at += 4 * count;
        let function_count = at;
        at += 4;
        let first_function = at;
        // name u32, file u32, arity u8, registers u16, then the upvalue table
        let upvalue_count = first_function + 11;
        let code_count = upvalue_count + 4 + 3 * u32_at(bytes, upvalue_count);
        Layout {
            file_count,
            constant_count,
            constants,
            global_count,
            globals,
            function_count,
            first_function,
            code_count,
            first_opcode: code_count + 4,
            entry: bytes.len() - 8,
        }
    }

    // Offsets inside the first function, per the function table in the spec.
    fn name(&self) -> usize {
        self.first_function
    }
    fn file(&self) -> usize {
        self.first_function + 4
    }
    fn arity(&self) -> usize {
        self.first_function + 8
    }
    fn registers(&self) -> usize {
        self.first_function + 9
    }
    fn first_string(&self) -> usize {
        self.constants
            .iter()
            .find(|(_, tag)| *tag == 1)
            .expect("a string constant")
            .0
    }
    fn first_number(&self) -> usize {
        self.constants
            .iter()
            .find(|(_, tag)| *tag == 0)
            .expect("a number constant")
            .0
    }
}

/// A compiled program whose first function is the script (it declares no
/// function of its own) and whose first instruction writes a register.
fn sample_bytecode(scratch: &Scratch) -> Vec<u8> {
    let source = scratch.write(
        "sample.lox",
        "var greeting = \"hi\";\nprint greeting + \" there\";\nprint 2.5;\n",
    );
    let compiled = scratch.path("sample.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let listing = text(&pvm(&["disasm", p(&compiled)]).stdout);
    let first_instruction = listing
        .lines()
        .find(|line| line.trim_start().starts_with("1 "))
        .expect("an instruction on line 1");
    assert!(
        first_instruction
            .split_whitespace()
            .nth(3)
            .is_some_and(|op| op.starts_with('r')),
        "the sample's first instruction should write a register: {first_instruction}"
    );
    std::fs::read(compiled).expect("compiled")
}

/// Checks that `pvm run` refuses `bytes` with one `pvm: FILE: byte offset N: …`
/// line and exit 65, and returns that line. `pvm disasm` only decodes (it is
/// the tool for looking at a file the verifier rejects), so it must either
/// refuse the same way or list the file, but never panic.
#[track_caller]
fn assert_rejected(scratch: &Scratch, what: &str, bytes: &[u8]) -> String {
    let file = scratch.write("damaged.pbc", bytes);
    let output = pvm(&["run", p(&file)]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_COMPILE), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: printed something");
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
    assert!(stderr.contains("byte offset"), "{what}: {stderr}");

    let listing = pvm(&["disasm", p(&file)]);
    let listing_stderr = text(&listing.stderr);
    assert!(
        !listing_stderr.contains("panicked"),
        "{what} (disasm): {listing_stderr}"
    );
    match listing.status.code() {
        Some(0) => assert!(
            listing_stderr.is_empty(),
            "{what} (disasm): {listing_stderr}"
        ),
        Some(EXIT_COMPILE) => {
            assert_eq!(
                listing_stderr.lines().count(),
                1,
                "{what} (disasm): {listing_stderr}"
            );
            assert!(
                listing_stderr.contains("byte offset"),
                "{what} (disasm): {listing_stderr}"
            );
        }
        other => panic!("{what} (disasm): exit {other:?}: {listing_stderr}"),
    }
    stderr.trim_end().to_string()
}

fn offset_in(message: &str) -> usize {
    let rest = &message[message.find("byte offset ").expect("an offset") + "byte offset ".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn crc32_helper_matches_the_files_checksum() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let scratch = Scratch::new("crc");
    let bytes = sample_bytecode(&scratch);
    let mut resealed = bytes.clone();
    reseal(&mut resealed);
    assert_eq!(resealed, bytes);
}

#[test]
fn truncated_files_are_rejected() {
    let scratch = Scratch::new("truncated");
    let bytes = sample_bytecode(&scratch);
    // Shorter than the magic number, a file is read as source instead.
    let lengths: Vec<usize> = (4..bytes.len()).collect();
    for length in lengths {
        assert_rejected(&scratch, &format!("first {length} bytes"), &bytes[..length]);
    }
}

#[test]
fn wrong_magic_is_rejected() {
    let scratch = Scratch::new("magic");
    let mut bytes = sample_bytecode(&scratch);
    bytes[3] = b'X';
    reseal(&mut bytes);
    // Not bytecode, so pvm tries it as source, and binary is not Lox.
    assert_rejected(&scratch, "magic PVMX", &bytes);
}

#[test]
fn wrong_version_is_rejected() {
    let scratch = Scratch::new("version");
    let bytes = sample_bytecode(&scratch);
    for version in [0, pvm_bytecode::FORMAT_VERSION + 1, 0xFFFF_FFFF] {
        for resealed in [false, true] {
            let mut damaged = bytes.clone();
            put_u32(&mut damaged, 4, version);
            if resealed {
                reseal(&mut damaged);
            }
            let message = assert_rejected(&scratch, &format!("version {version}"), &damaged);
            assert_eq!(offset_in(&message), 4, "{message}");
            assert!(message.contains("version"), "{message}");
        }
    }
}

#[test]
fn files_of_the_previous_format_version_still_run() {
    // Version 3 only added instructions, so a version 2 file (the same bytes, without
    // them) must load and run unchanged.
    let scratch = Scratch::new("version2");
    let mut bytes = sample_bytecode(&scratch);
    assert_eq!(pvm_bytecode::OLDEST_READABLE_VERSION, 2);
    put_u32(&mut bytes, 4, 2);
    reseal(&mut bytes);
    let old = scratch.path("old.pbc");
    std::fs::write(&old, &bytes).expect("write");
    let output = pvm(&["run", p(&old)]);
    assert_exit(&output, 0);
    assert_eq!(text(&output.stdout), "hi there\n2.5\n");

    // A "version 2" file with an instruction version 3 introduced was not written by
    // a pvm of version 2: rejected at the instruction.
    let source = scratch.write("count.lox", "for (var i = 0; i < 3; i = i + 1) print i;\n");
    let compiled = scratch.path("count.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let listing = text(&pvm(&["disasm", p(&compiled)]).stdout);
    assert!(listing.contains("incjltk"), "{listing}");
    let mut bytes = std::fs::read(&compiled).expect("compiled");
    put_u32(&mut bytes, 4, 2);
    reseal(&mut bytes);
    let message = assert_rejected(&scratch, "version 2 with incjltk", &bytes);
    assert!(message.contains("needs format version 3"), "{message}");
}

#[test]
fn bad_checksum_is_rejected() {
    let scratch = Scratch::new("checksum");
    let bytes = sample_bytecode(&scratch);
    let last = bytes.len() - 1;
    for (what, at) in [
        ("stored checksum", last),
        ("body byte", 20),
        ("entry", last - 4),
    ] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        let message = assert_rejected(&scratch, what, &damaged);
        assert_eq!(offset_in(&message), bytes.len() - 4, "{what}: {message}");
    }
    // A byte appended after the checksum moves it.
    let mut longer = bytes.clone();
    longer.push(0);
    assert_rejected(&scratch, "appended byte", &longer);
}

#[test]
fn corrupted_but_resealed_files_are_rejected() {
    let scratch = Scratch::new("resealed");
    let bytes = sample_bytecode(&scratch);
    let layout = Layout::read(&bytes);
    assert!(!layout.globals.is_empty(), "the sample defines a global");

    // Each case damages the file knowing where its fields are; the offset, when
    // given, is where the loader must say the problem is.
    type Damage = fn(&mut Vec<u8>, &Layout);
    let cases: Vec<(&str, Option<usize>, Damage)> = vec![
        ("file count beyond the file", None, |b, l| {
            put_u32(b, l.file_count, u32::MAX)
        }),
        ("constant count beyond the file", None, |b, l| {
            put_u32(b, l.constant_count, u32::MAX)
        }),
        (
            "unknown constant tag",
            Some(layout.first_string()),
            |b, l| b[l.first_string()] = 9,
        ),
        ("string length beyond the file", None, |b, l| {
            put_u32(b, l.first_string() + 1, 1 << 30)
        }),
        ("string constant not UTF-8", None, |b, l| {
            b[l.first_string() + 5] = 0xFF
        }),
        ("number constant read as a string", None, |b, l| {
            b[l.first_number()] = 1
        }),
        ("global count beyond the file", None, |b, l| {
            put_u32(b, l.global_count, u32::MAX)
        }),
        ("global named by a missing constant", None, |b, l| {
            put_u32(b, l.globals[0], 1_000_000)
        }),
        ("global named by a number constant", None, |b, l| {
            let index = l
                .constants
                .iter()
                .position(|(_, tag)| *tag == 0)
                .expect("a number");
            put_u32(b, l.globals[0], index as u32)
        }),
        ("function count beyond the file", None, |b, l| {
            put_u32(b, l.function_count, u32::MAX)
        }),
        ("function named by a missing constant", None, |b, l| {
            put_u32(b, l.name(), 1_000_000)
        }),
        ("function in a missing file", None, |b, l| {
            put_u32(b, l.file(), 7)
        }),
        ("entry function takes an argument", None, |b, l| {
            b[l.arity()] = 1
        }),
        ("zero registers", None, |b, l| {
            b[l.registers()..l.registers() + 2].copy_from_slice(&[0, 0])
        }),
        ("257 registers", None, |b, l| {
            b[l.registers()..l.registers() + 2].copy_from_slice(&257u16.to_le_bytes())
        }),
        ("code count beyond the file", None, |b, l| {
            put_u32(b, l.code_count, u32::MAX)
        }),
        ("unknown opcode", None, |b, l| b[l.first_opcode] = 0xEE),
        ("register operand out of range", None, |b, l| {
            b[l.first_opcode + 1] = 250
        }),
        (
            "entry names a missing function",
            Some(layout.entry),
            |b, l| put_u32(b, l.entry, 5),
        ),
        ("extra byte before the checksum", None, |b, _| {
            b.insert(b.len() - 4, 0)
        }),
        ("entry cut short", None, |b, _| {
            b.remove(b.len() - 5);
        }),
    ];
    let mut failures = Vec::new();
    for (what, expected_offset, damage) in &cases {
        let mut damaged = bytes.clone();
        damage(&mut damaged, &layout);
        reseal(&mut damaged);
        let result = std::panic::catch_unwind(|| assert_rejected(&scratch, what, &damaged));
        match result {
            Ok(message) => {
                if let Some(offset) = expected_offset {
                    if offset_in(&message) != *offset {
                        failures.push(format!("{what}: expected byte offset {offset}: {message}"));
                    }
                }
            }
            Err(panic) => failures.push(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| format!("{what}: failed")),
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every single-byte change to a real program, resealed, is either rejected by
/// the loader with one line naming a byte offset, or runs to an ordinary end
/// (output, a runtime error, the budget) — never a panic or a signal; and
/// `disasm` of it never crashes either.
#[test]
fn every_resealed_byte_flip_is_rejected_or_runs_safely() {
    let scratch = Scratch::new("flips");
    let source = scratch.write(
        "flip.lox",
        // Calls, a loop, a closure over a local, a class with init, a subclass
        // and super: most instruction kinds appear at least once.
        "fun add(a, b) { return a + b; }\nvar n = 0;\nwhile (n < 3) n = add(n, 1);\n\
         fun make() { var k = n; fun get() { return k; } return get; }\n\
         class A { init(x) { this.x = x; } get() { return this.x; } }\n\
         class B < A { get() { return super.get() + 1; } }\n\
         print B(make()()).get();\n",
    );
    let compiled = scratch.path("flip.pbc");
    assert_exit(&pvm(&["compile", p(&source), "-o", p(&compiled)]), 0);
    let bytes = std::fs::read(&compiled).expect("compiled");
    // A few workers, each with its own file, share the positions.
    let next = AtomicUsize::new(4);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..3 {
            let (bytes, next, failures, scratch) = (&bytes, &next, &failures, &scratch);
            scope.spawn(move || loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                if at >= bytes.len() - 4 {
                    break;
                }
                let mut damaged = bytes.clone();
                damaged[at] ^= 0xFF;
                reseal(&mut damaged);
                let file = scratch.write(&format!("flipped-{worker}.pbc"), &damaged);
                for problem in check_flipped(&file) {
                    failures
                        .lock()
                        .expect("no panic while locked")
                        .push(format!("byte {at}: {problem}"));
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no panic while locked");
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What is wrong with how pvm treated one flipped file (empty when nothing).
fn check_flipped(file: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let output = pvm(&["run", "--budget", "100000", p(file)]);
    let stderr = text(&output.stderr);
    let code = output.status.code();
    let acceptable = match code {
        Some(0) => stderr.is_empty(),
        Some(EXIT_COMPILE) => stderr.lines().count() == 1 && stderr.contains("byte offset"),
        Some(EXIT_RUNTIME) => stderr.contains("runtime error"),
        _ => false,
    };
    if !acceptable || stderr.contains("panicked") {
        problems.push(format!("run: exit {code:?}: {}", stderr.trim_end()));
    }
    // disasm decodes without verifying, so it meets operands the verifier
    // would refuse; it may list them or refuse, but not crash.
    let listing = pvm(&["disasm", p(file)]);
    let listing_stderr = text(&listing.stderr);
    let listing_code = listing.status.code();
    if !matches!(listing_code, Some(0) | Some(EXIT_COMPILE)) || listing_stderr.contains("panicked")
    {
        problems.push(format!(
            "disasm: exit {listing_code:?}: {}",
            listing_stderr.trim_end()
        ));
    }
    problems
}
