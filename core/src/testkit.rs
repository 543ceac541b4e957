//! Deterministic keys and a ready-made ceremony for tests, vectors and
//! benchmarks (feature `testkit`). Every key here is derived from a public
//! label: **never use them for anything real.**

use crate::claims::{
    Colour, HealthStatus, PassClaims, TestRecord, TestResult, Vaccination, mask_id, mask_name,
};
use crate::signer::{ALG_ED25519, Signer};
use crate::status::{StatusBits, StatusList, sign_status_list};
use crate::text;
use crate::time::{Date, Seconds, Timestamp};
use crate::trust::{
    IssuerKey, KeyStatus, RootKey, RootSet, SignedTrustList, TrustList, TrustedList,
};
use crate::verify::sign_pass;
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

/// Passes of a [`City`] carry this revocation index unless revoked on purpose.
pub const INDEX: u32 = 42;
/// The index a [`City`]'s status list revokes.
pub const REVOKED_INDEX: u32 = 7;

/// The checkpoint tests' city, at any `now`: five custodians (any three
/// sign), the Xi'an issuer's active key, a leaked key revoked in the trust
/// list, a stranger's key that no list names, a status list revoking
/// [`REVOKED_INDEX`], and every kind of pass a checkpoint meets. Every key
/// comes from [`key`], so at [`NOW`] every byte is the same on every run.
pub struct City {
    pub now: Timestamp,
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
    /// The city at [`NOW`].
    pub fn new() -> City {
        City::at(NOW)
    }

    pub fn at(now: Timestamp) -> City {
        let custodians: Vec<SigningKey> = (1..=5).map(|i| key(&format!("custodian {i}"))).collect();
        let roots = root_set(&custodians, 3);
        City {
            now,
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

    /// Sequence `sequence`, issued a day before `now`, valid 30 days, with
    /// the active key and the revoked leaked key, each valid 180 days either
    /// side of `now`; no status-list URLs, so a sync fetches
    /// `status/CN-610100.cbor` from its source.
    pub fn list(&self, sequence: u64) -> TrustList {
        let entry = |signer: &SigningKey, status| {
            let mut entry = issuer_entry(signer, status);
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

    /// `list` signed by the custodians at these positions (0-based).
    pub fn sign(&self, list: &TrustList, custodians: &[usize]) -> Vec<u8> {
        let signers: Vec<SigningKey> = custodians
            .iter()
            .map(|&i| self.custodians[i].clone())
            .collect();
        sign_list(list, &signers)
    }

    /// [`City::list`] signed by custodians 1, 2 and 3.
    pub fn trust_list(&self, sequence: u64) -> Vec<u8> {
        self.sign(&self.list(sequence), &[0, 1, 2])
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
            &self.issuer,
        )
        .expect("in-memory keys sign")
    }

    /// The status list as of an hour before `now`.
    pub fn current_status_list(&self) -> Vec<u8> {
        self.status_list(self.now.minus(Seconds::hours(1)), &[])
    }

    /// Green, issued an hour before `now`, valid 24 h, a negative test 21 h
    /// before `now`, three doses, revocation index [`INDEX`].
    pub fn claims(&self) -> PassClaims {
        PassClaims {
            revocation_index: INDEX,
            ..sample_claims(self.now.minus(Seconds::hours(1)))
        }
    }

    pub fn pass(&self, claims: &PassClaims) -> String {
        sign_pass(claims, &self.issuer).expect("in-memory keys sign")
    }

    pub fn valid_pass(&self) -> String {
        self.pass(&self.claims())
    }

    /// Every kind of pass a checkpoint meets, by name: `valid`, `yellow`,
    /// `expired` (3 h 12 min ago), `not-yet-valid`, `revoked`,
    /// `unknown-key`, `revoked-key`, `bad-signature`, `old-test` (61 h).
    pub fn passes(&self) -> Vec<(&'static str, String)> {
        let now = self.now;
        let mut passes = vec![("valid", self.valid_pass())];
        let mut yellow = self.claims();
        yellow.health.colour = Colour::Yellow;
        passes.push(("yellow", self.pass(&yellow)));
        let expired = PassClaims {
            revocation_index: INDEX,
            ..sample_claims(now.minus(Seconds::minutes(27 * 60 + 12)))
        };
        passes.push(("expired", self.pass(&expired)));
        let mut early = self.claims();
        early.not_before = now.plus(Seconds::hours(2));
        passes.push(("not-yet-valid", self.pass(&early)));
        let mut revoked = self.claims();
        revoked.revocation_index = REVOKED_INDEX;
        passes.push(("revoked", self.pass(&revoked)));
        let sign = |key: &SigningKey| sign_pass(&self.claims(), key).expect("in-memory keys sign");
        passes.push(("unknown-key", sign(&self.stranger)));
        passes.push(("revoked-key", sign(&self.leaked)));
        passes.push(("bad-signature", tamper_signature(&self.valid_pass())));
        let mut old_test = self.claims();
        old_test.health.last_test = Some(TestRecord {
            taken_at: now.minus(Seconds::hours(61)),
            result: TestResult::Negative,
        });
        passes.push(("old-test", self.pass(&old_test)));
        passes
    }

    /// One of [`City::passes`], by name.
    pub fn named(&self, name: &str) -> String {
        self.passes()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the test city has no pass named {name}"))
            .1
    }
}

/// The same pass with the last signature byte flipped: well-formed, but the
/// signature no longer verifies.
pub fn tamper_signature(pass: &str) -> String {
    let mut cose = text::decode(pass).expect("a pass text");
    if let Some(last) = cose.last_mut() {
        *last ^= 0x01;
    }
    text::encode(&cose)
}

/// Reading the test vectors (`tests/vectors/README.md` of sealpass-core):
/// a case file's `key: value` lines, and the bytes a value names, for the
/// checkpoints' own runs of the vectors. Reading the files is the caller's.
pub mod vectors {
    use std::collections::BTreeMap;

    /// A case file's `key: value` lines (one space after the colon).
    pub fn case_fields(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(key, value)| {
                let value = value.strip_prefix(' ').unwrap_or(value);
                (key.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// Whether a value names a fixture file (`fixtures/name.hex`) rather
    /// than holding its bytes in hex.
    pub fn is_fixture(value: &str) -> bool {
        value.starts_with("fixtures/")
    }

    /// The bytes of lowercase hex, 32 bytes to a line or all on one, with
    /// `#` lines (a fixture's description) passed over.
    pub fn hex_bytes(text: &str) -> Vec<u8> {
        let hex: String = text.lines().filter(|line| !line.starts_with('#')).collect();
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("lowercase hex"))
            .collect()
    }
}
