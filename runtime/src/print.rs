//! How values look as text: `print`, `str()`, error messages and the REPL-style
//! container display all go through [`Vm::render`], one definition of a value's
//! text.
//!
//! Containers are rendered with an explicit work stack, never recursion, so a
//! list nested a million deep cannot overflow the Rust stack; nesting counts
//! toward the call-depth limit instead, the same for `print`, `str()`, `join()`
//! and `write()`, which all show the same text. Inside containers strings are
//! quoted and escaped, and a container met again while it is being rendered
//! shows as `[...]` or `{...}`.

use crate::error::NativeError;
use crate::object::*;
use crate::value::{format_number, Value};
use crate::vm::Vm;
use std::collections::HashSet;
use std::io::Write;

/// Containers nested deeper than the call depth left at the point of display.
/// The message is the call-depth error's: the nesting stands in for the calls
/// a recursive display would have made.
#[derive(Debug, thiserror::Error)]
#[error("Stack overflow.")]
pub(crate) struct TooDeep;

impl From<TooDeep> for NativeError {
    fn from(error: TooDeep) -> Self {
        NativeError::Error(error.to_string())
    }
}

enum Work {
    Value {
        value: Value,
        nested: bool,
    },
    Text(&'static str),
    /// A container's closing: it is no longer being rendered.
    Leave(*mut Header),
}

impl Vm {
    /// Appends the text `print` shows for `value`. Never fails: used for error
    /// messages, where an unbounded nesting is still rendered in full.
    pub fn display(&self, value: Value, out: &mut String) {
        let _ = self.render(value, out, usize::MAX);
    }

    /// Appends the text `print` shows for `value`, refused as `print` refuses it
    /// when containers nest deeper than the call depth left. For the natives that
    /// show values as `print` does (`str()`, `join()`, `write()`).
    pub(crate) fn display_checked(&self, value: Value, out: &mut String) -> Result<(), TooDeep> {
        self.render(value, out, self.display_depth())
    }

    /// How deeply a value shown here may nest: the calls still allowed, as if
    /// each container level were a call of a recursive display.
    fn display_depth(&self) -> usize {
        self.options
            .max_call_depth
            .saturating_sub(self.frames.len())
    }

    /// Renders `value`, failing once containers nest deeper than `max_depth`.
    pub(crate) fn render(
        &self,
        value: Value,
        out: &mut String,
        max_depth: usize,
    ) -> Result<(), TooDeep> {
        let mut work = vec![Work::Value {
            value,
            nested: false,
        }];
        // The containers being rendered. A set, not a stack searched linearly,
        // so a list nested 100,000 deep renders in linear time, not quadratic.
        let mut open: HashSet<*mut Header> = HashSet::new();
        while let Some(item) = work.pop() {
            match item {
                Work::Text(text) => out.push_str(text),
                Work::Leave(object) => {
                    open.remove(&object);
                }
                Work::Value { value, nested } => {
                    match value.object_kind() {
                        Some(ObjKind::List) => {
                            let object = value.as_object();
                            if open.contains(&object) {
                                out.push_str("[...]");
                                continue;
                            }
                            if open.len() >= max_depth {
                                return Err(TooDeep);
                            }
                            open.insert(object);
                            // SAFETY: the kind was checked; the list is live.
                            let items = unsafe { &(*(object as *mut ObjList)).items };
                            out.push('[');
                            work.push(Work::Leave(object));
                            work.push(Work::Text("]"));
                            for (index, &item) in items.iter().enumerate().rev() {
                                work.push(Work::Value {
                                    value: item,
                                    nested: true,
                                });
                                if index > 0 {
                                    work.push(Work::Text(", "));
                                }
                            }
                        }
                        Some(ObjKind::Map) => {
                            let object = value.as_object();
                            if open.contains(&object) {
                                out.push_str("{...}");
                                continue;
                            }
                            if open.len() >= max_depth {
                                return Err(TooDeep);
                            }
                            open.insert(object);
                            // SAFETY: the kind was checked; the map is live.
                            let map = unsafe { &(*(object as *mut ObjMap)).map };
                            let entries: Vec<(Value, Value)> = map.iter().collect();
                            out.push('{');
                            work.push(Work::Leave(object));
                            work.push(Work::Text("}"));
                            for (index, &(key, item)) in entries.iter().enumerate().rev() {
                                work.push(Work::Value {
                                    value: item,
                                    nested: true,
                                });
                                work.push(Work::Text(": "));
                                work.push(Work::Value {
                                    value: key,
                                    nested: true,
                                });
                                if index > 0 {
                                    work.push(Work::Text(", "));
                                }
                            }
                        }
                        Some(ObjKind::String) if nested => {
                            // SAFETY: the kind was checked.
                            let text = unsafe { &(*(value.as_object() as *mut ObjString)).text };
                            quote(text, out);
                        }
                        _ => self.render_scalar(value, out),
                    }
                }
            }
        }
        Ok(())
    }

    fn render_scalar(&self, value: Value, out: &mut String) {
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

    pub(crate) fn print_line(&mut self, value: Value) -> Result<(), PrintError> {
        if value.object_kind() == Some(ObjKind::String) {
            // SAFETY: the kind was checked.
            let text = unsafe { &(*(value.as_object() as *mut ObjString)).text };
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")?;
            return Ok(());
        }
        let mut text = String::new();
        self.display_checked(value, &mut text)
            .map_err(|TooDeep| PrintError::TooDeep)?;
        text.push('\n');
        self.out.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// Why `print` failed.
pub(crate) enum PrintError {
    Output(std::io::Error),
    TooDeep,
}

impl From<std::io::Error> for PrintError {
    fn from(error: std::io::Error) -> Self {
        PrintError::Output(error)
    }
}

/// Writes `text` in double quotes, escaping what would make it ambiguous.
pub(crate) fn quote(text: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
                if method.object_kind() == Some(ObjKind::Closure) {
                    display_function(&*(*(method.as_object() as *mut ObjClosure)).proto, out)
                } else {
                    out.push_str("<native fn>")
                }
            }
            ObjKind::Native => out.push_str("<native fn>"),
            ObjKind::Class => out.push_str(&(*(*(object as *mut ObjClass)).name).text),
            ObjKind::Instance => {
                out.push_str(&(*(*(*(object as *mut ObjInstance)).class).name).text);
                out.push_str(" instance");
            }
            ObjKind::Module => {
                out.push_str("<module ");
                out.push_str(&(*(*(object as *mut ObjModule)).name).text);
                out.push('>');
            }
            ObjKind::Upvalue => out.push_str("<upvalue>"),
            // Containers are rendered by `Vm::render`; reaching here means a
            // container inside a scalar context, which `render` never produces.
            ObjKind::List => out.push_str("[...]"),
            ObjKind::Map => out.push_str("{...}"),
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
