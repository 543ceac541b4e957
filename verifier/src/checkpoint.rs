//! A checkpoint ready to decide: the stored trust list (re-checked against
//! the pinned roots) and status lists, re-checked on every load, with the
//! policy and the clock skew.

use crate::state::{SetupError, StateDir};
use crate::verdict::Verdict;
use sealpass_core::{
    CheckpointPolicy, Freshness, KeyStatus, RootSet, Seconds, StatusList, StatusListError,
    Timestamp, TrustList, TrustedList, Verifier,
};

pub struct Checkpoint {
    pub trust: TrustedList,
    pub status_lists: Vec<StatusList>,
    pub policy: CheckpointPolicy,
    pub clock_skew: Seconds,
    /// What a person should know before trusting the verdicts (stale lists).
    pub warnings: Vec<String>,
}

impl Checkpoint {
    /// Load and re-check what `sync` stored. Without a usable trust list
    /// nothing can be decided.
    pub fn load(
        state: &StateDir,
        policy: CheckpointPolicy,
        clock_skew: Seconds,
        now: Timestamp,
    ) -> Result<Checkpoint, SetupError> {
        let unreadable = |e: anyhow::Error| SetupError::Unreadable(format!("{e:#}"));
        let trust = restore_trust_list(state)?.ok_or_else(|| SetupError::NoTrustList {
            dir: state.path().display().to_string(),
        })?;
        let mut warnings = Vec::new();
        let expires_at = trust.list().expires_at;
        match trust.freshness(now) {
            Freshness::Fresh { .. } => {}
            Freshness::ExpiresSoon { expires_in } => warnings.push(format!(
                "the trust list expires in {expires_in} ({expires_at}): sync soon, or passes cannot be decided after that"
            )),
            Freshness::Expired { ago } => warnings.push(format!(
                "the trust list expired {ago} ago ({expires_at}): no pass can be decided until a sync"
            )),
        }
        let mut status_lists = Vec::new();
        if now < expires_at {
            for (issuer, _) in issuers(trust.list()) {
                let Some(bytes) = state.status_list(&issuer).map_err(unreadable)? else {
                    if !policy.danger_accept_unchecked_revocation {
                        warnings.push(format!(
                            "no status list of issuer {issuer} is held: revocation cannot be checked, so its passes are not decided until a sync"
                        ));
                    }
                    continue;
                };
                match load_status_list(&bytes, &trust, now) {
                    Ok(list) if list.issuer() != issuer => warnings.push(format!(
                        "the stored status list of issuer {issuer} names issuer {}: not used",
                        list.issuer()
                    )),
                    Ok(list) => {
                        if now >= list.expires_at() {
                            warnings.push(format!(
                                "the status list of issuer {issuer} expired {} ago: its passes cannot be decided until a sync",
                                now.since(list.expires_at())
                            ));
                        }
                        status_lists.push(list);
                    }
                    Err(e) => warnings.push(format!(
                        "the stored status list of issuer {issuer} is not used ({e}): its passes are not decided until a sync"
                    )),
                }
            }
        }
        Ok(Checkpoint {
            trust,
            status_lists,
            policy,
            clock_skew,
            warnings,
        })
    }

    /// The issuers whose passes cannot be checked for revocation at `now`:
    /// no status list held, or the one held has expired. Their passes are
    /// not decided (`revocation_not_checked`, `status_list_expired`) unless
    /// the policy accepts unchecked revocation.
    pub fn unchecked_issuers(&self, now: Timestamp) -> Vec<String> {
        issuers(self.trust.list())
            .into_iter()
            .map(|(issuer, _)| issuer)
            .filter(|issuer| {
                !self
                    .status_lists
                    .iter()
                    .any(|list| list.issuer() == issuer && now < list.expires_at())
            })
            .collect()
    }

    /// Decide on one pass text at `now`.
    pub fn decide(&self, text: &str, now: Timestamp) -> Verdict {
        let result = Verifier::new(&self.trust, &self.policy)
            .with_status_lists(&self.status_lists)
            .with_clock_skew(self.clock_skew)
            .verify(text, now);
        Verdict::from_result(result, text, now)
    }
}

/// The stored trust list, restored against the pinned roots (docs/trust.md,
/// "Stored lists"), or `None` when none is stored. Once a stored list that
/// rotated the roots has been restored, the pin follows it to its roots.
pub fn restore_trust_list(state: &StateDir) -> Result<Option<TrustedList>, SetupError> {
    let unreadable = |e: anyhow::Error| SetupError::Unreadable(format!("{e:#}"));
    let Some(bytes) = state.trust_list().map_err(unreadable)? else {
        return Ok(None);
    };
    let damaged = |reason: String| SetupError::DamagedTrustList {
        path: state.trust_list_path().display().to_string(),
        reason,
    };
    let pinned =
        state
            .pinned_roots()
            .map_err(unreadable)?
            .ok_or_else(|| SetupError::NoPinnedRoots {
                dir: state.path().display().to_string(),
            })?;
    let pinned = RootSet::from_cbor(&pinned)
        .map_err(|e| damaged(format!("the pinned root set is not valid: {e}")))?;
    let trust = TrustedList::restore(&pinned, &bytes).map_err(|e| damaged(e.to_string()))?;
    // Best effort: a read-only state still decides, against the same pin.
    let _ = follow_rotation(state, &pinned, &trust);
    Ok(Some(trust))
}

/// Hand the pin on to the roots of a trusted list that rotated them, once
/// that list is stored: later lists are then checked against those roots.
pub fn follow_rotation(
    state: &StateDir,
    pinned: &RootSet,
    trust: &TrustedList,
) -> anyhow::Result<()> {
    let roots = &trust.list().roots;
    if roots != pinned {
        state.store_pinned_roots(&roots.to_cbor())?;
    }
    Ok(())
}

/// A stored status list, re-checked against the trusted list. An expired
/// one is still loaded (checked at the last second it was valid), so that
/// its issuer's passes are refused with `status_list_expired` rather than
/// accepted without a revocation check (docs/trust.md, "Revocation").
pub fn load_status_list(
    bytes: &[u8],
    trust: &TrustedList,
    now: Timestamp,
) -> Result<StatusList, StatusListError> {
    match StatusList::verify(bytes, trust, now) {
        Err(StatusListError::Expired { expired_at, .. }) if expired_at.0 > 0 => {
            StatusList::verify(bytes, trust, Timestamp(expired_at.0 - 1))
        }
        other => other,
    }
}

/// The issuers a trust list admits passes from (those with a key that is
/// not revoked), in list order, each with the status-list URL its keys name
/// (an active key's before a retired key's).
pub fn issuers(list: &TrustList) -> Vec<(String, Option<String>)> {
    let mut issuers: Vec<(String, Option<String>)> = Vec::new();
    let mut keys: Vec<_> = list
        .issuer_keys
        .iter()
        .filter(|key| key.status != KeyStatus::Revoked)
        .collect();
    keys.sort_by_key(|key| key.status != KeyStatus::Active);
    for key in keys {
        match issuers.iter_mut().find(|(issuer, _)| *issuer == key.issuer) {
            Some((_, url)) => {
                if url.is_none() {
                    url.clone_from(&key.status_list_url);
                }
            }
            None => issuers.push((key.issuer.clone(), key.status_list_url.clone())),
        }
    }
    issuers
}
