//! The one place a secret key is used: behind a small trait, so that a key
//! file, a PKCS#11 token or a test key can sign, and the core never holds it.

use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;

/// COSE algorithm identifier of EdDSA with Ed25519 (RFC 9864).
pub const ALG_ED25519: i64 = -19;

/// Key identifier: the first 8 bytes of SHA-256 of the raw 32-byte public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(pub [u8; 8]);

impl Kid {
    pub fn of(public_key: &[u8; 32]) -> Kid {
        let digest = Sha256::digest(public_key);
        let mut kid = [0; 8];
        kid.copy_from_slice(&digest[..8]);
        Kid(kid)
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({self})")
    }
}

/// The signing key could not produce a signature (a token was removed, a
/// PIN expired). The message must not contain secret material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the signing key could not sign: {0}")]
pub struct SignerError(pub String);

/// An Ed25519 signing key, wherever it lives.
pub trait Signer {
    /// The raw 32-byte Ed25519 public key.
    fn public_key(&self) -> [u8; 32];

    /// An Ed25519 signature (RFC 8032) over `message`.
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError>;

    /// The key identifier; implementations may cache it.
    fn kid(&self) -> Kid {
        Kid::of(&self.public_key())
    }
}

/// An in-memory key. Its secret is zeroized on drop by ed25519-dalek.
impl Signer for ed25519_dalek::SigningKey {
    fn public_key(&self) -> [u8; 32] {
        self.verifying_key().to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        Ok(ed25519_dalek::Signer::sign(self, message).to_bytes())
    }
}

impl<S: Signer + ?Sized> Signer for &S {
    fn public_key(&self) -> [u8; 32] {
        (**self).public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        (**self).sign(message)
    }

    fn kid(&self) -> Kid {
        (**self).kid()
    }
}

/// An in-memory key with its kid computed once, for signing in bulk.
pub struct CachedKidSigner<S> {
    inner: S,
    kid: Kid,
}

impl<S: Signer> CachedKidSigner<S> {
    pub fn new(inner: S) -> Self {
        let kid = inner.kid();
        CachedKidSigner { inner, kid }
    }
}

impl<S: Signer> Signer for CachedKidSigner<S> {
    fn public_key(&self) -> [u8; 32] {
        self.inner.public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        self.inner.sign(message)
    }

    fn kid(&self) -> Kid {
        self.kid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_truncated_sha256_of_the_public_key() {
        // SHA-256 of 32 zero bytes begins 66687aadf862bd77.
        assert_eq!(Kid::of(&[0; 32]).to_hex(), "66687aadf862bd77");
    }
}
