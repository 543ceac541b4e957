//! What `sync` says about each list, for people: the report itself, and its
//! `--json` line, are `sealpass_checkpoint::ListReport`.

use crate::zone::Zone;
use sealpass_checkpoint::{ListReport, SyncResult};
use sealpass_core::Timestamp;

/// Two lines for people: the list and where from, then what happened.
pub fn render(report: &ListReport, now: Timestamp, zone: Zone) -> String {
    let name = match &report.issuer {
        Some(issuer) => format!("status list of {issuer}"),
        None => "trust list".to_owned(),
    };
    let held = match (report.sequence, report.expires_at) {
        (Some(sequence), Some(expires_at)) => {
            format!(
                "sequence {sequence}, {}",
                expiry(Timestamp(expires_at), now, zone)
            )
        }
        (None, Some(expires_at)) => expiry(Timestamp(expires_at), now, zone),
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

fn expiry(expires_at: Timestamp, now: Timestamp, zone: Zone) -> String {
    let at = zone.show(expires_at);
    if now < expires_at {
        format!("expires {at} (in {})", expires_at.since(now))
    } else {
        format!("EXPIRED {at} ({} ago)", now.since(expires_at))
    }
}
