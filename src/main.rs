//! The `pvm` command line: compile, run and disassemble Lox programs, boot KVM guests.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pvm",
    version,
    about = "A process virtual machine for Lox, and a KVM launcher"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot and manage KVM guests.
    Sysvm {
        #[command(subcommand)]
        command: pvm_sysvm::cli::SysvmCommand,
    },
}

/// sysexits' EX_USAGE, the code `pvm sysvm` documents for bad flags (spec/sysvm.md).
const EXIT_USAGE: u8 = 64;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // --help and --version also arrive here; they are not errors.
            return if error.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Sysvm { command } => pvm_sysvm::cli::run(command),
    }
}
