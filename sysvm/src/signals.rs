//! SIGINT, SIGTERM and SIGHUP become an ordinary [`Outcome`], so a signal tears the guest down
//! through the same path as a power-off: vCPUs stopped, terminal restored, code reported.
//!
//! The signals are blocked before any other thread starts (threads inherit the mask) and one
//! thread collects them with `sigwait`, which keeps all the work out of signal-handler context.

use std::sync::mpsc::Sender;

use crate::outcome::Outcome;

const TERMINATING_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Blocks the terminating signals in this thread (and so in every thread started after it)
/// and starts the thread that turns them into outcomes.
pub fn forward_terminating_signals(outcomes: Sender<Outcome>) -> std::io::Result<()> {
    let set = signal_set();
    // SAFETY: `set` is an initialised sigset; a null old-set pointer is allowed.
    let status = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if status != 0 {
        return Err(std::io::Error::from_raw_os_error(status));
    }
    std::thread::Builder::new()
        .name("signals".to_owned())
        .stack_size(64 * 1024)
        .spawn(move || {
            let set = signal_set();
            let mut signal: libc::c_int = 0;
            // SAFETY: both pointers refer to live locals; sigwait only reads `set`.
            if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                let _ = outcomes.send(Outcome::Signal(signal));
            }
        })
        .map(|_| ())
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data and sigemptyset initialises it before any use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; the signal numbers are valid constants.
    unsafe {
        libc::sigemptyset(&mut set);
        for signal in TERMINATING_SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
    }
    set
}
