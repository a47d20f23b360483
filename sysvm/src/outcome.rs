//! How a guest run ends, and the exit code each ending maps to.
//!
//! The codes follow sysexits(3) where one fits; `spec/sysvm.md` lists them for users, and the
//! integration tests pin each one.

/// Usage error: bad flags or arguments.
pub const EXIT_USAGE: u8 = 64;
/// The config file is invalid.
pub const EXIT_CONFIG: u8 = 65;
/// `/dev/kvm` is missing or unusable.
pub const EXIT_NO_KVM: u8 = 69;
/// KVM internal error or another launcher fault.
pub const EXIT_SOFTWARE: u8 = 70;
/// A kernel, initrd, config or serial file cannot be read or written.
pub const EXIT_IO: u8 = 74;

/// The port a test guest writes its exit code to.
pub const TEST_EXIT_PORT: u16 = 0xf4;

/// Why the guest stopped running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The guest wrote the soft-off sleep type to the ACPI sleep-control register.
    PowerOff,
    /// The guest asked the i8042 to pulse the reset line.
    Reset,
    /// KVM reported a shutdown or reset system event (of this type).
    SystemEvent(u32),
    /// A vCPU triple-faulted; a real machine would reset.
    TripleFault { vcpu: u32 },
    /// The guest wrote this byte to [`TEST_EXIT_PORT`].
    TestExit(u8),
    /// The user typed the escape sequence (Ctrl-A x).
    EscapeQuit,
    /// The launcher received SIGINT, SIGTERM or SIGHUP.
    Signal(i32),
    /// KVM or the launcher failed; the message says what and where.
    Fault(String),
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::PowerOff
            | Outcome::Reset
            | Outcome::SystemEvent(_)
            | Outcome::TripleFault { .. }
            | Outcome::EscapeQuit => 0,
            Outcome::TestExit(code) => *code,
            // Shells report death by signal N as 128 + N; match that for a caught signal.
            Outcome::Signal(signal) => 128u8.saturating_add(*signal as u8),
            Outcome::Fault(_) => EXIT_SOFTWARE,
        }
    }

    /// The line printed on stderr for this outcome, if any: a clean power-off says nothing.
    pub fn report(&self) -> Option<String> {
        match self {
            Outcome::PowerOff | Outcome::Reset | Outcome::SystemEvent(_) => None,
            Outcome::TripleFault { vcpu } => Some(format!(
                "pvm sysvm: guest triple fault on vCPU {vcpu}; treating it as a reset"
            )),
            Outcome::TestExit(code) => {
                (*code != 0).then(|| format!("pvm sysvm: guest reported exit code {code}"))
            }
            Outcome::EscapeQuit => Some("pvm sysvm: quit by escape sequence".to_owned()),
            Outcome::Signal(signal) => Some(format!("pvm sysvm: stopped by signal {signal}")),
            Outcome::Fault(message) => Some(format!("pvm sysvm: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_endings_exit_zero() {
        for outcome in [
            Outcome::PowerOff,
            Outcome::Reset,
            Outcome::TripleFault { vcpu: 0 },
            Outcome::TestExit(0),
        ] {
            assert_eq!(outcome.exit_code(), 0, "{outcome:?}");
        }
    }

    #[test]
    fn test_exit_and_faults_keep_their_codes() {
        assert_eq!(Outcome::TestExit(3).exit_code(), 3);
        assert_eq!(Outcome::Fault("x".into()).exit_code(), EXIT_SOFTWARE);
        assert_eq!(Outcome::Signal(libc::SIGTERM).exit_code(), 143);
    }
}
