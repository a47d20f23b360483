//! How values look when printed: `print`, string conversion and error messages
//! all go through [`Vm::display`], so there is one definition of a value's text.

use crate::object::*;
use crate::value::{format_number, Value};
use crate::vm::Vm;
use std::io::Write;

impl Vm {
    /// Appends the text `print` shows for `value`.
    pub fn display(&self, value: Value, out: &mut String) {
        if value.is_number() {
            format_number(value.as_number(), out);
        } else if value.is_nil() {
            out.push_str("nil");
        } else if value.is_bool() {
            out.push_str(if value == Value::TRUE {
                "true"
            } else {
                "false"
            });
        } else if value.is_object() {
            // SAFETY: object values point at live objects of the kind in their header.
            unsafe { display_object(value.as_object(), out) };
        } else {
            out.push_str("<empty>");
        }
    }

    pub(crate) fn print_line(&mut self, value: Value) -> std::io::Result<()> {
        if value.object_kind() == Some(ObjKind::String) {
            // SAFETY: the kind was checked.
            let text = unsafe { &(*(value.as_object() as *mut ObjString)).text };
            self.out.write_all(text.as_bytes())?;
            return self.out.write_all(b"\n");
        }
        let mut text = String::new();
        self.display(value, &mut text);
        text.push('\n');
        self.out.write_all(text.as_bytes())
    }
}

/// # Safety
/// `object` must be live.
unsafe fn display_object(object: *mut Header, out: &mut String) {
    // SAFETY: each cast matches the header's kind; referenced objects are live.
    unsafe {
        match (*object).kind {
            ObjKind::String => out.push_str(&(*(object as *mut ObjString)).text),
            ObjKind::Closure => display_function(&*(*(object as *mut ObjClosure)).proto, out),
            ObjKind::BoundMethod => {
                let method = (*(object as *mut ObjBoundMethod)).method;
                display_function(&*(*method).proto, out)
            }
            ObjKind::Native => out.push_str("<native fn>"),
            ObjKind::Class => out.push_str(&(*(*(object as *mut ObjClass)).name).text),
            ObjKind::Instance => {
                out.push_str(&(*(*(*(object as *mut ObjInstance)).class).name).text);
                out.push_str(" instance");
            }
            ObjKind::Upvalue => out.push_str("<upvalue>"),
        }
    }
}

fn display_function(proto: &Proto, out: &mut String) {
    // SAFETY: proto names are interned constants, live for the VM's lifetime.
    let name = unsafe { &(*proto.name).text };
    out.push_str("<fn ");
    out.push_str(name);
    out.push('>');
}
