//! The `pvm` command line: compile, run and disassemble Lox programs, boot KVM guests.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pvm", version, about = "A process virtual machine for Lox, and a KVM launcher")]
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sysvm { command } => pvm_sysvm::cli::run(command),
    }
}
