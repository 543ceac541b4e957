//! `status`: what the state directory holds and whether this verifier can
//! decide: the pinned roots, the trust list's sequence, age and freshness,
//! the status lists, and the clock.

use super::Context;
use crate::checkpoint::Checkpoint;
use crate::clock::{Clock, TEST_NOW_VAR};
use clap::Args;
use sealpass_checkpoint::{check_stored_status_list, issuers};
use sealpass_core::{Freshness, RootSet, Seconds, Timestamp, TrustedList};
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Exit code: 0 when passes can be decided (a current trust list, a current
status list of every issuer it names, and a clock that was not set back), 2
when they cannot: a health check for scripts. A status list that will expire
before the next planned sync (--next-sync-in) is warned about, so that a
checkpoint sees coming the moment it stops deciding.

Examples:
  sealpass-verifier status
  sealpass-verifier --json status";

/// Show what the state directory holds and whether passes can be decided
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct StatusArgs {
    /// When this checkpoint syncs next: lists that expire before then are
    /// warned about (e.g. 24h for a daily sync)
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_next_sync)]
    next_sync_in: Seconds,
}

fn parse_next_sync(text: &str) -> Result<Seconds, String> {
    sealpass_core::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 6h, 90m or 1d"))
}

#[derive(Debug, Serialize)]
struct Status {
    state_dir: String,
    now: u64,
    clock_pinned: bool,
    newest_time_seen: Option<u64>,
    ready: bool,
    code: Option<&'static str>,
    reason: Option<String>,
    policy: String,
    /// The highest trust-list sequence ever accepted here.
    highest_sequence_accepted: Option<u64>,
    pinned_roots: Option<Roots>,
    trust_list: Option<TrustListStatus>,
    status_lists: Vec<StatusListStatus>,
    /// Sentences for people: what will stop this checkpoint deciding soon.
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Roots {
    threshold: u32,
    custodians: Vec<String>,
    fingerprint: String,
}

impl Roots {
    fn of(roots: &RootSet) -> Roots {
        Roots {
            threshold: roots.threshold,
            custodians: roots.keys.iter().map(|k| k.custodian.clone()).collect(),
            fingerprint: roots.fingerprint(),
        }
    }
}

#[derive(Debug, Serialize)]
struct TrustListStatus {
    sequence: u64,
    issued_at: u64,
    expires_at: u64,
    age_seconds: u64,
    /// `fresh`, `expires_soon` or `expired`.
    freshness: &'static str,
    /// Expires before the next planned sync.
    expires_before_next_sync: bool,
    roots: Roots,
    issuer_keys: Vec<IssuerKeyStatus>,
}

#[derive(Debug, Serialize)]
struct IssuerKeyStatus {
    issuer: String,
    kid: String,
    status: &'static str,
    not_before: u64,
    not_after: u64,
    status_list_url: Option<String>,
}

#[derive(Debug, Serialize)]
struct StatusListStatus {
    issuer: String,
    /// `current`, `expired`, `missing` or `not_used`.
    state: &'static str,
    issued_at: Option<u64>,
    expires_at: Option<u64>,
    entries: Option<u64>,
    reason: Option<String>,
    /// Held, and expires before the next planned sync.
    expires_before_next_sync: bool,
}

pub fn run(context: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let now = context.clock.now()?;
    let state = &context.state;
    let mut status = Status {
        state_dir: state.path().display().to_string(),
        now: now.0,
        clock_pinned: matches!(context.clock, Clock::Pinned(_)),
        newest_time_seen: None,
        ready: false,
        code: None,
        reason: None,
        policy: context
            .policy
            .to_definition()
            .trim_end()
            .replace('\n', "; "),
        pinned_roots: match state.pinned_roots()? {
            Some(bytes) => RootSet::from_cbor(&bytes).ok().map(|r| Roots::of(&r)),
            None => None,
        },
        highest_sequence_accepted: state.highest_sequence().ok().flatten(),
        trust_list: None,
        status_lists: Vec::new(),
        warnings: Vec::new(),
    };
    // The same checks as before deciding a pass: clock, then stored lists.
    let checkpoint = context.checkpoint(now);
    status.newest_time_seen = state.newest_time_seen()?.map(|t| t.0);
    match &checkpoint {
        Ok(checkpoint) => {
            describe_lists(&mut status, checkpoint, context, now);
            warn_before_next_sync(&mut status, checkpoint, now, args.next_sync_in);
            let unchecked = checkpoint.lists.unchecked_issuers(now);
            if now >= checkpoint.trust().list().expires_at {
                status.code = Some("trust_list_expired");
                status.reason = Some("the trust list has expired: sync it".into());
            } else if !unchecked.is_empty() && !context.policy.danger_accept_unchecked_revocation {
                status.code = Some("revocation_not_checked");
                status.reason = Some(format!(
                    "no current status list of {}: revocation cannot be checked, so their passes are not decided until a sync",
                    unchecked.join(", ")
                ));
            } else {
                status.ready = true;
            }
        }
        Err(e) => {
            status.code = Some(e.code());
            status.reason = Some(e.to_string());
        }
    }
    if context.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        print!("{}", render(&status, context.clock));
    }
    Ok(ExitCode::from(if status.ready { 0 } else { 2 }))
}

/// Warn of each list that expires before the next planned sync, so that a
/// checkpoint that will stop deciding sees it coming.
fn warn_before_next_sync(
    status: &mut Status,
    checkpoint: &Checkpoint,
    now: Timestamp,
    next_sync_in: Seconds,
) {
    let next_sync = now.plus(next_sync_in);
    let trust_expires = checkpoint.trust().list().expires_at;
    if now < trust_expires && trust_expires <= next_sync {
        if let Some(list) = &mut status.trust_list {
            list.expires_before_next_sync = true;
        }
        status.warnings.push(format!(
            "the trust list expires {trust_expires}, in {}, before the next planned sync (in {next_sync_in}): sync sooner, or no pass can be decided after that",
            trust_expires.since(now)
        ));
    }
    for list in &mut status.status_lists {
        let Some(expires) = list.expires_at.map(Timestamp) else {
            continue;
        };
        if now < expires && expires <= next_sync {
            list.expires_before_next_sync = true;
            status.warnings.push(format!(
                "the status list of {} expires {expires}, in {}, before the next planned sync (in {next_sync_in}): sync sooner, or its passes cannot be decided after that",
                list.issuer,
                expires.since(now)
            ));
        }
    }
}

fn describe_lists(status: &mut Status, checkpoint: &Checkpoint, context: &Context, now: Timestamp) {
    let trust: &TrustedList = checkpoint.trust();
    let list = trust.list();
    status.trust_list = Some(TrustListStatus {
        sequence: list.sequence,
        issued_at: list.issued_at.0,
        expires_at: list.expires_at.0,
        age_seconds: now.since(list.issued_at).0,
        freshness: match trust.freshness(now) {
            Freshness::Fresh { .. } => "fresh",
            Freshness::ExpiresSoon { .. } => "expires_soon",
            Freshness::Expired { .. } => "expired",
        },
        expires_before_next_sync: false,
        roots: Roots::of(&list.roots),
        issuer_keys: list
            .issuer_keys
            .iter()
            .map(|key| IssuerKeyStatus {
                issuer: key.issuer.clone(),
                kid: key.kid().to_hex(),
                status: key.status.name(),
                not_before: key.not_before.0,
                not_after: key.not_after.0,
                status_list_url: key.status_list_url.clone(),
            })
            .collect(),
    });
    for (issuer, _) in issuers(list) {
        let held = checkpoint.lists.held(&issuer).map(|held| &held.list);
        let entry = match held {
            Some(held) => StatusListStatus {
                issuer,
                state: if now < held.expires_at() {
                    "current"
                } else {
                    "expired"
                },
                issued_at: Some(held.issued_at().0),
                expires_at: Some(held.expires_at().0),
                entries: Some(held.len()),
                reason: None,
                expires_before_next_sync: false,
            },
            None => {
                let stored = context.state.status_list(&issuer).ok().flatten();
                let reason = match stored {
                    None => "none stored: its passes are not decided until a sync".to_owned(),
                    Some(bytes) => match check_stored_status_list(&bytes, trust, now) {
                        Err(e) => e.to_string(),
                        Ok(list) => format!("it names issuer {}", list.issuer()),
                    },
                };
                let missing = reason.starts_with("none stored");
                StatusListStatus {
                    issuer,
                    state: if missing { "missing" } else { "not_used" },
                    issued_at: None,
                    expires_at: None,
                    entries: None,
                    reason: Some(reason),
                    expires_before_next_sync: false,
                }
            }
        };
        status.status_lists.push(entry);
    }
}

fn render(status: &Status, clock: Clock) -> String {
    let mut out = String::new();
    let at = |seconds: u64| Timestamp(seconds);
    let now = at(status.now);
    let _ = writeln!(out, "state directory  {}", status.state_dir);
    let pinned = match clock {
        Clock::Pinned(_) => format!(" (pinned by {TEST_NOW_VAR}: tests only)"),
        Clock::System => String::new(),
    };
    let _ = writeln!(out, "clock            {now}{pinned}");
    if let Some(seen) = status.newest_time_seen {
        let _ = writeln!(out, "newest time seen {}", at(seen));
    }
    let _ = writeln!(out, "policy           {}", status.policy);
    match &status.pinned_roots {
        Some(roots) => {
            let _ = writeln!(out, "pinned roots     {}", describe_roots(roots));
        }
        None => {
            let _ = writeln!(out, "pinned roots     none");
        }
    }
    match &status.trust_list {
        None => {
            let _ = writeln!(out, "trust list       none");
        }
        Some(list) => {
            let freshness = match list.freshness {
                "fresh" => "fresh",
                "expires_soon" => "EXPIRES SOON: sync",
                _ => "EXPIRED: sync",
            };
            let expires = at(list.expires_at);
            let when = if now < expires {
                format!("in {}", expires.since(now))
            } else {
                format!("{} ago", now.since(expires))
            };
            let _ = writeln!(
                out,
                "trust list       sequence {}, issued {} ({} ago), expires {expires} ({when}): {freshness}",
                list.sequence,
                at(list.issued_at),
                now.since(at(list.issued_at)),
            );
            let _ = writeln!(out, "  roots          {}", describe_roots(&list.roots));
            for key in &list.issuer_keys {
                let _ = writeln!(
                    out,
                    "  issuer key     {} {} {}, valid {} to {}",
                    key.issuer,
                    key.kid,
                    key.status,
                    at(key.not_before).date(),
                    at(key.not_after).date(),
                );
            }
        }
    }
    for list in &status.status_lists {
        let line = match (list.issued_at, list.expires_at, list.entries) {
            (Some(issued), Some(expires), Some(entries)) => {
                let expires = at(expires);
                let when = if now < expires {
                    format!("in {}", expires.since(now))
                } else {
                    format!("EXPIRED {} ago: sync", now.since(expires))
                };
                format!(
                    "issued {} ({} ago), expires {expires} ({when}), {entries} entries",
                    at(issued),
                    now.since(at(issued))
                )
            }
            _ => format!(
                "{}: {}",
                list.state.replace('_', " "),
                list.reason.as_deref().unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "status list      {}: {line}", list.issuer);
    }
    for warning in &status.warnings {
        let _ = writeln!(out, "WARNING          {warning}");
    }
    match &status.reason {
        None => {
            let _ = writeln!(out, "ready            yes");
        }
        Some(reason) => {
            let _ = writeln!(out, "ready            NO: {reason}");
        }
    }
    out
}

fn describe_roots(roots: &Roots) -> String {
    format!(
        "{} of {} ({}), fingerprint {}",
        roots.threshold,
        roots.custodians.len(),
        roots.custodians.join(", "),
        roots.fingerprint
    )
}
