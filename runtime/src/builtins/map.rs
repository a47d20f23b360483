//! Methods of maps. Keys follow `crate::map::ValueMap`'s rules; `keys()` and
//! `values()` return new lists in insertion order.

use crate::object::{ObjKind, ObjMap};
use crate::value::Value;
use crate::vm::{NativeDef, Vm};
use crate::NativeError;

pub(super) const METHODS: &[NativeDef] = &[
    method!("has", Some(1), has),
    method!("get", Some(2), get),
    method!("remove", Some(1), remove),
    method!("len", Some(0), len),
    method!("keys", Some(0), keys),
    method!("values", Some(0), values),
];

fn table(map: Value) -> &'static crate::map::ValueMap {
    debug_assert_eq!(map.object_kind(), Some(ObjKind::Map));
    // SAFETY: method natives are only called with a receiver of their type, which
    // stays rooted in the caller's registers for the whole call; callers use the
    // reference before anything can allocate.
    unsafe { &(*(map.as_object() as *mut ObjMap)).map }
}

fn has(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::bool(table(args[0]).contains(args[1])))
}

fn get(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(table(args[0]).get(args[1]).unwrap_or(args[2]))
}

fn remove(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let key = args[1];
    Ok(vm
        .map_mutate(args[0], |map| map.remove(key))
        .unwrap_or(Value::NIL))
}

fn len(_vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(table(args[0]).len() as f64))
}

fn keys(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let keys: Vec<Value> = table(args[0]).iter().map(|(key, _)| key).collect();
    Ok(vm.alloc_list(keys))
}

fn values(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let values: Vec<Value> = table(args[0]).iter().map(|(_, value)| value).collect();
    Ok(vm.alloc_list(values))
}
