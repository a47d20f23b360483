//! pvm's standard library: the native globals every program sees (`clock`, `str`,
//! `num`, `type`, `input`, `args`) and the standard modules (`math`, `random`,
//! `io`, `os`, plus modules written in Lox itself).
//!
//! The runtime knows nothing of any of this: hosts pass [`library`] to the loader,
//! and [`LOX_MODULES`] to the compiler, which bundles the Lox-written modules a
//! program imports into its `.pbc`. Nothing here ends the process or touches the
//! file system or environment without the permission the host granted.

mod args;
mod globals;
mod io;
mod math;
mod os;
mod permissions;
mod random;

use pvm_runtime::{Library, NativeModuleDef};

/// Everything the standard library offers the runtime.
pub fn library() -> Library {
    Library {
        globals: globals::GLOBALS,
        modules: MODULES,
    }
}

const MODULES: &[NativeModuleDef] = &[
    NativeModuleDef {
        name: "math",
        members: math::MEMBERS,
    },
    NativeModuleDef {
        name: "random",
        members: random::MEMBERS,
    },
    NativeModuleDef {
        name: "io",
        members: io::MEMBERS,
    },
    NativeModuleDef {
        name: "os",
        members: os::MEMBERS,
    },
];

/// Names of the native standard modules (for the compiler's import check).
pub fn native_module_names() -> Vec<&'static str> {
    MODULES.iter().map(|module| module.name).collect()
}

/// Standard modules written in Lox: (name, source). Their sources are checked by
/// `build.rs` at build time, embedded in the binary, and bundled by the compiler
/// into every program that imports them.
pub const LOX_MODULES: &[(&str, &str)] = &[
    ("strings", include_str!("../lox/strings.lox")),
    ("iter", include_str!("../lox/iter.lox")),
];

/// Starts the clock that `clock()` measures from; hosts call it at start-up.
pub fn start_clock() {
    globals::process_start();
}
