//! What health authorities send: enrolments (a new person and their first
//! status), status updates (a colour, a vaccination, a test result) and
//! revocations of a person's current pass. Each carries an idempotency key.
//!
//! Only masked identity ever reaches the store: a full name and id number
//! are masked as soon as a row is parsed (`mask_name`, `mask_id` of the
//! core), after the id number's check digit has been verified.

use sealpass_core::live::DeviceKey;
use sealpass_core::{Colour, Date, TestRecord, TestResult, Timestamp, Vaccination};
use serde::Serialize;

/// Longest idempotency key and subject id accepted, in bytes.
pub const MAX_KEY_LEN: usize = 128;
pub const MAX_SUBJECT_LEN: usize = 64;
/// Longest identity provider `iss` an identity link accepts, in bytes.
pub const MAX_LINK_ISSUER_LEN: usize = 256;
/// Longest `sub` an identity link accepts, in bytes: a login whose `sub`
/// is longer cannot be a sealpass subject by any template either.
pub const MAX_LINK_SUB_LEN: usize = MAX_SUBJECT_LEN;
/// Longest revocation reason accepted, in bytes.
pub const MAX_REASON_LEN: usize = 200;

/// A person's current health status, as the pass will carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub colour: Colour,
    pub vaccination: Vaccination,
    pub last_test: Option<TestRecord>,
}

impl Health {
    /// Whether `self` is worse for a checkpoint than `before`: a worse
    /// colour, or a positive test that was not there. A pass signed from
    /// `before` must then stop being valid at once (it is revoked), not
    /// merely be replaced.
    pub fn worse_than(&self, before: &Health) -> bool {
        let positive = |h: &Health| {
            h.last_test
                .is_some_and(|t| t.result == TestResult::Positive)
        };
        self.colour > before.colour || (positive(self) && !positive(before))
    }
}

/// A new person: pseudonymous subject id, masked identity, first status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub key: String,
    pub subject: String,
    pub masked_name: String,
    pub masked_id: String,
    pub health: Health,
}

/// A change to a person's status; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub key: String,
    pub subject: String,
    pub colour: Option<Colour>,
    pub doses: Option<u8>,
    pub last_dose: Option<Date>,
    pub test: Option<TestRecord>,
}

impl StatusUpdate {
    /// Whether this update's test result is older than the one `before`
    /// holds: it is logged but does not replace the newer one, and the
    /// import reports the row `superseded`, not applied.
    pub fn superseded_test(&self, before: &Health) -> bool {
        match (self.test, before.last_test) {
            (Some(test), Some(held)) => test.taken_at < held.taken_at,
            _ => false,
        }
    }

    /// The status after this update. A test result older than the one held
    /// is recorded in the log but does not replace the newer one.
    pub fn apply(&self, before: &Health) -> Health {
        let mut after = *before;
        if let Some(colour) = self.colour {
            after.colour = colour;
        }
        if let Some(doses) = self.doses {
            after.vaccination.doses = doses;
        }
        if self.last_dose.is_some() {
            after.vaccination.last_dose = self.last_dose;
        }
        if let Some(test) = self.test {
            let newer = before
                .last_test
                .is_none_or(|held| test.taken_at >= held.taken_at);
            if newer {
                after.last_test = Some(test);
            }
        }
        after
    }
}

/// Revoke a person's live passes (a lost phone, a pass shared with others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub key: String,
    pub subject: String,
    pub reason: String,
}

/// A citizen's phone key bound to their subject (issue 18, part 2). The
/// public API made it only after the phone signed a fresh challenge with
/// the key (`read::public::binding`). Its idempotency key is the
/// challenge's: a challenge binds at most once, and the same request sent
/// again is a duplicate, not a second binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBinding {
    /// `bind:` and the challenge's nonce in hex.
    pub key: String,
    pub subject: String,
    pub device: DeviceKey,
}

/// The canonical JSON of an event as logged. A replay with the same key is
/// compared with it: the same body is a duplicate, another body a misuse of
/// the key.
#[derive(Serialize)]
struct EventBody<'a> {
    subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    masked_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    masked_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    colour: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    doses: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_dose: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_key_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_key: Option<String>,
}

impl<'a> EventBody<'a> {
    fn new(subject: &'a str) -> Self {
        EventBody {
            subject,
            masked_name: None,
            masked_id: None,
            colour: None,
            doses: None,
            last_dose: None,
            test_time: None,
            test_result: None,
            reason: None,
            device_key_type: None,
            device_key: None,
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(self).expect("event bodies serialize")
    }
}

impl Enrolment {
    pub fn body(&self) -> String {
        let h = &self.health;
        EventBody {
            masked_name: Some(&self.masked_name),
            masked_id: Some(&self.masked_id),
            colour: Some(h.colour.name()),
            doses: Some(h.vaccination.doses),
            last_dose: h.vaccination.last_dose.map(|d| d.0),
            test_time: h.last_test.map(|t| t.taken_at.0),
            test_result: h.last_test.map(|t| t.result.name()),
            ..EventBody::new(&self.subject)
        }
        .json()
    }
}

impl StatusUpdate {
    pub fn body(&self) -> String {
        EventBody {
            colour: self.colour.map(Colour::name),
            doses: self.doses,
            last_dose: self.last_dose.map(|d| d.0),
            test_time: self.test.map(|t| t.taken_at.0),
            test_result: self.test.map(|t| t.result.name()),
            ..EventBody::new(&self.subject)
        }
        .json()
    }
}

impl Revocation {
    pub fn body(&self) -> String {
        EventBody {
            reason: Some(&self.reason),
            ..EventBody::new(&self.subject)
        }
        .json()
    }
}

impl DeviceBinding {
    pub fn body(&self) -> String {
        EventBody {
            device_key_type: Some(self.device.key_type().name()),
            device_key: Some(holder_key_column(&self.device)),
            ..EventBody::new(&self.subject)
        }
        .json()
    }
}

/// The `subjects.holder_key` column of a bound device: hex of
/// [`DeviceKey::to_bytes`] (32 bytes for Ed25519, 33 for compressed P-256).
pub(crate) fn holder_key_column(key: &DeviceKey) -> String {
    hex::encode(key.to_bytes())
}

/// The device key of a `subjects.holder_key` column; `None` if it is not
/// one (a damaged store).
pub(crate) fn holder_key_from_column(column: &str) -> Option<DeviceKey> {
    let bytes = hex::decode(column).ok()?;
    match bytes.len() {
        32 => DeviceKey::ed25519(bytes.as_slice().try_into().ok()?).ok(),
        33 => DeviceKey::p256_sec1(&bytes).ok(),
        _ => None,
    }
}

/// Column codes of the store (colour and test result as small integers).
pub(crate) fn colour_code(colour: Colour) -> i64 {
    colour as i64
}

pub(crate) fn colour_from_code(code: i64) -> Option<Colour> {
    Colour::ALL.into_iter().find(|c| *c as i64 == code)
}

pub(crate) fn result_from_code(code: i64) -> Option<TestResult> {
    match code {
        0 => Some(TestResult::Negative),
        1 => Some(TestResult::Positive),
        _ => None,
    }
}

pub(crate) fn test_columns(test: Option<TestRecord>) -> (Option<i64>, Option<i64>) {
    match test {
        Some(t) => (Some(t.taken_at.0 as i64), Some(t.result as i64)),
        None => (None, None),
    }
}

pub(crate) fn test_from_columns(time: Option<i64>, result: Option<i64>) -> Option<TestRecord> {
    Some(TestRecord {
        taken_at: Timestamp(u64::try_from(time?).ok()?),
        result: result_from_code(result?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(colour: Colour, test: Option<(u64, TestResult)>) -> Health {
        Health {
            colour,
            vaccination: Vaccination::default(),
            last_test: test.map(|(t, result)| TestRecord {
                taken_at: Timestamp(t),
                result,
            }),
        }
    }

    #[test]
    fn worse_means_a_worse_colour_or_a_new_positive_test() {
        let green = health(Colour::Green, Some((10, TestResult::Negative)));
        assert!(health(Colour::Yellow, None).worse_than(&green));
        assert!(health(Colour::Green, Some((20, TestResult::Positive))).worse_than(&green));
        assert!(!health(Colour::Green, Some((20, TestResult::Negative))).worse_than(&green));
        assert!(!green.worse_than(&health(Colour::Red, None)));
    }

    #[test]
    fn an_older_test_result_does_not_replace_a_newer_one() {
        let before = health(Colour::Green, Some((100, TestResult::Negative)));
        let late = StatusUpdate {
            key: "k".into(),
            subject: "s".into(),
            colour: None,
            doses: None,
            last_dose: None,
            test: Some(TestRecord {
                taken_at: Timestamp(50),
                result: TestResult::Positive,
            }),
        };
        assert_eq!(late.apply(&before), before);
        assert!(late.superseded_test(&before));
        assert!(!late.superseded_test(&health(Colour::Green, None)));
    }
}
