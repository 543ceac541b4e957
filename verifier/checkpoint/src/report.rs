//! What a sync says about each list: one object per list, the `sync --json`
//! line of the command line and the web verifier's report alike.

use sealpass_core::{StatusList, TrustedList};
use serde::Serialize;

/// What happened to one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    /// The first trust list, accepted against the pinned roots.
    Bootstrapped,
    /// A newer trust list replaced the one held.
    Replaced,
    /// Accepted and held (status lists).
    Accepted,
    /// The same bytes as held.
    Unchanged,
    /// Fetched but refused by the rules; the list held before stays.
    Refused,
    /// Could not be fetched; the list held before stays.
    Unavailable,
}

impl SyncResult {
    /// 0 stored or unchanged, 1 refused, 2 not fetched: `sync`'s exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            SyncResult::Refused => 1,
            SyncResult::Unavailable => 2,
            _ => 0,
        }
    }
}

/// Which list a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    TrustList,
    StatusList,
}

/// One list's report (docs/verifier.md, "`--json`").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReport {
    pub list: ListKind,
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
    /// A report that says nothing happened yet (`unavailable`).
    pub fn new(list: ListKind, issuer: Option<&str>, location: &str) -> ListReport {
        ListReport {
            list,
            issuer: issuer.map(str::to_owned),
            location: location.to_owned(),
            result: SyncResult::Unavailable,
            code: None,
            reason: None,
            sequence: None,
            previous_sequence: None,
            issued_at: None,
            expires_at: None,
        }
    }

    /// The list was refused (or could not be had): `result` with its code
    /// and the sentence for people.
    pub fn failed(mut self, result: SyncResult, code: &'static str, reason: String) -> ListReport {
        self.result = result;
        self.code = Some(code);
        self.reason = Some(reason);
        self
    }

    pub(crate) fn refused(self, code: &'static str, reason: String) -> ListReport {
        self.failed(SyncResult::Refused, code, reason)
    }

    /// The trust list held, described.
    pub fn describe_trust(&mut self, held: Option<&TrustedList>) {
        if let Some(list) = held.map(TrustedList::list) {
            self.sequence = Some(list.sequence);
            self.issued_at = Some(list.issued_at.0);
            self.expires_at = Some(list.expires_at.0);
        }
    }

    /// A status list held, described.
    pub fn describe_status(&mut self, held: &StatusList) {
        self.issued_at = Some(held.issued_at().0);
        self.expires_at = Some(held.expires_at().0);
    }
}
