//! The virtual machine: a loaded program plus everything that executes it (value
//! stack, frames, globals, heap), and the operations shared by the dispatch loop
//! and the natives: allocation, interning, upvalue capture, error building.

use crate::error::{LoadError, RuntimeError, RuntimeErrorKind, TraceLine};
use crate::heap::{GcStress, Heap};
use crate::object::*;
use crate::stack::Stack;
use crate::value::Value;
use crate::verify::verify;
use pvm_bytecode::{Constant, Instr, Program};
use std::cell::Cell;
use std::io::Write;

/// A function implemented in Rust that programs can call as a global.
#[derive(Clone, Copy)]
pub struct NativeDef {
    pub name: &'static str,
    pub arity: Option<u8>,
    pub function: NativeFn,
}

/// A member of a native module.
#[derive(Clone, Copy)]
pub enum NativeMember {
    Function(NativeDef),
    Number(&'static str, f64),
}

/// A standard-library module implemented in Rust (`import "math";`).
#[derive(Clone, Copy)]
pub struct NativeModuleDef {
    pub name: &'static str,
    pub members: &'static [NativeMember],
}

/// Everything a host offers programs beyond the language itself: native globals
/// (bound to the global slots of the same name) and native modules.
#[derive(Clone, Copy, Default)]
pub struct Library {
    pub globals: &'static [NativeDef],
    pub modules: &'static [NativeModuleDef],
}

/// What a program may touch outside the VM. Everything is denied by default;
/// standard input, output and error are always open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    /// `None`: no reading. `Some(empty)`: read anything. Otherwise only under these.
    pub read: Option<Vec<std::path::PathBuf>>,
    /// Same for writing.
    pub write: Option<Vec<std::path::PathBuf>>,
    /// Reading environment variables.
    pub env: bool,
}

/// Knobs a host sets before running a program.
#[derive(Clone, Debug)]
pub struct Options {
    pub gc_stress: GcStress,
    /// Deepest call nesting before `Stack overflow.`
    pub max_call_depth: usize,
    /// Backward jumps plus calls a program may make; `None` is unlimited.
    pub instruction_budget: Option<u64>,
    /// The strings `args()` returns: what followed the program on the command line.
    pub program_args: Vec<String>,
    /// Heap bytes the program may keep alive before `Out of memory.`
    pub max_heap: usize,
    pub permissions: Permissions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gc_stress: GcStress::Off,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            instruction_budget: None,
            program_args: Vec::new(),
            max_heap: DEFAULT_MAX_HEAP,
            permissions: Permissions::default(),
        }
    }
}

/// Default heap limit: 2 GiB of live objects, well below the memory of the
/// machines pvm targets, so runaway growth ends in a catchable error instead of
/// the OOM killer.
pub const DEFAULT_MAX_HEAP: usize = 2 << 30;

/// The longest string pvm builds (1 GiB): past it, concatenation and the
/// string methods raise an error instead of asking the allocator for more.
pub const MAX_STRING_BYTES: usize = 1 << 30;

/// Default call-depth limit. Frames live on the VM's own stack, not Rust's, so
/// this is about catching runaway recursion, not protecting the host.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 100_000;

/// Value-stack slots reserved up front (8 bytes each, mapped lazily by the OS).
const STACK_SLOTS: usize = 1 << 22;

/// How deeply natives may call back into Lox (`sort(fn)` inside a callback inside
/// …). Each level nests the interpreter on the Rust stack, so this bound is what
/// keeps callbacks from overflowing it; past it, the call is a `Stack overflow.`
pub(crate) const MAX_NATIVE_DEPTH: usize = 200;

/// An installed exception handler (`try`).
#[derive(Clone, Copy)]
pub(crate) struct Handler {
    /// `frames.len()` of the frame that installed it.
    pub frame_depth: usize,
    /// Absolute stack slot that receives the thrown value.
    pub catch_slot: usize,
    /// Where the frame continues.
    pub target_pc: usize,
}

/// A bundled source module, as loaded.
pub(crate) struct ModuleInfo {
    pub name: *mut ObjString,
    pub function: usize,
    pub exports: Vec<(*mut ObjString, u32)>,
    /// The module object once created (`Value::EMPTY` before).
    pub object: Value,
    /// Whether its top-level code has started.
    pub started: bool,
}

/// A call frame: which closure runs, where its registers start, where it is.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub closure: *mut ObjClosure,
    /// The next instruction to run, inside the closure's code (saved when the frame
    /// is not on top). A pointer, not an index: calls save it and returns restore it,
    /// so it is kept in the form the dispatch loop uses.
    pub pc: *const Instr,
    /// Stack index of the frame's R0.
    pub base: usize,
}

impl Frame {
    /// A frame about to run `closure` from its first instruction.
    pub fn entering(closure: *mut ObjClosure, base: usize) -> Frame {
        // SAFETY: closures always point at a proto owned by the VM.
        let pc = unsafe { (*(*closure).proto).code.as_ptr() };
        Frame { closure, pc, base }
    }

    /// Index of the next instruction to run in the closure's code.
    pub fn pc_index(&self) -> usize {
        // SAFETY: `pc` points into (or one past the end of) the code of the frame's
        // closure, which lives as long as the VM.
        unsafe { self.pc.offset_from((*(*self.closure).proto).code.as_ptr()) as usize }
    }

    /// Moves the frame to instruction `index` of its code.
    pub fn jump_to(&mut self, index: usize) {
        // SAFETY: callers pass indices the verifier proved inside the code.
        self.pc = unsafe { (*(*self.closure).proto).code.as_ptr().add(index) };
    }
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
    pub(crate) handlers: Vec<Handler>,
    pub(crate) modules: Vec<ModuleInfo>,
    pub(crate) library: Library,
    /// Module objects of `library.modules`, created on first import.
    pub(crate) native_modules: Vec<Value>,
    pub(crate) list_methods: Table,
    pub(crate) map_methods: Table,
    pub(crate) string_methods: Table,
    /// The built-in `Error` class, whose instances carry the VM's own errors.
    pub(crate) error_class: Value,
    pub(crate) message_string: *mut ObjString,
    /// The exception being propagated across a native boundary (rooted).
    pub(crate) in_flight: Value,
    /// The exception that escaped an interpreter entry uncaught, with the error
    /// built where it was raised (rooted). If no outer handler catches it, that
    /// error is the one reported: the place and trace inside a callback, not the
    /// call of the native that ran it.
    pub(crate) escaped: Option<(Value, RuntimeError)>,
    pub(crate) native_depth: usize,
    extensions: Vec<Box<dyn std::any::Any>>,
}

impl Vm {
    /// Verifies `program` and prepares it to run. `map` comes from decoding, so
    /// that verifier errors can name a byte offset. The program is taken by value:
    /// its code and tables move into the VM instead of being copied at start-up.
    pub fn load(
        mut program: Program,
        map: &pvm_bytecode::ByteMap,
        library: &Library,
        options: Options,
        out: Box<dyn Write>,
    ) -> Result<Vm, LoadError> {
        verify(&program).map_err(|error| LoadError {
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
            files: std::mem::take(&mut program.files),
            entry: program.entry as usize,
            init_string: std::ptr::null_mut(),
            budget: options.instruction_budget.unwrap_or(u64::MAX),
            options,
            out,
            temp_roots: Vec::new(),
            handlers: Vec::new(),
            modules: Vec::new(),
            library: *library,
            native_modules: vec![Value::EMPTY; library.modules.len()],
            list_methods: Table::default(),
            map_methods: Table::default(),
            string_methods: Table::default(),
            error_class: Value::NIL,
            message_string: std::ptr::null_mut(),
            in_flight: Value::NIL,
            escaped: None,
            native_depth: 0,
            extensions: Vec::new(),
        };
        // Nothing is rooted yet, and everything allocated here must survive, so
        // loading runs with the collector held off until the roots are in place.
        vm.heap.max_bytes = vm.options.max_heap;
        vm.heap.hold_collections(true);
        vm.init_string = vm.intern("init");
        vm.message_string = vm.intern("message");
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
            .iter_mut()
            .enumerate()
            .map(|(index, function)| Proto {
                name: vm.constants[function.name as usize].as_object() as *mut ObjString,
                file: function.file,
                arity: function.arity,
                num_regs: function.num_regs,
                upvalues: std::mem::take(&mut function.upvalues).into_boxed_slice(),
                hints: (0..function.code.len()).map(|_| Cell::new(0)).collect(),
                code: std::mem::take(&mut function.code).into_boxed_slice(),
                lines: std::mem::take(&mut function.lines).into_boxed_slice(),
                index: index as u32,
            })
            .collect();
        vm.protos = protos.into_boxed_slice();
        for module in &program.modules {
            let name = vm.constants[module.name as usize].as_object() as *mut ObjString;
            let exports = module
                .exports
                .iter()
                .map(|e| {
                    (
                        vm.constants[e.name as usize].as_object() as *mut ObjString,
                        e.slot,
                    )
                })
                .collect();
            vm.modules.push(ModuleInfo {
                name,
                function: module.function as usize,
                exports,
                object: Value::EMPTY,
                started: false,
            });
        }
        crate::builtins::install(&mut vm);
        for native in library.globals {
            let value = vm.native_value(native, false);
            vm.bind_global(native.name, value);
        }
        vm.heap.hold_collections(false);
        Ok(vm)
    }

    /// A native function object for `def`.
    pub(crate) fn native_value(&mut self, def: &NativeDef, is_method: bool) -> Value {
        let name = self.intern(def.name);
        // The intern table is weak: until the native holds it, the fresh name is
        // reachable from nothing, and the collection below would free it.
        self.temp_roots.push(Value::object(name as *mut Header));
        self.maybe_collect();
        self.temp_roots.pop();
        let object = self.heap.insert(
            ObjNative {
                header: Header::new(ObjKind::Native),
                name,
                arity: def.arity,
                is_method,
                function: def.function,
            },
            0,
        );
        Value::object(object as *mut Header)
    }

    /// Stores `value` in every global slot named `name` (each module has its own
    /// slots, and built-ins are visible in all of them).
    pub(crate) fn bind_global(&mut self, name: &str, value: Value) {
        let name = self.intern(name);
        for slot in 0..self.global_names.len() {
            if self.global_names[slot] == name {
                self.globals[slot] = value;
            }
        }
    }

    /// Per-VM state of type `T` for natives (created with `Default` on first use),
    /// so libraries keep state such as a random generator without globals.
    pub fn extension<T: Default + 'static>(&mut self) -> &mut T {
        let position = self.extensions.iter().position(|e| e.is::<T>());
        let index = match position {
            Some(index) => index,
            None => {
                self.extensions.push(Box::new(T::default()));
                self.extensions.len() - 1
            }
        };
        self.extensions[index]
            .downcast_mut::<T>()
            .expect("the entry at index has type T")
    }

    /// Makes sure `bytes` more can be allocated within the heap limit, collecting
    /// first if that helps. Natives call it before building something large.
    pub fn reserve(&mut self, bytes: usize) -> Result<(), crate::NativeError> {
        if self.heap.bytes_allocated.saturating_add(bytes) <= self.heap.limit() {
            return Ok(());
        }
        self.collect_garbage();
        if self.heap.bytes_allocated.saturating_add(bytes) <= self.heap.limit() {
            return Ok(());
        }
        Err(crate::NativeError::Error(self.out_of_memory_message()))
    }

    /// Refuses to build a string of `bytes` bytes past [`MAX_STRING_BYTES`] or
    /// the heap limit; `what` names the operation in the message.
    pub fn check_string_size(
        &mut self,
        bytes: usize,
        what: &str,
    ) -> Result<(), crate::NativeError> {
        if bytes > MAX_STRING_BYTES {
            return Err(crate::NativeError::Error(format!(
                "{what} would build a string of {bytes} bytes (limit {MAX_STRING_BYTES})."
            )));
        }
        self.reserve(bytes)
    }

    /// Whether the heap is over its limit even after a full collection.
    #[cold]
    pub(crate) fn heap_exhausted(&mut self) -> bool {
        self.collect_garbage();
        self.heap.bytes_allocated > self.heap.limit()
    }

    pub(crate) fn out_of_memory_message(&self) -> String {
        format!(
            "Out of memory: the heap limit of {} bytes is exhausted.",
            self.heap.max_bytes
        )
    }

    /// Keeps `value` alive across allocations while a native holds it only in a
    /// Rust local. Pair with [`Vm::pop_temp_root`].
    pub fn push_temp_root(&mut self, value: Value) {
        self.temp_roots.push(value);
    }

    pub fn pop_temp_root(&mut self) {
        self.temp_roots.pop();
    }

    /// The error a native returns to end the program with `code` (`os.exit`).
    /// It unwinds every frame; programs cannot catch it.
    pub fn exit_request(&self, code: i32) -> crate::NativeError {
        crate::NativeError::Propagate(
            self.error_of_kind(RuntimeErrorKind::Exit(code), format!("exit({code})")),
        )
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Flushes program output (natives call it before reading input or writing to
    /// standard error, so text appears in the order the program produced it).
    pub fn flush_output(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Writes text to program output.
    pub fn write_output(&mut self, text: &str) -> std::io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    /// Runs the program's top-level code to completion.
    pub fn run(&mut self) -> Result<(), RuntimeError> {
        let entry = &self.protos[self.entry] as *const Proto;
        let closure = self.alloc_closure(entry, Box::new([]));
        // SAFETY: slot 0 exists (the stack has at least one slot).
        unsafe { *self.stack.slot(0) = Value::object(closure as *mut Header) };
        self.frames.push(Frame::entering(closure, 0));
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

    /// Time spent in collections: (total, longest single pause).
    pub fn gc_pauses(&self) -> (std::time::Duration, std::time::Duration) {
        (self.heap.pause_total, self.heap.pause_max)
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
                chars: text.chars().count(),
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
                let (line, column) = proto.position(frame.pc_index().saturating_sub(1));
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

    /// Equality as `==` sees it (and `contains`, `indexOf`).
    pub fn values_equal(&self, a: Value, b: Value) -> bool {
        a.equals(b)
    }
}
