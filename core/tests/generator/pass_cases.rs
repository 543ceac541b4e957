//! Pass vectors about the decisions: signature, issuer key, validity window,
//! revocation and checkpoint policy, each on a well-formed pass.

use super::city::{City, STATUS_LIST, TRUST_LIST, TRUST_LIST_EXPIRED, claims, claims_issued_at};
use super::raw::{RawSign1, malleate};
use super::{Case, Kind};
use ed25519_dalek::SigningKey;
use sealpass_core::cose::AAD_STATUS_LIST;
use sealpass_core::testkit::NOW;
use sealpass_core::{Colour, PassClaims, Seconds, TestRecord, TestResult, Timestamp, sign_pass};

/// A pass case, verified by default at [`NOW`] at a `subway` checkpoint
/// holding [`TRUST_LIST`] and no status list.
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
        status_list: None,
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

    pub fn status_list(self, status_list: &'static str) -> PassCase {
        PassCase {
            status_list: Some(status_list),
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
        )
        .status_list(STATUS_LIST),
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
        .trust_list(TRUST_LIST_EXPIRED),
    ]
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
        )
        .status_list(STATUS_LIST),
        pass(
            "revocation-index-outside-status-list",
            "revocation_index_out_of_range",
            "revocation index 1234567 is beyond the status list's 4096 entries: revocation cannot be checked",
            signed(&beyond, key),
        )
        .status_list(STATUS_LIST),
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
