//! The holder device's public key, as a bound pass carries it: the CWT
//! confirmation claim `cnf` (RFC 8747, claim key 8) holding a COSE_Key
//! (RFC 9052 section 7) in one of two shapes (docs/format.md, "Bound passes"):
//!
//! ```text
//! cnf = {1: COSE_Key}
//! COSE_Key = {1: 1 (OKP), -1: 6 (Ed25519), -2: bstr .size 32}            ; Ed25519
//!          / {1: 2 (EC2), -1: 1 (P-256),   -2: bstr .size 32, -3: bool}  ; P-256, compressed
//! ```
//!
//! The verification algorithm follows from `kty` and `crv` alone: EdDSA
//! (`verify_strict`) for Ed25519, ECDSA with SHA-256 for P-256. No `alg`,
//! `kid` or any other label is accepted, so nothing in the key can name
//! another algorithm. A key is checked once, when the claims are read: a
//! point that is not on its curve, a non-canonical encoding and a
//! small-order Ed25519 key never make a [`DeviceKey`].

use crate::cbor::{Encoder, Item};
use p256::ecdsa::signature::Verifier as _;
use std::fmt;
use thiserror::Error;

/// CWT claim key of the confirmation claim (RFC 8747, section 3.1).
pub const CLAIM_CNF: i64 = 8;
/// Member of `cnf` holding a COSE_Key (RFC 8747, section 3.2).
pub const CNF_COSE_KEY: i64 = 1;

const KEY_KTY: i64 = 1;
const KEY_CRV: i64 = -1;
const KEY_X: i64 = -2;
const KEY_Y: i64 = -3;
/// COSE key types (RFC 9053, section 7): Octet Key Pair and EC2.
pub const KTY_OKP: i64 = 1;
pub const KTY_EC2: i64 = 2;
/// COSE curves (RFC 9053, section 7.1).
pub const CRV_P256: i64 = 1;
pub const CRV_ED25519: i64 = 6;

/// Which signature a device key makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKeyType {
    /// EdDSA over Ed25519 (RFC 8032), checked with `verify_strict`.
    Ed25519,
    /// ECDSA over P-256 with SHA-256 (FIPS 186-5), as WebCrypto makes it.
    P256,
}

impl DeviceKeyType {
    pub fn name(self) -> &'static str {
        match self {
            DeviceKeyType::Ed25519 => "Ed25519",
            DeviceKeyType::P256 => "P-256",
        }
    }
}

impl fmt::Display for DeviceKeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A holder device's public key, checked: a point of its curve in its one
/// encoding, and for Ed25519 not of small order. Only the constructors and
/// the claims reader make one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceKey(Inner);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// Why a confirmation claim does not hold a device key sealpass accepts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeviceKeyError {
    #[error("the confirmation claim is malformed: {0}")]
    Malformed(&'static str),
    #[error("the device key has key type {0}; only OKP (1) and EC2 (2) are accepted")]
    UnknownKeyType(i64),
    #[error("the device key's curve {crv} is not accepted for key type {kty}")]
    UnknownCurve { kty: i64, crv: i64 },
    #[error("the P-256 device key is not a compressed point")]
    Uncompressed,
    #[error("the device key is not a point on its curve")]
    NotOnCurve,
    #[error("the Ed25519 device key is of small order: it would verify almost anything")]
    SmallOrder,
}

impl DeviceKeyError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceKeyError::Malformed(_) => "malformed_cnf",
            DeviceKeyError::UnknownKeyType(_) => "device_key_unknown_kty",
            DeviceKeyError::UnknownCurve { .. } => "device_key_unknown_curve",
            DeviceKeyError::Uncompressed => "device_key_uncompressed",
            DeviceKeyError::NotOnCurve => "device_key_not_on_curve",
            DeviceKeyError::SmallOrder => "device_key_small_order",
        }
    }
}

/// Why a device signature is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSignatureError {
    /// Not this key's signature over the message.
    Invalid,
    /// The high-`s` twin of this key's P-256 signature over the message.
    HighS,
}

impl DeviceKey {
    /// An Ed25519 key from its 32 bytes (RFC 8032, section 5.1.2).
    pub fn ed25519(bytes: &[u8; 32]) -> Result<DeviceKey, DeviceKeyError> {
        if !is_canonical_y(bytes) {
            return Err(DeviceKeyError::NotOnCurve);
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| DeviceKeyError::NotOnCurve)?;
        if key.is_weak() {
            return Err(DeviceKeyError::SmallOrder);
        }
        Ok(DeviceKey(Inner::Ed25519(key)))
    }

    /// A P-256 key from its SEC1 compressed point (33 bytes, `02` or `03`
    /// then x), as WebCrypto exports it after compression.
    pub fn p256_compressed(sec1: &[u8; 33]) -> Result<DeviceKey, DeviceKeyError> {
        if !matches!(sec1[0], 0x02 | 0x03) {
            return Err(DeviceKeyError::Uncompressed);
        }
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
            .map_err(|_| DeviceKeyError::NotOnCurve)?;
        Ok(DeviceKey(Inner::P256(key)))
    }

    /// A P-256 key from a SEC1 point, compressed (33 bytes) or not (65
    /// bytes, `04 || x || y`, WebCrypto's `raw` export). A pass carries it
    /// compressed whichever way it came.
    pub fn p256_sec1(sec1: &[u8]) -> Result<DeviceKey, DeviceKeyError> {
        match sec1 {
            [0x02 | 0x03, ..] => {
                let compressed: &[u8; 33] = sec1
                    .try_into()
                    .map_err(|_| DeviceKeyError::Malformed("a compressed point is 33 bytes"))?;
                DeviceKey::p256_compressed(compressed)
            }
            [0x04, ..] if sec1.len() == 65 => p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .map(|key| DeviceKey(Inner::P256(key)))
                .map_err(|_| DeviceKeyError::NotOnCurve),
            _ => Err(DeviceKeyError::Malformed("not a SEC1 point of P-256")),
        }
    }

    pub fn key_type(&self) -> DeviceKeyType {
        match self.0 {
            Inner::Ed25519(_) => DeviceKeyType::Ed25519,
            Inner::P256(_) => DeviceKeyType::P256,
        }
    }

    /// The key's bytes: 32 for Ed25519, the 33-byte SEC1 compressed point for P-256.
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Inner::Ed25519(key) => key.to_bytes().to_vec(),
            Inner::P256(key) => key.to_sec1_point(true).as_bytes().to_vec(),
        }
    }

    /// Check `signature` (64 bytes: Ed25519's `R || S`, or P-256's `r || s`
    /// over SHA-256 of `message`) against this key. Ed25519 goes through
    /// `verify_strict`. A P-256 signature must have `s` in the low half of
    /// the group order: its high-`s` twin, which plain ECDSA also accepts,
    /// is refused as such when it would verify, and as any other bad
    /// signature when it would not.
    pub fn check_signature(
        &self,
        message: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), DeviceSignatureError> {
        match &self.0 {
            Inner::Ed25519(key) => {
                let signature = ed25519_dalek::Signature::from_bytes(signature);
                key.verify_strict(message, &signature)
                    .map_err(|_| DeviceSignatureError::Invalid)
            }
            Inner::P256(key) => {
                let signature = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| DeviceSignatureError::Invalid)?;
                let verifies = key.verify(message, &signature).is_ok();
                match (verifies, signature.normalize_s() == signature) {
                    (true, true) => Ok(()),
                    (true, false) => Err(DeviceSignatureError::HighS),
                    (false, _) => Err(DeviceSignatureError::Invalid),
                }
            }
        }
    }

    /// The confirmation claim's value: `{1: COSE_Key}`.
    pub fn encode_cnf(&self, e: &mut Encoder) {
        e.map(1).int(CNF_COSE_KEY);
        match &self.0 {
            Inner::Ed25519(key) => {
                e.map(3)
                    .int(KEY_KTY)
                    .int(KTY_OKP)
                    .int(KEY_CRV)
                    .int(CRV_ED25519)
                    .int(KEY_X)
                    .bytes(key.as_bytes());
            }
            Inner::P256(key) => {
                let point = key.to_sec1_point(true);
                let sec1 = point.as_bytes();
                e.map(4)
                    .int(KEY_KTY)
                    .int(KTY_EC2)
                    .int(KEY_CRV)
                    .int(CRV_P256)
                    .int(KEY_X)
                    .bytes(&sec1[1..])
                    .int(KEY_Y)
                    .bool(sec1[0] == 0x03);
            }
        }
    }

    /// Read the confirmation claim's value.
    pub fn decode_cnf(item: Item<'_>) -> Result<DeviceKey, DeviceKeyError> {
        let Item::Map(members) = item else {
            return Err(DeviceKeyError::Malformed("cnf is not a map"));
        };
        let [(member, key)] = <[_; 1]>::try_from(members)
            .map_err(|_| DeviceKeyError::Malformed("cnf holds other than one member"))?;
        if member.as_i64() != Some(CNF_COSE_KEY) {
            return Err(DeviceKeyError::Malformed(
                "cnf holds no COSE_Key (member 1)",
            ));
        }
        decode_cose_key(key)
    }
}

/// Whether an Ed25519 point encoding's `y` (the low 255 bits, little-endian)
/// is below `p = 2^255 - 19`: the decoder reduces a larger `y` modulo `p`,
/// so without this one key would have two encodings. (The other
/// non-canonical encodings, `x = 0` with the sign bit set, are points of
/// small order, refused anyway.)
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let top_bits_set = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff);
    !(top_bits_set && bytes[0] >= 0xed)
}

/// A COSE_Key's parameters, each label at most once (the CBOR reader has
/// refused repeated keys).
struct KeyParams<'a> {
    kty: Option<i64>,
    crv: Option<i64>,
    x: Option<&'a [u8]>,
    y: Option<Item<'a>>,
}

fn decode_cose_key(item: Item<'_>) -> Result<DeviceKey, DeviceKeyError> {
    let Item::Map(entries) = item else {
        return Err(DeviceKeyError::Malformed("the COSE_Key is not a map"));
    };
    let mut params = KeyParams {
        kty: None,
        crv: None,
        x: None,
        y: None,
    };
    let int = |value: &Item<'_>, what| value.as_i64().ok_or(DeviceKeyError::Malformed(what));
    for (label, value) in entries {
        match label.as_i64() {
            Some(KEY_KTY) => params.kty = Some(int(&value, "kty is not an integer")?),
            Some(KEY_CRV) => params.crv = Some(int(&value, "crv is not an integer")?),
            Some(KEY_X) => match value {
                Item::Bytes(x) => params.x = Some(x),
                _ => return Err(DeviceKeyError::Malformed("x is not a byte string")),
            },
            Some(KEY_Y) => params.y = Some(value),
            _ => {
                return Err(DeviceKeyError::Malformed(
                    "the COSE_Key has a label other than kty, crv, x and y",
                ));
            }
        }
    }
    let kty = params
        .kty
        .ok_or(DeviceKeyError::Malformed("the COSE_Key has no kty"))?;
    if kty != KTY_OKP && kty != KTY_EC2 {
        return Err(DeviceKeyError::UnknownKeyType(kty));
    }
    let crv = params
        .crv
        .ok_or(DeviceKeyError::Malformed("the COSE_Key has no crv"))?;
    let x = params
        .x
        .ok_or(DeviceKeyError::Malformed("the COSE_Key has no x"))?;
    let x: &[u8; 32] = x
        .try_into()
        .map_err(|_| DeviceKeyError::Malformed("x is not 32 bytes"))?;
    match (kty, crv, params.y) {
        (KTY_OKP, CRV_ED25519, None) => DeviceKey::ed25519(x),
        (KTY_OKP, CRV_ED25519, Some(_)) => Err(DeviceKeyError::Malformed("an OKP key has no y")),
        (KTY_EC2, CRV_P256, Some(Item::Bool(odd))) => {
            let mut sec1 = [0; 33];
            sec1[0] = if odd { 0x03 } else { 0x02 };
            sec1[1..].copy_from_slice(x);
            DeviceKey::p256_compressed(&sec1)
        }
        (KTY_EC2, CRV_P256, Some(Item::Bytes(_))) => Err(DeviceKeyError::Uncompressed),
        (KTY_EC2, CRV_P256, _) => Err(DeviceKeyError::Malformed(
            "y is not the sign bit of a compressed point",
        )),
        (kty, crv, _) => Err(DeviceKeyError::UnknownCurve { kty, crv }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor;

    fn cnf(build: impl FnOnce(&mut Encoder)) -> Result<DeviceKey, DeviceKeyError> {
        let mut e = Encoder::default();
        build(&mut e);
        let bytes = e.into_bytes();
        DeviceKey::decode_cnf(cbor::decode(&bytes, 4).unwrap())
    }

    fn round_trip(key: &DeviceKey) -> DeviceKey {
        cnf(|e| key.encode_cnf(e)).unwrap()
    }

    #[test]
    fn both_key_types_round_trip_through_the_claim() {
        let ed = crate::testkit::device_key("phone")
            .verifying_key()
            .to_bytes();
        let ed = DeviceKey::ed25519(&ed).unwrap();
        assert_eq!(round_trip(&ed), ed);
        assert_eq!(ed.key_type(), DeviceKeyType::Ed25519);
        for label in ["phone a", "phone b", "phone c", "phone d"] {
            let p = crate::testkit::p256_device_key(label);
            let sec1: [u8; 33] = p
                .verifying_key()
                .to_sec1_point(true)
                .as_bytes()
                .try_into()
                .unwrap();
            let key = DeviceKey::p256_compressed(&sec1).unwrap();
            assert_eq!(round_trip(&key), key);
            assert_eq!(key.to_bytes(), sec1);
            let raw = p.verifying_key().to_sec1_point(false);
            assert_eq!(DeviceKey::p256_sec1(raw.as_bytes()), Ok(key));
            assert_eq!(DeviceKey::p256_sec1(&sec1), Ok(key));
            assert_eq!(
                DeviceKey::p256_sec1(&raw.as_bytes()[..64])
                    .unwrap_err()
                    .code(),
                "malformed_cnf"
            );
        }
    }

    fn not_a_p256_x() -> [u8; 32] {
        (1..=255u8)
            .map(|x| [x; 32])
            .find(|x| {
                let mut sec1 = [0x02; 33];
                sec1[1..].copy_from_slice(x);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_err()
            })
            .unwrap()
    }

    #[test]
    fn refuses_keys_that_are_not_points_of_large_order() {
        // The identity point (0, 1): small order.
        let mut identity = [0; 32];
        identity[0] = 1;
        assert_eq!(
            DeviceKey::ed25519(&identity),
            Err(DeviceKeyError::SmallOrder)
        );
        // About half of all 32-byte strings are no point of edwards25519,
        // and about half of all x no x of P-256.
        let off_ed25519 = (2..=255u8)
            .map(|y| [y; 32])
            .find(|bytes| ed25519_dalek::VerifyingKey::from_bytes(bytes).is_err())
            .unwrap();
        assert_eq!(
            DeviceKey::ed25519(&off_ed25519),
            Err(DeviceKeyError::NotOnCurve)
        );
        // y + p, for a small y of a point of large order: the decoder would
        // take it as y, so it is refused as another encoding of that key.
        let (y, _) = (2..19u8)
            .map(|y| {
                let mut bytes = [0; 32];
                bytes[0] = y;
                (y, DeviceKey::ed25519(&bytes))
            })
            .find(|(_, key)| key.is_ok())
            .unwrap();
        let mut y_plus_p = [0xff; 32];
        y_plus_p[0] = 0xed + y;
        y_plus_p[31] = 0x7f;
        assert!(ed25519_dalek::VerifyingKey::from_bytes(&y_plus_p).is_ok());
        assert_eq!(
            DeviceKey::ed25519(&y_plus_p),
            Err(DeviceKeyError::NotOnCurve)
        );
        let mut sec1 = [0x02; 33];
        sec1[1..].copy_from_slice(&not_a_p256_x());
        assert_eq!(
            DeviceKey::p256_compressed(&sec1),
            Err(DeviceKeyError::NotOnCurve)
        );
        sec1[0] = 0x04;
        assert_eq!(
            DeviceKey::p256_compressed(&sec1),
            Err(DeviceKeyError::Uncompressed)
        );
    }

    #[test]
    fn the_algorithm_comes_from_kty_and_crv_and_nothing_else() {
        let x = crate::testkit::device_key("phone")
            .verifying_key()
            .to_bytes();
        let okp = |e: &mut Encoder, extra: Option<(i64, i64)>| {
            e.map(1).int(CNF_COSE_KEY);
            e.map(3 + usize::from(extra.is_some()))
                .int(KEY_KTY)
                .int(KTY_OKP);
            if let Some((label, value)) = extra {
                e.int(label).int(value);
            }
            e.int(KEY_CRV).int(CRV_ED25519).int(KEY_X).bytes(&x);
        };
        assert!(cnf(|e| okp(e, None)).is_ok());
        // An `alg` (3) in the key is refused, whatever it names.
        assert_eq!(
            cnf(|e| okp(e, Some((3, -19)))).unwrap_err().code(),
            "malformed_cnf"
        );
        let key = |kty: i64, crv: i64| {
            cnf(|e| {
                e.map(1).int(CNF_COSE_KEY);
                e.map(3)
                    .int(KEY_KTY)
                    .int(kty)
                    .int(KEY_CRV)
                    .int(crv)
                    .int(KEY_X)
                    .bytes(&x);
            })
        };
        assert_eq!(key(3, 6), Err(DeviceKeyError::UnknownKeyType(3)));
        assert_eq!(
            key(KTY_OKP, 7),
            Err(DeviceKeyError::UnknownCurve { kty: 1, crv: 7 })
        );
        assert_eq!(
            key(KTY_EC2, 2),
            Err(DeviceKeyError::UnknownCurve { kty: 2, crv: 2 })
        );
        // EC2 P-256 without its sign bit.
        assert_eq!(key(KTY_EC2, CRV_P256).unwrap_err().code(), "malformed_cnf");
        assert_eq!(
            cnf(|e| {
                e.map(0);
            })
            .unwrap_err()
            .code(),
            "malformed_cnf"
        );
    }
}
