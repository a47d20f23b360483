//! pvm's instruction set, defined once.
//!
//! The [`instructions!`] table below is the single source of truth: it generates the
//! in-memory [`Instr`] enum the interpreter matches on, the opcode numbers and
//! operand widths of the `.pbc` encoding, the operand list the verifier checks, and
//! the mnemonic the disassembler prints. Adding an instruction means adding one row.
//!
//! Register machine conventions (see `spec/bytecode.md` for the full story):
//! every function owns a window of `num_regs` registers (at most 256) on one shared
//! value stack. R0 holds the callee closure for a plain call, or the receiver for
//! a method or initializer; parameters follow in R1..=Rarity. A call with callee in
//! R[a] makes the callee's window start at R[a], so arguments are never copied.
//! Jump offsets count instructions relative to the instruction after the jump.

/// What an operand refers to; the verifier checks each kind against its own table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// A register of the current frame (u8, below the function's `num_regs`).
    Reg,
    /// The argument count of a call: registers a+1..=a+count must exist, where a is
    /// the register operand just before it (u8).
    Count,
    /// A run of registers start..start+count, where start is the register operand
    /// just before it (u8; zero allowed).
    Span,
    /// A run of start..start+2*count registers holding key, value pairs (u8).
    PairSpan,
    /// A register r such that r and r+1 both exist (u8).
    Pair,
    /// A module index (u32) into the program's module table.
    Module,
    /// A constant-pool index (u32) whose constant is a number or a string.
    Const,
    /// A constant-pool index (u32) whose constant must be a string (a name).
    Name,
    /// A global-slot index (u32).
    Global,
    /// An upvalue index of the current function (u16).
    Upval,
    /// A function-prototype index (u32) that must not be the entry script.
    Proto,
    /// A relative jump offset (i32) whose target must be inside the function.
    Jump,
    /// An immediate signed integer (i32) used as a number.
    Imm,
    /// A constant-pool index (u32) whose constant must be a number.
    NumConst,
    /// A constant-pool index that fits 16 bits (u16) whose constant must be a number.
    NumConst16,
    /// A relative jump offset that fits 16 bits (i16), checked like `Jump`.
    Jump16,
}

impl OperandKind {
    /// Width of the operand in the `.pbc` encoding, in bytes (little-endian).
    pub const fn width(self) -> usize {
        match self {
            OperandKind::Reg
            | OperandKind::Count
            | OperandKind::Span
            | OperandKind::PairSpan
            | OperandKind::Pair => 1,
            OperandKind::Upval | OperandKind::NumConst16 | OperandKind::Jump16 => 2,
            OperandKind::Const
            | OperandKind::Name
            | OperandKind::Global
            | OperandKind::Proto
            | OperandKind::Module
            | OperandKind::NumConst
            | OperandKind::Jump
            | OperandKind::Imm => 4,
        }
    }
}

/// One decoded operand value together with its kind, as handed to the verifier
/// and the disassembler. All values are widened to `i64` so one type fits all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operand {
    pub kind: OperandKind,
    pub name: &'static str,
    pub value: i64,
}

/// The most operands an instruction has; checked for every instruction when the table
/// below is expanded.
pub const MAX_OPERANDS: usize = 4;

/// An instruction's operands in definition order, held inline: the encoder and the verifier
/// ask for them once per instruction, and a heap allocation each time was 40% of encoding.
/// Reads as a slice of [`Operand`]s.
#[derive(Clone, Copy, Debug)]
pub struct Operands {
    items: [Operand; MAX_OPERANDS],
    len: usize,
}

impl Operands {
    const NONE: Operands = Operands {
        items: [Operand {
            kind: OperandKind::Reg,
            name: "",
            value: 0,
        }; MAX_OPERANDS],
        len: 0,
    };

    fn push(&mut self, operand: Operand) {
        self.items[self.len] = operand;
        self.len += 1;
    }
}

impl std::ops::Deref for Operands {
    type Target = [Operand];

    fn deref(&self) -> &[Operand] {
        &self.items[..self.len]
    }
}

impl IntoIterator for Operands {
    type Item = Operand;
    type IntoIter = std::iter::Take<std::array::IntoIter<Operand, MAX_OPERANDS>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter().take(self.len)
    }
}

impl<'a> IntoIterator for &'a Operands {
    type Item = &'a Operand;
    type IntoIter = std::slice::Iter<'a, Operand>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Maps an operand kind to the Rust type of its field in [`Instr`].
macro_rules! operand_type {
    (Reg) => {
        u8
    };
    (Span) => {
        u8
    };
    (PairSpan) => {
        u8
    };
    (Pair) => {
        u8
    };
    (Module) => {
        u32
    };
    (Count) => {
        u8
    };
    (Const) => {
        u32
    };
    (Name) => {
        u32
    };
    (Global) => {
        u32
    };
    (Upval) => {
        u16
    };
    (Proto) => {
        u32
    };
    (Jump) => {
        i32
    };
    (NumConst) => {
        u32
    };
    (NumConst16) => {
        u16
    };
    (Jump16) => {
        i16
    };
    (Imm) => {
        i32
    };
}

/// Sets field `$field` to `$offset` (and `$found`) if its kind is a jump offset; expands to
/// nothing for any other kind. Used by [`Instr::with_jump_offset`].
macro_rules! set_jump_operand {
    (Jump, $field:ident, $offset:ident, $found:ident) => {
        $field = $offset as i32;
        $found = true;
    };
    (Jump16, $field:ident, $offset:ident, $found:ident) => {
        $field = $offset as i16;
        $found = true;
    };
    ($other:ident, $field:ident, $offset:ident, $found:ident) => {};
}

macro_rules! instructions {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $opcode:literal, $mnemonic:literal { $($field:ident : $kind:ident),* $(,)? }
    )*) => {
        /// One pvm instruction, decoded. Eight bytes, so code is a dense array.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Instr {
            $(
                $(#[doc = $doc])*
                $name { $($field: operand_type!($kind)),* },
            )*
        }

        impl Instr {
            /// The opcode byte that encodes this instruction in a `.pbc` file.
            pub const fn opcode(&self) -> u8 {
                match self { $(Instr::$name { .. } => $opcode,)* }
            }

            /// The assembler name printed by the disassembler.
            pub const fn mnemonic(&self) -> &'static str {
                match self { $(Instr::$name { .. } => $mnemonic,)* }
            }

            /// The operand kinds of the instruction with opcode `opcode`, or `None`
            /// for a byte that is not an opcode.
            pub fn operand_kinds(opcode: u8) -> Option<&'static [OperandKind]> {
                match opcode {
                    $($opcode => Some(&[$(OperandKind::$kind),*]),)*
                    _ => None,
                }
            }

            /// Every operand with its kind and name, in definition order.
            pub fn operands(&self) -> Operands {
                match *self {
                    $(
                        #[allow(clippy::unnecessary_cast)]
                        Instr::$name { $($field),* } => {
                            const _: () = assert!(
                                <[&str]>::len(&[$(stringify!($field)),*]) <= MAX_OPERANDS,
                                "an instruction has at most MAX_OPERANDS operands"
                            );
                            #[allow(unused_mut)]
                            let mut operands = Operands::NONE;
                            $(operands.push(Operand {
                                kind: OperandKind::$kind,
                                name: stringify!($field),
                                value: $field as i64,
                            });)*
                            operands
                        }
                    )*
                }
            }

            /// The instruction with its jump offset (a `Jump` or `Jump16` operand) set to
            /// `offset`, truncated to the operand's width; `None` if it has no jump operand.
            pub fn with_jump_offset(self, offset: i64) -> Option<Instr> {
                match self {
                    $(
                        #[allow(unused_mut, unused_assignments, unused_variables)]
                        Instr::$name { $(mut $field),* } => {
                            let mut found = false;
                            $(set_jump_operand!($kind, $field, offset, found);)*
                            found.then_some(Instr::$name { $($field),* })
                        }
                    )*
                }
            }

            /// Builds an instruction from its opcode and operand values (as produced by
            /// [`Instr::operands`]). Values are truncated to the operand widths, so
            /// the caller must have read them with those widths.
            pub fn from_parts(opcode: u8, values: &[i64]) -> Option<Instr> {
                match opcode {
                    $(
                        #[allow(unused_variables, unused_mut, unused_assignments)]
                        $opcode => {
                            let mut index = 0usize;
                            $(
                                let $field = *values.get(index)? as operand_type!($kind);
                                index += 1;
                            )*
                            Some(Instr::$name { $($field),* })
                        }
                    )*
                    _ => None,
                }
            }

            /// Number of distinct opcodes.
            pub const COUNT: usize = [$($opcode),*].len();
        }
    };
}

instructions! {
    /// R[dst] = R[src].
    Move = 0x00, "move" { dst: Reg, src: Reg }
    /// R[dst] = constant k (a number or a string).
    LoadConst = 0x01, "loadk" { dst: Reg, k: Const }
    /// R[dst] = nil.
    LoadNil = 0x02, "loadnil" { dst: Reg }
    /// R[dst] = true.
    LoadTrue = 0x03, "loadtrue" { dst: Reg }
    /// R[dst] = false.
    LoadFalse = 0x04, "loadfalse" { dst: Reg }
    /// R[dst] = the number `value` (a small integer stored in the instruction).
    LoadInt = 0x05, "loadint" { dst: Reg, value: Imm }

    /// R[dst] = global `slot`; runtime error `Undefined variable 'NAME'.` if unset.
    GetGlobal = 0x10, "getglobal" { dst: Reg, slot: Global }
    /// global `slot` = R[src]; runtime error `Undefined variable 'NAME'.` if unset.
    SetGlobal = 0x11, "setglobal" { src: Reg, slot: Global }
    /// global `slot` = R[src], defining it (redefinition is allowed).
    DefineGlobal = 0x12, "defglobal" { src: Reg, slot: Global }
    /// R[dst] = upvalue `idx` of the running closure.
    GetUpval = 0x13, "getupval" { dst: Reg, idx: Upval }
    /// upvalue `idx` of the running closure = R[src].
    SetUpval = 0x14, "setupval" { src: Reg, idx: Upval }
    /// Closes every open upvalue that points at R[from] or above in this frame.
    CloseUpvals = 0x15, "close" { from: Reg }

    /// R[dst] = R[a] + R[b]: numbers add, two strings concatenate, anything else is
    /// `Operands must be two numbers or two strings.`
    Add = 0x20, "add" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] - R[b] (numbers only: `Operands must be numbers.`).
    Sub = 0x21, "sub" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] * R[b] (numbers only).
    Mul = 0x22, "mul" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] / R[b] (numbers only; IEEE division).
    Div = 0x23, "div" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] % R[b]: the remainder with the sign of the dividend, as C's
    /// `fmod` (numbers only).
    Mod = 0x26, "mod" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] + K[k], where K[k] is a number (`x + 1`). Errors as `add`.
    AddK = 0x27, "addk" { dst: Reg, a: Reg, k: NumConst }
    /// R[dst] = R[a] - K[k], K[k] a number.
    SubK = 0x28, "subk" { dst: Reg, a: Reg, k: NumConst }
    /// R[dst] = R[a] * K[k], K[k] a number.
    MulK = 0x29, "mulk" { dst: Reg, a: Reg, k: NumConst }
    /// R[dst] = R[a] / K[k], K[k] a number.
    DivK = 0x2a, "divk" { dst: Reg, a: Reg, k: NumConst }
    /// R[dst] = -R[src] (a number: `Operand must be a number.`).
    Neg = 0x24, "neg" { dst: Reg, src: Reg }
    /// R[dst] = !R[src] (nil and false are falsey, everything else truthy).
    Not = 0x25, "not" { dst: Reg, src: Reg }

    /// R[dst] = R[a] == R[b] (numbers by value, strings by content, objects by identity).
    Eq = 0x30, "eq" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] != R[b].
    Ne = 0x31, "ne" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] < R[b] (numbers only: `Operands must be numbers.`).
    Lt = 0x32, "lt" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] <= R[b] (numbers only).
    Le = 0x33, "le" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] > R[b] (numbers only).
    Gt = 0x34, "gt" { dst: Reg, a: Reg, b: Reg }
    /// R[dst] = R[a] >= R[b] (numbers only).
    Ge = 0x35, "ge" { dst: Reg, a: Reg, b: Reg }

    /// pc += offset.
    Jump = 0x40, "jump" { offset: Jump }
    /// If R[cond] is falsey, pc += offset.
    JumpIfFalse = 0x41, "jumpiffalse" { cond: Reg, offset: Jump }
    /// If R[cond] is truthy, pc += offset.
    JumpIfTrue = 0x42, "jumpiftrue" { cond: Reg, offset: Jump }

    /// If R[a] < R[b], pc += offset (numbers only: `Operands must be numbers.`).
    /// `a > b` is compiled as `b < a`, which is exactly the same test.
    JumpIfLt = 0x43, "jlt" { a: Reg, b: Reg, offset: Jump }
    /// If R[a] <= R[b], pc += offset.
    JumpIfLe = 0x44, "jle" { a: Reg, b: Reg, offset: Jump }
    /// If not R[a] < R[b], pc += offset (differs from `jle b, a` when a NaN is involved).
    JumpIfNotLt = 0x45, "jnlt" { a: Reg, b: Reg, offset: Jump }
    /// If not R[a] <= R[b], pc += offset.
    JumpIfNotLe = 0x46, "jnle" { a: Reg, b: Reg, offset: Jump }
    /// If R[a] == R[b] (as `eq`), pc += offset.
    JumpIfEq = 0x47, "jeq" { a: Reg, b: Reg, offset: Jump }
    /// If R[a] != R[b], pc += offset.
    JumpIfNe = 0x48, "jne" { a: Reg, b: Reg, offset: Jump }
    /// If R[a] < K[k], pc += offset (K[k] a number; short form for loop tests).
    JumpIfLtK = 0xb0, "jltk" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If R[a] <= K[k], pc += offset.
    JumpIfLeK = 0xb1, "jlek" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If R[a] > K[k], pc += offset.
    JumpIfGtK = 0xb2, "jgtk" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If R[a] >= K[k], pc += offset.
    JumpIfGeK = 0xb3, "jgek" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If not R[a] < K[k], pc += offset.
    JumpIfNotLtK = 0xb4, "jnltk" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If not R[a] <= K[k], pc += offset.
    JumpIfNotLeK = 0xb5, "jnlek" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If not R[a] > K[k], pc += offset.
    JumpIfNotGtK = 0xb6, "jngtk" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If not R[a] >= K[k], pc += offset.
    JumpIfNotGeK = 0xb7, "jngek" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If R[a] == K[k], pc += offset.
    JumpIfEqK = 0xb8, "jeqk" { a: Reg, k: NumConst16, offset: Jump16 }
    /// If R[a] != K[k], pc += offset.
    JumpIfNeK = 0xb9, "jnek" { a: Reg, k: NumConst16, offset: Jump16 }
    /// R[a] = R[a] + K[step] (errors as `addk`); then, if R[a] < K[k], pc += offset. The
    /// step and test of a counted loop in one dispatch, like Lua's `FORLOOP`.
    IncJumpIfLtK = 0xba, "incjltk" { a: Reg, step: NumConst16, k: NumConst16, offset: Jump16 }
    /// R[a] = R[a] + K[step]; then, if R[a] <= K[k], pc += offset.
    IncJumpIfLeK = 0xbb, "incjlek" { a: Reg, step: NumConst16, k: NumConst16, offset: Jump16 }

    /// Calls R[a] with the `argc` arguments in R[a+1..=a+argc]; the callee's register
    /// window starts at R[a]. The result lands in R[a]. Calling a class constructs an
    /// instance (running `init` if present); calling a bound method puts its receiver
    /// in R[a]. Errors: `Can only call functions and classes.`,
    /// `Expected N arguments but got M.`, `Stack overflow.`
    Call = 0x50, "call" { a: Reg, argc: Count }
    /// Calls method `name` on the receiver in R[a] with arguments R[a+1..=a+argc]; a
    /// field of that name holding a callable takes precedence. Result in R[a].
    /// Errors: `Only instances have methods.`, `Undefined property 'NAME'.`
    Invoke = 0x51, "invoke" { a: Reg, argc: Count, name: Name }
    /// Calls superclass R[sup]'s method `name` on the receiver in R[a] (the current
    /// `this`) with arguments R[a+1..=a+argc]. Result in R[a].
    SuperInvoke = 0x52, "superinvoke" { a: Reg, argc: Count, sup: Reg, name: Name }
    /// Returns R[src] to the caller.
    Return = 0x53, "return" { src: Reg }
    /// Returns nil to the caller.
    ReturnNil = 0x54, "returnnil" {}
    /// R[dst] = a new closure of function prototype `proto`, capturing the upvalues
    /// its prototype describes (registers of this frame or upvalues of this closure).
    Closure = 0x55, "closure" { dst: Reg, proto: Proto }

    /// R[dst] = a new class named by string constant `name`, with no methods.
    Class = 0x60, "class" { dst: Reg, name: Name }
    /// Copies every method of the class in R[superclass] into the class in R[class].
    /// Error: `Superclass must be a class.`
    Inherit = 0x61, "inherit" { class: Reg, superclass: Reg }
    /// Adds the closure in R[method] to the class in R[class] as method `name`.
    Method = 0x62, "method" { class: Reg, method: Reg, name: Name }
    /// R[dst] = property `name` of the instance in R[obj]: a field, else a method bound
    /// to the instance. Errors: `Only instances have properties.`,
    /// `Undefined property 'NAME'.`
    GetProp = 0x63, "getprop" { dst: Reg, obj: Reg, name: Name }
    /// Sets field `name` of the instance in R[obj] to R[src].
    /// Error: `Only instances have fields.`
    SetProp = 0x64, "setprop" { obj: Reg, src: Reg, name: Name }
    /// R[dst] = method `name` of the class in R[sup], bound to the receiver in R[recv].
    /// Error: `Undefined property 'NAME'.`
    GetSuper = 0x65, "getsuper" { dst: Reg, recv: Reg, sup: Reg, name: Name }

    /// Prints R[src] and a newline on standard output.
    Print = 0x70, "print" { src: Reg }

    /// R[dst] = a new list holding R[start..start+count] in order.
    NewList = 0x80, "newlist" { dst: Reg, start: Reg, count: Span }
    /// Appends R[start..start+count] to the list in R[list] (for literals longer
    /// than one instruction can hold).
    ListExtend = 0x81, "listextend" { list: Reg, start: Reg, count: Span }
    /// R[dst] = a new map of the `count` key, value pairs in R[start..start+2*count],
    /// inserted in order.
    NewMap = 0x82, "newmap" { dst: Reg, start: Reg, count: PairSpan }
    /// Inserts the `count` key, value pairs in R[start..start+2*count] into the map
    /// in R[map].
    MapExtend = 0x83, "mapextend" { map: Reg, start: Reg, count: PairSpan }
    /// R[dst] = R[obj][R[key]]: list element, map value (nil when absent) or
    /// one-character string.
    GetIndex = 0x84, "getindex" { dst: Reg, obj: Reg, key: Reg }
    /// R[obj][R[key]] = R[src] for a list element or a map entry.
    SetIndex = 0x85, "setindex" { obj: Reg, key: Reg, src: Reg }
    /// One step of `for (var x in …)`: R[state] holds the list, map or string and
    /// R[state+1] the position (start it at 0). Sets R[var] to the next element
    /// (map key, one-character string) and advances, or jumps by `exit` when done.
    ForIn = 0x86, "forin" { var: Reg, state: Pair, exit: Jump }

    /// Throws R[src] as an exception.
    Throw = 0x90, "throw" { src: Reg }
    /// Installs an exception handler for this frame: a throw that reaches it stores
    /// the thrown value in R[catch] and continues at the jump target.
    PushHandler = 0x91, "try" { catch: Reg, handler: Jump }
    /// Removes this frame's innermost handler (the protected code ended normally).
    PopHandler = 0x92, "endtry" {}

    /// R[dst] = the module object of source module `module`, running its top-level
    /// code first (in a frame whose window starts at R[dst]) if it has not run yet.
    Import = 0xa0, "import" { dst: Reg, module: Module }
    /// R[dst] = the module object of `module` (its top-level code ends with this).
    GetModule = 0xa1, "getmodule" { dst: Reg, module: Module }
    /// R[dst] = the native standard-library module named K[name].
    ImportNative = 0xa2, "importnative" { dst: Reg, name: Name }
}

/// The most registers one function may use (operands are one byte).
pub const MAX_REGISTERS: usize = 256;

/// The most parameters a function may declare, and arguments a call may pass.
pub const MAX_ARITY: usize = 255;

/// The most upvalues one function may capture.
pub const MAX_UPVALUES: usize = u16::MAX as usize + 1;

// The interpreter relies on instructions being eight bytes: code stays dense in
// the cache and one load fetches a whole instruction.
const _: () = assert!(std::mem::size_of::<Instr>() == 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_round_trips_through_parts() {
        let mut seen = 0;
        for opcode in 0..=u8::MAX {
            let Some(kinds) = Instr::operand_kinds(opcode) else {
                continue;
            };
            seen += 1;
            let values: Vec<i64> = (1..=kinds.len() as i64).collect();
            let instr = Instr::from_parts(opcode, &values).expect("opcode is defined");
            assert_eq!(instr.opcode(), opcode);
            let back: Vec<i64> = instr.operands().iter().map(|o| o.value).collect();
            assert_eq!(back, values);
        }
        assert_eq!(seen, Instr::COUNT);
    }

    #[test]
    fn spec_describes_every_instruction() {
        let spec = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../spec/bytecode.md"
        ));
        for opcode in 0..=u8::MAX {
            let Some(kinds) = Instr::operand_kinds(opcode) else {
                continue;
            };
            let zeros = vec![0; kinds.len()];
            let instr = Instr::from_parts(opcode, &zeros).expect("opcode is defined");
            let mnemonic = format!("`{}`", instr.mnemonic());
            assert!(
                spec.contains(&mnemonic),
                "spec/bytecode.md lacks {mnemonic}"
            );
        }
    }

    #[test]
    fn setting_a_jump_offset_changes_only_the_jump_operand() {
        for opcode in 0..=u8::MAX {
            let Some(kinds) = Instr::operand_kinds(opcode) else {
                continue;
            };
            let values: Vec<i64> = (1..=kinds.len() as i64).collect();
            let instr = Instr::from_parts(opcode, &values).expect("opcode is defined");
            let is_jump =
                |kind: &OperandKind| matches!(kind, OperandKind::Jump | OperandKind::Jump16);
            match instr.with_jump_offset(-7) {
                None => assert!(!kinds.iter().any(is_jump), "{instr:?} has a jump"),
                Some(patched) => {
                    let expected: Vec<i64> = kinds
                        .iter()
                        .zip(&values)
                        .map(|(kind, &value)| if is_jump(kind) { -7 } else { value })
                        .collect();
                    let got: Vec<i64> = patched.operands().iter().map(|o| o.value).collect();
                    assert_eq!(got, expected, "{instr:?}");
                }
            }
        }
    }

    #[test]
    fn truncated_operand_list_is_rejected() {
        assert_eq!(Instr::from_parts(0x20, &[1, 2]), None);
        assert_eq!(Instr::from_parts(0xff, &[]), None);
    }
}
