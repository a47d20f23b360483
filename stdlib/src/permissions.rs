//! Deno-style permission checks: programs read files only under `--allow-read`,
//! write them only under `--allow-write`, and read the environment only under
//! `--allow-env`. A denied operation is a catchable `Error` naming the flag.

use pvm_runtime::{NativeError, Vm};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Access {
    fn flag(self) -> &'static str {
        match self {
            Access::Read => "--allow-read",
            Access::Write => "--allow-write",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Access::Read => "Reading",
            Access::Write => "Writing",
        }
    }
}

/// Allows the operation, or explains which flag would allow it.
pub(crate) fn check_path(vm: &Vm, access: Access, path: &str) -> Result<(), NativeError> {
    let permissions = &vm.options().permissions;
    let granted = match access {
        Access::Read => &permissions.read,
        Access::Write => &permissions.write,
    };
    let allowed = match granted {
        None => false,
        Some(roots) if roots.is_empty() => true,
        Some(roots) => {
            let wanted = absolute(&follow_links(Path::new(path)));
            roots.iter().any(|root| wanted.starts_with(absolute(root)))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(NativeError::Error(format!(
            "{} '{path}' is not permitted; run with {}[=PATH] or -A.",
            access.verb(),
            access.flag()
        )))
    }
}

pub(crate) fn check_env(vm: &Vm, name: &str) -> Result<(), NativeError> {
    if vm.options().permissions.env {
        Ok(())
    } else {
        Err(NativeError::Error(format!(
            "Reading environment variable '{name}' is not permitted; run with --allow-env or -A."
        )))
    }
}

/// Follows `path` while it is a symbolic link, even a dangling one: writing
/// through a dangling link creates its target, so the target is what must be
/// allowed. Gives up (returning the last link) after 40 hops, as the kernel does.
fn follow_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let is_link = std::fs::symlink_metadata(&current).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            break;
        }
        match std::fs::read_link(&current) {
            Ok(target) if target.is_absolute() => current = target,
            Ok(target) => {
                current = current
                    .parent()
                    .map_or_else(|| target.clone(), |parent| parent.join(&target))
            }
            Err(_) => break,
        }
    }
    current
}

/// The path made absolute and cleaned of `.` and `..` without touching the file
/// system for the part that does not exist yet, so that `allowed/../secret` is
/// not mistaken for a path under `allowed`. Existing prefixes are canonicalised,
/// which resolves symbolic links.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut clean = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Canonicalise the longest existing ancestor, then re-append the rest.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_owned()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut result = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        result.push(name);
    }
    result
}
