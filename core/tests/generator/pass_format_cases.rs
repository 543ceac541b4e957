//! Pass vectors about the format: the text, its zlib, the COSE_Sign1 and the
//! claims. Every refused structure carries a valid signature wherever it
//! has one, so the refusal is about the structure and nothing else.

use super::Case;
use super::city::{City, claims};
use super::pass_cases::{PassCase, pass};
use super::raw::{RawSign1, cbor};
use ed25519_dalek::SigningKey;
use sealpass_core::cose::{TAG_COSE_SIGN, encode_protected};
use sealpass_core::{ALG_ED25519, PassClaims, Seconds, Signer, text};

pub fn cases(city: &City) -> Vec<Case> {
    let key = &city.active;
    let mut cases = texts(key);
    cases.extend(zlib(key));
    cases.extend(cose_structures(key));
    cases.extend(headers(city));
    cases.extend(claim_sets(key));
    cases.into_iter().map(Case::from).collect()
}

/// The standard pass: [`claims`] signed by `key`.
fn genuine(key: &SigningKey) -> RawSign1 {
    RawSign1::pass(&claims().to_cbor(), key)
}

/// `bytes` with the one occurrence of `from` replaced by `to`.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = (0..=bytes.len() - from.len())
        .filter(|&i| bytes[i..].starts_with(from))
        .collect();
    assert_eq!(at.len(), 1, "the pattern {from:02x?} must occur once");
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

fn texts(key: &SigningKey) -> Vec<PassCase> {
    let body = base45::encode(genuine(key).to_bytes());
    let mut dangling = body.clone();
    while dangling.len() % 3 != 1 {
        dangling.push('0');
    }
    let mut padded = genuine(key);
    padded.unprotected = cbor(|e| {
        e.map(1).int(-70_000).bytes(&[0; 1400]);
    });
    vec![
        pass(
            "missing-prefix",
            "not_a_pass",
            "Base45 of a genuine pass without the SP1: prefix",
            body.clone(),
        ),
        pass(
            "eu-dcc-prefix",
            "not_a_pass",
            "a genuine pass body behind the EU certificate's HC1: prefix",
            format!("HC1:{body}"),
        ),
        pass(
            "empty-text",
            "not_a_pass",
            "the scanner sent an empty line",
            String::new(),
        ),
        pass(
            "lowercase-base45",
            "bad_base45",
            "a genuine pass with its Base45 lowercased: Base45 (RFC 9285) has upper case only",
            format!("SP1:{}", body.to_lowercase()),
        ),
        pass(
            "invalid-base45-triple",
            "bad_base45",
            "the first Base45 triple is GGW, which encodes 65536, more than two bytes hold",
            format!("SP1:GGW{}", &body[3..]),
        ),
        pass(
            "dangling-base45-character",
            "bad_base45",
            "a Base45 body whose length leaves one character over, which encodes nothing",
            format!("SP1:{dangling}"),
        ),
        pass(
            "text-too-long",
            "text_too_long",
            "a genuine pass padded with 1400 bytes in its unprotected header, over the 2048-character limit",
            padded.text(),
        ),
    ]
}

fn zlib(key: &SigningKey) -> Vec<PassCase> {
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&genuine(key).to_bytes(), 9);
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 1 << 20], 9);
    let mut trailing = compressed.clone();
    trailing.extend_from_slice(&[0x00, 0x01]);
    vec![
        pass(
            "valid-zlib",
            "valid",
            "a genuine pass zlib-compressed by its issuer, told apart by the first byte 0x78",
            text::encode_zlib(&genuine(key).to_bytes()),
        ),
        pass(
            "zlib-bomb",
            "inflated_too_large",
            "a 1 KiB zlib stream inflating to 1 MiB; inflation stops at 4096 bytes",
            text::encode(&bomb),
        ),
        pass(
            "zlib-damaged",
            "bad_zlib",
            "a compressed genuine pass with its last 6 bytes cut off",
            text::encode(&compressed[..compressed.len() - 6]),
        ),
        pass(
            "zlib-trailing-bytes",
            "zlib_trailing_bytes",
            "a compressed genuine pass with two bytes after the end of its zlib stream: one pass, many texts",
            text::encode(&trailing),
        ),
    ]
}

fn cose_structures(key: &SigningKey) -> Vec<PassCase> {
    let variant = |change: &dyn Fn(&mut RawSign1)| {
        let mut sign1 = genuine(key);
        change(&mut sign1);
        sign1.text()
    };
    let nested = cbor(|e| {
        e.map(1).int(-70_000);
        for _ in 0..10 {
            e.array(1);
        }
        e.uint(0);
    });
    vec![
        pass(
            "untagged-cose-sign1",
            "wrong_cose_tag",
            "a genuine COSE_Sign1 array without its tag 18",
            variant(&|s| s.tag = None),
        ),
        pass(
            "wrong-tag-cose-sign",
            "wrong_cose_tag",
            "a genuine COSE_Sign1 array under tag 98 (COSE_Sign)",
            variant(&|s| s.tag = Some(TAG_COSE_SIGN)),
        ),
        pass(
            "wrong-tag-cose-mac0",
            "wrong_cose_tag",
            "a genuine COSE_Sign1 array under tag 17 (COSE_Mac0)",
            variant(&|s| s.tag = Some(17)),
        ),
        pass(
            "indefinite-length-array",
            "cbor_indefinite_length",
            "a genuine COSE_Sign1 written as an indefinite-length array",
            variant(&|s| s.indefinite = true),
        ),
        pass(
            "trailing-bytes-after-cose",
            "cbor_trailing_bytes",
            "one zero byte after a genuine COSE_Sign1",
            variant(&|s| s.trailing = vec![0]),
        ),
        pass(
            "deep-nesting",
            "cbor_too_deep",
            "ten arrays nested in the unprotected header, deeper than the 8 levels read",
            variant(&|s| s.unprotected = nested.clone()),
        ),
        pass(
            "unprotected-header-not-a-map",
            "malformed_cose",
            "the unprotected header is an empty array",
            variant(&|s| {
                s.unprotected = cbor(|e| {
                    e.array(0);
                })
            }),
        ),
        pass(
            "detached-payload",
            "malformed_cose",
            "payload null (detached): a pass carries its claims",
            variant(&|s| s.payload_item = vec![0xf6]),
        ),
        pass(
            "signature-63-bytes",
            "bad_signature_length",
            "a genuine signature with its last byte cut off",
            variant(&|s| {
                s.signature.pop();
            }),
        ),
    ]
}

fn headers(city: &City) -> Vec<PassCase> {
    let key = &city.active;
    let payload = claims().to_cbor();
    let kid = key.kid().0;
    let header = |build: &dyn Fn(&mut sealpass_core::cbor::Encoder)| {
        RawSign1::pass_with_header(&payload, cbor(build), key)
    };
    let mut alg_unprotected = header(&|e| {
        e.map(1).int(4).bytes(&kid);
    });
    alg_unprotected.unprotected = cbor(|e| {
        e.map(1).int(1).int(ALG_ED25519);
    });
    let mut empty_protected = RawSign1::pass_with_header(&payload, Vec::new(), key);
    empty_protected.unprotected = cbor(|e| {
        e.map(2).int(1).int(ALG_ED25519).int(4).bytes(&kid);
    });
    let mut kid_unprotected = header(&|e| {
        e.map(1).int(1).int(ALG_ED25519);
    });
    kid_unprotected.unprotected = cbor(|e| {
        e.map(1).int(4).bytes(&kid);
    });
    let mut misleading_unprotected = genuine(key);
    misleading_unprotected.unprotected = cbor(|e| {
        e.map(2).int(1).int(-7).int(4).bytes(&city.rogue.kid().0);
    });
    vec![
        pass(
            "alg-in-unprotected-header-only",
            "missing_algorithm",
            "alg -19 only in the unprotected header, which is never trusted",
            alg_unprotected.text(),
        ),
        pass(
            "empty-protected-header",
            "missing_algorithm",
            "an empty protected header, alg and kid in the unprotected one",
            empty_protected.text(),
        ),
        pass(
            "kid-in-unprotected-header-only",
            "missing_kid",
            "the kid only in the unprotected header, where an attacker could change it",
            kid_unprotected.text(),
        ),
        pass(
            "kid-wrong-length",
            "bad_kid_length",
            "a 4-byte kid; a sealpass kid is the first 8 bytes of SHA-256 of the public key",
            header(&|e| {
                e.map(2).int(1).int(ALG_ED25519).int(4).bytes(&kid[..4]);
            })
            .text(),
        ),
        pass(
            "unknown-critical-header",
            "unknown_critical_header",
            "crit names a private header label; sealpass v1 understands no critical extension",
            header(&|e| {
                e.map(4)
                    .int(1)
                    .int(ALG_ED25519)
                    .int(2)
                    .array(1)
                    .int(-70_000)
                    .int(4)
                    .bytes(&kid)
                    .int(-70_000)
                    .bool(true);
            })
            .text(),
        ),
        pass(
            "alg-mismatch-es256",
            "algorithm_mismatch",
            "protected alg -7 (ES256) over an Ed25519 signature: the trust list binds the key to -19",
            RawSign1::pass_with_header(&payload, encode_protected(-7, key.kid()), key).text(),
        ),
        pass(
            "valid-unprotected-header-ignored",
            "valid",
            "an unprotected header naming alg -7 and a rogue kid is ignored; only the protected header counts",
            misleading_unprotected.text(),
        ),
        pass(
            "valid-extra-protected-label",
            "valid",
            "a non-critical content-type label (3) in the protected header is signed and otherwise ignored",
            header(&|e| {
                e.map(3)
                    .int(1)
                    .int(ALG_ED25519)
                    .int(3)
                    .uint(61)
                    .int(4)
                    .bytes(&kid);
            })
            .text(),
        ),
    ]
}

fn claim_sets(key: &SigningKey) -> Vec<PassCase> {
    let payload = claims().to_cbor();
    let signed = |payload: Vec<u8>| RawSign1::pass(&payload, key).text();
    let with_extra_claim = |extra: Vec<u8>| {
        let mut bytes = payload.clone();
        assert_eq!(bytes[0], 0xa6, "six claims");
        bytes[0] = 0xa7;
        bytes.extend(extra);
        bytes
    };
    let exp = claims().expires_at.0;
    let exp_32 = [&[0x04, 0x1a][..], &(exp as u32).to_be_bytes()].concat();
    let exp_64 = [&[0x04, 0x1b][..], &exp.to_be_bytes()].concat();
    // -65537 (health) opens a map of 7; -65538 (revocation index) follows result 0.
    let health_7 = [0x3a, 0x00, 0x01, 0x00, 0x00, 0xa7];
    let health_6 = [0x3a, 0x00, 0x01, 0x00, 0x00, 0xa6];
    let result_then_index = [0x07, 0x00, 0x3a, 0x00, 0x01, 0x00, 0x01];
    let without_result = patch(
        &patch(&payload, &health_7, &health_6),
        &result_then_index,
        &result_then_index[2..],
    );
    let inverted = PassClaims {
        not_before: claims().expires_at.plus(Seconds::hours(1)),
        ..claims()
    };
    vec![
        pass(
            "duplicate-claim-keys",
            "cbor_duplicate_key",
            "a second exp claim a day later: a parser keeping the last one would extend the pass",
            signed(with_extra_claim(cbor(|e| {
                e.int(4).uint(exp + 86_400);
            }))),
        ),
        pass(
            "trailing-bytes-in-payload",
            "cbor_trailing_bytes",
            "one zero byte after the claims map, inside the signed payload",
            signed([&payload[..], &[0]].concat()),
        ),
        pass(
            "unknown-claim-key",
            "unknown_claim",
            "a seventh claim with private key -70000: a v1 pass carries no other claim",
            signed(with_extra_claim(cbor(|e| {
                e.int(-70_000).uint(1);
            }))),
        ),
        pass(
            "deep-nesting-in-claims",
            "cbor_too_deep",
            "an extra claim of eight nested arrays, deeper than the 4 levels claims are read to",
            signed(with_extra_claim(cbor(|e| {
                e.int(-70_000);
                for _ in 0..8 {
                    e.array(1);
                }
                e.uint(0);
            }))),
        ),
        pass(
            "non-canonical-integer",
            "cbor_non_canonical",
            "exp written in 8 bytes where 4 suffice: one value must have one encoding",
            signed(patch(&payload, &exp_32, &exp_64)),
        ),
        pass(
            "unknown-colour",
            "unknown_colour",
            "health colour code 3; v1 knows 0 green, 1 yellow, 2 red",
            signed(patch(
                &payload,
                &[&health_7[..], &[0x01, 0x00]].concat(),
                &[&health_7[..], &[0x01, 0x03]].concat(),
            )),
        ),
        pass(
            "test-time-without-result",
            "malformed_claims",
            "a test time with its result removed; the two come together or not at all",
            signed(without_result),
        ),
        pass(
            "not-before-after-expiry",
            "inverted_validity",
            "nbf an hour after exp: an empty window",
            signed(inverted.to_cbor()),
        ),
    ]
}
