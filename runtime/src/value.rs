//! The 8-byte value representation: NaN boxing.
//!
//! A value is an `f64` unless its bits fall in a quiet-NaN range that no
//! arithmetic on canonical NaNs can produce; that range encodes nil, the two
//! booleans and object pointers (sign bit set, low 48 bits the address).
//!
//! **Invariant:** every NaN that enters the VM from outside arithmetic (constants
//! from a `.pbc`, results of natives) goes through [`Value::number`], which
//! canonicalises it. IEEE arithmetic on canonical NaNs only yields NaNs with a zero
//! payload (the input's, or the default NaN), so bit 50 of a number is never set
//! together with the exponent, and no number can be mistaken for a pointer.

use crate::object::{Header, ObjKind};

const QNAN: u64 = 0x7ffc_0000_0000_0000;
const SIGN: u64 = 0x8000_0000_0000_0000;
const TAG_NIL: u64 = 1;
const TAG_FALSE: u64 = 2;
const TAG_TRUE: u64 = 3;
const TAG_EMPTY: u64 = 4;
const OBJECT: u64 = SIGN | QNAN;
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// One pvm value. Copy, eight bytes, no destructor: the GC owns what it points to.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Value(u64);

impl Value {
    pub const NIL: Value = Value(QNAN | TAG_NIL);
    pub const FALSE: Value = Value(QNAN | TAG_FALSE);
    pub const TRUE: Value = Value(QNAN | TAG_TRUE);
    /// An internal marker (undefined global, empty slot); never a program value.
    pub const EMPTY: Value = Value(QNAN | TAG_EMPTY);

    /// A number from any `f64`, canonicalising NaN (see the module invariant).
    #[inline]
    pub fn number(n: f64) -> Value {
        if n.is_nan() {
            Value(CANONICAL_NAN)
        } else {
            Value(n.to_bits())
        }
    }

    /// A number produced by arithmetic on values that are already numbers; such
    /// results need no canonicalisation (see the module invariant).
    #[inline(always)]
    pub fn from_arith(n: f64) -> Value {
        Value(n.to_bits())
    }

    #[inline(always)]
    pub fn bool(b: bool) -> Value {
        if b {
            Value::TRUE
        } else {
            Value::FALSE
        }
    }

    /// A value pointing at a heap object.
    #[inline(always)]
    pub fn object(ptr: *mut Header) -> Value {
        Value(OBJECT | (ptr as u64))
    }

    #[inline(always)]
    pub fn is_number(self) -> bool {
        self.0 & QNAN != QNAN
    }

    #[inline(always)]
    pub fn as_number(self) -> f64 {
        f64::from_bits(self.0)
    }

    #[inline(always)]
    pub fn is_nil(self) -> bool {
        self == Value::NIL
    }

    #[inline(always)]
    pub fn is_bool(self) -> bool {
        self.0 | 1 == Value::TRUE.0
    }

    #[inline(always)]
    pub fn is_object(self) -> bool {
        self.0 & OBJECT == OBJECT
    }

    /// The object pointer; only meaningful when [`Value::is_object`] holds.
    #[inline(always)]
    pub fn as_object(self) -> *mut Header {
        (self.0 & !OBJECT) as *mut Header
    }

    /// Lox truthiness: nil and false are falsey, everything else is truthy.
    #[inline(always)]
    pub fn is_falsey(self) -> bool {
        self.0 == Value::NIL.0 || self.0 == Value::FALSE.0
    }

    /// The kind of object this value points at, or `None` for non-objects.
    #[inline(always)]
    pub fn object_kind(self) -> Option<ObjKind> {
        if self.is_object() {
            // SAFETY: object values only ever hold pointers to live headers: the GC
            // frees an object only when no reachable value points at it.
            Some(unsafe { (*self.as_object()).kind })
        } else {
            None
        }
    }

    /// Raw bits, for hashing by identity.
    #[inline(always)]
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Lox equality: numbers by IEEE value (so NaN != NaN), everything else by
    /// identity. Strings are interned, so identity is content equality.
    #[inline(always)]
    pub fn equals(self, other: Value) -> bool {
        if self.is_number() && other.is_number() {
            self.as_number() == other.as_number()
        } else {
            self.0 == other.0
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_number() {
            write!(f, "{}", self.as_number())
        } else if self.is_nil() {
            f.write_str("nil")
        } else if self.is_bool() {
            write!(f, "{}", *self == Value::TRUE)
        } else {
            write!(f, "<object {:p}>", self.as_object())
        }
    }
}

/// Formats a number the way `print` shows it: the shortest digits that round-trip,
/// no fraction when integral, plain decimal for 1e-6 <= |x| < 1e21 and exponent
/// form otherwise (`1e+21`, `1.5e-7`), `nan`, `inf`, `-inf`, and `-0` for negative
/// zero. This is ECMAScript's Number-to-String rule; `spec/language.md` explains
/// why the lower bound is 1e-6.
pub fn format_number(n: f64, out: &mut String) {
    use std::fmt::Write;
    if n.is_nan() {
        out.push_str("nan");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "inf" } else { "-inf" });
    } else if n == 0.0 || (1e-6..1e21).contains(&n.abs()) {
        // Rust's Display prints the shortest round-trip digits in plain decimal.
        let _ = write!(out, "{n}");
    } else {
        let start = out.len();
        let _ = write!(out, "{n:e}");
        // Rust writes `1e21` and `1.5e-7`; the exponent always carries a sign.
        if let Some(e) = out[start..].find('e') {
            if !out[start + e + 1..].starts_with('-') {
                out.insert(start + e + 1, '+');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(n: f64) -> String {
        let mut s = String::new();
        format_number(n, &mut s);
        s
    }

    #[test]
    fn numbers_print_like_the_spec_says() {
        assert_eq!(show(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(show(100.0), "100");
        assert_eq!(show(-0.0), "-0");
        assert_eq!(show(1e21), "1e+21");
        assert_eq!(show(1.5e-7), "1.5e-7");
        assert_eq!(show(1e-7), "1e-7");
        assert_eq!(show(0.000001), "0.000001");
        assert_eq!(show(-2.5e-9), "-2.5e-9");
        assert_eq!(show(123456789012345680000.0), "123456789012345680000");
        assert_eq!(show(f64::NAN), "nan");
        assert_eq!(show(f64::NEG_INFINITY), "-inf");
        assert_eq!(show(2.5), "2.5");
    }

    #[test]
    fn nan_never_looks_like_an_object() {
        let weird = f64::from_bits(0xfffc_0000_dead_beef);
        assert!(Value::number(weird).is_number());
        assert!(Value::from_arith(Value::number(weird).as_number() * 2.0).is_number());
        let zero = Value::number(0.0).as_number();
        assert!(Value::from_arith(zero / zero).is_number());
        assert!(Value::from_arith(-(Value::number(f64::NAN).as_number())).is_number());
    }

    #[test]
    fn singletons_are_distinct() {
        assert!(Value::NIL.is_nil() && !Value::NIL.is_number() && !Value::NIL.is_object());
        assert!(Value::TRUE.is_bool() && Value::FALSE.is_bool() && !Value::NIL.is_bool());
        assert!(Value::NIL.is_falsey() && Value::FALSE.is_falsey() && !Value::TRUE.is_falsey());
        assert!(!Value::number(0.0).is_falsey());
    }
}
