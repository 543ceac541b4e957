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
        let release_build = !cfg!(debug_assertions);
        Clock::from_setting(std::env::var_os(TEST_NOW_VAR), release_build)
    }

    /// The clock [`TEST_NOW_VAR`]'s `value` asks for, in a release build or
    /// not: a release build refuses any value.
    fn from_setting(
        value: Option<std::ffi::OsString>,
        release_build: bool,
    ) -> anyhow::Result<Clock> {
        let Some(value) = value else {
            return Ok(Clock::System);
        };
        if release_build {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The security review's untested path: a release build refuses the
    /// test-only clock switch, whatever its value.
    #[test]
    fn a_release_build_refuses_the_test_clock() {
        let set = Some(std::ffi::OsString::from("1795218000"));
        let refused = Clock::from_setting(set.clone(), true).unwrap_err();
        assert!(refused.to_string().contains("release build"), "{refused}");
        assert_eq!(
            Clock::from_setting(set, false).unwrap(),
            Clock::Pinned(Timestamp(1_795_218_000))
        );
        assert_eq!(Clock::from_setting(None, true).unwrap(), Clock::System);
    }
}
