//! Running the `pvm` command line in a scratch folder and checking its exit: the
//! harness of the command-line test files.

use std::path::Path;
use std::process::{Command, Output};

// Re-exported so a command-line test file needs one `use`; not every file uses all.
#[allow(unused_imports)]
pub use super::{EXIT_COMPILE, EXIT_IO, EXIT_RUNTIME, EXIT_USAGE, PVM};

/// The command-line tests' scratch folder is the shared temporary folder.
#[allow(unused_imports)]
pub use super::TempDir as Scratch;

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
