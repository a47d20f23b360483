//! Binary operator precedence. The grammar parses `a + b * c or d` as one flat chain of
//! operands and operators ([`Operation`]), because a grammar tier per precedence level took
//! every operand through a unit reduction per level, which was most of the parse's time. The
//! builder turns the chain into the tree those tiers gave, with the operator-precedence
//! ("shunting-yard") method: operators whose right operand may still grow wait on a stack until
//! an operator of lower or equal precedence, or the chain's end, completes them.
//!
//! **One stack for every chain.** A chain nested in an operand (`a * (b + c)`, `f(x - y)`) is
//! finished before the enclosing chain takes the operand, so chains share the builder's stack,
//! each above the one it is nested in: an [`Operation`] knows where its own entries start
//! (`base`) and end (`top`). A syntax error inside a function expression's body abandons the
//! chains being parsed there (error recovery drops them from the parse stack), and their
//! entries stay on the stack above the enclosing chain's; so an operation cuts the stack back
//! to its own `top` before it pushes, and a new chain starts above whatever is there.
//!
//! **The same tree, built at the same time.** Every node is built from the same children, with
//! the same positions, as the tiered grammar built it, so depths and nesting-limit reports are
//! the same too. The tiers built a node as soon as the token after its right operand showed
//! the operand complete (an operator binding no tighter, or anything else); the builder does
//! the same when an operand is reduced (see `settle`), so that a syntax error right after that
//! token still finds the node built and checked, as before.

use crate::ast::{BinaryOp, Expr, ExprKind, LogicalOp};
use crate::diagnostic::Pos;

use super::Builder;

/// A binary operator as the flat grammar reads it.
#[derive(Debug, Clone, Copy)]
pub enum Operator {
    Or,
    And,
    Binary(BinaryOp),
}

impl Operator {
    /// How tightly the operator binds (higher binds tighter); all are left-associative.
    fn precedence(self) -> u8 {
        match self {
            Operator::Or => 0,
            Operator::And => 1,
            Operator::Binary(op) => match op {
                BinaryOp::Equal | BinaryOp::NotEqual => 2,
                BinaryOp::Less
                | BinaryOp::LessEqual
                | BinaryOp::Greater
                | BinaryOp::GreaterEqual => 3,
                BinaryOp::Add | BinaryOp::Subtract => 4,
                BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => 5,
            },
        }
    }
}

/// A left operand waiting for its operator's right operand to be complete.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending<'a> {
    left: &'a Expr<'a>,
    op: Operator,
    /// The operator's position.
    pos: Pos,
}

/// A chain of operands and binary operators being parsed: the last operand, and the
/// operators before it that still wait for it, at `base..top` of the builder's stack.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    last: &'a Expr<'a>,
    /// Where `last` ends, for the position of its operator's runtime errors.
    end: Pos,
    base: u32,
    top: u32,
}

impl<'a> Builder<'a> {
    /// Starts a chain with its first two operands: `left`, then operator `op` (at `pos`) and
    /// its right operand, which ends at `end`. The chain starts above whatever the stack
    /// holds: `left` alone is a chain with nothing waiting.
    pub fn start_operation(
        &self,
        left: &'a Expr<'a>,
        pos: Pos,
        op: Operator,
        right: &'a Expr<'a>,
        end: Pos,
    ) -> Operation<'a> {
        let base = stack_len(&self.pending.borrow());
        let alone = Operation {
            last: left,
            // Never read: `next_operand` gives the chain its new end.
            end: pos,
            base,
            top: base,
        };
        self.next_operand(alone, pos, op, right, end)
    }

    /// Continues `chain` with operator `op` (at `pos`) and its right operand, which ends at
    /// `end`.
    pub fn next_operand(
        &self,
        chain: Operation<'a>,
        pos: Pos,
        op: Operator,
        right: &'a Expr<'a>,
        end: Pos,
    ) -> Operation<'a> {
        let mut stack = self.pending.borrow_mut();
        stack.truncate(chain.top as usize);
        // Settling `chain` made every waiting operator bind less tightly than `op`, the token
        // that followed it then.
        stack.push(Pending {
            left: chain.last,
            op,
            pos,
        });
        let last = self.settle(&mut stack, chain.base, right, end);
        Operation {
            last,
            end,
            base: chain.base,
            top: stack_len(&stack),
        }
    }

    /// The tree of a complete chain.
    pub fn finish_operation(&self, chain: Operation<'a>) -> &'a Expr<'a> {
        // Settling at the token after the chain, which is no binary operator, built it all.
        if chain.top == chain.base {
            return chain.last;
        }
        let mut stack = self.pending.borrow_mut();
        stack.truncate(chain.top as usize);
        self.fold(&mut stack, chain.base, chain.last, chain.end, 0)
    }

    /// Builds the nodes that are complete now that operand `last` (ending at `end`) is: those
    /// of the operators, waiting above `base`, that bind at least as tightly as the token
    /// after `last`, or all of them if that token is no binary operator. Returns the new last
    /// operand.
    ///
    /// The parser has read that token (it decided that `last` is complete), but semantic
    /// actions don't see it, so [`operator_after`] looks at the source. The grammar tiers built
    /// each node exactly then, when they saw that token; building them no later keeps a
    /// syntax error right after it from hiding a nesting-limit report.
    fn settle(
        &self,
        stack: &mut Vec<Pending<'a>>,
        base: u32,
        last: &'a Expr<'a>,
        end: Pos,
    ) -> &'a Expr<'a> {
        let precedence =
            operator_after(self.source, end.offset as usize).map_or(0, Operator::precedence);
        self.fold(stack, base, last, end, precedence)
    }

    /// Pops the operators above `base` whose precedence is at least `precedence`, and
    /// builds their nodes, innermost first, around `right` (which ends at `end`).
    fn fold(
        &self,
        stack: &mut Vec<Pending<'a>>,
        base: u32,
        mut right: &'a Expr<'a>,
        end: Pos,
        precedence: u8,
    ) -> &'a Expr<'a> {
        while stack.len() > base as usize {
            match stack.last() {
                Some(&waiting) if waiting.op.precedence() >= precedence => {
                    stack.pop();
                    right = self.operator_node(waiting, right, end);
                }
                _ => break,
            }
        }
        right
    }

    /// The node of `waiting` applied to its complete right operand, which ends at `end`.
    fn operator_node(&self, waiting: Pending<'a>, right: &'a Expr<'a>, end: Pos) -> &'a Expr<'a> {
        let Pending { left, op, pos } = waiting;
        match op {
            Operator::Or => self.logical(LogicalOp::Or, left, right, pos),
            Operator::And => self.logical(LogicalOp::And, left, right, pos),
            Operator::Binary(op) => self.binary(op, left, right, pos, end),
        }
    }

    fn logical(
        &self,
        op: LogicalOp,
        left: &'a Expr<'a>,
        right: &'a Expr<'a>,
        pos: Pos,
    ) -> &'a Expr<'a> {
        self.expr(pos, ExprKind::Logical { op, left, right })
    }
}

/// The binary operator whose token is the first at or after byte `offset` of `source`, past
/// whitespace and comments, if any. Scanned by hand rather than by the lexer, which cost several
/// times more than this for the one token; the tests check that the two agree.
fn operator_after(source: &str, offset: usize) -> Option<Operator> {
    let bytes = source.as_bytes();
    let mut at = offset;
    // Skip what the lexer skips: whitespace and `//` comments.
    let first = loop {
        match *bytes.get(at)? {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => at += 1,
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at += bytes[at..].iter().position(|&b| b == b'\n')?;
            }
            first => break first,
        }
    };
    let second = bytes.get(at + 1).copied();
    let binary = |op| Some(Operator::Binary(op));
    match (first, second) {
        (b'=', Some(b'=')) => binary(BinaryOp::Equal),
        (b'!', Some(b'=')) => binary(BinaryOp::NotEqual),
        (b'<', Some(b'=')) => binary(BinaryOp::LessEqual),
        (b'<', _) => binary(BinaryOp::Less),
        (b'>', Some(b'=')) => binary(BinaryOp::GreaterEqual),
        (b'>', _) => binary(BinaryOp::Greater),
        // Compound assignment.
        (b'+' | b'-' | b'*' | b'/' | b'%', Some(b'=')) => None,
        (b'+', _) => binary(BinaryOp::Add),
        (b'-', _) => binary(BinaryOp::Subtract),
        (b'*', _) => binary(BinaryOp::Multiply),
        (b'/', _) => binary(BinaryOp::Divide),
        (b'%', _) => binary(BinaryOp::Modulo),
        (b'o', _) if is_keyword_at(bytes, at, b"or") => Some(Operator::Or),
        (b'a', _) if is_keyword_at(bytes, at, b"and") => Some(Operator::And),
        _ => None,
    }
}

/// Does `bytes` hold keyword `word` at `at`, rather than an identifier that starts with it?
fn is_keyword_at(bytes: &[u8], at: usize, word: &[u8]) -> bool {
    let rest = &bytes[at..];
    rest.starts_with(word)
        && !rest
            .get(word.len())
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The stack's length as an [`Operation`] records it. A chain's entries number at most one
/// per precedence level and nested chains at most one per token, so a source within the
/// `u32` offsets positions use always fits.
fn stack_len(stack: &[Pending<'_>]) -> u32 {
    u32::try_from(stack.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use logos::Logos;

    use super::*;
    use crate::lexer::Token;

    /// What the lexer makes of the first token of `text`, as an operator.
    fn lexed_operator(text: &str) -> Option<Operator> {
        let op = match Token::lexer(text).next()? {
            Ok(Token::Or) => Operator::Or,
            Ok(Token::And) => Operator::And,
            Ok(Token::EqualEqual) => Operator::Binary(BinaryOp::Equal),
            Ok(Token::BangEqual) => Operator::Binary(BinaryOp::NotEqual),
            Ok(Token::Less) => Operator::Binary(BinaryOp::Less),
            Ok(Token::LessEqual) => Operator::Binary(BinaryOp::LessEqual),
            Ok(Token::Greater) => Operator::Binary(BinaryOp::Greater),
            Ok(Token::GreaterEqual) => Operator::Binary(BinaryOp::GreaterEqual),
            Ok(Token::Plus) => Operator::Binary(BinaryOp::Add),
            Ok(Token::Minus) => Operator::Binary(BinaryOp::Subtract),
            Ok(Token::Star) => Operator::Binary(BinaryOp::Multiply),
            Ok(Token::Slash) => Operator::Binary(BinaryOp::Divide),
            Ok(Token::Percent) => Operator::Binary(BinaryOp::Modulo),
            _ => return None,
        };
        Some(op)
    }

    #[test]
    fn the_scan_for_the_next_operator_agrees_with_the_lexer() {
        let tokens = [
            "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "=", "!", "+=",
            "-=", "*=", "/=", "%=", "order", "or_", "or1", "oré", "and", "andy", "an", "o", "a",
            "x", ";", ")", "]", "}", ",", ":", "(", ".", "[", "{", "1", "\"s\"", "é", "@", "// c",
            "", "true", "nil",
        ];
        let gaps = [
            "",
            " ",
            "\n\t ",
            "// comment\n",
            " // a\n// b\n  ",
            "\r\n\x0c",
        ];
        for gap in gaps {
            for token in tokens {
                for after in ["", " x", "=", "/", "\n"] {
                    let text = format!("{gap}{token}{after}");
                    let scanned = operator_after(&text, 0).map(Operator::precedence);
                    let lexed = lexed_operator(&text).map(Operator::precedence);
                    assert_eq!(scanned, lexed, "after {text:?}");
                    assert_eq!(
                        format!("{:?}", operator_after(&text, 0)),
                        format!("{:?}", lexed_operator(&text)),
                        "after {text:?}"
                    );
                }
            }
        }
    }
}
