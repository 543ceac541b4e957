//! `StatusList::verify` against the testkit trusted list at `testkit::NOW`.
//!
//! Input: a mode byte, then the body.
//! - mode & 1 == 0: the body is the signed status list as received;
//! - mode & 1 == 1: the body is a status-list payload, signed by the testkit
//!   issuer key (reaches the document fields and the zlib bit array).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::StatusList;
use sealpass_core::testkit::NOW;
use sealpass_fuzz::{FIXTURE, mode, signed_status_list};

fuzz_target!(|data: &[u8]| {
    let (mode, body) = mode(data);
    let candidate = if mode & 1 == 0 {
        body.to_vec()
    } else {
        signed_status_list(body)
    };
    match StatusList::verify(&candidate, FIXTURE.city.trusted(), NOW) {
        Ok(list) => {
            assert!(NOW < list.expires_at());
            assert!(list.issued_at() <= NOW.plus(sealpass_core::LIST_CLOCK_SKEW));
            // Never longer than the testkit key's lifetime bound (2 days).
            assert!(list.expires_at().since(list.issued_at()) <= sealpass_core::Seconds::days(2));
            assert_eq!(list.len() % 8, 0);
            for index in [0, 7, 8, u32::MAX] {
                match list.check(index, NOW) {
                    Ok(()) => assert!(u64::from(index) < list.len()),
                    Err(e) => {
                        let _ = (e.to_string(), e.code());
                    }
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
