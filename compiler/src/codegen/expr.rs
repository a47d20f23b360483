//! Code generation for expressions. The two entry points are [`Generator::expr_to`] (result in a
//! given register) and [`Generator::expr_any`] (result in whatever register is cheapest: a
//! local's own register when the expression is just that local). Calls put the callee and the
//! arguments in consecutive fresh temporaries, as `Call`, `Invoke` and `SuperInvoke` expect.

use pvm_bytecode::Instr;

use super::cond::number_literal;
use super::{Gen, Generator};
use crate::ast::*;
use crate::diagnostic::Pos;
use crate::resolver::{Binding, Resolution};

impl<'r> Generator<'r> {
    /// Evaluates `expr` into some register and returns it; it stays valid until the caller
    /// releases temporaries.
    pub(super) fn expr_any(&mut self, expr: &'r Expr<'r>) -> Gen<u8> {
        if let Some(reg) = self.local_register(expr) {
            return Ok(reg);
        }
        let reg = self.alloc(expr.pos)?;
        self.expr_to(expr, reg)?;
        Ok(reg)
    }

    /// The register of `expr` if it is a read of a local of the current function.
    pub(super) fn local_register(&self, expr: &'r Expr<'r>) -> Option<u8> {
        self.local_decl(expr)
            .map(|decl| self.decl_regs[decl.0 as usize])
    }

    fn local_decl(&self, expr: &'r Expr<'r>) -> Option<DeclId> {
        let id = match expr.kind {
            ExprKind::Variable { id, .. } | ExprKind::This { id } => id,
            _ => return None,
        };
        match self.resolution.binding(id) {
            Binding::Local(decl) => Some(decl),
            _ => None,
        }
    }

    /// The register of `expr` if it is a read of a local that none of `later` (evaluated
    /// after it, before the instruction that reads it) can change, so it can be read in place.
    pub(super) fn local_in_place(&self, expr: &'r Expr<'r>, later: &[&'r Expr<'r>]) -> Option<u8> {
        let decl = self.local_decl(expr)?;
        let changed = later
            .iter()
            .any(|later| may_write_local(later, decl, self.resolution));
        (!changed).then(|| self.decl_regs[decl.0 as usize])
    }

    /// Evaluates an operand of an instruction that will write `dst`, returning where the
    /// operand is. A local is read in place unless `later` (evaluated after this operand and
    /// before the instruction) could change it. Otherwise the operand goes straight into `dst`
    /// when `dst` is scratch (not a local that `later` may still read), which keeps chains like
    /// `a + b + c + ...` or `!!!x` to a constant number of registers.
    pub(super) fn operand_into(
        &mut self,
        expr: &'r Expr<'r>,
        dst: u8,
        later: Option<&'r Expr<'r>>,
    ) -> Gen<u8> {
        let (reg, evaluate) = self.operand_place(expr, dst, later)?;
        if evaluate {
            self.expr_to(expr, reg)?;
        }
        Ok(reg)
    }

    /// Where [`Generator::operand_into`] puts the operand, and whether it still has to be
    /// evaluated there (false for a local read in place).
    fn operand_place(
        &mut self,
        expr: &'r Expr<'r>,
        dst: u8,
        later: Option<&'r Expr<'r>>,
    ) -> Gen<(u8, bool)> {
        if let Some(reg) = self.local_in_place(expr, later.as_slice()) {
            return Ok((reg, false));
        }
        let reg = if self.is_local_reg(dst) {
            self.alloc(expr.pos)?
        } else {
            dst
        };
        Ok((reg, true))
    }

    /// Evaluates `expr` for its side effects only (an expression statement).
    pub(super) fn expr_effect(&mut self, expr: &'r Expr<'r>) -> Gen<()> {
        let mark = self.free_reg();
        match &expr.kind {
            ExprKind::Assign { name, id, value } => {
                if let Binding::Local(decl) = self.resolution.binding(*id) {
                    let reg = self.decl_regs[decl.0 as usize];
                    self.expr_to(value, reg)?;
                } else {
                    let reg = self.expr_any(value)?;
                    self.store_variable(*name, *id, reg)?;
                }
            }
            ExprKind::Set(set) => {
                self.set_property(set.object, set.name, set.value, set.compound)?;
            }
            ExprKind::SetIndex {
                object,
                index,
                value,
                compound,
            } => {
                self.set_index(object, index, value, *compound, expr.pos)?;
            }
            _ => {
                let reg = self.alloc(expr.pos)?;
                self.expr_to(expr, reg)?;
            }
        }
        self.release_to(mark);
        Ok(())
    }

    /// Evaluates `expr` into register `dst`.
    ///
    /// A left-leaning chain (`a + b + c`, `a or b and c`, `o.f().g()`, `xs[0][1]`; see
    /// [`Expr::chain_left`]) is walked with a loop: down its left operands, deciding each
    /// link's registers as recursion would, then back up, finishing each link once the operand
    /// below it is evaluated. The code is the same as recursion gives, but host stack use does
    /// not grow with the chain's length, which the nesting limit does not bound.
    ///
    /// The pending links go on one stack shared by every call (nested calls use the part
    /// above where they began), so an expression allocates nothing for them.
    pub(super) fn expr_to(&mut self, expr: &'r Expr<'r>, dst: u8) -> Gen<()> {
        let base = self.pending_links.len();
        let (mut expr, mut dst) = (expr, dst);
        loop {
            let mark = self.free_reg();
            match self.begin_node(expr, dst)? {
                Begun::Done => {
                    self.release_to(mark);
                    break;
                }
                Begun::Link { left, reg } => {
                    self.pending_links.push(PendingLink {
                        expr,
                        dst,
                        left: reg,
                        mark,
                    });
                    match left {
                        Some(left) => (expr, dst) = (left, reg),
                        None => break,
                    }
                }
            }
        }
        // An error leaves links on the stack, but it also ends generation.
        while self.pending_links.len() > base {
            let Some(link) = self.pending_links.pop() else {
                break;
            };
            self.finish_link(link.expr, link.dst, link.left)?;
            self.release_to(link.mark);
        }
        Ok(())
    }

    /// Generates `expr` into `dst` if it is not a chain link; for a link, only decides where
    /// its left operand goes (allocating that register if needed) and leaves the rest to
    /// [`Generator::finish_link`].
    fn begin_node(&mut self, expr: &'r Expr<'r>, dst: u8) -> Gen<Begun<'r>> {
        let pos = expr.pos;
        match &expr.kind {
            ExprKind::Binary {
                op, left, right, ..
            } => {
                // `x op 1` reads its right operand from the constant pool (see `finish_link`):
                // nothing runs between the left operand and the instruction, so a local left
                // operand can be read in place.
                let later = if binary_with_constant(*op, right).is_some() {
                    None
                } else {
                    Some(*right)
                };
                self.link_operand(left, dst, later)
            }
            ExprKind::Logical { left, .. } => {
                // The left value lands in the result register before the right side runs,
                // which may still read the local that register belongs to: go through a
                // temporary. A local left operand is copied there too, never read in place:
                // the register holds whichever side's value is the result.
                let reg = if self.is_local_reg(dst) {
                    self.alloc(pos)?
                } else {
                    dst
                };
                Ok(Begun::Link {
                    left: Some(left),
                    reg,
                })
            }
            ExprKind::Get { object, .. } => self.link_operand(object, dst, None),
            ExprKind::Index { object, index } => self.link_operand(object, dst, Some(*index)),
            ExprKind::Call { callee, args } => {
                let ExprKind::Super {
                    method,
                    id,
                    this_id,
                } = &callee.kind
                else {
                    let base = self.call_base(dst, pos)?;
                    // A method call's receiver goes in the base register: `Invoke` looks the
                    // method up on it.
                    let left = match &callee.kind {
                        ExprKind::Get { object, .. } => object,
                        _ => callee,
                    };
                    return Ok(Begun::Link {
                        left: Some(left),
                        reg: base,
                    });
                };
                self.super_call(*method, *id, *this_id, args, dst, pos)?;
                Ok(Begun::Done)
            }
            _ => {
                self.leaf_to(expr, dst)?;
                Ok(Begun::Done)
            }
        }
    }

    /// The left operand of a chain link, placed as [`Generator::operand_into`] places it.
    fn link_operand(
        &mut self,
        left: &'r Expr<'r>,
        dst: u8,
        later: Option<&'r Expr<'r>>,
    ) -> Gen<Begun<'r>> {
        let (reg, evaluate) = self.operand_place(left, dst, later)?;
        Ok(Begun::Link {
            left: evaluate.then_some(left),
            reg,
        })
    }

    /// The rest of chain link `expr` into `dst`, its left operand being in register `left`.
    fn finish_link(&mut self, expr: &'r Expr<'r>, dst: u8, left: u8) -> Gen<()> {
        let pos = expr.pos;
        match &expr.kind {
            ExprKind::Binary { op, right, at, .. } => {
                // `x op 1` takes its number from the constant pool instead of loading it
                // into a register first. Only a right-hand literal: it is the operand the
                // instruction reads second, so nothing about order or errors changes, and
                // no rewriting of one operator as another (`x - 0` is not `x + 0` for -0).
                if let Some((value, with_constant)) = binary_with_constant(*op, right) {
                    match exact_reciprocal(*op, value) {
                        Some(reciprocal) => {
                            let k = self.program.number(reciprocal);
                            self.emit(Instr::MulK { dst, a: left, k }, *at);
                        }
                        None => {
                            let k = self.program.number(value);
                            self.emit(with_constant(dst, left, k), *at);
                        }
                    }
                } else {
                    let b = self.expr_any(right)?;
                    self.emit(binary_instr(*op, dst, left, b), *at);
                }
            }
            ExprKind::Logical { op, right, .. } => {
                // `and`/`or`: the left value is the result unless it decides nothing, then
                // the right one, evaluated only in that case.
                let short_circuit = match op {
                    LogicalOp::And => Instr::JumpIfFalse {
                        cond: left,
                        offset: 0,
                    },
                    LogicalOp::Or => Instr::JumpIfTrue {
                        cond: left,
                        offset: 0,
                    },
                };
                let jump = self.emit(short_circuit, pos);
                self.expr_to(right, left)?;
                self.patch_jump_here(jump);
                if left != dst {
                    self.emit(Instr::Move { dst, src: left }, pos);
                }
            }
            ExprKind::Get { name, .. } => {
                let name_k = self.program.string(name.text);
                self.emit(
                    Instr::GetProp {
                        dst,
                        obj: left,
                        name: name_k,
                    },
                    name.pos,
                );
            }
            ExprKind::Index { index, .. } => {
                let key = self.expr_any(index)?;
                self.emit(
                    Instr::GetIndex {
                        dst,
                        obj: left,
                        key,
                    },
                    pos,
                );
            }
            ExprKind::Call { callee, args } => {
                let base = left;
                self.arguments(args)?;
                // Arguments count at most 255 (checked by the parser).
                let argc = args.len() as u8;
                let call = match &callee.kind {
                    ExprKind::Get { name, .. } => Instr::Invoke {
                        a: base,
                        argc,
                        name: self.program.string(name.text),
                    },
                    _ => Instr::Call { a: base, argc },
                };
                self.emit(call, pos);
                if base != dst {
                    self.emit(Instr::Move { dst, src: base }, pos);
                }
            }
            // Not a link: `begin_node` generated all of it.
            _ => {}
        }
        Ok(())
    }

    /// Evaluates `expr`, which is not a chain link, into register `dst`.
    fn leaf_to(&mut self, expr: &'r Expr<'r>, dst: u8) -> Gen<()> {
        let pos = expr.pos;
        match &expr.kind {
            ExprKind::Nil => {
                self.emit(Instr::LoadNil { dst }, pos);
            }
            ExprKind::True => {
                self.emit(Instr::LoadTrue { dst }, pos);
            }
            ExprKind::False => {
                self.emit(Instr::LoadFalse { dst }, pos);
            }
            ExprKind::Number(value) => self.load_number(*value, dst, pos),
            ExprKind::String(text) => {
                let k = self.program.string(text);
                self.emit(Instr::LoadConst { dst, k }, pos);
            }
            ExprKind::Variable { name, id } => {
                self.load_variable(*name, self.resolution.binding(*id), dst)?;
            }
            ExprKind::This { id } => {
                let this = Name { text: "this", pos };
                self.load_variable(this, self.resolution.binding(*id), dst)?;
            }
            ExprKind::Assign { name, id, value } => match self.resolution.binding(*id) {
                Binding::Local(decl) => {
                    let local = self.decl_regs[decl.0 as usize];
                    self.expr_to(value, local)?;
                    if local != dst {
                        self.emit(Instr::Move { dst, src: local }, pos);
                    }
                }
                _ => {
                    self.expr_to(value, dst)?;
                    self.store_variable(*name, *id, dst)?;
                }
            },
            ExprKind::Grouping(inner) => self.expr_to(inner, dst)?,
            ExprKind::Unary { op, operand, at } => {
                // A negated literal is just a negative number; no runtime check can fail.
                if let (UnaryOp::Negate, ExprKind::Number(value)) = (op, &operand.kind) {
                    self.load_number(-value, dst, pos);
                } else {
                    let src = self.operand_into(operand, dst, None)?;
                    let instr = match op {
                        UnaryOp::Negate => Instr::Neg { dst, src },
                        UnaryOp::Not => Instr::Not { dst, src },
                    };
                    self.emit(instr, *at);
                }
            }
            ExprKind::Set(set) => {
                let src = self.set_property(set.object, set.name, set.value, set.compound)?;
                if src != dst {
                    self.emit(Instr::Move { dst, src }, pos);
                }
            }
            ExprKind::SetIndex {
                object,
                index,
                value,
                compound,
            } => {
                let src = self.set_index(object, index, value, *compound, pos)?;
                if src != dst {
                    self.emit(Instr::Move { dst, src }, pos);
                }
            }
            ExprKind::List(elements) => self.list_literal(elements, dst, pos)?,
            ExprKind::Map(entries) => self.map_literal(entries, dst, pos)?,
            // Chain links, which `begin_node` and `finish_link` generate.
            ExprKind::Binary { .. }
            | ExprKind::Logical { .. }
            | ExprKind::Call { .. }
            | ExprKind::Get { .. }
            | ExprKind::Index { .. } => self.expr_to(expr, dst)?,
            ExprKind::Function(function) => {
                let proto = self.function(function)?;
                self.emit(Instr::Closure { dst, proto }, pos);
            }
            ExprKind::Super {
                method,
                id,
                this_id,
            } => {
                let recv = self.this_register(*this_id, pos)?;
                let sup = self.super_register(*id, pos)?;
                let name = self.program.string(method.text);
                self.emit(
                    Instr::GetSuper {
                        dst,
                        recv,
                        sup,
                        name,
                    },
                    method.pos,
                );
            }
            // Only error-free trees reach code generation.
            ExprKind::Error => {
                self.emit(Instr::LoadNil { dst }, pos);
            }
        }
        Ok(())
    }

    fn load_number(&mut self, value: f64, dst: u8, pos: Pos) {
        let small = value.fract() == 0.0
            && value >= f64::from(i32::MIN)
            && value <= f64::from(i32::MAX)
            // -0 must keep its sign, which an integer can't carry.
            && !(value == 0.0 && value.is_sign_negative());
        if small {
            self.emit(
                Instr::LoadInt {
                    dst,
                    value: value as i32,
                },
                pos,
            );
        } else {
            let k = self.program.number(value);
            self.emit(Instr::LoadConst { dst, k }, pos);
        }
    }

    /// Stores `src` into the variable `name` refers to at use `id`.
    fn store_variable(&mut self, name: Name<'r>, id: RefId, src: u8) -> Gen<()> {
        match self.resolution.binding(id) {
            Binding::Local(decl) => {
                let dst = self.decl_regs[decl.0 as usize];
                if dst != src {
                    self.emit(Instr::Move { dst, src }, name.pos);
                }
            }
            Binding::Upvalue(idx) => {
                self.emit(Instr::SetUpval { src, idx }, name.pos);
            }
            Binding::Global => {
                let slot = self.global_slot(name.text);
                self.emit(Instr::SetGlobal { src, slot }, name.pos);
            }
        }
        Ok(())
    }

    /// The base register of a call into `dst`: the callee (or receiver) goes there with the
    /// arguments right after it, and the result comes back there.
    ///
    /// FIXME: each level of calls nested in arguments (`f(1, g(2, h(...)))`) holds its base
    /// and earlier arguments, so roughly a hundred levels exhaust the 256 registers and are
    /// rejected. That is inherent to windows of consecutive registers; spilling would lift it.
    fn call_base(&mut self, dst: u8, pos: Pos) -> Gen<u8> {
        // The result register can serve as the base only if it is the topmost temporary
        // (the arguments go right above it) and not a local the arguments may still read.
        // In a chain of calls (`o.f().g()`) each link's base is then the one below it, so the
        // chain needs no more registers than one call.
        if usize::from(dst) + 1 == self.free_reg() && !self.is_local_reg(dst) {
            Ok(dst)
        } else {
            self.alloc(pos)
        }
    }

    /// `super.method(args)` into `dst`.
    fn super_call(
        &mut self,
        method: Name<'r>,
        id: RefId,
        this_id: RefId,
        args: &'r [&'r Expr<'r>],
        dst: u8,
        pos: Pos,
    ) -> Gen<()> {
        let base = self.call_base(dst, pos)?;
        let this = Name { text: "this", pos };
        self.load_variable(this, self.resolution.binding(this_id), base)?;
        self.arguments(args)?;
        // Loaded last, possibly into a register the callee's window will cover: the
        // instruction reads the superclass before the callee's frame exists.
        let sup = self.super_register(id, pos)?;
        let name = self.program.string(method.text);
        // Arguments count at most 255 (checked by the parser).
        let argc = args.len() as u8;
        self.emit(
            Instr::SuperInvoke {
                a: base,
                argc,
                sup,
                name,
            },
            pos,
        );
        if base != dst {
            self.emit(Instr::Move { dst, src: base }, pos);
        }
        Ok(())
    }

    /// Evaluates the arguments into consecutive fresh temporaries.
    fn arguments(&mut self, args: &'r [&'r Expr<'r>]) -> Gen<()> {
        for arg in args {
            let reg = self.alloc(arg.pos)?;
            self.expr_to(arg, reg)?;
        }
        Ok(())
    }

    /// The register holding `this` for a use bound at `id`: R0 in a method, or a temporary
    /// loaded from an upvalue in a closure nested in one.
    fn this_register(&mut self, id: RefId, pos: Pos) -> Gen<u8> {
        self.variable_register(Name { text: "this", pos }, id, pos)
    }

    fn super_register(&mut self, id: RefId, pos: Pos) -> Gen<u8> {
        self.variable_register(Name { text: "super", pos }, id, pos)
    }

    fn variable_register(&mut self, name: Name<'r>, id: RefId, pos: Pos) -> Gen<u8> {
        match self.resolution.binding(id) {
            Binding::Local(decl) => Ok(self.decl_regs[decl.0 as usize]),
            binding => {
                let reg = self.alloc(pos)?;
                self.load_variable(name, binding, reg)?;
                Ok(reg)
            }
        }
    }
}

pub(super) fn binary_instr(op: BinaryOp, dst: u8, a: u8, b: u8) -> Instr {
    match op {
        BinaryOp::Add => Instr::Add { dst, a, b },
        BinaryOp::Subtract => Instr::Sub { dst, a, b },
        BinaryOp::Multiply => Instr::Mul { dst, a, b },
        BinaryOp::Divide => Instr::Div { dst, a, b },
        BinaryOp::Modulo => Instr::Mod { dst, a, b },
        BinaryOp::Equal => Instr::Eq { dst, a, b },
        BinaryOp::NotEqual => Instr::Ne { dst, a, b },
        BinaryOp::Less => Instr::Lt { dst, a, b },
        BinaryOp::LessEqual => Instr::Le { dst, a, b },
        BinaryOp::Greater => Instr::Gt { dst, a, b },
        BinaryOp::GreaterEqual => Instr::Ge { dst, a, b },
    }
}

/// For `x / d` with `d` a power of two whose reciprocal is a normal number, that reciprocal:
/// `x * (1/d)` then gives the same bits as `x / d` for every `x` (both are the exact quotient
/// rounded once, NaN, infinities, zeros and subnormal results included), and a multiply
/// takes a few cycles where a divide takes tens. C compilers make the same rewrite without
/// any fast-math flag.
fn exact_reciprocal(op: BinaryOp, divisor: f64) -> Option<f64> {
    const MANTISSA: u64 = (1 << 52) - 1;
    if op != BinaryOp::Divide {
        return None;
    }
    let bits = divisor.to_bits();
    let exponent = (bits >> 52) & 0x7ff;
    // A zero mantissa and a biased exponent in 1..=2045 (so 1/d's, 2046 - exponent, is
    // normal too): d = ±2^(exponent - 1023), exactly.
    if bits & MANTISSA == 0 && (1..=2045).contains(&exponent) {
        Some(1.0 / divisor)
    } else {
        None
    }
}

/// What is left of a chain link once its left operand is placed: [`Generator::expr_to`] keeps
/// one per link of the chain it is walking.
pub(super) struct PendingLink<'r> {
    expr: &'r Expr<'r>,
    dst: u8,
    /// The register holding the left operand once it is evaluated.
    left: u8,
    /// The temporaries in use before the link began, released when it is done.
    mark: usize,
}

/// What [`Generator::begin_node`] did.
enum Begun<'r> {
    /// Generated the whole node.
    Done,
    /// Placed a chain link's left operand in `reg`; `left` is that operand when it still has
    /// to be evaluated there, `None` when it is a local read in place.
    Link { left: Option<&'r Expr<'r>>, reg: u8 },
}

/// Builds `R[dst] = R[a] op K[k]` from `dst`, `a` and `k`.
type WithConstant = fn(u8, u8, u32) -> Instr;

/// For `x op literal`, the literal and the instruction that takes it from the constant pool.
fn binary_with_constant(op: BinaryOp, right: &Expr<'_>) -> Option<(f64, WithConstant)> {
    Some((number_literal(right)?, binary_k_form(op)?))
}

/// The constant-operand instruction `R[dst] = R[a] op K[k]`, for the operators that have one.
fn binary_k_form(op: BinaryOp) -> Option<WithConstant> {
    match op {
        BinaryOp::Add => Some(|dst, a, k| Instr::AddK { dst, a, k }),
        BinaryOp::Subtract => Some(|dst, a, k| Instr::SubK { dst, a, k }),
        BinaryOp::Multiply => Some(|dst, a, k| Instr::MulK { dst, a, k }),
        BinaryOp::Divide => Some(|dst, a, k| Instr::DivK { dst, a, k }),
        _ => None,
    }
}

/// Could evaluating `expr` change local `decl`? An assignment to it can, and so can any call
/// when a closure captures it (the closure may assign it through its upvalue while it is
/// still open). Nothing else runs user code: there are no getters, setters or operator
/// methods, and a function literal only makes a closure.
///
/// The left operands of a chain are followed by a loop, so a long chain costs no host stack.
pub(super) fn may_write_local(expr: &Expr<'_>, decl: DeclId, resolution: &Resolution) -> bool {
    let writes = |expr: &Expr<'_>| may_write_local(expr, decl, resolution);
    let mut expr = expr;
    loop {
        // The operands other than a chain link's left one; the order of the checks does not
        // matter, as nothing is generated.
        let others = match &expr.kind {
            ExprKind::Binary { right, .. } | ExprKind::Logical { right, .. } => writes(right),
            ExprKind::Call { args, .. } => {
                resolution.is_captured(decl) || args.iter().any(|arg| writes(arg))
            }
            ExprKind::Get { .. } => false,
            ExprKind::Index { index, .. } => writes(index),
            ExprKind::Assign { id, value, .. } => {
                resolution.binding(*id) == Binding::Local(decl) || writes(value)
            }
            ExprKind::Function(_) => false,
            ExprKind::List(elements) => elements.iter().any(|e| writes(e)),
            ExprKind::Map(entries) => entries
                .iter()
                .any(|(key, value)| writes(key) || writes(value)),
            ExprKind::SetIndex {
                object,
                index,
                value,
                ..
            } => writes(object) || writes(index) || writes(value),
            ExprKind::Nil
            | ExprKind::True
            | ExprKind::False
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Variable { .. }
            | ExprKind::This { .. }
            | ExprKind::Super { .. }
            | ExprKind::Error => false,
            ExprKind::Grouping(inner) => writes(inner),
            ExprKind::Unary { operand, .. } => writes(operand),
            ExprKind::Set(set) => writes(set.object) || writes(set.value),
        };
        if others {
            return true;
        }
        match expr.chain_left() {
            Some(left) => expr = left,
            None => return false,
        }
    }
}
