//! `PassClaims::from_cbor` on raw bytes (a pass payload after its signature
//! verified). Whatever it accepts must survive `to_cbor` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::PassClaims;

fuzz_target!(|data: &[u8]| {
    match PassClaims::from_cbor(data) {
        Ok(claims) => {
            let bytes = claims.to_cbor();
            assert_eq!(
                PassClaims::from_cbor(&bytes).as_ref(),
                Ok(&claims),
                "claims round trip"
            );
            let _ = (
                claims.health.vaccination.last_dose.map(|d| d.to_string()),
                claims.expires_at.to_string(),
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
