//! Trust-update vectors: a candidate trust list offered to a checkpoint that
//! trusts a list now (`trusted:`) or holds only the pinned root set from the
//! ceremony (`pinned-roots:`). Rules T0-T7 of docs/trust.md.

use super::city::{
    City, ROOTS, TRUST_LIST, TRUST_LIST_ROTATED, TRUST_LIST_SEQ2, claims, list, list_v1,
    rotated_list, trust_list,
};
use super::raw::{RawSign1, cbor, root_signature, signed_list, signed_list_with_body_header};
use super::{Case, Kind, hex};
use sealpass_core::cose::encode_sign;
use sealpass_core::testkit::{NOW, root_set, sign_list};
use sealpass_core::{ALG_ED25519, KeyStatus, Seconds, TrustList};

fn update(
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    trusted: &str,
    candidate: &str,
) -> Case {
    Case::new(Kind::TrustUpdate, name, expect, comment)
        .line("trusted", trusted)
        .line("candidate", candidate)
}

fn bootstrap(
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    candidate: &str,
) -> Case {
    Case::new(Kind::TrustUpdate, name, expect, comment)
        .line("pinned-roots", ROOTS)
        .line("candidate", candidate)
}

pub fn cases(city: &City) -> Vec<Case> {
    let mut cases = accepted(city);
    cases.extend(refused_signatures(city));
    cases.extend(refused_contents(city));
    cases
}

fn accepted(city: &City) -> Vec<Case> {
    let more_signatures = hex(&sign_list(&list(city, 1), &city.custodians(&[1, 2, 3, 4])));
    vec![
        update(
            "valid-same-content-more-signatures",
            "valid",
            "the trusted list's content again, now signed by custodians 1-4: same payload, no update and no rollback (T0)",
            TRUST_LIST,
            &more_signatures,
        ),
        update(
            "valid-next-sequence",
            "valid",
            "sequence 2 signed by custodians 2, 4 and 5: any 3 of the 5 roots",
            TRUST_LIST,
            TRUST_LIST_SEQ2,
        ),
        update(
            "valid-same-list-again",
            "valid",
            "the trusted list offered again byte for byte is no update and no rollback (T0)",
            TRUST_LIST,
            TRUST_LIST,
        ),
        update(
            "valid-root-rotation",
            "valid",
            "roots rotate to custodians 4-8, signed by 3 old roots (1, 2, 3) and 3 new ones (6, 7, 8)",
            TRUST_LIST,
            TRUST_LIST_ROTATED,
        ),
        bootstrap(
            "valid-bootstrap-pinned-roots",
            "valid",
            "the first list, signed by 3 of the 5 roots pinned from the ceremony",
            TRUST_LIST,
        ),
    ]
}

fn refused_signatures(city: &City) -> Vec<Case> {
    let seq2 = list(city, 2);
    let signed_by = |list: &TrustList, custodians: &[usize]| {
        hex(&sign_list(list, &city.custodians(custodians)))
    };
    let payload = seq2.to_cbor();
    let with_outsider = [city.custodians(&[1, 2]), vec![city.outsider.clone()]].concat();
    let wrong_alg = encode_sign(
        &payload,
        &[
            root_signature(&payload, city.custodian(1), ALG_ED25519),
            root_signature(&payload, city.custodian(2), ALG_ED25519),
            root_signature(&payload, city.custodian(3), -7),
        ],
    );
    // Custodians 1-3 sign sequence 2; the rogue key is swapped in afterwards.
    let mut swapped = seq2.clone();
    swapped.issuer_keys[0].public_key = city.rogue.verifying_key().to_bytes();
    let signatures: Vec<_> = city
        .custodians(&[1, 2, 3])
        .iter()
        .map(|key| root_signature(&payload, key, ALG_ED25519))
        .collect();
    let tampered = encode_sign(&swapped.to_cbor(), &signatures);
    let rotated = rotated_list(city);
    let seq3_rotated = TrustList {
        sequence: 3,
        ..rotated.clone()
    };
    let hijacked = TrustList {
        sequence: 1,
        ..rotated.clone()
    };
    let lowered = TrustList {
        roots: root_set(&city.custodians(&[1, 2, 3, 4, 5]), 1),
        ..seq2.clone()
    };
    let body_header = cbor(|e| {
        e.map(1).int(3).int(0);
    });
    // Custodians 1-3 sign sequence 2 over the usual empty body header; a
    // body header {1: -32} is slipped in afterwards, outside the signatures.
    let genuine = signed_list(&payload, &city.custodians(&[1, 2, 3]));
    assert_eq!(
        &genuine[..4],
        &[0xd8, 0x62, 0x84, 0x40],
        "tag 98, array(4), empty body header"
    );
    let slipped_in = [
        &genuine[..3],
        &[0x43, 0xa1, 0x01, 0x38, 0x1f],
        &genuine[4..],
    ]
    .concat();
    vec![
        update(
            "body-header-added-after-signing",
            "malformed_trust_list",
            "custodians 1-3 signed sequence 2 over an empty body header, then {1: -32} was put into it: the stored bytes would not be what they signed (T1)",
            TRUST_LIST,
            &hex(&slipped_in),
        ),
        update(
            "body-protected-header-not-empty",
            "malformed_trust_list",
            "sequence 2 signed by custodians 1-3 over a body protected header {3: 0}; sealpass lists carry an empty one (T1)",
            TRUST_LIST,
            &hex(&signed_list_with_body_header(
                &payload,
                &city.custodians(&[1, 2, 3]),
                &body_header,
            )),
        ),
        update(
            "below-threshold",
            "below_threshold",
            "sequence 2 signed by 2 custodians where 3 are required",
            TRUST_LIST,
            &signed_by(&seq2, &[1, 2]),
        ),
        update(
            "duplicate-signer",
            "below_threshold",
            "3 signatures from 2 distinct custodians (1, 1, 2): a root counts once however often it signs",
            TRUST_LIST,
            &signed_by(&seq2, &[1, 1, 2]),
        ),
        update(
            "signer-outside-root-set",
            "below_threshold",
            "custodians 1 and 2 plus a valid signature by a key outside the root set, which counts for nothing",
            TRUST_LIST,
            &hex(&signed_list(&payload, &with_outsider)),
        ),
        update(
            "root-signature-wrong-algorithm",
            "below_threshold",
            "custodian 3's signature names alg -7 in its header; only Ed25519 root signatures count",
            TRUST_LIST,
            &hex(&wrong_alg),
        ),
        update(
            "tampered-after-signing",
            "below_threshold",
            "custodians 1-3 signed sequence 2, then the active issuer key was swapped for a rogue one",
            TRUST_LIST,
            &hex(&tampered),
        ),
        update(
            "threshold-lowered-by-one-custodian",
            "below_threshold",
            "custodian 1 alone signs a list lowering the threshold to 1; the trusted threshold of 3 applies",
            TRUST_LIST,
            &signed_by(&lowered, &[1]),
        ),
        update(
            "root-rotation-signed-by-old-roots-only",
            "below_threshold",
            "roots rotate to custodians 4-8 with only old roots 1, 2, 3 signing: the new set must accept it too (T4)",
            TRUST_LIST,
            &signed_by(&rotated, &[1, 2, 3]),
        ),
        update(
            "root-rotation-signed-by-new-roots-only",
            "below_threshold",
            "roots rotate to custodians 4-8 with only new roots 6, 7, 8 signing: the trusted roots must accept it (T3)",
            TRUST_LIST,
            &signed_by(&rotated, &[6, 7, 8]),
        ),
        update(
            "retired-roots-after-rotation",
            "below_threshold",
            "after rotating to custodians 4-8, sequence 3 signed by retired roots 1, 2, 3",
            TRUST_LIST_ROTATED,
            &signed_by(&seq3_rotated, &[1, 2, 3]),
        ),
        bootstrap(
            "bootstrap-foreign-roots",
            "below_threshold",
            "a first list naming other roots (custodians 4-8) and signed by 6, 7, 8, none of them pinned",
            &signed_by(&hijacked, &[6, 7, 8]),
        ),
    ]
}

fn refused_contents(city: &City) -> Vec<Case> {
    let signed_by = |list: &TrustList, custodians: &[usize]| {
        hex(&sign_list(list, &city.custodians(custodians)))
    };
    let mut same_sequence = list(city, 1);
    same_sequence.issuer_keys[0].status = KeyStatus::Retired;
    let expired = TrustList {
        issued_at: NOW.minus(Seconds::days(31)),
        expires_at: NOW.minus(Seconds::hours(1)),
        ..list(city, 2)
    };
    let impossible = TrustList {
        roots: root_set(&city.custodians(&[1, 2, 3, 4, 5]), 6),
        ..list(city, 2)
    };
    let mut duplicate_key = list(city, 2);
    duplicate_key
        .issuer_keys
        .push(duplicate_key.issuer_keys[0].clone());
    let future = TrustList {
        issued_at: NOW.plus(Seconds::days(10)),
        expires_at: NOW.plus(Seconds::days(40)),
        ..list(city, 2)
    };
    let mut root_as_issuer = list(city, 2);
    root_as_issuer.issuer_keys[0].public_key = city.custodian(4).verifying_key().to_bytes();
    let mut missing_lifetime = list(city, 2);
    missing_lifetime.issuer_keys[1].max_pass_lifetime = None;
    let trusted = trust_list(city);
    vec![
        update(
            "candidate-issued-in-future",
            "trust_list_issued_in_future",
            "sequence 2 properly signed but issued 10 days ahead of this clock (T7)",
            TRUST_LIST,
            &signed_by(&future, &[1, 2, 3]),
        ),
        update(
            "root-key-as-issuer-key",
            "malformed_trust_list",
            "custodian 4's root key also listed as an issuer key: a root key never signs passes (T2)",
            TRUST_LIST,
            &signed_by(&root_as_issuer, &[1, 2, 3]),
        ),
        update(
            "v2-issuer-key-without-lifetime",
            "malformed_trust_list",
            "a version 2 list whose retired key names no maximum pass lifetime (T2)",
            TRUST_LIST,
            &signed_by(&missing_lifetime, &[1, 2, 3]),
        ),
        update(
            "valid-v1-list-after-v2",
            "valid",
            "sequence 2 in format version 1 (no pass lifetimes) is still read; its keys' passes get the 7-day cap",
            TRUST_LIST,
            &signed_by(&list_v1(city, 2), &[1, 2, 3]),
        ),
        update(
            "rollback",
            "rollback",
            "sequence 1 offered to a checkpoint that trusts sequence 2: replaying an old list is refused (T5)",
            TRUST_LIST_SEQ2,
            TRUST_LIST,
        ),
        update(
            "equal-sequence",
            "rollback",
            "a different list with the trusted list's sequence 1, properly signed: sequence must increase (T5)",
            TRUST_LIST,
            &signed_by(&same_sequence, &[1, 2, 3]),
        ),
        update(
            "expired-candidate",
            "trust_list_expired",
            "sequence 2 properly signed but expired an hour ago (T6)",
            TRUST_LIST,
            &signed_by(&expired, &[1, 2, 3]),
        ),
        update(
            "truncated-list",
            "malformed_trust_list",
            "the trusted list's bytes with the last 10 cut off",
            TRUST_LIST,
            &hex(&trusted[..trusted.len() - 10]),
        ),
        update(
            "impossible-threshold",
            "malformed_trust_list",
            "a list requiring 6 of its 5 roots, signed by 3: no list could ever follow it (T2)",
            TRUST_LIST,
            &signed_by(&impossible, &[1, 2, 3]),
        ),
        update(
            "duplicate-issuer-key",
            "malformed_trust_list",
            "a list naming the active issuer key twice (T2)",
            TRUST_LIST,
            &signed_by(&duplicate_key, &[1, 2, 3]),
        ),
        update(
            "pass-offered-as-trust-list",
            "malformed_trust_list",
            "a genuine pass (COSE_Sign1, tag 18) offered as a trust list (COSE_Sign, tag 98)",
            TRUST_LIST,
            &hex(&RawSign1::pass(&claims().to_cbor(), &city.active).to_bytes()),
        ),
    ]
}
