//! Times for the person at the checkpoint: in this machine's time zone
//! (`TZ`, else `/etc/localtime`), or in UTC with `--utc`. JSON always
//! gives Unix seconds, and sentences meant for logs say UTC.

use chrono::{DateTime, Local};
use sealpass_core::Timestamp;

/// Which clock face times are shown on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// This machine's time zone; UTC when the machine is set to it.
    Local,
    Utc,
}

impl Zone {
    /// `at` as `2026-11-21 07:40:00 UTC+08:00` (or `... UTC`).
    pub fn show(self, at: Timestamp) -> String {
        match self.local(at) {
            Some(local) => local.format("%Y-%m-%d %H:%M:%S UTC%:z").to_string(),
            None => at.to_string(),
        }
    }

    /// The calendar day of `at`, as `2026-11-21`.
    pub fn date(self, at: Timestamp) -> String {
        match self.local(at) {
            Some(local) => local.format("%Y-%m-%d").to_string(),
            None => at.date().to_string(),
        }
    }

    /// `at` on this machine's clock face, unless that is UTC's (or `at` is
    /// beyond what the calendar library reaches: shown in UTC).
    fn local(self, at: Timestamp) -> Option<DateTime<Local>> {
        if self == Zone::Utc {
            return None;
        }
        let utc = DateTime::from_timestamp(i64::try_from(at.0).ok()?, 0)?;
        let local = utc.with_timezone(&Local);
        (local.offset().local_minus_utc() != 0).then_some(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_shown_as_the_core_shows_it_and_far_dates_do_not_panic() {
        let at = Timestamp(1_795_218_000);
        assert_eq!(Zone::Utc.show(at), at.to_string());
        assert_eq!(Zone::Utc.date(at), at.date().to_string());
        let far = Timestamp(u64::MAX);
        assert_eq!(Zone::Local.show(far), far.to_string());
    }
}
