//! The virtual machine: a loaded program plus everything that executes it (value
//! stack, frames, globals, heap), and the operations shared by the dispatch loop
//! and the natives: allocation, interning, upvalue capture, error building.

use crate::error::{LoadError, NativeError, RuntimeError, RuntimeErrorKind, TraceLine};
use crate::heap::{GcStress, Heap};
use crate::object::*;
use crate::stack::Stack;
use crate::value::Value;
use crate::verify::verify;
use pvm_bytecode::{Constant, Program};
use std::io::Write;

/// A function implemented in Rust that programs can call as a global.
#[derive(Clone, Copy)]
pub struct NativeDef {
    pub name: &'static str,
    pub arity: Option<u8>,
    pub function: NativeFn,
}

/// Knobs a host sets before running a program.
#[derive(Clone, Debug)]
pub struct Options {
    pub gc_stress: GcStress,
    /// Deepest call nesting before `Stack overflow.`
    pub max_call_depth: usize,
    /// Backward jumps plus calls a program may make; `None` is unlimited.
    pub instruction_budget: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gc_stress: GcStress::Off,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            instruction_budget: None,
        }
    }
}

/// Default call-depth limit. Frames live on the VM's own stack, not Rust's, so
/// this is about catching runaway recursion, not protecting the host.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 100_000;

/// Value-stack slots reserved up front (8 bytes each, mapped lazily by the OS).
const STACK_SLOTS: usize = 1 << 22;

/// A call frame: which closure runs, where its registers start, where it is.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub closure: *mut ObjClosure,
    /// Index of the next instruction to run (saved when the frame is not on top).
    pub pc: usize,
    /// Stack index of the frame's R0.
    pub base: usize,
}

/// Marker for globals that were never defined; never visible to programs.
pub(crate) const UNDEFINED: Value = Value::EMPTY;

pub struct Vm {
    pub(crate) heap: Heap,
    pub(crate) stack: Stack,
    pub(crate) frames: Vec<Frame>,
    /// One past the highest live register of the top frame; the GC scans below it.
    pub(crate) stack_top: usize,
    /// Highest `stack_top` since the last collection; slots between the two are
    /// cleared by the GC so that no stale pointer survives above the live area.
    pub(crate) stack_high_water: usize,
    pub(crate) open_upvalues: *mut ObjUpvalue,
    pub(crate) globals: Vec<Value>,
    pub(crate) global_names: Vec<*mut ObjString>,
    pub(crate) constants: Vec<Value>,
    /// Never resized after loading: closures hold pointers into it.
    pub(crate) protos: Box<[Proto]>,
    pub(crate) files: Vec<String>,
    pub(crate) entry: usize,
    pub(crate) init_string: *mut ObjString,
    pub(crate) options: Options,
    pub(crate) budget: u64,
    pub(crate) out: Box<dyn Write>,
    /// Values a native holds in Rust locals across an allocation.
    pub(crate) temp_roots: Vec<Value>,
}

impl Vm {
    /// Verifies `program` and prepares it to run. `bytes` and `map` come from
    /// decoding, so that verifier errors can name a byte offset.
    pub fn load(
        program: &Program,
        map: &pvm_bytecode::ByteMap,
        natives: &[NativeDef],
        options: Options,
        out: Box<dyn Write>,
    ) -> Result<Vm, LoadError> {
        verify(program).map_err(|error| LoadError {
            offset: map.offset(error.location),
            problem: error.problem,
        })?;
        let mut vm = Vm {
            heap: Heap::new(options.gc_stress),
            stack: Stack::new(STACK_SLOTS),
            frames: Vec::new(),
            stack_top: 0,
            stack_high_water: 0,
            open_upvalues: std::ptr::null_mut(),
            globals: vec![UNDEFINED; program.globals.len()],
            global_names: Vec::with_capacity(program.globals.len()),
            constants: Vec::with_capacity(program.constants.len()),
            protos: Box::new([]),
            files: program.files.clone(),
            entry: program.entry as usize,
            init_string: std::ptr::null_mut(),
            budget: options.instruction_budget.unwrap_or(u64::MAX),
            options,
            out,
            temp_roots: Vec::new(),
        };
        // Nothing is rooted yet, and everything allocated here must survive, so
        // loading runs with the collector held off until the roots are in place.
        vm.heap.hold_collections(true);
        vm.init_string = vm.intern("init");
        for constant in &program.constants {
            let value = match constant {
                Constant::Number(n) => Value::number(*n),
                Constant::String(text) => Value::object(vm.intern(text) as *mut Header),
            };
            vm.constants.push(value);
        }
        for &name in &program.globals {
            let name = vm.constants[name as usize].as_object() as *mut ObjString;
            vm.global_names.push(name);
        }
        let protos: Vec<Proto> = program
            .functions
            .iter()
            .enumerate()
            .map(|(index, function)| Proto {
                name: vm.constants[function.name as usize].as_object() as *mut ObjString,
                file: function.file,
                arity: function.arity,
                num_regs: function.num_regs,
                upvalues: function.upvalues.clone().into_boxed_slice(),
                code: function.code.clone().into_boxed_slice(),
                lines: function.lines.clone().into_boxed_slice(),
                index: index as u32,
            })
            .collect();
        vm.protos = protos.into_boxed_slice();
        for native in natives {
            let name = vm.intern(native.name);
            let Some(slot) = vm.global_names.iter().position(|&n| n == name) else {
                continue;
            };
            let object = vm.heap.insert(
                ObjNative {
                    header: Header::new(ObjKind::Native),
                    name,
                    arity: native.arity,
                    function: native.function,
                },
                0,
            );
            vm.globals[slot] = Value::object(object as *mut Header);
        }
        vm.heap.hold_collections(false);
        Ok(vm)
    }

    /// Runs the program's top-level code to completion.
    pub fn run(&mut self) -> Result<(), RuntimeError> {
        let entry = &self.protos[self.entry] as *const Proto;
        let closure = self.alloc_closure(entry, Box::new([]));
        // SAFETY: slot 0 exists (the stack has at least one slot).
        unsafe { *self.stack.slot(0) = Value::object(closure as *mut Header) };
        self.frames.push(Frame {
            closure,
            pc: 0,
            base: 0,
        });
        // SAFETY: the entry proto was verified and has num_regs >= 1.
        self.stack_top = usize::from(unsafe { (*entry).num_regs });
        let result = self.execute(0);
        let flushed = self.out.flush();
        result?;
        flushed.map_err(|error| self.output_error(error))
    }

    /// Collections so far (for tests and the GC benchmarks).
    pub fn collections(&self) -> u64 {
        self.heap.collections
    }

    /// The most bytes the heap has accounted for at once.
    pub fn peak_heap_bytes(&self) -> usize {
        self.heap.peak_bytes
    }

    /// Bytes the heap currently accounts for.
    pub fn heap_bytes(&self) -> usize {
        self.heap.bytes_allocated
    }

    /// Returns the interned string with this text, allocating it if new.
    pub fn intern(&mut self, text: &str) -> *mut ObjString {
        let hash = hash_str(text);
        if let Some(existing) = self.heap.find_interned(text, hash) {
            return existing;
        }
        self.maybe_collect();
        let string = self.heap.insert(
            ObjString {
                header: Header::new(ObjKind::String),
                hash,
                text: text.into(),
            },
            text.len(),
        );
        self.heap.intern(string);
        string
    }

    /// A string value for `text` (interned).
    pub fn string_value(&mut self, text: &str) -> Value {
        Value::object(self.intern(text) as *mut Header)
    }

    #[inline]
    pub(crate) fn maybe_collect(&mut self) {
        if self.heap.should_collect() {
            self.collect_garbage();
        }
    }

    pub(crate) fn alloc_closure(
        &mut self,
        proto: *const Proto,
        upvalues: Box<[*mut ObjUpvalue]>,
    ) -> *mut ObjClosure {
        self.maybe_collect();
        let extra = upvalues.len() * std::mem::size_of::<usize>();
        self.heap.insert(
            ObjClosure {
                header: Header::new(ObjKind::Closure),
                proto,
                upvalues,
            },
            extra,
        )
    }

    /// Finds or creates the open upvalue for stack slot `location`. The open list
    /// is sorted by slot, highest first, so the search stops early.
    pub(crate) fn capture_upvalue(&mut self, location: *mut Value) -> *mut ObjUpvalue {
        let mut previous: *mut ObjUpvalue = std::ptr::null_mut();
        let mut current = self.open_upvalues;
        // SAFETY: the open list only holds live upvalues whose locations are stack
        // slots of live frames.
        unsafe {
            while !current.is_null() && (*current).location > location {
                previous = current;
                current = (*current).next_open;
            }
            if !current.is_null() && (*current).location == location {
                return current;
            }
        }
        self.maybe_collect();
        let created = self.heap.insert(
            ObjUpvalue {
                header: Header::new(ObjKind::Upvalue),
                location,
                closed: Value::NIL,
                next_open: current,
            },
            0,
        );
        if previous.is_null() {
            self.open_upvalues = created;
        } else {
            // SAFETY: `previous` is a live open upvalue found above.
            unsafe { (*previous).next_open = created };
        }
        created
    }

    /// Closes every open upvalue pointing at `from` or above: the value moves into
    /// the upvalue, which then points at its own copy.
    pub(crate) fn close_upvalues(&mut self, from: *mut Value) {
        // SAFETY: as in `capture_upvalue`; `closed` lives inside the upvalue object,
        // which the GC never moves.
        unsafe {
            while !self.open_upvalues.is_null() && (*self.open_upvalues).location >= from {
                let upvalue = self.open_upvalues;
                (*upvalue).closed = *(*upvalue).location;
                (*upvalue).location = &mut (*upvalue).closed;
                self.open_upvalues = (*upvalue).next_open;
            }
        }
    }

    /// Builds a runtime error with the current stack trace. The top frame's `pc`
    /// must have been saved by the caller.
    #[cold]
    pub(crate) fn error(&self, message: String) -> RuntimeError {
        self.error_of_kind(RuntimeErrorKind::Error, message)
    }

    #[cold]
    pub(crate) fn error_of_kind(&self, kind: RuntimeErrorKind, message: String) -> RuntimeError {
        let trace = self
            .frames
            .iter()
            .rev()
            .map(|frame| {
                // SAFETY: frames hold live closures whose protos belong to `self.protos`.
                let proto = unsafe { &*(*frame.closure).proto };
                // `pc` already points past the instruction that was executing.
                let (line, column) = proto.position(frame.pc.saturating_sub(1));
                TraceLine {
                    // SAFETY: proto names are interned constants, rooted for the VM's life.
                    function: unsafe { (*proto.name).text.to_string() },
                    file: self
                        .files
                        .get(proto.file as usize)
                        .cloned()
                        .unwrap_or_default(),
                    line,
                    column,
                }
            })
            .collect();
        RuntimeError {
            kind,
            message,
            trace,
        }
    }

    #[cold]
    pub(crate) fn output_error(&self, error: std::io::Error) -> RuntimeError {
        self.error_of_kind(
            RuntimeErrorKind::Output(error.kind()),
            format!("cannot write to standard output: {error}"),
        )
    }

    /// Wraps a native's error with the stack trace.
    #[cold]
    pub(crate) fn native_error(&self, error: NativeError) -> RuntimeError {
        self.error(error.0)
    }
}
