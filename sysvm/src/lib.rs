//! pvm's system-VM half: boots a guest kernel on KVM from a small TOML config.
//!
//! The `pvm` binary reaches this crate only through [`cli`], so the launcher can grow devices
//! and boot paths without the process-VM side knowing about them. [`launch`] orders the steps;
//! each other module owns one piece of the machine (memory layout, boot protocols, ACPI, vCPU
//! state, devices, run loop, console). `spec/sysvm.md` is the user-facing description.

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
