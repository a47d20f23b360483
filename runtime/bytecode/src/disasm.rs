//! A readable listing of a [`Program`], in the spirit of `javap -c`: the constant
//! pool, the global slots, then each function with its registers, upvalues and
//! code, every instruction annotated with what its operands name and the source
//! line it came from.

use crate::isa::{Operand, OperandKind};
use crate::program::{Constant, Function, Program};
use std::fmt::Write;

/// Renders the whole program.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "files: {}", program.files.join(", "));
    let _ = writeln!(out, "constants ({}):", program.constants.len());
    for (index, constant) in program.constants.iter().enumerate() {
        let _ = writeln!(out, "  #{index:<5} {}", describe_constant(constant));
    }
    let _ = writeln!(out, "globals ({}):", program.globals.len());
    for (slot, &name) in program.globals.iter().enumerate() {
        let _ = writeln!(
            out,
            "  g{slot:<5} {}",
            program.string(name).unwrap_or("<bad name>")
        );
    }
    if !program.modules.is_empty() {
        let _ = writeln!(out, "modules ({}):", program.modules.len());
    }
    for (index, module) in program.modules.iter().enumerate() {
        let exports: Vec<String> = module
            .exports
            .iter()
            .map(|e| {
                format!(
                    "{}=g{}",
                    program.string(e.name).unwrap_or("<bad name>"),
                    e.slot
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  m{index:<5} {} (fn#{}): {}",
            program.string(module.name).unwrap_or("<bad name>"),
            module.function,
            exports.join(", ")
        );
    }
    for (index, function) in program.functions.iter().enumerate() {
        out.push('\n');
        disassemble_function(program, index, function, &mut out);
    }
    out
}

fn describe_constant(constant: &Constant) -> String {
    match constant {
        Constant::Number(value) => format!("number {value:?}"),
        Constant::String(text) => format!("string {text:?}"),
    }
}

fn disassemble_function(program: &Program, index: usize, function: &Function, out: &mut String) {
    let name = program.string(function.name).unwrap_or("<bad name>");
    let file = program
        .files
        .get(function.file as usize)
        .map_or("<bad file>", String::as_str);
    let entry = if index == program.entry as usize {
        ", entry"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "function #{index} {name} ({file}{entry}): arity {}, {} registers, {} upvalues",
        function.arity,
        function.num_regs,
        function.upvalues.len()
    );
    for (slot, upvalue) in function.upvalues.iter().enumerate() {
        let source = if upvalue.is_local {
            "register r"
        } else {
            "upvalue u"
        };
        let _ = writeln!(out, "  upvalue u{slot} <- {source}{}", upvalue.index);
    }
    let mut last_line = None;
    for (pc, instr) in function.code.iter().enumerate() {
        let line = function.position(pc).map(|(line, _)| line);
        let line_text = match line {
            Some(line) if Some(line) != last_line => format!("{line:>5}"),
            Some(_) => "    |".to_owned(),
            None => "    ?".to_owned(),
        };
        last_line = line;
        let operands = instr.operands();
        let rendered: Vec<String> = operands.iter().map(render_operand).collect();
        let comment: Vec<String> = operands
            .iter()
            .filter_map(|operand| annotate(program, pc, operand))
            .collect();
        let mut text = format!(
            "{line_text} {pc:>5}  {:<12} {}",
            instr.mnemonic(),
            rendered.join(", ")
        );
        if !comment.is_empty() {
            let width = text.len().max(48);
            text = format!("{text:<width$} ; {}", comment.join(", "));
        }
        let _ = writeln!(out, "{text}");
    }
}

fn render_operand(operand: &Operand) -> String {
    match operand.kind {
        OperandKind::Reg => format!("r{}", operand.value),
        OperandKind::Count | OperandKind::Span | OperandKind::PairSpan | OperandKind::Imm => {
            operand.value.to_string()
        }
        OperandKind::Pair => format!("r{}..r{}", operand.value, operand.value + 1),
        OperandKind::Module => format!("m{}", operand.value),
        OperandKind::Const
        | OperandKind::Name
        | OperandKind::NumConst
        | OperandKind::NumConst16 => {
            format!("#{}", operand.value)
        }
        OperandKind::Global => format!("g{}", operand.value),
        OperandKind::Upval => format!("u{}", operand.value),
        OperandKind::Proto => format!("fn#{}", operand.value),
        OperandKind::Jump | OperandKind::Jump16 => format!("{:+}", operand.value),
    }
}

fn annotate(program: &Program, pc: usize, operand: &Operand) -> Option<String> {
    let index = usize::try_from(operand.value).ok();
    match operand.kind {
        OperandKind::Const
        | OperandKind::Name
        | OperandKind::NumConst
        | OperandKind::NumConst16 => {
            let constant = program.constants.get(index?)?;
            Some(match constant {
                Constant::Number(value) => format!("{value:?}"),
                Constant::String(text) => format!("{text:?}"),
            })
        }
        OperandKind::Global => {
            let name = program.globals.get(index?)?;
            program.string(*name).map(str::to_owned)
        }
        OperandKind::Proto => {
            let function = program.functions.get(index?)?;
            program
                .string(function.name)
                .map(|name| format!("<fn {name}>"))
        }
        OperandKind::Jump | OperandKind::Jump16 => {
            Some(format!("to {}", pc as i64 + 1 + operand.value))
        }
        OperandKind::Module => {
            let module = program.modules.get(index?)?;
            program
                .string(module.name)
                .map(|name| format!("module {name}"))
        }
        _ => None,
    }
}
