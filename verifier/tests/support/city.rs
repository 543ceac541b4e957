//! A test city: five custodians (any three sign), the Xi'an issuer's active
//! key, a leaked key revoked in the trust list, and a stranger's key that no
//! list names. Every key comes from `testkit::key` and every time from
//! `testkit::NOW`, so every byte is the same on every run.

use ed25519_dalek::SigningKey;
use sealpass_core::testkit::{self, ISSUER, key};
use sealpass_core::text;
use sealpass_core::{
    KeyStatus, PassClaims, RootSet, Seconds, StatusBits, TestRecord, TestResult, Timestamp,
    TrustList, sign_pass, sign_status_list,
};
use std::path::Path;

pub const NOW: Timestamp = testkit::NOW;

/// Passes here carry this revocation index unless revoked on purpose.
pub const INDEX: u32 = 42;
/// The index the status list revokes.
pub const REVOKED_INDEX: u32 = 7;

pub struct City {
    pub custodians: Vec<SigningKey>,
    pub roots: RootSet,
    pub issuer: SigningKey,
    pub leaked: SigningKey,
    pub stranger: SigningKey,
}

impl Default for City {
    fn default() -> Self {
        City::new()
    }
}

impl City {
    pub fn new() -> City {
        let custodians: Vec<SigningKey> = (1..=5).map(|i| key(&format!("custodian {i}"))).collect();
        let roots = testkit::root_set(&custodians, 3);
        City {
            custodians,
            roots,
            issuer: key("issuer CN-610100 2026"),
            leaked: key("issuer CN-610100 leaked"),
            stranger: key("someone else's issuer"),
        }
    }

    /// The ceremony's root-set file.
    pub fn roots_file(&self) -> Vec<u8> {
        self.roots.to_cbor()
    }

    /// Sequence `sequence`, issued a day before [`NOW`], valid 30 days, with
    /// the active key and the revoked leaked key; no status-list URLs, so a
    /// sync fetches `status/CN-610100.cbor` from its source.
    pub fn list(&self, sequence: u64) -> TrustList {
        let mut active = testkit::issuer_entry(&self.issuer, KeyStatus::Active);
        active.status_list_url = None;
        let mut leaked = testkit::issuer_entry(&self.leaked, KeyStatus::Revoked);
        leaked.status_list_url = None;
        TrustList {
            sequence,
            issued_at: NOW.minus(Seconds::days(1)),
            expires_at: NOW.plus(Seconds::days(30)),
            roots: self.roots.clone(),
            issuer_keys: vec![active, leaked],
        }
    }

    /// `list` signed by the custodians at these positions (0-based).
    pub fn sign(&self, list: &TrustList, custodians: &[usize]) -> Vec<u8> {
        let signers: Vec<SigningKey> = custodians
            .iter()
            .map(|&i| self.custodians[i].clone())
            .collect();
        testkit::sign_list(list, &signers)
    }

    /// [`City::list`] signed by custodians 1, 2 and 3.
    pub fn trust_list(&self, sequence: u64) -> Vec<u8> {
        self.sign(&self.list(sequence), &[0, 1, 2])
    }

    /// The issuer's status list: 4096 entries, [`REVOKED_INDEX`] and
    /// `also` revoked, issued at `issued_at` and valid for 24 h.
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
            &self.issuer,
        )
        .unwrap()
    }

    /// The status list as of an hour before [`NOW`].
    pub fn current_status_list(&self) -> Vec<u8> {
        self.status_list(NOW.minus(Seconds::hours(1)), &[])
    }

    /// Green, issued an hour before [`NOW`], valid 24 h, a negative test
    /// 21 h before [`NOW`], three doses, revocation index [`INDEX`].
    pub fn claims(&self) -> PassClaims {
        let mut claims = testkit::sample_claims(NOW.minus(Seconds::hours(1)));
        claims.revocation_index = INDEX;
        claims
    }

    pub fn pass(&self, claims: &PassClaims) -> String {
        sign_pass(claims, &self.issuer).unwrap()
    }

    pub fn valid_pass(&self) -> String {
        self.pass(&self.claims())
    }

    /// Every kind of pass a checkpoint meets, by name.
    pub fn passes(&self) -> Vec<(&'static str, String)> {
        let mut passes = vec![("valid", self.valid_pass())];

        let mut yellow = self.claims();
        yellow.health.colour = sealpass_core::Colour::Yellow;
        passes.push(("yellow", self.pass(&yellow)));

        let expired = testkit::sample_claims(NOW.minus(Seconds::minutes(27 * 60 + 12)));
        passes.push((
            "expired",
            self.pass(&PassClaims {
                revocation_index: INDEX,
                ..expired
            }),
        ));

        let mut early = self.claims();
        early.not_before = NOW.plus(Seconds::hours(2));
        passes.push(("not-yet-valid", self.pass(&early)));

        let mut revoked = self.claims();
        revoked.revocation_index = REVOKED_INDEX;
        passes.push(("revoked", self.pass(&revoked)));

        passes.push((
            "unknown-key",
            sign_pass(&self.claims(), &self.stranger).unwrap(),
        ));
        passes.push((
            "revoked-key",
            sign_pass(&self.claims(), &self.leaked).unwrap(),
        ));
        passes.push(("bad-signature", tamper_signature(&self.valid_pass())));

        let mut old_test = self.claims();
        old_test.health.last_test = Some(TestRecord {
            taken_at: NOW.minus(Seconds::hours(61)),
            result: TestResult::Negative,
        });
        passes.push(("old-test", self.pass(&old_test)));
        passes
    }

    pub fn named(&self, name: &str) -> String {
        self.passes()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no pass {name}"))
            .1
    }

    /// A folder laid out as `sync --from` reads it.
    pub fn publish(&self, dir: &Path, trust_list: &[u8], status_list: Option<&[u8]>) {
        std::fs::create_dir_all(dir.join("status")).unwrap();
        std::fs::write(dir.join("trust-list.cbor"), trust_list).unwrap();
        if let Some(status) = status_list {
            std::fs::write(dir.join("status/CN-610100.cbor"), status).unwrap();
        }
    }
}

/// The same pass with the last signature byte flipped: well-formed, but the
/// signature no longer verifies.
pub fn tamper_signature(pass: &str) -> String {
    let mut cose = text::decode(pass).unwrap();
    *cose.last_mut().unwrap() ^= 0x01;
    text::encode(&cose)
}
