//! The natives every pvm program can call as globals. The runtime knows nothing
//! of them: the host passes [`natives`] to the loader, which binds each one to the
//! global slot of the same name if the program uses it.

use pvm_runtime::{NativeDef, NativeError, Value, Vm};
use std::sync::OnceLock;
use std::time::Instant;

/// Every native global, by name.
pub fn natives() -> &'static [NativeDef] {
    &[NativeDef {
        name: "clock",
        arity: Some(0),
        function: clock,
    }]
}

/// Seconds since the program started, as a number (the book's `clock()`).
fn clock(_vm: &mut Vm, _args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(process_start().elapsed().as_secs_f64()))
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Starts the clock that `clock()` measures from; hosts call it at start-up.
pub fn start_clock() {
    process_start();
}
