//! Time as the core sees it: a value passed in, never read from a clock.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z, as in a CWT NumericDate (RFC 8392).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub const fn seconds(self) -> u64 {
        self.0
    }

    pub const fn plus(self, duration: Seconds) -> Timestamp {
        Timestamp(self.0.saturating_add(duration.0))
    }

    pub const fn minus(self, duration: Seconds) -> Timestamp {
        Timestamp(self.0.saturating_sub(duration.0))
    }

    /// How long after `earlier` this is (zero if it is not after).
    pub const fn since(self, earlier: Timestamp) -> Seconds {
        Seconds(self.0.saturating_sub(earlier.0))
    }

    /// The calendar date (UTC) this instant falls on; an instant beyond the
    /// last [`Date`] (year 11,761,191) gives that last date.
    pub const fn date(self) -> Date {
        let days = self.0 / 86_400;
        Date(if days > u32::MAX as u64 {
            u32::MAX
        } else {
            days as u32
        })
    }
}

/// `2026-11-21 07:40:00 UTC`; every u64 has its true date, however far
/// ahead (a hostile `exp` of 2^64-1 is shown as the year 584,554,051,223).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 % 86_400;
        let (y, m, d) = civil_from_days(self.0 / 86_400);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Howard Hinnant's civil_from_days for non-negative day numbers:
/// (year, month 1-12, day 1-31).
const fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days as u128 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year as u64, month as u32, day as u32)
}

/// A span of whole seconds, shown to people as `3 h 12 min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seconds(pub u64);

impl Seconds {
    pub const fn minutes(n: u64) -> Seconds {
        Seconds(n * 60)
    }

    pub const fn hours(n: u64) -> Seconds {
        Seconds(n * 3600)
    }

    pub const fn days(n: u64) -> Seconds {
        Seconds(n * 86_400)
    }
}

/// The two largest units, rounded down: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`.
impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let (days, hours, minutes) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
        match s {
            0..60 => write!(f, "{s} s"),
            60..3600 => write!(f, "{minutes} min"),
            3600..86_400 if minutes == 0 => write!(f, "{} h", s / 3600),
            3600..86_400 => write!(f, "{} h {minutes} min", s / 3600),
            _ if hours == 0 => write!(f, "{days} d"),
            _ => write!(f, "{days} d {hours} h"),
        }
    }
}

/// A calendar day: days since 1970-01-01 (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub u32);

impl Date {
    /// The date of a proleptic Gregorian year, month (1-12) and day (1-31),
    /// or `None` for a day that does not exist or lies before 1970.
    pub fn from_ymd(year: u32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year } as i64;
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        u32::try_from(era * 146_097 + doe - 719_468).ok().map(Date)
    }

    /// (year, month 1-12, day 1-31)
    pub const fn ymd(self) -> (u32, u32, u32) {
        let (year, month, day) = civil_from_days(self.0 as u64);
        (year as u32, month, day)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `2026-11-21`
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(Seconds(45).to_string(), "45 s");
        assert_eq!(Seconds(12 * 60 + 59).to_string(), "12 min");
        assert_eq!(Seconds(3 * 3600 + 12 * 60).to_string(), "3 h 12 min");
        assert_eq!(Seconds::hours(61).to_string(), "2 d 13 h");
        assert_eq!(Seconds::hours(48).to_string(), "2 d");
        assert_eq!(Seconds::hours(5).to_string(), "5 h");
    }

    #[test]
    fn dates_round_trip_through_the_calendar() {
        assert_eq!(Date(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_ymd(2024, 2, 29).unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert_eq!(Date::from_ymd(1969, 12, 31), None);
        for day in (0..80_000).step_by(7) {
            let (y, m, d) = Date(day).ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(Date(day)));
        }
        assert_eq!(
            Timestamp(1_795_237_200).to_string(),
            "2026-11-21 05:00:00 UTC"
        );
    }

    /// Finding 4 of the security review: far-future times were shown
    /// truncated to 32 bits of days (an `exp` of 2^64-1 looked like a date
    /// in the 2050s).
    #[test]
    fn far_future_times_show_their_true_date() {
        assert_eq!(
            Timestamp(u64::MAX).to_string(),
            "584554051223-11-09 07:00:15 UTC"
        );
        let beyond_u32_days = Timestamp((u64::from(u32::MAX) + 1) * 86_400);
        assert!(beyond_u32_days.to_string().starts_with("11761191-"));
        assert_eq!(beyond_u32_days.date(), Date(u32::MAX));
        assert_eq!(
            Timestamp(253_402_300_799).to_string(),
            "9999-12-31 23:59:59 UTC"
        );
    }
}
