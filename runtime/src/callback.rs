//! Calling Lox from Rust: how natives such as `sort(fn)` and `map(fn)` run a
//! callback.
//!
//! The callee and its arguments are placed just above the live registers and
//! called like any other call; if that pushes a frame, the interpreter is entered
//! again and runs until the frame returns. Each nesting level costs Rust stack,
//! so it is bounded by `MAX_NATIVE_DEPTH` as well as by the call-depth limit.

use crate::error::{NativeError, RuntimeErrorKind};
use crate::exceptions::Fault;
use crate::interp::Called;
use crate::value::Value;
use crate::vm::{Vm, MAX_NATIVE_DEPTH};
use pvm_bytecode::MAX_ARITY;

impl Vm {
    /// Calls `callee` with `args` and returns its result. An exception the callee
    /// does not catch comes back as an error for the native to pass on with `?`.
    pub fn call(&mut self, callee: Value, args: &[Value]) -> Result<Value, NativeError> {
        if args.len() > MAX_ARITY {
            return Err(NativeError::Error(format!(
                "Can't pass more than {MAX_ARITY} arguments."
            )));
        }
        let base = self.stack_top;
        if base + 1 + args.len() > self.stack.capacity() || self.native_depth >= MAX_NATIVE_DEPTH {
            return Err(NativeError::Error("Stack overflow.".into()));
        }
        // SAFETY: base + 1 + args.len() is within the stack (checked above).
        unsafe {
            *self.stack.slot(base) = callee;
            for (offset, &arg) in args.iter().enumerate() {
                *self.stack.slot(base + 1 + offset) = arg;
            }
        }
        let saved_top = self.stack_top;
        self.stack_top = base + 1 + args.len();
        self.stack_high_water = self.stack_high_water.max(self.stack_top);
        self.native_depth += 1;
        let depth = self.frames.len();
        let result = match self.call_value(base, args.len() as u8) {
            Ok(Called::Frame) => self.execute(depth).map_err(NativeError::Propagate),
            // SAFETY: the result replaced the callee in slot `base`.
            Ok(Called::Done) => Ok(unsafe { *self.stack.slot(base) }),
            Err(fault) => Err(self.fault_to_native(fault)),
        };
        if result.is_err() {
            self.unwind_to(depth);
        }
        self.native_depth -= 1;
        self.stack_top = saved_top;
        result
    }

    fn fault_to_native(&mut self, fault: Fault) -> NativeError {
        match fault {
            Fault::Message(message) => NativeError::Error(message),
            Fault::Exception => {
                let message = self.exception_message(self.in_flight);
                NativeError::Propagate(self.error_of_kind(RuntimeErrorKind::Error, message))
            }
            Fault::Fatal(error) => NativeError::Propagate(error),
        }
    }

    /// Drops every frame above `depth` (after an error escaped them), closing
    /// their upvalues and forgetting their handlers.
    pub(crate) fn unwind_to(&mut self, depth: usize) {
        if self.frames.len() > depth {
            let lowest = self.frames[depth].base;
            self.frames.truncate(depth);
            self.close_upvalues(self.stack.slot(lowest));
        }
        self.drop_frame_handlers(depth + 1);
    }
}
