//! The garbage-collected heap: allocation, string interning, marking and sweeping.
//!
//! Objects live in one intrusive singly linked list threaded through their
//! headers; a collection marks from the roots the VM hands over (see `gc.rs`),
//! traces with an explicit worklist (never recursion, so deep structures cannot
//! overflow the Rust stack), drops unmarked strings from the weak intern table,
//! then sweeps the list.
//!
//! **Invariant:** the heap frees an object only inside [`Heap::sweep`], and only
//! when no root reached it during the mark phase that preceded it.

use crate::object::*;
use crate::value::Value;
use hashbrown::HashTable;
use std::mem::size_of;

/// Accounted bytes per field or method table entry (key, value and control byte,
/// rounded up for the table's spare capacity).
pub(crate) const TABLE_ENTRY_BYTES: usize = 32;

/// The first collection happens after this many bytes; later thresholds grow
/// with the live heap.
const INITIAL_THRESHOLD: usize = 1 << 20;

/// Spreads a 32-bit string hash over 64 bits. hashbrown takes its per-slot tag
/// from the top seven bits; a zero-extended hash would give every string the
/// same tag and turn each lookup into a string comparison per probed slot.
#[inline]
fn table_hash(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// How often to collect when stressing the collector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GcStress {
    #[default]
    Off,
    /// Collect before every N-th allocation (1 = every allocation).
    Every(u32),
}

pub struct Heap {
    objects: *mut Header,
    pub(crate) bytes_allocated: usize,
    pub(crate) peak_bytes: usize,
    next_gc: usize,
    strings: HashTable<*mut ObjString>,
    gray: Vec<*mut Header>,
    stress: GcStress,
    allocations_since_gc: u32,
    held: bool,
    pub(crate) collections: u64,
    /// Time spent collecting, in total and in the longest single collection.
    pub(crate) pause_total: std::time::Duration,
    pub(crate) pause_max: std::time::Duration,
    /// The heap limit (`--max-heap`); the interpreter raises `Out of memory.` at
    /// its next check once a collection cannot bring the heap below it.
    pub(crate) max_bytes: usize,
    /// Set by a collection that left more live bytes than `max_bytes`; the
    /// interpreter turns it into `Out of memory.` at its next call or loop.
    pub(crate) over_limit: bool,
    /// After an `Out of memory.` the program gets this much room (the live heap
    /// then plus an eighth of the limit) to handle it and let go of its data,
    /// instead of failing again at its first call.
    pub(crate) grace_until: usize,
}

impl Heap {
    pub fn new(stress: GcStress) -> Heap {
        Heap {
            objects: std::ptr::null_mut(),
            bytes_allocated: 0,
            peak_bytes: 0,
            next_gc: INITIAL_THRESHOLD,
            strings: HashTable::new(),
            gray: Vec::new(),
            stress,
            allocations_since_gc: 0,
            held: false,
            collections: 0,
            pause_total: std::time::Duration::ZERO,
            pause_max: std::time::Duration::ZERO,
            max_bytes: usize::MAX,
            over_limit: false,
            grace_until: 0,
        }
    }

    /// Whether the VM should collect before its next allocation.
    #[inline]
    pub(crate) fn should_collect(&mut self) -> bool {
        if self.held {
            return false;
        }
        match self.stress {
            GcStress::Off => self.bytes_allocated > self.next_gc,
            GcStress::Every(n) => {
                self.allocations_since_gc += 1;
                self.allocations_since_gc >= n || self.bytes_allocated > self.next_gc
            }
        }
    }

    /// Holds off (or allows again) collections, for phases whose new objects are
    /// not yet reachable from any root (loading).
    pub(crate) fn hold_collections(&mut self, held: bool) {
        self.held = held;
    }

    /// The live size past which the interpreter raises `Out of memory.`: the
    /// limit, or the grace granted after the last such error.
    #[inline]
    pub(crate) fn limit(&self) -> usize {
        self.max_bytes.max(self.grace_until)
    }

    /// Records that `Out of memory.` was just raised (see `grace_until`).
    pub(crate) fn grant_grace(&mut self) {
        self.grace_until = self.bytes_allocated.saturating_add(self.max_bytes / 8);
        self.over_limit = false;
    }

    /// Links a freshly boxed object into the heap and returns its header.
    pub(crate) fn insert<T>(&mut self, object: T, extra_bytes: usize) -> *mut T {
        let ptr = Box::into_raw(Box::new(object));
        let header = ptr as *mut Header;
        // SAFETY: every object type starts with a `Header` (`#[repr(C)]`, first
        // field), and `ptr` is a fresh, uniquely owned allocation.
        unsafe { (*header).next = self.objects };
        self.objects = header;
        self.bytes_allocated += size_of::<T>() + extra_bytes;
        self.peak_bytes = self.peak_bytes.max(self.bytes_allocated);
        ptr
    }

    /// Finds an interned string with this text, if one exists.
    pub(crate) fn find_interned(&self, text: &str, hash: u32) -> Option<*mut ObjString> {
        self.strings
            .find(table_hash(hash), |&candidate| {
                // SAFETY: the intern table only holds live strings: sweep removes
                // entries before freeing them.
                unsafe { &*(*candidate).text == text }
            })
            .copied()
    }

    /// Adds a freshly allocated string to the intern table.
    pub(crate) fn intern(&mut self, string: *mut ObjString) {
        // SAFETY: `string` was just allocated and is live.
        let hash = unsafe { (*string).hash };
        self.strings.insert_unique(table_hash(hash), string, |&s| {
            // SAFETY: as in `find_interned`.
            table_hash(unsafe { (*s).hash })
        });
    }

    #[inline]
    pub(crate) fn mark_value(&mut self, value: Value) {
        if value.is_object() {
            self.mark_object(value.as_object());
        }
    }

    #[inline]
    pub(crate) fn mark_object(&mut self, object: *mut Header) {
        // SAFETY: callers pass pointers to live objects (roots or fields of live
        // objects); marking only flips the mark bit.
        unsafe {
            if (*object).marked {
                return;
            }
            (*object).marked = true;
        }
        self.gray.push(object);
    }

    /// Drains the worklist, marking everything reachable from what is on it.
    pub(crate) fn trace(&mut self) {
        while let Some(object) = self.gray.pop() {
            // SAFETY: only live, marked objects are pushed on the worklist, and each
            // cast below matches the kind recorded in the header.
            unsafe {
                match (*object).kind {
                    ObjKind::String => {}
                    ObjKind::Upvalue => {
                        let upvalue = object as *mut ObjUpvalue;
                        self.mark_value(*(*upvalue).location);
                    }
                    ObjKind::Closure => {
                        let closure = &*(object as *mut ObjClosure);
                        self.mark_object((*closure.proto).name as *mut Header);
                        for &upvalue in closure.upvalues.iter() {
                            self.mark_object(upvalue as *mut Header);
                        }
                    }
                    ObjKind::Class => {
                        let class = &*(object as *mut ObjClass);
                        self.mark_object(class.name as *mut Header);
                        self.mark_value(class.initializer);
                        for (key, &method) in class.methods.iter() {
                            self.mark_object(key.0 as *mut Header);
                            self.mark_value(method);
                        }
                    }
                    ObjKind::Instance => {
                        let instance = &*(object as *mut ObjInstance);
                        self.mark_object(instance.class as *mut Header);
                        for (key, &field) in instance.fields.iter() {
                            self.mark_object(key.0 as *mut Header);
                            self.mark_value(field);
                        }
                    }
                    ObjKind::BoundMethod => {
                        let bound = &*(object as *mut ObjBoundMethod);
                        self.mark_value(bound.receiver);
                        self.mark_value(bound.method);
                    }
                    ObjKind::Native => {
                        let native = &*(object as *mut ObjNative);
                        self.mark_object(native.name as *mut Header);
                    }
                    ObjKind::List => {
                        let list = &*(object as *mut ObjList);
                        for &item in list.items.iter() {
                            self.mark_value(item);
                        }
                    }
                    ObjKind::Map => {
                        let map = &*(object as *mut ObjMap);
                        for (key, value) in map.map.iter() {
                            self.mark_value(key);
                            self.mark_value(value);
                        }
                    }
                    ObjKind::Module => {
                        let module = &*(object as *mut ObjModule);
                        self.mark_object(module.name as *mut Header);
                        for key in module.slots.keys() {
                            self.mark_object(key.0 as *mut Header);
                        }
                        for (key, &value) in module.values.iter() {
                            self.mark_object(key.0 as *mut Header);
                            self.mark_value(value);
                        }
                    }
                }
            }
        }
    }

    /// Frees every unmarked object and clears the marks of the survivors. The
    /// intern table is weak: its unmarked strings are dropped first.
    pub(crate) fn sweep(&mut self) {
        self.strings.retain(|&mut string| {
            // SAFETY: the table holds live strings; we read the mark before any free.
            unsafe { (*string).header.marked }
        });
        let mut previous: *mut Header = std::ptr::null_mut();
        let mut object = self.objects;
        while !object.is_null() {
            // SAFETY: `object` walks the heap's own list of live allocations; an
            // unlinked object is freed exactly once, through the type its kind names.
            unsafe {
                let next = (*object).next;
                if (*object).marked {
                    (*object).marked = false;
                    previous = object;
                } else {
                    if previous.is_null() {
                        self.objects = next;
                    } else {
                        (*previous).next = next;
                    }
                    self.bytes_allocated = self.bytes_allocated.saturating_sub(free_object(object));
                }
                object = next;
            }
        }
        self.collections += 1;
        self.allocations_since_gc = 0;
        // Collect again once the heap has grown by half of what survived: a
        // factor of two (Lua's default pause) measured 25% more peak memory on
        // binary_trees for little speed. Never pass the limit, either.
        // Close to the limit that would mean collecting at every allocation, so
        // keep at least an eighth of the limit as headroom; the interpreter's
        // heap check then reports the overrun at its next call or loop.
        let live = self.bytes_allocated;
        if live <= self.max_bytes {
            self.grace_until = 0;
        }
        self.over_limit = live > self.limit();
        let headroom = (self.max_bytes / 8).max(INITIAL_THRESHOLD);
        let target = (live + live / 2).max(INITIAL_THRESHOLD);
        self.next_gc = if target <= self.max_bytes {
            target
        } else {
            self.max_bytes.max(live.saturating_add(headroom))
        };
    }
}

/// The bytes an object was accounted for, by kind.
///
/// # Safety
/// `object` must be a live object whose header kind matches its allocation.
unsafe fn accounted_size(object: *mut Header) -> usize {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match (*object).kind {
            ObjKind::String => size_of::<ObjString>() + (&*(object as *mut ObjString)).text.len(),
            ObjKind::Closure => {
                size_of::<ObjClosure>()
                    + (&*(object as *mut ObjClosure)).upvalues.len() * size_of::<usize>()
            }
            ObjKind::Upvalue => size_of::<ObjUpvalue>(),
            ObjKind::Class => {
                size_of::<ObjClass>()
                    + (*(object as *mut ObjClass)).methods.len() * TABLE_ENTRY_BYTES
            }
            ObjKind::Instance => {
                size_of::<ObjInstance>()
                    + (*(object as *mut ObjInstance)).fields.len() * TABLE_ENTRY_BYTES
            }
            ObjKind::BoundMethod => size_of::<ObjBoundMethod>(),
            ObjKind::Native => size_of::<ObjNative>(),
            ObjKind::List => {
                size_of::<ObjList>()
                    + (&*(object as *mut ObjList)).items.capacity() * size_of::<Value>()
            }
            ObjKind::Map => size_of::<ObjMap>() + (&*(object as *mut ObjMap)).map.accounted_bytes(),
            ObjKind::Module => {
                let module = &*(object as *mut ObjModule);
                size_of::<ObjModule>()
                    + (module.slots.len() + module.values.len()) * TABLE_ENTRY_BYTES
            }
        }
    }
}

/// Frees one object and returns the bytes it was accounted for.
///
/// # Safety
/// `object` must be unlinked from the heap, unreachable, and not freed before.
unsafe fn free_object(object: *mut Header) -> usize {
    // SAFETY: guaranteed by the caller; each Box::from_raw uses the type the
    // object was allocated as (the header kind is set at allocation and never
    // changes).
    unsafe {
        let size = accounted_size(object);
        match (*object).kind {
            ObjKind::String => drop(Box::from_raw(object as *mut ObjString)),
            ObjKind::Closure => drop(Box::from_raw(object as *mut ObjClosure)),
            ObjKind::Upvalue => drop(Box::from_raw(object as *mut ObjUpvalue)),
            ObjKind::Class => drop(Box::from_raw(object as *mut ObjClass)),
            ObjKind::Instance => drop(Box::from_raw(object as *mut ObjInstance)),
            ObjKind::BoundMethod => drop(Box::from_raw(object as *mut ObjBoundMethod)),
            ObjKind::Native => drop(Box::from_raw(object as *mut ObjNative)),
            ObjKind::List => drop(Box::from_raw(object as *mut ObjList)),
            ObjKind::Map => drop(Box::from_raw(object as *mut ObjMap)),
            ObjKind::Module => drop(Box::from_raw(object as *mut ObjModule)),
        }
        size
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        let mut object = self.objects;
        while !object.is_null() {
            // SAFETY: the heap is going away with everything it owns; each object is
            // visited once and freed through its own type.
            unsafe {
                let next = (*object).next;
                free_object(object);
                object = next;
            }
        }
    }
}
