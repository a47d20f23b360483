//! Calls that leave the dispatch loop's inline fast paths: natives, bound methods,
//! classes with a native or missing `init`, invocations on built-in values, and
//! every call whose arity or depth is wrong (which is where those errors are
//! raised). The loop's own fast paths (`enter_closure!` in `interp.rs`) handle the
//! common closure, method and constructor calls without coming here.

use crate::exceptions::Fault;
use crate::interp::Called;
use crate::object::*;
use crate::value::Value;
use crate::vm::{Frame, Vm, MAX_NATIVE_DEPTH};

impl Vm {
    /// Calls the value in stack slot `callee_slot` with the `argc` arguments above it.
    pub(crate) fn call_value(&mut self, callee_slot: usize, argc: u8) -> Result<Called, Fault> {
        // SAFETY: the slot is a verified register of the running frame.
        let callee = unsafe { *self.stack.slot(callee_slot) };
        match callee.object_kind() {
            Some(ObjKind::Closure) => {
                self.push_frame(callee.as_object() as *mut ObjClosure, callee_slot, argc)
            }
            Some(ObjKind::BoundMethod) => {
                // SAFETY: the kind was checked; bound methods hold a live closure or
                // native method.
                let bound = unsafe { &*(callee.as_object() as *mut ObjBoundMethod) };
                let method = bound.method;
                // SAFETY: as above, the slot is a register of the running frame.
                unsafe { *self.stack.slot(callee_slot) = bound.receiver };
                self.call_method(method, callee_slot, argc)
            }
            Some(ObjKind::Class) => {
                let class = callee.as_object() as *mut ObjClass;
                let instance = self.alloc_instance(class);
                // SAFETY: as above; the class stays rooted through the instance.
                unsafe { *self.stack.slot(callee_slot) = instance };
                // SAFETY: the kind was checked above.
                let initializer = unsafe { (*class).initializer };
                if initializer.is_object() {
                    self.call_method(initializer, callee_slot, argc)
                } else if argc != 0 {
                    Err(Fault::Message(format!(
                        "Expected 0 arguments but got {argc}."
                    )))
                } else {
                    Ok(Called::Done)
                }
            }
            Some(ObjKind::Native) => self.call_native(callee, callee_slot, argc),
            _ => Err(Fault::Message(
                "Can only call functions and classes.".into(),
            )),
        }
    }

    /// Calls a method value (closure or native method) whose receiver is already
    /// in `receiver_slot`, with the arguments above it.
    pub(crate) fn call_method(
        &mut self,
        method: Value,
        receiver_slot: usize,
        argc: u8,
    ) -> Result<Called, Fault> {
        if method.object_kind() == Some(ObjKind::Native) {
            self.call_native(method, receiver_slot, argc)
        } else {
            self.push_frame(method.as_object() as *mut ObjClosure, receiver_slot, argc)
        }
    }

    fn call_native(
        &mut self,
        callee: Value,
        callee_slot: usize,
        argc: u8,
    ) -> Result<Called, Fault> {
        // SAFETY: the caller checked the kind.
        let native = unsafe { &*(callee.as_object() as *mut ObjNative) };
        if let Some(arity) = native.arity {
            if arity != argc {
                return Err(Fault::Message(format!(
                    "Expected {arity} arguments but got {argc}."
                )));
            }
        }
        let function = native.function;
        // Copy the arguments out so the native may use the VM freely; they stay
        // rooted in the caller's registers for the duration of the call. A method
        // also gets its receiver, which sits in the callee slot.
        let first = if native.is_method {
            callee_slot
        } else {
            callee_slot + 1
        };
        let args: Vec<Value> = self
            .stack
            .range(first, callee_slot + 1 + usize::from(argc))
            .to_vec();
        let result = function(self, &args)?;
        // SAFETY: the slot is a register of the running frame.
        unsafe { *self.stack.slot(callee_slot) = result };
        Ok(Called::Done)
    }

    /// Pushes a frame for `closure` whose window starts at `base`.
    fn push_frame(
        &mut self,
        closure: *mut ObjClosure,
        base: usize,
        argc: u8,
    ) -> Result<Called, Fault> {
        // SAFETY: closures always point at a proto owned by `self.protos`.
        let proto = unsafe { &*(*closure).proto };
        if argc != proto.arity {
            return Err(Fault::Message(format!(
                "Expected {} arguments but got {argc}.",
                proto.arity
            )));
        }
        let top = base + usize::from(proto.num_regs);
        if self.frames.len() >= self.options.max_call_depth
            || top > self.stack.capacity()
            || self.native_depth > MAX_NATIVE_DEPTH
        {
            return Err(Fault::Message("Stack overflow.".into()));
        }
        self.frames.push(Frame::entering(closure, base));
        self.stack_top = top;
        self.stack_high_water = self.stack_high_water.max(top);
        Ok(Called::Frame)
    }

    /// Recomputes `stack_top` for the frame now on top after a return.
    pub(crate) fn restore_stack_top(&mut self) {
        if let Some(frame) = self.frames.last() {
            // SAFETY: frames hold live closures.
            let regs = unsafe { (*(*frame.closure).proto).num_regs };
            self.stack_top = frame.base + usize::from(regs);
        }
    }

    pub(crate) fn invoke(
        &mut self,
        receiver_slot: usize,
        argc: u8,
        name: *mut ObjString,
    ) -> Result<Called, Fault> {
        // SAFETY: the slot is a register of the running frame.
        let receiver = unsafe { *self.stack.slot(receiver_slot) };
        if receiver.object_kind() != Some(ObjKind::Instance) {
            let method = self.builtin_method(receiver, name)?;
            if method.object_kind() == Some(ObjKind::Native) {
                // SAFETY: the kind was checked.
                if unsafe { (*(method.as_object() as *mut ObjNative)).is_method } {
                    return self.call_native(method, receiver_slot, argc);
                }
            }
            // A module member (or any non-method value): call it as a plain value.
            // SAFETY: as above.
            unsafe { *self.stack.slot(receiver_slot) = method };
            return self.call_value(receiver_slot, argc);
        }
        // SAFETY: the kind was checked.
        let instance = unsafe { &*(receiver.as_object() as *mut ObjInstance) };
        if let Some(&field) = instance.fields.get(&StrKey(name)) {
            // SAFETY: as above.
            unsafe { *self.stack.slot(receiver_slot) = field };
            return self.call_value(receiver_slot, argc);
        }
        self.invoke_from_class(instance.class, receiver_slot, argc, name)
    }

    pub(crate) fn invoke_from_class(
        &mut self,
        class: *mut ObjClass,
        receiver_slot: usize,
        argc: u8,
        name: *mut ObjString,
    ) -> Result<Called, Fault> {
        // SAFETY: callers pass live classes (checked kinds).
        let method = unsafe { (*class).methods.get(&StrKey(name)).copied() };
        match method {
            Some(method) => self.call_method(method, receiver_slot, argc),
            None => {
                // SAFETY: names are interned constants, live for the VM's lifetime.
                let name = unsafe { &(*name).text };
                Err(Fault::Message(format!("Undefined property '{name}'.")))
            }
        }
    }
}
