//! Code generation: walks the resolved AST and emits pvm register bytecode through
//! pvm-bytecode's [`ProgramBuilder`].
//!
//! **Register discipline** (Lua's "free register" scheme). Each function's R0 is the callee or
//! the receiver, R1..=arity the parameters. Locals take the next free register when declared and
//! keep it for their scope; temporaries are allocated above them stack-fashion and released when
//! the expression or statement that needed them is done. So at the start of every statement the
//! free register is just past the live locals.
//!
//! **Architecture Invariant:** an expression compiled into register `dst` writes `dst` only as
//! its last step unless `dst` is a fresh temporary, because `dst` may be a local the expression
//! itself still reads (`a = x or a`, `a = f(a)`).

mod collections;
mod cond;
mod expr;
mod flow;
mod relax;
mod stmt;

use std::collections::HashMap;

use pvm_bytecode::{Export, Function as Proto, Instr, LineEntry, ProgramBuilder, UpvalueDesc};

use crate::ast::{DeclId, Function, FunctionKind, Stmt};
use crate::diagnostic::{Diagnostics, Near, Pos};
use crate::resolver::{Capture, Resolution};

/// Registers one function may use; operands are one byte.
const MAX_REGISTERS: usize = pvm_bytecode::MAX_REGISTERS;

/// Code generation stopped because a function needs more registers than exist; already
/// reported.
#[derive(Debug)]
pub struct OutOfRegisters;

type Gen<T> = Result<T, OutOfRegisters>;

struct Scope {
    /// The first register of the scope's locals; everything from here up is freed at its end.
    base: usize,
    /// Does a closure capture one of the scope's locals (so its end must close upvalues)?
    captured: bool,
}

/// What an `import` statement's path refers to, as the module bundler decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportTarget {
    /// A source module bundled into the program: its index in the module table.
    Source(u32),
    /// A native standard-library module, by name.
    Native(&'static str),
}

/// A construct that `break`, `continue` or `return` may have to leave on its way out.
enum Exit<'r> {
    Loop(LoopExit),
    Try(TryExit<'r>),
}

/// A loop being generated: where its `break`s and `continue`s jump.
struct LoopExit {
    /// Scopes open outside the body; a jump out of the body closes the ones above.
    scope_depth: usize,
    /// Jumps to patch to the loop's exit.
    breaks: Vec<usize>,
    /// Jumps to patch to the loop's next iteration.
    continues: Vec<usize>,
}

/// A `try` statement whose protected region (or catch body) is being generated.
struct TryExit<'r> {
    /// Handlers installed for the region, popped by a jump out of it.
    handlers: usize,
    /// Code run by every way out, generated once more at each jump out.
    finally: Option<&'r [&'r Stmt<'r>]>,
}

/// The function being generated.
struct FunctionState<'r> {
    kind: FunctionKind,
    code: Vec<Instr>,
    lines: Vec<LineEntry>,
    /// The next free register.
    free: usize,
    /// Registers below this hold locals (or the callee/receiver and parameters).
    locals_top: usize,
    /// The most registers in use at once so far.
    max_regs: usize,
    /// R0 of a plain function (or the script) holds only the callee closure, which the frame
    /// keeps alive on its own, so R0 is free for the code's use (so is a method's, if it never
    /// uses `this`). With parameters it can't join
    /// the register stack (R1.. are taken), so it serves as one extra register when all 256
    /// others are in use: that is what lets a 255-parameter function compute anything.
    r0_is_spare_top: bool,
    scopes: Vec<Scope>,
    /// Loops and `try`s around the current point, innermost last.
    exits: Vec<Exit<'r>>,
    /// How many captured locals have been bound so far: a handler target must close upvalues
    /// only if the region it protects bound some.
    captured_locals: usize,
    /// Short compare-and-branch jumps and their targets, resolved when the function is done.
    short_jumps: Vec<relax::ShortJump>,
    /// The index of the latest instruction some jump lands on (or will: loop tops are
    /// marked before their back edge exists). Control can reach it other than from the
    /// instruction before it.
    last_label: Option<usize>,
}

impl FunctionState<'_> {
    /// `this_used`: does a method's body (or a closure in it) use `this` or `super`?
    fn new(kind: FunctionKind, arity: usize, this_used: bool) -> Self {
        // A method's R0 is `this`, free only if nothing uses it; an initializer returns it.
        let r0_free = match kind {
            FunctionKind::Function => true,
            FunctionKind::Method => !this_used,
            FunctionKind::Initializer => false,
        };
        // Without parameters a free R0 is simply the bottom of the register stack, so a call
        // can use all 256 registers for its callee and 255 arguments.
        let first_free = if r0_free && arity == 0 { 0 } else { arity + 1 };
        FunctionState {
            kind,
            code: Vec::new(),
            lines: Vec::new(),
            free: first_free,
            locals_top: first_free,
            max_regs: first_free.max(1),
            r0_is_spare_top: r0_free && arity > 0,
            scopes: Vec::new(),
            exits: Vec::new(),
            captured_locals: 0,
            short_jumps: Vec::new(),
            last_label: None,
        }
    }

    /// [`FunctionState::new`], taking its buffers from the finished state `old`: they have
    /// grown to a typical function's size already, so most functions need no reallocation.
    fn reusing(old: Self, kind: FunctionKind, arity: usize, this_used: bool) -> Self {
        let Self {
            mut code,
            mut lines,
            mut scopes,
            mut exits,
            mut short_jumps,
            ..
        } = old;
        code.clear();
        lines.clear();
        scopes.clear();
        exits.clear();
        short_jumps.clear();
        FunctionState {
            code,
            lines,
            scopes,
            exits,
            short_jumps,
            ..Self::new(kind, arity, this_used)
        }
    }
}

pub struct Generator<'r> {
    program: &'r mut ProgramBuilder,
    file: u32,
    source: &'r str,
    resolution: &'r Resolution,
    diagnostics: &'r Diagnostics,
    /// The register of every local declaration met so far, by [`DeclId`].
    decl_regs: Vec<u8>,
    /// The function being generated is last; the script is first.
    functions: Vec<FunctionState<'r>>,
    /// This module's own globals by name: each module has its own namespace. Only looked
    /// up, never iterated, so the hasher's seed cannot change the output.
    globals: hashbrown::HashMap<&'r str, Global>,
    /// The names the top level declares, in order: what a module exports.
    exports: Vec<Export>,
    /// What each `import` path of this module refers to.
    imports: &'r HashMap<&'r str, ImportTarget>,
    /// This module's index in the module table, for an imported module.
    module: Option<u32>,
    /// The chain links [`Generator::expr_to`] has begun and not finished, innermost last.
    pending_links: Vec<expr::PendingLink<'r>>,
    /// Finished functions' states, whose buffers the next functions reuse.
    spare_states: Vec<FunctionState<'r>>,
}

/// A global of the module being generated.
struct Global {
    slot: u32,
    /// Is it in [`Generator::exports`] yet? (Found without a scan, which made compiling N
    /// globals cost N².)
    exported: bool,
}

/// What [`Generator::finish_function`] does with the finished function's code and line
/// buffers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Buffers {
    /// Copies them into the prototype and keeps them for the next function.
    Keep,
    /// Moves them into the prototype: no function follows in this unit.
    GiveAway,
}

/// One source module to generate.
pub struct Unit<'r> {
    /// How many top-level statements it has (only counted, to size tables).
    pub statements: usize,
    pub resolution: &'r Resolution,
    pub file_name: &'r str,
    pub source: &'r str,
    pub imports: &'r HashMap<&'r str, ImportTarget>,
    /// `Some(index)` for an imported module: its top level then ends by returning its module
    /// object. `None` for the entry script.
    pub module: Option<u32>,
}

/// What generating a unit produced.
pub struct Generated {
    /// The prototype of the unit's top-level code.
    pub function: u32,
    /// The top-level names the unit declares, with their slots.
    pub exports: Vec<Export>,
}

/// Generates one module's code into a program, a top-level statement at a time, as the
/// resolver finishes each (see [`Resolution`]).
pub struct UnitGenerator<'r> {
    generator: Generator<'r>,
    /// The prototype reserved for the unit's top-level code.
    script: u32,
    /// A function ran out of registers (reported); nothing more is generated.
    failed: bool,
}

impl<'r> UnitGenerator<'r> {
    /// Starts generating `unit` into `program`, reporting into `diagnostics`.
    pub fn new(
        unit: Unit<'r>,
        program: &'r mut ProgramBuilder,
        diagnostics: &'r Diagnostics,
    ) -> Self {
        let file = program.file(unit.file_name);
        // The resolver numbered the unit's functions; the script is one more.
        program.reserve_functions(unit.resolution.function_count() + 1);
        let mut generator = Generator {
            program,
            file,
            source: unit.source,
            resolution: unit.resolution,
            diagnostics,
            decl_regs: vec![0; unit.resolution.decl_count()],
            functions: Vec::new(),
            // Most top-level statements of a long script declare a global.
            globals: hashbrown::HashMap::with_capacity(unit.statements),
            exports: Vec::new(),
            imports: unit.imports,
            module: unit.module,
            pending_links: Vec::new(),
            spare_states: Vec::new(),
        };
        let script = generator.program.reserve_function();
        generator.begin_function(FunctionKind::Function, 0, false);
        UnitGenerator {
            generator,
            script,
            failed: false,
        }
    }

    /// Generates the next top-level statement, which the resolver has just resolved.
    pub fn top_level(&mut self, stmt: &'r Stmt<'r>) {
        if !self.failed {
            self.failed = self.generator.stmt(stmt).is_err();
        }
    }

    /// Ends the unit's top-level code; `None` if a function ran out of registers (reported).
    pub fn finish(mut self) -> Option<Generated> {
        if self.failed {
            return None;
        }
        self.generator.end_script(self.script).ok()?;
        Some(Generated {
            function: self.script,
            exports: self.generator.exports,
        })
    }
}

impl<'r> Generator<'r> {
    fn state(&mut self) -> &mut FunctionState<'r> {
        self.functions
            .last_mut()
            .expect("code is only generated inside a function")
    }

    /// Ends the top-level code begun by [`UnitGenerator::new`] into prototype `proto`.
    fn end_script(&mut self, proto: u32) -> Gen<()> {
        let end = crate::lexer::Lexer::end_position(self.source);
        match self.module {
            // An imported module's top level hands its module object to the importer.
            Some(module) => {
                let dst = self.alloc(end)?;
                self.emit(Instr::GetModule { dst, module }, end);
                self.emit(Instr::Return { src: dst }, end);
            }
            None => {
                self.emit(Instr::ReturnNil {}, end);
            }
        }
        let state = self.functions.pop().expect("begun by UnitGenerator::new");
        let name = self.program.string("script");
        // The last function of the unit: no other will reuse its buffers.
        self.finish_function(proto, name, 0, Vec::new(), state, Buffers::GiveAway);
        Ok(())
    }

    /// Global `name` of this module's namespace, added if new.
    fn global(&mut self, name: &'r str) -> &mut Global {
        let program = &mut *self.program;
        self.globals.entry(name).or_insert_with(|| Global {
            slot: program.add_global(name),
            exported: false,
        })
    }

    /// The slot of global `name` in this module's namespace, added if new.
    fn global_slot(&mut self, name: &'r str) -> u32 {
        self.global(name).slot
    }

    /// Defines top-level name `name` from register `src`; the module exports it.
    fn define_global(&mut self, name: &'r str, src: u8, pos: Pos) {
        let global = self.global(name);
        let slot = global.slot;
        if !std::mem::replace(&mut global.exported, true) {
            let name = self.program.global_name(slot);
            self.exports.push(Export { name, slot });
        }
        self.emit(Instr::DefineGlobal { src, slot }, pos);
    }

    /// Generates `function` as a new prototype and returns its index.
    fn function(&mut self, function: &'r Function<'r>) -> Gen<u32> {
        let proto = self.program.reserve_function();
        let arity = function.params.len();
        self.begin_function(
            function.kind,
            arity,
            self.resolution.is_used(function.this_decl),
        );
        if function.kind != FunctionKind::Function {
            self.decl_regs[function.this_decl.0 as usize] = 0;
        }
        for (index, param) in function.params.iter().enumerate() {
            // Arity is at most 255 (checked by the parser), so parameters fit a register.
            self.decl_regs[param.decl.0 as usize] = (index + 1) as u8;
        }
        self.stmts(function.body)?;
        let end = function.name.pos;
        if function.kind == FunctionKind::Initializer {
            self.emit(Instr::Return { src: 0 }, end);
        } else {
            self.emit(Instr::ReturnNil {}, end);
        }
        let state = self.functions.pop().expect("pushed above");
        let upvalues = self
            .resolution
            .upvalues(function.id)
            .iter()
            .map(|capture| match *capture {
                Capture::Local(decl) => UpvalueDesc {
                    is_local: true,
                    index: u16::from(self.decl_regs[decl.0 as usize]),
                },
                Capture::Upvalue(index) => UpvalueDesc {
                    is_local: false,
                    index,
                },
            })
            .collect();
        let name = self.program.string(function.name.text);
        self.finish_function(proto, name, arity, upvalues, state, Buffers::Keep);
        Ok(proto)
    }

    /// Starts generating a function (see [`FunctionState::new`]).
    fn begin_function(&mut self, kind: FunctionKind, arity: usize, this_used: bool) {
        let state = match self.spare_states.pop() {
            Some(old) => FunctionState::reusing(old, kind, arity, this_used),
            None => FunctionState::new(kind, arity, this_used),
        };
        self.functions.push(state);
    }

    fn finish_function(
        &mut self,
        proto: u32,
        name: u32,
        arity: usize,
        upvalues: Vec<UpvalueDesc>,
        mut state: FunctionState<'r>,
        buffers: Buffers,
    ) {
        relax::resolve_short_jumps(&mut state.code, &mut state.lines, &state.short_jumps);
        let (code, lines) = match buffers {
            // Copies of exactly the right size; the buffers serve the next function.
            Buffers::Keep => (state.code.clone(), state.lines.clone()),
            Buffers::GiveAway => (
                std::mem::take(&mut state.code),
                std::mem::take(&mut state.lines),
            ),
        };
        self.program.set_function(
            proto,
            Proto {
                name,
                file: self.file,
                // At most 255 parameters, checked by the parser.
                arity: arity as u8,
                num_regs: state.max_regs as u16,
                upvalues,
                code,
                lines,
            },
        );
        if buffers == Buffers::Keep {
            self.spare_states.push(state);
        }
    }

    /// Generates a list of statements, in order.
    pub(super) fn stmts(&mut self, stmts: &'r [&'r Stmt<'r>]) -> Gen<()> {
        for stmt in crate::ast::prefetching(stmts) {
            self.stmt(stmt)?;
        }
        Ok(())
    }

    // ----- emitting ------------------------------------------------------------------------

    /// Appends `instr`, attributed to source position `pos`; returns its index.
    fn emit(&mut self, instr: Instr, pos: Pos) -> usize {
        let state = self.state();
        let pc = state.code.len();
        let same_place = state
            .lines
            .last()
            .is_some_and(|entry| entry.line == pos.line && entry.column == pos.column);
        if !same_place {
            state.lines.push(LineEntry {
                pc: pc as u32,
                line: pos.line,
                column: pos.column,
            });
        }
        state.code.push(instr);
        pc
    }

    fn next_pc(&mut self) -> usize {
        self.state().code.len()
    }

    /// The index of the next instruction, which a jump emitted later will land on.
    fn backward_target_here(&mut self) -> usize {
        let state = self.state();
        let here = state.code.len();
        state.last_label = Some(here);
        here
    }

    /// Is `load` (a `getupval` or `getglobal`) redundant because the instruction just
    /// emitted stored the same register into the same variable, and no jump lands between
    /// them? Then the register still holds the variable's value: nothing ran in between.
    fn reloads_what_was_just_stored(&mut self, load: Instr) -> bool {
        let state = self.state();
        if state.last_label == Some(state.code.len()) {
            return false;
        }
        match (state.code.last(), load) {
            (Some(&Instr::SetUpval { src, idx }), Instr::GetUpval { dst, idx: read }) => {
                src == dst && idx == read
            }
            (
                Some(&(Instr::SetGlobal { src, slot } | Instr::DefineGlobal { src, slot })),
                Instr::GetGlobal { dst, slot: read },
            ) => src == dst && slot == read,
            _ => false,
        }
    }

    /// Points the jump at `at` to the next instruction to be emitted.
    fn patch_jump_here(&mut self, at: usize) {
        let target = self.next_pc();
        self.patch_jump(at, target);
    }

    /// Points the jump at `at` to instruction `target`. A short jump's offset is written when
    /// the function is finished, since only then is it known whether it fits.
    fn patch_jump(&mut self, at: usize, target: usize) {
        let state = self.state();
        if target == state.code.len() {
            state.last_label = Some(target);
        }
        let jump = state.code[at];
        if relax::is_short_jump(&jump) {
            state.short_jumps.push(relax::ShortJump { at, target });
        } else {
            state.code[at] = relax::with_jump_offset(jump, i64::from(jump_offset(at, target)));
        }
    }

    /// Emits a jump back to `target`.
    fn emit_loop(&mut self, target: usize, pos: Pos) {
        let at = self.next_pc();
        self.emit(
            Instr::Jump {
                offset: jump_offset(at, target),
            },
            pos,
        );
    }

    // ----- registers -----------------------------------------------------------------------

    fn alloc(&mut self, pos: Pos) -> Gen<u8> {
        let state = self.state();
        if state.free == MAX_REGISTERS && state.r0_is_spare_top {
            // Register number 256 of the stack discipline is physically R0.
            state.free += 1;
            return Ok(0);
        }
        if state.free >= MAX_REGISTERS {
            return Err(self.out_of_registers(pos));
        }
        let reg = state.free;
        state.free += 1;
        state.max_regs = state.max_regs.max(state.free);
        Ok(reg as u8)
    }

    /// Reports that the function needs more registers than exist, at `pos`.
    fn out_of_registers(&mut self, pos: Pos) -> OutOfRegisters {
        let text = crate::builder::token_text_at(self.source, pos);
        self.diagnostics.report(
            pos,
            Near::Token(text),
            format!(
                "Function needs more than {MAX_REGISTERS} registers \
                 (too many local variables, or an expression too complex)."
            ),
        );
        OutOfRegisters
    }

    fn free_reg(&mut self) -> usize {
        self.state().free
    }

    /// Releases every temporary from `mark` up.
    fn release_to(&mut self, mark: usize) {
        self.state().free = mark;
    }

    fn is_local_reg(&mut self, reg: u8) -> bool {
        let state = self.state();
        if reg == 0 && state.r0_is_spare_top {
            return false;
        }
        usize::from(reg) < state.locals_top
    }

    /// Makes the next free register the home of local `decl`.
    fn declare_local(&mut self, decl: DeclId, pos: Pos) -> Gen<u8> {
        let reg = self.alloc(pos)?;
        self.bind_local(decl, reg);
        Ok(reg)
    }

    /// Records that `decl` lives in `reg` from now to the end of the scope.
    fn bind_local(&mut self, decl: DeclId, reg: u8) {
        self.decl_regs[decl.0 as usize] = reg;
        let captured = self.resolution.is_captured(decl);
        let state = self.state();
        state.captured_locals += usize::from(captured);
        state.locals_top = state.locals_top.max(usize::from(reg) + 1);
        if let Some(scope) = state.scopes.last_mut() {
            scope.captured |= captured;
        }
    }

    fn begin_scope(&mut self) {
        let state = self.state();
        let base = state.free;
        state.scopes.push(Scope {
            base,
            captured: false,
        });
    }

    fn end_scope(&mut self, pos: Pos) {
        let scope = self.state().scopes.pop().expect("scopes are balanced");
        if scope.captured {
            self.emit(
                Instr::CloseUpvals {
                    from: scope.base as u8,
                },
                pos,
            );
        }
        let state = self.state();
        state.free = scope.base;
        state.locals_top = state.locals_top.min(scope.base);
    }

    /// Are we at the top level of the script, where declarations make globals?
    fn at_global_scope(&self) -> bool {
        self.functions.len() == 1 && self.functions[0].scopes.is_empty()
    }
}

/// The offset of a jump at `from` to `to`, relative to the instruction after the jump.
fn jump_offset(from: usize, to: usize) -> i32 {
    // Code is far below 2^31 instructions: a function body is bounded by its source size.
    to as i32 - (from as i32 + 1)
}
