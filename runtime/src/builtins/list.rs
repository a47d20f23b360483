//! Methods of lists. The receiver is `args[0]`; callbacks (`map`, `filter`,
//! `reduce`, `sort(fn)`) run through `Vm::call`, so their exceptions propagate
//! and their depth counts toward the call-depth limit.

use super::{index_arg, slice_bound};
use crate::object::ObjKind;
use crate::value::Value;
use crate::vm::{NativeDef, Vm};
use crate::{native_error, NativeError};

pub(super) const METHODS: &[NativeDef] = &[
    method!("push", Some(1), push),
    method!("pop", Some(0), pop),
    method!("len", Some(0), len),
    method!("insert", Some(2), insert),
    method!("remove", Some(1), remove),
    method!("slice", Some(2), slice),
    method!("contains", Some(1), contains),
    method!("indexOf", Some(1), index_of),
    method!("reverse", Some(0), reverse),
    method!("join", Some(1), join),
    method!("sort", None, sort),
    method!("map", Some(1), map),
    method!("filter", Some(1), filter),
    method!("reduce", Some(2), reduce),
];

fn items(vm: &Vm, list: Value) -> &[Value] {
    vm.list_items(list).unwrap_or_default()
}

fn push(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let value = args[1];
    vm.list_mutate(args[0], |items| items.push(value));
    Ok(Value::NIL)
}

fn pop(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    match vm.list_mutate(args[0], Vec::pop) {
        Some(value) => Ok(value),
        None => native_error("Can't pop from an empty list."),
    }
}

fn len(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(items(vm, args[0]).len() as f64))
}

fn insert(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let index = index_arg(args[1], items(vm, args[0]).len(), true, "Insertion index")?;
    let value = args[2];
    vm.list_mutate(args[0], |items| items.insert(index, value));
    Ok(Value::NIL)
}

fn remove(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let index = index_arg(args[1], items(vm, args[0]).len(), false, "List index")?;
    Ok(vm.list_mutate(args[0], |items| items.remove(index)))
}

fn slice(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let all = items(vm, args[0]);
    let from = slice_bound(args[1], all.len(), "slice")?;
    let to = slice_bound(args[2], all.len(), "slice")?;
    let part = if from < to {
        all[from..to].to_vec()
    } else {
        Vec::new()
    };
    Ok(vm.alloc_list(part))
}

fn position(vm: &Vm, list: Value, wanted: Value) -> Option<usize> {
    items(vm, list)
        .iter()
        .position(|&item| vm.values_equal(item, wanted))
}

fn contains(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::bool(position(vm, args[0], args[1]).is_some()))
}

fn index_of(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(
        position(vm, args[0], args[1]).map_or(-1.0, |i| i as f64),
    ))
}

fn reverse(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    vm.list_mutate(args[0], |items| items.reverse());
    Ok(Value::NIL)
}

fn join(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let Some(separator) = vm.str_of(args[1]).map(str::to_owned) else {
        return native_error("join() needs a string separator.");
    };
    let mut text = String::new();
    for (index, &item) in items(vm, args[0]).iter().enumerate() {
        if index > 0 {
            text.push_str(&separator);
        }
        vm.display_checked(item, &mut text)?;
        if text.len() > crate::vm::MAX_STRING_BYTES {
            break;
        }
    }
    vm.check_string_size(text.len(), "join()")?;
    Ok(vm.string_value(&text))
}

/// `sort()` orders numbers or strings ascending; `sort(fn)` orders by a
/// comparator returning a number (negative: a first). Stable, in place. The
/// merge sort below tolerates any comparator: inconsistent answers give some
/// order, never a panic.
fn sort(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let list = args[0];
    let mut values = items(vm, list).to_vec();
    match &args[1..] {
        [] => {
            if values.iter().all(|v| v.is_number()) {
                merge_sort(&mut values, &mut |a, b| {
                    Ok(a.as_number() < b.as_number()
                        || (a.as_number().is_nan() && !b.as_number().is_nan()))
                })?;
            } else if values
                .iter()
                .all(|v| v.object_kind() == Some(ObjKind::String))
            {
                merge_sort(&mut values, &mut |a, b| Ok(vm.str_of(a) < vm.str_of(b)))?;
            } else {
                return native_error(
                    "sort() needs all numbers or all strings; pass a comparator otherwise.",
                );
            }
        }
        [comparator] => {
            let comparator = *comparator;
            // The copy being sorted lives in Rust; root it while callbacks run.
            let rooted = vm.alloc_list(values.clone());
            vm.temp_roots.push(rooted);
            let result = merge_sort(&mut values, &mut |a, b| {
                let answer = vm.call(comparator, &[a, b])?;
                if !answer.is_number() {
                    return native_error("sort() comparator must return a number.");
                }
                // Strictly before: ties keep their original order.
                Ok(answer.as_number() < 0.0)
            });
            vm.temp_roots.pop();
            result?;
        }
        _ => {
            return native_error(format!(
                "Expected 0 or 1 arguments but got {}.",
                args.len() - 1
            ))
        }
    }
    vm.list_mutate(list, |items| {
        items.clear();
        items.extend_from_slice(&values);
    });
    Ok(Value::NIL)
}

/// Stable merge sort; `less(a, b)` says whether `a` must come before `b`.
fn merge_sort(
    values: &mut Vec<Value>,
    less: &mut dyn FnMut(Value, Value) -> Result<bool, NativeError>,
) -> Result<(), NativeError> {
    let len = values.len();
    let mut buffer = values.clone();
    let mut width = 1;
    while width < len {
        let mut start = 0;
        while start < len {
            let middle = (start + width).min(len);
            let end = (start + 2 * width).min(len);
            let (mut left, mut right, mut out) = (start, middle, start);
            while left < middle && right < end {
                if less(values[right], values[left])? {
                    buffer[out] = values[right];
                    right += 1;
                } else {
                    buffer[out] = values[left];
                    left += 1;
                }
                out += 1;
            }
            buffer[out..out + middle - left].copy_from_slice(&values[left..middle]);
            out += middle - left;
            buffer[out..out + end - right].copy_from_slice(&values[right..end]);
            start = end;
        }
        std::mem::swap(values, &mut buffer);
        width *= 2;
    }
    Ok(())
}

fn map(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    collect(vm, args[0], args[1], |_, result| Some(result))
}

fn filter(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    collect(vm, args[0], args[1], |item, result| {
        (!result.is_falsey()).then_some(item)
    })
}

/// Calls `function` on each element of `list` (re-reading the list each time,
/// so a callback that changes it is seen, as in Python) and collects what `keep`
/// makes of each (element, result) pair into a new list.
fn collect(
    vm: &mut Vm,
    list: Value,
    function: Value,
    keep: fn(Value, Value) -> Option<Value>,
) -> Result<Value, NativeError> {
    let result = vm.alloc_list(Vec::new());
    // The new list lives only in Rust until returned: root it across callbacks.
    vm.temp_roots.push(result);
    let outcome = (|| {
        let mut index = 0;
        while let Some(&item) = items(vm, list).get(index) {
            let answer = vm.call(function, &[item])?;
            if let Some(kept) = keep(item, answer) {
                vm.list_mutate(result, |items| items.push(kept));
            }
            index += 1;
        }
        Ok(result)
    })();
    vm.temp_roots.pop();
    outcome
}

fn reduce(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let (list, function) = (args[0], args[1]);
    let mut accumulator = args[2];
    let mut index = 0;
    while let Some(&item) = items(vm, list).get(index) {
        // The accumulator lives only in Rust between calls: root it.
        vm.temp_roots.push(accumulator);
        let next = vm.call(function, &[accumulator, item]);
        vm.temp_roots.pop();
        accumulator = next?;
        index += 1;
    }
    Ok(accumulator)
}
