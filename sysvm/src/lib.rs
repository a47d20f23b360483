//! pvm's system-VM half: boots a guest kernel on KVM from a small TOML config.
//!
//! The `pvm` binary reaches this crate only through [`cli`], so the launcher can
//! grow devices and boot paths without the process-VM side knowing about them.

pub mod cli;
