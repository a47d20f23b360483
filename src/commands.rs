//! What each `pvm` subcommand does, from arguments to exit code. Every error is
//! reported here, on stderr, with the file it concerns and a documented exit code.

use pvm_compiler::CompileError;
use pvm_runtime::{GcStress, Options, Permissions, RuntimeErrorKind};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes one diagnostic line to stderr. Unlike `eprintln!`, a closed stderr is
/// not a panic: the exit code still tells the story.
macro_rules! report {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub const EXIT_USAGE: u8 = 64;
pub const EXIT_COMPILE: u8 = 65;
pub const EXIT_RUNTIME: u8 = 70;
pub const EXIT_IO: u8 = 74;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Collect garbage before every N-th allocation (1 = every allocation), to
    /// flush out GC bugs. Also settable with the PVM_GC_STRESS environment variable.
    #[arg(long, value_name = "N")]
    gc_stress: Option<u32>,
    /// Deepest call nesting before a `Stack overflow.` error.
    #[arg(long, value_name = "FRAMES", default_value_t = pvm_runtime::DEFAULT_MAX_CALL_DEPTH)]
    max_call_depth: usize,
    /// Stop with an error after this many calls plus backward jumps (for tests
    /// and fuzzing; programs cannot catch it).
    #[arg(long, value_name = "STEPS")]
    budget: Option<u64>,
    /// Heap limit: live objects beyond it raise a catchable `Out of memory.`
    /// error. Bytes, or with a K, M or G suffix (powers of 1024). Default 2G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_heap: Option<usize>,
    /// Let the program read files: anywhere, or only under the given paths.
    #[arg(long, value_name = "PATH,...", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = ALL_PATHS)]
    allow_read: Option<Vec<PathBuf>>,
    /// Let the program write files: anywhere, or only under the given paths.
    #[arg(long, value_name = "PATH,...", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = ALL_PATHS)]
    allow_write: Option<Vec<PathBuf>>,
    /// Let the program read environment variables.
    #[arg(long)]
    allow_env: bool,
    /// Grant every permission (read, write, environment).
    #[arg(short = 'A', long)]
    allow_all: bool,
    /// A .pbc file, or a source file to compile in memory.
    file: PathBuf,
    /// Arguments for the program: everything after FILE, passed on untouched.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `pvm compile SOURCE [-o OUT]`.
pub fn compile(source: &Path, output: Option<&Path>) -> ExitCode {
    let output = output.map_or_else(|| source.with_extension("pbc"), Path::to_path_buf);
    if same_file(source, &output) {
        report!(
            "pvm: {}: refusing to overwrite the source file with its own bytecode (use -o)",
            output.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let program = match pvm_compiler::compile_file_with(source, &compile_options()) {
        Ok(program) => program,
        Err(error) => return report_compile_error(error),
    };
    let bytes = pvm_bytecode::encode(&program);
    match write_atomically(&output, &bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report!("pvm: {}: cannot write: {error}", output.display());
            ExitCode::from(EXIT_IO)
        }
    }
}

/// `pvm run FILE [ARGS…]`.
pub fn run(args: RunArgs) -> ExitCode {
    pvm_stdlib::start_clock();
    let bytes = match load_or_compile(&args.file) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    let gc_stress = args
        .gc_stress
        .or_else(|| {
            std::env::var("PVM_GC_STRESS")
                .ok()
                .and_then(|n| n.parse().ok())
        })
        .filter(|&n| n > 0)
        .map_or(GcStress::Off, GcStress::Every);
    let permissions = Permissions {
        read: if args.allow_all {
            Some(Vec::new())
        } else {
            path_grant(args.allow_read)
        },
        write: if args.allow_all {
            Some(Vec::new())
        } else {
            path_grant(args.allow_write)
        },
        env: args.allow_all || args.allow_env,
    };
    let options = Options {
        gc_stress,
        max_call_depth: args.max_call_depth,
        instruction_budget: args.budget,
        program_args: args.args,
        max_heap: args.max_heap.unwrap_or(pvm_runtime::DEFAULT_MAX_HEAP),
        permissions,
    };
    let stdout = Box::new(std::io::BufWriter::with_capacity(
        1 << 16,
        std::io::stdout().lock(),
    ));
    let library = pvm_stdlib::library();
    let mut vm = match pvm_runtime::load_bytes(&bytes, &library, options, stdout) {
        Ok(vm) => vm,
        Err(error) => {
            report!("pvm: {}: {error}", args.file.display());
            return ExitCode::from(EXIT_COMPILE);
        }
    };
    match vm.run() {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`pvm run app.pbc | head -1`) is not worth a message.
        Err(error) if error.kind == RuntimeErrorKind::Output(std::io::ErrorKind::BrokenPipe) => {
            ExitCode::from(EXIT_IO)
        }
        Err(error) => {
            let code = match error.kind {
                RuntimeErrorKind::Exit(code) => return ExitCode::from(code as u8),
                RuntimeErrorKind::Output(_) => EXIT_IO,
                _ => EXIT_RUNTIME,
            };
            report!("{error}");
            ExitCode::from(code)
        }
    }
}

/// Parses `--max-heap`: a byte count with an optional K, M or G suffix.
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((at, suffix)) if suffix.is_ascii_alphabetic() => (&text[..at], suffix),
        _ => (text, 'B'),
    };
    let scale: usize = match unit.to_ascii_uppercase() {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        other => return Err(format!("unknown size suffix '{other}' (use K, M or G)")),
    };
    let count: usize = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size like 512M"))?;
    count
        .checked_mul(scale)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("'{text}' is not a usable heap size"))
}

/// What clap records for a bare `--allow-read`: a NUL, which no real argument
/// can contain, so it cannot be confused with a path.
const ALL_PATHS: &str = "\0";

/// A path grant from the command line: `--allow-read` alone grants everything,
/// `--allow-read=a,b` grants those paths.
fn path_grant(paths: Option<Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    let paths = paths?;
    if paths.iter().any(|path| path.as_os_str() == ALL_PATHS) {
        Some(Vec::new())
    } else {
        Some(paths)
    }
}

/// `pvm disasm FILE`.
pub fn disasm(file: &Path) -> ExitCode {
    let bytes = match load_or_compile(file) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    let program = match pvm_bytecode::decode(&bytes) {
        Ok(program) => program,
        Err(error) => {
            report!("pvm: {}: {error}", file.display());
            return ExitCode::from(EXIT_COMPILE);
        }
    };
    let listing = pvm_bytecode::disassemble(&program);
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(listing.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_IO),
        Err(error) => {
            report!("pvm: cannot write the listing: {error}");
            ExitCode::from(EXIT_IO)
        }
    }
}

/// The bytes of `file` as bytecode: read as-is when it starts with pvm's magic
/// number (whatever its name), otherwise compiled from source in memory and
/// encoded, so that source and `.pbc` take exactly the same path into the VM.
fn load_or_compile(file: &Path) -> Result<Vec<u8>, ExitCode> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            report!("pvm: {}: cannot read: {error}", file.display());
            return Err(ExitCode::from(EXIT_IO));
        }
    };
    if bytes.starts_with(&pvm_bytecode::MAGIC) {
        return Ok(bytes);
    }
    match pvm_compiler::compile_file_with(file, &compile_options()) {
        Ok(program) => Ok(pvm_bytecode::encode(&program)),
        Err(error) => Err(report_compile_error(error)),
    }
}

/// What the compiler may bundle or import: the standard library's modules.
fn compile_options() -> pvm_compiler::CompileOptions {
    pvm_compiler::CompileOptions {
        native_modules: pvm_stdlib::native_module_names(),
        lox_modules: pvm_stdlib::LOX_MODULES,
    }
}

fn report_compile_error(error: CompileError) -> ExitCode {
    match error {
        CompileError::Io { path, source: io } => {
            report!("pvm: {path}: cannot read: {io}");
            ExitCode::from(EXIT_IO)
        }
        CompileError::Diagnostics(diagnostics) => {
            for diagnostic in diagnostics {
                report!("{diagnostic}");
            }
            ExitCode::from(EXIT_COMPILE)
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place,
/// so a reader never sees a half-written `.pbc` and a failed write leaves the old
/// file intact.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    let file_name = file_name.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "output path names no file",
        )
    })?;
    let temporary: PathBuf =
        path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
