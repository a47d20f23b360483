//! The `pvm` command line: compile Lox to portable bytecode, run and disassemble
//! it, and boot KVM guests. Exit codes (documented in README.md): 0 success,
//! 64 usage error, 65 compile or load error, 70 runtime error, 74 I/O error.

mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pvm",
    version,
    about = "A process virtual machine for Lox with portable, verified bytecode, and a KVM launcher"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a Lox source file to a .pbc bytecode file.
    Compile {
        /// The entry source file.
        source: PathBuf,
        /// Output file (default: SOURCE with its extension replaced by .pbc).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Verify and run a .pbc file, or compile and run a source file in memory.
    Run(commands::RunArgs),
    /// Print a readable listing of a .pbc file (or of a source file's bytecode).
    Disasm {
        /// A .pbc file or a source file.
        file: PathBuf,
    },
    /// Boot and manage KVM guests.
    Sysvm {
        #[command(subcommand)]
        command: pvm_sysvm::cli::SysvmCommand,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage_error = error.use_stderr();
            // Printing help or a usage error can only fail if the terminal is
            // gone, and then there is nobody left to tell.
            let _ = error.print();
            return if usage_error {
                ExitCode::from(commands::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Compile { source, output } => commands::compile(&source, output.as_deref()),
        Command::Run(args) => commands::run(args),
        Command::Disasm { file } => commands::disasm(&file),
        Command::Sysvm { command } => pvm_sysvm::cli::run(command),
    }
}
