//! The status list: a signed, zlib-compressed bit array in the spirit of the
//! IETF OAuth Token Status List; bit `i` set means the pass with revocation
//! index `i` is revoked. Bit `i` is bit `i % 8` (least significant first) of
//! byte `i / 8`, as in the IETF draft.
//!
//! Document (COSE_Sign1 payload, external AAD `sealpass status list v1`):
//! `{1: issuer id, 2: issued at, 3: expires at, 4: bits per entry (1),
//!   5: zlib-compressed bit array}`.

use crate::cbor::{self, Encoder, FieldError, Fields};
use crate::cose::{self, AAD_STATUS_LIST, CoseError};
use crate::error::{RevocationError, SignatureError, TrustError};
use crate::signer::{Kid, Signer, SignerError};
use crate::text::{self, TextError};
use crate::time::{Seconds, Timestamp};
use crate::trust::TrustedList;
use crate::verify::trusted_signature;
use thiserror::Error;

/// How far ahead of a checkpoint's clock a status list or trust list may be
/// issued: the default pass skew, never widened by a checkpoint's own.
pub const LIST_CLOCK_SKEW: Seconds = crate::verify::DEFAULT_CLOCK_SKEW;

/// Largest signed status list accepted, in bytes.
pub const MAX_STATUS_LIST_LEN: usize = 16 << 20;
/// Largest bit array accepted after inflating: 2^29 passes.
pub const MAX_STATUS_BITS_LEN: usize = 64 << 20;

/// A growable bit array of revocations, as an issuer builds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusBits {
    bytes: Vec<u8>,
}

impl StatusBits {
    /// Room for `entries` passes, none revoked.
    pub fn new(entries: u64) -> StatusBits {
        StatusBits {
            bytes: vec![0; entries.div_ceil(8) as usize],
        }
    }

    pub fn from_bytes(bytes: Vec<u8>) -> StatusBits {
        StatusBits { bytes }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries (always a multiple of 8).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Mark a pass revoked, growing the array if needed.
    pub fn revoke(&mut self, index: u32) {
        let byte = index as usize / 8;
        if byte >= self.bytes.len() {
            self.bytes.resize(byte + 1, 0);
        }
        self.bytes[byte] |= 1 << (index % 8);
    }

    /// Whether a pass is revoked, or `None` beyond the end of the array.
    pub fn is_revoked(&self, index: u32) -> Option<bool> {
        let byte = self.bytes.get(index as usize / 8)?;
        Some(byte & (1 << (index % 8)) != 0)
    }
}

/// Why a status list was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatusListError {
    #[error("the status list is {len} bytes; at most {max} are accepted")]
    TooLarge { len: usize, max: usize },
    #[error("the status list is damaged: {0}")]
    Cose(#[from] CoseError),
    #[error("the status list is damaged: {0}")]
    Cbor(#[from] cbor::CborError),
    #[error("the status list is damaged: {0}")]
    Field(#[from] FieldError),
    #[error("status lists with {0} bits per entry are not supported (v1 uses 1)")]
    UnsupportedBits(u64),
    #[error("the status list's bit array: {0}")]
    Bits(#[from] TextError),
    #[error("the status list's signer is not trusted: {0}")]
    Trust(#[from] TrustError),
    #[error("the status list's {0}")]
    Signature(#[from] SignatureError),
    #[error("the status list expired {} ago", now.since(*expired_at))]
    Expired {
        expired_at: Timestamp,
        now: Timestamp,
    },
    /// Accepted, a list from the future would make every genuine list after
    /// it look like a rollback until that date: revocation frozen.
    #[error(
        "the status list is issued {} in the future ({issued_at}): refused, or it would block every genuine list until then. Check this device's clock",
        issued_at.since(*now)
    )]
    IssuedInFuture {
        issued_at: Timestamp,
        now: Timestamp,
    },
}

impl StatusListError {
    /// A stable, machine-readable reason, as [`crate::VerifyError::code`]
    /// gives for passes; trust and signature failures share the pass codes.
    pub fn code(&self) -> &'static str {
        match self {
            StatusListError::TooLarge { .. }
            | StatusListError::Bits(TextError::InflatedTooLarge { .. }) => "status_list_too_large",
            StatusListError::Cose(_)
            | StatusListError::Cbor(_)
            | StatusListError::Field(_)
            | StatusListError::Bits(_) => "malformed_status_list",
            StatusListError::UnsupportedBits(_) => "unsupported_status_bits",
            StatusListError::Trust(e) => e.code(),
            StatusListError::Signature(e) => e.code(),
            StatusListError::Expired { .. } => "status_list_expired",
            StatusListError::IssuedInFuture { .. } => "status_list_issued_in_future",
        }
    }
}

/// Sign a status list for `issuer` with one of its issuer keys.
pub fn sign_status_list(
    issuer: &str,
    issued_at: Timestamp,
    expires_at: Timestamp,
    bits: &StatusBits,
    signer: &dyn Signer,
) -> Result<Vec<u8>, SignerError> {
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(bits.as_bytes(), 9);
    let mut e = Encoder::with_capacity(64 + compressed.len());
    e.map(5)
        .int(1)
        .text(issuer)
        .int(2)
        .uint(issued_at.0)
        .int(3)
        .uint(expires_at.0)
        .int(4)
        .uint(1)
        .int(5)
        .bytes(&compressed);
    cose::sign1(&e.into_bytes(), AAD_STATUS_LIST, signer)
}

/// A status list whose signature and signer were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    issuer: String,
    issued_at: Timestamp,
    expires_at: Timestamp,
    kid: Kid,
    bits: StatusBits,
}

impl StatusList {
    /// Check a signed status list: signed by a trusted key of the issuer it
    /// names, under the same key rules as a pass (its window and lifetime
    /// bound), not issued ahead of `now` beyond [`LIST_CLOCK_SKEW`], and not
    /// expired.
    pub fn verify(
        bytes: &[u8],
        trust: &TrustedList,
        now: Timestamp,
    ) -> Result<StatusList, StatusListError> {
        if bytes.len() > MAX_STATUS_LIST_LEN {
            return Err(StatusListError::TooLarge {
                len: bytes.len(),
                max: MAX_STATUS_LIST_LEN,
            });
        }
        let sign1 = cose::parse_sign1(bytes)?;
        let key = trusted_signature(trust, &sign1, AAD_STATUS_LIST, now)?;
        let mut fields = Fields::new(cbor::decode(sign1.payload, 2)?)?;
        let issuer = fields.text(1)?.to_owned();
        let issued_at = Timestamp(fields.uint(2)?);
        let expires_at = Timestamp(fields.uint(3)?);
        let bits_per_entry = fields.uint(4)?;
        let compressed = fields.bytes(5)?;
        fields.finish()?;
        if bits_per_entry != 1 {
            return Err(StatusListError::UnsupportedBits(bits_per_entry));
        }
        key.admits(&issuer, issued_at)?;
        key.bounds(issued_at, expires_at)?;
        if issued_at > now.plus(LIST_CLOCK_SKEW) {
            return Err(StatusListError::IssuedInFuture { issued_at, now });
        }
        if now >= expires_at {
            return Err(StatusListError::Expired {
                expired_at: expires_at,
                now,
            });
        }
        let bits = StatusBits::from_bytes(text::inflate(compressed, MAX_STATUS_BITS_LEN)?);
        Ok(StatusList {
            issuer,
            issued_at,
            expires_at,
            kid: sign1.protected.kid,
            bits,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    pub fn kid(&self) -> Kid {
        self.kid
    }

    pub fn len(&self) -> u64 {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Refuse a revoked pass, or any pass once the list has expired.
    pub fn check(&self, index: u32, now: Timestamp) -> Result<(), RevocationError> {
        if now >= self.expires_at {
            return Err(RevocationError::StatusListExpired {
                expired_at: self.expires_at,
                now,
            });
        }
        match self.bits.is_revoked(index) {
            Some(false) => Ok(()),
            Some(true) => Err(RevocationError::Revoked { index }),
            None => Err(RevocationError::IndexOutOfRange {
                index,
                len: self.bits.len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_least_significant_first() {
        let mut bits = StatusBits::new(16);
        bits.revoke(0);
        bits.revoke(9);
        assert_eq!(bits.as_bytes(), &[0b0000_0001, 0b0000_0010]);
        assert_eq!(bits.is_revoked(9), Some(true));
        assert_eq!(bits.is_revoked(8), Some(false));
        assert_eq!(bits.is_revoked(16), None);
        bits.revoke(100);
        assert_eq!(bits.len(), 104);
    }

    #[test]
    fn a_city_of_13_million_with_3000_revocations_fits_in_kilobytes() {
        use crate::testkit::{City, ISSUER, NOW};
        let city = City::new();
        let mut bits = StatusBits::new(13_000_000);
        let mut x: u64 = 1;
        for _ in 0..3000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            bits.revoke(((x >> 33) % 13_000_000) as u32);
        }
        let expires = NOW.plus(crate::Seconds::hours(6));
        let signed = sign_status_list(ISSUER, NOW, expires, &bits, &city.active).unwrap();
        assert!(signed.len() < 12 * 1024, "{} bytes", signed.len());
        let list = StatusList::verify(&signed, city.trusted(), NOW).unwrap();
        assert_eq!(list.len(), 13_000_000);
        let revoked = (0..13_000_000)
            .filter(|&i| list.check(i, NOW).is_err())
            .count();
        assert!((2990..=3000).contains(&revoked), "{revoked}");
    }
}
