//! What the vectors make of the test city (`testkit::City`, whose keys
//! they sign with): their trust lists and status list, and the fixture
//! files those are shared as.

use super::Fixture;
use ed25519_dalek::SigningKey;
pub use sealpass_core::testkit::City;
use sealpass_core::testkit::{INDEX, ISSUER, NOW, issuer_entry, sample_claims};
use sealpass_core::{
    IssuerKey, KeyStatus, PassClaims, Seconds, StatusBits, Timestamp, TrustList, sign_status_list,
};

/// The pinned root set: custodians 1-5, any 3 of them.
pub const ROOTS: &str = "fixtures/roots.hex";
/// Sequence 1, signed by custodians 1, 2 and 3: what checkpoints trust now.
pub const TRUST_LIST: &str = "fixtures/trust-list.hex";
/// Sequence 1 as it stood ten days after it expired.
pub const TRUST_LIST_EXPIRED: &str = "fixtures/trust-list-expired.hex";
/// Sequence 2, same content, signed by custodians 2, 4 and 5.
pub const TRUST_LIST_SEQ2: &str = "fixtures/trust-list-seq2.hex";
/// Sequence 2 handing the roots to custodians 4-8, signed by 1, 2, 3 (old) and 6, 7, 8 (new).
pub const TRUST_LIST_ROTATED: &str = "fixtures/trust-list-rotated.hex";
/// Sequence 1 in format version 1: the same keys with no pass lifetime.
pub const TRUST_LIST_V1: &str = "fixtures/trust-list-v1.hex";
/// The Xi'an issuer's status list: 4096 entries, 7 and 1000 revoked.
pub const STATUS_LIST: &str = "fixtures/status-list.hex";

/// The longest a pass or status list of this city's keys may live.
pub const MAX_PASS_LIFETIME: Seconds = Seconds::days(2);

/// Revocation indexes the status list revokes.
pub const REVOKED_INDEXES: [u32; 2] = [7, 1000];
/// Entries in the status list.
pub const STATUS_LIST_ENTRIES: u64 = 4096;

/// When the retired key stopped signing: two hours before [`NOW`], at the
/// morning's key rollover.
pub const RETIRED_AT: Timestamp = Timestamp(NOW.0 - 2 * 3600);

/// The issuer keys every list of the vectors names: active and revoked
/// valid 180 days either side of [`NOW`], retired until [`RETIRED_AT`].
pub fn issuer_keys(city: &City) -> Vec<IssuerKey> {
    let entry = |key: &SigningKey, status, not_before, not_after| IssuerKey {
        not_before,
        not_after,
        max_pass_lifetime: Some(MAX_PASS_LIFETIME),
        ..issuer_entry(key, status)
    };
    vec![
        entry(
            &city.active,
            KeyStatus::Active,
            NOW.minus(Seconds::days(180)),
            NOW.plus(Seconds::days(180)),
        ),
        entry(
            &city.retired,
            KeyStatus::Retired,
            NOW.minus(Seconds::days(365)),
            RETIRED_AT,
        ),
        entry(
            &city.revoked,
            KeyStatus::Revoked,
            NOW.minus(Seconds::days(180)),
            NOW.plus(Seconds::days(180)),
        ),
    ]
}

/// The vectors' list of sequence `sequence`: issued a day before [`NOW`],
/// valid 30 days, the city's roots and [`issuer_keys`].
pub fn list(city: &City, sequence: u64) -> TrustList {
    TrustList {
        sequence,
        issued_at: NOW.minus(Seconds::days(1)),
        expires_at: NOW.plus(Seconds::days(30)),
        roots: city.roots.clone(),
        issuer_keys: issuer_keys(city),
    }
}

/// The trust list checkpoints hold now: [`list`] 1, signed by custodians 1, 2, 3.
pub fn trust_list(city: &City) -> Vec<u8> {
    city.sign(&list(city, 1), &[1, 2, 3])
}

/// [`list`] as a version 1 list: no key names a pass lifetime.
pub fn list_v1(city: &City, sequence: u64) -> TrustList {
    let mut list = list(city, sequence);
    for key in &mut list.issuer_keys {
        key.max_pass_lifetime = None;
    }
    list
}

/// [`list`] 2, handing the roots to custodians 4-8.
pub fn rotated_list(city: &City) -> TrustList {
    TrustList {
        roots: city.rotated_roots(),
        ..list(city, 2)
    }
}

/// The shared inputs of the vectors, at the paths above.
pub fn fixtures(city: &City) -> Vec<Fixture> {
    let expired = TrustList {
        issued_at: NOW.minus(Seconds::days(40)),
        expires_at: NOW.minus(Seconds::days(10)),
        ..list(city, 1)
    };
    let mut bits = StatusBits::new(STATUS_LIST_ENTRIES);
    for index in REVOKED_INDEXES {
        bits.revoke(index);
    }
    let issued_at = NOW.minus(Seconds::hours(2));
    let status_list = sign_status_list(
        ISSUER,
        issued_at,
        issued_at.plus(Seconds::hours(24)),
        &bits,
        &city.active,
    )
    .expect("in-memory keys sign");
    vec![
        Fixture::new(
            ROOTS,
            "pinned root set (RootSet CBOR): custodians 1-5, threshold 3",
            city.roots_file(),
        ),
        Fixture::new(
            TRUST_LIST,
            "trust list seq 1 (COSE_Sign, format version 2): roots 3 of custodians 1-5; issuer keys active, \
             retired, revoked, each passes of at most 2 days; signed by custodians 1, 2, 3",
            trust_list(city),
        ),
        Fixture::new(
            TRUST_LIST_V1,
            "trust list seq 1 in format version 1 (no pass lifetimes: 7 days apply); same roots and keys; \
             signed by custodians 1, 2, 3",
            city.sign(&list_v1(city, 1), &[1, 2, 3]),
        ),
        Fixture::new(
            TRUST_LIST_EXPIRED,
            "trust list seq 1, issued 40 days and expired 10 days before now; signed by custodians 1, 2, 3",
            city.sign(&expired, &[1, 2, 3]),
        ),
        Fixture::new(
            TRUST_LIST_SEQ2,
            "trust list seq 2, same roots and keys as seq 1; signed by custodians 2, 4, 5",
            city.sign(&list(city, 2), &[2, 4, 5]),
        ),
        Fixture::new(
            TRUST_LIST_ROTATED,
            "trust list seq 2 rotating the roots to custodians 4-8 (threshold 3); signed by old roots 1, 2, 3 \
             and new roots 6, 7, 8",
            city.sign(&rotated_list(city), &[1, 2, 3, 6, 7, 8]),
        ),
        Fixture::new(
            STATUS_LIST,
            "status list of CN-610100 (COSE_Sign1): 4096 entries, 7 and 1000 revoked; signed by the active key \
             2 h before now, expires 22 h after now",
            status_list,
        ),
    ]
}

/// A full, green claim set issued an hour before [`NOW`]: test 21 h old and
/// negative, three doses, revocation index 42 (not revoked).
pub fn claims() -> PassClaims {
    claims_issued_at(NOW.minus(Seconds::hours(1)))
}

/// [`claims`], issued at `issued_at` and valid for 24 hours from then.
pub fn claims_issued_at(issued_at: Timestamp) -> PassClaims {
    PassClaims {
        revocation_index: INDEX,
        ..sample_claims(issued_at)
    }
}
