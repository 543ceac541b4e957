//! The verifier's clock: the system time, or a time pinned for tests.
//!
//! Only the binary reads the clock; the core takes `now` as a parameter.
//! Whether the clock may be believed is decided in [`crate::state`], which
//! remembers the newest time this device has ever seen.

use anyhow::{Context, bail};
use sealpass_core::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// **Tests only**: pins the clock to these Unix seconds, so that golden
/// outputs do not depend on the day they run. Honoured only by debug
/// (test) builds, which warn on every run; a release build, what a
/// checkpoint runs, refuses to start while it is set.
pub const TEST_NOW_VAR: &str = "SEALPASS_TEST_NOW";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    /// Pinned by [`TEST_NOW_VAR`].
    Pinned(Timestamp),
}

impl Clock {
    pub fn from_env() -> anyhow::Result<Clock> {
        let Some(value) = std::env::var_os(TEST_NOW_VAR) else {
            return Ok(Clock::System);
        };
        if !cfg!(debug_assertions) {
            bail!(
                "{TEST_NOW_VAR} is set, but this is a release build, which always uses the system clock: unset it"
            );
        }
        let value = value.to_string_lossy();
        let seconds: u64 = value
            .trim()
            .parse()
            .with_context(|| format!("{TEST_NOW_VAR}={value:?} is not a number of Unix seconds"))?;
        Ok(Clock::Pinned(Timestamp(seconds)))
    }

    pub fn now(self) -> anyhow::Result<Timestamp> {
        match self {
            Clock::Pinned(now) => Ok(now),
            Clock::System => {
                let Ok(since_epoch) = SystemTime::now().duration_since(UNIX_EPOCH) else {
                    bail!("this device's clock is set before 1970: set the clock");
                };
                Ok(Timestamp(since_epoch.as_secs()))
            }
        }
    }

    /// The warning printed on every run with a pinned clock.
    pub fn pinned_warning(self) -> Option<String> {
        match self {
            Clock::System => None,
            Clock::Pinned(now) => Some(format!(
                "the clock is pinned to {now} by {TEST_NOW_VAR}: for tests only, unset it on a checkpoint"
            )),
        }
    }
}
