//! Deterministic keys and a ready-made ceremony for tests, vectors and
//! benchmarks (feature `testkit`). Every key here is derived from a public
//! label: **never use them for anything real.**

use crate::claims::{
    Colour, HealthStatus, PassClaims, TestRecord, TestResult, Vaccination, mask_id, mask_name,
};
use crate::signer::{ALG_ED25519, Signer};
use crate::status::{StatusBits, StatusList, sign_status_list};
use crate::time::{Date, Seconds, Timestamp};
use crate::trust::{
    IssuerKey, KeyStatus, RootKey, RootSet, SignedTrustList, TrustList, TrustedList,
};
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

/// A test city: five custodians, threshold three, one active issuer key,
/// and the first trust list signed by custodians 1, 2 and 3.
pub struct Ceremony {
    pub custodians: Vec<SigningKey>,
    pub roots: RootSet,
    pub issuer_key: SigningKey,
    pub list: TrustList,
    pub signed: Vec<u8>,
    pub trusted: TrustedList,
}

impl Ceremony {
    pub fn new() -> Ceremony {
        let custodians: Vec<SigningKey> = (1..=5).map(|i| key(&format!("custodian {i}"))).collect();
        let roots = root_set(&custodians, 3);
        let issuer_key = key("issuer CN-610100 2026");
        let list = TrustList {
            sequence: 1,
            issued_at: NOW.minus(Seconds::days(1)),
            expires_at: NOW.plus(Seconds::days(30)),
            roots: roots.clone(),
            issuer_keys: vec![issuer_entry(&issuer_key, KeyStatus::Active)],
        };
        let signed = sign_list(&list, &custodians[..3]);
        let trusted =
            TrustedList::bootstrap(&roots, &signed, NOW).expect("the test ceremony is valid");
        Ceremony {
            custodians,
            roots,
            issuer_key,
            list,
            signed,
            trusted,
        }
    }

    /// A pass with every claim present, issued an hour before [`NOW`].
    pub fn claims(&self) -> PassClaims {
        sample_claims(NOW.minus(Seconds::hours(1)))
    }

    /// The issuer's signed status list with `revoked` set: room for the
    /// sample claims' index, issued an hour before [`NOW`], valid 30 hours.
    pub fn signed_status_list(&self, revoked: &[u32]) -> Vec<u8> {
        let mut bits = StatusBits::new(1 << 21);
        for &index in revoked {
            bits.revoke(index);
        }
        let issued_at = NOW.minus(Seconds::hours(1));
        sign_status_list(
            ISSUER,
            issued_at,
            issued_at.plus(Seconds::hours(30)),
            &bits,
            &self.issuer_key,
        )
        .expect("in-memory keys sign")
    }

    /// [`Ceremony::signed_status_list`] with nothing revoked, verified: what
    /// a checkpoint holds after a sync.
    pub fn status_lists(&self) -> Vec<StatusList> {
        let signed = self.signed_status_list(&[]);
        vec![
            StatusList::verify(&signed, &self.trusted, NOW).expect("the test status list is valid"),
        ]
    }
}

impl Default for Ceremony {
    fn default() -> Self {
        Ceremony::new()
    }
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
    }
}
