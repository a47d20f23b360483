//! Code generation for list and map literals, indexing, and compound assignment to
//! properties and elements.
//!
//! Literals put their elements in consecutive temporaries and build the collection with one
//! `NewList`/`NewMap`; a literal too long for the registers left is built in chunks, each
//! appended with `ListExtend`/`MapExtend`, so its temporaries never need more than one chunk.

use pvm_bytecode::Instr;

use super::expr::binary_instr;
use super::{Gen, Generator, MAX_REGISTERS};
use crate::ast::*;
use crate::diagnostic::Pos;

/// The most elements (or entries) one instruction takes: its count operand is one byte.
const MAX_CHUNK: usize = u8::MAX as usize;

/// How a collection literal is built, instruction by instruction.
#[derive(Clone, Copy)]
enum Literal {
    List,
    Map,
}

impl Literal {
    /// Registers one element takes: a value, or a key and a value.
    fn width(self) -> usize {
        match self {
            Literal::List => 1,
            Literal::Map => 2,
        }
    }

    fn create(self, dst: u8, start: u8, count: u8) -> Instr {
        match self {
            Literal::List => Instr::NewList { dst, start, count },
            Literal::Map => Instr::NewMap { dst, start, count },
        }
    }

    fn extend(self, target: u8, start: u8, count: u8) -> Instr {
        match self {
            Literal::List => Instr::ListExtend {
                list: target,
                start,
                count,
            },
            Literal::Map => Instr::MapExtend {
                map: target,
                start,
                count,
            },
        }
    }
}

impl<'r> Generator<'r> {
    pub(super) fn list_literal(
        &mut self,
        elements: &'r [&'r Expr<'r>],
        dst: u8,
        pos: Pos,
    ) -> Gen<()> {
        self.literal(
            Literal::List,
            elements.len(),
            dst,
            pos,
            |generator, index| {
                let reg = generator.alloc(elements[index].pos)?;
                generator.expr_to(elements[index], reg)
            },
        )
    }

    pub(super) fn map_literal(
        &mut self,
        entries: &'r [(&'r Expr<'r>, &'r Expr<'r>)],
        dst: u8,
        pos: Pos,
    ) -> Gen<()> {
        self.literal(Literal::Map, entries.len(), dst, pos, |generator, index| {
            let (key, value) = entries[index];
            let key_reg = generator.alloc(key.pos)?;
            generator.expr_to(key, key_reg)?;
            let value_reg = generator.alloc(value.pos)?;
            generator.expr_to(value, value_reg)
        })
    }

    /// Builds a literal of `len` elements into `dst`; `element` evaluates element `i` into
    /// the next fresh temporaries.
    fn literal(
        &mut self,
        kind: Literal,
        len: usize,
        dst: u8,
        pos: Pos,
        mut element: impl FnMut(&mut Self, usize) -> Gen<()>,
    ) -> Gen<()> {
        // Later chunks read the collection back, and an element may still read the local
        // the result goes to (`xs = [..., xs]`), so a chunked literal into a local is built
        // in a temporary, which the room for elements must leave out.
        let into_local = self.is_local_reg(dst);
        let free = self.free_reg() + usize::from(into_local);
        // What the registers above the current ones can hold, at least one element so that
        // running out is reported by `alloc` as usual.
        let room = MAX_REGISTERS.saturating_sub(free) / kind.width();
        let chunk = room.clamp(1, MAX_CHUNK);
        let chunks = len.div_ceil(chunk).max(1);
        let target = if chunks > 1 && into_local {
            self.alloc(pos)?
        } else {
            dst
        };
        for chunk_index in 0..chunks {
            let mark = self.free_reg();
            let first = chunk_index * chunk;
            let count = chunk.min(len - first);
            for index in first..first + count {
                element(self, index)?;
            }
            // An empty literal names no registers; its own destination is a valid start.
            let start = if count == 0 { target } else { mark as u8 };
            // At most MAX_CHUNK elements, so the count fits its byte.
            let count = count as u8;
            let instr = if chunk_index == 0 {
                kind.create(target, start, count)
            } else {
                kind.extend(target, start, count)
            };
            self.emit(instr, pos);
            self.release_to(mark);
        }
        if target != dst {
            self.emit(Instr::Move { dst, src: target }, pos);
        }
        Ok(())
    }

    /// Evaluates an operand that must keep its value while `later` runs: a local is read in
    /// place only if `later` can't assign it.
    fn stable_operand(&mut self, expr: &'r Expr<'r>, later: &[&'r Expr<'r>]) -> Gen<u8> {
        if let Some(reg) = self.local_in_place(expr, later) {
            return Ok(reg);
        }
        let reg = self.alloc(expr.pos)?;
        self.expr_to(expr, reg)?;
        Ok(reg)
    }

    /// `object[index] = value` or `object[index] OP= value`, evaluating the object and the
    /// index once; returns the register holding the value stored.
    pub(super) fn set_index(
        &mut self,
        object: &'r Expr<'r>,
        index: &'r Expr<'r>,
        value: &'r Expr<'r>,
        compound: Option<CompoundOp>,
        pos: Pos,
    ) -> Gen<u8> {
        let obj = self.stable_operand(object, &[index, value])?;
        let key = self.stable_operand(index, &[value])?;
        let src = match compound {
            None => self.expr_any(value)?,
            Some(CompoundOp { op, at }) => {
                let current = self.alloc(pos)?;
                self.emit(
                    Instr::GetIndex {
                        dst: current,
                        obj,
                        key,
                    },
                    pos,
                );
                let operand = self.expr_any(value)?;
                self.emit(binary_instr(op, current, current, operand), at);
                current
            }
        };
        self.emit(Instr::SetIndex { obj, key, src }, pos);
        Ok(src)
    }

    /// `object.name = value` or `object.name OP= value`, evaluating the object once; returns
    /// the register holding the value stored.
    ///
    /// FIXME: a failing `setprop` is attributed to the property name, while clox reports the
    /// line where the value ends; the two differ only for a value spanning lines. Fixing it
    /// means carrying the value's end position into `Set` as `Binary` does.
    pub(super) fn set_property(
        &mut self,
        object: &'r Expr<'r>,
        name: Name<'r>,
        value: &'r Expr<'r>,
        compound: Option<CompoundOp>,
    ) -> Gen<u8> {
        let obj = self.stable_operand(object, &[value])?;
        let name_k = self.program.string(name.text);
        let src = match compound {
            None => self.expr_any(value)?,
            Some(CompoundOp { op, at }) => {
                let current = self.alloc(name.pos)?;
                self.emit(
                    Instr::GetProp {
                        dst: current,
                        obj,
                        name: name_k,
                    },
                    name.pos,
                );
                let operand = self.expr_any(value)?;
                self.emit(binary_instr(op, current, current, operand), at);
                current
            }
        };
        self.emit(
            Instr::SetProp {
                obj,
                src,
                name: name_k,
            },
            name.pos,
        );
        Ok(src)
    }
}
