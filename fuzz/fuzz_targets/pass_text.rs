//! The checkpoint's whole decision on a scanned text: `text::decode`, then
//! `Verifier::verify` against the testkit city at `testkit::NOW`.
//! Arbitrary text must never panic.
//!
//! Input: a mode byte, then the body.
//! - mode & 3 == 0: the body is the scanned text (invalid UTF-8 is replaced);
//! - mode & 3 == 1: the body is a claims payload, signed by the testkit
//!   issuer key into `SP1:` + Base45 (reaches claims, validity, revocation
//!   and policy);
//! - mode & 3 == 2: as 1, zlib-compressed;
//! - mode & 3 == 3: the body is COSE bytes put into `SP1:` + Base45 unsigned.
//! - (mode >> 2) & 3 picks the built-in policy; mode & 0x10 adds the
//!   fixture's status list (without it nothing is ever admitted).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::cose::AAD_PASS;
use sealpass_core::testkit::NOW;
use sealpass_core::{PassClaims, Verifier, text};
use sealpass_fuzz::{FIXTURE, mode, sign1};

fuzz_target!(|data: &[u8]| {
    let (mode, body) = mode(data);
    let fixture = &*FIXTURE;
    let (text, signed_payload) = match mode & 3 {
        0 => (String::from_utf8_lossy(body).into_owned(), None),
        1 => (
            text::encode(&sign1(body, AAD_PASS, &fixture.city.active)),
            Some(body),
        ),
        2 => (
            text::encode_zlib(&sign1(body, AAD_PASS, &fixture.city.active)),
            Some(body),
        ),
        _ => (text::encode(body), None),
    };

    // The text layer alone; what encode wrote, decode must give back.
    let decoded = text::decode(&text);
    if mode & 3 == 3
        && body.first() != Some(&0x78)
        && text.len() <= text::MAX_TEXT_LEN
        && !body.is_empty()
    {
        assert_eq!(decoded.as_deref(), Ok(body), "Base45 round trip");
    }
    if let Err(e) = &decoded {
        let _ = e.to_string();
    }

    let policy = &fixture.policies[usize::from(mode >> 2) & 3];
    let mut verifier = Verifier::new(fixture.city.trusted(), policy);
    if mode & 0x10 != 0 {
        verifier = verifier.with_status_lists(&fixture.status_lists);
    }
    match verifier.verify(&text, NOW) {
        Ok(pass) => {
            // Only a payload we signed ourselves (or a seed) can verify, and
            // what verified is exactly what was signed.
            if let Some(payload) = signed_payload {
                assert_eq!(Ok(pass.claims()), PassClaims::from_cbor(payload).as_ref());
            }
            assert!(pass.claims().expires_at > NOW.minus(sealpass_core::DEFAULT_CLOCK_SKEW));
            // Revocation fails closed: no built-in policy admits a pass
            // whose issuer's status list is not held.
            assert!(mode & 0x10 != 0, "admitted without a status list");
            assert!(pass.revocation_checked());
            // No pass outlives its key's lifetime bound.
            let claims = pass.claims();
            assert!(claims.expires_at.since(claims.issued_at) <= sealpass_core::Seconds::days(2));
            if let Some(test) = claims.health.last_test {
                assert!(test.taken_at <= NOW.plus(sealpass_core::DEFAULT_CLOCK_SKEW));
            }
            let _ = pass.valid_for(NOW).to_string();
        }
        Err(e) => {
            let _ = (e.to_string(), e.code(), e.phase(), e.is_undecided());
        }
    }
});
