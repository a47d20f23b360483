//! `import "math";` — C's math library, computed by the pure-Rust `libm` crate
//! rather than the host's C library, so every result is bit-identical on every
//! host. `round` rounds half away from zero, as C's does.

use crate::args::number;
use pvm_runtime::{NativeDef, NativeError, NativeMember, Value, Vm};

macro_rules! unary {
    ($name:literal, $function:path) => {{
        fn native(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
            Ok(Value::number($function(number(args[0], $name)?)))
        }
        NativeMember::Function(NativeDef {
            name: $name,
            arity: Some(1),
            function: native,
        })
    }};
}

macro_rules! binary {
    ($name:literal, $function:path) => {{
        fn native(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
            Ok(Value::number($function(
                number(args[0], $name)?,
                number(args[1], $name)?,
            )))
        }
        NativeMember::Function(NativeDef {
            name: $name,
            arity: Some(2),
            function: native,
        })
    }};
}

pub(crate) const MEMBERS: &[NativeMember] = &[
    NativeMember::Number("pi", std::f64::consts::PI),
    NativeMember::Number("e", std::f64::consts::E),
    NativeMember::Number("inf", f64::INFINITY),
    NativeMember::Number("nan", f64::NAN),
    unary!("abs", libm::fabs),
    unary!("floor", libm::floor),
    unary!("ceil", libm::ceil),
    unary!("round", libm::round),
    unary!("trunc", libm::trunc),
    unary!("sqrt", libm::sqrt),
    unary!("exp", libm::exp),
    unary!("log", libm::log),
    unary!("log2", libm::log2),
    unary!("log10", libm::log10),
    unary!("sin", libm::sin),
    unary!("cos", libm::cos),
    unary!("tan", libm::tan),
    unary!("asin", libm::asin),
    unary!("acos", libm::acos),
    unary!("atan", libm::atan),
    binary!("atan2", libm::atan2),
    binary!("hypot", libm::hypot),
    binary!("pow", libm::pow),
    NativeMember::Function(NativeDef {
        name: "min",
        arity: None,
        function: min,
    }),
    NativeMember::Function(NativeDef {
        name: "max",
        arity: None,
        function: max,
    }),
];

/// `min(a, b, …)`: the smallest of one or more numbers, with C's `fmin` rule that
/// a NaN argument is ignored unless all are NaN.
fn min(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    fold(args, "min", libm::fmin)
}

/// `max(a, b, …)`, with `fmax`'s NaN rule.
fn max(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    fold(args, "max", libm::fmax)
}

fn fold(args: &[Value], name: &str, combine: fn(f64, f64) -> f64) -> Result<Value, NativeError> {
    let (first, rest) = args
        .split_first()
        .ok_or_else(|| NativeError::Error(format!("{name}() needs at least one number.")))?;
    let mut result = number(*first, name)?;
    for &value in rest {
        result = combine(result, number(value, name)?);
    }
    Ok(Value::number(result))
}
