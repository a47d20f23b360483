//! The runtime's error types: loading (decode + verify) and execution.

use std::fmt;

/// Why a program could not be loaded. Always names a byte offset in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte offset {offset}: {problem}")]
pub struct LoadError {
    pub offset: usize,
    pub problem: String,
}

impl From<pvm_bytecode::DecodeError> for LoadError {
    fn from(error: pvm_bytecode::DecodeError) -> Self {
        LoadError {
            offset: error.offset,
            problem: error.problem,
        }
    }
}

/// One line of a stack trace: the function and where it was executing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub function: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// What stopped a running program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeErrorKind {
    /// An uncaught exception: thrown by the program, or an error the VM raised
    /// (wrong types, undefined names, stack overflow…).
    Error,
    /// The program asked to end the process with this status (`os.exit`); the
    /// runtime unwinds and leaves the exiting to its host.
    Exit(i32),
    /// The instruction budget ran out (tests and fuzzing); programs cannot catch it.
    BudgetExhausted,
    /// Standard output could not be written (for example a closed pipe).
    Output(std::io::ErrorKind),
}

/// A runtime error with the stack trace at the point it was raised, innermost
/// frame first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    pub kind: RuntimeErrorKind,
    pub message: String,
    pub trace: Vec<TraceLine>,
}

impl fmt::Display for RuntimeError {
    /// First line `file:line:column: runtime error: MESSAGE`, then one
    /// `  at FUNCTION (file:line)` line per frame.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.trace.first() {
            Some(top) => write!(
                f,
                "{}:{}:{}: runtime error: {}",
                top.file, top.line, top.column, self.message
            )?,
            None => write!(f, "runtime error: {}", self.message)?,
        }
        // Deep recursion would print thousands of identical lines; like Python,
        // show a repeated frame a few times and then say how often it repeats.
        const SHOWN_REPEATS: usize = 3;
        let mut index = 0;
        while index < self.trace.len() {
            let line = &self.trace[index];
            let same = |other: &TraceLine| {
                other.function == line.function
                    && other.file == line.file
                    && other.line == line.line
            };
            let run = self.trace[index..]
                .iter()
                .take_while(|other| same(other))
                .count();
            for _ in 0..run.min(SHOWN_REPEATS) {
                write!(f, "\n  at {} ({}:{})", line.function, line.file, line.line)?;
            }
            if run > SHOWN_REPEATS {
                write!(
                    f,
                    "\n  ... the line above repeats {} more times",
                    run - SHOWN_REPEATS
                )?;
            }
            index += run;
        }
        Ok(())
    }
}

impl std::error::Error for RuntimeError {}

/// How a native function fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NativeError {
    /// Raise a catchable `Error` with this message at the call site.
    #[error("{0}")]
    Error(String),
    /// Let something already raised pass through: an exception a callback did not
    /// catch, an exhausted budget, an exit.
    #[error("{0}")]
    Propagate(RuntimeError),
}

impl From<RuntimeError> for NativeError {
    fn from(error: RuntimeError) -> Self {
        NativeError::Propagate(error)
    }
}

/// Shorthand for natives: a catchable error with this message.
pub fn native_error<T>(message: impl Into<String>) -> Result<T, NativeError> {
    Err(NativeError::Error(message.into()))
}
