//! The checkpoint's decision on a live code: `text::decode_scanned`,
//! `LiveCodeEnvelope::parse` and `Verifier::verify_remembering` against the
//! testkit city at `testkit::NOW`. Arbitrary input must never panic.
//!
//! Input: a mode byte, then the body.
//! - mode & 3 == 0: the body is the scanned text (invalid UTF-8 is replaced);
//! - mode & 3 == 1: the body is envelope bytes, put into `SP2:` + Base45;
//! - mode & 3 == 2: the body is a claims payload, signed by the testkit
//!   issuer key into a pass, in a live code the fixture's phone signs at
//!   `NOW` (reaches the device key in `cnf`, the device signature, the
//!   window, validity, revocation and policy);
//! - mode & 3 == 3: a genuine pass bound to the fixture's phone, in an
//!   envelope whose `t` (the first 8 body bytes, big-endian) and signature
//!   (the rest, zero-padded to 64 bytes) come from the body.
//! - (mode >> 2) & 3 picks the built-in policy; mode & 0x10 adds the
//!   fixture's status list; mode & 0x20 makes the phone P-256 (modes 2, 3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::cose::AAD_PASS;
use sealpass_core::live::{DeviceSigner, LiveCodeEnvelope, ReplayMemory, sign_live_code};
use sealpass_core::testkit::NOW;
use sealpass_core::{HolderBinding, PassClaims, Seconds, Timestamp, Verifier, text};
use sealpass_fuzz::{FIXTURE, mode, sign1};

fuzz_target!(|data: &[u8]| {
    let (mode, body) = mode(data);
    let fixture = &*FIXTURE;
    let phone: &dyn DeviceSigner = if mode & 0x20 != 0 {
        &fixture.p256_phone
    } else {
        &fixture.ed25519_phone
    };
    let code = match mode & 3 {
        0 => String::from_utf8_lossy(body).into_owned(),
        1 => text::encode_live(body),
        2 => sign_live_code(&sign1(body, AAD_PASS, &fixture.city.active), NOW, phone),
        _ => {
            let claims = PassClaims {
                holder: Some(phone.device_key()),
                ..fixture.city.claims()
            };
            let pass = text::decode(&fixture.city.pass(&claims)).expect("a pass text");
            let (t, rest) = body.split_at(body.len().min(8));
            let mut t_bytes = [0; 8];
            t_bytes[..t.len()].copy_from_slice(t);
            let mut signature = [0; 64];
            let n = rest.len().min(64);
            signature[..n].copy_from_slice(&rest[..n]);
            let envelope = LiveCodeEnvelope {
                pass: &pass,
                signed_at: Timestamp(u64::from_be_bytes(t_bytes)),
                signature,
            };
            text::encode_live(&envelope.to_bytes())
        }
    };

    // The envelope alone: the strict profile has one encoding per envelope,
    // so what parses writes back to the same bytes.
    if let Ok(text::Scanned::LiveCode(bytes)) = text::decode_scanned(&code) {
        if let Ok(envelope) = LiveCodeEnvelope::parse(&bytes) {
            assert_eq!(envelope.to_bytes(), bytes, "envelope round trip");
        }
    }

    let policy = &fixture.policies[usize::from(mode >> 2) & 3];
    let mut verifier = Verifier::new(fixture.city.trusted(), policy);
    if mode & 0x10 != 0 {
        verifier = verifier.with_status_lists(&fixture.status_lists);
    }
    let mut memory = ReplayMemory::with_capacity(4);
    match verifier.verify_remembering(&code, NOW, &mut memory) {
        Ok(pass) => {
            assert_eq!(pass.already_scanned(), None);
            assert!(mode & 0x10 != 0, "admitted without a status list");
            if let HolderBinding::Live(proof) = pass.holder() {
                // A bound pass, from inside the window, and a second scan
                // of the same text is a replay.
                assert!(pass.claims().holder.is_some());
                let window = verifier.live_window();
                assert!(NOW.since(proof.signed_at()) <= window.max_age);
                assert!(proof.signed_at().since(NOW) <= window.max_ahead);
                let again = verifier
                    .verify_remembering(&code, NOW.plus(Seconds(1)), &mut memory)
                    .expect("the same code a second later");
                assert_eq!(again.already_scanned().map(|w| w.ago), Some(Seconds(1)));
            } else {
                // Only a bound pass is ever accepted inside a live code, and
                // a bound one never outside.
                assert!(pass.claims().holder.is_none());
                assert!(!code.trim_ascii().starts_with(text::LIVE_PREFIX));
            }
        }
        Err(e) => {
            let _ = (e.to_string(), e.code(), e.phase(), e.is_undecided());
        }
    }
});
