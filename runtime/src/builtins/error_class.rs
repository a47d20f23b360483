//! The built-in `Error` class. The VM raises its own errors (wrong operand types,
//! bad indices, stack overflow, …) as instances of it, with the text in the field
//! `message`; programs may throw it, catch it and inherit from it.

use crate::object::*;
use crate::value::Value;
use crate::vm::{NativeDef, Vm};
use crate::NativeError;

const INIT: NativeDef = NativeDef {
    name: "init",
    arity: None,
    function: init,
};

/// `Error(message)`: stores the message (empty when omitted) and returns the
/// instance, as an initializer does.
fn init(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let (receiver, rest) = args
        .split_first()
        .ok_or_else(|| NativeError::Error("Error.init needs a receiver.".into()))?;
    if receiver.object_kind() != Some(ObjKind::Instance) {
        return Err(NativeError::Error("Error.init needs an instance.".into()));
    }
    let message = match rest {
        [] => vm.string_value(""),
        [message] => *message,
        _ => {
            return Err(NativeError::Error(format!(
                "Expected 0 or 1 arguments but got {}.",
                rest.len()
            )))
        }
    };
    let name = vm.message_string;
    vm.set_field(*receiver, name, message);
    Ok(*receiver)
}

pub(super) fn install(vm: &mut Vm) {
    let name = vm.intern("Error");
    let class = vm.alloc_class(name);
    let init_name = vm.init_string;
    let method = vm.native_value(&INIT, true);
    // SAFETY: `class` was just allocated as a class; collections are held off
    // during loading, so it stays live.
    unsafe {
        let class = &mut *(class.as_object() as *mut ObjClass);
        class.methods.insert(StrKey(init_name), method);
        class.initializer = method;
    }
    vm.error_class = class;
    vm.bind_global("Error", class);
}
