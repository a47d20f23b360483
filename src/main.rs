//! The `pvm` command line: compile Lox to portable bytecode, run and disassemble
//! it, and boot KVM guests. Exit codes (documented in README.md): 0 success,
//! 64 usage error, 65 compile or load error, 70 runtime error, 74 I/O error.

#[cfg(feature = "mimalloc")]
mod allocator;
mod commands;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
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

/// Splits `pvm run [OPTIONS] FILE ARGS…` so that everything after FILE reaches
/// the program untouched, even words that look like pvm's own flags (`--help`).
/// clap would otherwise keep parsing options after the first positional.
fn split_program_args(argv: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    // `pvm run` options that take their value as the next word, read from the
    // clap definition so the two cannot drift apart.
    let run = <commands::RunArgs as clap::Args>::augment_args(clap::Command::new("run"));
    let value_options: Vec<String> = run
        .get_arguments()
        .filter(|arg| arg.get_action().takes_values() && !arg.is_require_equals_set())
        .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
        .collect();
    if argv.get(1).and_then(|word| word.to_str()) != Some("run") {
        return (argv, Vec::new());
    }
    let mut index = 2;
    while index < argv.len() {
        // A word that is not Unicode cannot be one of pvm's options: it is FILE.
        let word = argv[index].to_str().unwrap_or("");
        if word == "--" {
            index += 1;
            break;
        }
        if !word.starts_with('-') || word == "-" {
            break;
        }
        index += if value_options.iter().any(|option| option == word) {
            2
        } else {
            1
        };
    }
    // `index` is FILE's position (or past the end, when FILE is missing).
    let split = (index + 1).min(argv.len());
    let mut pvm_argv = argv;
    // Lox strings are Unicode; bytes that are not become U+FFFD.
    let program_args = pvm_argv
        .split_off(split)
        .iter()
        .map(|word| word.to_string_lossy().into_owned())
        .collect();
    (pvm_argv, program_args)
}

fn main() -> ExitCode {
    #[cfg(feature = "mimalloc")]
    allocator::tune();
    let (argv, program_args) = split_program_args(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(argv) {
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
        Command::Run(mut args) => {
            args.args = program_args;
            commands::run(args)
        }
        Command::Disasm { file } => commands::disasm(&file),
        Command::Sysvm { command } => pvm_sysvm::cli::run(command),
    }
}
