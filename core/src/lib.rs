//! sealpass-core: the wire format of sealpass health passes and every
//! decision a checkpoint makes about one, with no I/O, no clock and no async.
//! Time is always a parameter; the same code runs natively and in wasm32.
//!
//! A city's custodians sign a trust list naming the issuer's key; the issuer
//! signs passes; a checkpoint decides offline:
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use sealpass_core::*;
//!
//! let now = Timestamp(1_795_218_000); // 2026-11-21 07:40 in Xi'an
//! let custodians: Vec<SigningKey> = (1..=3).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
//! let issuer = SigningKey::from_bytes(&[9; 32]);
//!
//! // The key ceremony: 2 of 3 custodians sign the first trust list.
//! let roots = RootSet {
//!     threshold: 2,
//!     keys: custodians.iter().enumerate().map(|(i, key)| RootKey {
//!         custodian: format!("custodian {}", i + 1),
//!         public_key: key.public_key(),
//!     }).collect(),
//! };
//! let mut draft = SignedTrustList::draft(TrustList {
//!     sequence: 1,
//!     issued_at: now,
//!     expires_at: now.plus(Seconds::days(30)),
//!     roots: roots.clone(),
//!     issuer_keys: vec![IssuerKey {
//!         issuer: "CN-610100".into(),
//!         alg: ALG_ED25519,
//!         public_key: issuer.public_key(),
//!         not_before: now,
//!         not_after: now.plus(Seconds::days(365)),
//!         status: KeyStatus::Active,
//!         status_list_url: None,
//!         max_pass_lifetime: Some(Seconds::days(2)),
//!     }],
//! });
//! draft.add_signature(&custodians[0]).unwrap();
//! draft.add_signature(&custodians[2]).unwrap();
//! let trust = TrustedList::bootstrap(&roots, &draft.to_bytes(), now).unwrap();
//!
//! // The issuer signs a pass ahead of time.
//! let claims = PassClaims {
//!     issuer: "CN-610100".into(),
//!     issued_at: now,
//!     not_before: now,
//!     expires_at: now.plus(Seconds::hours(24)),
//!     revocation_index: 42,
//!     health: HealthStatus {
//!         colour: Colour::Green,
//!         masked_name: mask_name("张三明"),
//!         masked_id: mask_id("610102199001011234"),
//!         vaccination: Vaccination { doses: 3, last_dose: Date::from_ymd(2022, 1, 15) },
//!         last_test: None,
//!     },
//!     holder: None, // bound passes: see the `live` module
//! };
//! let text = sign_pass(&claims, &issuer).unwrap();
//! assert!(text.starts_with("SP1:") && text.len() <= 300);
//!
//! // And its status list: no pass revoked yet.
//! let revocations = StatusBits::new(1024);
//! let signed = sign_status_list("CN-610100", now, now.plus(Seconds::hours(30)), &revocations, &issuer).unwrap();
//! let status_lists = [StatusList::verify(&signed, &trust, now).unwrap()];
//!
//! // The checkpoint decides, offline.
//! let policy = CheckpointPolicy::builtin("subway").unwrap();
//! let checkpoint = Verifier::new(&trust, &policy).with_status_lists(&status_lists);
//! let pass = checkpoint.verify(&text, now.plus(Seconds::hours(1))).unwrap();
//! assert_eq!(pass.health().masked_name, "张*明");
//!
//! let late = checkpoint.verify(&text, now.plus(Seconds::hours(27))).unwrap_err();
//! assert_eq!(late.to_string(), "expired 3 h ago");
//!
//! // Without its issuer's status list a checkpoint cannot tell a revoked
//! // pass: it does not decide.
//! let unchecked = Verifier::new(&trust, &policy).verify(&text, now).unwrap_err();
//! assert_eq!(unchecked.code(), "revocation_not_checked");
//! assert!(unchecked.is_undecided());
//! ```
//!
//! A pass can also be bound to its holder's phone and shown only as a live
//! code the phone signs every few seconds: see [`live`].
//!
//! The format is specified in docs/format.md and the trust rules in
//! docs/trust.md of the repository.

#![forbid(unsafe_code)]

pub mod cbor;
mod claims;
pub mod cose;
mod ed25519;
mod error;
pub mod live;
mod policy;
mod signer;
mod status;
pub mod text;
mod time;
pub mod trust;
pub mod unicode;
mod verify;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use claims::{
    ClaimsError, Colour, HealthStatus, PassClaims, TestRecord, TestResult, Vaccination, mask_id,
    mask_name,
};
pub use ed25519::verify_ed25519;
pub use error::{
    DecodeError, Event, HolderError, Phase, PolicyError, RevocationError, SignatureError,
    TrustError, ValidityError, VerifyError,
};
pub use live::{
    AlreadyScanned, DeviceKey, DeviceKeyType, HolderBinding, LiveCodeProof, LiveCodeWindow,
    ReplayMemory,
};
pub use policy::{
    BUILTIN_PROFILES, CheckpointPolicy, PolicyCheck, PolicyParseError, parse_duration,
};
pub use signer::{ALG_ED25519, ExpandedKey, Kid, Signer, SignerError};
pub use status::{LIST_CLOCK_SKEW, StatusBits, StatusList, StatusListError, sign_status_list};
pub use text::TextError;
pub use time::{Date, Seconds, Timestamp};
pub use trust::{
    Counted, Freshness, IssuerKey, KeyStatus, LEGACY_MAX_PASS_LIFETIME, RootKey, RootSet,
    SignatureTally, SignedTrustList, TrustList, TrustUpdate, TrustUpdateError, TrustedList,
};
pub use verify::{
    DEFAULT_CLOCK_SKEW, MAX_CLOCK_SKEW, VerifiedPass, Verifier, sign_pass, sign_passes,
    sign_passes_cose,
};

/// Claim-key constants, for tools that inspect raw claims.
pub mod claim_keys {
    pub use crate::claims::{
        CLAIM_EXP, CLAIM_HEALTH, CLAIM_IAT, CLAIM_ISS, CLAIM_NBF, CLAIM_REVOCATION_INDEX,
        HEALTH_COLOUR, HEALTH_DOSES, HEALTH_LAST_DOSE, HEALTH_MASKED_ID, HEALTH_MASKED_NAME,
        HEALTH_TEST_RESULT, HEALTH_TEST_TIME,
    };
    pub use crate::live::CLAIM_CNF;
}
