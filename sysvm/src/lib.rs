//! pvm's system-VM half: boots a guest kernel on KVM from a small TOML config.
//!
//! The `pvm` binary reaches this crate only through [`cli`], so the launcher can grow devices
//! and boot paths without the process-VM side knowing about them. [`launch`] orders the
//! steps; each other module owns one piece of the machine:
//!
//! - [`config`]: the TOML file, its limits, and every check that needs no KVM.
//! - [`layout`]: guest-physical addresses and the memory map; [`memory`]: guest RAM.
//! - [`boot`]: bzImage and PVH loading, zero page and `hvm_start_info`; [`acpi`]: the tables.
//! - [`cpu`]: each vCPU's power-on state; `vcpu`: the per-vCPU run loop.
//! - [`devices`]: serial, i8042, ACPI sleep and test-exit ports; `terminal`: the console.
//! - [`outcome`]: how a run ends and the exit code for each ending.
//!
//! **Invariant:** unsafe code lives only where KVM or libc demand it (memory slot
//! registration, the KVM exit union, termios, signals, sysinfo), each block with a
//! `// SAFETY:` comment. `spec/sysvm.md` is the user-facing description.

pub mod acpi;
pub mod boot;
pub mod cli;
pub mod config;
pub mod cpu;
pub mod devices;
pub mod launch;
pub mod layout;
pub mod memory;
pub mod outcome;
mod ratelimit;
mod signals;
mod terminal;
mod vcpu;
