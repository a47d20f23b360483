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
#[logos(skip r"[ \t\r\n\f]+")]
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

    #[regex("[a-zA-Z_][a-zA-Z0-9_]*", |lex| lex.slice())]
    Identifier(&'src str),
    /// The raw literal, quotes included.
    #[regex(r#""[^"]*""#, |lex| lex.slice())]
    String(&'src str),
    /// A string that runs to the end of the input. The lexer reports it; the parser gets it
    /// as a token no rule accepts, so that recovery skips it like the book's error tokens.
    #[regex(r#""[^"]*"#)]
    UnterminatedString,
    /// A character that starts no token; handled like [`Token::UnterminatedString`].
    Invalid,
    /// Digits with an optional fraction; no leading or trailing dot, so `1.foo` is a property
    /// access on `1`.
    #[regex(r"[0-9]+(\.[0-9]+)?", |lex| lex.slice().parse::<f64>().ok())]
    Number(f64),

    #[token("and")]
    And,
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

/// Tracks line and column for byte offsets that only ever move forward.
#[derive(Debug)]
struct PositionTracker<'src> {
    source: &'src str,
    at: Pos,
}

impl<'src> PositionTracker<'src> {
    fn new(source: &'src str) -> Self {
        PositionTracker {
            source,
            at: Pos {
                line: 1,
                column: 1,
                offset: 0,
            },
        }
    }

    /// The position of byte `offset`, which must not be before the last one asked for.
    fn advance_to(&mut self, offset: usize) -> Pos {
        let from = self.at.offset as usize;
        for ch in self.source[from..offset].chars() {
            if ch == '\n' {
                self.at.line += 1;
                self.at.column = 1;
            } else {
                self.at.column += 1;
            }
        }
        self.at.offset = offset as u32;
        self.at
    }
}

/// The token stream the parser consumes: `(start, token, end)` triples.
pub struct Lexer<'src, 'd> {
    inner: logos::Lexer<'src, Token<'src>>,
    positions: PositionTracker<'src>,
    diagnostics: &'d Diagnostics,
}

impl<'src, 'd> Lexer<'src, 'd> {
    pub fn new(source: &'src str, diagnostics: &'d Diagnostics) -> Self {
        Lexer {
            inner: Token::lexer(source),
            positions: PositionTracker::new(source),
            diagnostics,
        }
    }

    /// The position just past the last character, where "error at end" points.
    pub fn end_position(source: &str) -> Pos {
        let mut tracker = PositionTracker::new(source);
        tracker.advance_to(source.len())
    }
}

impl<'src> Iterator for Lexer<'src, '_> {
    type Item = Result<(Pos, Token<'src>, Pos), LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = self.inner.next()?;
        let span = self.inner.span();
        let start = self.positions.advance_to(span.start);
        let end = self.positions.advance_to(span.end);
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

/// The value of a string literal given its raw text, quotes included.
///
/// Lox strings have no escapes yet, so this only strips the quotes; escapes (`\n`, `\u{…}`) will
/// be decoded here and nowhere else.
pub fn decode_string_literal(raw: &str) -> &str {
    raw.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(raw)
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
    fn string_literal_decoding_strips_quotes() {
        assert_eq!(decode_string_literal("\"hi\""), "hi");
    }
}
