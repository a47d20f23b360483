//! Boots each test guest through the real `pvm sysvm boot` binary and checks what it printed
//! and how the launcher ended: both load paths (PVH ELF, bzImage), SMP bring-up, memory,
//! boot info, thin provisioning, and every way a run can end.

mod sysvm_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use sysvm_support::*;

const BINARY: &str = "sysvm_guests";

fn line_count(text: &str, needle: &str) -> usize {
    text.lines().filter(|line| line.contains(needle)).count()
}

#[test]
fn hello_boots_as_pvh_elf() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("hello_pvh");
    let kernel = guests(BINARY).join("hello.elf");
    let config = write_config(&dir, &config_text("hello", 1, 256, &kernel, ""));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("Hello from a pvm guest!"), "{run:?}");
    assert_eq!(run.stderr, "", "a clean reset prints nothing on stderr");
}

#[test]
fn hello_boots_as_bzimage() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("hello_bzimage");
    let kernel = guests(BINARY).join("hello.bzImage");
    let config = write_config(&dir, &config_text("hello", 1, 64, &kernel, ""));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("Hello from a pvm guest!"), "{run:?}");
}

#[test]
fn smp_guest_sees_every_vcpu() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("smp");
    let kernel = guests(BINARY).join("smp.elf");
    let config = write_config(&dir, &config_text("smp", 4, 64, &kernel, ""));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for apic_id in 0..4 {
        let line = format!("cpu with apic id {apic_id} online");
        assert_eq!(line_count(&run.stdout, &line), 1, "{line}: {run:?}");
    }
    assert!(run.stdout.contains("smp: 4 of 4 cpus online"), "{run:?}");
}

#[test]
fn smp_guest_runs_the_maximum_of_32_vcpus() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("smp32");
    let kernel = guests(BINARY).join("smp.elf");
    let config = write_config(&dir, &config_text("smp32", 32, 64, &kernel, ""));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("smp: 32 of 32 cpus online"), "{run:?}");
    assert_eq!(line_count(&run.stdout, " online"), 33, "{run:?}");
}

#[test]
fn memtouch_reports_the_expected_checksum() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("memtouch");
    let kernel = guests(BINARY).join("memtouch.elf");
    let extra = "cmdline = \"memtouch_mib=24\"\n";
    let config = write_config(&dir, &config_text("memtouch", 1, 64, &kernel, extra));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let expected = format!(
        "touched 24 MiB, stride 4096, checksum {:#x}",
        memtouch_checksum(24, 4096)
    );
    assert!(run.stdout.contains(&expected), "{expected}: {run:?}");
}

#[test]
fn untouched_guest_memory_costs_nothing() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("thin");
    let kernel = guests(BINARY).join("memtouch.elf");
    let extra = "cmdline = \"memtouch_mib=8\"\n";
    let config = write_config(&dir, &config_text("thin", 1, 2048, &kernel, extra));
    let run = boot(&config, &["--report-peak-rss"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("checksum {:#x}", memtouch_checksum(8, 4096))),
        "{run:?}"
    );
    let peak_kib: u64 = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("pvm sysvm: peak RSS "))
        .and_then(|rest| rest.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS line: {run:?}"));
    eprintln!("2 GiB guest touching 8 MiB: launcher peak RSS {peak_kib} KiB");
    assert!(
        peak_kib < 20 * 1024,
        "peak RSS {peak_kib} KiB is not under 20 MiB"
    );
}

fn bootinfo(kernel_file: &str, test: &str) {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir(test);
    let initrd: Vec<u8> = (0..150_001u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("initrd.img"), &initrd).expect("write initrd");
    let kernel = guests(BINARY).join(kernel_file);
    let extra = format!(
        "initrd = \"initrd.img\"\ncmdline = \"bootinfo_token=pvm42 expect_mem_mib=96 \
         initrd_size={} initrd_fnv={:#x} expect_cpus=3\"\n",
        initrd.len(),
        fnv1a(&initrd)
    );
    let config = write_config(&dir, &config_text("bootinfo", 3, 96, &kernel, &extra));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("bootinfo: all checks passed"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("FAIL"), "{run:?}");
}

#[test]
fn bootinfo_checks_pass_over_pvh() {
    bootinfo("bootinfo.elf", "bootinfo_pvh");
}

#[test]
fn bootinfo_checks_pass_over_linux_boot_protocol() {
    bootinfo("bootinfo.bzImage", "bootinfo_linux");
}

#[test]
fn guest_failure_becomes_the_exit_code() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("bootinfo_fail");
    let kernel = guests(BINARY).join("bootinfo.elf");
    // The guest is told to expect 128 MiB but gets 64: it reports failure through port 0xf4.
    let extra = "cmdline = \"bootinfo_token=pvm42 expect_mem_mib=128\"\n";
    let config = write_config(&dir, &config_text("fail", 1, 64, &kernel, extra));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("FAIL: memory map ends at expect_mem_mib"),
        "{run:?}"
    );
    assert!(run.stderr.contains("guest reported exit code 1"), "{run:?}");
}

#[test]
fn triple_fault_is_a_reset_reported_on_stderr() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("triple");
    let kernel = guests(BINARY).join("hello.elf");
    let config = write_config(
        &dir,
        &config_text("triple", 1, 32, &kernel, "cmdline = \"triple-fault\"\n"),
    );
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("triple fault on vCPU 0"), "{run:?}");
}

#[test]
fn unhandled_ports_and_addresses_are_logged_not_fatal() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("probe");
    let kernel = guests(BINARY).join("hello.elf");
    let config = write_config(
        &dir,
        &config_text("probe", 1, 32, &kernel, "cmdline = \"probe\"\n"),
    );
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("hello: probes survived"), "{run:?}");
    assert!(
        run.stderr.contains("unhandled port write: 0x510"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("unhandled MMIO read at 0xd0000000"),
        "{run:?}"
    );
}

#[test]
fn serial_file_mode_writes_the_log() {
    if !can_boot_guests() {
        return;
    }
    let dir = scratch_dir("serial_file");
    let kernel = guests(BINARY).join("hello.elf");
    let extra = "[serial]\nmode = \"file\"\npath = \"console.log\"\n";
    let config = write_config(&dir, &config_text("file", 1, 32, &kernel, extra));
    let run = boot(&config, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "");
    let log = std::fs::read_to_string(dir.join("console.log")).expect("serial log");
    assert!(log.contains("Hello from a pvm guest!"), "{log}");
}

fn spawn_hanging_guest(test: &str, stdin: Stdio) -> std::process::Child {
    let dir = scratch_dir(test);
    let kernel = guests(BINARY).join("hello.elf");
    let config = write_config(
        &dir,
        &config_text("hang", 2, 32, &kernel, "cmdline = \"hang\"\n"),
    );
    pvm()
        .args(["sysvm", "boot", "--config"])
        .arg(&config)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvm")
}

#[test]
fn sigterm_tears_down_cleanly() {
    if !can_boot_guests() {
        return;
    }
    let child = spawn_hanging_guest("sigterm", Stdio::null());
    // Let the guest reach its halt loop so the signal lands on a running VM.
    std::thread::sleep(Duration::from_millis(300));
    assert!(send_sigterm(child.id()));
    let run = finish(child, RUN_TIMEOUT);
    assert_eq!(run.code, Some(128 + 15), "{run:?}");
    assert!(run.stdout.contains("halting forever"), "{run:?}");
    assert!(run.stderr.contains("stopped by signal 15"), "{run:?}");
    assert!(!run.stderr.contains("did not stop"), "{run:?}");
}

#[test]
fn escape_sequence_quits() {
    if !can_boot_guests() {
        return;
    }
    let mut child = spawn_hanging_guest("escape", Stdio::piped());
    let mut stdin = child.stdin.take().expect("stdin pipe");
    std::thread::sleep(Duration::from_millis(200));
    std::io::Write::write_all(&mut stdin, b"abc\x01x").expect("type escape");
    let run = finish(child, RUN_TIMEOUT);
    drop(stdin);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("quit by escape sequence"), "{run:?}");
}

#[test]
fn terminal_is_raw_while_the_guest_runs_and_restored_after() {
    if !can_boot_guests() {
        return;
    }
    let has_script = Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !require(
        "script(1) from util-linux, for a pseudo-terminal",
        has_script,
    ) {
        return;
    }
    let dir = scratch_dir("tty");
    let kernel = guests(BINARY).join("hello.elf");
    let config = write_config(
        &dir,
        &config_text("tty", 1, 32, &kernel, "cmdline = \"hang\"\n"),
    );
    // Inside a pseudo-terminal: print the terminal settings, run the guest, print them again.
    // The escape sequence is typed without a newline, so it reaches the launcher only if the
    // terminal is in raw mode; otherwise the run hangs and the timeout fails the test.
    let shell = format!(
        "stty -g; '{}' sysvm boot --config '{}'; echo exit=$?; stty -g",
        env!("CARGO_BIN_EXE_pvm"),
        config.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn script");
    let mut keyboard = child.stdin.take().expect("stdin pipe");
    std::thread::sleep(Duration::from_millis(500));
    std::io::Write::write_all(&mut keyboard, b"\x01x").expect("type escape");
    let run = finish(child, RUN_TIMEOUT);
    drop(keyboard);
    let lines: Vec<&str> = run.stdout.lines().map(str::trim_end).collect();
    assert!(lines.contains(&"exit=0"), "{run:?}");
    assert!(run.stdout.contains("quit by escape sequence"), "{run:?}");
    let settings: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.split(':').count() > 10)
        .collect();
    assert_eq!(settings.len(), 2, "{run:?}");
    assert_eq!(settings[0], settings[1], "terminal settings not restored");
}
