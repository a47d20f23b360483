//! Conditions compiled as control flow rather than as values: [`Generator::jump_if`] emits
//! the jumps an `if`, `while` or `for` takes on a condition, without first materialising a
//! boolean. A comparison becomes one fused compare-and-branch (`jlt`, or `jltk` against a
//! number literal); `and`, `or` and `!` become jumps between their operands' tests (a chain of
//! `and`/`or` walked with a loop, like every chain); a literal becomes an unconditional jump or
//! nothing.
//!
//! Each form evaluates the same operands in the same order as the value form would, and every
//! instruction that can fail is attributed to the same source position, so runtime errors and
//! their lines are unchanged. Negated tests use the `jnlt` family because `!(a < b)` is not
//! `a >= b` when a NaN is involved.

use pvm_bytecode::Instr;

use super::{Gen, Generator};
use crate::ast::*;
use crate::diagnostic::Pos;
use crate::resolver::Binding;

impl<'r> Generator<'r> {
    /// Emits code that jumps when `cond`'s truthiness is `when` and falls through otherwise;
    /// returns the jumps for the caller to patch to the target. Temporaries are released.
    pub(super) fn jump_if(&mut self, cond: &'r Expr<'r>, when: bool) -> Gen<Vec<usize>> {
        let mark = self.free_reg();
        let jumps = match &cond.kind {
            ExprKind::Grouping(inner) => self.jump_if(inner, when)?,
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
                ..
            } => self.jump_if(operand, !when)?,
            ExprKind::Logical { .. } => self.logical_jumps(cond, when)?,
            ExprKind::Binary {
                op,
                left,
                right,
                at,
            } if is_comparison(*op) => self.compare_and_jump(*op, left, right, *at, when)?,
            ExprKind::Nil | ExprKind::False => self.jump_if_constant(false, when, cond.pos),
            ExprKind::True | ExprKind::Number(_) | ExprKind::String(_) => {
                self.jump_if_constant(true, when, cond.pos)
            }
            _ => {
                let reg = self.expr_any(cond)?;
                let jump = if when {
                    Instr::JumpIfTrue {
                        cond: reg,
                        offset: 0,
                    }
                } else {
                    Instr::JumpIfFalse {
                        cond: reg,
                        offset: 0,
                    }
                };
                vec![self.emit(jump, cond.pos)]
            }
        };
        self.release_to(mark);
        Ok(jumps)
    }

    /// [`Generator::jump_if`] for an `and`/`or` chain (`a or b and c or d` parses as
    /// `((a or (b and c)) or d)`), walked with a loop down its left operands, as
    /// [`Generator::expr_to`] walks chains: its length is not bounded by the nesting limit.
    ///
    /// `a and b` is true when both are: its false outcome can come from either side, its true
    /// outcome only from the right. `or` is the mirror image. So a link's left operand always
    /// jumps on the outcome its operator decides (true for `or`, false for `and`): to the
    /// link's target when that is the outcome asked for, or else past the right operand,
    /// which then alone decides.
    fn logical_jumps(&mut self, cond: &'r Expr<'r>, when: bool) -> Gen<Vec<usize>> {
        let mut links = Vec::new();
        let (mut bottom, mut bottom_when) = (cond, when);
        while let ExprKind::Logical { op, left, right } = &bottom.kind {
            let decides = matches!(op, LogicalOp::Or);
            links.push((*right, decides, bottom_when));
            (bottom, bottom_when) = (left, decides);
        }
        // Back up from the innermost link, each adding its right operand's test to the jumps
        // of everything left of it, in the order recursion would emit and patch them.
        let mut jumps = self.jump_if(bottom, bottom_when)?;
        for (right, decides, when) in links.into_iter().rev() {
            if when == decides {
                jumps.extend(self.jump_if(right, when)?);
            } else {
                let skip = jumps;
                jumps = self.jump_if(right, when)?;
                for at in skip {
                    self.patch_jump_here(at);
                }
            }
        }
        Ok(jumps)
    }

    /// A condition whose truthiness is known: always jump, or never.
    fn jump_if_constant(&mut self, truthy: bool, when: bool, pos: Pos) -> Vec<usize> {
        if truthy == when {
            vec![self.emit(Instr::Jump { offset: 0 }, pos)]
        } else {
            Vec::new()
        }
    }

    /// `left op right` as one compare-and-branch. A number literal on either side becomes
    /// the constant of a short form (`1 < x` is tested as `x > 1`: the literal has no effects
    /// to order, and IEEE comparison is exactly symmetric), unless its index is too large.
    fn compare_and_jump(
        &mut self,
        op: BinaryOp,
        left: &'r Expr<'r>,
        right: &'r Expr<'r>,
        at: Pos,
        when: bool,
    ) -> Gen<Vec<usize>> {
        let constant = if let Some(value) = number_literal(right) {
            Some((left, op, value))
        } else {
            number_literal(left).map(|value| (right, mirrored(op), value))
        };
        if let Some((operand, op, value)) = constant {
            if let Ok(k) = u16::try_from(self.program.number(value)) {
                let a = self.condition_operand(operand, None)?;
                return Ok(vec![self.emit_test(compare_k_jump(op, when, a, k), at)]);
            }
        }
        let a = self.condition_operand(left, Some(right))?;
        let b = self.expr_any(right)?;
        Ok(vec![self.emit_test(compare_jump(op, when, a, b), at)])
    }

    /// Emits the compare-and-branch `test`, fused with the `addk r, r, step` just before it
    /// into one `incjltk`/`incjlek` instruction when `test` is `r < K` or `r <= K`: a counted
    /// loop's step and test, one dispatch instead of two. Only when no jump lands between
    /// the two (control then always runs both). Only against a constant: after the step `r`
    /// is a number, so the test cannot fail, and an error can only be the step's, at the
    /// step's position, which the fused instruction carries. A register limit could fail
    /// the test, and its error would then name the step's column instead of the `<`'s.
    fn emit_test(&mut self, test: Instr, at: Pos) -> usize {
        let state = self.state();
        let here = state.code.len();
        let step = match state.code.last() {
            Some(&Instr::AddK { dst, a, k }) if dst == a && state.last_label != Some(here) => {
                u16::try_from(k).ok().map(|step| (dst, step))
            }
            _ => None,
        };
        let fused = step.and_then(|(r, step)| match test {
            Instr::JumpIfLtK { a, k, offset } if a == r => {
                Some(Instr::IncJumpIfLtK { a, step, k, offset })
            }
            Instr::JumpIfLeK { a, k, offset } if a == r => {
                Some(Instr::IncJumpIfLeK { a, step, k, offset })
            }
            _ => None,
        });
        match fused {
            Some(fused) => {
                *state.code.last_mut().expect("an addk was just matched") = fused;
                here - 1
            }
            None => self.emit(test, at),
        }
    }

    /// Is `condition` known to hold right after `initializer` ran: the initializer declares
    /// a variable with a number literal and the condition compares that variable with one?
    /// Nothing runs between the two, so the first test can be decided here.
    pub(super) fn holds_initially(
        &self,
        initializer: Option<&'r Stmt<'r>>,
        condition: &'r Expr<'r>,
    ) -> bool {
        let Some(StmtKind::Var {
            decl,
            init: Some(init),
            ..
        }) = initializer.map(|stmt| &stmt.kind)
        else {
            return false;
        };
        let Some(start) = number_literal(init) else {
            return false;
        };
        let ExprKind::Binary {
            op, left, right, ..
        } = &condition.kind
        else {
            return false;
        };
        let (variable, op, limit) = match (number_literal(left), number_literal(right)) {
            (None, Some(limit)) => (*left, *op, limit),
            (Some(limit), None) => (*right, mirrored(*op), limit),
            _ => return false,
        };
        let is_the_variable = matches!(variable.kind, ExprKind::Variable { id, .. }
            if self.resolution.binding(id) == Binding::Local(*decl));
        is_the_variable
            && match op {
                BinaryOp::Less => start < limit,
                BinaryOp::LessEqual => start <= limit,
                BinaryOp::Greater => start > limit,
                BinaryOp::GreaterEqual => start >= limit,
                BinaryOp::Equal => start == limit,
                BinaryOp::NotEqual => start != limit,
                _ => false,
            }
    }

    /// Evaluates an operand of a compare-and-branch: a local in place unless `later` (still to
    /// be evaluated) could change it, anything else into a fresh temporary.
    fn condition_operand(&mut self, expr: &'r Expr<'r>, later: Option<&'r Expr<'r>>) -> Gen<u8> {
        if let Some(reg) = self.local_in_place(expr, later.as_slice()) {
            return Ok(reg);
        }
        let reg = self.alloc(expr.pos)?;
        self.expr_to(expr, reg)?;
        Ok(reg)
    }
}

/// The value of `expr` if it is a number literal, possibly negated or parenthesised (the
/// code generator folds those into a constant already).
pub(super) fn number_literal(expr: &Expr<'_>) -> Option<f64> {
    match &expr.kind {
        ExprKind::Number(value) => Some(*value),
        ExprKind::Grouping(inner) => number_literal(inner),
        ExprKind::Unary {
            op: UnaryOp::Negate,
            operand,
            ..
        } => match operand.kind {
            ExprKind::Number(value) => Some(-value),
            _ => None,
        },
        _ => None,
    }
}

/// Is `cond` cheap and harmless to generate twice (a loop's test at its entry and at its
/// bottom)? Small, and without function literals, which would become two prototypes.
pub(super) fn is_small_condition(cond: &Expr<'_>) -> bool {
    /// The most nodes a duplicated condition may have; enough for `i < n and a[i] != x`.
    const MAX_NODES: usize = 12;
    // A worklist, not recursion, so no chain's length or shape costs host stack; the answer
    // does not depend on the order the nodes are counted in, and the walk stops at the
    // thirteenth.
    let mut pending = vec![cond];
    let mut nodes = 0;
    while let Some(expr) = pending.pop() {
        nodes += 1;
        if nodes > MAX_NODES {
            return false;
        }
        match &expr.kind {
            ExprKind::Nil
            | ExprKind::True
            | ExprKind::False
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Variable { .. }
            | ExprKind::This { .. } => {}
            ExprKind::Grouping(inner)
            | ExprKind::Unary { operand: inner, .. }
            | ExprKind::Get { object: inner, .. } => pending.push(inner),
            ExprKind::Binary { left, right, .. }
            | ExprKind::Logical { left, right, .. }
            | ExprKind::Index {
                object: left,
                index: right,
            } => pending.extend([*left, *right]),
            ExprKind::Call { callee, args } => {
                pending.push(callee);
                pending.extend(args.iter().copied());
            }
            _ => return false,
        }
    }
    true
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Less
            | BinaryOp::LessEqual
            | BinaryOp::Greater
            | BinaryOp::GreaterEqual
            | BinaryOp::Equal
            | BinaryOp::NotEqual
    )
}

/// The comparison that holds for `b op' a` exactly when `a op b` does.
fn mirrored(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Less => BinaryOp::Greater,
        BinaryOp::LessEqual => BinaryOp::GreaterEqual,
        BinaryOp::Greater => BinaryOp::Less,
        BinaryOp::GreaterEqual => BinaryOp::LessEqual,
        other => other,
    }
}

/// The jump taken when `R[a] op R[b]` is `when`. `a > b` is tested as `b < a`, which is the
/// same test, NaN included.
fn compare_jump(op: BinaryOp, when: bool, a: u8, b: u8) -> Instr {
    let offset = 0;
    match (op, when) {
        (BinaryOp::Less, true) => Instr::JumpIfLt { a, b, offset },
        (BinaryOp::Less, false) => Instr::JumpIfNotLt { a, b, offset },
        (BinaryOp::LessEqual, true) => Instr::JumpIfLe { a, b, offset },
        (BinaryOp::LessEqual, false) => Instr::JumpIfNotLe { a, b, offset },
        (BinaryOp::Greater, true) => Instr::JumpIfLt { a: b, b: a, offset },
        (BinaryOp::Greater, false) => Instr::JumpIfNotLt { a: b, b: a, offset },
        (BinaryOp::GreaterEqual, true) => Instr::JumpIfLe { a: b, b: a, offset },
        (BinaryOp::GreaterEqual, false) => Instr::JumpIfNotLe { a: b, b: a, offset },
        (BinaryOp::Equal, true) | (BinaryOp::NotEqual, false) => Instr::JumpIfEq { a, b, offset },
        (BinaryOp::Equal, false) | (BinaryOp::NotEqual, true) => Instr::JumpIfNe { a, b, offset },
        _ => unreachable!("{op:?} is not a comparison"),
    }
}

/// The jump taken when `R[a] op K[k]` is `when`.
fn compare_k_jump(op: BinaryOp, when: bool, a: u8, k: u16) -> Instr {
    let offset = 0;
    match (op, when) {
        (BinaryOp::Less, true) => Instr::JumpIfLtK { a, k, offset },
        (BinaryOp::Less, false) => Instr::JumpIfNotLtK { a, k, offset },
        (BinaryOp::LessEqual, true) => Instr::JumpIfLeK { a, k, offset },
        (BinaryOp::LessEqual, false) => Instr::JumpIfNotLeK { a, k, offset },
        (BinaryOp::Greater, true) => Instr::JumpIfGtK { a, k, offset },
        (BinaryOp::Greater, false) => Instr::JumpIfNotGtK { a, k, offset },
        (BinaryOp::GreaterEqual, true) => Instr::JumpIfGeK { a, k, offset },
        (BinaryOp::GreaterEqual, false) => Instr::JumpIfNotGeK { a, k, offset },
        (BinaryOp::Equal, true) | (BinaryOp::NotEqual, false) => Instr::JumpIfEqK { a, k, offset },
        (BinaryOp::Equal, false) | (BinaryOp::NotEqual, true) => Instr::JumpIfNeK { a, k, offset },
        _ => unreachable!("{op:?} is not a comparison"),
    }
}
