//! Raising and catching: `throw`, the VM's own errors as `Error` instances, and
//! unwinding to the innermost handler.
//!
//! Handlers form one stack across frames. A throw pops frames (closing their
//! upvalues) down to the frame that installed the innermost handler, stores the
//! exception in that frame's catch register and resumes at the handler. A throw
//! with no handler above the current interpreter entry escapes as a
//! `RuntimeError` whose trace is taken before anything is unwound; the thrown
//! value waits in `in_flight` so that an outer interpreter entry (the caller of a
//! native that called back into Lox) can continue the search.

use crate::error::{NativeError, RuntimeError, RuntimeErrorKind};
use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;

/// Why an operation could not complete normally.
pub(crate) enum Fault {
    /// The VM raises a catchable `Error` with this message.
    Message(String),
    /// An exception is in flight (`vm.in_flight`), raised further in.
    Exception,
    /// Something programs cannot catch (budget, exit, output failure).
    Fatal(RuntimeError),
}

impl From<NativeError> for Fault {
    fn from(error: NativeError) -> Fault {
        match error {
            NativeError::Error(message) => Fault::Message(message),
            NativeError::Propagate(error) if error.kind == RuntimeErrorKind::Error => {
                Fault::Exception
            }
            NativeError::Propagate(error) => Fault::Fatal(error),
        }
    }
}

impl Vm {
    /// An instance of the built-in `Error` class carrying `message`.
    pub(crate) fn make_error(&mut self, message: &str) -> Value {
        let class = self.error_class.as_object() as *mut ObjClass;
        let instance = self.alloc_instance(class);
        self.temp_roots.push(instance);
        let text = self.string_value(message);
        self.temp_roots.pop();
        let name = self.message_string;
        self.set_field(instance, name, text);
        instance
    }

    /// Sets a field of an instance, keeping the heap's accounting right.
    pub(crate) fn set_field(&mut self, instance: Value, name: *mut ObjString, value: Value) {
        // SAFETY: callers pass instance values (checked kind); the name is interned.
        let fields = unsafe { &mut (*(instance.as_object() as *mut ObjInstance)).fields };
        if fields.insert(StrKey(name), value).is_none() {
            self.heap.bytes_allocated += crate::heap::TABLE_ENTRY_BYTES;
        }
    }

    /// Handles a fault raised while frames above `stop_depth` run: catchable ones
    /// are thrown (Ok: a handler took it, continue with the top frame).
    pub(crate) fn handle_fault(
        &mut self,
        fault: Fault,
        stop_depth: usize,
    ) -> Result<(), RuntimeError> {
        let exception = match fault {
            Fault::Message(message) => self.make_error(&message),
            Fault::Exception => self.in_flight,
            Fault::Fatal(error) => return Err(error),
        };
        self.throw(exception, stop_depth)
    }

    /// Throws `exception`: unwinds to the innermost handler installed above
    /// `stop_depth`, or escapes as an uncaught error.
    pub(crate) fn throw(
        &mut self,
        exception: Value,
        stop_depth: usize,
    ) -> Result<(), RuntimeError> {
        let handler = match self.handlers.last() {
            Some(handler) if handler.frame_depth > stop_depth => *handler,
            _ => {
                self.in_flight = exception;
                // Escaping again, further out, after escaping a callback: report
                // it where it was raised.
                if let Some((escaped, error)) = &self.escaped {
                    if escaped.bits() == exception.bits() {
                        return Err(error.clone());
                    }
                }
                let message = self.exception_message(exception);
                let error = self.error_of_kind(RuntimeErrorKind::Error, message);
                self.escaped = Some((exception, error.clone()));
                return Err(error);
            }
        };
        // Caught: a later throw of the same value is a new raise.
        self.escaped = None;
        self.handlers.pop();
        if self.frames.len() > handler.frame_depth {
            let lowest = self.frames[handler.frame_depth].base;
            let old_top = self.stack_top;
            self.frames.truncate(handler.frame_depth);
            self.close_upvalues(self.stack.slot(lowest));
            // The popped frames' registers overlap the handler frame's temporaries
            // of the abandoned call, which the handler never reads again. Clearing
            // them lets the collector free what the failed call built (an `Out of
            // memory.` handler must be able to allocate its message).
            self.stack.clear(lowest, old_top);
        }
        self.in_flight = Value::NIL;
        self.restore_stack_top();
        // SAFETY: the catch slot is a verified register of the handler's frame.
        unsafe { *self.stack.slot(handler.catch_slot) = exception };
        if let Some(frame) = self.frames.last_mut() {
            frame.jump_to(handler.target_pc);
        }
        Ok(())
    }

    /// The text an uncaught exception is reported with: the `message` field of an
    /// instance that has one, otherwise the value as `print` shows it.
    pub(crate) fn exception_message(&self, exception: Value) -> String {
        let mut text = String::new();
        if exception.object_kind() == Some(ObjKind::Instance) {
            // SAFETY: the kind was checked.
            let fields = unsafe { &(*(exception.as_object() as *mut ObjInstance)).fields };
            if let Some(&message) = fields.get(&StrKey(self.message_string)) {
                self.display(message, &mut text);
                return text;
            }
        }
        self.display(exception, &mut text);
        text
    }

    /// Drops the handlers the frame at depth `depth` installed (it is returning).
    #[inline]
    pub(crate) fn drop_frame_handlers(&mut self, depth: usize) {
        while self
            .handlers
            .last()
            .is_some_and(|handler| handler.frame_depth >= depth)
        {
            self.handlers.pop();
        }
    }
}
