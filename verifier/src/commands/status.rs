//! `status`: what the state directory holds and whether this verifier can
//! decide: the pinned roots, the trust list's sequence, age and freshness,
//! the status lists, and the clock.

use super::Context;
use crate::checkpoint::load_stored;
use crate::clock::{Clock, TEST_NOW_VAR};
use crate::zone::Zone;
use clap::Args;
use sealpass_checkpoint::{ListsStatus, RootsState};
use sealpass_core::{Seconds, Timestamp};
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

/// The command line's `status --json`: the shared part
/// (`sealpass_checkpoint::ListsStatus`), and what only it knows.
#[derive(Debug, Serialize)]
struct Status {
    state_dir: String,
    now: u64,
    clock_pinned: bool,
    newest_time_seen: Option<u64>,
    policy: String,
    #[serde(flatten)]
    lists: ListsStatus,
}

pub fn run(context: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let now = context.clock.now()?;
    let state = &context.state;
    // The same checks as before deciding a pass: clock, then stored lists.
    let checkpoint = context.checkpoint(now);
    let (lists, refused) = match checkpoint {
        Ok(checkpoint) => (checkpoint.lists, None),
        Err(e) => {
            let stored = load_stored(state, now).map(|s| s.lists).unwrap_or_default();
            (stored, Some(e))
        }
    };
    let mut shared = lists.status(now, args.next_sync_in, &context.policy);
    if let Some(e) = refused {
        shared.ready = false;
        shared.code = Some(e.code());
        shared.reason = Some(e.to_string());
    }
    let status = Status {
        state_dir: state.path().display().to_string(),
        now: now.0,
        clock_pinned: matches!(context.clock, Clock::Pinned(_)),
        newest_time_seen: state.newest_time_seen()?.map(|t| t.0),
        policy: context
            .policy
            .to_definition()
            .trim_end()
            .replace('\n', "; "),
        lists: shared,
    };
    if context.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        print!("{}", render(&status, context.clock, context.style.zone));
    }
    Ok(ExitCode::from(if status.lists.ready { 0 } else { 2 }))
}

fn render(status: &Status, clock: Clock, zone: Zone) -> String {
    let lists = &status.lists;
    let mut out = String::new();
    let at = |seconds: u64| Timestamp(seconds);
    let now = at(status.now);
    let _ = writeln!(out, "state directory  {}", status.state_dir);
    let pinned = match clock {
        Clock::Pinned(_) => format!(" (pinned by {TEST_NOW_VAR}: tests only)"),
        Clock::System => String::new(),
    };
    let _ = writeln!(out, "clock            {}{pinned}", zone.show(now));
    if let Some(seen) = status.newest_time_seen {
        let _ = writeln!(out, "newest time seen {}", zone.show(at(seen)));
    }
    let _ = writeln!(out, "policy           {}", status.policy);
    match &lists.pinned_roots {
        Some(roots) => {
            let _ = writeln!(out, "pinned roots     {}", describe_roots(roots));
        }
        None => {
            let _ = writeln!(out, "pinned roots     none");
        }
    }
    match &lists.trust_list {
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
                "trust list       sequence {}, issued {} ({} ago), expires {} ({when}): {freshness}",
                list.sequence,
                zone.show(at(list.issued_at)),
                now.since(at(list.issued_at)),
                zone.show(expires),
            );
            let _ = writeln!(out, "  roots          {}", describe_roots(&list.roots));
            for key in &list.issuer_keys {
                let _ = writeln!(
                    out,
                    "  issuer key     {} {} {}, valid {} to {}",
                    key.issuer,
                    key.kid,
                    key.status,
                    zone.date(at(key.not_before)),
                    zone.date(at(key.not_after)),
                );
            }
        }
    }
    for list in &lists.status_lists {
        let line = match (list.issued_at, list.expires_at, list.entries) {
            (Some(issued), Some(expires), Some(entries)) => {
                let expires = at(expires);
                let when = if now < expires {
                    format!("in {}", expires.since(now))
                } else {
                    format!("EXPIRED {} ago: sync", now.since(expires))
                };
                format!(
                    "issued {} ({} ago), expires {} ({when}), {entries} entries",
                    zone.show(at(issued)),
                    now.since(at(issued)),
                    zone.show(expires),
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
    for warning in &lists.warnings {
        let _ = writeln!(out, "WARNING          {warning}");
    }
    match &lists.reason {
        None => {
            let _ = writeln!(out, "ready            yes");
        }
        Some(reason) => {
            let _ = writeln!(out, "ready            NO: {reason}");
        }
    }
    out
}

fn describe_roots(roots: &RootsState) -> String {
    format!(
        "{} of {} ({}), fingerprint {}",
        roots.threshold,
        roots.custodians.len(),
        roots.custodians.join(", "),
        roots.fingerprint
    )
}
