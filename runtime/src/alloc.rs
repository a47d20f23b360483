//! Constructors for the objects the interpreter creates. Each one may collect
//! before allocating, so callers keep every value they still need in a register
//! (or another root) across the call.

use crate::object::*;
use crate::value::Value;
use crate::vm::Vm;

impl Vm {
    pub(crate) fn alloc_class(&mut self, name: *mut ObjString) -> Value {
        self.maybe_collect();
        let class = self.heap.insert(
            ObjClass {
                header: Header::new(ObjKind::Class),
                name,
                methods: Table::default(),
                initializer: Value::NIL,
            },
            0,
        );
        Value::object(class as *mut Header)
    }

    pub(crate) fn alloc_instance(&mut self, class: *mut ObjClass) -> Value {
        self.maybe_collect();
        let instance = self.heap.insert(
            ObjInstance {
                header: Header::new(ObjKind::Instance),
                class,
                fields: Table::default(),
            },
            0,
        );
        Value::object(instance as *mut Header)
    }

    /// Binds `method` (a closure, as method tables only hold closures) to `receiver`.
    pub(crate) fn bind_method(&mut self, receiver: Value, method: Value) -> Value {
        self.maybe_collect();
        let bound = self.heap.insert(
            ObjBoundMethod {
                header: Header::new(ObjKind::BoundMethod),
                receiver,
                method: method.as_object() as *mut ObjClosure,
            },
            0,
        );
        Value::object(bound as *mut Header)
    }

    /// Concatenates two strings (both must be string values).
    pub(crate) fn concatenate(&mut self, left: Value, right: Value) -> Value {
        // SAFETY: the caller checked both kinds; the strings stay rooted in the
        // caller's registers while the result is interned.
        let text = unsafe {
            let left = &(*(left.as_object() as *mut ObjString)).text;
            let right = &(*(right.as_object() as *mut ObjString)).text;
            let mut text = String::with_capacity(left.len() + right.len());
            text.push_str(left);
            text.push_str(right);
            text
        };
        self.string_value(&text)
    }
}
