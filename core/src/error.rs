//! Why a pass was not accepted, grouped by the phase of verification that
//! refused it. Every variant has a stable `code()` for `--json` output and
//! translations, and a `Display` a checkpoint worker can act on.

use crate::claims::{ClaimsError, Colour};
use crate::cose::CoseError;
use crate::live::LiveCodeError;
use crate::signer::Kid;
use crate::text::TextError;
use crate::time::{Seconds, Timestamp};
use thiserror::Error;

/// A pass was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Validity(#[from] ValidityError),
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    #[error(transparent)]
    Holder(#[from] HolderError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// The phase of verification that refused a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Decode,
    Signature,
    Trust,
    Validity,
    Revocation,
    Policy,
    Holder,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Decode => "decode",
            Phase::Signature => "signature",
            Phase::Trust => "trust",
            Phase::Validity => "validity",
            Phase::Revocation => "revocation",
            Phase::Policy => "policy",
            Phase::Holder => "holder",
        }
    }
}

impl VerifyError {
    pub fn phase(&self) -> Phase {
        match self {
            VerifyError::Decode(_) => Phase::Decode,
            VerifyError::Signature(_) => Phase::Signature,
            VerifyError::Trust(_) => Phase::Trust,
            VerifyError::Validity(_) => Phase::Validity,
            VerifyError::Revocation(_) => Phase::Revocation,
            VerifyError::Policy(_) => Phase::Policy,
            VerifyError::Holder(_) => Phase::Holder,
        }
    }

    /// A stable, machine-readable reason, e.g. `expired` or `pass_revoked`.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Decode(e) => e.code(),
            VerifyError::Signature(e) => e.code(),
            VerifyError::Trust(e) => e.code(),
            VerifyError::Validity(e) => e.code(),
            VerifyError::Revocation(e) => e.code(),
            VerifyError::Policy(e) => e.code(),
            VerifyError::Holder(e) => e.code(),
        }
    }

    /// Whether the answer is "not valid" (the pass is bad) rather than "could
    /// not decide" (the input is not a pass, or the verifier lacks current
    /// trust data). Scripts use this for exit codes 1 and 2.
    pub fn is_undecided(&self) -> bool {
        matches!(
            self,
            VerifyError::Decode(DecodeError::Text(_))
                | VerifyError::Trust(TrustError::TrustListExpired { .. })
                | VerifyError::Revocation(RevocationError::StatusListExpired { .. })
                | VerifyError::Revocation(RevocationError::NotChecked { .. })
        )
    }
}

/// The text or its bytes are not a well-formed pass or live code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("not a pass: {0}")]
    Text(#[from] TextError),
    #[error("{0}")]
    LiveCode(#[from] LiveCodeError),
    #[error("damaged pass: {0}")]
    Cose(#[from] CoseError),
    #[error("damaged pass: {0}")]
    Claims(#[from] ClaimsError),
}

impl DecodeError {
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Text(e) => e.code(),
            DecodeError::LiveCode(e) => e.code(),
            DecodeError::Cose(e) => e.code(),
            DecodeError::Claims(e) => e.code(),
        }
    }
}

/// The signature does not hold. Deliberately opaque beyond the algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("signature does not verify")]
    Invalid,
    #[error("the pass names algorithm {header}, but its issuer key is for algorithm {key}")]
    AlgorithmMismatch { header: i64, key: i64 },
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Invalid => "bad_signature",
            SignatureError::AlgorithmMismatch { .. } => "algorithm_mismatch",
        }
    }
}

/// The key that signed is not trusted for this pass.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error(
        "unknown issuer key {0}: sync the trust list, or the pass is not from a trusted issuer"
    )]
    UnknownKey(Kid),
    #[error("issuer key {0} is revoked: do not accept passes it signed")]
    KeyRevoked(Kid),
    #[error("the pass names issuer {claimed}, but its key belongs to issuer {key_issuer}")]
    IssuerMismatch { claimed: String, key_issuer: String },
    #[error("signed at {issued_at}, outside its key's validity ({not_before} to {not_after})")]
    KeyNotValidAtIssuance {
        issued_at: Timestamp,
        not_before: Timestamp,
        not_after: Timestamp,
    },
    #[error("the trust list expired {} ago: sync it before verifying", now.since(*expired_at))]
    TrustListExpired {
        expired_at: Timestamp,
        now: Timestamp,
    },
    #[error("valid for {lifetime}, longer than its issuer key allows ({max}): not a genuine pass")]
    LifetimeTooLong { lifetime: Seconds, max: Seconds },
}

impl TrustError {
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::UnknownKey(_) => "unknown_issuer_key",
            TrustError::KeyRevoked(_) => "issuer_key_revoked",
            TrustError::IssuerMismatch { .. } => "issuer_mismatch",
            TrustError::KeyNotValidAtIssuance { .. } => "key_not_valid_at_issuance",
            TrustError::TrustListExpired { .. } => "trust_list_expired",
            TrustError::LifetimeTooLong { .. } => "lifetime_too_long",
        }
    }
}

/// The pass is outside its validity window at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidityError {
    #[error("expired {} ago", now.since(*expired_at))]
    Expired {
        expired_at: Timestamp,
        now: Timestamp,
    },
    #[error("not yet valid: valid in {}", not_before.since(*now))]
    NotYetValid {
        not_before: Timestamp,
        now: Timestamp,
    },
    #[error("issued {} in the future: check this device's clock", issued_at.since(*now))]
    IssuedInFuture {
        issued_at: Timestamp,
        now: Timestamp,
    },
    /// A test or vaccination dated ahead of the checkpoint's clock: an
    /// honest issuer refuses such records at ingestion.
    #[error("its {event} is dated {at}, {} in the future: not a genuine record, or check this device's clock", at.since(*now))]
    EventInFuture {
        event: Event,
        at: Timestamp,
        now: Timestamp,
    },
}

/// A health event a pass records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Test,
    LastDose,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Event::Test => "nucleic-acid test",
            Event::LastDose => "last vaccination dose",
        })
    }
}

impl ValidityError {
    pub fn code(&self) -> &'static str {
        match self {
            ValidityError::Expired { .. } => "expired",
            ValidityError::NotYetValid { .. } => "not_yet_valid",
            ValidityError::IssuedInFuture { .. } => "issued_in_future",
            ValidityError::EventInFuture { .. } => "event_in_future",
        }
    }
}

/// The pass is revoked, or revocation cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RevocationError {
    #[error("pass revoked")]
    Revoked { index: u32 },
    #[error("the pass's revocation index {index} is outside the status list ({len} entries)")]
    IndexOutOfRange { index: u32, len: u64 },
    #[error("the status list expired {} ago: sync it before verifying", now.since(*expired_at))]
    StatusListExpired {
        expired_at: Timestamp,
        now: Timestamp,
    },
    /// No status list of the pass's issuer is held: the pass may be revoked.
    #[error(
        "could not check revocation: no status list of issuer {issuer} is held. Sync the lists; until then do not admit on this pass"
    )]
    NotChecked { issuer: String },
}

impl RevocationError {
    pub fn code(&self) -> &'static str {
        match self {
            RevocationError::Revoked { .. } => "pass_revoked",
            RevocationError::IndexOutOfRange { .. } => "revocation_index_out_of_range",
            RevocationError::StatusListExpired { .. } => "status_list_expired",
            RevocationError::NotChecked { .. } => "revocation_not_checked",
        }
    }
}

/// The pass is genuine and current, but this checkpoint does not admit it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("policy: colour {colour} is not admitted here")]
    ColourNotAllowed { colour: Colour },
    #[error("policy: no nucleic-acid test on record, a test within {max} is required")]
    NoTest { max: Seconds },
    #[error("policy: last test was positive")]
    TestPositive,
    #[error("policy: last test {age} ago, over {max}")]
    TestTooOld { age: Seconds, max: Seconds },
    #[error("policy: {have} of {need} required vaccination doses")]
    TooFewDoses { have: u8, need: u8 },
    #[error(
        "policy: a live code on the holder's phone is required here; a printed or copied pass is not accepted"
    )]
    LiveCodeRequired,
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::ColourNotAllowed { .. } => "policy_colour",
            PolicyError::NoTest { .. } => "policy_no_test",
            PolicyError::TestPositive => "policy_test_positive",
            PolicyError::TestTooOld { .. } => "policy_test_too_old",
            PolicyError::TooFewDoses { .. } => "policy_doses",
            PolicyError::LiveCodeRequired => "policy_live_code_required",
        }
    }
}

/// The pass is genuine and current, but not shown by the holder it is bound
/// to, or a live code's own checks fail (docs/format.md, "Live codes").
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HolderError {
    /// A bound pass outside a live code: a copy taken from a live code (or
    /// from the phone) and shown as a plain pass. Refused under every policy.
    #[error(
        "this pass is bound to its holder's phone: it is accepted only as a live code shown on that phone, never as a copy"
    )]
    BoundPassShownBare,
    /// A live code around a pass that carries no device key.
    #[error("not holder-bound: this live code carries a pass that is bound to no phone")]
    NotHolderBound,
    /// The device signature is not the bound key's.
    #[error("not from the phone this pass was issued to")]
    WrongDevice,
    /// A P-256 device signature whose `s` is in the high half: the twin of
    /// a signature, which sealpass never writes.
    #[error(
        "the phone's signature is not in the one form sealpass accepts (ECDSA low s): not a genuine live code, or its page needs an update"
    )]
    DeviceSignatureHighS,
    #[error(
        "code too old: signed {} ago, over {}. Ask for the live code on the phone, not a picture of it",
        in_seconds(*age),
        in_seconds(*max)
    )]
    CodeTooOld { age: Seconds, max: Seconds },
    #[error(
        "phone clock ahead: the code is dated {} ahead of this checkpoint, over {}. Check the phone's clock, and this checkpoint's",
        in_seconds(*ahead),
        in_seconds(*max)
    )]
    PhoneClockAhead { ahead: Seconds, max: Seconds },
}

/// A live code's age in seconds while that is how a worker counts it
/// (`61 s`, not `1 min`); longer spans as [`Seconds`] shows them.
fn in_seconds(span: Seconds) -> String {
    if span < Seconds::hours(1) {
        format!("{} s", span.0)
    } else {
        span.to_string()
    }
}

impl HolderError {
    pub fn code(&self) -> &'static str {
        match self {
            HolderError::BoundPassShownBare => "bound_pass_not_live",
            HolderError::NotHolderBound => "not_holder_bound",
            HolderError::WrongDevice => "wrong_device",
            HolderError::DeviceSignatureHighS => "device_signature_high_s",
            HolderError::CodeTooOld { .. } => "live_code_too_old",
            HolderError::PhoneClockAhead { .. } => "phone_clock_ahead",
        }
    }
}
