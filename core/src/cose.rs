//! COSE_Sign1 and COSE_Sign (RFC 9052) as sealpass writes and reads them.
//!
//! Only the protected header is read: `alg` (1) and `kid` (4) must be there;
//! any `crit` (2) is refused because sealpass v1 understands no critical
//! extension; other protected labels are covered by the signature and
//! otherwise ignored. The unprotected header must be a map and is ignored
//! whole. Signatures are checked over the bytes as received.
//!
//! Every signed document type has its own external AAD, so that a signature
//! made for one type (a status list, say) never verifies as another (a pass).

use crate::cbor::{self, CborError, Encoder, Item};
use crate::signer::{Kid, Signer, SignerError};
use thiserror::Error;

pub const TAG_COSE_SIGN: u64 = 98;
pub const TAG_COSE_SIGN1: u64 = 18;

/// External AAD of a pass signature.
pub const AAD_PASS: &[u8] = b"sealpass pass v1";
/// External AAD of a status-list signature.
pub const AAD_STATUS_LIST: &[u8] = b"sealpass status list v1";
/// External AAD of a trust-list root signature.
pub const AAD_TRUST_LIST: &[u8] = b"sealpass trust list v1";

const HEADER_ALG: i64 = 1;
const HEADER_CRIT: i64 = 2;
const HEADER_KID: i64 = 4;

/// Deepest nesting in any COSE structure sealpass reads.
pub const MAX_COSE_DEPTH: usize = 8;

/// Why bytes are not a COSE structure sealpass accepts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CoseError {
    #[error("not valid CBOR: {0}")]
    Cbor(#[from] CborError),
    #[error("expected a COSE structure with tag {expected}, found {found}")]
    WrongTag { expected: u64, found: String },
    #[error("malformed COSE structure: {0}")]
    Malformed(&'static str),
    #[error("the protected header has no algorithm")]
    MissingAlgorithm,
    #[error("the protected header has no key id")]
    MissingKid,
    #[error("the key id is {0} bytes long, not 8")]
    KidLength(usize),
    #[error("the protected header marks headers critical that sealpass does not understand")]
    UnknownCriticalHeader,
    #[error("the signature is {0} bytes long, not 64")]
    SignatureLength(usize),
}

impl CoseError {
    /// A stable, machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            CoseError::Cbor(e) => e.code(),
            CoseError::WrongTag { .. } => "wrong_cose_tag",
            CoseError::Malformed(_) => "malformed_cose",
            CoseError::MissingAlgorithm => "missing_algorithm",
            CoseError::MissingKid => "missing_kid",
            CoseError::KidLength(_) => "bad_kid_length",
            CoseError::UnknownCriticalHeader => "unknown_critical_header",
            CoseError::SignatureLength(_) => "bad_signature_length",
        }
    }
}

/// The protected header: its bytes as received and the two fields used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtectedHeader<'a> {
    pub bytes: &'a [u8],
    pub alg: i64,
    pub kid: Kid,
}

/// A parsed COSE_Sign1, borrowing from the received bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1<'a> {
    pub protected: ProtectedHeader<'a>,
    pub payload: &'a [u8],
    pub signature: [u8; 64],
}

/// One signature of a COSE_Sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSignature<'a> {
    pub protected: ProtectedHeader<'a>,
    pub signature: [u8; 64],
}

/// A parsed COSE_Sign (one payload, many signers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign<'a> {
    pub body_protected: &'a [u8],
    pub payload: &'a [u8],
    pub signatures: Vec<CoseSignature<'a>>,
}

fn untag(item: Item<'_>, expected: u64) -> Result<Vec<Item<'_>>, CoseError> {
    let found = match item {
        Item::Tag(tag, inner) if tag == expected => match *inner {
            Item::Array(items) => return Ok(items),
            _ => return Err(CoseError::Malformed("the tagged item is not an array")),
        },
        Item::Tag(tag, _) => format!("tag {tag}"),
        other => format!("an untagged {}", other.kind()),
    };
    Err(CoseError::WrongTag { expected, found })
}

fn bytes<'a>(item: &Item<'a>, what: &'static str) -> Result<&'a [u8], CoseError> {
    match item {
        Item::Bytes(bytes) => Ok(bytes),
        _ => Err(CoseError::Malformed(what)),
    }
}

fn signature(item: &Item<'_>) -> Result<[u8; 64], CoseError> {
    let raw = bytes(item, "the signature is not a byte string")?;
    raw.try_into()
        .map_err(|_| CoseError::SignatureLength(raw.len()))
}

fn check_unprotected(item: &Item<'_>) -> Result<(), CoseError> {
    match item {
        Item::Map(_) => Ok(()),
        _ => Err(CoseError::Malformed("the unprotected header is not a map")),
    }
}

/// Parse a protected header that must name an algorithm and a key.
pub fn parse_protected(bytes: &[u8]) -> Result<ProtectedHeader<'_>, CoseError> {
    if bytes.is_empty() {
        return Err(CoseError::MissingAlgorithm);
    }
    let Item::Map(entries) = cbor::decode(bytes, 4)? else {
        return Err(CoseError::Malformed("the protected header is not a map"));
    };
    let (mut alg, mut kid) = (None, None);
    for (label, value) in &entries {
        match label.as_i64() {
            Some(HEADER_ALG) => {
                alg = Some(
                    value
                        .as_i64()
                        .ok_or(CoseError::Malformed("the algorithm is not an integer"))?,
                )
            }
            Some(HEADER_CRIT) => return Err(CoseError::UnknownCriticalHeader),
            Some(HEADER_KID) => {
                let raw = match value {
                    Item::Bytes(raw) => *raw,
                    _ => return Err(CoseError::Malformed("the key id is not a byte string")),
                };
                kid = Some(Kid(raw
                    .try_into()
                    .map_err(|_| CoseError::KidLength(raw.len()))?));
            }
            _ => {}
        }
    }
    Ok(ProtectedHeader {
        bytes,
        alg: alg.ok_or(CoseError::MissingAlgorithm)?,
        kid: kid.ok_or(CoseError::MissingKid)?,
    })
}

/// Parse a tagged COSE_Sign1 with an attached payload.
pub fn parse_sign1(input: &[u8]) -> Result<Sign1<'_>, CoseError> {
    let items = untag(cbor::decode(input, MAX_COSE_DEPTH)?, TAG_COSE_SIGN1)?;
    let [protected, unprotected, payload, sig] = items.as_slice() else {
        return Err(CoseError::Malformed("COSE_Sign1 is not an array of four"));
    };
    check_unprotected(unprotected)?;
    Ok(Sign1 {
        protected: parse_protected(bytes(
            protected,
            "the protected header is not a byte string",
        )?)?,
        payload: bytes(payload, "the payload is not a byte string")?,
        signature: signature(sig)?,
    })
}

/// Parse a tagged COSE_Sign with an attached payload and any number of signatures.
pub fn parse_sign(input: &[u8]) -> Result<Sign<'_>, CoseError> {
    let items = untag(cbor::decode(input, MAX_COSE_DEPTH)?, TAG_COSE_SIGN)?;
    let [
        body_protected,
        unprotected,
        payload,
        Item::Array(signatures),
    ] = items.as_slice()
    else {
        return Err(CoseError::Malformed(
            "COSE_Sign is not an array of four ending in signatures",
        ));
    };
    check_unprotected(unprotected)?;
    let signatures = signatures
        .iter()
        .map(|entry| {
            let Item::Array(parts) = entry else {
                return Err(CoseError::Malformed("a COSE_Signature is not an array"));
            };
            let [protected, unprotected, sig] = parts.as_slice() else {
                return Err(CoseError::Malformed(
                    "a COSE_Signature is not an array of three",
                ));
            };
            check_unprotected(unprotected)?;
            Ok(CoseSignature {
                protected: parse_protected(bytes(
                    protected,
                    "a signature header is not a byte string",
                )?)?,
                signature: signature(sig)?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Sign {
        body_protected: bytes(body_protected, "the protected header is not a byte string")?,
        payload: bytes(payload, "the payload is not a byte string")?,
        signatures,
    })
}

/// The protected header sealpass writes: `{1: alg, 4: kid}`.
pub fn encode_protected(alg: i64, kid: Kid) -> Vec<u8> {
    let mut e = Encoder::with_capacity(16);
    e.map(2)
        .int(HEADER_ALG)
        .int(alg)
        .int(HEADER_KID)
        .bytes(&kid.0);
    e.into_bytes()
}

/// `Sig_structure` for COSE_Sign1: `["Signature1", protected, aad, payload]`.
pub fn sig_structure1(protected: &[u8], aad: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut e = Encoder::with_capacity(32 + protected.len() + aad.len() + payload.len());
    e.array(4)
        .text("Signature1")
        .bytes(protected)
        .bytes(aad)
        .bytes(payload);
    e.into_bytes()
}

/// `Sig_structure` for COSE_Sign: `["Signature", body, signer, aad, payload]`.
pub fn sig_structure(body: &[u8], signer: &[u8], aad: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut e = Encoder::with_capacity(32 + body.len() + signer.len() + aad.len() + payload.len());
    e.array(5)
        .text("Signature")
        .bytes(body)
        .bytes(signer)
        .bytes(aad)
        .bytes(payload);
    e.into_bytes()
}

/// Sign `payload` into a tagged COSE_Sign1 with an Ed25519 key.
pub fn sign1(payload: &[u8], aad: &[u8], signer: &dyn Signer) -> Result<Vec<u8>, SignerError> {
    let protected = encode_protected(crate::signer::ALG_ED25519, signer.kid());
    let signature = signer.sign(&sig_structure1(&protected, aad, payload))?;
    Ok(encode_sign1(&protected, payload, &signature))
}

/// Assemble a tagged COSE_Sign1 with an empty unprotected header.
pub fn encode_sign1(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut e = Encoder::with_capacity(16 + protected.len() + payload.len() + signature.len());
    e.tag(TAG_COSE_SIGN1)
        .array(4)
        .bytes(protected)
        .map(0)
        .bytes(payload)
        .bytes(signature);
    e.into_bytes()
}

/// Assemble a tagged COSE_Sign with an empty body header.
pub fn encode_sign(payload: &[u8], signatures: &[(Vec<u8>, [u8; 64])]) -> Vec<u8> {
    let mut e = Encoder::with_capacity(16 + payload.len() + 96 * signatures.len());
    e.tag(TAG_COSE_SIGN)
        .array(4)
        .bytes(&[])
        .map(0)
        .bytes(payload)
        .array(signatures.len());
    for (protected, signature) in signatures {
        e.array(3).bytes(protected).map(0).bytes(signature);
    }
    e.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{CborSerializable, TaggedCborSerializable};

    fn key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
    }

    #[test]
    fn sign1_interoperates_with_coset() {
        let bytes = sign1(b"payload", AAD_PASS, &key()).unwrap();
        let parsed = coset::CoseSign1::from_tagged_slice(&bytes).unwrap();
        assert_eq!(
            parsed.protected.header.alg,
            Some(coset::Algorithm::Assigned(coset::iana::Algorithm::Ed25519))
        );
        assert_eq!(parsed.protected.header.key_id, key().kid().0.to_vec());
        assert_eq!(
            parsed.tbs_data(AAD_PASS),
            sig_structure1(
                parsed.protected.original_data.as_ref().unwrap(),
                AAD_PASS,
                b"payload"
            )
        );
        assert_eq!(parsed.to_tagged_vec().unwrap(), bytes);
        let ours = parse_sign1(&bytes).unwrap();
        assert_eq!(ours.payload, b"payload");
        assert_eq!(ours.protected.kid, key().kid());
    }

    #[test]
    fn sign_interoperates_with_coset() {
        let protected = encode_protected(crate::signer::ALG_ED25519, key().kid());
        let bytes = encode_sign(b"list", &[(protected.clone(), [9; 64])]);
        let parsed = coset::CoseSign::from_tagged_slice(&bytes).unwrap();
        assert_eq!(
            parsed.tbs_data(AAD_TRUST_LIST, &parsed.signatures[0]),
            sig_structure(&[], &protected, AAD_TRUST_LIST, b"list")
        );
        assert_eq!(parsed.to_tagged_vec().unwrap(), bytes);
        assert_eq!(parse_sign(&bytes).unwrap().signatures.len(), 1);
        let _ = coset::CoseSignature::from_slice(&[0x83, 0x40, 0xa0, 0x40]).unwrap();
    }

    #[test]
    fn header_rules() {
        let mut e = Encoder::default();
        e.map(1).int(HEADER_KID).bytes(&[0; 8]);
        assert_eq!(
            parse_protected(&e.into_bytes()),
            Err(CoseError::MissingAlgorithm)
        );
        let mut e = Encoder::default();
        e.map(3)
            .int(HEADER_ALG)
            .int(-19)
            .int(HEADER_CRIT)
            .array(1)
            .int(99)
            .int(HEADER_KID)
            .bytes(&[0; 8]);
        assert_eq!(
            parse_protected(&e.into_bytes()),
            Err(CoseError::UnknownCriticalHeader)
        );
        let mut e = Encoder::default();
        e.map(2)
            .int(HEADER_ALG)
            .int(-19)
            .int(HEADER_KID)
            .bytes(&[0; 4]);
        assert_eq!(
            parse_protected(&e.into_bytes()),
            Err(CoseError::KidLength(4))
        );
    }
}
