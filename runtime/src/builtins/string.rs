//! Methods of strings. Strings are immutable sequences of Unicode scalar values;
//! every index and length counts characters, not bytes.

use super::{integer_arg, slice_bound};
use crate::object::{ObjKind, ObjString};
use crate::value::Value;
use crate::vm::{NativeDef, Vm};
use crate::{native_error, NativeError};

pub(super) const METHODS: &[NativeDef] = &[
    method!("len", Some(0), len),
    method!("slice", Some(2), slice),
    method!("split", Some(1), split),
    method!("upper", Some(0), upper),
    method!("lower", Some(0), lower),
    method!("trim", Some(0), trim),
    method!("contains", Some(1), contains),
    method!("startsWith", Some(1), starts_with),
    method!("endsWith", Some(1), ends_with),
    method!("indexOf", Some(1), index_of),
    method!("replace", Some(2), replace),
    method!("repeat", Some(1), repeat),
];

fn receiver(value: Value) -> &'static ObjString {
    debug_assert_eq!(value.object_kind(), Some(ObjKind::String));
    // SAFETY: method natives are only called with a receiver of their type, rooted
    // in the caller's registers for the whole call; callers finish with the
    // reference (or copy out of it) before they allocate.
    unsafe { &*(value.as_object() as *mut ObjString) }
}

fn string_arg<'v>(vm: &'v Vm, value: Value, method: &str) -> Result<&'v str, NativeError> {
    vm.str_of(value)
        .ok_or_else(|| NativeError::Error(format!("{method}() needs a string argument.")))
}

fn len(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(receiver(args[0]).chars as f64))
}

fn slice(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let string = receiver(args[0]);
    let from = slice_bound(args[1], string.chars, "slice")?;
    let to = slice_bound(args[2], string.chars, "slice")?;
    if from >= to {
        return Ok(vm.string_value(""));
    }
    let (start, end) = (string.byte_offset(from), string.byte_offset(to));
    let piece = string.text[start..end].to_owned();
    Ok(vm.string_value(&piece))
}

fn split(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = receiver(args[0]).text.to_string();
    let separator = string_arg(vm, args[1], "split")?.to_owned();
    let pieces: Vec<String> = if separator.is_empty() {
        text.chars().map(String::from).collect()
    } else {
        text.split(separator.as_str()).map(str::to_owned).collect()
    };
    let list = vm.alloc_list(Vec::with_capacity(pieces.len()));
    vm.temp_roots.push(list);
    for piece in &pieces {
        let value = vm.string_value(piece);
        vm.list_mutate(list, |items| items.push(value));
    }
    vm.temp_roots.pop();
    Ok(list)
}

fn upper(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = receiver(args[0]).text.to_uppercase();
    Ok(vm.string_value(&text))
}

fn lower(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = receiver(args[0]).text.to_lowercase();
    Ok(vm.string_value(&text))
}

fn trim(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = receiver(args[0]).text.trim().to_owned();
    Ok(vm.string_value(&text))
}

fn contains(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let needle = string_arg(vm, args[1], "contains")?;
    Ok(Value::bool(receiver(args[0]).text.contains(needle)))
}

fn starts_with(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let prefix = string_arg(vm, args[1], "startsWith")?;
    Ok(Value::bool(receiver(args[0]).text.starts_with(prefix)))
}

fn ends_with(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let suffix = string_arg(vm, args[1], "endsWith")?;
    Ok(Value::bool(receiver(args[0]).text.ends_with(suffix)))
}

fn index_of(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let needle = string_arg(vm, args[1], "indexOf")?;
    let text = &receiver(args[0]).text;
    Ok(Value::number(match text.find(needle) {
        Some(byte) => text[..byte].chars().count() as f64,
        None => -1.0,
    }))
}

fn replace(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let old = string_arg(vm, args[1], "replace")?.to_owned();
    let new = string_arg(vm, args[2], "replace")?.to_owned();
    let string = receiver(args[0]);
    // Like Python: an empty pattern inserts `new` between every character, so
    // the result can be far longer than the input; size it before building it.
    let occurrences = if old.is_empty() {
        string.chars + 1
    } else {
        string.text.matches(old.as_str()).count()
    };
    let bytes = string.text.len() - occurrences * old.len() + occurrences.saturating_mul(new.len());
    vm.check_string_size(bytes, "replace()")?;
    let text = &receiver(args[0]).text;
    let replaced = text.replace(old.as_str(), &new);
    Ok(vm.string_value(&replaced))
}

fn repeat(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let count = integer_arg(args[1], "repeat")?;
    if count < 0 {
        return native_error("repeat() needs a count of zero or more.");
    }
    let bytes = receiver(args[0]).text.len().saturating_mul(count as usize);
    vm.check_string_size(bytes, "repeat()")?;
    let text = &receiver(args[0]).text;
    let repeated = text.repeat(count as usize);
    Ok(vm.string_value(&repeated))
}
