//! The parser's semantic actions: [`Builder`] allocates AST nodes in the arena, hands out the
//! ids the resolver keys its tables on, and performs the checks that are easiest while the tree
//! is built: assignment targets, parameter and argument counts, and the nesting-depth limit.
//!
//! **The nesting limit.** The resolver and the code generator walk the tree recursively, except
//! along left-leaning chains (`a + b + c`, `a or b and c`, `o.f().g()`, `xs[0][1]`; see
//! [`Expr::chain_left`]), whose links they walk with a loop. Rather than make them iterative
//! everywhere, every node records how deep they recurse below it (its depth: the height of its
//! subtree, where a chain of any length counts as one level), and a node that would exceed
//! [`MAX_NESTING_DEPTH`] is reported once (at the innermost place the limit is crossed) and
//! replaced by an error placeholder, so no pass ever recurses deeper than the limit. The
//! LALRPOP parser itself keeps its stack on the heap, and its left-recursive rules reduce a
//! chain link by link, so it copes with any depth and any length.

use std::cell::{Cell, RefCell};

use bumpalo::Bump;
use lalrpop_util::ParseError;
use logos::Logos;

use crate::ast::*;
use crate::diagnostic::{Diagnostics, Near, Pos};
use crate::lexer::{self, LexError, Token};

mod operators;

pub use operators::{Operation, Operator};

/// How deeply expressions and statements may nest (counting every node on the path from a
/// statement at the top of the file, and a left-leaning chain as one node). The recursive passes
/// run on a thread with a stack sized for this (see `compile_source`); 1,000 is far beyond
/// hand-written code.
pub const MAX_NESTING_DEPTH: u32 = 1000;

/// A placeholder's depth: far enough past the limit that no node built from ordinary children
/// (each at most the limit, plus the two or three levels a function or class adds) reaches it,
/// so a node above a placeholder knows the problem was already reported.
const PLACEHOLDER_DEPTH: u32 = 2 * MAX_NESTING_DEPTH;

/// The book's limit on parameters and arguments, which also keeps calls within a register
/// window.
pub const MAX_ARGUMENTS: usize = 255;

/// How many ids of each kind the parse handed out, so later passes can size their tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdCounts {
    pub refs: u32,
    pub decls: u32,
    pub functions: u32,
}

/// The most elements a list literal, or entries a map literal, may have. The code generator
/// builds long literals in chunks, so this is not a register limit; it keeps a literal's
/// element count within the `u32`s the tree and the instructions count with, far beyond
/// hand-written code.
pub const MAX_LITERAL_ELEMENTS: usize = 1 << 24;

/// The name an anonymous function (`fun (x) { ... }`) gets for printing and stack traces.
pub const ANONYMOUS_FUNCTION_NAME: &str = "anonymous";

/// The header of `for (var name in iterable)`, parsed before the body.
pub struct ForInHeader<'a> {
    pub name: Name<'a>,
    pub iterable: &'a Expr<'a>,
}

/// The clauses of a `for` header, parsed before the body.
pub struct ForHeader<'a> {
    pub initializer: Option<&'a Stmt<'a>>,
    pub condition: Option<&'a Expr<'a>>,
    pub increment: Option<&'a Expr<'a>>,
}

pub struct Builder<'a> {
    arena: &'a Bump,
    source: &'a str,
    diagnostics: &'a Diagnostics,
    next_ref: Cell<u32>,
    next_decl: Cell<u32>,
    next_function: Cell<u32>,
    /// Every `import` path with where it was written, in source order, so the module
    /// bundler can load the modules without walking the tree.
    imports: RefCell<Vec<(&'a str, Pos)>>,
    /// Left operands waiting for their binary operator's right operand (see [`operators`]).
    pending: RefCell<Vec<operators::Pending<'a>>>,
}

impl<'a> Builder<'a> {
    pub fn new(arena: &'a Bump, source: &'a str, diagnostics: &'a Diagnostics) -> Self {
        Builder {
            arena,
            source,
            diagnostics,
            next_ref: Cell::new(0),
            next_decl: Cell::new(0),
            next_function: Cell::new(0),
            imports: RefCell::new(Vec::new()),
            pending: RefCell::new(Vec::new()),
        }
    }

    pub fn id_counts(&self) -> IdCounts {
        IdCounts {
            refs: self.next_ref.get(),
            decls: self.next_decl.get(),
            functions: self.next_function.get(),
        }
    }

    /// The paths of every `import` parsed, with their positions, in source order.
    pub fn take_imports(&self) -> Vec<(&'a str, Pos)> {
        self.imports.take()
    }

    fn new_ref(&self) -> RefId {
        let id = self.next_ref.get();
        self.next_ref.set(id + 1);
        RefId(id)
    }

    fn new_decl(&self) -> DeclId {
        let id = self.next_decl.get();
        self.next_decl.set(id + 1);
        DeclId(id)
    }

    fn new_function_id(&self) -> FunctionId {
        let id = self.next_function.get();
        self.next_function.set(id + 1);
        FunctionId(id)
    }

    /// The text of the token starting at `pos`, for messages; re-lexing one token is cheaper
    /// than storing every node's extent.
    pub fn token_text_at(&self, pos: Pos) -> String {
        token_text_at(self.source, pos)
    }

    fn report_at_token(&self, pos: Pos, message: impl Into<String>) {
        self.diagnostics
            .report(pos, Near::Token(self.token_text_at(pos)), message);
    }

    // ----- expressions -------------------------------------------------------------------

    pub fn expr(&self, pos: Pos, kind: ExprKind<'a>) -> &'a Expr<'a> {
        let depth = expr_depth(&kind);
        if depth > MAX_NESTING_DEPTH {
            self.report_if_first_too_deep(pos, depth);
            return self.arena.alloc(Expr {
                pos,
                depth: PLACEHOLDER_DEPTH,
                kind: ExprKind::Error,
            });
        }
        self.arena.alloc(Expr { pos, depth, kind })
    }

    /// Reports the nesting limit at the innermost node that crosses it; nodes above a
    /// placeholder stay quiet.
    fn report_if_first_too_deep(&self, pos: Pos, depth: u32) {
        if depth <= PLACEHOLDER_DEPTH {
            self.report_at_token(
                pos,
                format!("Code nests too deeply (the limit is {MAX_NESTING_DEPTH} levels)."),
            );
        }
    }

    pub fn binary(
        &self,
        op: BinaryOp,
        left: &'a Expr<'a>,
        right: &'a Expr<'a>,
        op_pos: Pos,
        end: Pos,
    ) -> &'a Expr<'a> {
        let at = operator_error_pos(op_pos, end);
        self.expr(
            op_pos,
            ExprKind::Binary {
                op,
                left,
                right,
                at,
            },
        )
    }

    pub fn unary(&self, op: UnaryOp, operand: &'a Expr<'a>, op_pos: Pos, end: Pos) -> &'a Expr<'a> {
        let at = operator_error_pos(op_pos, end);
        self.expr(op_pos, ExprKind::Unary { op, operand, at })
    }

    pub fn variable(&self, name: Name<'a>) -> &'a Expr<'a> {
        let id = self.new_ref();
        self.expr(name.pos, ExprKind::Variable { name, id })
    }

    pub fn this(&self, pos: Pos) -> &'a Expr<'a> {
        let id = self.new_ref();
        self.expr(pos, ExprKind::This { id })
    }

    pub fn super_access(&self, pos: Pos, method: Name<'a>) -> &'a Expr<'a> {
        let id = self.new_ref();
        let this_id = self.new_ref();
        self.expr(
            pos,
            ExprKind::Super {
                method,
                id,
                this_id,
            },
        )
    }

    pub fn string(&self, pos: Pos, raw: &'a str) -> &'a Expr<'a> {
        let text = self.decode_string(pos, raw);
        self.expr(pos, ExprKind::String(text))
    }

    /// The value of string literal `raw` (which starts at `pos`), allocated in the arena; bad
    /// escapes are reported at their own line and column.
    fn decode_string(&self, pos: Pos, raw: &'a str) -> &'a str {
        match lexer::decode_string_literal(raw) {
            Ok(text) => self.arena.alloc_str(&text),
            Err(bad_escapes) => {
                for bad in bad_escapes {
                    let at = advance(pos, &raw[..bad.offset]);
                    self.diagnostics
                        .report(at, Near::Token(bad.text), bad.message);
                }
                ""
            }
        }
    }

    /// `target = value` or `target OP= value`: only a variable, a property or an element can
    /// be assigned to. `end` is where the value ends, for the operator's error position.
    pub fn assign(
        &self,
        target: &'a Expr<'a>,
        equals: Pos,
        op: Option<BinaryOp>,
        value: &'a Expr<'a>,
        end: Pos,
    ) -> &'a Expr<'a> {
        let compound = op.map(|op| CompoundOp {
            op,
            at: operator_error_pos(equals, end),
        });
        match target.kind {
            ExprKind::Variable { name, id } => {
                // Reading a variable has no side effects, so `x OP= v` is just `x = x OP v`.
                let value = match compound {
                    Some(CompoundOp { op, at }) => {
                        let current = self.variable(name);
                        self.expr(
                            equals,
                            ExprKind::Binary {
                                op,
                                left: current,
                                right: value,
                                at,
                            },
                        )
                    }
                    None => value,
                };
                self.expr(equals, ExprKind::Assign { name, id, value })
            }
            ExprKind::Get { object, name } => self.expr(
                name.pos,
                ExprKind::Set(self.arena.alloc(SetProperty {
                    object,
                    name,
                    value,
                    compound,
                })),
            ),
            ExprKind::Index { object, index } => self.expr(
                target.pos,
                ExprKind::SetIndex {
                    object,
                    index,
                    value,
                    compound,
                },
            ),
            // Already reported; don't pile a second error on it.
            ExprKind::Error => self.expr(equals, ExprKind::Error),
            _ => {
                self.report_at_token(equals, "Invalid assignment target.");
                self.expr(equals, ExprKind::Error)
            }
        }
    }

    pub fn call(&self, callee: &'a Expr<'a>, args: Vec<&'a Expr<'a>>, close: Pos) -> &'a Expr<'a> {
        if let Some(extra) = args.get(MAX_ARGUMENTS) {
            self.report_at_token(
                first_token_pos(extra),
                format!("Can't have more than {MAX_ARGUMENTS} arguments."),
            );
        }
        let args = self.arena.alloc_slice_copy(&args);
        self.expr(close, ExprKind::Call { callee, args })
    }

    pub fn list(&self, pos: Pos, elements: Vec<&'a Expr<'a>>) -> &'a Expr<'a> {
        if let Some(extra) = elements.get(MAX_LITERAL_ELEMENTS) {
            self.report_at_token(
                first_token_pos(extra),
                format!("Can't have more than {MAX_LITERAL_ELEMENTS} elements in a literal."),
            );
        }
        let elements = self.arena.alloc_slice_copy(&elements);
        self.expr(pos, ExprKind::List(elements))
    }

    pub fn map(&self, pos: Pos, entries: Vec<(&'a Expr<'a>, &'a Expr<'a>)>) -> &'a Expr<'a> {
        if let Some((extra, _)) = entries.get(MAX_LITERAL_ELEMENTS) {
            self.report_at_token(
                first_token_pos(extra),
                format!("Can't have more than {MAX_LITERAL_ELEMENTS} entries in a literal."),
            );
        }
        let entries = self.arena.alloc_slice_copy(&entries);
        self.expr(pos, ExprKind::Map(entries))
    }

    /// `fun (params) { body }`; `pos` is the `fun` keyword.
    pub fn function_expr(
        &self,
        pos: Pos,
        params: Vec<Name<'a>>,
        body: &'a [&'a Stmt<'a>],
    ) -> &'a Expr<'a> {
        let name = Name {
            text: ANONYMOUS_FUNCTION_NAME,
            pos,
        };
        let function = self.function(FunctionKind::Function, name, params, body);
        self.expr(pos, ExprKind::Function(function))
    }

    // ----- statements --------------------------------------------------------------------

    pub fn stmt(&self, pos: Pos, kind: StmtKind<'a>) -> &'a Stmt<'a> {
        let depth = 1 + stmt_children_depth(&kind);
        if depth > MAX_NESTING_DEPTH {
            self.report_if_first_too_deep(pos, depth);
            return self.arena.alloc(Stmt {
                pos,
                depth: PLACEHOLDER_DEPTH,
                kind: StmtKind::Error,
            });
        }
        self.arena.alloc(Stmt { pos, depth, kind })
    }

    pub fn stmts(&self, stmts: Vec<&'a Stmt<'a>>) -> &'a [&'a Stmt<'a>] {
        self.arena.alloc_slice_copy(&stmts)
    }

    pub fn for_stmt(&self, pos: Pos, header: ForHeader<'a>, body: &'a Stmt<'a>) -> &'a Stmt<'a> {
        let ForHeader {
            initializer,
            condition,
            increment,
        } = header;
        self.stmt(
            pos,
            StmtKind::For {
                initializer,
                condition,
                increment,
                body,
            },
        )
    }

    pub fn for_in(&self, pos: Pos, header: ForInHeader<'a>, body: &'a Stmt<'a>) -> &'a Stmt<'a> {
        let ForInHeader { name, iterable } = header;
        let decl = self.new_decl();
        self.stmt(
            pos,
            StmtKind::ForIn {
                name,
                decl,
                iterable,
                body,
            },
        )
    }

    pub fn catch(&self, pos: Pos, name: Name<'a>, body: &'a [&'a Stmt<'a>]) -> Catch<'a> {
        Catch {
            name,
            decl: self.new_decl(),
            body,
            pos,
        }
    }

    pub fn try_stmt(
        &self,
        pos: Pos,
        body: &'a [&'a Stmt<'a>],
        catch: Option<Catch<'a>>,
        finally: Option<&'a [&'a Stmt<'a>]>,
    ) -> &'a Stmt<'a> {
        let try_stmt = self.arena.alloc(Try {
            body,
            catch,
            finally,
        });
        self.stmt(pos, StmtKind::Try(try_stmt))
    }

    /// `import "path" as alias;`. Without an alias the name is the path's last segment
    /// without `.lox`, which must then be an identifier.
    pub fn import(
        &self,
        pos: Pos,
        path_pos: Pos,
        raw_path: &'a str,
        alias: Option<Name<'a>>,
    ) -> &'a Stmt<'a> {
        let path = self.decode_string(path_pos, raw_path);
        self.imports.borrow_mut().push((path, path_pos));
        let name = alias.unwrap_or_else(|| {
            let text = module_binding_name(path);
            if !is_identifier(text) {
                self.report_at_token(
                    path_pos,
                    format!(
                        "Can't name a module '{text}'; add 'as NAME' to choose a variable name."
                    ),
                );
            }
            Name {
                text,
                pos: path_pos,
            }
        });
        let decl = self.new_decl();
        self.stmt(pos, StmtKind::Import { path, name, decl })
    }

    pub fn var_decl(&self, pos: Pos, name: Name<'a>, init: Option<&'a Expr<'a>>) -> &'a Stmt<'a> {
        let decl = self.new_decl();
        self.stmt(pos, StmtKind::Var { name, decl, init })
    }

    pub fn function(
        &self,
        kind: FunctionKind,
        name: Name<'a>,
        params: Vec<Name<'a>>,
        body: &'a [&'a Stmt<'a>],
    ) -> &'a Function<'a> {
        if let Some(extra) = params.get(MAX_ARGUMENTS) {
            self.report_at_token(
                extra.pos,
                format!("Can't have more than {MAX_ARGUMENTS} parameters."),
            );
        }
        let params = self
            .arena
            .alloc_slice_fill_iter(params.into_iter().map(|name| Param {
                name,
                decl: self.new_decl(),
            }));
        self.arena.alloc(Function {
            id: self.new_function_id(),
            kind,
            name,
            decl: self.new_decl(),
            this_decl: self.new_decl(),
            params,
            body,
        })
    }

    pub fn method(
        &self,
        name: Name<'a>,
        params: Vec<Name<'a>>,
        body: &'a [&'a Stmt<'a>],
    ) -> &'a Function<'a> {
        let kind = if name.text == "init" {
            FunctionKind::Initializer
        } else {
            FunctionKind::Method
        };
        self.function(kind, name, params, body)
    }

    pub fn class(
        &self,
        pos: Pos,
        name: Name<'a>,
        superclass: Option<Name<'a>>,
        methods: Vec<&'a Function<'a>>,
    ) -> &'a Stmt<'a> {
        let superclass = superclass.map(|name| Superclass {
            name,
            id: self.new_ref(),
            super_decl: self.new_decl(),
        });
        let class = self.arena.alloc(Class {
            name,
            decl: self.new_decl(),
            superclass,
            methods: self.arena.alloc_slice_copy(&methods),
        });
        self.stmt(pos, StmtKind::Class(class))
    }

    // ----- errors ------------------------------------------------------------------------

    pub fn report_parse_error(&self, error: ParseError<Pos, Token<'a>, LexError>) {
        match error {
            // The lexer reported these when it made them.
            ParseError::UnrecognizedToken {
                token: (_, Token::Invalid | Token::UnterminatedString, _),
                ..
            }
            | ParseError::ExtraToken {
                token: (_, Token::Invalid | Token::UnterminatedString, _),
            } => {}
            ParseError::UnrecognizedToken {
                token: (start, _, end),
                expected,
            } => {
                let text = &self.source[start.offset as usize..end.offset as usize];
                self.diagnostics.report(
                    start,
                    Near::Token(text.to_string()),
                    expectation(&expected),
                );
            }
            ParseError::UnrecognizedEof { expected, .. } => {
                let end = lexer::Lexer::end_position(self.source);
                // At the end of input an unclosed block or body is by far the likeliest cause.
                let closes_block = expected
                    .iter()
                    .any(|e| display_terminal(e.trim_matches('"')) == "'}'");
                let message = if closes_block {
                    "Expect '}'.".to_string()
                } else {
                    expectation(&expected)
                };
                self.diagnostics.report(end, Near::End, message);
            }
            ParseError::ExtraToken {
                token: (start, _, end),
            } => {
                let text = &self.source[start.offset as usize..end.offset as usize];
                self.diagnostics.report(
                    start,
                    Near::Token(text.to_string()),
                    "Expect end of input.",
                );
            }
            // The external lexer reports its own errors and never fails the parse.
            ParseError::InvalidToken { location } => {
                self.diagnostics
                    .report(location, Near::Nothing, "Invalid token.");
            }
            ParseError::User { error } => match error {},
        }
    }
}

/// The position reached from `start` after the text `skipped`.
fn advance(start: Pos, skipped: &str) -> Pos {
    let mut at = start;
    for ch in skipped.chars() {
        if ch == '\n' {
            at.line += 1;
            at.column = 1;
        } else {
            at.column += 1;
        }
    }
    at.offset += skipped.len() as u32;
    at
}

/// The variable an `import` without `as` binds: the last path segment without `.lox`
/// (`"./lib/geometry.lox"` binds `geometry`, `"math"` binds `math`).
pub fn module_binding_name(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.strip_suffix(".lox").unwrap_or(last)
}

/// Is `text` usable as a variable name (an identifier that is not a keyword)?
fn is_identifier(text: &str) -> bool {
    let mut lexer = Token::lexer(text);
    matches!(lexer.next(), Some(Ok(Token::Identifier(_)))) && lexer.next().is_none()
}

/// Where a runtime error of an operator is reported: the operator itself, unless its (right)
/// operand ends on a later line, in which case the operand's last character. Stack traces
/// show only lines, and the book's interpreters report the line where the operand ends, since
/// that is where the operation runs; on a single line the operator is the clearer column.
fn operator_error_pos(op_pos: Pos, operand_end: Pos) -> Pos {
    if operand_end.line == op_pos.line {
        return op_pos;
    }
    Pos {
        line: operand_end.line,
        column: operand_end.column.saturating_sub(1).max(1),
        offset: operand_end.offset,
    }
}

/// A readable "what was expected" from LALRPOP's list of terminal names (which come quoted,
/// e.g. `"\";\""`).
fn expectation(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    if names.contains(&"number") {
        return "Expect expression.".to_string();
    }
    // Operators that could continue the expression before the error are rarely what was
    // meant; name what could end it instead when there is such a thing.
    let enders: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !CONTINUATIONS.contains(&display_terminal(name).as_str()))
        .collect();
    let names = if enders.is_empty() { names } else { enders };
    match names.as_slice() {
        [] => "Unexpected token.".to_string(),
        [only] => format!("Expect {}.", display_terminal(only)),
        _ => {
            let listed: Vec<String> = names.iter().map(|n| display_terminal(n)).collect();
            format!("Expect one of {}.", listed.join(", "))
        }
    }
}

/// Tokens that continue an expression, as [`display_terminal`] shows them.
const CONTINUATIONS: &[&str] = &[
    "'('", "'.'", "'-'", "'+'", "'/'", "'*'", "'!='", "'='", "'=='", "'>'", "'>='", "'<'", "'<='",
    "'and'", "'or'", "'%'", "'['", "'+='", "'-='", "'*='", "'/='", "'%='",
];

fn display_terminal(name: &str) -> String {
    match name {
        "identifier" | "number" | "string" => name.to_string(),
        // Quoted punctuation arrives as `\";\"` once the outer quotes are gone.
        _ => format!("'{}'", name.trim_matches('\\').trim_matches('"')),
    }
}

/// The text of the token starting at byte `pos.offset` of `source`.
pub fn token_text_at(source: &str, pos: Pos) -> String {
    let rest = source.get(pos.offset as usize..).unwrap_or("");
    let mut lexer = Token::lexer(rest);
    match lexer.next() {
        Some(_) => lexer.slice().to_string(),
        None => String::new(),
    }
}

/// Where an expression's first token is (its `pos` is its operator for infix forms).
fn first_token_pos(expr: &Expr<'_>) -> Pos {
    let mut expr = expr;
    loop {
        expr = match expr.kind {
            ExprKind::Binary { left, .. } | ExprKind::Logical { left, .. } => left,
            ExprKind::Call { callee, .. } => callee,
            ExprKind::Get { object, .. }
            | ExprKind::Index { object, .. }
            | ExprKind::SetIndex { object, .. } => object,
            ExprKind::Set(set) => set.object,
            ExprKind::Assign { name, .. } => return name.pos,
            _ => return expr.pos,
        };
    }
}

/// The depth of a node of `kind`: one more than its deepest child, except for a chain link
/// whose left operand is a link too. The passes walk the two in one loop, so the chain costs
/// no more than the deepest of its links, whose other operands are one level below it.
fn expr_depth(kind: &ExprKind<'_>) -> u32 {
    match kind.chain_left() {
        // A placeholder (`Error`) is not a link, so a chain above one stays past the limit
        // and quiet.
        Some(left) if left.chain_left().is_some() => left.depth.max(1 + link_operands_depth(kind)),
        _ => 1 + expr_children_depth(kind),
    }
}

/// The depth of a chain link's children other than its left operand.
fn link_operands_depth(kind: &ExprKind<'_>) -> u32 {
    match kind {
        ExprKind::Binary { right, .. } | ExprKind::Logical { right, .. } => right.depth,
        ExprKind::Call { args, .. } => args.iter().map(|arg| arg.depth).max().unwrap_or(0),
        ExprKind::Index { index, .. } => index.depth,
        _ => 0,
    }
}

fn expr_children_depth(kind: &ExprKind<'_>) -> u32 {
    match kind {
        ExprKind::Nil
        | ExprKind::True
        | ExprKind::False
        | ExprKind::Number(_)
        | ExprKind::String(_)
        | ExprKind::Variable { .. }
        | ExprKind::This { .. }
        | ExprKind::Super { .. }
        | ExprKind::Error => 0,
        ExprKind::Assign { value, .. } => value.depth,
        ExprKind::Grouping(inner) => inner.depth,
        ExprKind::Unary { operand, .. } => operand.depth,
        ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
            left.depth.max(right.depth)
        }
        ExprKind::Call { callee, args } => args
            .iter()
            .map(|arg| arg.depth)
            .fold(callee.depth, u32::max),
        ExprKind::Get { object, .. } => object.depth,
        ExprKind::Set(set) => set.object.depth.max(set.value.depth),
        ExprKind::List(elements) => elements.iter().map(|e| e.depth).max().unwrap_or(0),
        ExprKind::Map(entries) => entries
            .iter()
            .map(|(key, value)| key.depth.max(value.depth))
            .max()
            .unwrap_or(0),
        ExprKind::Index { object, index } => object.depth.max(index.depth),
        ExprKind::SetIndex {
            object,
            index,
            value,
            ..
        } => object.depth.max(index.depth).max(value.depth),
        ExprKind::Function(function) => 1 + body_depth(function.body),
    }
}

fn body_depth(body: &[&Stmt<'_>]) -> u32 {
    body.iter().map(|stmt| stmt.depth).max().unwrap_or(0)
}

fn stmt_children_depth(kind: &StmtKind<'_>) -> u32 {
    match kind {
        StmtKind::Expression(expr) | StmtKind::Print(expr) => expr.depth,
        StmtKind::Var { init, .. } => init.map_or(0, |e| e.depth),
        StmtKind::Block(body) => body_depth(body),
        StmtKind::If {
            condition,
            then_branch,
            else_branch,
        } => condition
            .depth
            .max(then_branch.depth)
            .max(else_branch.map_or(0, |s| s.depth)),
        StmtKind::While { condition, body } => condition.depth.max(body.depth),
        StmtKind::For {
            initializer,
            condition,
            increment,
            body,
        } => body
            .depth
            .max(initializer.map_or(0, |s| s.depth))
            .max(condition.map_or(0, |e| e.depth))
            .max(increment.map_or(0, |e| e.depth)),
        StmtKind::Function(function) => 1 + body_depth(function.body),
        StmtKind::Return(value) => value.map_or(0, |e| e.depth),
        StmtKind::ForIn { iterable, body, .. } => iterable.depth.max(body.depth),
        StmtKind::Throw(value) => value.depth,
        StmtKind::Try(try_stmt) => {
            1 + body_depth(try_stmt.body)
                .max(try_stmt.catch.as_ref().map_or(0, |c| body_depth(c.body)))
                .max(try_stmt.finally.map_or(0, body_depth))
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Import { .. } => 0,
        StmtKind::Class(class) => {
            1 + class
                .methods
                .iter()
                .map(|m| 1 + body_depth(m.body))
                .max()
                .unwrap_or(0)
        }
        StmtKind::Error => 0,
    }
}
