//! The test city: every key the tests, benchmarks and vectors sign with,
//! and the trust lists and status lists made of them.

use super::{
    INDEX, ISSUER, NOW, REVOKED_INDEX, issuer_entry, key, root_set, sample_claims, sign_list,
};
use crate::claims::PassClaims;
use crate::status::{StatusBits, StatusList, sign_status_list};
use crate::time::{Seconds, Timestamp};
use crate::trust::{IssuerKey, KeyStatus, RootSet, TrustList, TrustedList};
use ed25519_dalek::SigningKey;

/// Xi'an's sealpass at any `now`. Eight custodians: 1-5 hold the roots
/// (any three sign), 4-8 the roots a rotation hands over to. The issuer
/// CN-610100 signs with its active key; the other keys play the parts the
/// tests need. Every key comes from [`key`] and a label (below, one per
/// part), so at [`NOW`] every byte is the same on every run.
///
/// Two trust lists are made of them: the first list, sequence 1 as the key
/// ceremony signed it with the active key alone ([`City::trusted`]), and
/// the checkpoints' lists of any sequence, which also revoke the revoked
/// key ([`City::list`]).
pub struct City {
    pub now: Timestamp,
    /// `custodian 1` to `custodian 8`.
    custodians: Vec<SigningKey>,
    /// Custodians 1-5, threshold 3.
    pub roots: RootSet,
    /// `issuer CN-610100 2026`: signs passes now.
    pub active: SigningKey,
    /// `issuer CN-610100 2025`: signed passes until the morning's rollover.
    pub retired: SigningKey,
    /// `issuer CN-610100 compromised`: revoked, nothing it signed is accepted.
    pub revoked: SigningKey,
    /// `rogue issuer key`: named in no trust list.
    pub rogue: SigningKey,
    /// `outsider, not a custodian`: holds no root key, but signs trust lists anyway.
    pub outsider: SigningKey,
    /// `issuer 2027`: the key a next trust list adds.
    pub next: SigningKey,
    first_list: TrustList,
    signed_first_list: Vec<u8>,
    trusted: TrustedList,
}

impl Default for City {
    fn default() -> Self {
        City::new()
    }
}

impl City {
    /// The city at [`NOW`].
    pub fn new() -> City {
        City::at(NOW)
    }

    pub fn at(now: Timestamp) -> City {
        let custodians: Vec<SigningKey> = (1..=8).map(|i| key(&format!("custodian {i}"))).collect();
        let roots = root_set(&custodians[..5], 3);
        let active = key("issuer CN-610100 2026");
        let first_list = TrustList {
            sequence: 1,
            issued_at: now.minus(Seconds::days(1)),
            expires_at: now.plus(Seconds::days(30)),
            roots: roots.clone(),
            issuer_keys: vec![entry(&active, KeyStatus::Active, now)],
        };
        let signed_first_list = sign_list(&first_list, &custodians[..3]);
        let trusted = TrustedList::bootstrap(&roots, &signed_first_list, now)
            .expect("the test city's first list is valid");
        City {
            now,
            custodians,
            roots,
            active,
            retired: key("issuer CN-610100 2025"),
            revoked: key("issuer CN-610100 compromised"),
            rogue: key("rogue issuer key"),
            outsider: key("outsider, not a custodian"),
            next: key("issuer 2027"),
            first_list,
            signed_first_list,
            trusted,
        }
    }

    /// Custodian `n` (1-based, as on the key cards).
    pub fn custodian(&self, n: usize) -> &SigningKey {
        &self.custodians[n - 1]
    }

    /// Custodians by number (1-based), in the order given.
    pub fn custodians(&self, numbers: &[usize]) -> Vec<SigningKey> {
        numbers.iter().map(|&n| self.custodian(n).clone()).collect()
    }

    /// `impostor 1` to `impostor 3`: no custodians, but they make a root set
    /// of their own and sign lists with it.
    pub fn impostors(&self) -> Vec<SigningKey> {
        (1..=3).map(|i| key(&format!("impostor {i}"))).collect()
    }

    /// Custodians 4-8, threshold 3, named "custodian 4" to "custodian 8".
    pub fn rotated_roots(&self) -> RootSet {
        let mut roots = root_set(&self.custodians, 3);
        roots.keys.drain(..3);
        roots
    }

    /// The ceremony's root-set file.
    pub fn roots_file(&self) -> Vec<u8> {
        self.roots.to_cbor()
    }

    /// Sequence 1 as the key ceremony signed it: issued a day before `now`,
    /// valid 30 days, naming the active key alone (with its status-list
    /// URL), signed by custodians 1, 2 and 3.
    pub fn first_list(&self) -> &TrustList {
        &self.first_list
    }

    /// [`City::first_list`], signed.
    pub fn signed_first_list(&self) -> &[u8] {
        &self.signed_first_list
    }

    /// [`City::first_list`], bootstrapped from the roots at `now`.
    pub fn trusted(&self) -> &TrustedList {
        &self.trusted
    }

    /// A checkpoint's list of sequence `sequence`, issued a day before
    /// `now`, valid 30 days, with the active key and the revoked key, each
    /// valid 180 days either side of `now`; no status-list URLs, so a sync
    /// fetches `status/CN-610100.cbor` from its source.
    pub fn list(&self, sequence: u64) -> TrustList {
        let entry = |signer: &SigningKey, status| IssuerKey {
            status_list_url: None,
            ..entry(signer, status, self.now)
        };
        TrustList {
            sequence,
            issued_at: self.now.minus(Seconds::days(1)),
            expires_at: self.now.plus(Seconds::days(30)),
            roots: self.roots.clone(),
            issuer_keys: vec![
                entry(&self.active, KeyStatus::Active),
                entry(&self.revoked, KeyStatus::Revoked),
            ],
        }
    }

    /// `list` signed by the custodians numbered `custodians` (1-based), in order.
    pub fn sign(&self, list: &TrustList, custodians: &[usize]) -> Vec<u8> {
        sign_list(list, &self.custodians(custodians))
    }

    /// [`City::list`] signed by custodians 1, 2 and 3.
    pub fn trust_list(&self, sequence: u64) -> Vec<u8> {
        self.sign(&self.list(sequence), &[1, 2, 3])
    }

    /// The issuer's status list: 4096 entries, [`REVOKED_INDEX`] and `also`
    /// revoked, issued at `issued_at` and valid for 24 h.
    pub fn status_list(&self, issued_at: Timestamp, also: &[u32]) -> Vec<u8> {
        let mut bits = StatusBits::new(4096);
        bits.revoke(REVOKED_INDEX);
        for &index in also {
            bits.revoke(index);
        }
        sign_status_list(
            ISSUER,
            issued_at,
            issued_at.plus(Seconds::hours(24)),
            &bits,
            &self.active,
        )
        .expect("in-memory keys sign")
    }

    /// The status list as of an hour before `now`.
    pub fn current_status_list(&self) -> Vec<u8> {
        self.status_list(self.now.minus(Seconds::hours(1)), &[])
    }

    /// The issuer's status list at full size, 2^21 entries (room for the
    /// sample claims' index), `revoked` revoked and nothing else, issued an
    /// hour before `now` and valid 30 hours.
    pub fn large_status_list(&self, revoked: &[u32]) -> Vec<u8> {
        let mut bits = StatusBits::new(1 << 21);
        for &index in revoked {
            bits.revoke(index);
        }
        let issued_at = self.now.minus(Seconds::hours(1));
        sign_status_list(
            ISSUER,
            issued_at,
            issued_at.plus(Seconds::hours(30)),
            &bits,
            &self.active,
        )
        .expect("in-memory keys sign")
    }

    /// [`City::large_status_list`] with nothing revoked, verified against
    /// [`City::trusted`]: what a checkpoint holds after a sync.
    pub fn held_status_lists(&self) -> Vec<StatusList> {
        let signed = self.large_status_list(&[]);
        vec![
            StatusList::verify(&signed, &self.trusted, self.now)
                .expect("the test status list is valid"),
        ]
    }

    /// Green, issued an hour before `now`, valid 24 h, a negative test 21 h
    /// before `now`, three doses, revocation index [`INDEX`].
    pub fn claims(&self) -> PassClaims {
        PassClaims {
            revocation_index: INDEX,
            ..sample_claims(self.now.minus(Seconds::hours(1)))
        }
    }
}

/// [`issuer_entry`], valid 180 days either side of `now`.
fn entry(key: &SigningKey, status: KeyStatus, now: Timestamp) -> IssuerKey {
    IssuerKey {
        not_before: now.minus(Seconds::days(180)),
        not_after: now.plus(Seconds::days(180)),
        ..issuer_entry(key, status)
    }
}
