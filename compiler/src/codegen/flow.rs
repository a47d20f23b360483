//! Code generation for the control flow the language extension adds: `break` and `continue`,
//! `for (var x in ...)`, `try`/`catch`/`finally`, `return` through `finally`, and `import`.
//!
//! **`finally` is compiled by duplication.** Its code appears once on the normal way out, once
//! in a catch-all handler that runs it and rethrows, and once more before every `break`,
//! `continue` or `return` that leaves the protected region. So the runtime needs no notion of
//! pending jumps; it only keeps a stack of handlers per frame, which the code pops itself
//! whenever control leaves a protected region other than by a throw.

use pvm_bytecode::Instr;

use super::{Exit, Gen, Generator, ImportTarget, LoopExit, TryExit};
use crate::ast::*;
use crate::diagnostic::Pos;

impl<'r> Generator<'r> {
    /// Starts a loop body: `break` and `continue` from here on belong to it.
    pub(super) fn begin_loop(&mut self) {
        let state = self.state();
        let scope_depth = state.scopes.len();
        state.exits.push(Exit::Loop(LoopExit {
            scope_depth,
            breaks: Vec::new(),
            continues: Vec::new(),
        }));
    }

    /// Ends the loop body begun last; the caller patches its jumps.
    pub(super) fn end_loop(&mut self) -> LoopExit {
        match self.state().exits.pop() {
            Some(Exit::Loop(exits)) => exits,
            _ => unreachable!("loops and trys are begun and ended in nesting order"),
        }
    }

    /// Points every jump in `jumps` at `target`.
    pub(super) fn patch_jumps(&mut self, jumps: &[usize], target: usize) {
        for &at in jumps {
            self.patch_jump(at, target);
        }
    }

    pub(super) fn patch_jumps_here(&mut self, jumps: &[usize]) {
        let here = self.next_pc();
        self.patch_jumps(jumps, here);
    }

    /// `for (var name in iterable) body`. The iterable and the position live in two hidden
    /// registers `ForIn` reads; the variable gets a register of its own that each iteration
    /// rebinds, and its upvalue (if a closure captured it) is closed at the end of every
    /// iteration, so each closure keeps the value of its own iteration.
    pub(super) fn for_in(
        &mut self,
        name: Name<'r>,
        decl: DeclId,
        iterable: &'r Expr<'r>,
        body: &'r Stmt<'r>,
        pos: Pos,
    ) -> Gen<()> {
        self.begin_scope();
        let state = self.alloc(iterable.pos)?;
        self.expr_to(iterable, state)?;
        let position = self.alloc(pos)?;
        self.emit(
            Instr::LoadInt {
                dst: position,
                value: 0,
            },
            pos,
        );
        let var = self.declare_local(decl, name.pos)?;
        let start = self.backward_target_here();
        let exit = self.emit(
            Instr::ForIn {
                var,
                state,
                exit: 0,
            },
            pos,
        );
        self.begin_loop();
        self.stmt(body)?;
        let exits = self.end_loop();
        self.patch_jumps_here(&exits.continues);
        if self.resolution.is_captured(decl) {
            self.emit(Instr::CloseUpvals { from: var }, pos);
        }
        self.emit_loop(start, pos);
        self.patch_jump_here(exit);
        self.patch_jumps_here(&exits.breaks);
        self.end_scope(pos);
        Ok(())
    }

    pub(super) fn break_stmt(&mut self, pos: Pos) -> Gen<()> {
        let jump = self.jump_out_of_loop_body(pos)?;
        match self.innermost_loop() {
            Some(exits) => exits.breaks.push(jump),
            None => unreachable!("the resolver rejects 'break' outside a loop"),
        }
        Ok(())
    }

    pub(super) fn continue_stmt(&mut self, pos: Pos) -> Gen<()> {
        let jump = self.jump_out_of_loop_body(pos)?;
        match self.innermost_loop() {
            Some(exits) => exits.continues.push(jump),
            None => unreachable!("the resolver rejects 'continue' outside a loop"),
        }
        Ok(())
    }

    fn innermost_loop(&mut self) -> Option<&mut LoopExit> {
        self.state()
            .exits
            .iter_mut()
            .rev()
            .find_map(|exit| match exit {
                Exit::Loop(exits) => Some(exits),
                Exit::Try(_) => None,
            })
    }

    /// Leaves the innermost loop's body: runs the `finally` code of every `try` in between,
    /// closes the body's captured locals, and emits a jump for the caller to record.
    fn jump_out_of_loop_body(&mut self, pos: Pos) -> Gen<usize> {
        let state = self.state();
        let Some(loop_index) = state
            .exits
            .iter()
            .rposition(|exit| matches!(exit, Exit::Loop(_)))
        else {
            unreachable!("the resolver rejects 'break' and 'continue' outside a loop")
        };
        let Exit::Loop(exits) = &state.exits[loop_index] else {
            unreachable!("found as a loop above")
        };
        let scope_depth = exits.scope_depth;
        self.leave_trys_above(loop_index + 1, pos)?;
        let state = self.state();
        let left = &state.scopes[scope_depth..];
        if left.iter().any(|scope| scope.captured) {
            let from = left[0].base as u8;
            self.emit(Instr::CloseUpvals { from }, pos);
        }
        Ok(self.emit(Instr::Jump { offset: 0 }, pos))
    }

    /// Does some enclosing `try` of this function have a `finally` that a `return` must run?
    pub(super) fn has_finally(&mut self) -> bool {
        self.state().exits.iter().any(|exit| match exit {
            Exit::Try(t) => t.finally.is_some(),
            Exit::Loop(_) => false,
        })
    }

    /// `return` from inside `try`s with `finally` code: the value is computed first, into a
    /// fresh register the `finally` code can't touch (it may assign the variable returned).
    pub(super) fn return_through_finally(
        &mut self,
        value: Option<&'r Expr<'r>>,
        pos: Pos,
    ) -> Gen<()> {
        let src = match value {
            Some(value) => {
                let reg = self.alloc(pos)?;
                self.expr_to(value, reg)?;
                Some(reg)
            }
            // An initializer hands back its receiver, which no code can reassign.
            None if self.state().kind == FunctionKind::Initializer => Some(0),
            None => None,
        };
        self.leave_trys_above(0, pos)?;
        match src {
            Some(src) => self.emit(Instr::Return { src }, pos),
            None => self.emit(Instr::ReturnNil {}, pos),
        };
        Ok(())
    }

    /// Pops the handlers and runs the `finally` code of every `try` from the innermost down to
    /// exit number `down_to`. Each `finally` is generated as if it were outside its own `try`
    /// (the exits above it are set aside meanwhile), so a `break` or `return` inside it goes
    /// where it would on the normal path and can't run that `finally` again.
    fn leave_trys_above(&mut self, down_to: usize, pos: Pos) -> Gen<()> {
        let mut index = self.state().exits.len();
        while index > down_to {
            index -= 1;
            let (handlers, finally) = match &self.state().exits[index] {
                Exit::Try(t) => (t.handlers, t.finally),
                Exit::Loop(_) => continue,
            };
            for _ in 0..handlers {
                self.emit(Instr::PopHandler {}, pos);
            }
            if let Some(finally) = finally {
                let inner = self.state().exits.split_off(index);
                let generated = self.block_body(finally, pos);
                self.state().exits.extend(inner);
                generated?;
            }
        }
        Ok(())
    }

    /// Statements in a scope of their own.
    fn block_body(&mut self, body: &'r [&'r Stmt<'r>], pos: Pos) -> Gen<()> {
        self.begin_scope();
        self.stmts(body)?;
        self.end_scope(pos);
        Ok(())
    }

    /// `try { body } catch (e) { ... } finally { ... }`. The layout:
    ///
    /// ```text
    ///     try rF -> FINALLY       (only with finally)
    ///     try rC -> CATCH         (only with catch)
    ///     body
    ///     endtry; jump NORMAL     (only with catch)
    /// CATCH:
    ///     close; catch body (e lives in rC)
    /// NORMAL:
    ///     endtry; finally; jump END   (only with finally)
    /// FINALLY:
    ///     close; finally; throw rF
    /// END:
    /// ```
    ///
    /// The finally handler is outside the catch handler, so an exception thrown by the catch
    /// body still runs `finally`. Each handler target closes the upvalues of the locals of the
    /// region the throw left, which the runtime does not do for the frame that catches.
    pub(super) fn try_stmt(&mut self, try_stmt: &'r Try<'r>, pos: Pos) -> Gen<()> {
        let mark = self.free_reg();
        let finally_reg = match try_stmt.finally {
            Some(_) => Some(self.alloc(pos)?),
            None => None,
        };
        let catch_reg = match &try_stmt.catch {
            Some(catch) => Some(self.alloc(catch.pos)?),
            None => None,
        };
        let region_base = self.free_reg() as u8;
        let captured_before = self.state().captured_locals;

        let finally_handler =
            finally_reg.map(|catch| self.emit(Instr::PushHandler { catch, handler: 0 }, pos));
        let catch_handler =
            catch_reg.map(|catch| self.emit(Instr::PushHandler { catch, handler: 0 }, pos));
        let handlers = usize::from(finally_reg.is_some()) + usize::from(catch_reg.is_some());
        self.state().exits.push(Exit::Try(TryExit {
            handlers,
            finally: try_stmt.finally,
        }));
        self.block_body(try_stmt.body, pos)?;

        if let (Some(catch), Some(catch_reg), Some(catch_handler)) =
            (&try_stmt.catch, catch_reg, catch_handler)
        {
            self.emit(Instr::PopHandler {}, pos);
            let skip_catch = self.emit(Instr::Jump { offset: 0 }, pos);
            self.patch_jump_here(catch_handler);
            // The runtime popped the catch handler on the way here; only the finally
            // handler (if any) still protects the catch body.
            if let Some(Exit::Try(t)) = self.state().exits.last_mut() {
                t.handlers -= 1;
            }
            if self.state().captured_locals > captured_before {
                self.emit(Instr::CloseUpvals { from: region_base }, catch.pos);
            }
            self.release_to(usize::from(catch_reg));
            self.begin_scope();
            let e = self.declare_local(catch.decl, catch.name.pos)?;
            debug_assert_eq!(
                e, catch_reg,
                "the catch variable lives where the handler put it"
            );
            self.stmts(catch.body)?;
            self.end_scope(catch.pos);
            self.patch_jump_here(skip_catch);
        }
        self.state().exits.pop();

        if let (Some(finally), Some(finally_reg), Some(finally_handler)) =
            (try_stmt.finally, finally_reg, finally_handler)
        {
            self.emit(Instr::PopHandler {}, pos);
            self.release_to(usize::from(finally_reg) + 1);
            self.block_body(finally, pos)?;
            let skip_rethrow = self.emit(Instr::Jump { offset: 0 }, pos);
            self.patch_jump_here(finally_handler);
            if self.state().captured_locals > captured_before {
                self.emit(
                    Instr::CloseUpvals {
                        from: finally_reg + 1,
                    },
                    pos,
                );
            }
            self.release_to(usize::from(finally_reg) + 1);
            self.block_body(finally, pos)?;
            // FIXME: the rethrow is attributed to the `try`, so an exception that nothing
            // catches is reported there rather than at its `throw`. Lifting it needs the
            // runtime to keep the first throw's position with the exception in flight.
            self.emit(Instr::Throw { src: finally_reg }, pos);
            self.patch_jump_here(skip_rethrow);
        }
        self.release_to(mark);
        Ok(())
    }

    /// `import "path" as name;`. The module's top level runs in a frame whose window starts
    /// at the destination, so that must be the highest register in use, like a callee's.
    pub(super) fn import(
        &mut self,
        path: &'r str,
        name: Name<'r>,
        decl: DeclId,
        pos: Pos,
    ) -> Gen<()> {
        let Some(&target) = self.imports.get(path) else {
            unreachable!("the bundler resolves every import before code generation")
        };
        let global = self.at_global_scope();
        let dst = if global {
            self.alloc(name.pos)?
        } else {
            self.declare_local(decl, name.pos)?
        };
        // With all 256 registers in use, `alloc` hands out a spare R0, below the others.
        if usize::from(dst) + 1 != self.free_reg() {
            return Err(self.out_of_registers(name.pos));
        }
        match target {
            ImportTarget::Source(module) => self.emit(Instr::Import { dst, module }, pos),
            ImportTarget::Native(module_name) => {
                let name = self.program.string(module_name);
                self.emit(Instr::ImportNative { dst, name }, pos)
            }
        };
        if global {
            self.define_global(name.text, dst, pos);
        }
        Ok(())
    }
}
