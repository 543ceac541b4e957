//! Deterministic keys and a ready-made city for tests, vectors and
//! benchmarks (feature `testkit`). Every key here is derived from a public
//! label: **never use them for anything real.**

mod city;
mod devices;
mod passes;
pub mod vectors;

pub use city::City;
pub use devices::{device_key, p256_device_key, p256_signature_with, p256_twin};

use crate::claims::{
    Colour, HealthStatus, PassClaims, TestRecord, TestResult, Vaccination, mask_id, mask_name,
};
use crate::signer::{ALG_ED25519, Signer};
use crate::text;
use crate::time::{Date, Seconds, Timestamp};
use crate::trust::{IssuerKey, KeyStatus, RootKey, RootSet, SignedTrustList, TrustList};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

/// 2026-11-21 07:40 China Standard Time: the morning rush.
pub const NOW: Timestamp = Timestamp(1_795_218_000);

/// The issuer id of the test issuer (Xi'an).
pub const ISSUER: &str = "CN-610100";

/// An Ed25519 key whose secret is SHA-256 of `label`. Public, so never secret.
pub fn key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(label.as_bytes()).into())
}

/// A root set of these custodians' keys.
pub fn root_set(custodians: &[SigningKey], threshold: u32) -> RootSet {
    RootSet {
        threshold,
        keys: custodians
            .iter()
            .enumerate()
            .map(|(i, key)| RootKey {
                custodian: format!("custodian {}", i + 1),
                public_key: key.public_key(),
            })
            .collect(),
    }
}

/// The trust-list entry of a test issuer key, valid for a year around [`NOW`].
pub fn issuer_entry(key: &SigningKey, status: KeyStatus) -> IssuerKey {
    IssuerKey {
        issuer: ISSUER.into(),
        alg: ALG_ED25519,
        public_key: key.public_key(),
        not_before: NOW.minus(Seconds::days(180)),
        not_after: NOW.plus(Seconds::days(180)),
        status,
        status_list_url: Some("https://health.example/sealpass/status/CN-610100".into()),
        max_pass_lifetime: Some(Seconds::days(2)),
    }
}

/// `list` signed by each of `signers`, in order.
pub fn sign_list(list: &TrustList, signers: &[SigningKey]) -> Vec<u8> {
    let mut draft = SignedTrustList::draft(list.clone());
    for signer in signers {
        draft.add_signature(signer).expect("in-memory keys sign");
    }
    draft.to_bytes()
}

/// A full claim set issued at `issued_at`, valid for 24 hours.
pub fn sample_claims(issued_at: Timestamp) -> PassClaims {
    PassClaims {
        issuer: ISSUER.into(),
        issued_at,
        not_before: issued_at,
        expires_at: issued_at.plus(Seconds::hours(24)),
        revocation_index: 1_234_567,
        health: HealthStatus {
            colour: Colour::Green,
            masked_name: mask_name("张三明"),
            masked_id: mask_id("610102199001011234"),
            vaccination: Vaccination {
                doses: 3,
                last_dose: Date::from_ymd(2022, 1, 15),
            },
            last_test: Some(TestRecord {
                taken_at: issued_at.minus(Seconds::hours(20)),
                result: TestResult::Negative,
            }),
        },
        holder: None,
    }
}

/// Passes of a [`City`] carry this revocation index unless revoked on purpose.
pub const INDEX: u32 = 42;
/// The index a [`City`]'s status list revokes.
pub const REVOKED_INDEX: u32 = 7;

/// The same pass with the last signature byte flipped: well-formed, but the
/// signature no longer verifies.
pub fn tamper_signature(pass: &str) -> String {
    let mut cose = text::decode(pass).expect("a pass text");
    if let Some(last) = cose.last_mut() {
        *last ^= 0x01;
    }
    text::encode(&cose)
}
