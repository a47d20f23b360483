//! The native globals: `clock`, `str`, `num`, `type`, `input` and `args`.

use crate::args;
use pvm_runtime::{NativeDef, NativeError, Value, Vm};
use std::io::BufRead;
use std::sync::OnceLock;
use std::time::Instant;

pub(crate) const GLOBALS: &[NativeDef] = &[
    NativeDef {
        name: "clock",
        arity: Some(0),
        function: clock,
    },
    NativeDef {
        name: "str",
        arity: Some(1),
        function: str,
    },
    NativeDef {
        name: "num",
        arity: Some(1),
        function: num,
    },
    NativeDef {
        name: "type",
        arity: Some(1),
        function: type_of,
    },
    NativeDef {
        name: "input",
        arity: Some(0),
        function: input,
    },
    NativeDef {
        name: "args",
        arity: Some(0),
        function: program_args,
    },
];

pub(crate) fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Seconds since the program started (the book's `clock()`).
pub(crate) fn clock(_vm: &mut Vm, _args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(process_start().elapsed().as_secs_f64()))
}

/// The text `print` would show.
fn str(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    if vm.str_of(args[0]).is_some() {
        return Ok(args[0]);
    }
    let text = vm.display_string(args[0])?;
    Ok(vm.string_value(&text))
}

/// The number a string spells (surrounding whitespace allowed), the number
/// itself, or nil.
fn num(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    if args[0].is_number() {
        return Ok(args[0]);
    }
    let Some(text) = vm.str_of(args[0]) else {
        return Ok(Value::NIL);
    };
    Ok(parse_number(text.trim()).map_or(Value::NIL, Value::number))
}

/// Decimal numbers as Python's `float()` reads them, including `inf` and `nan`;
/// no underscores, hex or empty strings.
fn parse_number(text: &str) -> Option<f64> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-');
    if text.is_empty() || !text.chars().all(allowed) {
        return None;
    }
    text.parse::<f64>().ok()
}

fn type_of(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let name = vm.type_name(args[0]);
    Ok(vm.string_value(name))
}

/// One line of standard input without its line ending, or nil at end of input.
fn input(vm: &mut Vm, _args: &[Value]) -> Result<Value, NativeError> {
    // A prompt printed without a newline must appear before we wait.
    let _ = vm.flush_output();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(Value::NIL),
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
                if line.ends_with('\r') {
                    line.pop();
                }
            }
            Ok(vm.string_value(&line))
        }
        Err(error) => Err(NativeError::Error(format!(
            "input(): cannot read standard input: {error}"
        ))),
    }
}

/// The strings after the program on `pvm run`'s command line.
pub(crate) fn program_args(vm: &mut Vm, _args: &[Value]) -> Result<Value, NativeError> {
    let items = vm.options().program_args.clone();
    Ok(args::string_list(vm, &items))
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn parses_like_python_float() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("-1.5e3"), Some(-1500.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert!(parse_number("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_number("inf"), Some(f64::INFINITY));
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("1_000"), None);
        assert_eq!(parse_number("12abc"), None);
        assert_eq!(parse_number("0x10"), None);
    }
}
