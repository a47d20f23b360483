//! Opt-in: boots Debian's `linux-image-cloud-amd64` kernel with a busybox initramfs through
//! `pvm sysvm boot` and reports how far it got. Runs only with `PVM_LINUX_BOOT=1`, because
//! it downloads packages and, on a host whose KVM emulates guest kernel code (ours), takes
//! minutes and cannot finish: see spec/sysvm.md, "What was verified where".
//!
//! The test passes when the kernel's own banner appears on the serial console, which proves
//! the bzImage load path, zero page and command line are right for a real kernel; every
//! later milestone reached is printed. `PVM_LINUX_DIR` may point at a folder already
//! prepared by `sysvm/linux/fetch-debian-guest.sh`; `PVM_LINUX_TIMEOUT` (seconds, default
//! 900) bounds the run.

mod sysvm_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sysvm_support::*;

/// Boot milestones in the order a healthy boot prints them.
const MILESTONES: [(&str, &str); 10] = [
    ("Linux version", "kernel started (banner printed)"),
    ("BIOS-e820", "e820 memory map read from the zero page"),
    ("ACPI: RSDP", "ACPI RSDP found"),
    ("ACPI: APIC", "MADT found"),
    ("nr_cpu_ids:", "CPU count taken from the MADT"),
    ("Memory:", "memory management initialised"),
    ("smp: Brought up", "application processors started"),
    ("Freeing unused kernel", "kernel init finished"),
    ("pvm-linux: init reached", "busybox /init ran"),
    ("pvm-linux: powering off", "init asked for ACPI power-off"),
];

#[test]
fn debian_cloud_kernel_boots_as_far_as_this_host_allows() {
    if std::env::var("PVM_LINUX_BOOT").as_deref() != Ok("1") {
        eprintln!("skipping: set PVM_LINUX_BOOT=1 to boot Debian's cloud kernel (slow here)");
        return;
    }
    if !require("/dev/kvm (read-write)", kvm_usable()) {
        return;
    }
    let dir = match std::env::var_os("PVM_LINUX_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = scratch_dir("linux");
            let script =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sysvm/linux/fetch-debian-guest.sh");
            let status = Command::new("sh")
                .arg(&script)
                .arg(&dir)
                .status()
                .expect("run fetch-debian-guest.sh");
            assert!(status.success(), "fetching the Debian guest failed");
            dir
        }
    };
    let timeout = std::env::var("PVM_LINUX_TIMEOUT")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(Duration::from_secs(900), Duration::from_secs);

    let child = pvm()
        .args(["sysvm", "boot", "--config"])
        .arg(dir.join("guest.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvm");
    let run = finish_or_stop(child, timeout);

    eprintln!(
        "--- how far Debian's kernel got (exit code {:?}) ---",
        run.code
    );
    for (needle, meaning) in MILESTONES {
        let reached = run.stdout.contains(needle);
        eprintln!("[{}] {meaning}", if reached { "x" } else { " " });
    }
    eprintln!("--- last serial lines ---");
    let lines: Vec<&str> = run.stdout.lines().collect();
    for line in &lines[lines.len().saturating_sub(15)..] {
        eprintln!("{line}");
    }
    eprintln!("--- launcher stderr ---\n{}", run.stderr);
    assert!(
        run.stdout.contains("Linux version"),
        "the kernel never printed its banner"
    );
}

/// Like [`finish`], but a run that outlives `timeout` is stopped with SIGTERM (so the
/// launcher tears down and reports) instead of failing the test.
fn finish_or_stop(child: std::process::Child, timeout: Duration) -> Run {
    let pid = child.id();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(timeout);
        send_sigterm(pid);
    });
    let run = finish(child, timeout + Duration::from_secs(30));
    drop(stopper);
    run
}
