//! A checkpoint ready to decide: the lists the state directory holds,
//! re-checked on every load by the rules of `sealpass-checkpoint` (the trust
//! list against the pinned roots, never below the highest sequence
//! accepted; each status list against the trust list), with the policy and
//! the clock skew. This module only reads and writes the files.

use crate::state::{SetupError, StateDir};
use crate::zone::Zone;
use sealpass_checkpoint::Verdict;
use sealpass_checkpoint::{Lists, issuers};
use sealpass_core::{CheckpointPolicy, Freshness, ReplayMemory, RootSet, Seconds, Timestamp};

pub struct Checkpoint {
    pub lists: Lists,
    pub policy: CheckpointPolicy,
    pub clock_skew: Seconds,
    /// What a person should know before trusting the verdicts (stale lists).
    pub warnings: Vec<String>,
}

/// What the state directory holds, re-checked at `now`.
pub struct Stored {
    pub lists: Lists,
    /// Why the stored trust list is not held, when one is stored.
    pub trust_error: Option<SetupError>,
    /// Stored status lists that are not used, and why.
    pub warnings: Vec<String>,
}

impl Checkpoint {
    /// Load and re-check what `sync` stored. Without a usable trust list
    /// nothing can be decided. Warnings show times in `zone`.
    pub fn load(
        state: &StateDir,
        policy: CheckpointPolicy,
        clock_skew: Seconds,
        now: Timestamp,
        zone: Zone,
    ) -> Result<Checkpoint, SetupError> {
        let stored = load_stored(state, now)?;
        if let Some(error) = stored.trust_error {
            return Err(error);
        }
        let trust = stored
            .lists
            .trust
            .as_ref()
            .ok_or_else(|| SetupError::NoTrustList {
                dir: state.path().display().to_string(),
            })?;
        let mut warnings = Vec::new();
        let expires_at = trust.list().expires_at;
        match trust.freshness(now) {
            Freshness::Fresh { .. } => {}
            Freshness::ExpiresSoon { expires_in } => warnings.push(format!(
                "the trust list expires in {expires_in} ({}): sync soon, or passes cannot be decided after that",
                zone.show(expires_at)
            )),
            Freshness::Expired { ago } => warnings.push(format!(
                "the trust list expired {ago} ago ({}): no pass can be decided until a sync",
                zone.show(expires_at)
            )),
        }
        warnings.extend(stored.warnings);
        if now < expires_at {
            for issuer in stored.lists.unchecked_issuers(now) {
                match stored.lists.held(&issuer) {
                    Some(held) => warnings.push(format!(
                        "the status list of issuer {issuer} expired {} ago: its passes cannot be decided until a sync",
                        now.since(held.list.expires_at())
                    )),
                    None if !policy.danger_accept_unchecked_revocation => warnings.push(format!(
                        "no status list of issuer {issuer} is held: revocation cannot be checked, so its passes are not decided until a sync"
                    )),
                    None => {}
                }
            }
        }
        Ok(Checkpoint {
            lists: stored.lists,
            policy,
            clock_skew,
            warnings,
        })
    }

    /// Decide on one scanned text, a pass or a live code, at `now`;
    /// `memory` holds the live codes this run accepted (sealpass-checkpoint).
    pub fn decide(&self, memory: &mut ReplayMemory, text: &str, now: Timestamp) -> Verdict {
        self.lists
            .decide(&self.policy, self.clock_skew, memory, text, now)
    }
}

/// Read the state directory into [`Lists`]: the pinned roots and the
/// highest sequence accepted, the trust list restored against them, and,
/// while it is current, each issuer's status list. Only an unreadable
/// directory is an error; a stored list that does not verify is reported
/// in [`Stored`]. Once a stored list that rotated the roots is restored,
/// the pin file follows it (best effort: a read-only state still decides).
pub fn load_stored(state: &StateDir, now: Timestamp) -> Result<Stored, SetupError> {
    let unreadable = |e: anyhow::Error| SetupError::Unreadable(format!("{e:#}"));
    let mut lists = Lists::default();
    let mut warnings = Vec::new();
    let pinned_bytes = state.pinned_roots().map_err(unreadable)?;
    let pinned = match &pinned_bytes {
        Some(bytes) => match RootSet::from_cbor(bytes) {
            Ok(roots) => Some(roots),
            Err(e) => {
                return Ok(Stored {
                    lists,
                    trust_error: Some(SetupError::DamagedTrustList {
                        path: state.trust_list_path().display().to_string(),
                        reason: format!("the pinned root set is not valid: {e}"),
                    }),
                    warnings,
                });
            }
        },
        None => None,
    };
    lists.pinned = pinned.clone();
    lists.highest_sequence = state.highest_sequence().map_err(unreadable)?.unwrap_or(0);
    let Some(bytes) = state.trust_list().map_err(unreadable)? else {
        return Ok(Stored {
            lists,
            trust_error: None,
            warnings,
        });
    };
    if pinned.is_none() {
        let error = SetupError::NoPinnedRoots {
            dir: state.path().display().to_string(),
        };
        return Ok(Stored {
            lists,
            trust_error: Some(error),
            warnings,
        });
    }
    if let Err((_, reason)) = lists.load_trust_list(&bytes) {
        let error = SetupError::DamagedTrustList {
            path: state.trust_list_path().display().to_string(),
            reason,
        };
        return Ok(Stored {
            lists,
            trust_error: Some(error),
            warnings,
        });
    }
    if lists.pinned != pinned {
        let _ = persist_trust_list(state, &lists);
    }
    let trust = lists.trust.clone().expect("just loaded");
    let expired = now >= trust.list().expires_at;
    for (issuer, _) in issuers(trust.list()) {
        let Some(bytes) = state.status_list(&issuer).map_err(unreadable)? else {
            continue;
        };
        if expired {
            let reason = "not checked while the trust list is expired: sync".to_owned();
            lists.not_used.push((issuer, reason));
        } else if let Err(reason) = lists.load_status_list(&issuer, &bytes, now) {
            warnings.push(format!(
                "the stored status list of issuer {issuer} is not used ({reason}): its passes are not decided until a sync"
            ));
        }
    }
    Ok(Stored {
        lists,
        trust_error: None,
        warnings,
    })
}

/// Store the trust list held, then the root set it answers to (a rotation
/// hands the pin on once the list that rotated it is stored; a first pin is
/// written before the list), then the highest sequence accepted.
pub fn persist_trust_list(state: &StateDir, lists: &Lists) -> anyhow::Result<()> {
    let (Some(trust), Some(pinned)) = (&lists.trust, &lists.pinned) else {
        return Ok(());
    };
    let pinned_bytes = pinned.to_cbor();
    let first_pin = state.pinned_roots()?.is_none();
    if first_pin {
        state.store_pinned_roots(&pinned_bytes)?;
    }
    state.store_trust_list(trust.bytes())?;
    if !first_pin && state.pinned_roots()?.as_deref() != Some(pinned_bytes.as_slice()) {
        state.store_pinned_roots(&pinned_bytes)?;
    }
    state.reset_highest_sequence(lists.highest_sequence)
}
