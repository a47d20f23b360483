//! The resolver: decides what every name use refers to (a local declaration, an upvalue of the
//! enclosing function, or a global), which locals are captured by closures, and which upvalues
//! each function captures; and reports the static errors of the book (`return` outside a
//! function, `this`/`super` outside a class, a local read in its own initializer, ...).
//!
//! It knows nothing about registers: answers are in terms of [`DeclId`]s, and the code generator
//! maps declarations to registers as it meets them. That keeps scoping rules in one place and
//! register allocation in another.

use std::cell::{Cell, OnceCell};

use hashbrown::HashMap;

use crate::ast::*;
use crate::builder::IdCounts;
use crate::diagnostic::{Diagnostics, Near, Pos};

/// The most upvalues one function may capture (upvalue operands are 16 bits).
const MAX_UPVALUES: usize = pvm_bytecode::MAX_UPVALUES;

/// What a name use refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// A global slot, found by name.
    Global,
    /// A local of the function the use is in.
    Local(DeclId),
    /// Upvalue number `n` of the function the use is in.
    Upvalue(u16),
}

/// How a function obtains one of its upvalues when its closure is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capture {
    /// A local of the directly enclosing function.
    Local(DeclId),
    /// An upvalue of the directly enclosing function.
    Upvalue(u16),
}

/// Everything the code generator needs to know about names, filled in as the resolver goes.
///
/// The tables are cells so that the resolver can write them while the code generator reads
/// them: a top-level statement is resolved and then generated at once, while its nodes are
/// still in the cache, and everything a statement's code needs is known once the statement
/// itself is resolved (its locals, captures and closures are all inside it).
#[derive(Debug)]
pub struct Resolution {
    /// Indexed by [`RefId`].
    bindings: Vec<Cell<Binding>>,
    /// Indexed by [`DeclId`]: does some closure capture this local?
    captured: Vec<Cell<bool>>,
    /// Indexed by [`DeclId`]: is this local read or assigned anywhere (here or in a closure)?
    used: Vec<Cell<bool>>,
    /// Indexed by [`FunctionId`]: the function's upvalues in order, set when its body is done.
    upvalues: Vec<OnceCell<Vec<Capture>>>,
}

impl Resolution {
    /// Empty tables for the ids a parse handed out: every use global until resolved.
    pub fn new(counts: IdCounts) -> Self {
        Resolution {
            bindings: vec![Cell::new(Binding::Global); counts.refs as usize],
            captured: vec![Cell::new(false); counts.decls as usize],
            used: vec![Cell::new(false); counts.decls as usize],
            upvalues: vec![OnceCell::new(); counts.functions as usize],
        }
    }

    pub fn binding(&self, id: RefId) -> Binding {
        self.bindings[id.0 as usize].get()
    }

    pub fn is_captured(&self, decl: DeclId) -> bool {
        self.captured[decl.0 as usize].get()
    }

    pub fn is_used(&self, decl: DeclId) -> bool {
        self.used[decl.0 as usize].get()
    }

    /// The upvalues of function `id`, once its body has been resolved.
    pub fn upvalues(&self, id: FunctionId) -> &[Capture] {
        self.upvalues[id.0 as usize]
            .get()
            .map_or(&[], Vec::as_slice)
    }

    /// How many declarations the parse numbered.
    pub fn decl_count(&self) -> usize {
        self.used.len()
    }

    /// How many functions (methods included) the parse numbered.
    pub fn function_count(&self) -> usize {
        self.upvalues.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClassContext {
    None,
    Class,
    Subclass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FunctionContext {
    Script,
    Function,
    Method,
    Initializer,
}

struct LocalName<'a> {
    name: &'a str,
    decl: DeclId,
    /// False between declaration and the end of its initializer.
    defined: bool,
}

/// One block's locals. Most blocks hold a few, found fastest by a scan; a block with many gets
/// an index by name as well, so one with very many locals (which code generation rejects
/// later) can't make resolution quadratic first.
#[derive(Default)]
struct Scope<'a> {
    locals: Vec<LocalName<'a>>,
    /// Name to the index in `locals` of its latest declaration; built once `locals` outgrows
    /// [`SCAN_LIMIT`].
    by_name: HashMap<&'a str, usize>,
}

/// Up to this many locals a block is searched by a scan, which beats hashing for a handful.
const SCAN_LIMIT: usize = 8;

impl<'a> Scope<'a> {
    /// Adds a local; says whether the scope already had one of that name.
    fn push(&mut self, local: LocalName<'a>) -> bool {
        let name = local.name;
        let index = self.locals.len();
        if index < SCAN_LIMIT {
            let duplicate = self.scan(name).is_some();
            self.locals.push(local);
            return duplicate;
        }
        if self.by_name.is_empty() {
            for (i, earlier) in self.locals.iter().enumerate() {
                self.by_name.insert(earlier.name, i);
            }
        }
        self.locals.push(local);
        self.by_name.insert(name, index).is_some()
    }

    fn get(&self, name: &str) -> Option<&LocalName<'a>> {
        if self.by_name.is_empty() {
            self.scan(name).map(|index| &self.locals[index])
        } else {
            self.by_name.get(name).map(|&index| &self.locals[index])
        }
    }

    /// The index of the latest local named `name`, by a scan from the newest.
    fn scan(&self, name: &str) -> Option<usize> {
        self.locals.iter().rposition(|local| local.name == name)
    }
}

struct FunctionScope<'a> {
    id: Option<FunctionId>,
    context: FunctionContext,
    /// Block scopes, innermost last; empty at the top level of the script, where names are
    /// globals.
    scopes: Vec<Scope<'a>>,
    upvalues: Vec<Capture>,
    /// Each capture's index in `upvalues`, so capturing stays linear.
    upvalue_index: HashMap<Capture, u16>,
    /// Loops around the current point of this function: `break` and `continue` need one, and
    /// can't reach a loop of an enclosing function.
    loop_depth: usize,
}

pub struct Resolver<'a, 'r> {
    diagnostics: &'r Diagnostics,
    functions: Vec<FunctionScope<'a>>,
    class: ClassContext,
    result: &'r Resolution,
    /// Chain links waiting for their other operands to be resolved; see [`Resolver::expr`].
    links: Vec<&'a Expr<'a>>,
}

impl<'a, 'r> Resolver<'a, 'r> {
    /// A resolver at the top level of a script, filling in `result`.
    pub fn new(result: &'r Resolution, diagnostics: &'r Diagnostics) -> Self {
        Resolver {
            diagnostics,
            functions: vec![FunctionScope {
                id: None,
                context: FunctionContext::Script,
                scopes: Vec::new(),
                upvalues: Vec::new(),
                upvalue_index: HashMap::new(),
                loop_depth: 0,
            }],
            class: ClassContext::None,
            result,
            links: Vec::new(),
        }
    }

    /// Resolves one top-level statement, and with it everything its code needs.
    pub fn top_level(&mut self, stmt: &'a Stmt<'a>) {
        self.stmt(stmt);
    }
}

impl<'a> Resolver<'a, '_> {
    fn error(&self, pos: Pos, token: &str, message: &str) {
        self.diagnostics
            .report(pos, Near::Token(token.to_string()), message);
    }

    fn current(&mut self) -> &mut FunctionScope<'a> {
        self.functions
            .last_mut()
            .expect("the script's scope is never popped")
    }

    // ----- scopes and names ----------------------------------------------------------------

    fn begin_scope(&mut self) {
        self.current().scopes.push(Scope::default());
    }

    fn end_scope(&mut self) {
        self.current().scopes.pop();
    }

    /// Declares `name` in the innermost block scope; at the top level of the script it is a
    /// global and needs nothing.
    fn declare(&mut self, name: Name<'a>, decl: DeclId) {
        let Some(scope) = self.current().scopes.last_mut() else {
            return;
        };
        let duplicate = scope.push(LocalName {
            name: name.text,
            decl,
            defined: false,
        });
        if duplicate {
            self.error(
                name.pos,
                name.text,
                "Already a variable with this name in this scope.",
            );
        }
    }

    fn define(&mut self) {
        if let Some(local) = self
            .current()
            .scopes
            .last_mut()
            .and_then(|s| s.locals.last_mut())
        {
            local.defined = true;
        }
    }

    fn declare_defined(&mut self, name: Name<'a>, decl: DeclId) {
        self.declare(name, decl);
        self.define();
    }

    /// Declares an implicit local (`this`, `super`) that can't clash with user names.
    fn declare_implicit(&mut self, name: &'a str, decl: DeclId) {
        if let Some(scope) = self.current().scopes.last_mut() {
            scope.push(LocalName {
                name,
                decl,
                defined: true,
            });
        }
    }

    fn use_name(&mut self, name: &str, pos: Pos, id: RefId) {
        let top = self.functions.len() - 1;
        let binding = self.lookup(top, name, pos);
        self.result.bindings[id.0 as usize].set(binding);
    }

    /// What `name` means inside function number `level` of the function stack.
    fn lookup(&mut self, level: usize, name: &str, pos: Pos) -> Binding {
        let function = &self.functions[level];
        for scope in function.scopes.iter().rev() {
            if let Some(local) = scope.get(name) {
                let (decl, defined) = (local.decl, local.defined);
                if !defined {
                    self.error(
                        pos,
                        name,
                        "Can't read local variable in its own initializer.",
                    );
                }
                self.result.used[decl.0 as usize].set(true);
                return Binding::Local(decl);
            }
        }
        if level == 0 {
            return Binding::Global;
        }
        let capture = match self.lookup(level - 1, name, pos) {
            Binding::Global => return Binding::Global,
            Binding::Local(decl) => {
                self.result.captured[decl.0 as usize].set(true);
                Capture::Local(decl)
            }
            Binding::Upvalue(index) => Capture::Upvalue(index),
        };
        self.add_upvalue(level, capture, pos, name)
    }

    fn add_upvalue(&mut self, level: usize, capture: Capture, pos: Pos, name: &str) -> Binding {
        let function = &mut self.functions[level];
        if let Some(&index) = function.upvalue_index.get(&capture) {
            return Binding::Upvalue(index);
        }
        if function.upvalues.len() >= MAX_UPVALUES {
            self.error(
                pos,
                name,
                &format!("Too many closure variables in function (the limit is {MAX_UPVALUES})."),
            );
            return Binding::Upvalue(0);
        }
        // Below MAX_UPVALUES (65,536), so the index fits 16 bits.
        let index = function.upvalues.len() as u16;
        function.upvalues.push(capture);
        function.upvalue_index.insert(capture, index);
        Binding::Upvalue(index)
    }

    // ----- statements --------------------------------------------------------------------

    fn stmts(&mut self, stmts: &[&'a Stmt<'a>]) {
        for stmt in prefetching(stmts) {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &'a Stmt<'a>) {
        match &stmt.kind {
            StmtKind::Expression(expr) | StmtKind::Print(expr) => self.expr(expr),
            StmtKind::Var { name, decl, init } => {
                self.declare(*name, *decl);
                if let Some(init) = init {
                    self.expr(init);
                }
                self.define();
            }
            StmtKind::Block(body) => {
                self.begin_scope();
                self.stmts(body);
                self.end_scope();
            }
            StmtKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                self.expr(condition);
                self.stmt(then_branch);
                if let Some(else_branch) = else_branch {
                    self.stmt(else_branch);
                }
            }
            StmtKind::While { condition, body } => {
                self.expr(condition);
                self.loop_body(body);
            }
            StmtKind::For {
                initializer,
                condition,
                increment,
                body,
            } => {
                self.begin_scope();
                if let Some(initializer) = initializer {
                    self.stmt(initializer);
                }
                if let Some(condition) = condition {
                    self.expr(condition);
                }
                if let Some(increment) = increment {
                    self.expr(increment);
                }
                self.loop_body(body);
                self.end_scope();
            }
            StmtKind::ForIn {
                name,
                decl,
                iterable,
                body,
            } => {
                // The iterable is evaluated once, before the loop variable exists.
                self.expr(iterable);
                self.begin_scope();
                self.declare_defined(*name, *decl);
                self.loop_body(body);
                self.end_scope();
            }
            StmtKind::Break => self.loop_exit(stmt.pos, "break"),
            StmtKind::Continue => self.loop_exit(stmt.pos, "continue"),
            StmtKind::Throw(value) => self.expr(value),
            StmtKind::Try(try_stmt) => {
                self.block(try_stmt.body);
                if let Some(catch) = &try_stmt.catch {
                    // The catch variable and the catch body share one scope.
                    self.begin_scope();
                    self.declare_defined(catch.name, catch.decl);
                    self.stmts(catch.body);
                    self.end_scope();
                }
                if let Some(finally) = try_stmt.finally {
                    self.block(finally);
                }
            }
            StmtKind::Import { name, decl, .. } => self.declare_defined(*name, *decl),
            StmtKind::Function(function) => {
                // Defined before the body so the function can call itself.
                self.declare_defined(function.name, function.decl);
                self.function(function, FunctionContext::Function);
            }
            StmtKind::Return(value) => self.return_stmt(stmt.pos, *value),
            StmtKind::Class(class) => self.class(class),
            StmtKind::Error => {}
        }
    }

    fn block(&mut self, body: &[&'a Stmt<'a>]) {
        self.begin_scope();
        self.stmts(body);
        self.end_scope();
    }

    fn loop_body(&mut self, body: &'a Stmt<'a>) {
        self.current().loop_depth += 1;
        self.stmt(body);
        self.current().loop_depth -= 1;
    }

    /// `break` or `continue` (named by `keyword`) must be inside a loop of this function.
    fn loop_exit(&mut self, pos: Pos, keyword: &str) {
        if self.current().loop_depth == 0 {
            self.error(
                pos,
                keyword,
                &format!("Can't use '{keyword}' outside of a loop."),
            );
        }
    }

    fn return_stmt(&mut self, pos: Pos, value: Option<&'a Expr<'a>>) {
        match self.current().context {
            FunctionContext::Script => {
                self.error(pos, "return", "Can't return from top-level code.");
            }
            FunctionContext::Initializer if value.is_some() => {
                self.error(pos, "return", "Can't return a value from an initializer.");
            }
            _ => {}
        }
        if let Some(value) = value {
            self.expr(value);
        }
    }

    fn function(&mut self, function: &'a Function<'a>, context: FunctionContext) {
        self.functions.push(FunctionScope {
            id: Some(function.id),
            context,
            scopes: vec![Scope::default()],
            upvalues: Vec::new(),
            upvalue_index: HashMap::new(),
            loop_depth: 0,
        });
        if context != FunctionContext::Function {
            self.declare_implicit("this", function.this_decl);
        }
        for param in function.params {
            self.declare_defined(param.name, param.decl);
        }
        self.stmts(function.body);
        let finished = self
            .functions
            .pop()
            .expect("pushed at the start of this function");
        if let Some(id) = finished.id {
            // Each function is resolved once, so the cell is always empty here.
            let _ = self.result.upvalues[id.0 as usize].set(finished.upvalues);
        }
    }

    fn class(&mut self, class: &'a Class<'a>) {
        let enclosing = self.class;
        self.class = ClassContext::Class;
        self.declare_defined(class.name, class.decl);

        if let Some(superclass) = &class.superclass {
            if superclass.name.text == class.name.text {
                self.error(
                    superclass.name.pos,
                    superclass.name.text,
                    "A class can't inherit from itself.",
                );
            }
            self.use_name(superclass.name.text, superclass.name.pos, superclass.id);
            self.class = ClassContext::Subclass;
            self.begin_scope();
            self.declare_implicit("super", superclass.super_decl);
        }

        for method in class.methods {
            let context = match method.kind {
                FunctionKind::Initializer => FunctionContext::Initializer,
                FunctionKind::Method | FunctionKind::Function => FunctionContext::Method,
            };
            self.function(method, context);
        }

        if class.superclass.is_some() {
            self.end_scope();
        }
        self.class = enclosing;
    }

    // ----- expressions -------------------------------------------------------------------

    /// Resolves `expr`. The links of a left-leaning chain are walked with a loop, in
    /// evaluation order: the operand at the bottom of the chain first, then each link's other
    /// operands from the innermost link out, as recursion would (see [`Expr::chain_left`]).
    fn expr(&mut self, expr: &'a Expr<'a>) {
        if expr.chain_left().is_none() {
            return self.node(expr);
        }
        // The links wait on one stack shared by every chain being walked: a nested chain (in
        // an argument, say) pushes and pops above this one's `base`, so no walk allocates.
        let base = self.links.len();
        let mut bottom = expr;
        while let Some(left) = bottom.chain_left() {
            self.links.push(bottom);
            bottom = left;
        }
        self.node(bottom);
        while self.links.len() > base {
            if let Some(link) = self.links.pop() {
                self.node(link);
            }
        }
    }

    /// Resolves `expr`'s own names and operands, except the left operand of a chain link,
    /// which [`Resolver::expr`] has resolved already.
    fn node(&mut self, expr: &'a Expr<'a>) {
        match &expr.kind {
            ExprKind::Nil
            | ExprKind::True
            | ExprKind::False
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Error => {}
            ExprKind::Variable { name, id } => self.use_name(name.text, name.pos, *id),
            ExprKind::Assign { name, id, value } => {
                self.expr(value);
                self.use_name(name.text, name.pos, *id);
            }
            ExprKind::Grouping(inner) => self.expr(inner),
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { right, .. } | ExprKind::Logical { right, .. } => self.expr(right),
            ExprKind::Call { args, .. } => {
                for arg in args.iter() {
                    self.expr(arg);
                }
            }
            ExprKind::Get { .. } => {}
            ExprKind::Set(set) => {
                self.expr(set.object);
                self.expr(set.value);
            }
            ExprKind::List(elements) => {
                for element in elements.iter() {
                    self.expr(element);
                }
            }
            ExprKind::Map(entries) => {
                for (key, value) in entries.iter() {
                    self.expr(key);
                    self.expr(value);
                }
            }
            ExprKind::Index { index, .. } => self.expr(index),
            ExprKind::SetIndex {
                object,
                index,
                value,
                ..
            } => {
                self.expr(object);
                self.expr(index);
                self.expr(value);
            }
            ExprKind::Function(function) => self.function(function, FunctionContext::Function),
            ExprKind::This { id } => {
                if self.class == ClassContext::None {
                    self.error(expr.pos, "this", "Can't use 'this' outside of a class.");
                } else {
                    self.use_name("this", expr.pos, *id);
                }
            }
            ExprKind::Super { id, this_id, .. } => match self.class {
                ClassContext::None => {
                    self.error(expr.pos, "super", "Can't use 'super' outside of a class.");
                }
                ClassContext::Class => {
                    self.error(
                        expr.pos,
                        "super",
                        "Can't use 'super' in a class with no superclass.",
                    );
                }
                ClassContext::Subclass => {
                    self.use_name("super", expr.pos, *id);
                    self.use_name("this", expr.pos, *this_id);
                }
            },
        }
    }
}
