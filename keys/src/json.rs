//! What `show --json` and `verify --json` print: the facts of
//! [`crate::explain`]'s sentences as data, for scripts and monitoring
//! (docs/key-ceremony.md, "For scripts"). Times are Unix seconds, key ids
//! and fingerprints lowercase hex as in the sentences.

use crate::card::fingerprint;
use crate::keyfile::{DEFAULT_LOG_N, SealedKey};
use sealpass_core::{Counted, IssuerKey, KeyStatus, Kid, RootSet, SignedTrustList, Timestamp};
use serde::Serialize;

/// A trust list or draft, with its signatures counted against root sets.
#[derive(Debug, Serialize)]
pub struct ListJson {
    pub kind: &'static str,
    pub sequence: u64,
    pub issued_at: u64,
    pub expires_at: u64,
    pub expired: bool,
    pub roots: RootsJson,
    pub issuer_keys: Vec<IssuerKeyJson>,
    /// Signatures on the document, counted or not.
    pub signatures: usize,
    /// The signatures counted against each root set named.
    pub counted: Vec<CountJson>,
}

#[derive(Debug, Serialize)]
pub struct RootsJson {
    pub threshold: u32,
    /// SHA-256 of the root-set file ([`RootSet::fingerprint`]).
    pub fingerprint: String,
    pub custodians: Vec<CustodianJson>,
}

#[derive(Debug, Serialize)]
pub struct CustodianJson {
    pub name: String,
    pub kid: String,
    /// The key card's fingerprint, read aloud at the ceremony.
    pub fingerprint: String,
}

#[derive(Debug, Serialize)]
pub struct IssuerKeyJson {
    pub issuer: String,
    pub kid: String,
    /// `active`, `retired` or `revoked`.
    pub status: &'static str,
    pub not_before: u64,
    pub not_after: u64,
    /// None in a format version 1 list (the legacy bound applies).
    pub max_pass_lifetime_seconds: Option<u64>,
    pub status_list_url: Option<String>,
}

/// The signatures counted against one root set.
#[derive(Debug, Serialize)]
pub struct CountJson {
    /// Which root set: `its own`, `the current`, `the new`, ...
    pub against: String,
    pub threshold: u32,
    pub distinct_valid: u32,
    pub threshold_met: bool,
    pub signatures: Vec<SignatureJson>,
}

#[derive(Debug, Serialize)]
pub struct SignatureJson {
    pub kid: String,
    /// The custodian of that root set who made it, if one did.
    pub custodian: Option<String>,
    /// `valid`, `duplicate`, `not_a_root`, `invalid` or `wrong_algorithm`.
    pub result: &'static str,
    pub counts: bool,
}

/// A sealed key file: its public parts.
#[derive(Debug, Serialize)]
pub struct SealedKeyJson {
    pub kind: &'static str,
    pub role: &'static str,
    pub label: String,
    pub scrypt_log_n: u8,
    /// Its scrypt cost is below what sealpass-keys uses: a test key.
    pub weak_kdf: bool,
    pub kid: String,
    pub fingerprint: String,
}

/// `signed` counted against each root set in `against` (role name, roots),
/// or against its own roots if `against` is empty.
pub fn list_json(
    signed: &SignedTrustList,
    against: &[(&str, &RootSet)],
    now: Timestamp,
) -> ListJson {
    let list = signed.list();
    let own = [("its own", &list.roots)];
    let against = if against.is_empty() {
        &own[..]
    } else {
        against
    };
    ListJson {
        kind: "trust_list",
        sequence: list.sequence,
        issued_at: list.issued_at.0,
        expires_at: list.expires_at.0,
        expired: list.expires_at <= now,
        roots: roots_json(&list.roots),
        issuer_keys: list.issuer_keys.iter().map(issuer_key_json).collect(),
        signatures: signed.signatures().len(),
        counted: against
            .iter()
            .map(|(role, roots)| count_json(signed, role, roots))
            .collect(),
    }
}

pub fn roots_json(roots: &RootSet) -> RootsJson {
    RootsJson {
        threshold: roots.threshold,
        fingerprint: roots.fingerprint(),
        custodians: roots
            .keys
            .iter()
            .map(|key| CustodianJson {
                name: key.custodian.clone(),
                kid: key.kid().to_hex(),
                fingerprint: fingerprint(&key.public_key),
            })
            .collect(),
    }
}

fn issuer_key_json(key: &IssuerKey) -> IssuerKeyJson {
    IssuerKeyJson {
        issuer: key.issuer.clone(),
        kid: key.kid().to_hex(),
        status: match key.status {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Revoked => "revoked",
        },
        not_before: key.not_before.0,
        not_after: key.not_after.0,
        max_pass_lifetime_seconds: key.max_pass_lifetime.map(|max| max.0),
        status_list_url: key.status_list_url.clone(),
    }
}

fn count_json(signed: &SignedTrustList, role: &str, roots: &RootSet) -> CountJson {
    let tally = signed.count_root_signatures(roots);
    let custodian = |at: usize| Some(roots.keys[at].custodian.clone());
    let signatures = tally
        .signatures
        .iter()
        .zip(signed.signatures())
        .map(|(counted, signature)| {
            let (custodian, result) = match *counted {
                Counted::Valid(at) => (custodian(at), "valid"),
                Counted::Duplicate(at) => (custodian(at), "duplicate"),
                Counted::NotARoot(_) => (None, "not_a_root"),
                Counted::Invalid(at) => (custodian(at), "invalid"),
                Counted::WrongAlgorithm(_) => (None, "wrong_algorithm"),
            };
            SignatureJson {
                kid: signature.kid.to_hex(),
                custodian,
                result,
                counts: matches!(counted, Counted::Valid(_)),
            }
        })
        .collect();
    CountJson {
        against: role.to_owned(),
        threshold: tally.threshold,
        distinct_valid: tally.distinct_valid(),
        threshold_met: tally.meets_threshold(),
        signatures,
    }
}

/// The public parts of a sealed key file (`public_key`: its public key).
pub fn sealed_key_json(sealed: &SealedKey, public_key: &[u8; 32]) -> SealedKeyJson {
    SealedKeyJson {
        kind: "sealed_key",
        role: sealed.role.name(),
        label: sealed.label.clone(),
        scrypt_log_n: sealed.kdf.log_n,
        weak_kdf: sealed.kdf.log_n < DEFAULT_LOG_N,
        kid: Kid::of(public_key).to_hex(),
        fingerprint: fingerprint(public_key),
    }
}
