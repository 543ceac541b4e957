//! The checkpoint's clock.
//!
//! - The clock-set-back guard: a checkpoint remembers the newest time it
//!   has ever seen, and refuses to decide while its clock says a time more
//!   than the tolerated skew before it (a clock set back to revive an
//!   expired list or pass).
//! - The clock against the list server's ([`ClockComparison`]): on a sync
//!   the checkpoint reads the `Date` of the server's answer and warns when
//!   its own clock is off. A live code is judged by its age on the
//!   checkpoint's clock, so a checkpoint 90 s off would refuse every phone
//!   and blame the citizen.

use sealpass_core::{Seconds, Timestamp};
use serde::Serialize;
use std::fmt;

/// How far the checkpoint's clock may be from the list server's before it
/// warns. A `Date` header counts whole seconds and is written before the
/// answer travels, so two right clocks differ by a second or two; a live
/// code allows its phone 30 s ahead and 60 s of age, so a checkpoint 10 s
/// off already eats a sixth of the age.
pub const CLOCK_OFF_AFTER: Seconds = Seconds(10);

/// The checkpoint's clock (`device_time`, when the answer arrived) against
/// the list server's (`server_time`, the answer's `Date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockComparison {
    pub device_time: u64,
    pub server_time: u64,
    /// Positive when this device's clock is ahead of the server's.
    pub offset_seconds: i64,
    /// More than [`CLOCK_OFF_AFTER`] apart: the warning is shown.
    pub off: bool,
}

impl ClockComparison {
    pub const CODE: &'static str = "clock_off";

    pub fn new(device: Timestamp, server: Timestamp) -> ClockComparison {
        let offset = i128::from(device.0) - i128::from(server.0);
        let offset_seconds = offset.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        ClockComparison {
            device_time: device.0,
            server_time: server.0,
            offset_seconds,
            off: offset_seconds.unsigned_abs() > CLOCK_OFF_AFTER.0,
        }
    }

    /// The warning for the person at the checkpoint, when the clock is off.
    pub fn warning(&self) -> Option<String> {
        if !self.off {
            return None;
        }
        let by = Seconds(self.offset_seconds.unsigned_abs());
        Some(if self.offset_seconds > 0 {
            format!(
                "THIS DEVICE'S CLOCK IS {by} AHEAD of the list server's: phones' live codes look older than they are and are refused as too old. Set the clock"
            )
        } else {
            format!(
                "THIS DEVICE'S CLOCK IS {by} BEHIND the list server's: phones' live codes look as if they came from the future and are refused. Set the clock"
            )
        })
    }
}

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

    #[test]
    fn a_clock_off_from_the_servers_by_more_than_10_s_is_warned_of() {
        let server = Timestamp(1_700_000_000);
        for (device, offset, off) in [
            (server, 0, false),
            (Timestamp(server.0 + 10), 10, false),
            (Timestamp(server.0 - 10), -10, false),
            (Timestamp(server.0 + 11), 11, true),
            (Timestamp(server.0 - 95), -95, true),
        ] {
            let compared = ClockComparison::new(device, server);
            assert_eq!((compared.offset_seconds, compared.off), (offset, off));
            assert_eq!(compared.warning().is_some(), off);
        }
        let ahead = ClockComparison::new(Timestamp(server.0 + 95), server);
        assert!(
            ahead.warning().unwrap().contains("1 min AHEAD"),
            "{ahead:?}"
        );
        let behind = ClockComparison::new(Timestamp(server.0 - 7200), server);
        assert!(
            behind.warning().unwrap().contains("2 h BEHIND"),
            "{behind:?}"
        );
        let json = serde_json::to_value(behind).unwrap();
        assert_eq!(json["offset_seconds"], -7200);
        assert_eq!(json["off"], true);
        assert_eq!(
            ClockComparison::new(Timestamp(0), Timestamp(u64::MAX)).offset_seconds,
            i64::MIN
        );
    }
}
