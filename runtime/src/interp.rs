//! The dispatch loop: one `match` arm per instruction, registers addressed
//! straight off the cached frame base.
//!
//! The loop keeps the top frame's closure, pc and register base in
//! locals and writes the pc back to the frame only when something may look at it
//! (a call, an error, a collection via a native). Everything it indexes was
//! proven in range by the verifier, which is why the accesses are unchecked.

use crate::error::RuntimeErrorKind;
use crate::exceptions::Fault;
use crate::heap::TABLE_ENTRY_BYTES;
use crate::object::*;
use crate::value::Value;
use crate::vm::{Frame, Handler, Vm, UNDEFINED};
use crate::RuntimeError;
use pvm_bytecode::Instr;

/// What a call instruction did.
pub(crate) enum Called {
    /// A new frame is on top; the loop must switch to it.
    Frame,
    /// A native ran or an instance was built; its result is in the callee register.
    Done,
}

impl Vm {
    /// Runs from the top frame until the frame stack shrinks to `stop_depth`, and
    /// returns the value the last frame returned.
    // The negated comparisons (`!(x < y)`) are deliberate: with a NaN operand they
    // differ from the opposite comparison, and `jnlt` must mean exactly "not <".
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub(crate) fn execute(&mut self, stop_depth: usize) -> Result<Value, RuntimeError> {
        let mut closure: *mut ObjClosure;
        let mut pc: *const Instr;
        let mut base: *mut Value;

        // SAFETY: (for the whole loop) the verifier proved every register operand below the
        // running function's `num_regs`, every constant/global/upvalue/prototype
        // index in range and every jump target inside the function, and frames are
        // only pushed when `base + num_regs` fits in the stack. Object pointers come
        // from values whose kind was checked just before the cast, and objects are
        // only freed by a collection, which keeps everything reachable from the
        // registers, frames and globals the loop uses.
        unsafe {
            macro_rules! load_frame {
                () => {{
                    // `execute` runs with at least one frame above `stop_depth`, and
                    // returns before popping the last one it may use.
                    let frame = *self.frames.last().unwrap_unchecked();
                    closure = frame.closure;
                    pc = frame.pc;
                    base = self.stack.slot(frame.base);
                    frame.base
                }};
            }
            macro_rules! save_pc {
                () => {{
                    // As in `load_frame!`: the running frame is on top.
                    self.frames.last_mut().unwrap_unchecked().pc = pc;
                }};
            }
            // Index of the instruction being run (the one before `pc`).
            macro_rules! this_instr {
                () => {
                    pc.offset_from((*(*closure).proto).code.as_ptr()) as usize - 1
                };
            }
            // The inline cache of the instruction being run.
            macro_rules! hint {
                () => {
                    &*(*(*closure).proto).hints.as_ptr().add(this_instr!())
                };
            }
            macro_rules! reg {
                ($r:expr) => {
                    *base.add($r as usize)
                };
            }
            // Raises a catchable error: unwinds to a handler and carries on there,
            // or leaves `execute` when no handler above `stop_depth` takes it.
            macro_rules! fault {
                ($fault:expr) => {{
                    let fault = $fault;
                    save_pc!();
                    match self.handle_fault(fault, stop_depth) {
                        Ok(()) => {
                            load_frame!();
                            continue;
                        }
                        Err(error) => return Err(error),
                    }
                }};
            }
            macro_rules! throw {
                ($($arg:tt)*) => {
                    fault!(Fault::Message(format!($($arg)*)))
                };
            }
            macro_rules! spend_budget {
                () => {{
                    if self.budget == 0 {
                        save_pc!();
                        return Err(self.error_of_kind(
                            RuntimeErrorKind::BudgetExhausted,
                            "Instruction budget exhausted.".into(),
                        ));
                    }
                    self.budget -= 1;
                    // Calls and backward jumps are where a program can keep
                    // allocating, so this is where the heap limit is enforced.
                    // Container storage grows without allocating objects, so a
                    // list can pass the limit between collections: check here too.
                    // Under the limit nothing else needs a look (a collection only
                    // sets `over_limit` when it left more than the limit).
                    if self.heap.bytes_allocated > self.heap.limit()
                        && (self.heap.over_limit || self.heap_exhausted())
                    {
                        self.heap.grant_grace();
                        throw!("{}", self.out_of_memory_message());
                    }
                }};
            }
            macro_rules! arith {
                ($dst:expr, $a:expr, $b:expr, $op:tt) => {{
                    let (x, y) = (reg!($a), reg!($b));
                    if x.is_number() && y.is_number() {
                        reg!($dst) = Value::from_arith(x.as_number() $op y.as_number());
                    } else {
                        throw!("Operands must be numbers.");
                    }
                }};
            }
            macro_rules! compare {
                ($dst:expr, $a:expr, $b:expr, $op:tt) => {{
                    let (x, y) = (reg!($a), reg!($b));
                    if x.is_number() && y.is_number() {
                        reg!($dst) = Value::bool(x.as_number() $op y.as_number());
                    } else {
                        throw!("Operands must be numbers.");
                    }
                }};
            }
            macro_rules! arith_k {
                ($dst:expr, $a:expr, $k:expr, $op:tt) => {{
                    let x = reg!($a);
                    if x.is_number() {
                        let y = self.constants.get_unchecked($k as usize).as_number();
                        reg!($dst) = Value::from_arith(x.as_number() $op y);
                    } else {
                        throw!("Operands must be numbers.");
                    }
                }};
            }
            // A fused compare-and-branch: `$taken` says, from the comparison of
            // two numbers, whether to jump.
            macro_rules! jump_if {
                ($x:expr, $y:expr, $offset:expr, |$l:ident, $r:ident| $taken:expr) => {{
                    let (x, y) = ($x, $y);
                    if !(x.is_number() && y.is_number()) {
                        throw!("Operands must be numbers.");
                    }
                    let ($l, $r) = (x.as_number(), y.as_number());
                    if $taken {
                        let offset = $offset as isize;
                        if offset < 0 {
                            spend_budget!();
                        }
                        pc = pc.offset(offset);
                    }
                }};
            }
            // A counted loop's step and test: `addk a, a, step` then `jump_if!` on R[a]
            // and `$limit`, with the errors each of the two would raise.
            macro_rules! step_and_test {
                ($a:expr, $step:expr, $limit:expr, $offset:expr, |$l:ident, $r:ident| $taken:expr) => {{
                    let x = reg!($a);
                    if !x.is_number() {
                        throw!("Operands must be two numbers or two strings.");
                    }
                    let stepped = Value::from_arith(x.as_number() + number_k!($step).as_number());
                    reg!($a) = stepped;
                    jump_if!(stepped, $limit, $offset, |$l, $r| $taken)
                }};
            }
            macro_rules! jump_if_equal {
                ($x:expr, $y:expr, $offset:expr, $want:expr) => {{
                    if $x.equals($y) == $want {
                        let offset = $offset as isize;
                        if offset < 0 {
                            spend_budget!();
                        }
                        pc = pc.offset(offset);
                    }
                }};
            }
            macro_rules! number_k {
                ($k:expr) => {
                    *self.constants.get_unchecked($k as usize)
                };
            }
            // Ends the running frame. The callee's window began at the caller's
            // callee register, so R0 of the finished frame is where the result
            // belongs; the caller's state is then reloaded from its frame.
            macro_rules! return_value {
                ($result:expr) => {{
                    let result = $result;
                    let depth = self.frames.len();
                    if !self.handlers.is_empty() {
                        self.drop_frame_handlers(depth);
                    }
                    if !self.open_upvalues.is_null() {
                        self.close_upvalues(base);
                    }
                    self.frames.pop();
                    *base = result;
                    if depth - 1 <= stop_depth {
                        return Ok(result);
                    }
                    let caller_base = load_frame!();
                    self.stack_top = caller_base + usize::from((*(*closure).proto).num_regs);
                }};
            }
            macro_rules! call_outcome {
                ($result:expr) => {{
                    match $result {
                        Ok(Called::Frame) => {
                            load_frame!();
                        }
                        Ok(Called::Done) => {}
                        Err(fault) => fault!(fault),
                    }
                }};
            }
            macro_rules! maybe_fault {
                ($result:expr) => {{
                    match $result {
                        Ok(value) => value,
                        Err(fault) => fault!(fault),
                    }
                }};
            }

            // Makes `$target` the running frame, its window starting at R[$a], and
            // goes on with its first instruction, when the arity matches and the
            // frame fits (depth and stack); otherwise falls through, and the caller
            // takes the general path, which reports what is wrong.
            macro_rules! enter_closure {
                ($target:expr, $a:expr, $argc:expr) => {{
                    let target: *mut ObjClosure = $target;
                    let proto = &*(*target).proto;
                    let callee_slot = self.stack.index_of(base.add($a as usize));
                    let top = callee_slot + usize::from(proto.num_regs);
                    if proto.arity == $argc
                        && self.frames.len() < self.options.max_call_depth
                        && top <= self.stack.capacity()
                    {
                        self.frames.push(Frame {
                            closure: target,
                            pc: proto.code.as_ptr(),
                            base: callee_slot,
                        });
                        self.stack_top = top;
                        if top > self.stack_high_water {
                            self.stack_high_water = top;
                        }
                        closure = target;
                        pc = proto.code.as_ptr();
                        base = base.add($a as usize);
                        continue;
                    }
                }};
            }

            load_frame!();
            loop {
                let at = pc;
                pc = pc.add(1);
                // Matching on the place, not a copy, lets each arm load only the
                // operands it uses.
                match *at {
                    Instr::Move { dst, src } => reg!(dst) = reg!(src),

                    Instr::LoadConst { dst, k } => {
                        reg!(dst) = *self.constants.get_unchecked(k as usize)
                    }

                    Instr::LoadNil { dst } => reg!(dst) = Value::NIL,

                    Instr::LoadTrue { dst } => reg!(dst) = Value::TRUE,

                    Instr::LoadFalse { dst } => reg!(dst) = Value::FALSE,

                    Instr::LoadInt { dst, value } => {
                        reg!(dst) = Value::from_arith(f64::from(value))
                    }

                    Instr::GetGlobal { dst, slot } => {
                        let value = *self.globals.get_unchecked(slot as usize);
                        if value == UNDEFINED {
                            throw!("Undefined variable '{}'.", self.global_name(slot));
                        }
                        reg!(dst) = value;
                    }

                    Instr::SetGlobal { src, slot } => {
                        let global = self.globals.get_unchecked_mut(slot as usize);
                        if *global == UNDEFINED {
                            throw!("Undefined variable '{}'.", self.global_name(slot));
                        }
                        *global = reg!(src);
                    }

                    Instr::DefineGlobal { src, slot } => {
                        *self.globals.get_unchecked_mut(slot as usize) = reg!(src)
                    }

                    Instr::GetUpval { dst, idx } => {
                        let upvalue = *(&*closure).upvalues.get_unchecked(idx as usize);
                        reg!(dst) = *(*upvalue).location;
                    }

                    Instr::SetUpval { src, idx } => {
                        let upvalue = *(&*closure).upvalues.get_unchecked(idx as usize);
                        *(*upvalue).location = reg!(src);
                    }

                    Instr::CloseUpvals { from } => self.close_upvalues(base.add(from as usize)),

                    Instr::Add { dst, a, b } => {
                        let (x, y) = (reg!(a), reg!(b));
                        if x.is_number() && y.is_number() {
                            reg!(dst) = Value::from_arith(x.as_number() + y.as_number());
                        } else if x.object_kind() == Some(ObjKind::String)
                            && y.object_kind() == Some(ObjKind::String)
                        {
                            save_pc!();
                            reg!(dst) = maybe_fault!(self.concatenate(x, y));
                        } else {
                            throw!("Operands must be two numbers or two strings.");
                        }
                    }

                    Instr::Sub { dst, a, b } => arith!(dst, a, b, -),

                    Instr::Mul { dst, a, b } => arith!(dst, a, b, *),

                    Instr::Div { dst, a, b } => arith!(dst, a, b, /),

                    Instr::Mod { dst, a, b } => arith!(dst, a, b, %),

                    Instr::AddK { dst, a, k } => {
                        let x = reg!(a);
                        if x.is_number() {
                            let y = self.constants.get_unchecked(k as usize).as_number();
                            reg!(dst) = Value::from_arith(x.as_number() + y);
                        } else {
                            throw!("Operands must be two numbers or two strings.");
                        }
                    }

                    Instr::SubK { dst, a, k } => arith_k!(dst, a, k, -),

                    Instr::MulK { dst, a, k } => arith_k!(dst, a, k, *),

                    Instr::DivK { dst, a, k } => arith_k!(dst, a, k, /),

                    Instr::Neg { dst, src } => {
                        let x = reg!(src);
                        if !x.is_number() {
                            throw!("Operand must be a number.");
                        }
                        reg!(dst) = Value::from_arith(-x.as_number());
                    }

                    Instr::Not { dst, src } => reg!(dst) = Value::bool(reg!(src).is_falsey()),

                    Instr::Eq { dst, a, b } => reg!(dst) = Value::bool(reg!(a).equals(reg!(b))),

                    Instr::Ne { dst, a, b } => reg!(dst) = Value::bool(!reg!(a).equals(reg!(b))),

                    Instr::Lt { dst, a, b } => compare!(dst, a, b, <),

                    Instr::Le { dst, a, b } => compare!(dst, a, b, <=),

                    Instr::Gt { dst, a, b } => compare!(dst, a, b, >),

                    Instr::Ge { dst, a, b } => compare!(dst, a, b, >=),

                    Instr::Jump { offset } => {
                        if offset < 0 {
                            spend_budget!();
                        }
                        pc = pc.offset(offset as isize);
                    }

                    Instr::JumpIfFalse { cond, offset } => {
                        if reg!(cond).is_falsey() {
                            if offset < 0 {
                                spend_budget!();
                            }
                            pc = pc.offset(offset as isize);
                        }
                    }

                    Instr::JumpIfTrue { cond, offset } => {
                        if !reg!(cond).is_falsey() {
                            if offset < 0 {
                                spend_budget!();
                            }
                            pc = pc.offset(offset as isize);
                        }
                    }

                    Instr::JumpIfLt { a, b, offset } => {
                        jump_if!(reg!(a), reg!(b), offset, |x, y| x < y)
                    }

                    Instr::JumpIfLe { a, b, offset } => {
                        jump_if!(reg!(a), reg!(b), offset, |x, y| x <= y)
                    }

                    Instr::JumpIfNotLt { a, b, offset } => {
                        jump_if!(reg!(a), reg!(b), offset, |x, y| !(x < y))
                    }

                    Instr::JumpIfNotLe { a, b, offset } => {
                        jump_if!(reg!(a), reg!(b), offset, |x, y| !(x <= y))
                    }

                    Instr::JumpIfEq { a, b, offset } => {
                        jump_if_equal!(reg!(a), reg!(b), offset, true)
                    }

                    Instr::JumpIfNe { a, b, offset } => {
                        jump_if_equal!(reg!(a), reg!(b), offset, false)
                    }

                    Instr::JumpIfLtK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| x < y)
                    }

                    Instr::JumpIfLeK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| x <= y)
                    }

                    Instr::JumpIfGtK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| x > y)
                    }

                    Instr::JumpIfGeK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| x >= y)
                    }

                    Instr::JumpIfNotLtK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| !(x < y))
                    }

                    Instr::JumpIfNotLeK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| !(x <= y))
                    }

                    Instr::JumpIfNotGtK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| !(x > y))
                    }

                    Instr::JumpIfNotGeK { a, k, offset } => {
                        jump_if!(reg!(a), number_k!(k), offset, |x, y| !(x >= y))
                    }

                    Instr::JumpIfEqK { a, k, offset } => {
                        jump_if_equal!(reg!(a), number_k!(k), offset, true)
                    }

                    Instr::JumpIfNeK { a, k, offset } => {
                        jump_if_equal!(reg!(a), number_k!(k), offset, false)
                    }

                    Instr::IncJumpIfLtK { a, step, k, offset } => {
                        step_and_test!(a, step, number_k!(k), offset, |i, limit| i < limit)
                    }

                    Instr::IncJumpIfLeK { a, step, k, offset } => {
                        step_and_test!(a, step, number_k!(k), offset, |i, limit| i <= limit)
                    }

                    Instr::Call { a, argc } => {
                        spend_budget!();
                        save_pc!();
                        let callee = reg!(a);
                        match callee.object_kind() {
                            Some(ObjKind::Closure) => {
                                enter_closure!(callee.as_object() as *mut ObjClosure, a, argc);
                            }
                            // Construction: the instance replaces the class in the
                            // callee register, so `init` runs with it as R0.
                            Some(ObjKind::Class) => {
                                let class = callee.as_object() as *mut ObjClass;
                                let initializer = (*class).initializer;
                                if initializer.object_kind() == Some(ObjKind::Closure) {
                                    // The class stays rooted in R[a] while the
                                    // instance is allocated (which may collect).
                                    let instance = self.alloc_instance(class);
                                    reg!(a) = instance;
                                    enter_closure!(
                                        initializer.as_object() as *mut ObjClosure,
                                        a,
                                        argc
                                    );
                                    let slot = self.stack.index_of(base.add(a as usize));
                                    call_outcome!(self.call_method(initializer, slot, argc));
                                    continue;
                                }
                            }
                            _ => {}
                        }
                        let callee_slot = self.stack.index_of(base.add(a as usize));
                        call_outcome!(self.call_value(callee_slot, argc));
                    }

                    Instr::Invoke { a, argc, name } => {
                        spend_budget!();
                        save_pc!();
                        let receiver = reg!(a);
                        // Fast path: an instance without a field of that name whose
                        // class has a closure method of the right arity.
                        if receiver.object_kind() == Some(ObjKind::Instance) {
                            let instance = receiver.as_object() as *mut ObjInstance;
                            let key = StrKey(self.constant_string(name));
                            if (*instance).fields.get(&key).is_none() {
                                let methods = &(*(*instance).class).methods;
                                if let Some(&method) = methods.get_hinted(&key, hint!()) {
                                    if method.object_kind() == Some(ObjKind::Closure) {
                                        enter_closure!(
                                            method.as_object() as *mut ObjClosure,
                                            a,
                                            argc
                                        );
                                    }
                                }
                            }
                        }
                        let callee_slot = self.stack.index_of(base.add(a as usize));
                        let name = self.constant_string(name);
                        call_outcome!(self.invoke(callee_slot, argc, name));
                    }

                    Instr::SuperInvoke { a, argc, sup, name } => {
                        spend_budget!();
                        save_pc!();
                        let class = reg!(sup);
                        if class.object_kind() != Some(ObjKind::Class) {
                            throw!("Superclass must be a class.");
                        }
                        let class = class.as_object() as *mut ObjClass;
                        let name = self.constant_string(name);
                        let callee_slot = self.stack.index_of(base.add(a as usize));
                        call_outcome!(self.invoke_from_class(class, callee_slot, argc, name));
                    }

                    Instr::Return { src } => return_value!(reg!(src)),

                    Instr::ReturnNil {} => return_value!(Value::NIL),

                    Instr::Closure { dst, proto } => {
                        save_pc!();
                        let proto = self.protos.as_ptr().add(proto as usize);
                        let descs = &(*proto).upvalues;
                        let mut upvalues = Vec::with_capacity(descs.len());
                        for desc in descs.iter() {
                            upvalues.push(if desc.is_local {
                                self.capture_upvalue(base.add(desc.index as usize))
                            } else {
                                *(&*closure).upvalues.get_unchecked(desc.index as usize)
                            });
                        }
                        let created = self.alloc_closure(proto, upvalues.into_boxed_slice());
                        reg!(dst) = Value::object(created as *mut Header);
                    }

                    Instr::Class { dst, name } => {
                        save_pc!();
                        let name = self.constant_string(name);
                        reg!(dst) = self.alloc_class(name);
                    }

                    Instr::Inherit { class, superclass } => {
                        let parent = reg!(superclass);
                        if parent.object_kind() != Some(ObjKind::Class) {
                            throw!("Superclass must be a class.");
                        }
                        if reg!(class).object_kind() != Some(ObjKind::Class) {
                            throw!("Malformed program: 'inherit' target is not a class.");
                        }
                        // Copy the methods out first: a hand-made file may make a
                        // class inherit from itself, and the two tables would alias.
                        let parent = parent.as_object() as *mut ObjClass;
                        let methods: Vec<(StrKey, Value)> =
                            (*parent).methods.iter().map(|(&k, &m)| (k, m)).collect();
                        let initializer = (*parent).initializer;
                        let child = reg!(class).as_object() as *mut ObjClass;
                        for (key, method) in methods {
                            if (*child).methods.insert(key, method).is_none() {
                                self.heap.bytes_allocated += TABLE_ENTRY_BYTES;
                            }
                        }
                        (*child).initializer = initializer;
                    }

                    Instr::Method {
                        class,
                        method,
                        name,
                    } => {
                        // The verifier checks indices, not value kinds; a method table
                        // must only ever hold closures, so this is checked here.
                        if reg!(class).object_kind() != Some(ObjKind::Class)
                            || reg!(method).object_kind() != Some(ObjKind::Closure)
                        {
                            throw!("Malformed program: 'method' needs a class and a closure.");
                        }
                        let class = reg!(class).as_object() as *mut ObjClass;
                        let name = self.constant_string(name);
                        let method = reg!(method);
                        if (*class).methods.insert(StrKey(name), method).is_none() {
                            self.heap.bytes_allocated += TABLE_ENTRY_BYTES;
                        }
                        if name == self.init_string {
                            (*class).initializer = method;
                        }
                    }

                    Instr::GetProp { dst, obj, name } => {
                        let receiver = reg!(obj);
                        if receiver.object_kind() != Some(ObjKind::Instance) {
                            save_pc!();
                            let name = self.constant_string(name);
                            reg!(dst) = maybe_fault!(self.get_builtin_property(receiver, name));
                            continue;
                        }
                        let instance = receiver.as_object() as *mut ObjInstance;
                        let name = self.constant_string(name);
                        if let Some(&field) = (*instance).fields.get_hinted(&StrKey(name), hint!())
                        {
                            reg!(dst) = field;
                        } else {
                            let method = (*(*instance).class).methods.get(&StrKey(name)).copied();
                            match method {
                                Some(method) => {
                                    save_pc!();
                                    reg!(dst) = self.bind_method(receiver, method);
                                }
                                None => throw!("Undefined property '{}'.", (*name).text),
                            }
                        }
                    }

                    Instr::SetProp { obj, src, name } => {
                        let receiver = reg!(obj);
                        match receiver.object_kind() {
                            Some(ObjKind::Instance) => {}
                            Some(ObjKind::Module) => {
                                let name = self.constant_string(name);
                                throw!("Can't assign to module member '{}'.", (*name).text);
                            }
                            _ => throw!("Only instances have fields."),
                        }
                        let instance = receiver.as_object() as *mut ObjInstance;
                        let name = self.constant_string(name);
                        let fields = &mut (*instance).fields;
                        if fields
                            .insert_hinted(StrKey(name), reg!(src), hint!())
                            .is_none()
                        {
                            self.heap.bytes_allocated += TABLE_ENTRY_BYTES;
                            let class = (*instance).class;
                            (*class).field_hint = (*class).field_hint.max((*instance).fields.len());
                        }
                    }

                    Instr::GetSuper {
                        dst,
                        recv,
                        sup,
                        name,
                    } => {
                        let class = reg!(sup);
                        if class.object_kind() != Some(ObjKind::Class) {
                            throw!("Superclass must be a class.");
                        }
                        let class = class.as_object() as *mut ObjClass;
                        let name = self.constant_string(name);
                        match (*class).methods.get(&StrKey(name)).copied() {
                            Some(method) => {
                                save_pc!();
                                reg!(dst) = self.bind_method(reg!(recv), method);
                            }
                            None => throw!("Undefined property '{}'.", (*name).text),
                        }
                    }

                    Instr::Print { src } => {
                        let value = reg!(src);
                        match self.print_line(value) {
                            Ok(()) => {}
                            Err(crate::print::PrintError::TooDeep) => throw!("Stack overflow."),
                            Err(crate::print::PrintError::Output(error)) => {
                                save_pc!();
                                return Err(self.output_error(error));
                            }
                        }
                    }

                    Instr::NewList { dst, start, count } => {
                        save_pc!();
                        let items =
                            std::slice::from_raw_parts(base.add(start as usize), count as usize);
                        reg!(dst) = self.alloc_list(items.to_vec());
                    }

                    Instr::ListExtend { list, start, count } => {
                        let target = reg!(list);
                        if target.object_kind() != Some(ObjKind::List) {
                            throw!("Malformed program: 'listextend' target is not a list.");
                        }
                        let items =
                            std::slice::from_raw_parts(base.add(start as usize), count as usize);
                        self.list_mutate(target, |list| list.extend_from_slice(items));
                    }

                    Instr::NewMap { dst, start, count } => {
                        save_pc!();
                        let map = self.alloc_map();
                        let pairs = std::slice::from_raw_parts(
                            base.add(start as usize),
                            2 * count as usize,
                        );
                        self.map_insert_pairs(map, pairs);
                        reg!(dst) = map;
                    }

                    Instr::MapExtend { map, start, count } => {
                        let target = reg!(map);
                        if target.object_kind() != Some(ObjKind::Map) {
                            throw!("Malformed program: 'mapextend' target is not a map.");
                        }
                        let pairs = std::slice::from_raw_parts(
                            base.add(start as usize),
                            2 * count as usize,
                        );
                        self.map_insert_pairs(target, pairs);
                    }

                    Instr::GetIndex { dst, obj, key } => {
                        save_pc!();
                        reg!(dst) = maybe_fault!(self.get_index(reg!(obj), reg!(key)));
                    }

                    Instr::SetIndex { obj, key, src } => {
                        save_pc!();
                        maybe_fault!(self.set_index(reg!(obj), reg!(key), reg!(src)));
                    }

                    Instr::ForIn { var, state, exit } => {
                        save_pc!();
                        let iterable = reg!(state);
                        let position = reg!(state + 1);
                        match maybe_fault!(self.iterate(iterable, position)) {
                            Some((element, next)) => {
                                reg!(var) = element;
                                reg!(state + 1) = next;
                            }
                            None => pc = pc.offset(exit as isize),
                        }
                    }

                    Instr::Throw { src } => fault!({
                        self.in_flight = reg!(src);
                        Fault::Exception
                    }),

                    Instr::PushHandler { catch, handler } => {
                        let depth = self.frames.len();
                        self.handlers.push(Handler {
                            frame_depth: depth,
                            catch_slot: self.stack.index_of(base.add(catch as usize)),
                            target_pc: (this_instr!() as isize + 1 + handler as isize) as usize,
                        });
                    }

                    Instr::PopHandler {} => {
                        let depth = self.frames.len();
                        if self.handlers.last().is_none_or(|h| h.frame_depth != depth) {
                            throw!("Malformed program: 'endtry' without a handler in this frame.");
                        }
                        self.handlers.pop();
                    }

                    Instr::Import { dst, module } => {
                        spend_budget!();
                        save_pc!();
                        let info = &mut self.modules[module as usize];
                        if info.started {
                            reg!(dst) = self.module_object(module as usize);
                        } else {
                            info.started = true;
                            let proto = self.protos.as_ptr().add(info.function);
                            let closure = self.alloc_closure(proto, Box::new([]));
                            reg!(dst) = Value::object(closure as *mut Header);
                            let slot = self.stack.index_of(base.add(dst as usize));
                            call_outcome!(self.call_value(slot, 0));
                        }
                    }

                    Instr::GetModule { dst, module } => {
                        save_pc!();
                        reg!(dst) = self.module_object(module as usize);
                    }

                    Instr::ImportNative { dst, name } => {
                        save_pc!();
                        let name = self.constant_string(name);
                        reg!(dst) = maybe_fault!(self.native_module(name));
                    }
                }
            }
        }
    }

    #[inline(always)]
    pub(crate) fn constant_string(&self, index: u32) -> *mut ObjString {
        // SAFETY: the verifier proved `index` names a string constant.
        unsafe { self.constants.get_unchecked(index as usize).as_object() as *mut ObjString }
    }

    #[cold]
    fn global_name(&self, slot: u32) -> String {
        // SAFETY: global names are interned constants, rooted for the VM's life.
        unsafe { (*self.global_names[slot as usize]).text.to_string() }
    }
}
