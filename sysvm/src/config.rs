//! The guest config file: its TOML shape, its defaults and limits, and the checks that run
//! before anything touches KVM.
//!
//! Parsing is split from validation so that every complaint is one line naming the key or path
//! at fault; `spec/sysvm.md` documents the same keys, defaults and limits.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The command line a guest gets when the config sets none.
pub const DEFAULT_CMDLINE: &str = "console=ttyS0 reboot=k panic=1";

/// Fewest and most vCPUs a config may ask for.
pub const VCPUS_RANGE: std::ops::RangeInclusive<u32> = 1..=32;

/// Smallest guest memory: below this the fixed low-memory layout plus a kernel does not fit.
pub const MIN_MEMORY_MIB: u64 = 16;

/// Why a config file was refused. Each message is one line naming the key, path or cause.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file itself could not be read.
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax errors, unknown keys, wrong types and missing required keys.
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A number outside the range the launcher supports.
    #[error("{path}: `{key}` = {value} is out of range ({allowed})")]
    OutOfRange {
        path: PathBuf,
        key: &'static str,
        value: u64,
        allowed: String,
    },
    /// A key that only makes sense together with another one.
    #[error("{path}: {message}")]
    Inconsistent { path: PathBuf, message: String },
    /// A file the config names (kernel, initrd) does not exist or cannot be opened.
    #[error("{path}: `{key}` file {file}: {source}")]
    MissingFile {
        path: PathBuf,
        key: &'static str,
        file: PathBuf,
        source: std::io::Error,
    },
}

/// Where the guest's serial console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SerialMode {
    /// The launcher's stdin and stdout; raw mode when stdin is a terminal.
    #[default]
    Stdio,
    /// Output appended to `serial.path`; no input.
    File,
    /// Output dropped; no input.
    None,
}

/// The `[serial]` table exactly as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSerial {
    #[serde(default)]
    mode: SerialMode,
    path: Option<PathBuf>,
}

/// The file exactly as written; [`GuestConfig`] is the checked, path-resolved form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: String,
    vcpus: u32,
    memory_mib: u64,
    kernel: PathBuf,
    initrd: Option<PathBuf>,
    cmdline: Option<String>,
    #[serde(default)]
    serial: RawSerial,
}

/// The serial console's destination after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialTarget {
    Stdio,
    File(PathBuf),
    None,
}

/// A checked guest config: numbers in range, paths resolved against the config's folder and
/// known to be readable.
#[derive(Debug, Clone)]
pub struct GuestConfig {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    pub cmdline: String,
    pub serial: SerialTarget,
}

impl GuestConfig {
    /// Reads, parses and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, path, folder, host_memory_mib())
    }

    /// Parses and validates config text; `folder` anchors relative paths and `host_mib` is the
    /// largest guest memory allowed. Split from [`GuestConfig::load`] so tests need no files.
    pub fn from_toml(
        text: &str,
        path: &Path,
        folder: &Path,
        host_mib: u64,
    ) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            line: error
                .span()
                .map(|span| line_of(text, span.start))
                .unwrap_or(1),
            message: error.message().replace('\n', " "),
        })?;

        if !VCPUS_RANGE.contains(&raw.vcpus) {
            return Err(ConfigError::OutOfRange {
                path: path.to_owned(),
                key: "vcpus",
                value: u64::from(raw.vcpus),
                allowed: format!("{}..={}", VCPUS_RANGE.start(), VCPUS_RANGE.end()),
            });
        }
        if raw.memory_mib < MIN_MEMORY_MIB || raw.memory_mib > host_mib {
            return Err(ConfigError::OutOfRange {
                path: path.to_owned(),
                key: "memory_mib",
                value: raw.memory_mib,
                allowed: format!("{MIN_MEMORY_MIB}..={host_mib}, the host's memory"),
            });
        }

        let kernel = folder.join(&raw.kernel);
        check_readable(path, "kernel", &kernel)?;
        let initrd = raw.initrd.map(|initrd| folder.join(initrd));
        if let Some(initrd) = &initrd {
            check_readable(path, "initrd", initrd)?;
        }

        let serial = match (raw.serial.mode, raw.serial.path) {
            (SerialMode::File, Some(file)) => SerialTarget::File(folder.join(file)),
            (SerialMode::File, None) => {
                return Err(ConfigError::Inconsistent {
                    path: path.to_owned(),
                    message: "`serial.mode` = \"file\" needs `serial.path`".to_owned(),
                })
            }
            (_, Some(_)) => {
                return Err(ConfigError::Inconsistent {
                    path: path.to_owned(),
                    message: "`serial.path` is only used with `serial.mode` = \"file\"".to_owned(),
                })
            }
            (SerialMode::Stdio, None) => SerialTarget::Stdio,
            (SerialMode::None, None) => SerialTarget::None,
        };

        Ok(GuestConfig {
            name: raw.name,
            vcpus: raw.vcpus,
            memory_mib: raw.memory_mib,
            kernel,
            initrd,
            cmdline: raw.cmdline.unwrap_or_else(|| DEFAULT_CMDLINE.to_owned()),
            serial,
        })
    }
}

/// Opens `file` once so a missing or unreadable kernel or initrd is refused before any VM exists.
fn check_readable(path: &Path, key: &'static str, file: &Path) -> Result<(), ConfigError> {
    let opened = File::open(file).and_then(|handle| {
        if handle.metadata()?.is_dir() {
            Err(std::io::Error::other("is a directory"))
        } else {
            Ok(())
        }
    });
    opened.map_err(|source| ConfigError::MissingFile {
        path: path.to_owned(),
        key,
        file: file.to_owned(),
        source,
    })
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// The host's physical memory in MiB: the ceiling for `memory_mib`. Guest memory is thin
/// provisioned, so this bounds what the guest could touch rather than what it reserves.
fn host_memory_mib() -> u64 {
    // SAFETY: sysinfo only writes into the zeroed struct we pass and reports failure by return.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable sysinfo struct for the duration of the call.
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        // Without the figure, do not refuse anything; KVM or mmap will complain instead.
        return u64::MAX;
    }
    info.totalram.saturating_mul(u64::from(info.mem_unit)) >> 20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GuestConfig, ConfigError> {
        // The crate's own manifest stands in for kernel and initrd files that must exist.
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"));
        GuestConfig::from_toml(text, Path::new("guest.toml"), folder, 4096)
    }

    const GOOD: &str = "name = \"t\"\nvcpus = 2\nmemory_mib = 64\nkernel = \"Cargo.toml\"\n";

    #[test]
    fn defaults_apply() {
        let config = parse(GOOD).expect("valid config");
        assert_eq!(config.cmdline, DEFAULT_CMDLINE);
        assert_eq!(config.serial, SerialTarget::Stdio);
        assert!(config.initrd.is_none());
        assert!(config.kernel.ends_with("Cargo.toml"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let error = parse(&format!("{GOOD}colour = 3\n")).expect_err("unknown key");
        let message = error.to_string();
        assert!(message.starts_with("guest.toml:5:"), "{message}");
        assert!(message.contains("colour"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn vcpus_out_of_range() {
        let error = parse(&GOOD.replace("vcpus = 2", "vcpus = 33")).expect_err("33 vcpus");
        assert!(error.to_string().contains("`vcpus` = 33"), "{error}");
        let error = parse(&GOOD.replace("vcpus = 2", "vcpus = 0")).expect_err("0 vcpus");
        assert!(error.to_string().contains("`vcpus` = 0"), "{error}");
    }

    #[test]
    fn memory_out_of_range() {
        let error = parse(&GOOD.replace("= 64", "= 8")).expect_err("8 MiB");
        assert!(error.to_string().contains("`memory_mib` = 8"), "{error}");
        let error = parse(&GOOD.replace("= 64", "= 5000")).expect_err("above host");
        assert!(error.to_string().contains("host"), "{error}");
    }

    #[test]
    fn missing_kernel_names_key_and_path() {
        let error = parse(&GOOD.replace("Cargo.toml", "no-such-vmlinuz")).expect_err("missing");
        let message = error.to_string();
        assert!(message.contains("`kernel`"), "{message}");
        assert!(message.contains("no-such-vmlinuz"), "{message}");
    }

    #[test]
    fn serial_file_needs_path() {
        let error = parse(&format!("{GOOD}[serial]\nmode = \"file\"\n")).expect_err("no path");
        assert!(error.to_string().contains("serial.path"), "{error}");
        let config = parse(&format!(
            "{GOOD}[serial]\nmode = \"file\"\npath = \"s.log\"\n"
        ))
        .expect("file serial");
        assert!(matches!(config.serial, SerialTarget::File(p) if p.ends_with("s.log")));
    }

    #[test]
    fn wrong_type_is_one_line() {
        let error = parse(&GOOD.replace("vcpus = 2", "vcpus = \"two\"")).expect_err("type");
        let message = error.to_string();
        assert!(message.starts_with("guest.toml:2:"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }
}
