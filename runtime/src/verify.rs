//! The bytecode verifier: proves, before anything runs, every fact the interpreter
//! relies on to skip per-instruction checks.
//!
//! After [`verify`] succeeds: every register operand (and every call window) lies
//! inside its function's frame; every constant, name, global, upvalue and
//! prototype index is in range and of the right kind; every jump lands on an
//! instruction of the same function; no function can run past its last
//! instruction; every closure site's captures are valid in the creating frame.
//! **Architecture invariant:** the interpreter trusts these facts and uses
//! unchecked register and table access, so nothing unverified may reach it.

use pvm_bytecode::{
    Constant, Function, Instr, Location, Module, OperandKind, Program, MAX_ARITY, MAX_REGISTERS,
};

/// What the verifier found wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub location: Location,
    pub problem: String,
}

fn fail<T>(location: Location, problem: String) -> Result<T, VerifyError> {
    Err(VerifyError { location, problem })
}

/// Checks a whole program.
pub fn verify(program: &Program) -> Result<(), VerifyError> {
    for (slot, &name) in program.globals.iter().enumerate() {
        if program.string(name).is_none() {
            return fail(
                Location::Global(slot),
                format!("global slot {slot} names constant {name}, which is not a string"),
            );
        }
    }
    let entry = program.entry as usize;
    match program.functions.get(entry) {
        None => {
            return fail(
                Location::Entry,
                format!(
                    "entry function {entry} does not exist ({} functions)",
                    program.functions.len()
                ),
            )
        }
        Some(function) if function.arity != 0 || !function.upvalues.is_empty() => {
            return fail(
                Location::Function(entry),
                "the entry function must take no arguments and capture no upvalues".into(),
            )
        }
        Some(_) => {}
    }
    for (index, module) in program.modules.iter().enumerate() {
        verify_module(program, index, module)?;
    }
    for (index, function) in program.functions.iter().enumerate() {
        verify_function(program, index, function)?;
    }
    Ok(())
}

fn verify_module(program: &Program, index: usize, module: &Module) -> Result<(), VerifyError> {
    let here = Location::Module(index);
    if program.string(module.name).is_none() {
        return fail(
            here,
            format!(
                "module {index}: name {} is not a string constant",
                module.name
            ),
        );
    }
    let function = module.function as usize;
    match program.functions.get(function) {
        Some(f) if function != program.entry as usize && f.arity == 0 && f.upvalues.is_empty() => {}
        _ => {
            return fail(
                here,
                format!(
                    "module {index}: function #{function} is missing, the entry, or not a \
                     top level (no parameters, no upvalues)"
                ),
            )
        }
    }
    for export in &module.exports {
        if program.string(export.name).is_none() || export.slot as usize >= program.globals.len() {
            return fail(
                here,
                format!(
                    "module {index}: export (name #{}, slot g{}) is invalid",
                    export.name, export.slot
                ),
            );
        }
    }
    Ok(())
}

fn verify_function(
    program: &Program,
    index: usize,
    function: &Function,
) -> Result<(), VerifyError> {
    let here = Location::Function(index);
    if program.string(function.name).is_none() {
        return fail(
            here,
            format!(
                "function {index}: name {} is not a string constant",
                function.name
            ),
        );
    }
    if function.file as usize >= program.files.len() {
        return fail(
            here,
            format!(
                "function {index}: file index {} out of range",
                function.file
            ),
        );
    }
    let num_regs = usize::from(function.num_regs);
    if num_regs == 0 || num_regs > MAX_REGISTERS {
        return fail(
            here,
            format!("function {index}: register count {num_regs} outside 1..={MAX_REGISTERS}"),
        );
    }
    if usize::from(function.arity) > MAX_ARITY || usize::from(function.arity) + 1 > num_regs {
        return fail(
            here,
            format!(
                "function {index}: arity {} does not fit in {num_regs} registers",
                function.arity
            ),
        );
    }
    let Some(last) = function.code.last() else {
        return fail(here, format!("function {index} has no code"));
    };
    if !matches!(
        last,
        Instr::Return { .. } | Instr::ReturnNil {} | Instr::Jump { .. }
    ) {
        return fail(
            Location::Instruction {
                function: index,
                pc: function.code.len() - 1,
            },
            format!("function {index} can run past its last instruction"),
        );
    }
    let mut previous_pc = None;
    for entry in &function.lines {
        let pc = entry.pc as usize;
        if pc >= function.code.len() || previous_pc.is_some_and(|p| p >= pc) {
            return fail(
                Location::LineTable(index),
                format!("function {index}: line table entry for pc {pc} is out of order or range"),
            );
        }
        previous_pc = Some(pc);
    }
    for (pc, instr) in function.code.iter().enumerate() {
        verify_instr(program, index, function, pc, instr)?;
    }
    Ok(())
}

fn verify_instr(
    program: &Program,
    index: usize,
    function: &Function,
    pc: usize,
    instr: &Instr,
) -> Result<(), VerifyError> {
    let here = Location::Instruction {
        function: index,
        pc,
    };
    let num_regs = i64::from(function.num_regs);
    let mnemonic = instr.mnemonic();
    let mut last_register = 0i64;
    for operand in instr.operands() {
        let value = operand.value;
        let name = operand.name;
        let problem = match operand.kind {
            OperandKind::Reg => {
                last_register = value;
                (value >= num_regs)
                    .then(|| format!("register r{value} out of range (function has {num_regs})"))
            }
            OperandKind::Count => (last_register + value >= num_regs).then(|| {
                format!("{value} arguments after r{last_register} overrun the {num_regs} registers")
            }),
            OperandKind::Span => (last_register + value > num_regs).then(|| {
                format!("{value} registers from r{last_register} overrun the {num_regs} registers")
            }),
            OperandKind::PairSpan => (last_register + 2 * value > num_regs).then(|| {
                format!("{value} pairs from r{last_register} overrun the {num_regs} registers")
            }),
            OperandKind::Pair => (value + 1 >= num_regs)
                .then(|| format!("registers r{value} and r{} out of range", value + 1)),
            OperandKind::Module => (value as usize >= program.modules.len())
                .then(|| format!("module m{value} out of range")),
            OperandKind::Const => (value as usize >= program.constants.len())
                .then(|| format!("constant #{value} out of range")),
            OperandKind::Name => match program.constants.get(value as usize) {
                Some(Constant::String(_)) => None,
                Some(Constant::Number(_)) => Some(format!("constant #{value} must be a string")),
                None => Some(format!("constant #{value} out of range")),
            },
            OperandKind::Global => (value as usize >= program.globals.len())
                .then(|| format!("global g{value} out of range")),
            OperandKind::Upval => (value as usize >= function.upvalues.len())
                .then(|| format!("upvalue u{value} out of range")),
            OperandKind::Proto => (value as usize >= program.functions.len()
                || value as usize == program.entry as usize)
                .then(|| format!("function #{value} out of range or the entry function")),
            OperandKind::Jump => {
                let target = pc as i64 + 1 + value;
                (target < 0 || target >= function.code.len() as i64)
                    .then(|| format!("jump target {target} outside the function"))
            }
            OperandKind::Imm => None,
            OperandKind::NumConst | OperandKind::NumConst16 => match program
                .constants
                .get(value as usize)
            {
                Some(Constant::Number(_)) => None,
                Some(Constant::String(_)) => Some(format!("constant #{value} must be a number")),
                None => Some(format!("constant #{value} out of range")),
            },
            OperandKind::Jump16 => {
                let target = pc as i64 + 1 + value;
                (target < 0 || target >= function.code.len() as i64)
                    .then(|| format!("jump target {target} outside the function"))
            }
        };
        if let Some(problem) = problem {
            return fail(
                here,
                format!("function {index} pc {pc} ({mnemonic} {name}): {problem}"),
            );
        }
    }
    if let Instr::Closure { proto, .. } = *instr {
        let created = &program.functions[proto as usize];
        for (slot, upvalue) in created.upvalues.iter().enumerate() {
            let limit = if upvalue.is_local {
                function.num_regs as usize
            } else {
                function.upvalues.len()
            };
            if usize::from(upvalue.index) >= limit {
                return fail(
                    Location::Upvalue { function: proto as usize, index: slot },
                    format!(
                        "function #{proto} upvalue {slot} captures index {} beyond function {index}'s {limit}",
                        upvalue.index
                    ),
                );
            }
        }
    }
    Ok(())
}
