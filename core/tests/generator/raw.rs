//! COSE structures assembled field by field, so that a vector can break
//! exactly one thing while every signature over it stays valid.

use ed25519_dalek::SigningKey;
use sealpass_core::cbor::Encoder;
use sealpass_core::cose::{self, AAD_PASS, AAD_TRUST_LIST, TAG_COSE_SIGN1};
use sealpass_core::{ALG_ED25519, Signer, text};

/// CBOR written by hand: `cbor(|e| { e.map(1).int(4).bytes(b"kid"); })`.
pub fn cbor(build: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::default();
    build(&mut e);
    e.into_bytes()
}

/// An Ed25519 signature by `key`, through the same trait the issuer signs with.
pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    Signer::sign(key, message).expect("in-memory keys sign")
}

/// A COSE_Sign1, every part of it replaceable.
#[derive(Clone)]
pub struct RawSign1 {
    /// `None` writes the array untagged.
    pub tag: Option<u64>,
    /// Write the array with an indefinite length (0x9f ... 0xff).
    pub indefinite: bool,
    pub protected: Vec<u8>,
    /// Raw CBOR of the unprotected header.
    pub unprotected: Vec<u8>,
    /// Raw CBOR of the payload item (normally a byte string).
    pub payload_item: Vec<u8>,
    pub signature: Vec<u8>,
    /// Bytes appended after the structure.
    pub trailing: Vec<u8>,
}

impl RawSign1 {
    /// `payload` under the header sealpass writes, signed by `key` for a pass.
    pub fn pass(payload: &[u8], key: &SigningKey) -> RawSign1 {
        RawSign1::signed(payload, key, AAD_PASS)
    }

    /// `payload` under the header sealpass writes, signed by `key` with `aad`.
    pub fn signed(payload: &[u8], key: &SigningKey, aad: &[u8]) -> RawSign1 {
        let protected = cose::encode_protected(ALG_ED25519, key.kid());
        let signature = sign(key, &cose::sig_structure1(&protected, aad, payload)).to_vec();
        RawSign1 {
            tag: Some(TAG_COSE_SIGN1),
            indefinite: false,
            protected,
            unprotected: cbor(|e| {
                e.map(0);
            }),
            payload_item: cbor(|e| {
                e.bytes(payload);
            }),
            signature,
            trailing: Vec::new(),
        }
    }

    /// `payload` under a hand-made protected header, validly signed by `key` for a pass.
    pub fn pass_with_header(payload: &[u8], protected: Vec<u8>, key: &SigningKey) -> RawSign1 {
        let signature = sign(key, &cose::sig_structure1(&protected, AAD_PASS, payload)).to_vec();
        RawSign1 {
            protected,
            signature,
            ..RawSign1::pass(payload, key)
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        if let Some(tag) = self.tag {
            e.tag(tag);
        }
        if self.indefinite {
            e.raw(&[0x9f]);
        } else {
            e.array(4);
        }
        e.bytes(&self.protected)
            .raw(&self.unprotected)
            .raw(&self.payload_item)
            .bytes(&self.signature);
        if self.indefinite {
            e.raw(&[0xff]);
        }
        e.raw(&self.trailing);
        e.into_bytes()
    }

    /// The `SP1:` text of the structure.
    pub fn text(&self) -> String {
        text::encode(&self.to_bytes())
    }
}

/// One custodian's trust-list signature: `(protected header, signature)`,
/// as `cose::encode_sign` takes them.
pub type RootSignature = (Vec<u8>, [u8; 64]);

/// The signature `key` makes over a trust-list payload under a header naming `alg`.
pub fn root_signature(payload: &[u8], key: &SigningKey, alg: i64) -> RootSignature {
    let protected = cose::encode_protected(alg, key.kid());
    let signature = sign(
        key,
        &cose::sig_structure(&[], &protected, AAD_TRUST_LIST, payload),
    );
    (protected, signature)
}

/// A trust-list payload signed by each of `keys`, in order.
pub fn signed_list(payload: &[u8], keys: &[SigningKey]) -> Vec<u8> {
    let signatures: Vec<_> = keys
        .iter()
        .map(|key| root_signature(payload, key, ALG_ED25519))
        .collect();
    cose::encode_sign(payload, &signatures)
}

/// A trust-list payload signed by each of `keys` under a non-empty body
/// protected header `body`, each signature covering it as COSE says.
pub fn signed_list_with_body_header(payload: &[u8], keys: &[SigningKey], body: &[u8]) -> Vec<u8> {
    cbor(|e| {
        e.tag(cose::TAG_COSE_SIGN)
            .array(4)
            .bytes(body)
            .map(0)
            .bytes(payload)
            .array(keys.len());
        for key in keys {
            let protected = cose::encode_protected(ALG_ED25519, key.kid());
            let signature = sign(
                key,
                &cose::sig_structure(body, &protected, AAD_TRUST_LIST, payload),
            );
            e.array(3).bytes(&protected).map(0).bytes(&signature);
        }
    })
}

/// `S + L`: the same signature to a verifier that does not insist on a
/// canonical scalar (RFC 8032, section 5.1.7).
pub fn malleate(signature: &[u8; 64]) -> [u8; 64] {
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = *signature;
    let mut carry = 0u16;
    for (byte, l) in out[32..].iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    out
}
