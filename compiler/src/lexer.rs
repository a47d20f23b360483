//! The lexer: logos turns source text into [`Token`]s; [`Lexer`] adds positions (line and
//! character column, computed incrementally so a long line costs nothing extra) and feeds the
//! LALRPOP parser as its external lexer.
//!
//! Lexical errors (an unexpected character, an unterminated string) are reported to the
//! diagnostics sink when found and passed on as error tokens that no grammar rule accepts, so
//! the parser recovers past them (as the book's parser does with its error tokens) without
//! reporting them twice.

use logos::Logos;

use crate::diagnostic::{Diagnostics, Near, Pos};

/// A Lox token. Literal payloads borrow from the source; string literals keep their quotes and
/// are decoded by [`decode_string_literal`] so that escape handling lives in one place.
#[derive(Logos, Debug, Clone, Copy, PartialEq)]
#[logos(extras = Lines)]
#[logos(skip r"[ \t\r\f]+")]
// Newlines are skipped one by one so that each one moves the line start (see [`Lines`]).
#[logos(skip(r"\n", callback = newline))]
// A comment runs to the end of its line by definition, so the greedy match is the point.
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Token<'src> {
    #[token("(")]
    LeftParen,
    #[token(")")]
    RightParen,
    #[token("{")]
    LeftBrace,
    #[token("}")]
    RightBrace,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("-")]
    Minus,
    #[token("+")]
    Plus,
    #[token(";")]
    Semicolon,
    #[token("/")]
    Slash,
    #[token("*")]
    Star,
    #[token("!")]
    Bang,
    #[token("!=")]
    BangEqual,
    #[token("=")]
    Equal,
    #[token("==")]
    EqualEqual,
    #[token(">")]
    Greater,
    #[token(">=")]
    GreaterEqual,
    #[token("<")]
    Less,
    #[token("<=")]
    LessEqual,
    #[token("[")]
    LeftBracket,
    #[token("]")]
    RightBracket,
    #[token(":")]
    Colon,
    #[token("%")]
    Percent,
    #[token("+=")]
    PlusEqual,
    #[token("-=")]
    MinusEqual,
    #[token("*=")]
    StarEqual,
    #[token("/=")]
    SlashEqual,
    #[token("%=")]
    PercentEqual,

    #[regex("[a-zA-Z_][a-zA-Z0-9_]*", |lex| lex.slice())]
    Identifier(&'src str),
    /// The raw literal, quotes included. A backslash always takes the next character with it,
    /// so `\"` does not end the literal; whether the escape means anything is decided by
    /// [`decode_string_literal`], which can say where the bad one is.
    #[regex(r#""([^"\\]|\\(.|\n))*""#, |lex| lex.slice())]
    String(&'src str),
    /// A string that runs to the end of the input. The lexer reports it; the parser gets it
    /// as a token no rule accepts, so that recovery skips it like the book's error tokens.
    #[regex(r#""([^"\\]|\\(.|\n))*\\?"#)]
    UnterminatedString,
    /// A character that starts no token; handled like [`Token::UnterminatedString`].
    Invalid,
    /// Digits with an optional fraction; no leading or trailing dot, so `1.foo` is a property
    /// access on `1`.
    #[regex(r"[0-9]+(\.[0-9]+)?", |lex| lex.slice().parse::<f64>().ok())]
    Number(f64),

    #[token("and")]
    And,
    #[token("as")]
    As,
    #[token("break")]
    Break,
    #[token("catch")]
    Catch,
    #[token("continue")]
    Continue,
    #[token("finally")]
    Finally,
    #[token("import")]
    Import,
    #[token("in")]
    In,
    #[token("throw")]
    Throw,
    #[token("try")]
    Try,
    #[token("class")]
    Class,
    #[token("else")]
    Else,
    #[token("false")]
    False,
    #[token("for")]
    For,
    #[token("fun")]
    Fun,
    #[token("if")]
    If,
    #[token("nil")]
    Nil,
    #[token("or")]
    Or,
    #[token("print")]
    Print,
    #[token("return")]
    Return,
    #[token("super")]
    Super,
    #[token("this")]
    This,
    #[token("true")]
    True,
    #[token("var")]
    Var,
    #[token("while")]
    While,
}

/// Never produced: lexical errors go to the diagnostics sink so lexing can go on. LALRPOP
/// still wants an error type for its external-lexer interface.
#[derive(Debug, Clone, PartialEq)]
pub enum LexError {}

/// Where the lexer's current line starts, so that a token's position is a subtraction rather
/// than a scan of everything since the last token: logos's newline rule moves it past each
/// newline between tokens ([`newline`]), and [`Lexer`] past those inside string literals.
#[derive(Debug, Clone, Copy)]
pub struct Lines {
    /// The current line, from 1.
    line: u32,
    /// The byte offset where the current line starts.
    start: usize,
    /// UTF-8 continuation bytes between `start` and the lexer's position. Columns count
    /// characters, and every byte but a continuation byte starts one; only string literals
    /// and invalid characters can hold any (comments run to the end of their line).
    continuations: u32,
}

impl Default for Lines {
    fn default() -> Self {
        Lines {
            line: 1,
            start: 0,
            continuations: 0,
        }
    }
}

impl Lines {
    /// The position of byte `offset` of the current line, at or after everything passed.
    fn pos(&self, offset: usize) -> Pos {
        Pos {
            line: self.line,
            column: 1 + (offset - self.start) as u32 - self.continuations,
            offset: offset as u32,
        }
    }

    /// Moves past `text`, which starts at byte `at` of the source.
    fn pass(&mut self, text: &[u8], at: usize) {
        let continuations =
            |bytes: &[u8]| bytes.iter().filter(|&&b| is_utf8_continuation(b)).count();
        match text.iter().rposition(|&byte| byte == b'\n') {
            Some(last) => {
                self.line += text.iter().filter(|&&byte| byte == b'\n').count() as u32;
                self.start = at + last + 1;
                self.continuations = continuations(&text[last + 1..]) as u32;
            }
            None => self.continuations += continuations(text) as u32,
        }
    }
}

/// logos's callback for a newline between tokens: the next line starts after it.
fn newline<'src>(lexer: &mut logos::Lexer<'src, Token<'src>>) {
    let end = lexer.span().end;
    let lines = &mut lexer.extras;
    lines.line += 1;
    lines.start = end;
    lines.continuations = 0;
}

/// Whether `byte` continues a UTF-8 character rather than starting one (`10xxxxxx`).
fn is_utf8_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// The token stream the parser consumes: `(start, token, end)` triples.
pub struct Lexer<'src, 'd> {
    inner: logos::Lexer<'src, Token<'src>>,
    diagnostics: &'d Diagnostics,
}

impl<'src, 'd> Lexer<'src, 'd> {
    pub fn new(source: &'src str, diagnostics: &'d Diagnostics) -> Self {
        Lexer {
            inner: Token::lexer(source),
            diagnostics,
        }
    }

    /// The position just past the last character, where "error at end" points.
    pub fn end_position(source: &str) -> Pos {
        let mut lines = Lines::default();
        lines.pass(source.as_bytes(), 0);
        lines.pos(source.len())
    }
}

impl<'src> Iterator for Lexer<'src, '_> {
    type Item = Result<(Pos, Token<'src>, Pos), LexError>;

    // Inlined into LALRPOP's token fetch: called out of line, the 48-byte triple went back
    // through memory in pieces the caller then reloaded whole, stalling store forwarding on
    // every token (a fifth of the parse driver's samples).
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let result = self.inner.next()?;
        let span = self.inner.span();
        let start = self.inner.extras.pos(span.start);
        let end = match result {
            // The only tokens that may hold newlines or non-ASCII characters.
            Ok(Token::String(_) | Token::UnterminatedString) | Err(()) => {
                let text = self.inner.slice().as_bytes();
                self.inner.extras.pass(text, span.start);
                self.inner.extras.pos(span.end)
            }
            // ASCII without newlines: one column per byte.
            _ => Pos {
                column: start.column + (span.end - span.start) as u32,
                offset: span.end as u32,
                ..start
            },
        };
        let token = match result {
            Ok(Token::UnterminatedString) => {
                self.diagnostics
                    .report(start, Near::Nothing, "Unterminated string.");
                Token::UnterminatedString
            }
            Ok(token) => token,
            Err(()) => {
                let text = self.inner.slice().to_string();
                self.diagnostics
                    .report(start, Near::Token(text), "Unexpected character.");
                Token::Invalid
            }
        };
        Some(Ok((start, token, end)))
    }
}

/// A bad escape in a string literal: its byte offset in the raw literal (quotes included),
/// its text as written, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEscape {
    pub offset: usize,
    pub text: String,
    pub message: String,
}

/// The most hex digits a `\u{…}` escape may have, as in Rust: enough for U+10FFFF.
const MAX_UNICODE_ESCAPE_DIGITS: usize = 6;

/// The value of a string literal given its raw text, quotes included: the quotes stripped and
/// the escapes `\n`, `\t`, `\r`, `\"`, `\\` and `\u{HEX}` decoded. Every bad escape is
/// returned (not just the first) so one compile reports them all.
pub fn decode_string_literal(raw: &str) -> Result<String, Vec<BadEscape>> {
    let body = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(raw);
    // The body starts one byte (the quote) into the raw literal.
    let body_offset = usize::from(raw.starts_with('"'));
    let mut value = String::with_capacity(body.len());
    let mut errors = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some((start, ch)) = chars.next() {
        if ch != '\\' {
            value.push(ch);
            continue;
        }
        let bad = |end: usize, message: &str| BadEscape {
            offset: body_offset + start,
            text: body[start..end].to_string(),
            message: message.to_string(),
        };
        match chars.next() {
            Some((_, 'n')) => value.push('\n'),
            Some((_, 't')) => value.push('\t'),
            Some((_, 'r')) => value.push('\r'),
            Some((_, '"')) => value.push('"'),
            Some((_, '\\')) => value.push('\\'),
            Some((u_at, 'u')) => match unicode_escape(&body[u_at + 1..]) {
                Ok((decoded, used)) => {
                    value.push(decoded);
                    // Skip what the escape used; it is all ASCII, one char per byte.
                    for _ in 0..used {
                        chars.next();
                    }
                }
                Err((used, message)) => {
                    errors.push(bad(u_at + 1 + used, message));
                    for _ in 0..used {
                        chars.next();
                    }
                }
            },
            Some((other_at, other)) => errors.push(bad(
                other_at + other.len_utf8(),
                "Invalid escape sequence (use \\n, \\t, \\r, \\\", \\\\ or \\u{HEX}).",
            )),
            // The lexer never ends a literal on a lone backslash; an unterminated one has
            // been reported already.
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Decodes the `{HEX}` part of a `\u{HEX}` escape at the start of `rest`: the character and
/// the bytes used, or the bytes that belong to the bad escape and why it is bad.
fn unicode_escape(rest: &str) -> Result<(char, usize), (usize, &'static str)> {
    const SHAPE: &str = "Invalid unicode escape: write \\u{HEX} with 1 to 6 hex digits.";
    let Some(inner) = rest.strip_prefix('{') else {
        return Err((0, SHAPE));
    };
    let digits = inner
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(inner.len());
    if !inner[digits..].starts_with('}') {
        return Err((1 + digits, SHAPE));
    }
    let used = digits + 2;
    if digits == 0 || digits > MAX_UNICODE_ESCAPE_DIGITS {
        return Err((used, SHAPE));
    }
    u32::from_str_radix(&inner[..digits], 16)
        .ok()
        .and_then(char::from_u32)
        .map(|decoded| (decoded, used))
        .ok_or((
            used,
            "Invalid unicode escape: not a Unicode scalar value (a surrogate or above 10FFFF).",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(source: &str) -> (Vec<(u32, u32, Token<'_>)>, Vec<String>) {
        let diagnostics = Diagnostics::new("t.lox");
        let tokens = Lexer::new(source, &diagnostics)
            .map(|item| {
                let (start, token, _) = item.expect("LexError is uninhabited");
                (start.line, start.column, token)
            })
            .collect();
        let errors = diagnostics
            .into_sorted()
            .iter()
            .map(|d| d.to_string())
            .collect();
        (tokens, errors)
    }

    #[test]
    fn numbers_have_no_leading_or_trailing_dot() {
        let (tokens, _) = lex("123 1.5 7. .5 1.foo");
        let kinds: Vec<_> = tokens.into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(
            kinds,
            vec![
                Token::Number(123.0),
                Token::Number(1.5),
                Token::Number(7.0),
                Token::Dot,
                Token::Dot,
                Token::Number(5.0),
                Token::Number(1.0),
                Token::Dot,
                Token::Identifier("foo"),
            ]
        );
    }

    #[test]
    fn keywords_identifiers_and_comments() {
        let (tokens, _) = lex("classy class // comment\nor_ or");
        let kinds: Vec<_> = tokens.into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(
            kinds,
            vec![
                Token::Identifier("classy"),
                Token::Class,
                Token::Identifier("or_"),
                Token::Or,
            ]
        );
    }

    #[test]
    fn multi_line_strings_keep_lines_right() {
        let (tokens, _) = lex("\"a\né\" x");
        assert_eq!(tokens[0], (1, 1, Token::String("\"a\né\"")));
        // The column counts characters: `é` is one column though two bytes.
        assert_eq!(tokens[1], (2, 4, Token::Identifier("x")));
    }

    #[test]
    fn columns_count_characters_after_non_ascii_tokens() {
        // `€` is three bytes and one column, whether it is an invalid character or inside a
        // string; the tokens after it stay in character columns.
        let (tokens, _) = lex("a € b \"€\" c\n  d");
        let places: Vec<_> = tokens
            .iter()
            .map(|&(line, column, _)| (line, column))
            .collect();
        assert_eq!(places, [(1, 1), (1, 3), (1, 5), (1, 7), (1, 11), (2, 3)]);
        // A string that spans lines leaves the columns of its last line; a comment's
        // characters end with its line.
        let (tokens, _) = lex("\"a\nxé\" y // é€\n\tz");
        let places: Vec<_> = tokens
            .iter()
            .map(|&(line, column, _)| (line, column))
            .collect();
        assert_eq!(places, [(1, 1), (2, 5), (3, 2)]);
        assert_eq!(
            Lexer::end_position("é\n€€ "),
            Pos {
                line: 2,
                column: 4,
                offset: 10
            }
        );
    }

    #[test]
    fn errors_are_reported_and_lexing_goes_on() {
        let (tokens, errors) = lex("a @ b\n\"open");
        let kinds: Vec<_> = tokens.into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(
            kinds,
            [
                Token::Identifier("a"),
                Token::Invalid,
                Token::Identifier("b"),
                Token::UnterminatedString
            ]
        );
        assert_eq!(
            errors,
            vec![
                "t.lox:1:3: error at '@': Unexpected character.",
                "t.lox:2:1: error: Unterminated string.",
            ]
        );
    }

    #[test]
    fn string_literal_decoding_strips_quotes_and_decodes_escapes() {
        assert_eq!(decode_string_literal("\"hi\""), Ok("hi".to_string()));
        assert_eq!(
            decode_string_literal(r#""a\n\t\r\"\\b""#),
            Ok("a\n\t\r\"\\b".to_string())
        );
        assert_eq!(
            decode_string_literal(r#""\u{1F600}\u{e9}\u{0}""#),
            Ok("\u{1F600}\u{e9}\0".to_string())
        );
    }

    #[test]
    fn every_bad_escape_is_found_with_its_offset() {
        let errors =
            decode_string_literal(r#""x\qy\u{D800}\u{}\u{1234567}\u12""#).expect_err("bad escapes");
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.offset, e.text.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, r"\q"),
                (5, r"\u{D800}"),
                (13, r"\u{}"),
                (17, r"\u{1234567}"),
                (28, r"\u")
            ]
        );
        assert!(errors[1].message.contains("scalar value"));
    }

    #[test]
    fn escaped_quotes_do_not_end_a_literal() {
        let (tokens, errors) = lex(r#""say \"hi\"" x "\\" y"#);
        let kinds: Vec<_> = tokens.into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(
            kinds,
            [
                Token::String(r#""say \"hi\"""#),
                Token::Identifier("x"),
                Token::String(r#""\\""#),
                Token::Identifier("y"),
            ]
        );
        assert!(errors.is_empty());
    }
}
