//! Code generation for statements and declarations: control flow as jumps, locals in fixed
//! registers, globals through slots, and classes assembled from `Class`, `Inherit` and `Method`.

use pvm_bytecode::Instr;

use super::cond::is_small_condition;
use super::{Gen, Generator};
use crate::ast::*;
use crate::diagnostic::Pos;
use crate::resolver::Binding;

impl<'r> Generator<'r> {
    pub(super) fn stmt(&mut self, stmt: &'r Stmt<'r>) -> Gen<()> {
        let mark = self.free_reg();
        match &stmt.kind {
            StmtKind::Expression(expr) => self.expr_effect(expr)?,
            StmtKind::Print(expr) => {
                let reg = self.expr_any(expr)?;
                self.emit(Instr::Print { src: reg }, stmt.pos);
            }
            StmtKind::Var { name, decl, init } => self.var_decl(*name, *decl, *init, stmt.pos)?,
            StmtKind::Block(body) => {
                self.begin_scope();
                self.stmts(body)?;
                self.end_scope(stmt.pos);
            }
            StmtKind::If {
                condition,
                then_branch,
                else_branch,
            } => {
                let skip_then = self.jump_if(condition, false)?;
                self.release_to(mark);
                self.stmt(then_branch)?;
                match else_branch {
                    Some(else_branch) => {
                        let skip_else = self.emit(Instr::Jump { offset: 0 }, stmt.pos);
                        self.patch_jumps_here(&skip_then);
                        self.stmt(else_branch)?;
                        self.patch_jump_here(skip_else);
                    }
                    None => self.patch_jumps_here(&skip_then),
                }
            }
            StmtKind::While { condition, body } => {
                self.inverted_loop(None, Some(condition), None, body, stmt.pos)?
            }
            StmtKind::ForIn {
                name,
                decl,
                iterable,
                body,
            } => self.for_in(*name, *decl, iterable, body, stmt.pos)?,
            StmtKind::Break => self.break_stmt(stmt.pos)?,
            StmtKind::Continue => self.continue_stmt(stmt.pos)?,
            StmtKind::Throw(value) => {
                let src = self.expr_any(value)?;
                self.emit(Instr::Throw { src }, stmt.pos);
            }
            StmtKind::Try(try_stmt) => self.try_stmt(try_stmt, stmt.pos)?,
            StmtKind::Import {
                path, name, decl, ..
            } => self.import(path, *name, *decl, stmt.pos)?,
            StmtKind::For {
                initializer,
                condition,
                increment,
                body,
            } => self.for_stmt(*initializer, *condition, *increment, body, stmt.pos)?,
            StmtKind::Function(function) => {
                if self.at_global_scope() {
                    let proto = self.function(function)?;
                    let reg = self.alloc(stmt.pos)?;
                    self.emit(Instr::Closure { dst: reg, proto }, stmt.pos);
                    self.define_global(function.name.text, reg, stmt.pos);
                } else {
                    // The register is the function's before its body is generated, so the
                    // body can capture it to call itself.
                    let reg = self.declare_local(function.decl, stmt.pos)?;
                    let proto = self.function(function)?;
                    self.emit(Instr::Closure { dst: reg, proto }, stmt.pos);
                }
            }
            StmtKind::Return(value) => self.return_stmt(*value, stmt.pos)?,
            StmtKind::Class(class) => self.class(class, stmt.pos)?,
            // The tree is only generated when there were no errors.
            StmtKind::Error => {}
        }
        // Temporaries die with the statement; a declaration keeps its new local.
        let keep = match stmt.kind {
            StmtKind::Var { .. }
            | StmtKind::Function(_)
            | StmtKind::Class(_)
            | StmtKind::Import { .. }
                if !self.at_global_scope() =>
            {
                mark + 1
            }
            _ => mark,
        };
        self.release_to(keep);
        Ok(())
    }

    fn var_decl(
        &mut self,
        name: Name<'r>,
        decl: DeclId,
        init: Option<&'r Expr<'r>>,
        pos: Pos,
    ) -> Gen<()> {
        let reg = self.alloc(name.pos)?;
        match init {
            Some(init) => self.expr_to(init, reg)?,
            None => {
                self.emit(Instr::LoadNil { dst: reg }, pos);
            }
        }
        if self.at_global_scope() {
            self.define_global(name.text, reg, name.pos);
        } else {
            // Bound only now: the initializer must not see the new local (the resolver
            // rejects reading it, and a shadowed outer name is still the outer one).
            self.bind_local(decl, reg);
        }
        Ok(())
    }

    fn for_stmt(
        &mut self,
        initializer: Option<&'r Stmt<'r>>,
        condition: Option<&'r Expr<'r>>,
        increment: Option<&'r Expr<'r>>,
        body: &'r Stmt<'r>,
        pos: Pos,
    ) -> Gen<()> {
        self.begin_scope();
        if let Some(initializer) = initializer {
            self.stmt(initializer)?;
        }
        self.inverted_loop(initializer, condition, increment, body, pos)?;
        self.end_scope(pos);
        Ok(())
    }

    /// A `while` or C-style `for` loop with its test at the bottom:
    ///
    /// ```text
    ///     test, jump if false -> EXIT     (or: jump TEST, when the test is large)
    /// TOP:
    ///     body
    /// CONTINUE:
    ///     increment
    /// TEST:
    ///     test, jump if true -> TOP
    /// EXIT:
    /// ```
    ///
    /// so an iteration runs one compare-and-branch and no extra jump. That branch is backward,
    /// which keeps a budget and heap check in every iteration. A missing condition is `true`,
    /// and so is one the `for` initializer decides (`var i = 0; i < 20`): no entry test.
    fn inverted_loop(
        &mut self,
        initializer: Option<&'r Stmt<'r>>,
        condition: Option<&'r Expr<'r>>,
        increment: Option<&'r Expr<'r>>,
        body: &'r Stmt<'r>,
        pos: Pos,
    ) -> Gen<()> {
        let mark = self.free_reg();
        let entry_test =
            condition.filter(|&condition| !self.holds_initially(initializer, condition));
        let (exit_at_entry, jump_to_test) = match entry_test {
            Some(condition) if !is_small_condition(condition) => {
                (Vec::new(), Some(self.emit(Instr::Jump { offset: 0 }, pos)))
            }
            Some(condition) => (self.jump_if(condition, false)?, None),
            None => (Vec::new(), None),
        };
        self.release_to(mark);
        let top = self.backward_target_here();
        self.begin_loop();
        self.stmt(body)?;
        let exits = self.end_loop();
        // `continue` runs the increment.
        self.patch_jumps_here(&exits.continues);
        if let Some(increment) = increment {
            self.expr_effect(increment)?;
            self.release_to(mark);
        }
        if let Some(jump) = jump_to_test {
            self.patch_jump_here(jump);
        }
        match condition {
            Some(condition) => {
                let repeat = self.jump_if(condition, true)?;
                self.patch_jumps(&repeat, top);
            }
            None => self.emit_loop(top, pos),
        }
        self.release_to(mark);
        self.patch_jumps_here(&exit_at_entry);
        self.patch_jumps_here(&exits.breaks);
        Ok(())
    }

    fn return_stmt(&mut self, value: Option<&'r Expr<'r>>, pos: Pos) -> Gen<()> {
        if self.has_finally() {
            return self.return_through_finally(value, pos);
        }
        match value {
            Some(value) => {
                let src = self.expr_any(value)?;
                self.emit(Instr::Return { src }, pos);
            }
            // An initializer always hands back its receiver.
            None if self.state().kind == FunctionKind::Initializer => {
                self.emit(Instr::Return { src: 0 }, pos);
            }
            None => {
                self.emit(Instr::ReturnNil {}, pos);
            }
        }
        Ok(())
    }

    fn class(&mut self, class: &'r Class<'r>, pos: Pos) -> Gen<()> {
        let global = self.at_global_scope();
        let name = self.program.string(class.name.text);
        // A global class still needs a register to hang methods on while it is built.
        let class_reg = if global {
            self.alloc(class.name.pos)?
        } else {
            self.declare_local(class.decl, class.name.pos)?
        };
        self.emit(
            Instr::Class {
                dst: class_reg,
                name,
            },
            class.name.pos,
        );
        if global {
            self.define_global(class.name.text, class_reg, class.name.pos);
        }

        if let Some(superclass) = &class.superclass {
            self.begin_scope();
            let super_reg = self.alloc(superclass.name.pos)?;
            self.load_variable(
                superclass.name,
                self.resolution.binding(superclass.id),
                super_reg,
            )?;
            self.bind_local(superclass.super_decl, super_reg);
            self.emit(
                Instr::Inherit {
                    class: class_reg,
                    superclass: super_reg,
                },
                superclass.name.pos,
            );
        }

        for method in class.methods {
            let mark = self.free_reg();
            let proto = self.function(method)?;
            let method_reg = self.alloc(method.name.pos)?;
            self.emit(
                Instr::Closure {
                    dst: method_reg,
                    proto,
                },
                method.name.pos,
            );
            let method_name = self.program.string(method.name.text);
            self.emit(
                Instr::Method {
                    class: class_reg,
                    method: method_reg,
                    name: method_name,
                },
                method.name.pos,
            );
            self.release_to(mark);
        }

        if class.superclass.is_some() {
            self.end_scope(pos);
        }
        Ok(())
    }

    /// Loads the variable `name` (bound as `binding`) into `dst`.
    pub(super) fn load_variable(&mut self, name: Name<'r>, binding: Binding, dst: u8) -> Gen<()> {
        match binding {
            Binding::Local(decl) => {
                let src = self.decl_regs[decl.0 as usize];
                if src != dst {
                    self.emit(Instr::Move { dst, src }, name.pos);
                }
            }
            Binding::Upvalue(idx) => self.emit_load(Instr::GetUpval { dst, idx }, name.pos),
            Binding::Global => {
                let slot = self.global_slot(name.text);
                self.emit_load(Instr::GetGlobal { dst, slot }, name.pos);
            }
        }
        Ok(())
    }

    /// Emits `load` unless the register already holds what it would load
    /// (`total = total + n; return total;` reads `total` back from the register it came from).
    fn emit_load(&mut self, load: Instr, pos: Pos) {
        if !self.reloads_what_was_just_stored(load) {
            self.emit(load, pos);
        }
    }
}
