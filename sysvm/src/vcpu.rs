//! One thread per vCPU: run KVM_RUN, hand port and MMIO exits to the device bus, and report
//! the first exit that ends the guest to the main thread.
//!
//! The main thread stops vCPUs by setting the shared stop flag and kicking each thread with
//! [`kick_signal`], whose no-op handler makes a blocked KVM_RUN return EINTR.

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kvm_bindings::{KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN};
use kvm_ioctls::{VcpuExit, VcpuFd};
use vmm_sys_util::signal::{register_signal_handler, Killable, SIGRTMIN};

use crate::devices::PortBus;
use crate::outcome::Outcome;

/// Stack for vCPU threads: the run loop is shallow, and only touched pages cost memory anyway.
const VCPU_STACK_SIZE: usize = 256 * 1024;

/// The real-time signal used to interrupt KVM_RUN.
pub fn kick_signal() -> c_int {
    SIGRTMIN()
}

extern "C" fn ignore_kick(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {}

/// Installs the no-op handler for [`kick_signal`]; without a handler the signal would kill us.
pub fn install_kick_handler() -> Result<(), vmm_sys_util::errno::Error> {
    register_signal_handler(kick_signal(), ignore_kick)
}

/// What one KVM exit means for the run loop.
enum Step {
    Continue,
    Stop(Outcome),
    /// A KVM-level failure: the register dump is appended once the exit's borrow has ended.
    Fatal(String),
    /// KVM_EXIT_INTERNAL_ERROR: its suberror is read once the exit's borrow has ended.
    InternalError,
}

/// Starts vCPU `index` on its own thread; its ending is sent on `outcomes`.
pub fn spawn(
    index: u32,
    vcpu: VcpuFd,
    bus: Arc<PortBus>,
    stop: Arc<AtomicBool>,
    outcomes: Sender<Outcome>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("vcpu{index}"))
        .stack_size(VCPU_STACK_SIZE)
        .spawn(move || {
            if let Some(outcome) = run(index, vcpu, &bus, &stop) {
                // The receiver is gone only when another ending won the race; nothing to do.
                let _ = outcomes.send(outcome);
            }
        })
}

/// Runs until the guest ends the run (Some) or the main thread asks us to stop (None).
fn run(index: u32, mut vcpu: VcpuFd, bus: &PortBus, stop: &AtomicBool) -> Option<Outcome> {
    loop {
        if stop.load(Ordering::Acquire) {
            return None;
        }
        let step = match vcpu.run() {
            Ok(exit) => handle_exit(index, exit, bus),
            Err(error) if error.errno() == libc::EINTR || error.errno() == libc::EAGAIN => {
                Step::Continue
            }
            Err(error) => Step::Fatal(format!("KVM_RUN on vCPU {index} failed: {error}")),
        };
        match step {
            Step::Continue => {}
            Step::Stop(outcome) => return Some(outcome),
            Step::Fatal(message) => {
                return Some(Outcome::Fault(format!(
                    "{message}; {}",
                    dump_registers(&vcpu)
                )))
            }
            Step::InternalError => return Some(internal_error(index, &mut vcpu)),
        }
    }
}

/// Describes a KVM_EXIT_INTERNAL_ERROR with its suberror, data words and the registers.
fn internal_error(index: u32, vcpu: &mut VcpuFd) -> Outcome {
    let run = vcpu.get_kvm_run();
    // SAFETY: the last exit was KVM_EXIT_INTERNAL_ERROR, so the kernel filled the `internal`
    // member of the exit-information union.
    let internal = unsafe { run.__bindgen_anon_1.internal };
    let count = (internal.ndata as usize).min(internal.data.len());
    let data: Vec<String> = internal.data[..count]
        .iter()
        .map(|word| format!("{word:#x}"))
        .collect();
    Outcome::Fault(format!(
        "KVM internal error on vCPU {index} (KVM_EXIT_INTERNAL_ERROR, suberror {}, data [{}]); {}",
        internal.suberror,
        data.join(" "),
        dump_registers(vcpu)
    ))
}

fn handle_exit(index: u32, exit: VcpuExit<'_>, bus: &PortBus) -> Step {
    match exit {
        VcpuExit::IoIn(port, data) => {
            bus.read(port, data);
            Step::Continue
        }
        VcpuExit::IoOut(port, data) => bus.write(port, data).map_or(Step::Continue, Step::Stop),
        VcpuExit::MmioRead(address, data) => {
            bus.unhandled_mmio(address, Some(data));
            Step::Continue
        }
        VcpuExit::MmioWrite(address, _) => {
            bus.unhandled_mmio(address, None);
            Step::Continue
        }
        VcpuExit::Intr | VcpuExit::IrqWindowOpen => Step::Continue,
        VcpuExit::Shutdown => Step::Stop(Outcome::TripleFault { vcpu: index }),
        VcpuExit::SystemEvent(kind, _)
            if kind == KVM_SYSTEM_EVENT_SHUTDOWN || kind == KVM_SYSTEM_EVENT_RESET =>
        {
            Step::Stop(Outcome::SystemEvent(kind))
        }
        VcpuExit::SystemEvent(kind, data) => Step::Fatal(format!(
            "KVM system event {kind} (e.g. guest crash) on vCPU {index}, data {data:x?}"
        )),
        VcpuExit::FailEntry(reason, cpu) => Step::Fatal(format!(
            "KVM could not enter vCPU {index} (hardware entry failure reason {reason:#x} on \
             host CPU {cpu})"
        )),
        VcpuExit::InternalError => Step::InternalError,
        other => Step::Fatal(format!("unexpected KVM exit on vCPU {index}: {other:?}")),
    }
}

/// The registers a person debugging a KVM failure looks at first, on one line.
fn dump_registers(vcpu: &VcpuFd) -> String {
    let (Ok(regs), Ok(sregs)) = (vcpu.get_regs(), vcpu.get_sregs()) else {
        return "registers unavailable".to_owned();
    };
    format!(
        "rip={:#x} rsp={:#x} rflags={:#x} rax={:#x} rbx={:#x} rcx={:#x} rdx={:#x} rsi={:#x} \
         rdi={:#x} cs={:#x} cr0={:#x} cr2={:#x} cr3={:#x} cr4={:#x} efer={:#x}",
        regs.rip,
        regs.rsp,
        regs.rflags,
        regs.rax,
        regs.rbx,
        regs.rcx,
        regs.rdx,
        regs.rsi,
        regs.rdi,
        sregs.cs.selector,
        sregs.cr0,
        sregs.cr2,
        sregs.cr3,
        sregs.cr4,
        sregs.efer
    )
}

/// Asks every vCPU thread to stop and waits up to `patience` for them; returns false if any
/// is still running (it then dies with the process).
pub fn stop_all(threads: Vec<JoinHandle<()>>, stop: &AtomicBool, patience: Duration) -> bool {
    stop.store(true, Ordering::Release);
    let deadline = Instant::now() + patience;
    let mut running = threads;
    while !running.is_empty() && Instant::now() < deadline {
        // A kick that lands just before a thread re-enters KVM_RUN is lost, so keep kicking
        // until each thread has seen the flag.
        for thread in &running {
            let _ = thread.kill(kick_signal());
        }
        std::thread::sleep(Duration::from_micros(200));
        let (finished, still_running): (Vec<_>, Vec<_>) =
            running.into_iter().partition(|thread| thread.is_finished());
        for thread in finished {
            let _ = thread.join();
        }
        running = still_running;
    }
    running.is_empty()
}
