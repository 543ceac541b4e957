//! Accepting a trust list: the update rules T0-T7 of docs/trust.md.

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
#[non_exhaustive]
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
    /// T5, starting again from the pinned roots.
    #[error(
        "sequence {candidate} is below {highest}, the highest this checkpoint ever accepted: rollback refused (only an explicit re-pin goes back)"
    )]
    BelowHighestAccepted { highest: u64, candidate: u64 },
    /// T6
    #[error("the list expired {} ago", now.since(*expired_at))]
    Expired {
        expired_at: Timestamp,
        now: Timestamp,
    },
    /// T7
    #[error(
        "the list is issued {} in the future ({issued_at}): refused. Check this device's clock",
        issued_at.since(*now)
    )]
    IssuedInFuture {
        issued_at: Timestamp,
        now: Timestamp,
    },
}

impl TrustUpdateError {
    pub fn code(&self) -> &'static str {
        match self {
            TrustUpdateError::Envelope(_) => "malformed_trust_list",
            TrustUpdateError::BelowThreshold { .. } => "below_threshold",
            TrustUpdateError::Rollback { .. } | TrustUpdateError::BelowHighestAccepted { .. } => {
                "rollback"
            }
            TrustUpdateError::Expired { .. } => "trust_list_expired",
            TrustUpdateError::IssuedInFuture { .. } => "trust_list_issued_in_future",
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
        TrustedList::bootstrap_at_least(pinned, candidate, now, 0)
    }

    /// [`TrustedList::bootstrap`] for a checkpoint that has trusted lists
    /// before and lost the one it held (damaged on disk): T5 refuses any
    /// sequence below `min_sequence`, the highest it ever accepted, so that
    /// starting again is never a way back to an older list.
    pub fn bootstrap_at_least(
        pinned: &RootSet,
        candidate: &[u8],
        now: Timestamp,
        min_sequence: u64,
    ) -> Result<TrustedList, TrustUpdateError> {
        let signed = SignedTrustList::from_bytes(candidate)?;
        let sequence = signed.list().sequence;
        if sequence < min_sequence {
            return Err(TrustUpdateError::BelowHighestAccepted {
                highest: min_sequence,
                candidate: sequence,
            });
        }
        accept(pinned, 0, &signed, candidate, now)
    }

    /// Offer a newer list (rules T0-T7).
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

    /// Re-load a list a checkpoint accepted and stored, against the root
    /// set it holds pinned (docs/trust.md, "Stored lists"): T1 and T2, T3
    /// against the pinned roots, and T4 when the list rotated them (the pin
    /// follows a rotation once the rotated list is stored). Expiry and
    /// sequence are left to the caller, as in [`TrustedList::from_stored`].
    pub fn restore(pinned: &RootSet, stored: &[u8]) -> Result<TrustedList, TrustUpdateError> {
        let signed = SignedTrustList::from_bytes(stored)?;
        check_roots(pinned, &signed)?;
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

/// T3-T7 for a candidate that passed T1 and T2.
fn accept(
    roots: &RootSet,
    current_sequence: u64,
    signed: &SignedTrustList,
    candidate: &[u8],
    now: Timestamp,
) -> Result<TrustedList, TrustUpdateError> {
    let list = signed.list();
    check_roots(roots, signed)?;
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
    // T7: nor one issued in the future, whose lifetime would be counted
    // from a date not yet reached.
    if list.issued_at > now.plus(crate::status::LIST_CLOCK_SKEW) {
        return Err(TrustUpdateError::IssuedInFuture {
            issued_at: list.issued_at,
            now,
        });
    }
    Ok(trusted(signed, candidate))
}

/// T3 and T4: the threshold of `roots` (the roots trusted now, or pinned),
/// and that of the list's own roots when it rotates them.
fn check_roots(roots: &RootSet, signed: &SignedTrustList) -> Result<(), TrustUpdateError> {
    // T3: the threshold of the roots trusted now.
    let tally = signed.count_root_signatures(roots);
    if !tally.meets_threshold() {
        return Err(TrustUpdateError::BelowThreshold {
            role: RootSetRole::Current,
            tally,
        });
    }
    // T4: a new root set must also be accepted by its own threshold.
    if signed.list().roots != *roots {
        let tally = signed.count_root_signatures(&signed.list().roots);
        if !tally.meets_threshold() {
            return Err(TrustUpdateError::BelowThreshold {
                role: RootSetRole::Incoming,
                tally,
            });
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{City, NOW, root_set, sign_list};

    /// Finding 6 of the security review: a stored list was checked only
    /// against its own roots, so a file written by anyone who made their
    /// own root set loaded as trusted.
    #[test]
    fn a_stored_list_is_restored_only_against_the_pinned_roots() {
        let city = City::new();
        let impostors = city.impostors();
        let forged = TrustList {
            sequence: 99,
            roots: root_set(&impostors, 2),
            ..city.first_list().clone()
        };
        let forged = sign_list(&forged, &impostors[..2]);
        assert!(TrustedList::from_stored(&forged).is_ok());
        assert!(matches!(
            TrustedList::restore(&city.roots, &forged),
            Err(TrustUpdateError::BelowThreshold {
                role: RootSetRole::Current,
                ..
            })
        ));
        let restored = TrustedList::restore(&city.roots, city.signed_first_list()).unwrap();
        assert_eq!(restored.list().sequence, 1);
    }

    #[test]
    fn a_rotated_list_restores_against_the_roots_it_replaced_or_its_own() {
        let city = City::new();
        let new_custodians = city.custodians(&[6, 7, 8]);
        let new_roots = root_set(&new_custodians, 2);
        let rotated = TrustList {
            sequence: 2,
            roots: new_roots.clone(),
            ..city.first_list().clone()
        };
        let mut signers = city.custodians(&[1, 2, 3]);
        signers.extend(new_custodians[..2].iter().cloned());
        let rotated = sign_list(&rotated, &signers);
        // Stored before the pin followed the rotation, and after.
        assert!(TrustedList::restore(&city.roots, &rotated).is_ok());
        assert!(TrustedList::restore(&new_roots, &rotated).is_ok());
        // Signed by the old roots alone, the new set never accepted it.
        let old_only = sign_list(
            &TrustList {
                sequence: 2,
                roots: new_roots,
                ..city.first_list().clone()
            },
            &city.custodians(&[1, 2, 3]),
        );
        assert!(TrustedList::restore(&city.roots, &old_only).is_err());
    }

    /// Finding 6: starting again from the pinned roots after the stored list
    /// was damaged must not accept a lower sequence than ever accepted.
    #[test]
    fn bootstrapping_again_never_goes_below_the_highest_sequence_accepted() {
        let city = City::new();
        assert!(
            TrustedList::bootstrap_at_least(&city.roots, city.signed_first_list(), NOW, 1).is_ok()
        );
        let refused =
            TrustedList::bootstrap_at_least(&city.roots, city.signed_first_list(), NOW, 2)
                .unwrap_err();
        assert_eq!(
            refused,
            TrustUpdateError::BelowHighestAccepted {
                highest: 2,
                candidate: 1
            }
        );
        assert_eq!(refused.code(), "rollback");
    }

    /// Finding 3: a list issued in the future is refused (T7).
    #[test]
    fn a_list_issued_in_the_future_is_refused() {
        let city = City::new();
        let ahead = TrustList {
            sequence: 2,
            issued_at: NOW.plus(Seconds::minutes(6)),
            ..city.first_list().clone()
        };
        let ahead = sign_list(&ahead, &city.custodians(&[1, 2, 3]));
        assert_eq!(
            city.trusted().update(&ahead, NOW).unwrap_err().code(),
            "trust_list_issued_in_future"
        );
        assert!(matches!(
            city.trusted().update(&ahead, NOW.plus(Seconds::minutes(1))),
            Ok(TrustUpdate::Replaced(_))
        ));
    }
}
