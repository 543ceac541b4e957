//! Making a live code: on the holder's phone, every few seconds.
//!
//! A browser signs with WebCrypto, outside this crate: it signs the bytes of
//! [`live_code_signing_input`] and hands the raw 64-byte signature to
//! [`assemble_live_code`]. Tests, vectors and tools sign with a key in
//! memory through [`sign_live_code`].

use super::device_key::{DeviceKey, DeviceKeyType};
use super::envelope::{LiveCodeEnvelope, LiveCodeError, live_code_signing_input};
use crate::text;
use crate::time::Timestamp;

/// A holder device's key that signs live codes.
pub trait DeviceSigner {
    /// The public key the issuer binds the pass to.
    fn device_key(&self) -> DeviceKey;
    /// A raw 64-byte signature over `message` (Ed25519 `R || S`, or P-256
    /// `r || s` over SHA-256 of `message`).
    fn sign_device(&self, message: &[u8]) -> [u8; 64];
}

impl DeviceSigner for ed25519_dalek::SigningKey {
    fn device_key(&self) -> DeviceKey {
        DeviceKey::ed25519(&self.verifying_key().to_bytes())
            .expect("a signing key's public key is a point of large order")
    }

    fn sign_device(&self, message: &[u8]) -> [u8; 64] {
        ed25519_dalek::Signer::sign(self, message).to_bytes()
    }
}

impl DeviceSigner for p256::ecdsa::SigningKey {
    fn device_key(&self) -> DeviceKey {
        let point = self.verifying_key().to_sec1_point(true);
        let sec1: [u8; 33] = point
            .as_bytes()
            .try_into()
            .expect("a compressed P-256 point is 33 bytes");
        DeviceKey::p256_compressed(&sec1).expect("a signing key's public key is on its curve")
    }

    /// Deterministic ECDSA (RFC 6979), as it comes: `s` may be high;
    /// [`assemble_live_code`] makes it low.
    fn sign_device(&self, message: &[u8]) -> [u8; 64] {
        let signature: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(self, message);
        signature.to_bytes().into()
    }
}

/// The `SP2:` text of a live code of `pass` (the COSE_Sign1 bytes as
/// issued, e.g. from [`text::decode`] of the issuer's text) signed by
/// `device` at `signed_at`.
pub fn sign_live_code(pass: &[u8], signed_at: Timestamp, device: &dyn DeviceSigner) -> String {
    let signature = device.sign_device(&live_code_signing_input(pass, signed_at));
    assemble_live_code(pass, signed_at, device.device_key().key_type(), &signature)
        .expect("a P-256 key's own signature is a P-256 signature")
}

/// The `SP2:` text of a live code from a signature made elsewhere (a
/// browser's WebCrypto) over [`live_code_signing_input`]`(pass, signed_at)`:
/// raw Ed25519 `R || S`, or P-256 `r || s` as WebCrypto's ECDSA returns
/// it. A P-256 signature is put in low-`s` form first, so that each code
/// has one text ([`normalize_p256_signature`]).
///
/// The signature is not checked here: a checkpoint does that.
pub fn assemble_live_code(
    pass: &[u8],
    signed_at: Timestamp,
    key_type: DeviceKeyType,
    signature: &[u8; 64],
) -> Result<String, LiveCodeError> {
    let signature = match key_type {
        DeviceKeyType::Ed25519 => *signature,
        DeviceKeyType::P256 => normalize_p256_signature(signature)?,
    };
    let envelope = LiveCodeEnvelope {
        pass,
        signed_at,
        signature,
    };
    Ok(text::encode_live(&envelope.to_bytes()))
}

/// The low-`s` twin of a P-256 signature `r || s`: `s` replaced by `n - s`
/// when `s > n/2` (`n` the group order), the one form a checkpoint accepts.
/// Both forms verify under ECDSA; only one is a sealpass live code.
pub fn normalize_p256_signature(signature: &[u8; 64]) -> Result<[u8; 64], LiveCodeError> {
    let parsed = p256::ecdsa::Signature::from_slice(signature)
        .map_err(|_| LiveCodeError::NotP256Signature)?;
    Ok(parsed.normalize_s().to_bytes().into())
}
