//! `CheckpointPolicy::from_str` (the `--policy` definitions a checkpoint
//! loads) and `parse_duration` on arbitrary text. What parses must survive
//! `to_definition` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::{CheckpointPolicy, parse_duration, testkit};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_duration(&text);
    match text.parse::<CheckpointPolicy>() {
        Ok(policy) => {
            assert!(!policy.colours.is_empty());
            let definition = policy.to_definition();
            assert_eq!(
                definition.parse::<CheckpointPolicy>().as_ref(),
                Ok(&policy),
                "{definition:?}"
            );
            let claims = testkit::sample_claims(testkit::NOW);
            if let Err(e) = policy.check(&claims.health, testkit::NOW) {
                let _ = (e.to_string(), e.code());
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
