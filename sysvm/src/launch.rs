//! `pvm sysvm boot`, start to finish: check everything that can be checked before a VM exists,
//! build the VM as a linear list of steps, run the vCPUs, and tear down on the first ending.
//!
//! **Invariant:** every error before the vCPUs start leaves nothing running and no terminal
//! state changed; after they start, every ending goes through `run_until_outcome`, which
//! restores the terminal.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use kvm_bindings::{kvm_pit_config, KVM_MAX_CPUID_ENTRIES, KVM_PIT_SPEAKER_DUMMY};
use kvm_ioctls::{Cap, Kvm, VcpuFd, VmFd};
use vmm_sys_util::eventfd::EventFd;

use crate::acpi::AcpiTables;
use crate::boot::{load_guest, BootError, BootInputs};
use crate::config::{ConfigError, GuestConfig, SerialTarget};
use crate::cpu::{self, CpuSetupError};
use crate::devices::{PortBus, SerialSink, SERIAL_IRQ};
use crate::layout;
use crate::memory::{map_guest_memory, register_guest_memory, GuestMemory, MemoryError};
use crate::outcome::{Outcome, EXIT_CONFIG, EXIT_IO, EXIT_NO_KVM, EXIT_SOFTWARE};
use crate::terminal::RawModeGuard;
use crate::{signals, terminal, vcpu};

/// How long teardown waits for vCPU threads to leave KVM_RUN.
const STOP_PATIENCE: Duration = Duration::from_millis(500);

/// Why a guest could not be started. Each variant maps to one documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `/dev/kvm` is missing, not accessible, or lacks something the launcher needs.
    #[error("/dev/kvm: {0}")]
    KvmUnavailable(String),
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The serial log file could not be opened.
    #[error("serial.path {path}: {source}")]
    SerialFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error(transparent)]
    CpuSetup(#[from] CpuSetupError),
    /// A VM-level KVM ioctl failed.
    #[error("{ioctl}: {source}")]
    VmSetup {
        ioctl: &'static str,
        source: kvm_ioctls::Error,
    },
    /// The launcher could not start one of its threads.
    #[error("starting the {what} thread: {source}")]
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
}

impl LaunchError {
    /// The documented exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::Config(ConfigError::Read { .. } | ConfigError::MissingFile { .. }) => {
                EXIT_IO
            }
            LaunchError::Config(_) => EXIT_CONFIG,
            LaunchError::KvmUnavailable(_) => EXIT_NO_KVM,
            LaunchError::Boot(BootError::Read { .. } | BootError::KernelFormat { .. }) => EXIT_IO,
            LaunchError::Boot(BootError::InitrdTooLarge { .. } | BootError::Cmdline(_)) => {
                EXIT_CONFIG
            }
            LaunchError::SerialFile { .. } => EXIT_IO,
            LaunchError::Boot(BootError::GuestWrite { .. })
            | LaunchError::Memory(_)
            | LaunchError::CpuSetup(_)
            | LaunchError::VmSetup { .. }
            | LaunchError::Thread { .. } => EXIT_SOFTWARE,
        }
    }
}

/// Options of `pvm sysvm boot` beyond the config file.
#[derive(Debug, Clone, Copy, Default)]
pub struct LaunchOptions {
    /// Print the launcher's peak RSS on stderr when the guest ends.
    pub report_peak_rss: bool,
}

/// Boots the guest described by the config at `config_path` and runs it to its end.
pub fn launch(config_path: &Path, options: LaunchOptions) -> Result<Outcome, LaunchError> {
    let config = GuestConfig::load(config_path)?;
    let kvm = open_kvm(&config)?;
    let sink = open_serial_sink(&config)?;

    let vm = create_vm(&kvm)?;
    let memory = map_guest_memory(config.memory_mib)?;
    // Order matters for boot time: measured here, registering guest memory before the
    // interrupt controllers and PIT exist takes ~0.2 ms, after them 4-12 ms.
    register_guest_memory(&vm, &memory)?;
    create_interrupt_controllers(&vm)?;
    let (vcpus, bus) = prepare_machine(&kvm, &vm, &memory, &config, sink)?;

    let (outcome, all_stopped) = run_until_outcome(&config, vcpus, bus)?;
    if options.report_peak_rss {
        report_peak_rss();
    }
    if all_stopped {
        drop(vm);
        drop::<GuestMemory>(memory);
    } else {
        // FIXME: a vCPU that ignores kicks (stuck in the host kernel) is left to the process
        // exit, since joining it could hang the launcher. Its VM and memory are leaked on
        // purpose so they are never unmapped under the running thread.
        std::mem::forget(vm);
        std::mem::forget(memory);
    }
    Ok(outcome)
}

/// Everything between an empty VM and runnable vCPUs: guest image and boot info in memory,
/// the serial device and its irqfd, and every vCPU's power-on state.
fn prepare_machine(
    kvm: &Kvm,
    vm: &VmFd,
    memory: &GuestMemory,
    config: &GuestConfig,
    sink: SerialSink,
) -> Result<(Vec<VcpuFd>, Arc<PortBus>), LaunchError> {
    let acpi = AcpiTables::build(config.vcpus);
    let inputs = BootInputs {
        kernel: &config.kernel,
        initrd: config.initrd.as_deref(),
        cmdline: &config.cmdline,
        memory_bytes: config.memory_mib << 20,
    };
    let loaded = load_guest(memory, &inputs, &acpi)?;

    let serial_irq = EventFd::new(libc::EFD_NONBLOCK).map_err(|source| LaunchError::VmSetup {
        ioctl: "eventfd",
        source: kvm_ioctls::Error::new(source.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    vm.register_irqfd(&serial_irq, SERIAL_IRQ)
        .map_err(|source| LaunchError::VmSetup {
            ioctl: "KVM_IRQFD",
            source,
        })?;
    let bus = Arc::new(PortBus::new(serial_irq, sink));

    let supported_cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(|source| LaunchError::VmSetup {
            ioctl: "KVM_GET_SUPPORTED_CPUID",
            source,
        })?;
    let mut vcpus = Vec::with_capacity(config.vcpus as usize);
    for index in 0..config.vcpus {
        let vcpu = vm
            .create_vcpu(u64::from(index))
            .map_err(|source| LaunchError::VmSetup {
                ioctl: "KVM_CREATE_VCPU",
                source,
            })?;
        cpu::set_cpuid(&vcpu, index, &supported_cpuid)?;
        cpu::set_common_state(&vcpu, index)?;
        if index == 0 {
            cpu::set_boot_state(&vcpu, memory, loaded.entry)?;
        }
        vcpus.push(vcpu);
    }
    Ok((vcpus, bus))
}

/// Opens `/dev/kvm` and checks the features and limits this launcher relies on.
fn open_kvm(config: &GuestConfig) -> Result<Kvm, LaunchError> {
    let kvm = Kvm::new().map_err(|error| {
        LaunchError::KvmUnavailable(format!(
            "cannot open: {error} (is KVM enabled and are you allowed to use it?)"
        ))
    })?;
    // KVM's API has been frozen at version 12 since Linux 2.6.22; anything else is not KVM.
    let api_version = kvm.get_api_version();
    if api_version != kvm_bindings::KVM_API_VERSION as i32 {
        return Err(LaunchError::KvmUnavailable(format!(
            "not a usable KVM device (KVM_GET_API_VERSION returned {api_version})"
        )));
    }
    let required = [
        (Cap::Irqchip, "in-kernel irqchip"),
        (Cap::Pit2, "in-kernel PIT"),
        (Cap::UserMemory, "user memory slots"),
        (Cap::SetTssAddr, "KVM_SET_TSS_ADDR"),
        (Cap::ExtCpuid, "KVM_GET_SUPPORTED_CPUID"),
        (Cap::Irqfd, "irqfd"),
    ];
    for (capability, name) in required {
        if !kvm.check_extension(capability) {
            return Err(LaunchError::KvmUnavailable(format!("lacks {name}")));
        }
    }
    let max_vcpus = kvm.get_max_vcpus();
    if config.vcpus as usize > max_vcpus {
        return Err(LaunchError::KvmUnavailable(format!(
            "supports at most {max_vcpus} vCPUs, config asks for {}",
            config.vcpus
        )));
    }
    Ok(kvm)
}

fn open_serial_sink(config: &GuestConfig) -> Result<SerialSink, LaunchError> {
    Ok(match &config.serial {
        SerialTarget::Stdio => SerialSink::Stdout,
        SerialTarget::None => SerialSink::Discard,
        SerialTarget::File(path) => SerialSink::File(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| LaunchError::SerialFile {
                    path: path.clone(),
                    source,
                })?,
        ),
    })
}

/// An empty VM with the pages KVM needs in the MMIO gap.
fn create_vm(kvm: &Kvm) -> Result<VmFd, LaunchError> {
    let ioctl_error = |ioctl| move |source| LaunchError::VmSetup { ioctl, source };
    let vm = kvm.create_vm().map_err(ioctl_error("KVM_CREATE_VM"))?;
    vm.set_tss_address(layout::KVM_TSS_ADDR as usize)
        .map_err(ioctl_error("KVM_SET_TSS_ADDR"))?;
    vm.set_identity_map_address(layout::KVM_IDENTITY_MAP_ADDR)
        .map_err(ioctl_error("KVM_SET_IDENTITY_MAP_ADDR"))?;
    Ok(vm)
}

/// The in-kernel PIC, IOAPIC, LAPICs and PIT. Must precede vCPU creation: KVM decides then
/// whether a vCPU has an in-kernel LAPIC (and so waits for INIT/SIPI).
fn create_interrupt_controllers(vm: &VmFd) -> Result<(), LaunchError> {
    let ioctl_error = |ioctl| move |source| LaunchError::VmSetup { ioctl, source };
    vm.create_irq_chip()
        .map_err(ioctl_error("KVM_CREATE_IRQCHIP"))?;
    let pit_config = kvm_pit_config {
        flags: KVM_PIT_SPEAKER_DUMMY,
        ..Default::default()
    };
    vm.create_pit2(pit_config)
        .map_err(ioctl_error("KVM_CREATE_PIT2"))
}

/// Starts input, signal and vCPU threads, waits for the first ending, and tears down. The
/// flag says whether every vCPU thread stopped.
fn run_until_outcome(
    config: &GuestConfig,
    vcpus: Vec<VcpuFd>,
    bus: Arc<PortBus>,
) -> Result<(Outcome, bool), LaunchError> {
    let thread_error = |what| move |source| LaunchError::Thread { what, source };
    let (outcome_sender, outcomes) = mpsc::channel();
    signals::forward_terminating_signals(outcome_sender.clone()).map_err(thread_error("signal"))?;
    vcpu::install_kick_handler().map_err(|error| LaunchError::Thread {
        what: "vCPU kick handler",
        source: std::io::Error::from_raw_os_error(error.errno()),
    })?;

    // From here on the guard restores the terminal when this function returns, whichever way.
    let raw_mode = match config.serial {
        SerialTarget::Stdio => RawModeGuard::enter(),
        _ => None,
    };
    if config.serial == SerialTarget::Stdio {
        terminal::spawn_input(Arc::clone(&bus), outcome_sender.clone())
            .map_err(thread_error("serial input"))?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::with_capacity(vcpus.len());
    for (index, vcpu_fd) in vcpus.into_iter().enumerate() {
        let spawned = vcpu::spawn(
            index as u32,
            vcpu_fd,
            Arc::clone(&bus),
            Arc::clone(&stop),
            outcome_sender.clone(),
        );
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(source) => {
                vcpu::stop_all(threads, &stop, STOP_PATIENCE);
                return Err(LaunchError::Thread {
                    what: "vCPU",
                    source,
                });
            }
        }
    }
    drop(outcome_sender);

    let outcome = outcomes.recv().unwrap_or_else(|_| {
        Outcome::Fault("every vCPU thread ended without reporting why".to_owned())
    });
    let all_stopped = vcpu::stop_all(threads, &stop, STOP_PATIENCE);
    drop(raw_mode);
    if !all_stopped {
        eprintln!("pvm sysvm: a vCPU thread did not stop; exiting anyway");
    }
    bus.report_unhandled();
    Ok((outcome, all_stopped))
}

/// Prints the process's peak resident set size, as the kernel accounts it.
fn report_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:")) {
        let kib = line.trim_start_matches("VmHWM:").trim();
        eprintln!("pvm sysvm: peak RSS {kib}");
    }
}
