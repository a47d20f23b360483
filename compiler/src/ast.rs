//! The abstract syntax tree. Nodes live in a bumpalo arena and refer to each other with `&'a`
//! references, so building and freeing a tree is a pointer bump and one deallocation.
//!
//! Every node carries its source [`Pos`] and its nesting `depth` (how deep the recursive passes
//! go below it), which the builder uses to reject input nested deeper than they can take. The
//! links of a left-leaning chain ([`Expr::chain_left`]) are walked by a loop, not recursion, so
//! `a + b + c + ...` and `a or b or c or ...` are one level however long they are.
//!
//! Variable uses carry a [`RefId`] and declarations a [`DeclId`]: the resolver answers "what
//! does this use refer to" in tables indexed by those ids, and the code generator reads the
//! answers.

use crate::diagnostic::Pos;

/// Identifies one use of a name (a variable read or assignment, `this`, `super`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefId(pub u32);

/// Identifies one declaration that may become a local: `var`, `fun`, `class`, a parameter,
/// and the implicit `this` of a method and `super` of a subclass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclId(pub u32);

/// Identifies one function body (including methods), for its upvalue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionId(pub u32);

/// An identifier as written, with where it was written.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    pub text: &'a str,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct Expr<'a> {
    pub pos: Pos,
    pub depth: u32,
    pub kind: ExprKind<'a>,
}

impl<'a> Expr<'a> {
    /// The left operand if this node is a link of a left-leaning chain: a binary operator,
    /// `and`/`or`, a call, a property access or an indexing, each evaluated after its left
    /// operand. `a + b + c`, `a or b and c or d`, `o.f().g()` and `xs[0][1]` parse as chains
    /// of such links nested to the left as deeply as they are long, so every pass walks them
    /// with a loop down this operand rather than recursion.
    pub fn chain_left(&self) -> Option<&'a Expr<'a>> {
        self.kind.chain_left()
    }
}

impl<'a> ExprKind<'a> {
    /// See [`Expr::chain_left`].
    pub fn chain_left(&self) -> Option<&'a Expr<'a>> {
        match *self {
            ExprKind::Binary { left, .. } | ExprKind::Logical { left, .. } => Some(left),
            ExprKind::Call { callee, .. } => Some(callee),
            ExprKind::Get { object, .. } | ExprKind::Index { object, .. } => Some(object),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Negate,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    /// `%`: the remainder with the sign of the dividend (C's `fmod`).
    Modulo,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

/// The operator of a compound assignment (`x.f += v`, `xs[i] -= v`) on a property or an
/// element, and where its runtime error is reported. Compound assignment to a variable is
/// desugared to `x = x + v` by the builder, since reading a variable twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompoundOp {
    pub op: BinaryOp,
    pub at: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
}

#[derive(Debug)]
pub enum ExprKind<'a> {
    Nil,
    True,
    False,
    Number(f64),
    /// The decoded value, not the raw literal.
    String(&'a str),
    Variable {
        name: Name<'a>,
        id: RefId,
    },
    Assign {
        name: Name<'a>,
        id: RefId,
        value: &'a Expr<'a>,
    },
    Grouping(&'a Expr<'a>),
    /// `at` is where a runtime error of the operator is reported; see
    /// `builder::operator_error_pos`.
    Unary {
        op: UnaryOp,
        operand: &'a Expr<'a>,
        at: Pos,
    },
    Binary {
        op: BinaryOp,
        left: &'a Expr<'a>,
        right: &'a Expr<'a>,
        at: Pos,
    },
    Logical {
        op: LogicalOp,
        left: &'a Expr<'a>,
        right: &'a Expr<'a>,
    },
    /// `pos` of a call is its closing parenthesis, where both book interpreters report.
    Call {
        callee: &'a Expr<'a>,
        args: &'a [&'a Expr<'a>],
    },
    Get {
        object: &'a Expr<'a>,
        name: Name<'a>,
    },
    /// `object.name = value` or `object.name OP= value`. Kept behind a reference, being the
    /// biggest kind: inline it made every node a quarter bigger.
    Set(&'a SetProperty<'a>),
    /// `[a, b, c]`.
    List(&'a [&'a Expr<'a>]),
    /// `{k: v, ...}`: key, value pairs in source order.
    Map(&'a [(&'a Expr<'a>, &'a Expr<'a>)]),
    /// `object[index]`; `pos` is the `[`.
    Index {
        object: &'a Expr<'a>,
        index: &'a Expr<'a>,
    },
    /// `object[index] = value` or `object[index] OP= value` (object and index evaluated
    /// once); `pos` is the `[`.
    SetIndex {
        object: &'a Expr<'a>,
        index: &'a Expr<'a>,
        value: &'a Expr<'a>,
        compound: Option<CompoundOp>,
    },
    /// `fun (params) { body }` as a value.
    Function(&'a Function<'a>),
    This {
        id: RefId,
    },
    /// `super.method`; `this_id` is the implicit use of `this` a super access needs.
    Super {
        method: Name<'a>,
        id: RefId,
        this_id: RefId,
    },
    /// Stands in for an expression that failed to parse or nested too deeply; it has already
    /// been reported, and the later passes skip it.
    Error,
}

/// `object.name = value`, or with `compound` `object.name OP= value` (the object is
/// evaluated once).
#[derive(Debug)]
pub struct SetProperty<'a> {
    pub object: &'a Expr<'a>,
    pub name: Name<'a>,
    pub value: &'a Expr<'a>,
    pub compound: Option<CompoundOp>,
}

#[derive(Debug)]
pub struct Stmt<'a> {
    pub pos: Pos,
    pub depth: u32,
    pub kind: StmtKind<'a>,
}

#[derive(Debug)]
pub enum StmtKind<'a> {
    Expression(&'a Expr<'a>),
    Print(&'a Expr<'a>),
    Var {
        name: Name<'a>,
        decl: DeclId,
        init: Option<&'a Expr<'a>>,
    },
    Block(&'a [&'a Stmt<'a>]),
    If {
        condition: &'a Expr<'a>,
        then_branch: &'a Stmt<'a>,
        else_branch: Option<&'a Stmt<'a>>,
    },
    While {
        condition: &'a Expr<'a>,
        body: &'a Stmt<'a>,
    },
    /// Kept apart from `while` (not desugared) so the loop variable's scope and the increment
    /// are explicit for the code generator.
    For {
        initializer: Option<&'a Stmt<'a>>,
        condition: Option<&'a Expr<'a>>,
        increment: Option<&'a Expr<'a>>,
        body: &'a Stmt<'a>,
    },
    Function(&'a Function<'a>),
    /// `for (var name in iterable) body`: a fresh `name` each iteration.
    ForIn {
        name: Name<'a>,
        decl: DeclId,
        iterable: &'a Expr<'a>,
        body: &'a Stmt<'a>,
    },
    /// `break;`; `pos` is the keyword.
    Break,
    /// `continue;`; `pos` is the keyword.
    Continue,
    /// `throw value;`; `pos` is the keyword.
    Throw(&'a Expr<'a>),
    Try(&'a Try<'a>),
    /// `import "path" as name;`: `name` is the alias, or derived from the path.
    Import {
        path: &'a str,
        name: Name<'a>,
        decl: DeclId,
    },
    /// `pos` is the `return` keyword.
    Return(Option<&'a Expr<'a>>),
    Class(&'a Class<'a>),
    /// A statement that failed to parse; already reported.
    Error,
}

/// `catch (name) { body }`: `name` is a fresh local of the catch body.
#[derive(Debug)]
pub struct Catch<'a> {
    pub name: Name<'a>,
    pub decl: DeclId,
    pub body: &'a [&'a Stmt<'a>],
    /// The `catch` keyword.
    pub pos: Pos,
}

/// `try { body } catch (e) { ... } finally { ... }`: at least one of the two clauses.
#[derive(Debug)]
pub struct Try<'a> {
    pub body: &'a [&'a Stmt<'a>],
    pub catch: Option<Catch<'a>>,
    pub finally: Option<&'a [&'a Stmt<'a>]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    Function,
    Method,
    Initializer,
}

#[derive(Debug)]
pub struct Param<'a> {
    pub name: Name<'a>,
    pub decl: DeclId,
}

#[derive(Debug)]
pub struct Function<'a> {
    pub id: FunctionId,
    pub kind: FunctionKind,
    pub name: Name<'a>,
    /// The function's own name as a variable (unused for methods).
    pub decl: DeclId,
    /// The implicit `this` in R0 (unused for plain functions).
    pub this_decl: DeclId,
    pub params: &'a [Param<'a>],
    pub body: &'a [&'a Stmt<'a>],
}

#[derive(Debug)]
pub struct Superclass<'a> {
    pub name: Name<'a>,
    pub id: RefId,
    /// The hidden local `super` that methods capture.
    pub super_decl: DeclId,
}

#[derive(Debug)]
pub struct Class<'a> {
    pub name: Name<'a>,
    pub decl: DeclId,
    pub superclass: Option<Superclass<'a>>,
    pub methods: &'a [&'a Function<'a>],
}

/// The statements of `stmts` in order, each handed out after asking the CPU to start loading
/// the next one's nodes ([`prefetch_next_statement`]): how every pass walks a statement list.
pub fn prefetching<'s, 'a>(stmts: &'s [&'a Stmt<'a>]) -> impl Iterator<Item = &'a Stmt<'a>> + 's {
    stmts.iter().enumerate().map(move |(index, &stmt)| {
        if let Some(next) = stmts.get(index + 1) {
            prefetch_next_statement(stmt, next);
        }
        stmt
    })
}

/// Asks the CPU to start loading the nodes of statement `next` while a pass works on
/// `current`, the statement before it in a list.
///
/// By the time the resolver and the code generator walk it, a long file's tree is far too big
/// for the caches (the parse built it all first), and both passes do little work per node, so
/// without this they spend most of their time waiting for nodes to arrive from memory: the
/// 92,859-line generated benchmark program took ~55 ms to generate without it, ~33 ms with it.
/// The hardware prefetchers cannot follow the walk: the builder allocates a node after its
/// children (the tree is built bottom-up) in a bump arena that grows downward, so a
/// statement's nodes lie just above it, below the statement before it, and the walk goes from
/// a statement's node up through its children and then down to the next statement. That
/// layout also says how far to prefetch: from `next` up to `current`, at most
/// [`MAX_PREFETCH`] bytes. Where the layout is otherwise (the arena started a new chunk) only
/// the lines around `next` are asked for; any address is harmless, only the speed differs.
fn prefetch_next_statement(current: &Stmt<'_>, next: &Stmt<'_>) {
    // Elsewhere there is no stable prefetch; the walk is only slower.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (current, next);
    #[cfg(target_arch = "x86_64")]
    {
        const LINE: usize = 64;
        let start = (next as *const Stmt<'_>).cast::<i8>();
        let gap = (current as *const Stmt<'_> as usize).wrapping_sub(start as usize);
        let bytes = if gap <= MAX_PREFETCH {
            gap
        } else {
            std::mem::size_of::<Stmt<'_>>()
        };
        for offset in (0..bytes).step_by(LINE) {
            // SAFETY: a prefetch is only a hint to the cache: it never faults and has no
            // effect the program can observe, whatever the address (which `wrapping_add`
            // computes without assuming it is inside an allocation).
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.wrapping_add(offset),
                );
            }
        }
    }
}

/// The most bytes [`prefetch_next_statement`] asks for: enough for a typical top-level
/// function or class, few enough not to evict what the current statement still needs.
const MAX_PREFETCH: usize = 4096;

#[cfg(test)]
mod tests {
    /// Expressions are most of a tree's memory (and of the page faults a long file's parse
    /// takes), so a new kind bigger than the rest should go behind a reference as `Set` does.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_expression_node_stays_within_64_bytes() {
        assert!(std::mem::size_of::<super::Expr<'_>>() <= 64);
    }
}
