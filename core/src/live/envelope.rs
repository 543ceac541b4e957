//! The live code's bytes (docs/format.md, "Live codes"): a pass exactly as
//! issued, the second the holder's phone signed it, and that signature.
//!
//! ```text
//! LiveCode = [
//!     pass:      bstr,           ; the COSE_Sign1 bytes as issued (tag 18 inside)
//!     signed_at: uint,           ; t: seconds since 1970, from the phone's clock
//!     signature: bstr .size 64,  ; the device's, over LiveCodeSigningInput
//! ]
//! LiveCodeSigningInput = [
//!     "sealpass live code v1",   ; context: never the bytes of any other signature
//!     bstr .size 32,             ; SHA-256 of the pass bytes
//!     uint,                      ; t, as in the envelope
//! ]
//! ```
//!
//! The signature covers a hash of the pass's bytes as received, never a
//! re-encoding, and the same `t` the envelope carries.

use crate::cbor::{self, CborError, Encoder, Item};
use crate::time::Timestamp;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The context string that opens every live-code signing input.
pub const LIVE_CODE_CONTEXT: &str = "sealpass live code v1";

/// Deepest nesting in a live-code envelope (the pass inside is a byte
/// string, read by the pass's own reader).
const MAX_ENVELOPE_DEPTH: usize = 1;

/// Why bytes are not a live-code envelope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LiveCodeError {
    #[error("damaged live code: {0}")]
    Cbor(#[from] CborError),
    #[error("damaged live code: {0}")]
    Malformed(&'static str),
    #[error("damaged live code: the device signature is {0} bytes long, not 64")]
    SignatureLength(usize),
    #[error(
        "the device signature is not a P-256 signature (r or s is zero or not below the group order)"
    )]
    NotP256Signature,
}

impl LiveCodeError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            LiveCodeError::Cbor(e) => e.code(),
            LiveCodeError::Malformed(_) => "malformed_live_code",
            LiveCodeError::SignatureLength(_) => "bad_device_signature_length",
            LiveCodeError::NotP256Signature => "not_a_p256_signature",
        }
    }
}

/// A live code's envelope, borrowing from the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCodeEnvelope<'a> {
    /// The pass's COSE_Sign1 bytes, exactly as issued.
    pub pass: &'a [u8],
    /// `t`: when the phone signed, by its own clock.
    pub signed_at: Timestamp,
    /// The device signature over [`live_code_signing_input`].
    pub signature: [u8; 64],
}

impl<'a> LiveCodeEnvelope<'a> {
    /// Read an envelope in the strict CBOR profile: an array of exactly
    /// three items, a byte string, an unsigned integer and a 64-byte string,
    /// filling the input.
    pub fn parse(bytes: &'a [u8]) -> Result<LiveCodeEnvelope<'a>, LiveCodeError> {
        let Item::Array(items) = cbor::decode(bytes, MAX_ENVELOPE_DEPTH)? else {
            return Err(LiveCodeError::Malformed("not an array"));
        };
        let [pass, signed_at, signature] = items.as_slice() else {
            return Err(LiveCodeError::Malformed("not an array of three"));
        };
        let Item::Bytes(pass) = *pass else {
            return Err(LiveCodeError::Malformed("the pass is not a byte string"));
        };
        let Item::Unsigned(signed_at) = *signed_at else {
            return Err(LiveCodeError::Malformed(
                "the signing time is not an unsigned integer",
            ));
        };
        let Item::Bytes(signature) = *signature else {
            return Err(LiveCodeError::Malformed(
                "the device signature is not a byte string",
            ));
        };
        Ok(LiveCodeEnvelope {
            pass,
            signed_at: Timestamp(signed_at),
            signature: signature
                .try_into()
                .map_err(|_| LiveCodeError::SignatureLength(signature.len()))?,
        })
    }

    /// The envelope's bytes, in shortest form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(self.pass.len() + 80);
        e.array(3)
            .bytes(self.pass)
            .uint(self.signed_at.0)
            .bytes(&self.signature);
        e.into_bytes()
    }
}

/// SHA-256 of a pass's COSE_Sign1 bytes: what a live code's signature
/// covers, and with `t` what a checkpoint's replay memory remembers.
pub fn pass_hash(pass: &[u8]) -> [u8; 32] {
    Sha256::digest(pass).into()
}

/// The exact bytes a holder's device signs for a live code of `pass` (the
/// COSE_Sign1 bytes as issued) at `signed_at`: the CBOR array
/// `["sealpass live code v1", SHA-256(pass), t]`. Ed25519 signs them as
/// they are; P-256 signs them with SHA-256 (WebCrypto's
/// `{name: "ECDSA", hash: "SHA-256"}`).
pub fn live_code_signing_input(pass: &[u8], signed_at: Timestamp) -> Vec<u8> {
    signing_input_for_hash(&pass_hash(pass), signed_at)
}

/// [`live_code_signing_input`] from the pass's hash.
pub(crate) fn signing_input_for_hash(pass_hash: &[u8; 32], signed_at: Timestamp) -> Vec<u8> {
    let mut e = Encoder::with_capacity(72);
    e.array(3)
        .text(LIVE_CODE_CONTEXT)
        .bytes(pass_hash)
        .uint(signed_at.0);
    e.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(build: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        let mut e = Encoder::default();
        build(&mut e);
        e.into_bytes()
    }

    #[test]
    fn round_trips_and_reads_only_its_own_shape() {
        let code = LiveCodeEnvelope {
            pass: &[0xd2, 0x84],
            signed_at: Timestamp(1_795_218_000),
            signature: [7; 64],
        };
        let bytes = code.to_bytes();
        assert_eq!(&bytes[..4], &[0x83, 0x42, 0xd2, 0x84]);
        assert_eq!(LiveCodeEnvelope::parse(&bytes), Ok(code));

        let short = envelope(|e| {
            e.array(3).bytes(b"pass").uint(1).bytes(&[0; 63]);
        });
        assert_eq!(
            LiveCodeEnvelope::parse(&short),
            Err(LiveCodeError::SignatureLength(63))
        );
        let negative_time = envelope(|e| {
            e.array(3).bytes(b"pass").int(-1).bytes(&[0; 64]);
        });
        assert_eq!(
            LiveCodeEnvelope::parse(&negative_time).unwrap_err().code(),
            "malformed_live_code"
        );
        let four = envelope(|e| {
            e.array(4).bytes(b"pass").uint(1).bytes(&[0; 64]).uint(0);
        });
        assert_eq!(
            LiveCodeEnvelope::parse(&four).unwrap_err().code(),
            "malformed_live_code"
        );
        // The pass is a byte string, never the COSE_Sign1 inline: nesting 2.
        let inline = envelope(|e| {
            e.array(3).array(0).uint(1).bytes(&[0; 64]);
        });
        assert_eq!(
            LiveCodeEnvelope::parse(&inline).unwrap_err().code(),
            "cbor_too_deep"
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            LiveCodeEnvelope::parse(&trailing).unwrap_err().code(),
            "cbor_trailing_bytes"
        );
        // t written in a longer form than it needs.
        let long_t = envelope(|e| {
            e.array(3)
                .bytes(b"pass")
                .raw(&[0x1b, 0, 0, 0, 0, 0, 0, 0, 1]);
            e.bytes(&[0; 64]);
        });
        assert_eq!(
            LiveCodeEnvelope::parse(&long_t).unwrap_err().code(),
            "cbor_non_canonical"
        );
    }

    #[test]
    fn the_signing_input_is_domain_separated_and_binds_pass_and_time() {
        let input = live_code_signing_input(b"pass", Timestamp(1_795_218_000));
        assert_eq!(input[0], 0x83);
        assert_eq!(&input[2..23], LIVE_CODE_CONTEXT.as_bytes());
        assert_eq!(&input[23..25], &[0x58, 0x20]);
        assert_eq!(&input[25..57], &pass_hash(b"pass"));
        assert_eq!(&input[57..], &[0x1a, 0x6b, 0x00, 0xda, 0x50]);
        assert_ne!(
            input,
            live_code_signing_input(b"pasS", Timestamp(1_795_218_000))
        );
        assert_ne!(
            input,
            live_code_signing_input(b"pass", Timestamp(1_795_218_001))
        );
    }
}
