//! The guest's port I/O devices: the 16550 serial port at 0x3f8 (IRQ 4), the i8042 whose reset
//! command ends the run, the ACPI sleep registers, and the test-exit port 0xf4.
//!
//! Every vCPU thread dispatches its port exits here. Anything else is answered as an empty
//! bus would (reads return all ones) and logged, rate-limited, because guests probe freely.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use vm_superio::{I8042Device, Serial, Trigger};
use vmm_sys_util::eventfd::EventFd;

use crate::acpi::{S5_SLEEP_TYPE, SLEEP_CONTROL_PORT, SLEEP_STATUS_PORT, SLP_EN};
use crate::outcome::{Outcome, TEST_EXIT_PORT};
use crate::ratelimit::RateLimitedLog;

/// COM1's port range and the IRQ line Linux expects it on.
pub const SERIAL_PORT_BASE: u16 = 0x3f8;
const SERIAL_PORT_LAST: u16 = 0x3ff;
pub const SERIAL_IRQ: u32 = 4;
/// The i8042's data and command/status ports.
const I8042_DATA_PORT: u16 = 0x60;
const I8042_COMMAND_PORT: u16 = 0x64;

/// How many unhandled port or MMIO accesses are logged before the rest are only counted.
const UNHANDLED_LOG_LIMIT: u32 = 10;

/// Raises the serial IRQ through an irqfd registered with KVM.
pub struct IrqTrigger(pub EventFd);

impl Trigger for IrqTrigger {
    type E = io::Error;

    fn trigger(&self) -> io::Result<()> {
        self.0.write(1)
    }
}

/// Remembers that the guest asked the i8042 for a CPU reset.
#[derive(Default)]
pub struct ResetRequest(AtomicBool);

impl Trigger for ResetRequest {
    type E = std::convert::Infallible;

    fn trigger(&self) -> Result<(), Self::E> {
        self.0.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// Where the guest's serial output goes.
pub enum SerialSink {
    /// The launcher's stdout, flushed per write so interactive output is never held back.
    Stdout,
    /// A log file, unbuffered so nothing is lost on any exit path.
    File(File),
    /// Dropped.
    Discard,
}

impl Write for SerialSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            SerialSink::Stdout => {
                let mut stdout = io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()?;
                Ok(bytes.len())
            }
            SerialSink::File(file) => file.write(bytes),
            SerialSink::Discard => Ok(bytes.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            SerialSink::Stdout => io::stdout().flush(),
            SerialSink::File(file) => file.flush(),
            SerialSink::Discard => Ok(()),
        }
    }
}

/// The UART as vm-superio models it.
pub type SerialDevice = Serial<IrqTrigger, vm_superio::serial::NoEvents, SerialSink>;

/// All port-mapped devices, shared by the vCPU threads.
pub struct PortBus {
    serial: Mutex<SerialDevice>,
    i8042: Mutex<I8042Device<ResetRequest>>,
    unhandled: RateLimitedLog,
}

impl PortBus {
    pub fn new(serial_irq: EventFd, sink: SerialSink) -> Self {
        PortBus {
            serial: Mutex::new(Serial::new(IrqTrigger(serial_irq), sink)),
            i8042: Mutex::new(I8042Device::new(ResetRequest::default())),
            unhandled: RateLimitedLog::new("unhandled guest I/O accesses", UNHANDLED_LOG_LIMIT),
        }
    }

    /// The serial device, for feeding it input from the terminal.
    pub fn serial(&self) -> MutexGuard<'_, SerialDevice> {
        // A vCPU thread that panicked while holding the lock left the UART in a usable state
        // (its registers are plain bytes), so keep going rather than propagate the poison.
        self.serial
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Handles a guest `in` from `port`.
    pub fn read(&self, port: u16, data: &mut [u8]) {
        let value = match port {
            SERIAL_PORT_BASE..=SERIAL_PORT_LAST => {
                self.serial().read((port - SERIAL_PORT_BASE) as u8)
            }
            I8042_DATA_PORT | I8042_COMMAND_PORT => self
                .i8042
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .read((port - I8042_DATA_PORT) as u8),
            // Never woken from a sleep state: the status register reads as zero.
            SLEEP_STATUS_PORT | SLEEP_CONTROL_PORT => 0,
            _ => {
                self.unhandled
                    .log(|| format!("unhandled port read: {port:#x} ({} bytes)", data.len()));
                data.fill(0xff);
                return;
            }
        };
        data.fill(0);
        if let Some(first) = data.first_mut() {
            *first = value;
        }
    }

    /// Handles a guest `out` to `port`; returns an outcome when the write ends the run.
    pub fn write(&self, port: u16, data: &[u8]) -> Option<Outcome> {
        let value = *data.first()?;
        match port {
            SERIAL_PORT_BASE..=SERIAL_PORT_LAST => {
                // Output errors (a closed stdout) must not stop the guest; it cannot act on them.
                let _ = self.serial().write((port - SERIAL_PORT_BASE) as u8, value);
                None
            }
            I8042_DATA_PORT | I8042_COMMAND_PORT => {
                let mut i8042 = self
                    .i8042
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let _ = i8042.write((port - I8042_DATA_PORT) as u8, value);
                i8042
                    .reset_evt()
                    .0
                    .load(Ordering::SeqCst)
                    .then_some(Outcome::Reset)
            }
            TEST_EXIT_PORT => Some(Outcome::TestExit(value)),
            SLEEP_CONTROL_PORT => {
                let sleep_type = (value >> 2) & 0x7;
                (value & SLP_EN != 0 && sleep_type == S5_SLEEP_TYPE).then_some(Outcome::PowerOff)
            }
            SLEEP_STATUS_PORT => None,
            _ => {
                self.unhandled
                    .log(|| format!("unhandled port write: {port:#x} <- {value:#x}"));
                None
            }
        }
    }

    /// Says how many unhandled accesses there were, if not all were logged.
    pub fn report_unhandled(&self) {
        self.unhandled.report_suppressed();
    }

    /// Logs a guest access to an address no device answers. Reads see all ones.
    pub fn unhandled_mmio(&self, address: u64, data: Option<&mut [u8]>) {
        let kind = if data.is_some() { "read" } else { "write" };
        self.unhandled
            .log(|| format!("unhandled MMIO {kind} at {address:#x}"));
        if let Some(data) = data {
            data.fill(0xff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus() -> PortBus {
        let irq = EventFd::new(libc::EFD_NONBLOCK).expect("eventfd");
        PortBus::new(irq, SerialSink::Discard)
    }

    #[test]
    fn i8042_reset_ends_the_run() {
        let bus = bus();
        assert_eq!(bus.write(I8042_COMMAND_PORT, &[0xaa]), None);
        assert_eq!(bus.write(I8042_COMMAND_PORT, &[0xfe]), Some(Outcome::Reset));
    }

    #[test]
    fn acpi_soft_off_ends_the_run() {
        let bus = bus();
        assert_eq!(bus.write(SLEEP_CONTROL_PORT, &[S5_SLEEP_TYPE << 2]), None);
        let soft_off = (S5_SLEEP_TYPE << 2) | SLP_EN;
        assert_eq!(
            bus.write(SLEEP_CONTROL_PORT, &[soft_off]),
            Some(Outcome::PowerOff)
        );
    }

    #[test]
    fn test_exit_port_carries_the_code() {
        assert_eq!(
            bus().write(TEST_EXIT_PORT, &[7]),
            Some(Outcome::TestExit(7))
        );
    }

    #[test]
    fn unknown_ports_read_all_ones() {
        let bus = bus();
        let mut data = [0u8; 2];
        bus.read(0x1234, &mut data);
        assert_eq!(data, [0xff, 0xff]);
        assert_eq!(bus.unhandled.count(), 1);
    }

    #[test]
    fn serial_line_status_reports_empty_transmitter() {
        let mut data = [0u8];
        bus().read(SERIAL_PORT_BASE + 5, &mut data);
        assert_ne!(data[0] & 0x20, 0);
    }
}
