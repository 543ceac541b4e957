//! What a parsed row must also satisfy before it reaches the store (issue
//! 15, findings 2 and 7):
//!
//! - **No event from the future.** A test dated a year ahead would stay
//!   "0 seconds old" at every checkpoint, and every real result after it
//!   would be "older" and superseded. A test time may be at most
//!   [`FUTURE_SKEW`] ahead of the issuer's clock (the sending system's
//!   clock may run a little fast); a calendar date, such as the last
//!   dose, at most one day after the issuer's UTC date (a dose given this
//!   morning in UTC+8 is still yesterday in UTC for eight hours).
//! - **No invisible characters.** Text that ends up in a pass or a log is
//!   shown on checkpoint screens and terminals: bidirectional overrides
//!   (U+202E turns `张三` into a name read backwards), zero-width and other
//!   format characters (general category Cf), control characters (Cc) and
//!   line or paragraph separators are refused in every field.

use super::rows::{Record, RowError};
use sealpass_core::unicode::is_invisible;
use sealpass_core::{Date, Seconds, Timestamp};

/// How far ahead of the issuer's clock an event's time may be.
pub const FUTURE_SKEW: Seconds = Seconds::minutes(5);
/// How many days after the issuer's UTC date a calendar date may be.
pub const FUTURE_DATE_DAYS: u32 = 1;

/// Refuse a row whose test time or last dose lies in the future.
pub fn not_in_future(record: &Record, now: Timestamp) -> Result<(), RowError> {
    let (test, last_dose) = match record {
        Record::Enrolment(e) => (e.health.last_test, e.health.vaccination.last_dose),
        Record::Status(u) => (u.test, u.last_dose),
        Record::Revocation(_) => (None, None),
    };
    if let Some(test) = test {
        let latest = now.plus(FUTURE_SKEW);
        if test.taken_at > latest {
            return Err(RowError::new(
                "test_time_in_future",
                format!(
                    "test_time is in the future: {} after the issuer's clock ({}), and at most {FUTURE_SKEW} ahead is accepted; check the sending system's clock",
                    Seconds(test.taken_at.0 - now.0),
                    now.0
                ),
            ));
        }
    }
    if let Some(date) = last_dose {
        let today = Date((now.0 / 86_400) as u32);
        if date.0 > today.0.saturating_add(FUTURE_DATE_DAYS) {
            return Err(RowError::new(
                "last_dose_in_future",
                format!(
                    "last_dose {date} is in the future: the issuer's date is {today} (UTC), and at most {FUTURE_DATE_DAYS} day ahead is accepted"
                ),
            ));
        }
    }
    Ok(())
}

/// The first character of `text` that may not appear in imported text:
/// a control (Cc), a format character (Cf) or a line or paragraph
/// separator (Zl, Zp).
pub fn invisible_character(text: &str) -> Option<char> {
    text.chars().find(|&c| is_invisible(c))
}

/// Refuse a field holding an invisible character, naming the field and
/// the character.
pub fn plain_text(field: &str, value: &str) -> Result<(), RowError> {
    match invisible_character(value) {
        None => Ok(()),
        Some(c) => Err(RowError::new(
            code_for(field),
            format!(
                "{field} holds U+{:04X}, an invisible control or formatting character (bidirectional overrides, zero-width characters, line separators and the like are refused)",
                c as u32
            ),
        )),
    }
}

fn code_for(field: &str) -> &'static str {
    match field {
        "name" => "bad_name",
        "reason" => "bad_reason",
        "key" => "bad_key",
        "subject" => "bad_subject",
        "id_number" => "bad_id_number",
        "issuer" => "bad_issuer",
        "sub" => "bad_sub",
        _ => "bad_character",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_invisible_character_is_found() {
        for c in [
            '\u{0}',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{AD}',
            '\u{61C}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            assert_eq!(
                invisible_character(&format!("张{c}三")),
                Some(c),
                "U+{:04X}",
                c as u32
            );
        }
        for text in [
            "张三明",
            "Zhang San-Ming",
            "O'Brien",
            "Zoë",
            "王 小红",
            "أحمد",
        ] {
            assert_eq!(invisible_character(text), None, "{text}");
        }
    }
}
