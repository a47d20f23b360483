//! Parsing: runs the LALRPOP-generated parser over the logos token stream and returns the
//! program's top-level statements. Syntax errors go to the diagnostics sink; the grammar's
//! recovery rules let parsing continue past them, and an error recovery cannot get past (one at
//! the end of input) is reported here.

use crate::ast::Stmt;
use crate::builder::Builder;
use crate::lexer::Lexer;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications, unused_parens)]
    grammar
);

/// Parses the whole source. Returns `None` only when the parser could not recover, in which
/// case the error is already reported.
pub fn parse<'a>(builder: &Builder<'a>, lexer: Lexer<'a, '_>) -> Option<&'a [&'a Stmt<'a>]> {
    match grammar::ProgramParser::new().parse(builder, lexer) {
        Ok(program) => Some(program),
        Err(error) => {
            builder.report_parse_error(error);
            None
        }
    }
}
