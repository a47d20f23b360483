//! `import "io";` — files (behind the read and write permissions) and the
//! standard streams (always open). Failures throw an `Error` naming the path and
//! the reason.

use crate::args::{string, string_list};
use crate::permissions::{check_path, Access};
use pvm_runtime::{NativeDef, NativeError, NativeMember, Value, Vm};
use std::io::Write;

pub(crate) const MEMBERS: &[NativeMember] = &[
    NativeMember::Function(NativeDef {
        name: "readFile",
        arity: Some(1),
        function: read_file,
    }),
    NativeMember::Function(NativeDef {
        name: "writeFile",
        arity: Some(2),
        function: write_file,
    }),
    NativeMember::Function(NativeDef {
        name: "appendFile",
        arity: Some(2),
        function: append_file,
    }),
    NativeMember::Function(NativeDef {
        name: "lines",
        arity: Some(1),
        function: lines,
    }),
    NativeMember::Function(NativeDef {
        name: "exists",
        arity: Some(1),
        function: exists,
    }),
    NativeMember::Function(NativeDef {
        name: "write",
        arity: Some(1),
        function: write,
    }),
    NativeMember::Function(NativeDef {
        name: "ewrite",
        arity: Some(1),
        function: ewrite,
    }),
];

fn failed(function: &str, path: &str, error: std::io::Error) -> NativeError {
    NativeError::Error(format!("{function}: '{path}': {error}"))
}

fn read_text(vm: &Vm, function: &str, path: &str) -> Result<String, NativeError> {
    check_path(vm, Access::Read, path)?;
    std::fs::read_to_string(path).map_err(|error| failed(function, path, error))
}

fn read_file(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let path = string(vm, args[0], "readFile")?;
    let text = read_text(vm, "readFile", &path)?;
    Ok(vm.string_value(&text))
}

fn lines(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let path = string(vm, args[0], "lines")?;
    let text = read_text(vm, "lines", &path)?;
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    Ok(string_list(vm, &lines))
}

fn exists(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let path = string(vm, args[0], "exists")?;
    check_path(vm, Access::Read, &path)?;
    Ok(Value::bool(std::path::Path::new(&path).exists()))
}

fn write_file(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    store(vm, args, "writeFile", false)
}

fn append_file(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    store(vm, args, "appendFile", true)
}

fn store(vm: &mut Vm, args: &[Value], function: &str, append: bool) -> Result<Value, NativeError> {
    let path = string(vm, args[0], function)?;
    let text = string(vm, args[1], function)?;
    check_path(vm, Access::Write, &path)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&path)
        .map_err(|error| failed(function, &path, error))?;
    file.write_all(text.as_bytes())
        .map_err(|error| failed(function, &path, error))?;
    Ok(Value::NIL)
}

/// Text to standard output without a newline.
fn write(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = vm.display_string(args[0])?;
    vm.write_output(&text)
        .map_err(|error| NativeError::Error(format!("write: {error}")))?;
    Ok(Value::NIL)
}

/// Text to standard error without a newline (after flushing standard output, so
/// the two streams interleave as the program wrote them).
fn ewrite(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let text = vm.display_string(args[0])?;
    let _ = vm.flush_output();
    let mut stderr = std::io::stderr().lock();
    stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush())
        .map_err(|error| NativeError::Error(format!("ewrite: {error}")))?;
    Ok(Value::NIL)
}
