//! COSE parsing on raw bytes: `cose::parse_sign1` (passes, status lists),
//! and on the same bytes `cose::parse_sign` (trust lists) and
//! `cose::parse_protected` (headers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::cose;

fuzz_target!(|data: &[u8]| {
    match cose::parse_sign1(data) {
        Ok(sign1) => {
            // What we parsed, written back with an empty unprotected header,
            // parses to the same thing.
            let again = cose::encode_sign1(sign1.protected.bytes, sign1.payload, &sign1.signature);
            assert_eq!(cose::parse_sign1(&again).as_ref(), Ok(&sign1));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(sign) = cose::parse_sign(data) {
        let signatures: Vec<_> = sign
            .signatures
            .iter()
            .map(|s| (s.protected.bytes.to_vec(), s.signature))
            .collect();
        let again = cose::encode_sign(sign.payload, &signatures);
        let reparsed = cose::parse_sign(&again).expect("our own COSE_Sign parses");
        assert_eq!(reparsed.payload, sign.payload);
        assert_eq!(reparsed.signatures, sign.signatures);
    }
    let _ = cose::parse_protected(data);
});
