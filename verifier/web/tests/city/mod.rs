//! The command line tests' city (verifier/tests/support/city.rs) at any
//! `now`: five custodians (any three sign), the Xi'an issuer's active key, a
//! leaked key revoked in the trust list, a status list revoking index 7, and
//! every kind of pass a checkpoint meets. Every key comes from
//! `testkit::key`, so at `testkit::NOW` every byte is the command line's.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use sealpass_core::testkit::{self, ISSUER, key};
use sealpass_core::text;
use sealpass_core::{
    KeyStatus, PassClaims, RootSet, Seconds, StatusBits, Timestamp, TrustList, sign_pass,
    sign_status_list,
};

pub const INDEX: u32 = 42;
pub const REVOKED_INDEX: u32 = 7;

pub struct City {
    pub now: Timestamp,
    pub custodians: Vec<SigningKey>,
    pub roots: RootSet,
    pub issuer: SigningKey,
    pub leaked: SigningKey,
    pub stranger: SigningKey,
}

impl City {
    pub fn at(now: Timestamp) -> City {
        let custodians: Vec<SigningKey> = (1..=5).map(|i| key(&format!("custodian {i}"))).collect();
        let roots = testkit::root_set(&custodians, 3);
        City {
            now,
            custodians,
            roots,
            issuer: key("issuer CN-610100 2026"),
            leaked: key("issuer CN-610100 leaked"),
            stranger: key("someone else's issuer"),
        }
    }

    /// Issued a day before `now`, valid 30 days, with the active key and
    /// the revoked leaked key, each valid 180 days either side of `now`.
    pub fn list(&self, sequence: u64) -> TrustList {
        let entry = |signer: &SigningKey, status| {
            let mut entry = testkit::issuer_entry(signer, status);
            entry.status_list_url = None;
            entry.not_before = self.now.minus(Seconds::days(180));
            entry.not_after = self.now.plus(Seconds::days(180));
            entry
        };
        TrustList {
            sequence,
            issued_at: self.now.minus(Seconds::days(1)),
            expires_at: self.now.plus(Seconds::days(30)),
            roots: self.roots.clone(),
            issuer_keys: vec![
                entry(&self.issuer, KeyStatus::Active),
                entry(&self.leaked, KeyStatus::Revoked),
            ],
        }
    }

    pub fn sign(&self, list: &TrustList, custodians: &[usize]) -> Vec<u8> {
        let signers: Vec<SigningKey> = custodians
            .iter()
            .map(|&i| self.custodians[i].clone())
            .collect();
        testkit::sign_list(list, &signers)
    }

    pub fn trust_list(&self, sequence: u64) -> Vec<u8> {
        self.sign(&self.list(sequence), &[0, 1, 2])
    }

    /// 4096 entries, [`REVOKED_INDEX`] revoked, valid 24 h from `issued_at`.
    pub fn status_list(&self, issued_at: Timestamp) -> Vec<u8> {
        let mut bits = StatusBits::new(4096);
        bits.revoke(REVOKED_INDEX);
        sign_status_list(
            ISSUER,
            issued_at,
            issued_at.plus(Seconds::hours(24)),
            &bits,
            &self.issuer,
        )
        .unwrap()
    }

    pub fn current_status_list(&self) -> Vec<u8> {
        self.status_list(self.now.minus(Seconds::hours(1)))
    }

    /// Green, issued an hour before `now`, valid 24 h, revocation index [`INDEX`].
    pub fn claims(&self) -> PassClaims {
        let mut claims = testkit::sample_claims(self.now.minus(Seconds::hours(1)));
        claims.revocation_index = INDEX;
        claims
    }

    pub fn pass(&self, claims: &PassClaims) -> String {
        sign_pass(claims, &self.issuer).unwrap()
    }

    pub fn valid(&self) -> String {
        self.pass(&self.claims())
    }

    /// Issued 27 h 12 min before `now`: expired 3 h 12 min ago.
    pub fn expired(&self) -> String {
        let claims = testkit::sample_claims(self.now.minus(Seconds::minutes(27 * 60 + 12)));
        self.pass(&PassClaims {
            revocation_index: INDEX,
            ..claims
        })
    }

    pub fn revoked(&self) -> String {
        let mut claims = self.claims();
        claims.revocation_index = REVOKED_INDEX;
        self.pass(&claims)
    }

    /// The valid pass with its last signature byte flipped.
    pub fn tampered(&self) -> String {
        let mut cose = text::decode(&self.valid()).unwrap();
        *cose.last_mut().unwrap() ^= 0x01;
        text::encode(&cose)
    }
}
