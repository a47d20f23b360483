//! The language's built-in types beyond Lox's own: the methods of lists, maps and
//! strings, indexing, iteration, module objects, and the `Error` class the VM
//! raises its own errors as.
//!
//! Methods are natives flagged `is_method`, so the receiver arrives as the first
//! argument. They live in one table per type, filled at load time.

/// One row of a method table: name, argument count (receiver not counted), and
/// the Rust function. Defined before the submodules so they can all use it.
macro_rules! method {
    ($name:literal, $arity:expr, $function:ident) => {
        NativeDef {
            name: $name,
            arity: $arity,
            function: $function,
        }
    };
}

mod error_class;
mod list;
mod map;
mod string;

use crate::exceptions::Fault;
use crate::object::*;
use crate::value::Value;
use crate::vm::{NativeDef, NativeMember, Vm, UNDEFINED};
use crate::NativeError;

/// Fills the method tables and creates the `Error` class. Runs during loading,
/// with collections held off.
pub(crate) fn install(vm: &mut Vm) {
    vm.list_methods = method_table(vm, list::METHODS);
    vm.map_methods = method_table(vm, map::METHODS);
    vm.string_methods = method_table(vm, string::METHODS);
    error_class::install(vm);
}

fn method_table(vm: &mut Vm, methods: &[NativeDef]) -> Table {
    let mut table = Table::default();
    for def in methods {
        let name = vm.intern(def.name);
        let value = vm.native_value(def, true);
        table.insert(StrKey(name), value);
    }
    table
}

/// An index argument: an integral number in `0..len` (or `0..=len` when
/// `inclusive`, for insertion points). The error names the index and the length.
pub(crate) fn index_arg(
    value: Value,
    len: usize,
    inclusive: bool,
    what: &str,
) -> Result<usize, NativeError> {
    if !value.is_number() {
        return Err(NativeError::Error(format!("{what} must be a number.")));
    }
    let n = value.as_number();
    let limit = if inclusive {
        len as f64 + 1.0
    } else {
        len as f64
    };
    if n.fract() == 0.0 && n >= 0.0 && n < limit {
        return Ok(n as usize);
    }
    let mut shown = String::new();
    crate::value::format_number(n, &mut shown);
    Err(NativeError::Error(format!(
        "{what} {shown} out of range for length {len}."
    )))
}

/// An integral number argument, or an error naming the method.
pub(crate) fn integer_arg(value: Value, method: &str) -> Result<i64, NativeError> {
    // Any whole number counts, however large: `as` saturates at the i64 range,
    // which every caller then clamps or rejects by size.
    if value.is_number() && value.as_number().fract() == 0.0 {
        return Ok(value.as_number() as i64);
    }
    Err(NativeError::Error(format!(
        "{method}() needs an integer argument."
    )))
}

/// Clamps a Python-style slice bound (negative counts from the end) to `0..=len`.
pub(crate) fn slice_bound(value: Value, len: usize, method: &str) -> Result<usize, NativeError> {
    let n = integer_arg(value, method)?;
    let len = len as i64;
    let bound = if n < 0 { (len + n).max(0) } else { n.min(len) };
    Ok(bound as usize)
}

impl Vm {
    /// The string a value points at, if it is one. The borrow ends before the
    /// VM can allocate (which needs `&mut self`), so the text cannot be freed
    /// while it is read.
    pub fn str_of(&self, value: Value) -> Option<&str> {
        if value.object_kind() == Some(ObjKind::String) {
            // SAFETY: the kind was checked; the string is live while `self` is
            // borrowed immutably, since only `&mut self` can collect.
            Some(unsafe { &(*(value.as_object() as *mut ObjString)).text })
        } else {
            None
        }
    }

    /// The items of a list value, if it is one (same borrowing rule as `str_of`).
    pub fn list_items(&self, value: Value) -> Option<&[Value]> {
        if value.object_kind() == Some(ObjKind::List) {
            // SAFETY: as in `str_of`.
            Some(unsafe { &(*(value.as_object() as *mut ObjList)).items })
        } else {
            None
        }
    }

    /// The entries of a map value in insertion order, if it is one.
    pub fn map_entries(&self, value: Value) -> Option<Vec<(Value, Value)>> {
        if value.object_kind() == Some(ObjKind::Map) {
            // SAFETY: as in `str_of`.
            Some(unsafe { (*(value.as_object() as *mut ObjMap)).map.iter().collect() })
        } else {
            None
        }
    }

    /// The name `type()` reports for a value.
    pub fn type_name(&self, value: Value) -> &'static str {
        if value.is_number() {
            return "number";
        }
        if value.is_nil() {
            return "nil";
        }
        if value.is_bool() {
            return "bool";
        }
        match value.object_kind() {
            Some(ObjKind::String) => "string",
            Some(ObjKind::List) => "list",
            Some(ObjKind::Map) => "map",
            Some(ObjKind::Class) => "class",
            Some(ObjKind::Instance) => "instance",
            Some(ObjKind::Module) => "module",
            _ => "function",
        }
    }

    /// The text `print` shows, as a new string (`str()`, `write()`); containers
    /// nested deeper than `print` would show are its `Stack overflow.` error.
    pub fn display_string(&self, value: Value) -> Result<String, NativeError> {
        let mut text = String::new();
        self.display_checked(value, &mut text)?;
        Ok(text)
    }

    /// The method `name` of a built-in value, or a module member. An unknown name
    /// gets the message plain Lox gives for any non-instance (`"str".foo()`), so
    /// programs written for the book keep their errors.
    pub(crate) fn builtin_method(
        &mut self,
        receiver: Value,
        name: *mut ObjString,
    ) -> Result<Value, Fault> {
        let table = match receiver.object_kind() {
            Some(ObjKind::List) => &self.list_methods,
            Some(ObjKind::Map) => &self.map_methods,
            Some(ObjKind::String) => &self.string_methods,
            Some(ObjKind::Module) => return self.module_member(receiver, name),
            _ => return Err(Fault::Message("Only instances have methods.".into())),
        };
        match table.get(&StrKey(name)) {
            Some(&method) => Ok(method),
            None => Err(Fault::Message("Only instances have methods.".into())),
        }
    }

    /// `value.name` for anything but an instance: a bound built-in method or a
    /// module member.
    pub(crate) fn get_builtin_property(
        &mut self,
        receiver: Value,
        name: *mut ObjString,
    ) -> Result<Value, Fault> {
        match receiver.object_kind() {
            Some(ObjKind::Module) => self.module_member(receiver, name),
            Some(ObjKind::List | ObjKind::Map | ObjKind::String) => {
                let method = self
                    .builtin_method(receiver, name)
                    .map_err(|_| Fault::Message("Only instances have properties.".into()))?;
                Ok(self.bind_method(receiver, method))
            }
            _ => Err(Fault::Message("Only instances have properties.".into())),
        }
    }

    fn module_member(&self, module: Value, name: *mut ObjString) -> Result<Value, Fault> {
        // SAFETY: callers checked the kind; names are interned, live strings.
        let module = unsafe { &*(module.as_object() as *mut ObjModule) };
        if let Some(&value) = module.values.get(&StrKey(name)) {
            return Ok(value);
        }
        if let Some(&slot) = module.slots.get(&StrKey(name)) {
            let value = self.globals[slot as usize];
            if value != UNDEFINED {
                return Ok(value);
            }
        }
        // SAFETY: as above.
        let (module_name, member) = unsafe { (&(*module.name).text, &(*name).text) };
        Err(Fault::Message(format!(
            "Module '{module_name}' has no member '{member}'."
        )))
    }

    /// `obj[key]`.
    pub(crate) fn get_index(&mut self, object: Value, key: Value) -> Result<Value, Fault> {
        match object.object_kind() {
            Some(ObjKind::List) => {
                let items = self.list_items(object).unwrap_or_default();
                let index = index_arg(key, items.len(), false, "List index")?;
                Ok(items[index])
            }
            Some(ObjKind::Map) => {
                // SAFETY: the kind was checked.
                let map = unsafe { &(*(object.as_object() as *mut ObjMap)).map };
                Ok(map.get(key).unwrap_or(Value::NIL))
            }
            Some(ObjKind::String) => {
                // SAFETY: the kind was checked.
                let string = unsafe { &*(object.as_object() as *mut ObjString) };
                let index = index_arg(key, string.chars, false, "String index")?;
                let start = string.byte_offset(index);
                let end = start
                    + string.text[start..]
                        .chars()
                        .next()
                        .map_or(0, char::len_utf8);
                let piece = string.text[start..end].to_owned();
                Ok(self.string_value(&piece))
            }
            _ => Err(Fault::Message(
                "Only lists, maps and strings can be indexed.".into(),
            )),
        }
    }

    /// `obj[key] = value`.
    pub(crate) fn set_index(
        &mut self,
        object: Value,
        key: Value,
        value: Value,
    ) -> Result<(), Fault> {
        match object.object_kind() {
            Some(ObjKind::List) => {
                let len = self.list_items(object).map_or(0, <[Value]>::len);
                let index = index_arg(key, len, false, "List index")?;
                self.list_mutate(object, |items| items[index] = value);
                Ok(())
            }
            Some(ObjKind::Map) => {
                self.map_mutate(object, |map| map.insert(key, value));
                Ok(())
            }
            Some(ObjKind::String) => Err(Fault::Message("Strings are immutable.".into())),
            _ => Err(Fault::Message(
                "Only lists and maps support item assignment.".into(),
            )),
        }
    }

    /// One step of `for … in`: the next element and position, or `None` at the end.
    pub(crate) fn iterate(
        &mut self,
        iterable: Value,
        position: Value,
    ) -> Result<Option<(Value, Value)>, Fault> {
        if !position.is_number() {
            return Err(Fault::Message(
                "Malformed program: iteration position is not a number.".into(),
            ));
        }
        let at = position.as_number() as usize;
        match iterable.object_kind() {
            Some(ObjKind::List) => {
                let items = self.list_items(iterable).unwrap_or_default();
                Ok(items
                    .get(at)
                    .map(|&item| (item, Value::number((at + 1) as f64))))
            }
            Some(ObjKind::Map) => {
                // SAFETY: the kind was checked.
                let map = unsafe { &(*(iterable.as_object() as *mut ObjMap)).map };
                Ok(map
                    .entry_from(at)
                    .map(|(next, key)| (key, Value::number(next as f64))))
            }
            Some(ObjKind::String) => {
                // SAFETY: the kind was checked.
                let text = unsafe { &(*(iterable.as_object() as *mut ObjString)).text };
                let Some(ch) = text.get(at..).and_then(|rest| rest.chars().next()) else {
                    return Ok(None);
                };
                let next = Value::number((at + ch.len_utf8()) as f64);
                let mut buffer = [0u8; 4];
                let piece = self.string_value(ch.encode_utf8(&mut buffer));
                Ok(Some((piece, next)))
            }
            _ => Err(Fault::Message(
                "Can only iterate over lists, maps and strings.".into(),
            )),
        }
    }

    /// The module object of bundled source module `index`, created on first use.
    pub(crate) fn module_object(&mut self, index: usize) -> Value {
        let existing = self.modules[index].object;
        if existing != Value::EMPTY {
            return existing;
        }
        self.maybe_collect();
        let info = &self.modules[index];
        let mut slots = hashbrown::HashMap::default();
        for &(name, slot) in &info.exports {
            slots.insert(StrKey(name), slot);
        }
        let extra = slots.len() * crate::heap::TABLE_ENTRY_BYTES;
        let object = self.heap.insert(
            ObjModule {
                header: Header::new(ObjKind::Module),
                name: info.name,
                slots,
                values: Table::default(),
            },
            extra,
        );
        let value = Value::object(object as *mut Header);
        self.modules[index].object = value;
        value
    }

    /// The native standard-library module called `name`, created on first import.
    pub(crate) fn native_module(&mut self, name: *mut ObjString) -> Result<Value, Fault> {
        // SAFETY: names are interned, live strings.
        let wanted = unsafe { (*name).text.to_string() };
        let Some(index) = self.library.modules.iter().position(|m| m.name == wanted) else {
            return Err(Fault::Message(format!("No module named '{wanted}'.")));
        };
        if self.native_modules[index] != Value::EMPTY {
            return Ok(self.native_modules[index]);
        }
        let def = self.library.modules[index];
        self.maybe_collect();
        let object = self.heap.insert(
            ObjModule {
                header: Header::new(ObjKind::Module),
                name,
                slots: hashbrown::HashMap::default(),
                values: Table::default(),
            },
            0,
        );
        let module = Value::object(object as *mut Header);
        // Rooted while members are allocated.
        self.native_modules[index] = module;
        for member in def.members {
            let (member_name, value) = match member {
                NativeMember::Function(def) => (def.name, self.native_value(def, false)),
                NativeMember::Number(name, n) => (*name, Value::number(*n)),
            };
            self.temp_roots.push(value);
            let key = self.intern(member_name);
            self.temp_roots.pop();
            // SAFETY: `object` is the live module created above (rooted).
            unsafe { (*object).values.insert(StrKey(key), value) };
            self.heap.bytes_allocated += crate::heap::TABLE_ENTRY_BYTES;
        }
        Ok(module)
    }
}
