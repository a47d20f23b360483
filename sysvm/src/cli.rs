//! The `pvm sysvm …` subcommands, as clap sees them, and their entry point.
//!
//! This is the only place that turns launcher results into process exit codes and prints
//! them; everything below returns typed errors or an [`Outcome`](crate::outcome::Outcome).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::launch::{launch, LaunchOptions};

/// Subcommands of `pvm sysvm`.
#[derive(Debug, clap::Subcommand)]
pub enum SysvmCommand {
    /// Boot a guest described by a TOML config file (see spec/sysvm.md).
    ///
    /// Exit codes: 0 guest powered off or reset; V guest wrote V to port 0xf4; 64 usage;
    /// 65 invalid config; 69 /dev/kvm unusable; 70 KVM or launcher fault; 74 file unreadable.
    Boot {
        /// Path to the guest's config file.
        #[arg(long)]
        config: PathBuf,
        /// Print the launcher's peak resident set size on stderr when the guest ends.
        #[arg(long)]
        report_peak_rss: bool,
    },
}

/// Runs one `pvm sysvm` subcommand and returns the process exit code.
pub fn run(command: SysvmCommand) -> ExitCode {
    match command {
        SysvmCommand::Boot {
            config,
            report_peak_rss,
        } => {
            let options = LaunchOptions { report_peak_rss };
            match launch(&config, options) {
                Ok(outcome) => {
                    if let Some(line) = outcome.report() {
                        eprintln!("{line}");
                    }
                    ExitCode::from(outcome.exit_code())
                }
                Err(error) => {
                    eprintln!("pvm sysvm: {error}");
                    ExitCode::from(error.exit_code())
                }
            }
        }
    }
}
