//! `import "os";` — the program's arguments, environment (behind
//! `--allow-env`), clock, and `exit`, which unwinds the VM and leaves ending the
//! process to the host.

use crate::args::{integer, string};
use crate::globals::{clock, program_args};
use crate::permissions::check_env;
use pvm_runtime::{NativeDef, NativeError, NativeMember, Value, Vm};

pub(crate) const MEMBERS: &[NativeMember] = &[
    NativeMember::Function(NativeDef {
        name: "args",
        arity: Some(0),
        function: program_args,
    }),
    NativeMember::Function(NativeDef {
        name: "env",
        arity: Some(1),
        function: env,
    }),
    NativeMember::Function(NativeDef {
        name: "exit",
        arity: Some(1),
        function: exit,
    }),
    NativeMember::Function(NativeDef {
        name: "clock",
        arity: Some(0),
        function: clock,
    }),
];

/// The variable's value, or nil when it is unset (or not valid Unicode).
fn env(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let name = string(vm, args[0], "env")?;
    check_env(vm, &name)?;
    match std::env::var(&name) {
        Ok(value) => Ok(vm.string_value(&value)),
        Err(_) => Ok(Value::NIL),
    }
}

/// Ends the program with a status code (0–255); not catchable.
fn exit(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let code = integer(args[0], "exit")?;
    if !(0..=255).contains(&code) {
        return Err(NativeError::Error(format!(
            "exit() needs a status from 0 to 255, got {code}."
        )));
    }
    Err(vm.exit_request(code as i32))
}
