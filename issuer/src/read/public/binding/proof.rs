//! A binding request and its proof of possession: the phone's public key
//! and its signature over the **binding message** (docs/public-api.md,
//! "Device binding"), which the phone builds itself:
//!
//! ```text
//! "sealpass device binding v1" 00    27 bytes: context
//! u8 n, challenge                    the challenge's n raw bytes (57)
//! u8 m, subject                      the subject's m UTF-8 bytes (1..=64)
//! u8 key type                        1 Ed25519, 2 P-256
//! u8 k, public key                   the key's k bytes as sent (32; 65 or 33)
//! ```
//!
//! Ed25519 signs the message (`verify_strict`); P-256 signs its SHA-256
//! (WebCrypto's `{name: "ECDSA", hash: "SHA-256"}`, raw `r || s`), and
//! either form of `s` is accepted here: a binding's replay is stopped by
//! its challenge, not by its signature's bytes. The context keeps a
//! binding signature from ever being a live code's (whose signed bytes
//! begin `83 75 "sealpass live code v1"`), or the reverse.

use super::challenge::{self, ChallengeError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpass_core::Timestamp;
use sealpass_core::live::{DeviceKey, DeviceKeyError, normalize_p256_signature};
use serde::Deserialize;

/// The binding message's first bytes.
pub const BINDING_CONTEXT: &[u8] = b"sealpass device binding v1\0";

/// `PUT /api/v1/device`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindRequest {
    challenge: String,
    key_type: String,
    public_key: String,
    signature: String,
}

/// The two key types, as WebCrypto names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ed25519,
    P256,
}

impl KeyType {
    fn parse(name: &str) -> Option<KeyType> {
        match name {
            "Ed25519" => Some(KeyType::Ed25519),
            "P-256" => Some(KeyType::P256),
            _ => None,
        }
    }

    /// The byte that names it in the binding message.
    pub fn code(self) -> u8 {
        match self {
            KeyType::Ed25519 => 1,
            KeyType::P256 => 2,
        }
    }
}

/// The binding message for a challenge, a subject and a key (see above).
/// Each part is at most 255 bytes; longer parts never reach it (the
/// request's checks refuse them first).
pub fn binding_message(
    challenge: &[u8],
    subject: &str,
    key_type: KeyType,
    public_key: &[u8],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(BINDING_CONTEXT.len() + 4 + 255);
    message.extend_from_slice(BINDING_CONTEXT);
    for part in [challenge, subject.as_bytes()] {
        message.push(u8::try_from(part.len()).unwrap_or(u8::MAX));
        message.extend_from_slice(part);
    }
    message.push(key_type.code());
    message.push(u8::try_from(public_key.len()).unwrap_or(u8::MAX));
    message.extend_from_slice(public_key);
    message
}

/// A binding the phone proved: its challenge (checked) and its key.
#[derive(Debug)]
pub struct Proven {
    /// The challenge's nonce: the binding's idempotency key is made of it.
    pub nonce: [u8; 16],
    pub device: DeviceKey,
}

/// Why a binding request is refused. Each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// Not the JSON object of the four fields.
    Malformed(String),
    /// A field is not base64url (no padding).
    BadBase64(&'static str),
    BadChallenge,
    ChallengeExpired {
        ago: u64,
    },
    UnknownKeyType,
    BadKeyLength(KeyType),
    Key(DeviceKeyError),
    BadSignatureLength,
    BadSignature,
}

impl ProofError {
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::Malformed(_) => "malformed_request",
            ProofError::BadBase64(_) => "bad_base64",
            ProofError::BadChallenge => "bad_challenge",
            ProofError::ChallengeExpired { .. } => "challenge_expired",
            ProofError::UnknownKeyType => "unknown_key_type",
            ProofError::BadKeyLength(_) => "bad_device_key_length",
            ProofError::Key(e) => e.code(),
            ProofError::BadSignatureLength => "bad_signature_length",
            ProofError::BadSignature => "bad_device_signature",
        }
    }

    /// What the page (or its developer) should do.
    pub fn message(&self) -> String {
        match self {
            ProofError::Malformed(reason) => format!(
                "the body must be a JSON object of challenge, key_type, public_key and signature: {reason}"
            ),
            ProofError::BadBase64(field) => {
                format!("{field} is not base64url without padding")
            }
            ProofError::BadChallenge => {
                "the challenge was not made by this issuer for this login: ask for a new one".into()
            }
            ProofError::ChallengeExpired { ago } => {
                format!("the challenge expired {ago} s ago: ask for a new one")
            }
            ProofError::UnknownKeyType => "key_type must be \"Ed25519\" or \"P-256\"".into(),
            ProofError::BadKeyLength(KeyType::Ed25519) => {
                "an Ed25519 public_key is its 32 raw bytes (WebCrypto exportKey('raw'))".into()
            }
            ProofError::BadKeyLength(KeyType::P256) => {
                "a P-256 public_key is the 65-byte uncompressed point WebCrypto exportKey('raw') gives (or 33 bytes compressed)".into()
            }
            ProofError::Key(e) => format!("{e}: make a new device key"),
            ProofError::BadSignatureLength => {
                "signature must be 64 bytes (Ed25519, or P-256 r || s as WebCrypto returns it)"
                    .into()
            }
            ProofError::BadSignature => {
                "the device's signature over the binding message does not verify".into()
            }
        }
    }
}

fn base64url(text: &str, field: &'static str) -> Result<Vec<u8>, ProofError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| ProofError::BadBase64(field))
}

/// Check a binding request's `body` for `subject` at `now`: the
/// challenge first (a MAC, cheap), then the key, then the signature.
pub fn prove(
    body: &[u8],
    secret: &[u8],
    subject: &str,
    now: Timestamp,
) -> Result<Proven, ProofError> {
    let request: BindRequest =
        serde_json::from_slice(body).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let raw_challenge = base64url(&request.challenge, "challenge")?;
    let checked = challenge::check(secret, &raw_challenge, subject, now).map_err(|e| match e {
        ChallengeError::NotOurs => ProofError::BadChallenge,
        ChallengeError::Expired { ago } => ProofError::ChallengeExpired { ago },
    })?;
    let key_type = KeyType::parse(&request.key_type).ok_or(ProofError::UnknownKeyType)?;
    let public_key = base64url(&request.public_key, "public_key")?;
    let device = match (key_type, public_key.len()) {
        (KeyType::Ed25519, 32) => {
            let bytes: &[u8; 32] = public_key.as_slice().try_into().expect("32 bytes");
            DeviceKey::ed25519(bytes)
        }
        (KeyType::P256, 33 | 65) => DeviceKey::p256_sec1(&public_key),
        (key_type, _) => return Err(ProofError::BadKeyLength(key_type)),
    }
    .map_err(ProofError::Key)?;
    let signature: [u8; 64] = base64url(&request.signature, "signature")?
        .try_into()
        .map_err(|_| ProofError::BadSignatureLength)?;
    let signature = match key_type {
        KeyType::Ed25519 => signature,
        KeyType::P256 => {
            normalize_p256_signature(&signature).map_err(|_| ProofError::BadSignature)?
        }
    };
    let message = binding_message(&raw_challenge, subject, key_type, &public_key);
    device
        .check_signature(&message, &signature)
        .map_err(|_| ProofError::BadSignature)?;
    Ok(Proven {
        nonce: checked.nonce,
        device,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_context_then_length_prefixed_parts() {
        let message = binding_message(&[0xaa; 3], "XA-1", KeyType::P256, &[0x04, 1]);
        let mut expected = b"sealpass device binding v1\0".to_vec();
        expected.extend_from_slice(&[3, 0xaa, 0xaa, 0xaa, 4, b'X', b'A', b'-', b'1', 2, 2, 4, 1]);
        assert_eq!(message, expected);
        // Never the first byte of a live code's signing input (0x83).
        assert_ne!(message[0], 0x83);
    }
}
