//! Trust lists: `SignedTrustList::from_bytes`, `TrustedList::bootstrap`
//! against the testkit root set, `TrustedList::update` from the testkit
//! trusted list, `TrustedList::from_stored` and `TrustedList::restore`
//! (against the testkit root set), all at `testkit::NOW`.
//!
//! Input: a mode byte, then the body.
//! - mode & 1 == 0: the body is the signed trust list as received (and is
//!   also given to `TrustList::from_cbor` and `RootSet::from_cbor`);
//! - mode & 1 == 1: the body is a trust-list payload, signed in a COSE_Sign
//!   by the testkit custodians picked by bits 1-5 of mode (reaches the
//!   threshold, rollback, root rotation and expiry rules).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::testkit::NOW;
use sealpass_core::trust::TrustListError;
use sealpass_core::{RootSet, SignedTrustList, TrustList, TrustUpdate, TrustedList};
use sealpass_fuzz::{FIXTURE, mode, signed_trust_list};

fuzz_target!(|data: &[u8]| {
    let (mode, body) = mode(data);
    let city = &FIXTURE.city;
    let candidate = if mode & 1 == 0 {
        let _ = TrustList::from_cbor(body).map_err(|e: TrustListError| e.to_string());
        let _ = RootSet::from_cbor(body).map_err(|e| e.to_string());
        body.to_vec()
    } else {
        signed_trust_list(body, mode >> 1)
    };

    let parsed = SignedTrustList::from_bytes(&candidate);
    if let Ok(signed) = &parsed {
        // Re-encoding what was parsed gives the same list and signatures.
        let again =
            SignedTrustList::from_bytes(&signed.to_bytes()).expect("our own envelope parses");
        assert_eq!(again.list(), signed.list());
        assert_eq!(again.signatures(), signed.signatures());
        assert_eq!(
            TrustList::from_cbor(signed.payload()).as_ref(),
            Ok(signed.list())
        );
        let _ = signed
            .count_root_signatures(&city.roots)
            .meets_threshold();
    }

    match TrustedList::bootstrap(&city.roots, &candidate, NOW) {
        Ok(trusted) => {
            let signed = parsed.as_ref().expect("an accepted list parses");
            assert_eq!(trusted.list(), signed.list());
            assert!(NOW < trusted.list().expires_at);
            // T7: nothing issued in the future beyond the skew.
            assert!(trusted.list().issued_at <= NOW.plus(sealpass_core::LIST_CLOCK_SKEW));
            assert!(
                signed
                    .count_root_signatures(&city.roots)
                    .meets_threshold()
            );
            assert!(matches!(
                trusted.update(&candidate, NOW),
                Ok(TrustUpdate::Unchanged)
            ));
            let _ = trusted.freshness(NOW);
        }
        Err(e) => {
            let _ = (e.to_string(), e.code());
        }
    }

    match city.trusted().update(&candidate, NOW) {
        Ok(TrustUpdate::Replaced(next)) => assert!(next.list().sequence > city.first_list().sequence),
        // T0: the same payload, whatever signatures surround it.
        Ok(TrustUpdate::Unchanged) => {
            let offered = parsed.as_ref().expect("an unchanged list parses");
            let held = SignedTrustList::from_bytes(city.trusted().bytes()).expect("the held list parses");
            assert_eq!(offered.payload(), held.payload());
        }
        Err(e) => {
            let _ = (e.to_string(), e.code());
        }
    }

    if let Ok(stored) = TrustedList::from_stored(&candidate) {
        assert_eq!(Ok(stored.list()), parsed.as_ref().map(|s| s.list()));
    }
    // A stored list restored against the pinned roots meets their threshold.
    if let Ok(restored) = TrustedList::restore(&city.roots, &candidate) {
        let signed = parsed.as_ref().expect("a restored list parses");
        assert_eq!(restored.list(), signed.list());
        assert!(
            signed
                .count_root_signatures(&city.roots)
                .meets_threshold()
        );
    }
});
