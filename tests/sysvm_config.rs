//! Every way `pvm sysvm boot` refuses to start: bad flags, config errors, unreadable files and
//! an unusable `/dev/kvm`. Each must print exactly one line naming the key, path or cause, and
//! exit with its documented code before any guest runs.

mod sysvm_support;

use std::path::Path;
use std::process::{Command, Stdio};

use sysvm_support::*;

/// Asserts a refusal: the exit code, one stderr line, the words it must contain, no stdout.
fn assert_refused(run: &Run, code: i32, words: &[&str]) {
    assert_eq!(run.code, Some(code), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "one line expected: {run:?}");
    for word in words {
        assert!(run.stderr.contains(word), "missing {word:?}: {run:?}");
    }
    assert_eq!(run.stdout, "", "{run:?}");
}

/// A config whose kernel exists (the manifest stands in; it is never loaded in these tests).
fn config_with(extra: &str, test: &str) -> std::path::PathBuf {
    let dir = scratch_dir(test);
    std::fs::write(dir.join("vmlinuz"), b"not a kernel").expect("write kernel");
    write_config(
        &dir,
        &format!("name = \"t\"\nvcpus = 1\nmemory_mib = 64\nkernel = \"vmlinuz\"\n{extra}"),
    )
}

fn edit(config: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(config).expect("read config");
    assert!(text.contains(from));
    std::fs::write(config, text.replace(from, to)).expect("write config");
}

#[test]
fn missing_flag_is_a_usage_error() {
    let output = pvm()
        .args(["sysvm", "boot"])
        .stdin(Stdio::null())
        .output()
        .expect("run pvm");
    assert_eq!(output.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--config"));
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let config = config_with("colour = \"blue\"\n", "unknown_key");
    assert_refused(&boot(&config, &[]), 65, &["guest.toml:5:", "colour"]);
}

#[test]
fn unknown_serial_key_is_named() {
    let config = config_with(
        "[serial]\nmode = \"stdio\"\nbaud = 9600\n",
        "unknown_serial_key",
    );
    assert_refused(&boot(&config, &[]), 65, &["baud"]);
}

#[test]
fn missing_required_key_is_named() {
    let config = config_with("", "missing_key");
    edit(&config, "vcpus = 1\n", "");
    assert_refused(&boot(&config, &[]), 65, &["vcpus"]);
}

#[test]
fn bad_serial_mode_is_named() {
    let config = config_with("[serial]\nmode = \"telnet\"\n", "bad_serial_mode");
    assert_refused(&boot(&config, &[]), 65, &["telnet"]);
}

#[test]
fn vcpus_out_of_range() {
    for bad in ["0", "33"] {
        let config = config_with("", &format!("vcpus_{bad}"));
        edit(&config, "vcpus = 1", &format!("vcpus = {bad}"));
        assert_refused(&boot(&config, &[]), 65, &["`vcpus`", bad, "1..=32"]);
    }
}

#[test]
fn memory_out_of_range() {
    for bad in ["15", "100000000"] {
        let config = config_with("", &format!("memory_{bad}"));
        edit(&config, "memory_mib = 64", &format!("memory_mib = {bad}"));
        assert_refused(&boot(&config, &[]), 65, &["`memory_mib`", bad]);
    }
}

#[test]
fn missing_kernel_names_key_and_path() {
    let config = config_with("", "missing_kernel");
    edit(&config, "\"vmlinuz\"", "\"no-such-vmlinuz\"");
    assert_refused(&boot(&config, &[]), 74, &["`kernel`", "no-such-vmlinuz"]);
}

#[test]
fn missing_initrd_names_key_and_path() {
    let config = config_with("initrd = \"no-such-initrd.cpio\"\n", "missing_initrd");
    assert_refused(
        &boot(&config, &[]),
        74,
        &["`initrd`", "no-such-initrd.cpio"],
    );
}

#[test]
fn missing_config_file_is_named() {
    let missing = scratch_dir("missing_config").join("absent.toml");
    assert_refused(&boot(&missing, &[]), 74, &["absent.toml"]);
}

#[test]
fn serial_file_without_path_is_refused() {
    let config = config_with("[serial]\nmode = \"file\"\n", "serial_no_path");
    assert_refused(&boot(&config, &[]), 65, &["serial.path"]);
}

#[test]
fn kernel_in_no_known_format_is_refused() {
    if !require("/dev/kvm (read-write)", kvm_usable()) {
        return;
    }
    let config = config_with("", "bad_kernel_format");
    assert_refused(&boot(&config, &[]), 74, &["vmlinuz", "bzImage"]);
}

#[test]
fn elf_without_pvh_note_is_refused() {
    if !require("/dev/kvm (read-write)", kvm_usable()) {
        return;
    }
    let dir = scratch_dir("elf_without_pvh");
    // Any 64-bit ELF without a PVH note will do; the test binary itself is one, but its entry
    // point may lie below 1 MiB, so both refusals are acceptable: what matters is code 74.
    let kernel = std::env::current_exe().expect("test binary path");
    let config = write_config(&dir, &config_text("elf", 1, 64, &kernel, ""));
    let run = boot(&config, &[]);
    assert_refused(&run, 74, &["kernel"]);
}

/// Runs `pvm sysvm boot` in a private mount namespace after `setup` (a shell snippet) has
/// changed what `/dev/kvm` is. Returns None when namespaces are unavailable here.
fn boot_with_hidden_kvm(setup: &str, config: &Path) -> Option<Run> {
    let probe = Command::new("unshare")
        .args(["--mount", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !require(
        "unshare --mount (root)",
        probe.is_ok_and(|status| status.success()),
    ) {
        return None;
    }
    let script = format!("{setup} && exec \"$0\" sysvm boot --config \"$1\"");
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .arg(env!("CARGO_BIN_EXE_pvm"))
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare");
    Some(finish(child, RUN_TIMEOUT))
}

#[test]
fn absent_kvm_device_exits_69() {
    let config = config_with("", "no_kvm");
    let Some(run) = boot_with_hidden_kvm("mount -t tmpfs tmpfs /dev", &config) else {
        return;
    };
    assert_refused(&run, 69, &["/dev/kvm", "cannot open"]);
}

#[test]
fn unusable_kvm_device_exits_69() {
    let config = config_with("", "bad_kvm");
    let Some(run) = boot_with_hidden_kvm("mount --bind /dev/null /dev/kvm", &config) else {
        return;
    };
    assert_refused(&run, 69, &["/dev/kvm", "not a usable KVM device"]);
}

#[test]
fn config_errors_win_over_a_missing_kvm() {
    // Config problems are reported first, so a user fixes them without needing KVM.
    let config = config_with("colour = 1\n", "config_before_kvm");
    let Some(run) = boot_with_hidden_kvm("mount -t tmpfs tmpfs /dev", &config) else {
        return;
    };
    assert_refused(&run, 65, &["colour"]);
}

#[test]
fn spec_documents_every_exit_code_and_config_key() {
    let spec = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/sysvm.md"))
        .expect("read spec/sysvm.md");
    for code in [
        "| 0 |",
        "| V |",
        "| 64 |",
        "| 65 |",
        "| 69 |",
        "| 70 |",
        "| 74 |",
        "| 128+N |",
    ] {
        assert!(
            spec.contains(code),
            "spec/sysvm.md lacks exit code row {code}"
        );
    }
    for key in [
        "`name`",
        "`vcpus`",
        "`memory_mib`",
        "`kernel`",
        "`initrd`",
        "`cmdline`",
        "`serial.mode`",
        "`serial.path`",
    ] {
        assert!(
            spec.contains(&format!("| {key} |")),
            "spec/sysvm.md lacks config key {key}"
        );
    }
}
