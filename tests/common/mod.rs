//! Running the real `pvm` binary on a program in a fresh temporary folder, with
//! arguments and stdin, and looking at what it did: the harness the standard
//! library's test files share.
// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub mod cli;

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PVM: &str = env!("CARGO_BIN_EXE_pvm");
pub const EXIT_USAGE: i32 = 64;
pub const EXIT_COMPILE: i32 = 65;
pub const EXIT_RUNTIME: i32 = 70;
pub const EXIT_IO: i32 = 74;

/// A fresh folder under the system temp folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("pvm-test-{}-{n}-{label}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temp folder is writable");
        // Canonical, so that paths printed by pvm (which resolves symlinks such
        // as macOS's /tmp) can be compared with ours.
        TempDir(path.canonicalize().expect("the folder just made exists"))
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the temp folder is writable");
        }
        std::fs::write(&path, contents).expect("the temp folder is writable");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries in the folder, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("the temp folder exists")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    pub fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).expect("pvm wrote the file")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of `pvm` did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Asserts a clean exit and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "pvm failed: {self:#?}");
        assert!(self.stderr.is_empty(), "unexpected stderr: {self:#?}");
        self.stdout
    }

    /// Asserts an uncaught runtime error whose first stderr line is at `line`
    /// of main.lox and ends with `message`; returns stdout.
    pub fn runtime_error(self, line: usize, message: &str) -> String {
        assert_eq!(self.code, Some(EXIT_RUNTIME), "{self:#?}");
        let first = self.stderr.lines().next().unwrap_or_default();
        let prefix = format!("main.lox:{line}:");
        assert!(
            first.starts_with(&prefix) && first.ends_with(&format!(": runtime error: {message}")),
            "expected main.lox:{line}:COL: runtime error: {message}\ngot {first}"
        );
        assert!(
            self.stderr
                .lines()
                .nth(1)
                .is_some_and(|frame| frame.starts_with("  at ")),
            "a stack trace follows: {}",
            self.stderr
        );
        self.stdout
    }
}

/// How to run a program: options before the file, arguments after it, the
/// child's environment and standard input.
#[derive(Default)]
pub struct Invocation<'a> {
    options: Vec<&'a OsStr>,
    arguments: Vec<&'a OsStr>,
    env: Vec<(&'a str, &'a str)>,
    stdin: Option<&'a [u8]>,
    cwd: Option<&'a Path>,
}

impl<'a> Invocation<'a> {
    pub fn new() -> Invocation<'a> {
        Invocation::default()
    }

    pub fn option(mut self, option: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        self.options.push(option.as_ref());
        self
    }

    pub fn argument(mut self, argument: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        self.arguments.push(argument.as_ref());
        self
    }

    pub fn env(mut self, name: &'a str, value: &'a str) -> Self {
        self.env.push((name, value));
        self
    }

    pub fn stdin(mut self, bytes: &'a [u8]) -> Self {
        self.stdin = Some(bytes);
        self
    }

    pub fn cwd(mut self, dir: &'a Path) -> Self {
        self.cwd = Some(dir);
        self
    }

    pub fn run(self, program: &Path) -> Outcome {
        let mut command = Command::new(PVM);
        command
            .arg("run")
            .args(&self.options)
            .arg(program)
            .args(&self.arguments)
            .env_remove("PVM_GC_STRESS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        if let Some(dir) = self.cwd {
            command.current_dir(dir);
        }
        let mut child = command.spawn().expect("the pvm binary starts");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = self.stdin.unwrap_or_default().to_vec();
        // A separate thread, so that a program that never reads its input
        // cannot leave us blocked on a full pipe.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().expect("pvm runs to the end");
        feeder.join().expect("the stdin feeder does not panic");
        let outcome = Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !outcome.stderr.contains("panicked"),
            "pvm panicked: {outcome:#?}"
        );
        assert!(outcome.code.is_some(), "killed by a signal: {outcome:#?}");
        outcome
    }
}

/// Runs `source` with no permissions and no arguments.
pub fn run_source(label: &str, source: &str) -> Outcome {
    let dir = TempDir::new(label);
    let program = dir.write("main.lox", source);
    Invocation::new().run(&program)
}

pub fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}
