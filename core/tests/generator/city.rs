//! The test city every vector lives in: its custodians, issuer keys, trust
//! lists and status list, and the fixture files they are shared as.

use super::Fixture;
use ed25519_dalek::SigningKey;
use sealpass_core::testkit::{ISSUER, NOW, key, root_set, sample_claims, sign_list};
use sealpass_core::{
    ALG_ED25519, IssuerKey, KeyStatus, PassClaims, RootSet, Seconds, StatusBits, Timestamp,
    TrustList, sign_status_list,
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

pub struct City {
    /// Custodians 1-8; 1-5 hold the roots of sequence 1, 4-8 those of the rotated list.
    custodians: Vec<SigningKey>,
    /// Signs passes now.
    pub active: SigningKey,
    /// Signed passes until [`RETIRED_AT`].
    pub retired: SigningKey,
    /// Compromised: nothing it signed is accepted.
    pub revoked: SigningKey,
    /// Named in no trust list.
    pub rogue: SigningKey,
    /// Holds no root key, but signs trust lists anyway.
    pub outsider: SigningKey,
}

impl City {
    pub fn new() -> City {
        City {
            custodians: (1..=8).map(|i| key(&format!("custodian {i}"))).collect(),
            active: key("issuer CN-610100 2026"),
            retired: key("issuer CN-610100 2025"),
            revoked: key("issuer CN-610100 compromised"),
            rogue: key("rogue issuer key"),
            outsider: key("outsider, not a custodian"),
        }
    }

    /// Custodian `n` (1-based, as on the key cards).
    pub fn custodian(&self, n: usize) -> &SigningKey {
        &self.custodians[n - 1]
    }

    /// Custodians by number, in the order given.
    pub fn custodians(&self, numbers: &[usize]) -> Vec<SigningKey> {
        numbers.iter().map(|&n| self.custodian(n).clone()).collect()
    }

    /// Custodians 1-5, threshold 3.
    pub fn roots(&self) -> RootSet {
        root_set(&self.custodians[..5], 3)
    }

    /// Custodians 4-8, threshold 3, named "custodian 4" to "custodian 8".
    pub fn rotated_roots(&self) -> RootSet {
        let mut roots = root_set(&self.custodians, 3);
        roots.keys.drain(..3);
        roots
    }

    /// The issuer keys every list of this city names.
    pub fn issuer_keys(&self) -> Vec<IssuerKey> {
        let entry = |key: &SigningKey, status, not_before, not_after| IssuerKey {
            issuer: ISSUER.into(),
            alg: ALG_ED25519,
            public_key: key.verifying_key().to_bytes(),
            not_before,
            not_after,
            status,
            status_list_url: Some("https://health.example/sealpass/status/CN-610100".into()),
            max_pass_lifetime: Some(MAX_PASS_LIFETIME),
        };
        vec![
            entry(
                &self.active,
                KeyStatus::Active,
                NOW.minus(Seconds::days(180)),
                NOW.plus(Seconds::days(180)),
            ),
            entry(
                &self.retired,
                KeyStatus::Retired,
                NOW.minus(Seconds::days(365)),
                RETIRED_AT,
            ),
            entry(
                &self.revoked,
                KeyStatus::Revoked,
                NOW.minus(Seconds::days(180)),
                NOW.plus(Seconds::days(180)),
            ),
        ]
    }

    /// Sequence `sequence`, issued a day before [`NOW`], valid 30 days.
    pub fn list(&self, sequence: u64) -> TrustList {
        TrustList {
            sequence,
            issued_at: NOW.minus(Seconds::days(1)),
            expires_at: NOW.plus(Seconds::days(30)),
            roots: self.roots(),
            issuer_keys: self.issuer_keys(),
        }
    }

    /// The trust list checkpoints hold now.
    pub fn trust_list(&self) -> Vec<u8> {
        sign_list(&self.list(1), &self.custodians(&[1, 2, 3]))
    }

    /// [`City::list`] as a version 1 list: no key names a pass lifetime.
    pub fn list_v1(&self, sequence: u64) -> TrustList {
        let mut list = self.list(sequence);
        for key in &mut list.issuer_keys {
            key.max_pass_lifetime = None;
        }
        list
    }

    pub fn rotated_list(&self) -> TrustList {
        TrustList {
            roots: self.rotated_roots(),
            ..self.list(2)
        }
    }

    pub fn fixtures(&self) -> Vec<Fixture> {
        let expired = TrustList {
            issued_at: NOW.minus(Seconds::days(40)),
            expires_at: NOW.minus(Seconds::days(10)),
            ..self.list(1)
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
            &self.active,
        )
        .expect("in-memory keys sign");
        vec![
            Fixture::new(
                ROOTS,
                "pinned root set (RootSet CBOR): custodians 1-5, threshold 3",
                self.roots().to_cbor(),
            ),
            Fixture::new(
                TRUST_LIST,
                "trust list seq 1 (COSE_Sign, format version 2): roots 3 of custodians 1-5; issuer keys active, \
                 retired, revoked, each passes of at most 2 days; signed by custodians 1, 2, 3",
                self.trust_list(),
            ),
            Fixture::new(
                TRUST_LIST_V1,
                "trust list seq 1 in format version 1 (no pass lifetimes: 7 days apply); same roots and keys; \
                 signed by custodians 1, 2, 3",
                sign_list(&self.list_v1(1), &self.custodians(&[1, 2, 3])),
            ),
            Fixture::new(
                TRUST_LIST_EXPIRED,
                "trust list seq 1, issued 40 days and expired 10 days before now; signed by custodians 1, 2, 3",
                sign_list(&expired, &self.custodians(&[1, 2, 3])),
            ),
            Fixture::new(
                TRUST_LIST_SEQ2,
                "trust list seq 2, same roots and keys as seq 1; signed by custodians 2, 4, 5",
                sign_list(&self.list(2), &self.custodians(&[2, 4, 5])),
            ),
            Fixture::new(
                TRUST_LIST_ROTATED,
                "trust list seq 2 rotating the roots to custodians 4-8 (threshold 3); signed by old roots 1, 2, 3 \
                 and new roots 6, 7, 8",
                sign_list(&self.rotated_list(), &self.custodians(&[1, 2, 3, 6, 7, 8])),
            ),
            Fixture::new(
                STATUS_LIST,
                "status list of CN-610100 (COSE_Sign1): 4096 entries, 7 and 1000 revoked; signed by the active key \
                 2 h before now, expires 22 h after now",
                status_list,
            ),
        ]
    }
}

/// A full, green claim set issued an hour before [`NOW`]: test 21 h old and
/// negative, three doses, revocation index 42 (not revoked).
pub fn claims() -> PassClaims {
    claims_issued_at(NOW.minus(Seconds::hours(1)))
}

/// [`claims`], issued at `issued_at` and valid for 24 hours from then.
pub fn claims_issued_at(issued_at: Timestamp) -> PassClaims {
    PassClaims {
        revocation_index: 42,
        ..sample_claims(issued_at)
    }
}
