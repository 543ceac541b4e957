//! Accepting a trust list: the update rules T1-T6 of docs/trust.md.

use super::list::{IssuerKey, RootSet, TrustList};
use super::signed::{EnvelopeError, SignatureTally, SignedTrustList};
use crate::signer::Kid;
use crate::time::{Seconds, Timestamp};
use std::collections::HashMap;
use thiserror::Error;

/// A trust list that passed the update rules. Only [`TrustedList::bootstrap`]
/// and [`TrustedList::update`] make one.
#[derive(Debug, Clone)]
pub struct TrustedList {
    list: TrustList,
    bytes: Vec<u8>,
    payload: Vec<u8>,
    keys: HashMap<Kid, ResolvedKey>,
}

/// An issuer key with its point decompressed once, not on every verification.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedKey {
    pub index: usize,
    pub verifying_key: ed25519_dalek::VerifyingKey,
}

/// Which root set a threshold was counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSetRole {
    /// The roots the verifier trusts now (or pinned at first use).
    Current,
    /// The roots the candidate list introduces.
    Incoming,
}

/// Why a candidate trust list was not accepted. The trusted list stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustUpdateError {
    /// T1, T2
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// T3, T4
    #[error(
        "signed by {} distinct {} roots, {} required",
        tally.distinct_valid(),
        match role { RootSetRole::Current => "trusted", RootSetRole::Incoming => "incoming" },
        tally.threshold
    )]
    BelowThreshold {
        role: RootSetRole,
        tally: SignatureTally,
    },
    /// T5
    #[error(
        "sequence {candidate} is not newer than the trusted list's {current}: rollback refused"
    )]
    Rollback { current: u64, candidate: u64 },
    /// T6
    #[error("the list expired {} ago", now.since(*expired_at))]
    Expired {
        expired_at: Timestamp,
        now: Timestamp,
    },
}

impl TrustUpdateError {
    pub fn code(&self) -> &'static str {
        match self {
            TrustUpdateError::Envelope(_) => "malformed_trust_list",
            TrustUpdateError::BelowThreshold { .. } => "below_threshold",
            TrustUpdateError::Rollback { .. } => "rollback",
            TrustUpdateError::Expired { .. } => "trust_list_expired",
        }
    }
}

/// The result of offering a candidate list.
#[derive(Debug, Clone)]
pub enum TrustUpdate {
    /// The candidate signs the same content as the trusted list (T0).
    Unchanged,
    /// The candidate replaces the trusted list.
    Replaced(TrustedList),
}

/// How close a trusted list is to expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh {
        expires_in: Seconds,
    },
    /// Less than a quarter of its lifetime is left: sync soon.
    ExpiresSoon {
        expires_in: Seconds,
    },
    Expired {
        ago: Seconds,
    },
}

impl TrustedList {
    /// Accept the first list against a root set pinned out of band (the
    /// ceremony's root-set file). The pinned set plays the trusted list's
    /// roots in T3 and T4, and any sequence number passes T5.
    pub fn bootstrap(
        pinned: &RootSet,
        candidate: &[u8],
        now: Timestamp,
    ) -> Result<TrustedList, TrustUpdateError> {
        accept(
            pinned,
            0,
            &SignedTrustList::from_bytes(candidate)?,
            candidate,
            now,
        )
    }

    /// Offer a newer list (rules T0-T6).
    pub fn update(
        &self,
        candidate: &[u8],
        now: Timestamp,
    ) -> Result<TrustUpdate, TrustUpdateError> {
        // T1, T2: structure and internal consistency.
        let signed = SignedTrustList::from_bytes(candidate)?;
        // T0: the same content again is not an update, and not a rollback.
        if signed.payload() == self.payload {
            return Ok(TrustUpdate::Unchanged);
        }
        accept(
            &self.list.roots,
            self.list.sequence,
            &signed,
            candidate,
            now,
        )
        .map(TrustUpdate::Replaced)
    }

    /// Re-load a list this verifier accepted and stored itself. T1 and T2
    /// hold and the list's own roots meet its own threshold (T3 against its
    /// own root set); expiry is left to verification, which refuses passes
    /// against an expired list, so that a device can still say how old it is.
    pub fn from_stored(stored: &[u8]) -> Result<TrustedList, TrustUpdateError> {
        let signed = SignedTrustList::from_bytes(stored)?;
        let tally = signed.count_root_signatures(&signed.list().roots);
        if !tally.meets_threshold() {
            return Err(TrustUpdateError::BelowThreshold {
                role: RootSetRole::Incoming,
                tally,
            });
        }
        Ok(trusted(&signed, stored))
    }

    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The list exactly as signed, to store or to serve.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn freshness(&self, now: Timestamp) -> Freshness {
        let expires_at = self.list.expires_at;
        if now >= expires_at {
            return Freshness::Expired {
                ago: now.since(expires_at),
            };
        }
        let lifetime = expires_at.since(self.list.issued_at);
        let expires_in = expires_at.since(now);
        if expires_in.0 < lifetime.0 / 4 {
            Freshness::ExpiresSoon { expires_in }
        } else {
            Freshness::Fresh { expires_in }
        }
    }

    pub(crate) fn resolve(&self, kid: Kid) -> Option<(&IssuerKey, &ResolvedKey)> {
        let resolved = self.keys.get(&kid)?;
        Some((&self.list.issuer_keys[resolved.index], resolved))
    }
}

/// T3-T6 for a candidate that passed T1 and T2.
fn accept(
    roots: &RootSet,
    current_sequence: u64,
    signed: &SignedTrustList,
    candidate: &[u8],
    now: Timestamp,
) -> Result<TrustedList, TrustUpdateError> {
    let list = signed.list();
    // T3: the threshold of the roots trusted now.
    let tally = signed.count_root_signatures(roots);
    if !tally.meets_threshold() {
        return Err(TrustUpdateError::BelowThreshold {
            role: RootSetRole::Current,
            tally,
        });
    }
    // T4: a new root set must also be accepted by its own threshold.
    if list.roots != *roots {
        let tally = signed.count_root_signatures(&list.roots);
        if !tally.meets_threshold() {
            return Err(TrustUpdateError::BelowThreshold {
                role: RootSetRole::Incoming,
                tally,
            });
        }
    }
    // T5: no rollback, no replay of an older list.
    if list.sequence <= current_sequence {
        return Err(TrustUpdateError::Rollback {
            current: current_sequence,
            candidate: list.sequence,
        });
    }
    // T6: an expired list is never accepted.
    if now >= list.expires_at {
        return Err(TrustUpdateError::Expired {
            expired_at: list.expires_at,
            now,
        });
    }
    Ok(trusted(signed, candidate))
}

fn trusted(signed: &SignedTrustList, bytes: &[u8]) -> TrustedList {
    let list = signed.list();
    let keys = list
        .issuer_keys
        .iter()
        .enumerate()
        .filter_map(|(index, key)| {
            // T2 checked every key is a valid point; decompress it once here.
            let verifying_key = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key).ok()?;
            Some((
                key.kid(),
                ResolvedKey {
                    index,
                    verifying_key,
                },
            ))
        })
        .collect();
    TrustedList {
        list: list.clone(),
        bytes: bytes.to_vec(),
        payload: signed.payload().to_vec(),
        keys,
    }
}
