//! Running the `pvm` command line in a scratch folder and checking its exit: the
//! harness of the command-line test files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

// Re-exported so a command-line test file needs one `use`; not every file uses all.
#[allow(unused_imports)]
pub use super::{EXIT_COMPILE, EXIT_IO, EXIT_RUNTIME, EXIT_USAGE, PVM};

/// A fresh, empty folder under the system temp folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("pvm-cli-{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir writable");
        Scratch(path)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("temp dir writable");
        }
        std::fs::write(&path, contents).expect("temp dir writable");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names of the entries in the folder, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("scratch exists")
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
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn pvm_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(PVM);
    command.args(args).env_remove("PVM_GC_STRESS");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().expect("the pvm binary runs")
}

pub fn pvm(args: &[&str]) -> Output {
    pvm_in(None, args)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Panics with everything pvm said unless it exited with `code`.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        !text(&output.stderr).contains("panicked"),
        "pvm panicked:\n{}",
        text(&output.stderr)
    );
}
