//! What `sync` says about each list: for people, and one `--json` line each.

use crate::source::{FetchError, Location};
use sealpass_core::Timestamp;
use serde::Serialize;

/// What happened to one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    /// The first trust list, accepted against the pinned roots.
    Bootstrapped,
    /// A newer trust list replaced the one held.
    Replaced,
    /// Accepted and stored (status lists).
    Accepted,
    /// The same bytes as held.
    Unchanged,
    /// Fetched but refused by the rules; the list held before stays.
    Refused,
    /// Could not be fetched; the list held before stays.
    Unavailable,
}

impl SyncResult {
    pub fn exit_code(self) -> u8 {
        match self {
            SyncResult::Refused => 1,
            SyncResult::Unavailable => 2,
            _ => 0,
        }
    }
}

/// One `--json` line per list (docs/verifier.md).
#[derive(Debug, Serialize)]
pub struct ListReport {
    pub list: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub location: String,
    pub result: SyncResult,
    pub code: Option<&'static str>,
    pub reason: Option<String>,
    /// Trust lists: the sequence held after the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_sequence: Option<u64>,
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
}

impl ListReport {
    pub fn new(list: &'static str, issuer: Option<&str>, location: &Location) -> ListReport {
        ListReport {
            list,
            issuer: issuer.map(str::to_owned),
            location: location.to_string(),
            result: SyncResult::Unavailable,
            code: None,
            reason: None,
            sequence: None,
            previous_sequence: None,
            issued_at: None,
            expires_at: None,
        }
    }

    pub fn failed(mut self, result: SyncResult, code: &'static str, reason: String) -> ListReport {
        self.result = result;
        self.code = Some(code);
        self.reason = Some(reason);
        self
    }

    pub fn unavailable(self, e: FetchError) -> ListReport {
        let code = match e {
            FetchError::NotFound => "not_found",
            FetchError::Failed(_) => "fetch_failed",
        };
        self.failed(SyncResult::Unavailable, code, e.to_string())
    }
}

impl ListReport {
    /// Two lines for people: the list and where from, then what happened.
    pub fn render(&self, now: Timestamp) -> String {
        let report = self;
        let name = match &report.issuer {
            Some(issuer) => format!("status list of {issuer}"),
            None => "trust list".to_owned(),
        };
        let held = match (report.sequence, report.expires_at) {
            (Some(sequence), Some(expires_at)) => {
                format!(
                    "sequence {sequence}, {}",
                    expiry(Timestamp(expires_at), now)
                )
            }
            (None, Some(expires_at)) => expiry(Timestamp(expires_at), now),
            _ => "none".to_owned(),
        };
        let line = match report.result {
            SyncResult::Bootstrapped => format!("accepted against the pinned roots: {held}"),
            SyncResult::Replaced => format!(
                "accepted, replacing sequence {}: {held}",
                report.previous_sequence.unwrap_or_default()
            ),
            SyncResult::Accepted => format!("accepted: {held}"),
            SyncResult::Unchanged => format!("unchanged: {held}"),
            SyncResult::Refused => format!(
                "REFUSED: {}; kept: {held}",
                report.reason.as_deref().unwrap_or_default()
            ),
            SyncResult::Unavailable => format!(
                "NOT SYNCED: {}; kept: {held}",
                report.reason.as_deref().unwrap_or_default()
            ),
        };
        format!("{name} from {}\n  {line}\n", report.location)
    }
}

fn expiry(expires_at: Timestamp, now: Timestamp) -> String {
    if now < expires_at {
        format!("expires {expires_at} (in {})", expires_at.since(now))
    } else {
        format!("EXPIRED {expires_at} ({} ago)", now.since(expires_at))
    }
}
