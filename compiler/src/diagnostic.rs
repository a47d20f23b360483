//! Compile-time diagnostics and the crate's error type.
//!
//! Every pass (lexer, parser, resolver, code generator) reports problems as [`Diagnostic`]s
//! into a shared [`Diagnostics`] sink instead of stopping, so that one compile shows every error
//! of the file. [`CompileError`] is what the public API returns; the CLI maps its two variants to
//! exit codes 74 and 65.

use std::cell::RefCell;
use std::fmt;

/// A position in the source: 1-based line and column, the column counting characters (not
/// bytes), plus the byte offset so that token text can be sliced back out of the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: u32,
}

/// What a diagnostic points at, printed after `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Near {
    /// `error at 'TOKEN'`.
    Token(String),
    /// `error at end`: the problem was found at the end of the input.
    End,
    /// Plain `error`: there is no token to name (an unexpected character, bad encoding).
    Nothing,
}

/// One problem found in the source, printed as `file:line:column: error at 'TOKEN': message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub near: Near,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: error", self.file, self.line, self.column)?;
        match &self.near {
            Near::Token(text) => write!(f, " at '{text}'")?,
            Near::End => write!(f, " at end")?,
            Near::Nothing => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// Why compiling failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The source could not be read (CLI exits 74): a directory, missing, unreadable.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// One or more diagnostics (CLI exits 65).
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Diagnostics(Vec<Diagnostic>),
}

/// The sink every pass reports into. Interior mutability because the parser's semantic actions
/// only get a shared reference to their context.
#[derive(Debug)]
pub(crate) struct Diagnostics {
    file: String,
    found: RefCell<Vec<Diagnostic>>,
}

impl Diagnostics {
    pub(crate) fn new(file: &str) -> Self {
        Diagnostics {
            file: file.to_string(),
            found: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn report(&self, pos: Pos, near: Near, message: impl Into<String>) {
        let near = match near {
            Near::Token(text) => Near::Token(one_line_excerpt(&text)),
            other => other,
        };
        self.found.borrow_mut().push(Diagnostic {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            near,
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.borrow().is_empty()
    }

    /// Moves everything `other` found into this sink.
    pub(crate) fn append(&self, other: Diagnostics) {
        self.found.borrow_mut().extend(other.found.into_inner());
    }

    /// All diagnostics in source order. Passes report in their own order (the lexer runs ahead
    /// of the parser, the resolver after both), so sort; the sort is stable, so two reports at
    /// one position keep the order they were found in. Exact duplicates (a parse error the
    /// recovery and the final result both saw) are dropped.
    pub(crate) fn into_sorted(self) -> Vec<Diagnostic> {
        let mut found = self.found.into_inner();
        found.sort_by_key(|d| (d.line, d.column));
        found.dedup();
        found
    }
}

/// The most characters of a token a diagnostic quotes.
const MAX_QUOTED_CHARS: usize = 40;

/// A token as quoted in a diagnostic: its first line, cut short if long, so that every
/// diagnostic stays on one line (a string literal may span many).
fn one_line_excerpt(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let mut excerpt: String = first_line.chars().take(MAX_QUOTED_CHARS).collect();
    if excerpt.len() < text.len() {
        excerpt.push_str("...");
    }
    excerpt
}
