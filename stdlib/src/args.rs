//! Argument checks shared by the natives, so every one reports a wrong argument
//! the same way: naming the function and what it needed.

use pvm_runtime::{NativeError, Value, Vm};

pub(crate) fn number(value: Value, function: &str) -> Result<f64, NativeError> {
    if value.is_number() {
        Ok(value.as_number())
    } else {
        Err(NativeError::Error(format!(
            "{function}() needs a number argument."
        )))
    }
}

pub(crate) fn string(vm: &Vm, value: Value, function: &str) -> Result<String, NativeError> {
    vm.str_of(value)
        .map(str::to_owned)
        .ok_or_else(|| NativeError::Error(format!("{function}() needs a string argument.")))
}

pub(crate) fn integer(value: Value, function: &str) -> Result<i64, NativeError> {
    let n = number(value, function)?;
    // Whole numbers of any size count; `as` saturates at the i64 range.
    if n.fract() == 0.0 {
        Ok(n as i64)
    } else {
        Err(NativeError::Error(format!(
            "{function}() needs an integer argument."
        )))
    }
}

/// A list of strings as a Lox list value.
pub(crate) fn string_list(vm: &mut Vm, items: &[String]) -> Value {
    let list = vm.alloc_list(Vec::with_capacity(items.len()));
    vm.push_temp_root(list);
    for item in items {
        let value = vm.string_value(item);
        vm.list_mutate(list, |items| items.push(value));
    }
    vm.pop_temp_root();
    list
}
