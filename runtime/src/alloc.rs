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
                field_hint: 0,
            },
            0,
        );
        Value::object(class as *mut Header)
    }

    pub(crate) fn alloc_instance(&mut self, class: *mut ObjClass) -> Value {
        self.maybe_collect();
        // SAFETY: callers pass a live class (checked kind, rooted by the caller).
        let hint = unsafe { (*class).field_hint };
        let instance = self.heap.insert(
            ObjInstance {
                header: Header::new(ObjKind::Instance),
                class,
                fields: Table::with_capacity(hint),
            },
            0,
        );
        Value::object(instance as *mut Header)
    }

    /// Binds `method` (a closure or a native method) to `receiver`.
    pub(crate) fn bind_method(&mut self, receiver: Value, method: Value) -> Value {
        self.maybe_collect();
        let bound = self.heap.insert(
            ObjBoundMethod {
                header: Header::new(ObjKind::BoundMethod),
                receiver,
                method,
            },
            0,
        );
        Value::object(bound as *mut Header)
    }

    /// A new list owning `items`.
    pub fn alloc_list(&mut self, items: Vec<Value>) -> Value {
        self.maybe_collect();
        let extra = items.capacity() * std::mem::size_of::<Value>();
        let list = self.heap.insert(
            ObjList {
                header: Header::new(ObjKind::List),
                items,
            },
            extra,
        );
        Value::object(list as *mut Header)
    }

    /// A new empty map.
    pub fn alloc_map(&mut self) -> Value {
        self.maybe_collect();
        let map = self.heap.insert(
            ObjMap {
                header: Header::new(ObjKind::Map),
                map: crate::map::ValueMap::new(),
            },
            0,
        );
        Value::object(map as *mut Header)
    }

    /// Changes a list's items, keeping the heap's byte count in step with the
    /// list's capacity. `list` must be a list value.
    pub fn list_mutate<R>(&mut self, list: Value, change: impl FnOnce(&mut Vec<Value>) -> R) -> R {
        // SAFETY: callers pass list values (checked kind); `change` cannot reach the
        // heap, so the list stays valid while it runs.
        let items = unsafe { &mut (*(list.as_object() as *mut ObjList)).items };
        let before = items.capacity();
        let result = change(items);
        let after = items.capacity();
        self.account(
            before * std::mem::size_of::<Value>(),
            after * std::mem::size_of::<Value>(),
        );
        result
    }

    /// Changes a map, keeping the heap's byte count in step. `map` must be a map.
    pub fn map_mutate<R>(
        &mut self,
        map: Value,
        change: impl FnOnce(&mut crate::map::ValueMap) -> R,
    ) -> R {
        // SAFETY: as in `list_mutate`, for a map value.
        let table = unsafe { &mut (*(map.as_object() as *mut ObjMap)).map };
        let before = table.accounted_bytes();
        let result = change(table);
        let after = table.accounted_bytes();
        self.account(before, after);
        result
    }

    pub(crate) fn map_insert_pairs(&mut self, map: Value, pairs: &[Value]) {
        self.map_mutate(map, |table| {
            for pair in pairs.chunks_exact(2) {
                table.insert(pair[0], pair[1]);
            }
        });
    }

    /// Records that an object's owned storage went from `before` to `after` bytes.
    pub(crate) fn account(&mut self, before: usize, after: usize) {
        self.heap.bytes_allocated = (self.heap.bytes_allocated + after).saturating_sub(before);
        self.heap.peak_bytes = self.heap.peak_bytes.max(self.heap.bytes_allocated);
    }

    /// Concatenates two strings (both must be string values), within the heap
    /// limit.
    pub(crate) fn concatenate(
        &mut self,
        left: Value,
        right: Value,
    ) -> Result<Value, crate::exceptions::Fault> {
        // SAFETY: the caller checked both kinds.
        let len = unsafe {
            (&*(left.as_object() as *mut ObjString)).text.len()
                + (&*(right.as_object() as *mut ObjString)).text.len()
        };
        self.check_string_size(len, "String concatenation")?;
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
        Ok(self.string_value(&text))
    }
}
