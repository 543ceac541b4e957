//! The trust-list document: which roots govern the list and which issuer keys
//! a verifier accepts. Field registry in docs/trust.md, "Document".

use crate::cbor::{self, Encoder, FieldError, Fields, Item};
use crate::signer::{ALG_ED25519, Kid};
use crate::time::{Seconds, Timestamp};
use std::collections::HashSet;
use thiserror::Error;

/// The version this code writes: 2, which bounds each issuer key's passes
/// by a maximum lifetime (issuer-key field 8).
pub const FORMAT_VERSION: u64 = 2;
/// The first version, still read: its keys carry no pass lifetime, and
/// [`LEGACY_MAX_PASS_LIFETIME`] applies to them.
pub const FORMAT_VERSION_1: u64 = 1;
/// The longest a pass may live (`exp - iat`) under a key from a version 1
/// list, which names no lifetime of its own (docs/trust.md, "Pass lifetime").
pub const LEGACY_MAX_PASS_LIFETIME: Seconds = Seconds::days(7);

/// The signed content of a trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    /// Strictly increasing from one list to the next.
    pub sequence: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub roots: RootSet,
    pub issuer_keys: Vec<IssuerKey>,
}

/// The custodians' keys, any `threshold` of which sign a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootSet {
    pub threshold: u32,
    pub keys: Vec<RootKey>,
}

/// One custodian's Ed25519 root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootKey {
    /// Who holds it, as written on the public key card.
    pub custodian: String,
    pub public_key: [u8; 32],
}

impl RootKey {
    pub fn kid(&self) -> Kid {
        Kid::of(&self.public_key)
    }
}

/// An issuer's signing key and what it may sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The issuer id passes carry in `iss`, e.g. `CN-610100`.
    pub issuer: String,
    /// The COSE algorithm this key is bound to; v1 knows only Ed25519 (-19).
    pub alg: i64,
    pub public_key: [u8; 32],
    /// Passes and status lists must be signed (`iat`) within this window.
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub status: KeyStatus,
    /// Where this issuer publishes its signed status list.
    pub status_list_url: Option<String>,
    /// The longest a pass or status list signed by this key may be valid
    /// (`exp - iat`); also how far past `not_after` anything it signed may
    /// reach. Required from format version 2; `None` only in a version 1
    /// list, where [`LEGACY_MAX_PASS_LIFETIME`] applies.
    pub max_pass_lifetime: Option<Seconds>,
}

impl IssuerKey {
    pub fn kid(&self) -> Kid {
        Kid::of(&self.public_key)
    }

    /// The lifetime bound that applies to what this key signs.
    pub fn pass_lifetime_limit(&self) -> Seconds {
        self.max_pass_lifetime.unwrap_or(LEGACY_MAX_PASS_LIFETIME)
    }
}

/// An issuer key's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs passes now.
    Active = 0,
    /// No longer signs; what it signed inside its window stays valid.
    Retired = 1,
    /// Compromised: nothing it ever signed is accepted.
    Revoked = 2,
}

impl KeyStatus {
    pub fn name(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

/// Why bytes are not a well-formed, self-consistent trust list or root set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TrustListError {
    #[error("not valid CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
    #[error("{0}")]
    Field(#[from] FieldError),
    #[error("format version {0} is not supported (this verifier reads versions 1 and 2)")]
    UnsupportedVersion(u64),
    #[error("issuer key {0} names no maximum pass lifetime, which format version 2 requires")]
    MissingPassLifetime(Kid),
    #[error("issuer key {0} names a maximum pass lifetime, which format version 1 does not have")]
    PassLifetimeInVersion1(Kid),
    #[error("issuer key {0} has a maximum pass lifetime of zero")]
    ZeroPassLifetime(Kid),
    #[error("key {0} is both a root key and an issuer key: a custodian's key never signs passes")]
    RootKeyAsIssuerKey(Kid),
    #[error("key algorithm {0} is not supported (v1 keys are Ed25519, -19)")]
    UnsupportedAlgorithm(i64),
    #[error("public key {0} is not a usable Ed25519 key")]
    BadPublicKey(Kid),
    #[error("threshold {threshold} is impossible with {roots} root keys")]
    BadThreshold { threshold: u32, roots: usize },
    #[error("root key {0} appears twice")]
    DuplicateRoot(Kid),
    #[error("issuer key {0} appears twice")]
    DuplicateIssuerKey(Kid),
    #[error("issuer key {0} ends its validity before it starts")]
    InvertedKeyWindow(Kid),
    #[error("the list expires before it was issued")]
    InvertedListWindow,
    #[error("unknown key status {0}")]
    UnknownKeyStatus(u64),
}

const DEPTH: usize = 6;

impl TrustList {
    /// The format version this list is written in: 1 when no key names a
    /// pass lifetime (a list as older tools wrote it), else 2.
    pub fn version(&self) -> u64 {
        if self
            .issuer_keys
            .iter()
            .all(|key| key.max_pass_lifetime.is_none())
        {
            FORMAT_VERSION_1
        } else {
            FORMAT_VERSION
        }
    }

    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256 + 128 * self.issuer_keys.len());
        e.map(6)
            .int(1)
            .uint(self.version())
            .int(2)
            .uint(self.sequence)
            .int(3)
            .uint(self.issued_at.0)
            .int(4)
            .uint(self.expires_at.0)
            .int(5);
        self.roots.encode(&mut e);
        e.int(6).array(self.issuer_keys.len());
        for key in &self.issuer_keys {
            key.encode(&mut e);
        }
        e.into_bytes()
    }

    /// Decode and check a list's internal consistency (rule T2 of docs/trust.md).
    pub fn from_cbor(bytes: &[u8]) -> Result<TrustList, TrustListError> {
        let mut fields = Fields::new(cbor::decode(bytes, DEPTH)?)?;
        let version = fields.uint(1)?;
        if version != FORMAT_VERSION && version != FORMAT_VERSION_1 {
            return Err(TrustListError::UnsupportedVersion(version));
        }
        let list = TrustList {
            sequence: fields.uint(2)?,
            issued_at: Timestamp(fields.uint(3)?),
            expires_at: Timestamp(fields.uint(4)?),
            roots: RootSet::decode(fields.require(5)?)?,
            issuer_keys: fields
                .array(6)?
                .into_iter()
                .map(IssuerKey::decode)
                .collect::<Result<_, _>>()?,
        };
        fields.finish()?;
        list.check_consistency(version)?;
        Ok(list)
    }

    /// Rule T2 of docs/trust.md: what a list written in `version` must hold
    /// within itself, whoever signed it.
    pub fn check_consistency(&self, version: u64) -> Result<(), TrustListError> {
        if self.expires_at < self.issued_at {
            return Err(TrustListError::InvertedListWindow);
        }
        let mut kids = HashSet::new();
        for key in &self.issuer_keys {
            let kid = key.kid();
            if !kids.insert(kid) {
                return Err(TrustListError::DuplicateIssuerKey(kid));
            }
            if key.not_after < key.not_before {
                return Err(TrustListError::InvertedKeyWindow(kid));
            }
            if self.roots.position(kid).is_some() {
                return Err(TrustListError::RootKeyAsIssuerKey(kid));
            }
            match (version, key.max_pass_lifetime) {
                (FORMAT_VERSION_1, Some(_)) => {
                    return Err(TrustListError::PassLifetimeInVersion1(kid));
                }
                (FORMAT_VERSION_1, None) => {}
                (_, None) => return Err(TrustListError::MissingPassLifetime(kid)),
                (_, Some(Seconds(0))) => return Err(TrustListError::ZeroPassLifetime(kid)),
                (_, Some(_)) => {}
            }
        }
        Ok(())
    }

    /// The issuer key with this kid, if the list names one.
    pub fn issuer_key(&self, kid: Kid) -> Option<&IssuerKey> {
        self.issuer_keys.iter().find(|key| key.kid() == kid)
    }
}

impl RootSet {
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(64 + 64 * self.keys.len());
        self.encode(&mut e);
        e.into_bytes()
    }

    /// Decode a root set on its own, as the ceremony hands it out for pinning.
    pub fn from_cbor(bytes: &[u8]) -> Result<RootSet, TrustListError> {
        RootSet::decode(cbor::decode(bytes, DEPTH)?)
    }

    /// SHA-256 (lowercase hex) of the root set's CBOR ([`RootSet::to_cbor`]):
    /// what a ceremony reads out and every checkpoint compares before it
    /// pins a root-set file.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.to_cbor())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The root key a signature names, by kid.
    pub fn position(&self, kid: Kid) -> Option<usize> {
        self.keys.iter().position(|key| key.kid() == kid)
    }

    fn encode(&self, e: &mut Encoder) {
        e.map(2)
            .int(1)
            .uint(u64::from(self.threshold))
            .int(2)
            .array(self.keys.len());
        for key in &self.keys {
            e.map(3)
                .int(1)
                .int(ALG_ED25519)
                .int(2)
                .bytes(&key.public_key)
                .int(3)
                .text(&key.custodian);
        }
    }

    fn decode(item: Item<'_>) -> Result<RootSet, TrustListError> {
        let mut fields = Fields::new(item)?;
        let threshold = cbor::narrow(1, fields.uint(1)?)?;
        let keys = fields
            .array(2)?
            .into_iter()
            .map(|item| {
                let mut fields = Fields::new(item)?;
                let alg = fields.int(1)?;
                let public_key = public_key(fields.bytes(2)?)?;
                let custodian = fields.text(3)?.to_owned();
                fields.finish()?;
                if alg != ALG_ED25519 {
                    return Err(TrustListError::UnsupportedAlgorithm(alg));
                }
                Ok(RootKey {
                    custodian,
                    public_key,
                })
            })
            .collect::<Result<Vec<_>, TrustListError>>()?;
        fields.finish()?;
        if threshold == 0 || threshold as usize > keys.len() {
            return Err(TrustListError::BadThreshold {
                threshold,
                roots: keys.len(),
            });
        }
        let mut seen = HashSet::new();
        for key in &keys {
            if !seen.insert(key.kid()) {
                return Err(TrustListError::DuplicateRoot(key.kid()));
            }
        }
        Ok(RootSet { threshold, keys })
    }
}

impl IssuerKey {
    fn encode(&self, e: &mut Encoder) {
        let optional = usize::from(self.status_list_url.is_some())
            + usize::from(self.max_pass_lifetime.is_some());
        e.map(6 + optional)
            .int(1)
            .int(self.alg)
            .int(2)
            .bytes(&self.public_key)
            .int(3)
            .text(&self.issuer)
            .int(4)
            .uint(self.not_before.0)
            .int(5)
            .uint(self.not_after.0)
            .int(6)
            .uint(self.status as u64);
        if let Some(url) = &self.status_list_url {
            e.int(7).text(url);
        }
        if let Some(lifetime) = self.max_pass_lifetime {
            e.int(8).uint(lifetime.0);
        }
    }

    fn decode(item: Item<'_>) -> Result<IssuerKey, TrustListError> {
        let mut fields = Fields::new(item)?;
        let alg = fields.int(1)?;
        let key = IssuerKey {
            alg,
            public_key: public_key(fields.bytes(2)?)?,
            issuer: fields.text(3)?.to_owned(),
            not_before: Timestamp(fields.uint(4)?),
            not_after: Timestamp(fields.uint(5)?),
            status: match fields.uint(6)? {
                0 => KeyStatus::Active,
                1 => KeyStatus::Retired,
                2 => KeyStatus::Revoked,
                n => return Err(TrustListError::UnknownKeyStatus(n)),
            },
            status_list_url: fields.opt_text(7)?.map(str::to_owned),
            max_pass_lifetime: fields.opt_uint(8)?.map(Seconds),
        };
        fields.finish()?;
        if alg != ALG_ED25519 {
            return Err(TrustListError::UnsupportedAlgorithm(alg));
        }
        Ok(key)
    }
}

/// A 32-byte Ed25519 public key that is a valid point of large order.
fn public_key(raw: &[u8]) -> Result<[u8; 32], TrustListError> {
    let bytes: [u8; 32] = raw.try_into().map_err(|_| FieldError::WrongType {
        key: 2,
        expected: "32-byte public key",
    })?;
    match ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
        Ok(key) if !key.is_weak() => Ok(bytes),
        _ => Err(TrustListError::BadPublicKey(Kid::of(&bytes))),
    }
}
