//! The claims a pass carries: a CWT (RFC 8392) with one private health claim.
//!
//! Claim-key registry (docs/format.md, "Claims"):
//!
//! | key      | name              | type                                   |
//! |----------|-------------------|----------------------------------------|
//! | 1        | iss               | text, issuer id such as `CN-610100`    |
//! | 4        | exp               | NumericDate                            |
//! | 5        | nbf               | NumericDate                            |
//! | 6        | iat               | NumericDate                            |
//! | 8        | cnf (bound passes)| `{1: COSE_Key}`: the holder's device key |
//! | -65537   | health status     | map, keys below                        |
//! | -65538   | revocation index  | unsigned, bit index in the status list |
//!
//! Health status map: 1 colour (0 green, 1 yellow, 2 red), 2 masked name,
//! 3 masked id, 4 vaccination doses, 5 date of last dose (days since
//! 1970-01-01), 6 time of last nucleic-acid test (NumericDate), 7 its result
//! (0 negative, 1 positive). Keys 6 and 7 come together or not at all.
//!
//! Negative keys below -65536 are private use (RFC 8392, section 9.1). A
//! pass carries no other claim: an unknown key is an error, not ignored.
//!
//! Two claim sets share this reader: the v1 set of six claims, valid in an
//! `SP1:` pass, and the bound set, the same six and `cnf` (RFC 8747, key 8),
//! valid only inside an `SP2:` live code. The verifier refuses each where it
//! does not belong ([`crate::HolderError`]).

use crate::cbor::{self, Encoder, FieldError, Fields, Item};
use crate::live::{CLAIM_CNF, DeviceKey, DeviceKeyError};
use crate::time::{Date, Timestamp};
use std::fmt;
use thiserror::Error;

pub const CLAIM_ISS: i64 = 1;
pub const CLAIM_EXP: i64 = 4;
pub const CLAIM_NBF: i64 = 5;
pub const CLAIM_IAT: i64 = 6;
pub const CLAIM_HEALTH: i64 = -65_537;
pub const CLAIM_REVOCATION_INDEX: i64 = -65_538;

pub const HEALTH_COLOUR: i64 = 1;
pub const HEALTH_MASKED_NAME: i64 = 2;
pub const HEALTH_MASKED_ID: i64 = 3;
pub const HEALTH_DOSES: i64 = 4;
pub const HEALTH_LAST_DOSE: i64 = 5;
pub const HEALTH_TEST_TIME: i64 = 6;
pub const HEALTH_TEST_RESULT: i64 = 7;

/// Longest issuer id, masked name and masked id accepted, in bytes.
pub const MAX_ISSUER_LEN: usize = 64;
pub const MAX_MASKED_NAME_LEN: usize = 64;
pub const MAX_MASKED_ID_LEN: usize = 32;

/// Everything a pass says, before signing or after verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassClaims {
    pub issuer: String,
    pub issued_at: Timestamp,
    pub not_before: Timestamp,
    pub expires_at: Timestamp,
    pub revocation_index: u32,
    pub health: HealthStatus,
    /// The holder's device key (`cnf`): set, the pass is bound to that
    /// device and valid only inside a live code it signs.
    pub holder: Option<DeviceKey>,
}

/// The health status a checkpoint decides on. Only what a stranger at a
/// checkpoint needs: the QR is shown in public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthStatus {
    pub colour: Colour,
    /// E.g. `张*明`: compare with the ID card, never the full name.
    pub masked_name: String,
    /// E.g. `6101**********1234`.
    pub masked_id: String,
    pub vaccination: Vaccination,
    pub last_test: Option<TestRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Colour {
    Green = 0,
    Yellow = 1,
    Red = 2,
}

impl Colour {
    pub const ALL: [Colour; 3] = [Colour::Green, Colour::Yellow, Colour::Red];

    pub fn name(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    pub fn from_name(name: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vaccination {
    pub doses: u8,
    pub last_dose: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRecord {
    pub taken_at: Timestamp,
    pub result: TestResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestResult {
    Negative = 0,
    Positive = 1,
}

impl TestResult {
    pub fn name(self) -> &'static str {
        match self {
            TestResult::Negative => "negative",
            TestResult::Positive => "positive",
        }
    }
}

/// Why a payload is not a v1 pass claim set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClaimsError {
    #[error("claims are not valid CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
    #[error("claims: {0}")]
    Field(#[from] FieldError),
    #[error("health status: {0}")]
    HealthField(FieldError),
    #[error("unknown colour code {0}")]
    UnknownColour(u64),
    #[error("unknown test result code {0}")]
    UnknownTestResult(u64),
    #[error("a test time without a result, or a result without a time")]
    IncompleteTest,
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("not-before is after expiry")]
    InvertedWindow,
    #[error("{0}")]
    Confirmation(#[from] DeviceKeyError),
}

impl ClaimsError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            ClaimsError::Cbor(e) => e.code(),
            ClaimsError::Field(FieldError::Unknown(_))
            | ClaimsError::HealthField(FieldError::Unknown(_)) => "unknown_claim",
            ClaimsError::Field(FieldError::Missing(_))
            | ClaimsError::HealthField(FieldError::Missing(_)) => "missing_claim",
            ClaimsError::UnknownColour(_) => "unknown_colour",
            ClaimsError::TooLong { .. } => "claim_too_long",
            ClaimsError::InvertedWindow => "inverted_validity",
            ClaimsError::Confirmation(e) => e.code(),
            ClaimsError::Field(_)
            | ClaimsError::HealthField(_)
            | ClaimsError::UnknownTestResult(_)
            | ClaimsError::IncompleteTest => "malformed_claims",
        }
    }
}

impl PassClaims {
    /// The claims as the CBOR map that is signed, in deterministic key order
    /// (RFC 8949, section 4.2.1).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(128);
        e.map(6 + usize::from(self.holder.is_some()))
            .int(CLAIM_ISS)
            .text(&self.issuer)
            .int(CLAIM_EXP)
            .uint(self.expires_at.0)
            .int(CLAIM_NBF)
            .uint(self.not_before.0)
            .int(CLAIM_IAT)
            .uint(self.issued_at.0);
        if let Some(holder) = &self.holder {
            e.int(CLAIM_CNF);
            holder.encode_cnf(&mut e);
        }
        e.int(CLAIM_HEALTH);
        self.health.encode(&mut e);
        e.int(CLAIM_REVOCATION_INDEX)
            .uint(u64::from(self.revocation_index));
        e.into_bytes()
    }

    /// Read claims from a verified payload.
    pub fn from_cbor(bytes: &[u8]) -> Result<PassClaims, ClaimsError> {
        let mut fields = Fields::new(cbor::decode(bytes, 4)?)?;
        let issuer = fields.text(CLAIM_ISS)?;
        let claims = PassClaims {
            issuer: bounded(issuer, "issuer", MAX_ISSUER_LEN)?,
            expires_at: Timestamp(fields.uint(CLAIM_EXP)?),
            not_before: Timestamp(fields.uint(CLAIM_NBF)?),
            issued_at: Timestamp(fields.uint(CLAIM_IAT)?),
            health: HealthStatus::decode(fields.require(CLAIM_HEALTH)?)?,
            revocation_index: cbor::narrow(
                CLAIM_REVOCATION_INDEX,
                fields.uint(CLAIM_REVOCATION_INDEX)?,
            )?,
            holder: fields
                .take(CLAIM_CNF)
                .map(DeviceKey::decode_cnf)
                .transpose()?,
        };
        fields.finish()?;
        if claims.not_before > claims.expires_at {
            return Err(ClaimsError::InvertedWindow);
        }
        Ok(claims)
    }
}

impl HealthStatus {
    fn encode(&self, e: &mut Encoder) {
        let len = 4
            + usize::from(self.vaccination.last_dose.is_some())
            + 2 * usize::from(self.last_test.is_some());
        e.map(len)
            .int(HEALTH_COLOUR)
            .uint(self.colour as u64)
            .int(HEALTH_MASKED_NAME)
            .text(&self.masked_name)
            .int(HEALTH_MASKED_ID)
            .text(&self.masked_id)
            .int(HEALTH_DOSES)
            .uint(u64::from(self.vaccination.doses));
        if let Some(date) = self.vaccination.last_dose {
            e.int(HEALTH_LAST_DOSE).uint(u64::from(date.0));
        }
        if let Some(test) = self.last_test {
            e.int(HEALTH_TEST_TIME)
                .uint(test.taken_at.0)
                .int(HEALTH_TEST_RESULT)
                .uint(test.result as u64);
        }
    }

    fn decode(item: Item<'_>) -> Result<HealthStatus, ClaimsError> {
        let field = ClaimsError::HealthField;
        let mut fields = Fields::new(item).map_err(field)?;
        let colour = match fields.uint(HEALTH_COLOUR).map_err(field)? {
            0 => Colour::Green,
            1 => Colour::Yellow,
            2 => Colour::Red,
            n => return Err(ClaimsError::UnknownColour(n)),
        };
        let masked_name = fields.text(HEALTH_MASKED_NAME).map_err(field)?;
        let masked_id = fields.text(HEALTH_MASKED_ID).map_err(field)?;
        let doses = fields.uint(HEALTH_DOSES).map_err(field)?;
        let last_dose = fields.opt_uint(HEALTH_LAST_DOSE).map_err(field)?;
        let test_time = fields.opt_uint(HEALTH_TEST_TIME).map_err(field)?;
        let test_result = fields.opt_uint(HEALTH_TEST_RESULT).map_err(field)?;
        fields.finish().map_err(field)?;
        let last_test = match (test_time, test_result) {
            (None, None) => None,
            (Some(time), Some(result)) => Some(TestRecord {
                taken_at: Timestamp(time),
                result: match result {
                    0 => TestResult::Negative,
                    1 => TestResult::Positive,
                    n => return Err(ClaimsError::UnknownTestResult(n)),
                },
            }),
            _ => return Err(ClaimsError::IncompleteTest),
        };
        Ok(HealthStatus {
            colour,
            masked_name: bounded(masked_name, "masked name", MAX_MASKED_NAME_LEN)?,
            masked_id: bounded(masked_id, "masked id", MAX_MASKED_ID_LEN)?,
            vaccination: Vaccination {
                doses: cbor::narrow(HEALTH_DOSES, doses).map_err(field)?,
                last_dose: last_dose
                    .map(|d| cbor::narrow(HEALTH_LAST_DOSE, d).map(Date))
                    .transpose()
                    .map_err(field)?,
            },
            last_test,
        })
    }
}

fn bounded(text: &str, field: &'static str, max: usize) -> Result<String, ClaimsError> {
    if text.len() > max {
        return Err(ClaimsError::TooLong { field, max });
    }
    Ok(text.to_owned())
}

/// Mask a full name for display to strangers: first and last character
/// kept, the rest starred (`张三明` -> `张*明`, `李四` -> `李*`).
pub fn mask_name(full_name: &str) -> String {
    let chars: Vec<char> = full_name.chars().collect();
    match chars.as_slice() {
        [] => String::new(),
        [only] => only.to_string(),
        [first, _] => format!("{first}*"),
        [first, .., last] => format!("{first}*{last}"),
    }
}

/// Mask an identity number: the first four and last four characters kept
/// (`610102199001011234` -> `6101**********1234`).
pub fn mask_id(id_number: &str) -> String {
    let chars: Vec<char> = id_number.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 8;
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(hidden))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_claims() -> PassClaims {
        crate::testkit::sample_claims(crate::testkit::NOW)
    }

    #[test]
    fn claims_round_trip() {
        let claims = full_claims();
        assert_eq!(PassClaims::from_cbor(&claims.to_cbor()), Ok(claims));
    }

    #[test]
    fn masks_names_and_ids() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("欧阳娜娜"), "欧*娜");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_id("610102199001011234"), "6101**********1234");
        assert_eq!(mask_id("1234"), "****");
    }

    #[test]
    fn rejects_unknown_claims() {
        let mut bytes = full_claims().to_cbor();
        bytes[0] = 0xa7; // one more entry than the six known claims
        let mut extra = Encoder::default();
        extra.int(-70_000).uint(1);
        bytes.extend(extra.into_bytes());
        assert_eq!(
            PassClaims::from_cbor(&bytes),
            Err(ClaimsError::Field(FieldError::Unknown(-70_000)))
        );
    }
}
