//! Holders' phones: deterministic device keys, and the P-256 signatures a
//! phone's random nonces would make.

use super::key;
use ed25519_dalek::SigningKey;
use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;
use p256::elliptic_curve::rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};
use std::convert::Infallible;

/// A holder device's Ed25519 key whose secret is SHA-256 of `label`.
pub fn device_key(label: &str) -> SigningKey {
    key(label)
}

/// A holder device's P-256 key whose secret is SHA-256 of `label`
/// (hashed again, with a counter, in the rare case that is not a scalar).
pub fn p256_device_key(label: &str) -> p256::ecdsa::SigningKey {
    (0u32..)
        .find_map(|n| {
            let mut seed = Sha256::new();
            seed.update(label.as_bytes());
            if n > 0 {
                seed.update(n.to_be_bytes());
            }
            let secret: [u8; 32] = seed.finalize().into();
            p256::ecdsa::SigningKey::from_bytes(&secret.into()).ok()
        })
        .expect("some hash is a P-256 scalar")
}

/// The ECDSA signature (`r || s`, as it comes, `s` high or low) that RFC
/// 6979 makes over SHA-256 of `message` with the extra input `extra`:
/// another valid signature of the same message for each `extra`, as a
/// phone's random nonce makes.
pub fn p256_signature_with(key: &p256::ecdsa::SigningKey, message: &[u8], extra: u8) -> [u8; 64] {
    let signature: p256::ecdsa::Signature = key
        .sign_prehash_with_rng(&mut Extra(extra), &Sha256::digest(message))
        .expect("a P-256 key signs");
    signature.to_bytes().into()
}

/// The twin of a P-256 signature: `s` replaced by `n - s`. Both verify
/// under plain ECDSA.
pub fn p256_twin(signature: &[u8; 64]) -> [u8; 64] {
    let parsed = p256::ecdsa::Signature::from_slice(signature).expect("a P-256 signature");
    let (r, s) = parsed.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())
        .expect("n - s is a scalar");
    twin.to_bytes().into()
}

/// A "random" source that gives one byte, over and over.
struct Extra(u8);

impl TryRng for Extra {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from_ne_bytes([self.0; 4]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from_ne_bytes([self.0; 8]))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.0);
        Ok(())
    }
}

impl TryCryptoRng for Extra {}
