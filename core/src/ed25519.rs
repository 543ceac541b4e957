//! The one Ed25519 verification every sealpass signature goes through:
//! passes, status lists and the custodians' trust-list signatures alike.
//!
//! RFC 8032 with ed25519-dalek's `verify_strict`: the scalar `S` must be
//! canonical (`S < L`, so a signature cannot be malleated), and neither the
//! public key nor `R` may be of small order. tests/wycheproof.rs runs the
//! Wycheproof Ed25519 vectors through [`verify_ed25519`].

use ed25519_dalek::{Signature, VerifyingKey};

/// Whether `signature` is a valid Ed25519 signature by `public_key` over
/// `message`. A key that is not a curve point, or a signature that is not
/// 64 bytes, is simply "does not verify".
pub fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    match VerifyingKey::from_bytes(public_key) {
        Ok(key) => verify_with_key(&key, message, signature),
        Err(_) => false,
    }
}

/// [`verify_ed25519`] with a key decompressed once ahead of time, as the
/// verifier holds its trusted issuer keys.
pub(crate) fn verify_with_key(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    match Signature::from_slice(signature) {
        Ok(signature) => key.verify_strict(message, &signature).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    // Malleated and small-order signatures: tests/wycheproof.rs and the
    // `malleated-signature` vector.
    #[test]
    fn accepts_only_a_genuine_64_byte_signature_over_the_message() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = key.verifying_key().to_bytes();
        let signature = key.sign(b"pass").to_bytes();
        assert!(verify_ed25519(&public, b"pass", &signature));
        assert!(!verify_ed25519(&public, b"pas", &signature));
        assert!(!verify_ed25519(&public, b"pass", &signature[..63]));
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key().to_bytes();
        assert!(!verify_ed25519(&other, b"pass", &signature));
    }
}
