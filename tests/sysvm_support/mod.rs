//! Shared helpers for the `pvm sysvm` integration tests: whether this host can run guests,
//! building the test guests once per test binary, writing configs, and running the real
//! `pvm` binary with a timeout.
//!
//! Outside CI a test whose prerequisites (`/dev/kvm`, gcc) are missing prints why and passes;
//! with `CI=true` it fails instead, because CI is expected to have both.

#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one guest run may take before the test kills it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The result of one `pvm` run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Returns false (after saying why) when a prerequisite is missing outside CI; panics in CI.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if in_ci() {
        panic!("{what} is required when CI=true");
    }
    eprintln!("skipping: {what} is not available on this host");
    false
}

pub fn kvm_usable() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

fn gcc_present() -> bool {
    Command::new("gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Both prerequisites for booting test guests.
pub fn can_boot_guests() -> bool {
    require("/dev/kvm (read-write)", kvm_usable()) && require("gcc", gcc_present())
}

/// Folder for one test's files, emptied first.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sysvm")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Builds the test guests (once per test binary) and returns their folder.
pub fn guests(binary: &str) -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("sysvm-guests")
            .join(binary);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("sysvm/guests/build.sh");
        let output = Command::new("sh")
            .arg(&script)
            .arg(&out)
            .output()
            .expect("run sysvm/guests/build.sh");
        assert!(
            output.status.success(),
            "building test guests failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        out
    })
}

/// Writes a config file into `dir` and returns its path.
pub fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("guest.toml");
    std::fs::write(&path, body).expect("write config");
    path
}

/// A config for `kernel` (absolute path) with the given extra lines.
pub fn config_text(name: &str, vcpus: u32, memory_mib: u64, kernel: &Path, extra: &str) -> String {
    format!(
        "name = \"{name}\"\nvcpus = {vcpus}\nmemory_mib = {memory_mib}\nkernel = \"{}\"\n{extra}",
        kernel.display()
    )
}

pub fn pvm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pvm"))
}

/// Runs `pvm sysvm boot --config CONFIG EXTRA…` with stdin closed.
pub fn boot(config: &Path, extra_args: &[&str]) -> Run {
    let child = pvm()
        .args(["sysvm", "boot", "--config"])
        .arg(config)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvm");
    finish(child, RUN_TIMEOUT)
}

/// Waits for `child` with a timeout (killing it then) and collects its output. The pipes are
/// drained while it runs, so a chatty guest never blocks on a full pipe.
pub fn finish(mut child: Child, timeout: Duration) -> Run {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().expect("wait for pvm") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pvm did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Sends SIGTERM to `pid` through the shell's builtin `kill`, so no procps is needed.
pub fn send_sigterm(pid: u32) -> bool {
    Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .is_ok_and(|status| status.success())
}

/// FNV-1a (32-bit), as the bootinfo guest computes it over the initrd.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2_166_136_261u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(16_777_619)
    })
}

/// The checksum the memtouch guest prints for `mib` MiB touched from 16 MiB up, one word
/// every `stride` bytes.
pub fn memtouch_checksum(mib: u64, stride: usize) -> u64 {
    const BASE: u64 = 0x100_0000;
    const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
    (BASE..BASE + (mib << 20))
        .step_by(stride)
        .fold(0u64, |sum, address| {
            sum.wrapping_add(address.wrapping_mul(MIX))
        })
}
