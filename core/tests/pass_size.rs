//! A pass must fit a QR code a cheap phone shows and a tired scanner reads:
//! at most 300 characters (QR version 10 at error correction M).

use sealpass_core::testkit::{City, NOW, sample_claims};
use sealpass_core::{PassClaims, sign_pass};

#[test]
fn a_pass_with_every_claim_fits_in_300_characters() {
    let city = City::new();
    let mut claims: PassClaims = sample_claims(NOW);
    // The largest values each field takes in practice.
    claims.issuer = "CN-610100".into();
    claims.revocation_index = u32::MAX;
    claims.health.masked_name = "欧*娜".into();
    claims.health.masked_id = "6101**********123X".into();
    claims.health.vaccination.doses = 4;
    let text = sign_pass(&claims, &city.active).unwrap();
    println!("{} characters: {text}", text.len());
    assert!(text.len() <= 300, "{} characters", text.len());
    // QR alphanumeric mode: the whole text is in its 45-character set.
    assert!(
        text.chars()
            .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
    );
}
