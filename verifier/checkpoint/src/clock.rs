//! The clock-set-back guard: a checkpoint remembers the newest time it has
//! ever seen, and refuses to decide while its clock says a time more than
//! the tolerated skew before it (a clock set back to revive an expired list
//! or pass).

use sealpass_core::{Seconds, Timestamp};
use std::fmt;

/// The newest time this checkpoint has seen, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockGuard {
    newest_seen: Option<Timestamp>,
}

/// The clock says `now`, but `seen` was already seen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockBehind {
    pub now: Timestamp,
    pub seen: Timestamp,
}

impl ClockBehind {
    pub const CODE: &'static str = "clock_behind";
}

impl fmt::Display for ClockBehind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CLOCK SET BACK: this device's clock says {}, but {} was already seen here ({} later). Set the clock right; nothing is decided until then",
            self.now,
            self.seen,
            self.seen.since(self.now)
        )
    }
}

impl std::error::Error for ClockBehind {}

impl ClockGuard {
    /// A guard that has seen `newest_seen` (as stored between runs).
    pub fn new(newest_seen: Option<Timestamp>) -> ClockGuard {
        ClockGuard { newest_seen }
    }

    pub fn newest_seen(&self) -> Option<Timestamp> {
        self.newest_seen
    }

    /// Believe `now` unless it is more than `skew` before the newest time
    /// seen; a clock within the skew is believed without moving the mark.
    pub fn check(&self, now: Timestamp, skew: Seconds) -> Result<(), ClockBehind> {
        match self.newest_seen {
            Some(seen) if now.plus(skew) < seen => Err(ClockBehind { now, seen }),
            _ => Ok(()),
        }
    }

    /// Remember `now` if it is the newest time seen; true when it moved
    /// the mark (and the shell should store it).
    pub fn see(&mut self, now: Timestamp) -> bool {
        if self.newest_seen.is_none_or(|seen| now > seen) {
            self.newest_seen = Some(now);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_set_back_is_noticed_and_small_drift_is_tolerated() {
        let skew = Seconds::minutes(5);
        let mut guard = ClockGuard::default();
        assert_eq!(guard.check(Timestamp(10_000), skew), Ok(()));
        assert!(guard.see(Timestamp(10_000)));
        // Within the skew: believed, and the mark stays.
        assert_eq!(guard.check(Timestamp(9_800), skew), Ok(()));
        assert!(!guard.see(Timestamp(9_800)));
        assert_eq!(guard.newest_seen(), Some(Timestamp(10_000)));
        let behind = guard.check(Timestamp(9_000), skew).unwrap_err();
        assert_eq!(
            behind,
            ClockBehind {
                now: Timestamp(9_000),
                seen: Timestamp(10_000)
            }
        );
        assert!(behind.to_string().starts_with("CLOCK SET BACK"));
        assert!(guard.see(Timestamp(20_000)));
        assert_eq!(guard.newest_seen(), Some(Timestamp(20_000)));
    }
}
