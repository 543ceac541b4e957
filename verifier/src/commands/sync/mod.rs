//! `sync`: fetch the trust list and the status lists, offer them to the
//! lists held (`sealpass-checkpoint` decides) and store what was accepted.
//! Whatever fails, the lists held before stay.

mod report;

use super::Context;
use crate::checkpoint::{load_stored, persist_trust_list};
use crate::output;
use crate::source::{self, FetchError, Fetched, Source};
use anyhow::Context as _;
use clap::Args;
use sealpass_checkpoint::{ClockComparison, ListKind, ListReport, Lists, SyncResult, issuers};
use sealpass_core::trust::MAX_TRUST_LIST_LEN;
use sealpass_core::{RootSet, Timestamp};
use std::path::PathBuf;
use std::process::ExitCode;

/// Largest status list fetched, as the core accepts (16 MiB).
const MAX_STATUS_LIST_LEN: usize = 16 << 20;

const AFTER_HELP: &str = "\
The source holds `trust-list.cbor` and `status/<issuer>.cbor` (e.g.
`status/CN-610100.cbor`); over HTTP, an issuer key that names its own
status-list URL in the trust list is fetched from there.

The first sync needs the root-set file handed out by the key ceremony
(`--roots`); compare its fingerprint, printed here, with the one read out at
the ceremony, or give it with `--roots-fingerprint`. Later syncs accept a
new trust list only if it is signed by the threshold of the roots trusted
now (and of its own roots when they change), is newer than the one held
(no rollback), has not expired and is not issued in the future
(docs/trust.md, rules T0-T7). A stored list that no longer verifies
against the pinned roots is set aside, but starting again never accepts a
sequence below the highest ever accepted here, unless `--re-pin` says so.
Status lists must be signed by a trusted key of their issuer, not be issued
in the future and not be older than the one held. Anything refused leaves
the list held before in place.

Exit code: 0 all lists stored or unchanged, 1 a list was refused, 2 a list
could not be fetched (or nothing is trusted yet).

Examples:
  sealpass-verifier sync --from https://health.example/sealpass --roots roots.cbor
  sealpass-verifier sync --from /media/usb/sealpass";

/// Fetch, check and store the trust list and the status lists
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct SyncArgs {
    /// Where the lists are: an http:// or https:// URL, a directory, or a
    /// file:// URL
    #[arg(long, value_name = "URL|DIR")]
    from: String,

    /// The root-set file from the key ceremony, pinned at the first sync
    #[arg(long, value_name = "FILE")]
    roots: Option<PathBuf>,

    /// Refuse the root-set file unless its SHA-256 fingerprint is this (hex)
    #[arg(long, value_name = "HEX", requires = "roots")]
    roots_fingerprint: Option<String>,

    /// Forget the trust list held and the highest sequence ever accepted,
    /// and trust whatever list the --roots file's custodians signed, even
    /// an older one. Only after a compromise or a lost ceremony, on the
    /// custodians' word: without it no sync ever goes back to an older list
    #[arg(long, requires = "roots")]
    re_pin: bool,
}

pub fn run(context: &Context, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let now = context.clock.now()?;
    if context.check_clock(now).is_err() {
        return Ok(ExitCode::from(2));
    }
    let source = Source::parse(&args.from);
    let mut lists = held_lists(context, &args, now)?;
    let mut clock = None;
    let mut reports = vec![sync_trust_list(
        context, &source, &args, &mut lists, now, &mut clock,
    )?];
    let current = lists.trust.as_ref().filter(|t| now < t.list().expires_at);
    for (issuer, url) in current.map(|t| issuers(t.list())).unwrap_or_default() {
        let location = source.status_list(&issuer, url.as_deref());
        let report = match source::fetch(&location, MAX_STATUS_LIST_LEN) {
            Ok(fetched) => {
                compare_clock(context, &fetched, &mut clock)?;
                let bytes = fetched.bytes;
                let report = lists.offer_status_list(&issuer, &location.to_string(), &bytes, now);
                if report.result == SyncResult::Accepted {
                    context.state.store_status_list(&issuer, &bytes)?;
                }
                report
            }
            Err(e) => unavailable(&lists, ListKind::StatusList, Some(&issuer), &location, e),
        };
        reports.push(report);
    }
    // Remember the time now that the state directory surely exists.
    let _ = context.state.check_clock(now, context.clock_skew);
    for report in &reports {
        if context.json {
            println!("{}", serde_json::to_string(report)?);
        } else {
            print!("{}", report::render(report, now, context.style.zone));
        }
    }
    if let Some(clock) = clock {
        if context.json {
            println!("{}", serde_json::json!({ "clock": clock }));
        }
        if let Some(warning) = clock.warning() {
            output::warn(&warning);
        }
    }
    let worst = reports
        .iter()
        .map(|r| r.result.exit_code())
        .max()
        .unwrap_or(0);
    Ok(ExitCode::from(worst))
}

/// The lists the state directory holds. A stored trust list that no longer
/// verifies is set aside with a warning: the sync starts again from the
/// pinned roots, never below the highest sequence accepted. `--re-pin`
/// forgets both.
fn held_lists(context: &Context, args: &SyncArgs, now: Timestamp) -> anyhow::Result<Lists> {
    if args.re_pin {
        return Ok(Lists::default());
    }
    let stored = load_stored(&context.state, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(error) = &stored.trust_error {
        output::warn(&format!(
            "{error}; starting again from the pinned roots, never below the highest sequence accepted here"
        ));
    }
    if let (Some(held), Some(_)) = (&stored.lists.trust, &args.roots) {
        output::warn(&format!(
            "--roots is only read at the first sync (or with --re-pin): this verifier already trusts sequence {}",
            held.list().sequence
        ));
    }
    Ok(stored.lists)
}

/// Offer the source's trust list: bootstrap (from `--roots` or the pin),
/// update (T0-T7), or keep the one held; store what was accepted.
fn sync_trust_list(
    context: &Context,
    source: &Source,
    args: &SyncArgs,
    lists: &mut Lists,
    now: Timestamp,
    clock: &mut Option<ClockComparison>,
) -> anyhow::Result<ListReport> {
    let location = source.trust_list();
    let shown = location.to_string();
    if lists.trust.is_none() {
        match pinned_roots(args, lists.pinned.as_ref())? {
            Ok(roots) if args.re_pin => lists.re_pin(roots),
            Ok(roots) => lists.pinned = Some(roots),
            Err((code, reason)) => {
                let report = ListReport::new(ListKind::TrustList, None, &shown);
                return Ok(report.failed(SyncResult::Unavailable, code, reason));
            }
        }
    }
    let candidate = match source::fetch(&location, MAX_TRUST_LIST_LEN) {
        Ok(fetched) => {
            compare_clock(context, &fetched, clock)?;
            fetched.bytes
        }
        Err(e) => {
            let mut report = unavailable(lists, ListKind::TrustList, None, &location, e);
            report.previous_sequence = lists.trust.as_ref().map(|t| t.list().sequence);
            return Ok(report);
        }
    };
    let report = lists.offer_trust_list(&shown, &candidate, now);
    if matches!(
        report.result,
        SyncResult::Bootstrapped | SyncResult::Replaced
    ) {
        persist_trust_list(&context.state, lists)?;
    }
    Ok(report)
}

/// This device's clock against the list server's, from the first answer
/// that carried a `Date` (docs/verifier.md, "Clock").
fn compare_clock(
    context: &Context,
    fetched: &Fetched,
    clock: &mut Option<ClockComparison>,
) -> anyhow::Result<()> {
    if let (None, Some(server)) = (&clock, fetched.server_time) {
        *clock = Some(ClockComparison::new(context.clock.now()?, server));
    }
    Ok(())
}

/// The report for a list that could not be fetched; the one held stays.
fn unavailable(
    lists: &Lists,
    list: ListKind,
    issuer: Option<&str>,
    location: &source::Location,
    error: FetchError,
) -> ListReport {
    let code = match error {
        FetchError::NotFound => "not_found",
        FetchError::Failed(_) => "fetch_failed",
    };
    lists.unavailable(list, issuer, &location.to_string(), code, error.to_string())
}

/// The root set to bootstrap against: `--roots` (pinned once the list is
/// accepted), else the one pinned before. Err: (code, reason) to report.
fn pinned_roots(
    args: &SyncArgs,
    held: Option<&RootSet>,
) -> anyhow::Result<Result<RootSet, (&'static str, String)>> {
    let (bytes, from_file) = match &args.roots {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the root-set file {}", path.display()))?;
            (bytes, true)
        }
        None => match held {
            Some(roots) => (roots.to_cbor(), false),
            None => {
                return Ok(Err((
                    "no_roots",
                    "nothing is trusted yet: give the root-set file from the key ceremony with --roots FILE".into(),
                )));
            }
        },
    };
    let roots = match RootSet::from_cbor(&bytes) {
        Ok(roots) => roots,
        Err(e) => {
            return Ok(Err((
                "bad_roots",
                format!("the root-set file is not valid: {e}"),
            )));
        }
    };
    let fingerprint = roots.fingerprint();
    if let Some(expected) = &args.roots_fingerprint {
        let expected = expected.trim().to_ascii_lowercase().replace([':', ' '], "");
        if expected != fingerprint {
            return Ok(Err((
                "roots_fingerprint_mismatch",
                format!(
                    "the root-set file's fingerprint is {fingerprint}, not {expected}: do not use this file"
                ),
            )));
        }
    } else if from_file {
        output::warn(&format!(
            "pinning the root set {} of {} with fingerprint {fingerprint}: compare it with the one read out at the key ceremony",
            roots.threshold,
            roots.keys.len()
        ));
    }
    Ok(Ok(roots))
}
