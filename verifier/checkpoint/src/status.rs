//! What a checkpoint holds and whether it can decide: the part of `status`
//! both verifiers share (docs/verifier.md, "`status`"), computed from the
//! lists alone. The shells add what only they know (the state directory,
//! the clock) and override readiness when the clock cannot be believed.

use crate::lists::{Lists, issuers};
use sealpass_core::{CheckpointPolicy, Freshness, RootSet, Seconds, Timestamp, TrustedList};
use serde::Serialize;

/// The shared part of a status report, flattened into each shell's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListsStatus {
    /// Passes can be decided: a current trust list, and a current status
    /// list of every issuer it admits (unless the policy accepts unchecked
    /// revocation).
    pub ready: bool,
    /// Why not: `no_trust_list`, `trust_list_expired` or
    /// `revocation_not_checked`.
    pub code: Option<&'static str>,
    pub reason: Option<String>,
    /// The highest trust-list sequence ever accepted here.
    pub highest_sequence_accepted: u64,
    pub pinned_roots: Option<RootsState>,
    pub trust_list: Option<TrustListState>,
    pub status_lists: Vec<StatusListState>,
    /// Sentences for people: lists that expire before the next planned sync.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootsState {
    pub threshold: u32,
    pub custodians: Vec<String>,
    pub fingerprint: String,
}

impl RootsState {
    pub fn of(roots: &RootSet) -> RootsState {
        RootsState {
            threshold: roots.threshold,
            custodians: roots.keys.iter().map(|k| k.custodian.clone()).collect(),
            fingerprint: roots.fingerprint(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustListState {
    pub sequence: u64,
    pub issued_at: u64,
    pub expires_at: u64,
    pub age_seconds: u64,
    pub expires_in_seconds: u64,
    /// `fresh`, `expires_soon` (less than a quarter of its lifetime left:
    /// `TrustedList::freshness`) or `expired`.
    pub freshness: &'static str,
    pub expires_before_next_sync: bool,
    pub roots: RootsState,
    pub issuer_keys: Vec<IssuerKeyState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerKeyState {
    pub issuer: String,
    pub kid: String,
    pub status: &'static str,
    pub not_before: u64,
    pub not_after: u64,
    pub status_list_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusListState {
    pub issuer: String,
    /// `current`, `expired`, `missing` or `not_used` (stored, but it did
    /// not verify).
    pub state: &'static str,
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
    pub entries: Option<u64>,
    /// Why a list is not current.
    pub reason: Option<String>,
    /// Held, and it expires before the next planned sync.
    pub expires_before_next_sync: bool,
}

impl Lists {
    /// The status at `now` of a checkpoint that syncs next `next_sync_in`
    /// from now, deciding under `policy`.
    pub fn status(
        &self,
        now: Timestamp,
        next_sync_in: Seconds,
        policy: &CheckpointPolicy,
    ) -> ListsStatus {
        let next_sync = now.plus(next_sync_in);
        let mut warnings = Vec::new();
        let trust_list = self.trust.as_ref().map(|trusted| {
            let state = trust_list_state(trusted, now, next_sync);
            if state.expires_before_next_sync && now < trusted.list().expires_at {
                warnings.push(format!(
                    "the trust list expires in {}, before the next planned sync (in {next_sync_in}): sync sooner, or no pass can be decided after that",
                    trusted.list().expires_at.since(now)
                ));
            }
            state
        });
        let status_lists = self.status_list_states(now, next_sync);
        for list in status_lists.iter().filter(|l| l.expires_before_next_sync) {
            let expires = Timestamp(list.expires_at.unwrap_or_default());
            warnings.push(format!(
                "the status list of {} expires in {}, before the next planned sync (in {next_sync_in}): sync sooner, or its passes cannot be decided after that",
                list.issuer,
                expires.since(now)
            ));
        }
        let unchecked = self.unchecked_issuers(now);
        let (ready, code, reason) = match &self.trust {
            None => (false, Some("no_trust_list"), None),
            Some(trust) if now >= trust.list().expires_at => (
                false,
                Some("trust_list_expired"),
                Some("the trust list has expired: sync it".to_owned()),
            ),
            Some(_) if !unchecked.is_empty() && !policy.danger_accept_unchecked_revocation => (
                false,
                Some("revocation_not_checked"),
                Some(format!(
                    "no current status list of {}: revocation cannot be checked, so their passes are not decided until a sync",
                    unchecked.join(", ")
                )),
            ),
            Some(_) => (true, None, None),
        };
        ListsStatus {
            ready,
            code,
            reason,
            highest_sequence_accepted: self.highest_sequence,
            pinned_roots: self.pinned.as_ref().map(RootsState::of),
            trust_list,
            status_lists,
            warnings,
        }
    }

    /// Each issuer's status list: held (current or expired), stored but
    /// not used, or missing.
    fn status_list_states(&self, now: Timestamp, next_sync: Timestamp) -> Vec<StatusListState> {
        let Some(trust) = &self.trust else {
            return Vec::new();
        };
        issuers(trust.list())
            .into_iter()
            .map(|(issuer, _)| match self.held(&issuer) {
                Some(held) => {
                    let expires = held.list.expires_at();
                    StatusListState {
                        state: if now < expires { "current" } else { "expired" },
                        issued_at: Some(held.list.issued_at().0),
                        expires_at: Some(expires.0),
                        entries: Some(held.list.len()),
                        reason: None,
                        expires_before_next_sync: now < expires && expires <= next_sync,
                        issuer,
                    }
                }
                None => {
                    let not_used = self.not_used.iter().find(|(i, _)| *i == issuer);
                    let (state, reason) = match not_used {
                        Some((_, reason)) => ("not_used", reason.clone()),
                        None => (
                            "missing",
                            "none held: its passes are not decided until a sync".to_owned(),
                        ),
                    };
                    StatusListState {
                        issuer,
                        state,
                        issued_at: None,
                        expires_at: None,
                        entries: None,
                        reason: Some(reason),
                        expires_before_next_sync: false,
                    }
                }
            })
            .collect()
    }
}

fn trust_list_state(trusted: &TrustedList, now: Timestamp, next_sync: Timestamp) -> TrustListState {
    let list = trusted.list();
    let (freshness, expires_in) = match trusted.freshness(now) {
        Freshness::Fresh { expires_in } => ("fresh", expires_in.0),
        Freshness::ExpiresSoon { expires_in } => ("expires_soon", expires_in.0),
        Freshness::Expired { .. } => ("expired", 0),
    };
    TrustListState {
        sequence: list.sequence,
        issued_at: list.issued_at.0,
        expires_at: list.expires_at.0,
        age_seconds: now.since(list.issued_at).0,
        expires_in_seconds: expires_in,
        freshness,
        expires_before_next_sync: now < list.expires_at && list.expires_at <= next_sync,
        roots: RootsState::of(&list.roots),
        issuer_keys: list
            .issuer_keys
            .iter()
            .map(|key| IssuerKeyState {
                issuer: key.issuer.clone(),
                kid: key.kid().to_hex(),
                status: key.status.name(),
                not_before: key.not_before.0,
                not_after: key.not_after.0,
                status_list_url: key.status_list_url.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{City, NOW};

    fn synced(city: &City) -> Lists {
        let mut lists = Lists::default();
        lists.pin_roots(&city.roots.to_cbor()).unwrap();
        lists.offer_trust_list("trust-list.cbor", city.signed_first_list(), NOW);
        lists
    }

    #[test]
    fn not_ready_without_a_current_status_list_of_every_issuer() {
        let city = City::new();
        let mut lists = synced(&city);
        let policy = CheckpointPolicy::default();
        let status = lists.status(NOW, Seconds::hours(24), &policy);
        assert!(!status.ready);
        assert_eq!(status.code, Some("revocation_not_checked"));
        assert_eq!(status.status_lists[0].state, "missing");

        let damaged = b"not a status list";
        assert!(lists.load_status_list("CN-610100", damaged, NOW).is_err());
        let status = lists.status(NOW, Seconds::hours(24), &policy);
        assert_eq!(status.status_lists[0].state, "not_used");

        let lax = CheckpointPolicy {
            danger_accept_unchecked_revocation: true,
            ..CheckpointPolicy::default()
        };
        assert!(lists.status(NOW, Seconds::hours(24), &lax).ready);

        lists.offer_status_list("CN-610100", "s", &city.large_status_list(&[]), NOW);
        let status = lists.status(NOW, Seconds::hours(24), &policy);
        assert!(status.ready, "{status:?}");
        assert_eq!(status.status_lists[0].state, "current");
        // Issued an hour before NOW, valid 30 h: 29 h left.
        assert!(status.warnings.is_empty(), "{:?}", status.warnings);
        let status = lists.status(NOW, Seconds::hours(30), &policy);
        assert!(status.status_lists[0].expires_before_next_sync);
        assert_eq!(status.warnings.len(), 1, "{:?}", status.warnings);
        let later = NOW.plus(Seconds::hours(30));
        let status = lists.status(later, Seconds::hours(24), &policy);
        assert_eq!(status.status_lists[0].state, "expired");
        assert_eq!(status.code, Some("revocation_not_checked"));
    }
}
