//! Signing in bulk (`sign_passes` with an `ExpandedKey`) makes exactly the
//! texts that signing one by one (`sign_pass`) makes, and they verify.

use sealpass_core::testkit::{City, NOW, sample_claims};
use sealpass_core::{
    CheckpointPolicy, Colour, ExpandedKey, PassClaims, Signer, Verifier, sign_pass, sign_passes,
};

fn claims(n: u32) -> Vec<PassClaims> {
    (0..n)
        .map(|i| {
            let mut claims = sample_claims(NOW);
            claims.revocation_index = i * 7_919;
            claims.expires_at.0 -= u64::from(i) * 13;
            claims
        })
        .collect()
}

#[test]
fn bulk_signing_makes_the_texts_one_by_one_signing_makes() {
    let city = City::new();
    let expanded = ExpandedKey::new(&city.active);
    assert_eq!(expanded.kid(), city.active.kid());
    let policy = CheckpointPolicy {
        name: "any".into(),
        colours: Colour::ALL.to_vec(),
        max_test_age: None,
        min_doses: None,
        // What is signed is under test here, not revocation.
        danger_accept_unchecked_revocation: true,
        require_live_code: false,
    };
    let verifier = Verifier::new(city.trusted(), &policy);
    for n in [0, 1, 2, 5, 64, 65] {
        let claims = claims(n);
        let bulk = sign_passes(&claims, &expanded).unwrap();
        // The plain key's default batch (one by one) agrees too.
        assert_eq!(sign_passes(&claims, &city.active).unwrap(), bulk);
        assert_eq!(bulk.len(), claims.len());
        for (claims, text) in claims.iter().zip(&bulk) {
            assert_eq!(text, &sign_pass(claims, &city.active).unwrap());
            let verified = verifier.verify(text, NOW).unwrap();
            assert_eq!(verified.claims(), claims);
        }
    }
}
