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

    /// Ed25519 signatures over several messages, in their order. A key
    /// that can share work between signatures overrides it
    /// ([`ExpandedKey`]); by default each message is signed on its own.
    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignerError> {
        messages.iter().map(|message| self.sign(message)).collect()
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

/// Nonce points encoded with one field inversion, at most.
const COMPRESS_BATCH: usize = 64;

/// An in-memory key for signing in bulk, with its secret expanded once.
///
/// Ed25519 signing (RFC 8032, section 5.1.6) starts from the SHA-512 of
/// the secret key: its first half is the secret scalar, its second the
/// prefix that makes the nonce. `ed25519_dalek::SigningKey` recomputes
/// that hash for every signature; this keeps the result (zeroized on drop,
/// never printed) and signs with the same algorithm, so its signatures are
/// the very bytes `SigningKey` makes, one SHA-512 and a scalar reduction
/// sooner.
pub struct ExpandedKey {
    secret: ed25519_dalek::hazmat::ExpandedSecretKey,
    public: ed25519_dalek::VerifyingKey,
    kid: Kid,
}

impl ExpandedKey {
    pub fn new(key: &ed25519_dalek::SigningKey) -> ExpandedKey {
        let public = key.verifying_key();
        ExpandedKey {
            secret: ed25519_dalek::hazmat::ExpandedSecretKey::from(key.as_bytes()),
            public,
            kid: Kid::of(&public.to_bytes()),
        }
    }
}

impl core::fmt::Debug for ExpandedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExpandedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer for ExpandedKey {
    fn public_key(&self) -> [u8; 32] {
        self.public.to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        Ok(
            ed25519_dalek::hazmat::raw_sign::<sha2::Sha512>(&self.secret, message, &self.public)
                .to_bytes(),
        )
    }

    fn kid(&self) -> Kid {
        self.kid
    }

    /// RFC 8032's signing (section 5.1.6) for each message, with one
    /// change of order that leaves every signature's bytes as they were:
    /// the nonce points `R = rB` of all the messages are computed first,
    /// then encoded together, with one field inversion for the batch
    /// (Montgomery's trick, `compress_batch`) instead of one each.
    /// An inversion is about an eighth of a signature's work.
    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignerError> {
        use curve25519_dalek::traits::Identity;
        use curve25519_dalek::{EdwardsPoint, Scalar};
        use sha2::{Digest, Sha512};
        use zeroize::Zeroizing;

        let hash_to_scalar = |parts: &[&[u8]]| {
            let mut hash = Sha512::new();
            for part in parts {
                hash.update(part);
            }
            let wide: Zeroizing<[u8; 64]> = Zeroizing::new(hash.finalize().into());
            Scalar::from_bytes_mod_order_wide(&wide)
        };
        // The secret nonces r = SHA-512(prefix || M), zeroized on drop.
        let nonces: Zeroizing<Vec<Scalar>> = Zeroizing::new(
            messages
                .iter()
                .map(|message| hash_to_scalar(&[&self.secret.hash_prefix, message]))
                .collect(),
        );
        // In batches of up to 64 points (a signing thread's take), the
        // last one padded with the identity, whose encoding is dropped.
        let mut encoded = Vec::with_capacity(nonces.len());
        for chunk in nonces.chunks(COMPRESS_BATCH) {
            let mut points = [EdwardsPoint::identity(); COMPRESS_BATCH];
            for (point, r) in points.iter_mut().zip(chunk) {
                *point = EdwardsPoint::mul_base(r);
            }
            encoded.extend_from_slice(&EdwardsPoint::compress_batch(&points)[..chunk.len()]);
        }
        let public = self.public.to_bytes();
        Ok(messages
            .iter()
            .zip(nonces.iter())
            .zip(&encoded)
            .map(|((message, r), big_r)| {
                // k = SHA-512(R || A || M), S = r + k s.
                let k = hash_to_scalar(&[big_r.as_bytes(), &public, message]);
                let s = k * self.secret.scalar + r;
                let mut signature = [0; 64];
                signature[..32].copy_from_slice(big_r.as_bytes());
                signature[32..].copy_from_slice(s.as_bytes());
                signature
            })
            .collect())
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

    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignerError> {
        (**self).sign_batch(messages)
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

    #[test]
    fn an_expanded_key_signs_the_bytes_its_signing_key_signs() {
        for seed in 0..32u8 {
            let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            let expanded = ExpandedKey::new(&key);
            assert_eq!(expanded.public_key(), Signer::public_key(&key));
            assert_eq!(expanded.kid(), Signer::kid(&key));
            for len in [0, 1, 91, 200] {
                let message = vec![seed ^ 0x5a; len];
                assert_eq!(
                    expanded.sign(&message).unwrap(),
                    Signer::sign(&key, &message).unwrap()
                );
            }
        }
        // Batched, the same bytes again, for batches of every small size
        // and one of a signing thread's size.
        let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
        let expanded = ExpandedKey::new(&key);
        let messages: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        for n in [0, 1, 2, 3, 7, 64] {
            let batch: Vec<&[u8]> = messages[..n].iter().map(Vec::as_slice).collect();
            let one_by_one: Vec<[u8; 64]> = batch
                .iter()
                .map(|m| Signer::sign(&key, m).unwrap())
                .collect();
            assert_eq!(
                expanded.sign_batch(&batch).unwrap(),
                one_by_one,
                "batch of {n}"
            );
            assert_eq!(key.sign_batch(&batch).unwrap(), one_by_one);
        }
        // Its Debug shows the kid, never the secret.
        let shown = format!(
            "{:?}",
            ExpandedKey::new(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
        );
        assert!(shown.starts_with("ExpandedKey { kid:"), "{shown}");
    }
}
