//! Root marking: everything the VM can still reach without going through the heap.
//!
//! Roots are the live registers of every frame (the stack below `stack_top`), the
//! frames' closures, open upvalues, globals and their names, the loaded constants
//! and prototype names, and the interned `init` string. Strings reachable only
//! from the intern table are not roots: the table is weak.

use crate::object::{Header, ObjKind};
use crate::vm::Vm;

impl Vm {
    /// Runs a full mark-and-sweep collection.
    pub fn collect_garbage(&mut self) {
        let started = std::time::Instant::now();
        let top = self.stack_top;
        for &value in self.stack.range(0, top) {
            self.heap.mark_value(value);
        }
        // Slots above the live area may hold pointers to objects this collection
        // frees. Clearing them keeps every slot either live or nil, so a new frame
        // may start from whatever its registers hold without reading freed memory.
        let high_water = self.stack_high_water.max(top);
        self.stack.clear(top, high_water);
        self.stack_high_water = top;

        for index in 0..self.frames.len() {
            let closure = self.frames[index].closure;
            self.heap.mark_object(closure as *mut Header);
        }
        let mut upvalue = self.open_upvalues;
        while !upvalue.is_null() {
            self.heap.mark_object(upvalue as *mut Header);
            // SAFETY: the open list holds live upvalues.
            upvalue = unsafe { (*upvalue).next_open };
        }
        for index in 0..self.globals.len() {
            let value = self.globals[index];
            self.heap.mark_value(value);
        }
        for index in 0..self.global_names.len() {
            let name = self.global_names[index];
            self.heap.mark_object(name as *mut Header);
        }
        for index in 0..self.constants.len() {
            let value = self.constants[index];
            self.heap.mark_value(value);
        }
        for index in 0..self.protos.len() {
            let name = self.protos[index].name;
            self.heap.mark_object(name as *mut Header);
        }
        if !self.init_string.is_null() {
            self.heap.mark_object(self.init_string as *mut Header);
        }
        for index in 0..self.modules.len() {
            let (name, object) = (self.modules[index].name, self.modules[index].object);
            self.heap.mark_object(name as *mut Header);
            if object != crate::value::Value::EMPTY {
                self.heap.mark_value(object);
            }
            for export in 0..self.modules[index].exports.len() {
                let name = self.modules[index].exports[export].0;
                self.heap.mark_object(name as *mut Header);
            }
        }
        for index in 0..self.native_modules.len() {
            let module = self.native_modules[index];
            if module != crate::value::Value::EMPTY {
                self.heap.mark_value(module);
            }
        }
        for table in [&self.list_methods, &self.map_methods, &self.string_methods] {
            for (key, &method) in table.iter() {
                self.heap.mark_object(key.0 as *mut Header);
                self.heap.mark_value(method);
            }
        }
        self.heap.mark_value(self.error_class);
        self.heap.mark_value(self.in_flight);
        if let Some((exception, _)) = &self.escaped {
            self.heap.mark_value(*exception);
        }
        if !self.message_string.is_null() {
            self.heap.mark_object(self.message_string as *mut Header);
        }
        for index in 0..self.temp_roots.len() {
            let value = self.temp_roots[index];
            self.heap.mark_value(value);
        }
        self.heap.trace();
        self.heap.sweep();
        let pause = started.elapsed();
        self.heap.pause_total += pause;
        self.heap.pause_max = self.heap.pause_max.max(pause);
        debug_assert!(self.frames.iter().all(|frame| {
            // SAFETY: frames hold closures that were just marked, hence not freed.
            unsafe { (*frame.closure).header.kind == ObjKind::Closure }
        }));
    }
}
