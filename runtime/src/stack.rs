//! The value stack that holds every frame's registers.
//!
//! It is reserved once at its full size and never moves, so open upvalues and the
//! interpreter's cached frame base can point straight into it. The memory comes
//! from a zeroed allocation: the OS maps pages lazily, so an unused deep stack
//! costs address space, not RAM, and all-zero bits are the number 0, a valid value
//! that holds no pointer.

use crate::value::Value;
use std::alloc::{alloc_zeroed, dealloc, Layout};

pub struct Stack {
    slots: *mut Value,
    capacity: usize,
}

impl Stack {
    /// Reserves `capacity` slots. Aborts like any Rust allocation if the address
    /// space is not available.
    pub fn new(capacity: usize) -> Stack {
        let capacity = capacity.max(1);
        let layout = Self::layout(capacity);
        // SAFETY: the layout has non-zero size (capacity >= 1).
        let slots = unsafe { alloc_zeroed(layout) } as *mut Value;
        if slots.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Stack { slots, capacity }
    }

    fn layout(capacity: usize) -> Layout {
        Layout::array::<Value>(capacity).expect("stack size is bounded by the VM's limits")
    }

    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Pointer to slot `index`. Callers keep `index <= capacity`.
    #[inline(always)]
    pub fn slot(&self, index: usize) -> *mut Value {
        debug_assert!(index <= self.capacity);
        // SAFETY: index is within (or one past) the allocation, per the contract.
        unsafe { self.slots.add(index) }
    }

    /// The index of a slot pointer obtained from [`Stack::slot`].
    #[inline(always)]
    pub fn index_of(&self, slot: *const Value) -> usize {
        // SAFETY: both pointers are into the same allocation.
        unsafe { slot.offset_from(self.slots) as usize }
    }

    /// The slots `from..to` as a slice. Callers keep `from <= to <= capacity`.
    pub fn range(&self, from: usize, to: usize) -> &[Value] {
        assert!(from <= to && to <= self.capacity);
        // SAFETY: the range is inside the allocation, which is fully initialised.
        unsafe { std::slice::from_raw_parts(self.slots.add(from), to - from) }
    }

    /// Sets slots `from..to` to nil.
    pub fn clear(&mut self, from: usize, to: usize) {
        let to = to.min(self.capacity);
        for index in from..to {
            // SAFETY: index < capacity.
            unsafe { *self.slots.add(index) = Value::NIL };
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with the same layout, freed once.
        unsafe { dealloc(self.slots as *mut u8, Self::layout(self.capacity)) };
    }
}
