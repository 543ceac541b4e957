//! A trust list in its COSE_Sign envelope: one payload, one signature per
//! root custodian, and the one function that counts them.

use super::list::{RootSet, TrustList, TrustListError};
use crate::cose::{self, AAD_TRUST_LIST, CoseError};
use crate::ed25519::verify_ed25519;
use crate::signer::{ALG_ED25519, Kid, Signer, SignerError};
use thiserror::Error;

/// Largest trust list accepted, in bytes.
pub const MAX_TRUST_LIST_LEN: usize = 1 << 20;

/// A trust list with its signatures, parsed but not yet trusted. Custodians
/// pass this around as the draft file: each adds a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTrustList {
    payload: Vec<u8>,
    list: TrustList,
    signatures: Vec<RootSignature>,
}

/// One custodian's signature over the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootSignature {
    pub kid: Kid,
    pub alg: i64,
    protected: Vec<u8>,
    signature: [u8; 64],
}

/// Why bytes are not a signed trust list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("the trust list is {len} bytes; at most {max} are accepted")]
    TooLarge { len: usize, max: usize },
    #[error("the trust list envelope is damaged: {0}")]
    Cose(#[from] CoseError),
    #[error("the trust list content is invalid: {0}")]
    Content(#[from] TrustListError),
}

/// What became of each signature when counted against a root set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// A valid signature by this root (index into the root set).
    Valid(usize),
    /// A second signature by a root already counted.
    Duplicate(usize),
    /// The signature names a key outside the root set.
    NotARoot(Kid),
    /// The signature is by a root but does not verify.
    Invalid(usize),
    /// The header names another algorithm than the roots' Ed25519.
    WrongAlgorithm(Kid),
}

/// The outcome of counting a list's signatures against one root set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureTally {
    pub threshold: u32,
    /// One entry per signature, in the order they appear.
    pub signatures: Vec<Counted>,
}

impl SignatureTally {
    /// Distinct roots with a valid signature.
    pub fn distinct_valid(&self) -> u32 {
        self.signatures
            .iter()
            .filter(|c| matches!(c, Counted::Valid(_)))
            .count() as u32
    }

    pub fn meets_threshold(&self) -> bool {
        self.distinct_valid() >= self.threshold
    }
}

impl SignedTrustList {
    /// An unsigned draft of `list`.
    pub fn draft(list: TrustList) -> SignedTrustList {
        SignedTrustList {
            payload: list.to_cbor(),
            list,
            signatures: Vec::new(),
        }
    }

    /// Parse an envelope and its content (rules T1 and T2 of docs/trust.md);
    /// no signature is checked here.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTrustList, EnvelopeError> {
        if bytes.len() > MAX_TRUST_LIST_LEN {
            return Err(EnvelopeError::TooLarge {
                len: bytes.len(),
                max: MAX_TRUST_LIST_LEN,
            });
        }
        let sign = cose::parse_sign(bytes)?;
        // T1: signatures are counted over an empty body header, so no other
        // body header may stand in the bytes that are stored and served.
        if !sign.body_protected.is_empty() {
            return Err(
                CoseError::Malformed("a trust list's body protected header must be empty").into(),
            );
        }
        let list = TrustList::from_cbor(sign.payload)?;
        let signatures = sign
            .signatures
            .iter()
            .map(|s| RootSignature {
                kid: s.protected.kid,
                alg: s.protected.alg,
                protected: s.protected.bytes.to_vec(),
                signature: s.signature,
            })
            .collect();
        Ok(SignedTrustList {
            payload: sign.payload.to_vec(),
            list,
            signatures,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let signatures: Vec<_> = self
            .signatures
            .iter()
            .map(|s| (s.protected.clone(), s.signature))
            .collect();
        cose::encode_sign(&self.payload, &signatures)
    }

    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The exact payload bytes the custodians sign.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn signatures(&self) -> &[RootSignature] {
        &self.signatures
    }

    /// Add a custodian's signature over the payload.
    pub fn add_signature(&mut self, signer: &dyn Signer) -> Result<(), SignerError> {
        let protected = cose::encode_protected(ALG_ED25519, signer.kid());
        let message = cose::sig_structure(&[], &protected, AAD_TRUST_LIST, &self.payload);
        let signature = signer.sign(&message)?;
        self.signatures.push(RootSignature {
            kid: signer.kid(),
            alg: ALG_ED25519,
            protected,
            signature,
        });
        Ok(())
    }

    /// Count the distinct roots of `roots` that validly signed this list.
    ///
    /// The one threshold-counting function of sealpass: a root is counted
    /// once however often it signed, a signature by a key outside the set
    /// counts for nothing, and every signature is checked with
    /// `verify_strict` over the payload as received.
    pub fn count_root_signatures(&self, roots: &RootSet) -> SignatureTally {
        let mut counted_roots = vec![false; roots.keys.len()];
        let signatures = self
            .signatures
            .iter()
            .map(|sig| {
                let Some(index) = roots.position(sig.kid) else {
                    return Counted::NotARoot(sig.kid);
                };
                if sig.alg != ALG_ED25519 {
                    return Counted::WrongAlgorithm(sig.kid);
                }
                if counted_roots[index] {
                    return Counted::Duplicate(index);
                }
                let message =
                    cose::sig_structure(&[], &sig.protected, AAD_TRUST_LIST, &self.payload);
                if !verify_ed25519(&roots.keys[index].public_key, &message, &sig.signature) {
                    return Counted::Invalid(index);
                }
                counted_roots[index] = true;
                Counted::Valid(index)
            })
            .collect();
        SignatureTally {
            threshold: roots.threshold,
            signatures,
        }
    }
}
