//! The console side of the serial port: raw mode on a terminal (restored by a guard on every
//! exit path), a thread feeding stdin to the UART, and the Ctrl-A x escape that quits.

use std::io::Read;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crate::devices::PortBus;
use crate::outcome::Outcome;

/// Ctrl-A starts an escape sequence; Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.
const ESCAPE: u8 = 0x01;

/// Holds the terminal's original settings and puts them back when dropped.
pub struct RawModeGuard {
    original: libc::termios,
}

impl RawModeGuard {
    /// Switches stdin to raw mode if it is a terminal. Output processing is left on so the
    /// launcher's own messages still start at the left margin.
    pub fn enter() -> Option<Self> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } != 1 {
            return None;
        }
        // SAFETY: termios is plain data; tcgetattr fills it and we check the result.
        let mut original: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `original` is a valid termios to write into.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut original) } != 0 {
            return None;
        }
        let mut raw = original;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_iflag &= !(libc::IXON | libc::ICRNL | libc::INLCR | libc::IGNCR);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: `raw` is a fully initialised termios derived from the current settings.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(RawModeGuard { original })
    }
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        // SAFETY: restores settings read from this same descriptor by tcgetattr.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.original) };
    }
}

/// Decodes the escape sequence in the keystroke stream.
#[derive(Default)]
struct EscapeDecoder {
    after_escape: bool,
}

enum Key {
    Forward(Vec<u8>),
    Quit,
}

impl EscapeDecoder {
    fn feed(&mut self, input: &[u8]) -> Key {
        let mut forward = Vec::with_capacity(input.len());
        for &byte in input {
            if self.after_escape {
                self.after_escape = false;
                match byte {
                    b'x' | b'X' => return Key::Quit,
                    ESCAPE => forward.push(ESCAPE),
                    other => forward.extend_from_slice(&[ESCAPE, other]),
                }
            } else if byte == ESCAPE {
                self.after_escape = true;
            } else {
                forward.push(byte);
            }
        }
        Key::Forward(forward)
    }
}

/// Starts the thread that copies stdin to the guest's UART. It ends at end of input; the
/// guest keeps running.
pub fn spawn_input(bus: Arc<PortBus>, outcomes: Sender<Outcome>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("serial-in".to_owned())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut decoder = EscapeDecoder::default();
            let mut buffer = [0u8; 64];
            let mut stdin = std::io::stdin().lock();
            loop {
                let count = match stdin.read(&mut buffer) {
                    Ok(0) => return,
                    Ok(count) => count,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => return,
                };
                match decoder.feed(&buffer[..count]) {
                    Key::Quit => {
                        let _ = outcomes.send(Outcome::EscapeQuit);
                        return;
                    }
                    Key::Forward(bytes) => enqueue(&bus, &bytes),
                }
            }
        })
        .map(|_| ())
}

/// Hands bytes to the UART, waiting while its receive FIFO is full so no keystroke is lost.
fn enqueue(bus: &PortBus, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match bus.serial().enqueue_raw_bytes(bytes) {
            Ok(taken) => bytes = &bytes[taken..],
            Err(vm_superio::serial::Error::FullFifo) => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(decoder: &mut EscapeDecoder, input: &[u8]) -> Option<Vec<u8>> {
        match decoder.feed(input) {
            Key::Forward(bytes) => Some(bytes),
            Key::Quit => None,
        }
    }

    #[test]
    fn plain_input_passes_through() {
        let mut decoder = EscapeDecoder::default();
        assert_eq!(forwarded(&mut decoder, b"ls\r"), Some(b"ls\r".to_vec()));
    }

    #[test]
    fn ctrl_a_x_quits_even_across_reads() {
        let mut decoder = EscapeDecoder::default();
        assert_eq!(forwarded(&mut decoder, b"a\x01"), Some(b"a".to_vec()));
        assert_eq!(forwarded(&mut decoder, b"x"), None);
    }

    #[test]
    fn double_ctrl_a_sends_one() {
        let mut decoder = EscapeDecoder::default();
        assert_eq!(
            forwarded(&mut decoder, b"\x01\x01b"),
            Some(b"\x01b".to_vec())
        );
        assert_eq!(forwarded(&mut decoder, b"\x01c"), Some(b"\x01c".to_vec()));
    }
}
