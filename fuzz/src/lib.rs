//! What the fuzz targets share: the testkit city, built once per process,
//! and the helpers that sign fuzzed payloads with the testkit keys so that a
//! target reaches the code behind a signature check, not only the envelope.
//!
//! Several targets read their first input byte as a *mode* and the rest as
//! the body; each target's header says what the modes are. The seeds in
//! `fuzz/seeds/` are written by `cargo run --example seeds`.

use sealpass_core::cose::{self, AAD_STATUS_LIST, AAD_TRUST_LIST};
use sealpass_core::testkit::{self, City, NOW};
use sealpass_core::{
    ALG_ED25519, BUILTIN_PROFILES, CheckpointPolicy, Seconds, Signer, StatusBits, StatusList,
    sign_status_list,
};
use std::sync::LazyLock;

/// A revocation index the fixture's status list marks revoked.
pub const REVOKED_INDEX: u32 = 7;
/// Entries in the fixture's status list: covers the testkit sample pass.
pub const STATUS_ENTRIES: u64 = 1 << 21;

/// The testkit city at [`NOW`], with a status list of its issuer and the
/// built-in checkpoint policies.
pub struct Fixture {
    pub city: City,
    pub status_lists: Vec<StatusList>,
    pub policies: Vec<CheckpointPolicy>,
    /// A holder's phones, one of each key type (`live_code`).
    pub ed25519_phone: ed25519_dalek::SigningKey,
    pub p256_phone: p256::ecdsa::SigningKey,
}

pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let city = City::new();
    let signed = status_list_bytes(&city);
    let list = StatusList::verify(&signed, city.trusted(), NOW)
        .expect("the fixture status list verifies");
    let policies = BUILTIN_PROFILES
        .iter()
        .map(|name| CheckpointPolicy::builtin(name).expect("built in"))
        .collect();
    Fixture {
        city,
        status_lists: vec![list],
        policies,
        ed25519_phone: testkit::device_key("fuzzed phone, Ed25519"),
        p256_phone: testkit::p256_device_key("fuzzed phone, P-256"),
    }
});

/// The fixture's signed status list: entry [`REVOKED_INDEX`] revoked.
pub fn status_list_bytes(city: &City) -> Vec<u8> {
    let mut bits = StatusBits::new(STATUS_ENTRIES);
    bits.revoke(REVOKED_INDEX);
    sign_status_list(
        testkit::ISSUER,
        NOW.minus(Seconds::hours(1)),
        NOW.plus(Seconds::days(1)),
        &bits,
        &city.active,
    )
    .expect("in-memory keys sign")
}

/// Split an input into its mode byte and body (mode 0 for an empty input).
pub fn mode(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((mode, body)) => (*mode, body),
        None => (0, data),
    }
}

/// `payload` in a COSE_Sign1 signed by `signer` with `aad`.
pub fn sign1(payload: &[u8], aad: &[u8], signer: &dyn Signer) -> Vec<u8> {
    cose::sign1(payload, aad, signer).expect("in-memory keys sign")
}

/// `payload` as a status list signed by the testkit issuer key.
pub fn signed_status_list(payload: &[u8]) -> Vec<u8> {
    sign1(payload, AAD_STATUS_LIST, &FIXTURE.city.active)
}

/// `payload` as a trust list in a COSE_Sign, signed by the custodians whose
/// bit is set in `custodian_mask` (bit 0 = custodian 1), in order.
pub fn signed_trust_list(payload: &[u8], custodian_mask: u8) -> Vec<u8> {
    let signatures: Vec<_> = FIXTURE
        .city
        .custodians(&[1, 2, 3, 4, 5])
        .iter()
        .enumerate()
        .filter(|(i, _)| custodian_mask & (1 << i) != 0)
        .map(|(_, key)| {
            let protected = cose::encode_protected(ALG_ED25519, key.kid());
            let message = cose::sig_structure(&[], &protected, AAD_TRUST_LIST, payload);
            (protected, key.sign(&message).expect("in-memory keys sign"))
        })
        .collect();
    cose::encode_sign(payload, &signatures)
}
