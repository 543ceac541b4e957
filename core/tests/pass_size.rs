//! A pass must fit a QR code a cheap phone shows and a tired scanner reads:
//! at most 300 characters (QR version 10 at error correction M). A live
//! code, the pass with its holder's key and the phone's signature around
//! it, must fit version 13 at M: at most 483 characters.

use sealpass_core::live::{DeviceSigner, sign_live_code};
use sealpass_core::testkit::{City, NOW, device_key, p256_device_key, sample_claims};
use sealpass_core::{PassClaims, sign_pass, text};

/// The largest values each field takes in practice.
fn full_claims() -> PassClaims {
    let mut claims: PassClaims = sample_claims(NOW);
    claims.issuer = "CN-610100".into();
    claims.revocation_index = u32::MAX;
    claims.health.masked_name = "欧*娜".into();
    claims.health.masked_id = "6101**********123X".into();
    claims.health.vaccination.doses = 4;
    claims
}

/// QR alphanumeric mode: the whole text is in its 45-character set.
fn is_alphanumeric(text: &str) -> bool {
    text.chars()
        .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
}

#[test]
fn a_pass_with_every_claim_fits_in_300_characters() {
    let text = sign_pass(&full_claims(), &City::new().active).unwrap();
    println!("{} characters: {text}", text.len());
    assert!(text.len() <= 300, "{} characters", text.len());
    assert!(is_alphanumeric(&text));
}

#[test]
fn a_live_code_with_every_claim_fits_in_483_characters_for_both_key_types() {
    let city = City::new();
    let ed25519 = device_key("phone");
    let p256 = p256_device_key("phone");
    for (name, phone) in [("Ed25519", &ed25519 as &dyn DeviceSigner), ("P-256", &p256)] {
        let claims = PassClaims {
            holder: Some(phone.device_key()),
            ..full_claims()
        };
        let pass = text::decode(&sign_pass(&claims, &city.active).unwrap()).unwrap();
        // The largest t a phone signs this century: five bytes of CBOR.
        let code = sign_live_code(&pass, NOW, phone);
        println!(
            "{name}: pass {} bytes, live code {} characters",
            pass.len(),
            code.len()
        );
        assert!(code.len() <= 483, "{name}: {} characters", code.len());
        assert!(is_alphanumeric(&code));
    }
}
