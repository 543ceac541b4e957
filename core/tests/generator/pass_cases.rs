//! Pass vectors about the decisions: signature, issuer key, validity window,
//! revocation and checkpoint policy, each on a well-formed pass.

use super::city::{
    City, MAX_PASS_LIFETIME, RETIRED_AT, STATUS_LIST, TRUST_LIST, TRUST_LIST_EXPIRED,
    TRUST_LIST_V1, claims, claims_issued_at,
};
use super::raw::{RawSign1, malleate};
use super::{Case, Kind};
use ed25519_dalek::SigningKey;
use sealpass_core::cose::AAD_STATUS_LIST;
use sealpass_core::testkit::NOW;
use sealpass_core::{
    Colour, Date, LEGACY_MAX_PASS_LIFETIME, PassClaims, Seconds, TestRecord, TestResult, Timestamp,
    sign_pass,
};

/// A pass case, verified by default at [`NOW`] at a `subway` checkpoint
/// holding [`TRUST_LIST`] and the issuer's [`STATUS_LIST`].
pub struct PassCase {
    case: Case,
    policy: &'static str,
    trust_list: &'static str,
    status_list: Option<&'static str>,
    text: String,
}

pub fn pass(
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    text: String,
) -> PassCase {
    PassCase {
        case: Case::new(Kind::Pass, name, expect, comment),
        policy: "subway",
        trust_list: TRUST_LIST,
        status_list: Some(STATUS_LIST),
        text,
    }
}

impl PassCase {
    pub fn policy(self, policy: &'static str) -> PassCase {
        PassCase { policy, ..self }
    }

    pub fn trust_list(self, trust_list: &'static str) -> PassCase {
        PassCase { trust_list, ..self }
    }

    /// The checkpoint holds no status list of the issuer.
    pub fn without_status_list(self) -> PassCase {
        PassCase {
            status_list: None,
            ..self
        }
    }
}

impl From<PassCase> for Case {
    fn from(p: PassCase) -> Case {
        let case = p
            .case
            .line("policy", p.policy)
            .line("trust-list", p.trust_list);
        let case = match p.status_list {
            Some(status_list) => case.line("status-list", status_list),
            None => case,
        };
        case.line("pass", p.text)
    }
}

/// `claims` as the issuer signs them with `key`.
fn signed(claims: &PassClaims, key: &SigningKey) -> String {
    sign_pass(claims, key).expect("in-memory keys sign")
}

/// Claims issued at `issued_at`, valid from `not_before` to `expires_at`.
fn window(issued_at: Timestamp, not_before: Timestamp, expires_at: Timestamp) -> PassClaims {
    PassClaims {
        not_before,
        expires_at,
        ..claims_issued_at(issued_at)
    }
}

fn with_test(taken_at: Timestamp, result: TestResult) -> PassClaims {
    let mut claims = claims();
    claims.health.last_test = Some(TestRecord { taken_at, result });
    claims
}

pub fn cases(city: &City) -> Vec<Case> {
    let key = &city.active;
    let mut cases = accepted(city);
    cases.extend(refused_signatures(city));
    cases.extend(refused_keys(city));
    cases.extend(refused_lifetimes(city));
    cases.extend(refused_event_times(key));
    cases.extend(refused_windows(key));
    cases.extend(refused_revocations(key));
    cases.extend(refused_policies(key));
    cases.into_iter().map(Case::from).collect()
}

fn accepted(city: &City) -> Vec<PassCase> {
    let key = &city.active;
    let mut yellow = claims();
    yellow.health.colour = Colour::Yellow;
    let mut no_test = claims();
    no_test.health.last_test = None;
    let soon = NOW.plus(Seconds::minutes(4));
    vec![
        pass(
            "valid-subway",
            "valid",
            "a green pass issued an hour ago, at a subway gate",
            signed(&claims(), key),
        ),
        pass(
            "valid-office-test-21h",
            "valid",
            "a negative test 21 h old meets the office's 48 h",
            signed(&claims(), key),
        )
        .policy("office"),
        pass(
            "valid-office-test-exactly-48h",
            "valid",
            "a test exactly 48 h old is not over the office's 48 h limit",
            signed(
                &with_test(NOW.minus(Seconds::hours(48)), TestResult::Negative),
                key,
            ),
        )
        .policy("office"),
        pass(
            "valid-hospital",
            "valid",
            "three doses and a negative test 21 h old meet the hospital's 2 doses and 24 h",
            signed(&claims(), key),
        )
        .policy("hospital"),
        pass(
            "valid-outdoor-yellow",
            "valid",
            "outdoor checkpoints admit yellow as well as green",
            signed(&yellow, key),
        )
        .policy("outdoor"),
        pass(
            "valid-subway-no-test",
            "valid",
            "a subway gate requires no test, so a pass without one is admitted",
            signed(&no_test, key),
        ),
        pass(
            "valid-retired-key-inside-window",
            "valid",
            "signed 3 h ago by a key retired 2 h ago: what a retired key signed inside its window stays valid",
            signed(
                &claims_issued_at(NOW.minus(Seconds::hours(3))),
                &city.retired,
            ),
        ),
        pass(
            "valid-issued-in-future-within-skew",
            "valid",
            "iat and nbf 4 min ahead of this clock are within the 5 min skew tolerated",
            signed(&claims_issued_at(soon), key),
        ),
        pass(
            "valid-expired-within-skew",
            "valid",
            "exp 4 min ago is within the 5 min skew tolerated",
            signed(
                &window(
                    NOW.minus(Seconds::hours(24)),
                    NOW.minus(Seconds::hours(24)),
                    NOW.minus(Seconds::minutes(4)),
                ),
                key,
            ),
        ),
        pass(
            "valid-status-list-not-revoked",
            "valid",
            "revocation index 42 is clear in the issuer's status list",
            signed(&claims(), key),
        ),
        pass(
            "valid-lifetime-at-key-limit",
            "valid",
            "valid exactly the 2 days its key allows (exp - iat = max pass lifetime)",
            signed(
                &window(
                    NOW.minus(Seconds::hours(1)),
                    NOW.minus(Seconds::hours(1)),
                    NOW.minus(Seconds::hours(1)).plus(MAX_PASS_LIFETIME),
                ),
                key,
            ),
        ),
        pass(
            "valid-legacy-list-lifetime-7-days",
            "valid",
            "a version 1 trust list names no pass lifetime: passes of up to 7 days are accepted under it",
            signed(
                &window(
                    NOW.minus(Seconds::hours(1)),
                    NOW.minus(Seconds::hours(1)),
                    NOW.minus(Seconds::hours(1)).plus(LEGACY_MAX_PASS_LIFETIME),
                ),
                key,
            ),
        )
        .trust_list(TRUST_LIST_V1),
        pass(
            "valid-test-within-skew-ahead",
            "valid",
            "a test dated 4 min ahead of this clock is within the 5 min skew tolerated",
            signed(
                &with_test(NOW.plus(Seconds::minutes(4)), TestResult::Negative),
                key,
            ),
        ),
        pass(
            "valid-last-dose-today-east-of-utc",
            "valid",
            "a dose given this morning in Xi'an (UTC+8) is dated the next UTC day: one day of tolerance",
            signed(&with_last_dose(NOW.plus(Seconds::hours(9)).date()), key),
        ),
    ]
}

fn refused_signatures(city: &City) -> Vec<PassCase> {
    let key = &city.active;
    let payload = claims().to_cbor();
    let mut tampered_signature = RawSign1::pass(&payload, key);
    tampered_signature.signature[10] ^= 0x01;
    let mut red = claims();
    red.health.colour = Colour::Red;
    let mut tampered_payload = RawSign1::pass(&red.to_cbor(), key);
    tampered_payload.payload_item = RawSign1::pass(&payload, key).payload_item;
    let mut wrong_signer = RawSign1::pass(&payload, &city.rogue);
    wrong_signer.protected = RawSign1::pass(&payload, key).protected;
    let status_aad = RawSign1::signed(&payload, key, AAD_STATUS_LIST);
    let mut malleated = RawSign1::pass(&payload, key);
    let original: [u8; 64] = malleated.signature.as_slice().try_into().expect("64 bytes");
    malleated.signature = malleate(&original).to_vec();
    let mut zero = RawSign1::pass(&payload, key);
    zero.signature = vec![0; 64];
    vec![
        pass(
            "tampered-signature",
            "bad_signature",
            "one bit of the signature flipped",
            tampered_signature.text(),
        ),
        pass(
            "tampered-payload",
            "bad_signature",
            "a red pass's signature over a payload edited to green",
            tampered_payload.text(),
        ),
        pass(
            "signed-by-other-key-with-trusted-kid",
            "bad_signature",
            "an untrusted key signed, naming the trusted key's kid in the protected header",
            wrong_signer.text(),
        ),
        pass(
            "status-list-signature-on-pass",
            "bad_signature",
            "genuine signature with the status-list AAD: a signature for one document type never verifies as another",
            status_aad.text(),
        ),
        pass(
            "malleated-signature",
            "bad_signature",
            "S + L: the same signature to a lax verifier; verify_strict requires a canonical S",
            malleated.text(),
        ),
        pass(
            "zero-signature",
            "bad_signature",
            "64 zero bytes as the signature",
            zero.text(),
        ),
    ]
}

fn refused_keys(city: &City) -> Vec<PassCase> {
    let key = &city.active;
    let mut other_issuer = claims();
    other_issuer.issuer = "CN-440100".into();
    vec![
        pass(
            "unknown-kid",
            "unknown_issuer_key",
            "signed by a key no trust list names",
            signed(&claims(), &city.rogue),
        ),
        pass(
            "revoked-issuer-key",
            "issuer_key_revoked",
            "signed by a key the trust list marks revoked: nothing it signed is accepted",
            signed(&claims(), &city.revoked),
        ),
        pass(
            "retired-key-outside-window",
            "key_not_valid_at_issuance",
            "signed 1 h ago by a key retired 2 h ago: iat is after the key's not-after",
            signed(&claims(), &city.retired),
        ),
        pass(
            "issuer-mismatch",
            "issuer_mismatch",
            "iss names Guangzhou (CN-440100) but the key belongs to Xi'an (CN-610100)",
            signed(&other_issuer, key),
        ),
        pass(
            "trust-list-expired",
            "trust_list_expired",
            "a good pass checked against a trust list that expired 10 days ago: sync first",
            signed(&claims(), key),
        )
        .trust_list(TRUST_LIST_EXPIRED)
        .without_status_list(),
    ]
}

/// Finding 4 of the security review: a pass's lifetime is bounded by its
/// key's, so a retired key cannot mint long-lived passes.
fn refused_lifetimes(city: &City) -> Vec<PassCase> {
    let key = &city.active;
    let issued = NOW.minus(Seconds::hours(1));
    let backdated = RETIRED_AT.minus(Seconds::hours(1));
    vec![
        pass(
            "lifetime-beyond-key-limit",
            "lifetime_too_long",
            "valid 2 days and 1 s, one second more than its key's maximum pass lifetime",
            signed(
                &window(issued, issued, issued.plus(MAX_PASS_LIFETIME).plus(Seconds(1))),
                key,
            ),
        ),
        pass(
            "exp-max-u64",
            "lifetime_too_long",
            "exp = 2^64-1: a pass that would never expire",
            signed(&window(issued, issued, Timestamp(u64::MAX)), key),
        ),
        pass(
            "retired-key-backdated-year-long-pass",
            "lifetime_too_long",
            "a retired key's holder backdates iat into the key's window and mints a pass valid a year",
            signed(
                &window(backdated, backdated, backdated.plus(Seconds::days(365))),
                &city.retired,
            ),
        ),
        pass(
            "legacy-list-lifetime-beyond-7-days",
            "lifetime_too_long",
            "under a version 1 trust list the built-in cap of 7 days applies: a pass valid 7 days and 1 s is refused",
            signed(
                &window(
                    issued,
                    issued,
                    issued.plus(LEGACY_MAX_PASS_LIFETIME).plus(Seconds(1)),
                ),
                key,
            ),
        )
        .trust_list(TRUST_LIST_V1),
    ]
}

/// Finding 2 of the security review: a test or dose dated in the future
/// would stay "0 s old" at every checkpoint.
fn refused_event_times(key: &SigningKey) -> Vec<PassCase> {
    vec![
        pass(
            "test-time-a-year-ahead",
            "event_in_future",
            "a negative test dated a year ahead would stay 0 s old until then",
            signed(
                &with_test(NOW.plus(Seconds::days(365)), TestResult::Negative),
                key,
            ),
        ),
        pass(
            "test-time-beyond-skew-ahead",
            "event_in_future",
            "a test dated 6 min ahead of this clock, beyond the 5 min skew",
            signed(
                &with_test(NOW.plus(Seconds::minutes(6)), TestResult::Negative),
                key,
            ),
        ),
        pass(
            "last-dose-two-days-ahead",
            "event_in_future",
            "a last dose dated two UTC days after today, beyond the one day of tolerance",
            signed(&with_last_dose(NOW.plus(Seconds::days(2)).date()), key),
        ),
    ]
}

fn with_last_dose(day: Date) -> PassClaims {
    let mut claims = claims();
    claims.health.vaccination.last_dose = Some(day);
    claims
}

fn refused_windows(key: &SigningKey) -> Vec<PassCase> {
    let expired_at = NOW.minus(Seconds::hours(3)).minus(Seconds::minutes(12));
    let day_before = |t: Timestamp| t.minus(Seconds::hours(24));
    let ago = |minutes| NOW.minus(Seconds::minutes(minutes));
    let later = NOW.plus(Seconds::hours(2));
    let ahead = NOW.plus(Seconds::minutes(10));
    vec![
        pass(
            "expired",
            "expired",
            "exp was 3 h 12 min ago",
            signed(
                &window(day_before(expired_at), day_before(expired_at), expired_at),
                key,
            ),
        ),
        pass(
            "expired-at-skew-boundary",
            "expired",
            "exp exactly 5 min ago: the 5 min skew is used up",
            signed(&window(day_before(ago(5)), day_before(ago(5)), ago(5)), key),
        ),
        pass(
            "not-yet-valid",
            "not_yet_valid",
            "signed an hour ago ahead of time, but nbf is 2 h from now",
            signed(
                &window(
                    NOW.minus(Seconds::hours(1)),
                    later,
                    later.plus(Seconds::hours(24)),
                ),
                key,
            ),
        ),
        pass(
            "issued-in-future-beyond-skew",
            "issued_in_future",
            "iat 10 min ahead of this clock, beyond the 5 min skew: the device clock is wrong",
            signed(&claims_issued_at(ahead), key),
        ),
    ]
}

fn refused_revocations(key: &SigningKey) -> Vec<PassCase> {
    let revoked = PassClaims {
        revocation_index: 7,
        ..claims()
    };
    let beyond = PassClaims {
        revocation_index: 1_234_567,
        ..claims()
    };
    vec![
        pass(
            "revoked-by-status-list",
            "pass_revoked",
            "revocation index 7 is set in the issuer's status list",
            signed(&revoked, key),
        ),
        pass(
            "revoked-but-no-status-list-held",
            "revocation_not_checked",
            "revocation index 7 is revoked, and the checkpoint holds no status list of the issuer \
             (its download failed): could not decide, never valid",
            signed(&revoked, key),
        )
        .without_status_list(),
        pass(
            "revocation-not-checked",
            "revocation_not_checked",
            "a good pass at a checkpoint holding no status list of its issuer: revocation fails closed",
            signed(&claims(), key),
        )
        .without_status_list(),
        pass(
            "revocation-index-outside-status-list",
            "revocation_index_out_of_range",
            "revocation index 1234567 is beyond the status list's 4096 entries: revocation cannot be checked",
            signed(&beyond, key),
        ),
    ]
}

fn refused_policies(key: &SigningKey) -> Vec<PassCase> {
    let coloured = |colour| {
        let mut claims = claims();
        claims.health.colour = colour;
        claims
    };
    let mut no_test = claims();
    no_test.health.last_test = None;
    let mut one_dose = claims();
    one_dose.health.vaccination.doses = 1;
    vec![
        pass(
            "policy-yellow-at-subway",
            "policy_colour",
            "a genuine yellow pass at a subway gate, which admits green only",
            signed(&coloured(Colour::Yellow), key),
        ),
        pass(
            "policy-red-outdoor",
            "policy_colour",
            "a genuine red pass at an outdoor checkpoint, which admits green and yellow",
            signed(&coloured(Colour::Red), key),
        )
        .policy("outdoor"),
        pass(
            "policy-test-too-old",
            "policy_test_too_old",
            "last test 61 h ago, over the office's 48 h",
            signed(
                &with_test(NOW.minus(Seconds::hours(61)), TestResult::Negative),
                key,
            ),
        )
        .policy("office"),
        pass(
            "policy-no-test",
            "policy_no_test",
            "no test on record at an office, which requires one within 48 h",
            signed(&no_test, key),
        )
        .policy("office"),
        pass(
            "policy-test-positive",
            "policy_test_positive",
            "last test 10 h ago was positive",
            signed(
                &with_test(NOW.minus(Seconds::hours(10)), TestResult::Positive),
                key,
            ),
        )
        .policy("office"),
        pass(
            "policy-too-few-doses",
            "policy_doses",
            "one vaccination dose at a hospital, which requires two",
            signed(&one_dose, key),
        )
        .policy("hospital"),
    ]
}
