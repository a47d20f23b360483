//! Jump resolution when a function is finished, including *branch relaxation* for the short
//! compare-with-constant jumps (`jltk` and friends), whose offset is only 16 bits wide.
//!
//! While a function is generated its code only grows, so the index of every instruction is
//! final until this pass runs. Long (32-bit) jumps are patched in place as usual. A short jump
//! cannot hold an arbitrary offset, so the generator records its target here instead and this
//! pass writes the offset. The rare short jump whose target is more than 32,767 instructions
//! away becomes its opposite test skipping one instruction, followed by a long `jump`:
//!
//! ```text
//!     jltk r1, #k, FAR      =>    jnltk r1, #k, +1
//!                                 jump FAR
//! ```
//!
//! A fused step-and-test (`incjltk` and friends) has no single opposite, so it comes apart
//! into the two instructions it stands for, the test negated as above:
//!
//! ```text
//!     incjltk r1, #s, #k, FAR  =>    addk r1, r1, #s
//!                                    jnltk r1, #k, +1
//!                                    jump FAR
//! ```
//!
//! The pair takes the same branch under the same condition (each short test has an exact
//! negation, NaN included), reads the same registers and raises the same errors, and a jump
//! that was backward is still backward, so the budget and heap checks are unchanged. Inserting
//! instructions moves the ones after them, so every other jump and the line table are
//! renumbered; that can push another short jump out of range, hence the fixpoint loop.

use pvm_bytecode::{Instr, LineEntry, OperandKind};

/// A short jump whose target the generator knows, waiting for its offset.
#[derive(Clone, Copy, Debug)]
pub(super) struct ShortJump {
    /// Index of the jump instruction.
    pub at: usize,
    /// Index of the instruction it jumps to.
    pub target: usize,
}

/// Does `instr` carry a 16-bit jump offset (so its target must go through [`ShortJump`])?
pub(super) fn is_short_jump(instr: &Instr) -> bool {
    // The opcode's static kind list, not `Instr::operands`, which allocates.
    Instr::operand_kinds(instr.opcode()).is_some_and(|kinds| kinds.contains(&OperandKind::Jump16))
}

/// The operand index, kind and value of `instr`'s jump offset, if it has one.
fn jump_operand(instr: &Instr) -> Option<(usize, OperandKind, i64)> {
    instr
        .operands()
        .iter()
        .enumerate()
        .find(|(_, operand)| matches!(operand.kind, OperandKind::Jump | OperandKind::Jump16))
        .map(|(index, operand)| (index, operand.kind, operand.value))
}

/// `instr` with its jump offset replaced by `offset`, which the caller has checked fits.
pub(super) fn with_jump_offset(instr: Instr, offset: i64) -> Instr {
    instr
        .with_jump_offset(offset)
        .unwrap_or_else(|| unreachable!("setting the offset of a non-jump {instr:?}"))
}

/// The instructions that replace the short jump `instr` when its target is out of range,
/// minus the final long `jump`: the opposite test skipping that `jump`, preceded by the
/// step of a fused step-and-test.
fn far_form(instr: Instr) -> Vec<Instr> {
    let (step, test) = match instr {
        Instr::IncJumpIfLtK { a, step, k, .. } => {
            (Some((a, step)), Instr::JumpIfNotLtK { a, k, offset: 1 })
        }
        Instr::IncJumpIfLeK { a, step, k, .. } => {
            (Some((a, step)), Instr::JumpIfNotLeK { a, k, offset: 1 })
        }
        test => (None, with_jump_offset(negated_short_test(test), 1)),
    };
    match step {
        Some((a, step)) => vec![
            Instr::AddK {
                dst: a,
                a,
                k: u32::from(step),
            },
            test,
        ],
        None => vec![test],
    }
}

/// Instructions the far form of short jump `instr` adds.
fn far_growth(instr: Instr) -> usize {
    far_form(instr).len()
}

/// The short test that jumps exactly when `instr` does not.
fn negated_short_test(instr: Instr) -> Instr {
    match instr {
        Instr::JumpIfLtK { a, k, offset } => Instr::JumpIfNotLtK { a, k, offset },
        Instr::JumpIfNotLtK { a, k, offset } => Instr::JumpIfLtK { a, k, offset },
        Instr::JumpIfLeK { a, k, offset } => Instr::JumpIfNotLeK { a, k, offset },
        Instr::JumpIfNotLeK { a, k, offset } => Instr::JumpIfLeK { a, k, offset },
        Instr::JumpIfGtK { a, k, offset } => Instr::JumpIfNotGtK { a, k, offset },
        Instr::JumpIfNotGtK { a, k, offset } => Instr::JumpIfGtK { a, k, offset },
        Instr::JumpIfGeK { a, k, offset } => Instr::JumpIfNotGeK { a, k, offset },
        Instr::JumpIfNotGeK { a, k, offset } => Instr::JumpIfGeK { a, k, offset },
        Instr::JumpIfEqK { a, k, offset } => Instr::JumpIfNeK { a, k, offset },
        Instr::JumpIfNeK { a, k, offset } => Instr::JumpIfEqK { a, k, offset },
        other => unreachable!("no negation for short jump {other:?}"),
    }
}

fn fits_short(offset: i64) -> bool {
    i16::try_from(offset).is_ok()
}

/// Writes the offsets of `short_jumps` into `code`, expanding those out of 16-bit range and
/// renumbering everything else to match.
pub(super) fn resolve_short_jumps(
    code: &mut Vec<Instr>,
    lines: &mut [LineEntry],
    short_jumps: &[ShortJump],
) {
    // Nearly always every short jump is in range: then nothing moves, and only their offsets
    // are written, in place.
    let in_range = short_jumps
        .iter()
        .all(|jump| fits_short(new_offset_unshifted(jump.at, jump.target)));
    if in_range {
        for jump in short_jumps {
            let offset = new_offset_unshifted(jump.at, jump.target);
            code[jump.at] = with_jump_offset(code[jump.at], offset);
        }
        return;
    }
    let len = code.len();
    let mut expanded = vec![false; len];
    // shift[i]: instructions inserted before old index i, so i moves to i + shift[i].
    let mut shift = vec![0usize; len + 1];
    loop {
        let mut grew = false;
        for jump in short_jumps {
            if expanded[jump.at] {
                continue;
            }
            let offset = new_offset(&shift, jump.at, jump.target);
            if !fits_short(offset) {
                expanded[jump.at] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
        let mut inserted = 0;
        for (index, slot) in shift.iter_mut().enumerate() {
            *slot = inserted;
            if index < len && expanded[index] {
                inserted += far_growth(code[index]);
            }
        }
    }

    let mut targets = vec![None; len];
    for jump in short_jumps {
        targets[jump.at] = Some(jump.target);
    }
    let mut relaxed = Vec::with_capacity(len + shift[len]);
    for (at, &instr) in code.iter().enumerate() {
        match targets[at] {
            Some(target) if expanded[at] => {
                let far = far_form(instr);
                let from = at + shift[at] + far.len();
                relaxed.extend(far);
                let offset = (target + shift[target]) as i64 - (from as i64 + 1);
                relaxed.push(Instr::Jump {
                    offset: i32::try_from(offset).expect("code is far below 2^31 instructions"),
                });
            }
            Some(target) => {
                relaxed.push(with_jump_offset(instr, new_offset(&shift, at, target)));
            }
            None => match jump_operand(&instr) {
                Some((_, OperandKind::Jump, old)) if shift[len] > 0 => {
                    let target = (at as i64 + 1 + old) as usize;
                    relaxed.push(with_jump_offset(instr, new_offset(&shift, at, target)));
                }
                Some((_, OperandKind::Jump16, _)) => {
                    unreachable!("short jump at {at} was never given a target")
                }
                _ => relaxed.push(instr),
            },
        }
    }
    for entry in lines.iter_mut() {
        entry.pc += shift[entry.pc as usize] as u32;
    }
    *code = relaxed;
}

/// The offset of a jump at `at` to `target` when nothing was inserted.
fn new_offset_unshifted(at: usize, target: usize) -> i64 {
    target as i64 - (at as i64 + 1)
}

/// The offset, after renumbering by `shift`, of a jump at old index `at` to old index `target`.
fn new_offset(shift: &[usize], at: usize, target: usize) -> i64 {
    (target + shift[target]) as i64 - ((at + shift[at]) as i64 + 1)
}
