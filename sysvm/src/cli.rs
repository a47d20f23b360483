//! The `pvm sysvm …` subcommands, as clap sees them, and their entry point.

use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `pvm sysvm`.
#[derive(Debug, clap::Subcommand)]
pub enum SysvmCommand {
    /// Boot a guest described by a TOML config file.
    Boot {
        /// Path to the guest's config file.
        #[arg(long)]
        config: PathBuf,
    },
}

/// Runs one `pvm sysvm` subcommand and returns the process exit code.
pub fn run(command: SysvmCommand) -> ExitCode {
    match command {
        SysvmCommand::Boot { config } => {
            eprintln!("pvm sysvm: {}: launcher not built yet", config.display());
            ExitCode::from(70)
        }
    }
}
