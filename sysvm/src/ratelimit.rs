//! A log for events the guest can trigger at will (unhandled ports and addresses): the first
//! few are printed, then one line says the rest are suppressed, so a guest cannot flood the
//! terminal or slow the launcher down with logging.

use std::sync::atomic::{AtomicU32, Ordering};

/// Counts messages and prints only the first `limit`.
pub struct RateLimitedLog {
    what: &'static str,
    limit: u32,
    seen: AtomicU32,
}

impl RateLimitedLog {
    pub const fn new(what: &'static str, limit: u32) -> Self {
        RateLimitedLog {
            what,
            limit,
            seen: AtomicU32::new(0),
        }
    }

    /// Logs the message built by `message` unless the limit has been reached. The closure keeps
    /// formatting off the fast path once logging is suppressed.
    pub fn log(&self, message: impl FnOnce() -> String) {
        let seen = self.seen.fetch_add(1, Ordering::Relaxed);
        if seen < self.limit {
            eprintln!("pvm sysvm: {}", message());
        } else if seen == self.limit {
            eprintln!(
                "pvm sysvm: more {} than {}; not logging further ones",
                self.what, self.limit
            );
        }
    }

    /// How many events were counted, logged or not.
    pub fn count(&self) -> u32 {
        self.seen.load(Ordering::Relaxed)
    }

    /// Prints the total if some events went unlogged, so the user knows how many there were.
    pub fn report_suppressed(&self) {
        let seen = self.count();
        if seen > self.limit {
            eprintln!("pvm sysvm: {seen} {} in all", self.what);
        }
    }
}
