//! `sync`: fetch the trust list and the status lists, check them with the
//! core's rules and store them. Whatever fails, the lists held before stay.

mod report;

use super::Context;
use crate::checkpoint::{follow_rotation, issuers, load_status_list, restore_trust_list};
use crate::output;
use crate::source::{self, Source};
use anyhow::Context as _;
use clap::Args;
use report::{ListReport, SyncResult};
use sealpass_core::trust::MAX_TRUST_LIST_LEN;
use sealpass_core::{RootSet, StatusList, Timestamp, TrustUpdate, TrustedList};
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
    let (trust_report, trusted) = sync_trust_list(context, &source, &args, now)?;
    let mut reports = vec![trust_report];
    if let Some(trust) = trusted.filter(|t| now < t.list().expires_at) {
        for (issuer, url) in issuers(trust.list()) {
            reports.push(sync_status_list(
                context,
                &source,
                &trust,
                &issuer,
                url.as_deref(),
                now,
            )?);
        }
    }
    // Remember the time now that the state directory surely exists.
    let _ = context.state.check_clock(now, context.clock_skew);
    for report in &reports {
        if context.json {
            println!("{}", serde_json::to_string(report)?);
        } else {
            print!("{}", report.render(now));
        }
    }
    let worst = reports
        .iter()
        .map(|r| r.result.exit_code())
        .max()
        .unwrap_or(0);
    Ok(ExitCode::from(worst))
}

/// Offer the source's trust list: bootstrap, update (T0-T7), or keep the
/// one held. Returns the list held afterwards.
fn sync_trust_list(
    context: &Context,
    source: &Source,
    args: &SyncArgs,
    now: Timestamp,
) -> anyhow::Result<(ListReport, Option<TrustedList>)> {
    let state = &context.state;
    let held = if args.re_pin {
        None
    } else {
        match restore_trust_list(state) {
            Ok(held) => held,
            Err(e) => {
                output::warn(&format!(
                    "{e}; starting again from the pinned roots, never below the highest sequence accepted here"
                ));
                None
            }
        }
    };
    let highest = if args.re_pin {
        0
    } else {
        state.highest_sequence()?.unwrap_or(0)
    };
    if let Some(held) = &held {
        // A state directory from before the record starts it here.
        state.raise_highest_sequence(held.list().sequence)?;
    }
    let location = source.trust_list();
    let mut report = ListReport::new("trust_list", None, &location);
    if let (Some(held), Some(_)) = (&held, &args.roots) {
        output::warn(&format!(
            "--roots is only read at the first sync (or with --re-pin): this verifier already trusts sequence {}",
            held.list().sequence
        ));
    }
    let pinned = match &held {
        Some(_) => None,
        None => match pinned_roots(context, args)? {
            Ok(pinned) => Some(pinned),
            Err((code, reason)) => {
                return Ok((report.failed(SyncResult::Unavailable, code, reason), None));
            }
        },
    };
    describe_trust_list(&mut report, held.as_ref());
    let candidate = match source::fetch(&location, MAX_TRUST_LIST_LEN) {
        Ok(bytes) => bytes,
        Err(e) => return Ok((report.unavailable(e), held)),
    };
    let previous_sequence = held.as_ref().map(|t| t.list().sequence);
    report.previous_sequence = previous_sequence;
    let (offered, basis) = match (&held, &pinned) {
        (Some(held), _) => (held.update(&candidate, now), &held.list().roots),
        (None, Some((roots, _))) => (
            TrustedList::bootstrap_at_least(roots, &candidate, now, highest)
                .map(TrustUpdate::Replaced),
            roots,
        ),
        (None, None) => unreachable!("pinned roots are loaded when nothing is held"),
    };
    let now_held = match offered {
        Ok(TrustUpdate::Unchanged) => {
            report.result = SyncResult::Unchanged;
            held
        }
        Ok(TrustUpdate::Replaced(accepted)) => {
            if let Some((_, Some(file_bytes))) = &pinned {
                state.store_pinned_roots(file_bytes)?;
            }
            state.store_trust_list(accepted.bytes())?;
            follow_rotation(state, basis, &accepted)?;
            let sequence = accepted.list().sequence;
            if args.re_pin {
                state.reset_highest_sequence(sequence)?;
            } else {
                state.raise_highest_sequence(sequence)?;
            }
            report.result = match held {
                Some(_) => SyncResult::Replaced,
                None => SyncResult::Bootstrapped,
            };
            Some(accepted)
        }
        Err(e) => {
            report = report.failed(SyncResult::Refused, e.code(), e.to_string());
            held
        }
    };
    describe_trust_list(&mut report, now_held.as_ref());
    Ok((report, now_held))
}

fn describe_trust_list(report: &mut ListReport, held: Option<&TrustedList>) {
    if let Some(list) = held.map(TrustedList::list) {
        report.sequence = Some(list.sequence);
        report.issued_at = Some(list.issued_at.0);
        report.expires_at = Some(list.expires_at.0);
    }
}

type PinnedRoots = (RootSet, Option<Vec<u8>>);

/// The root set to bootstrap against: `--roots` (to be pinned if the list
/// is accepted), else the one pinned before. Err: (code, reason) to report.
fn pinned_roots(
    context: &Context,
    args: &SyncArgs,
) -> anyhow::Result<Result<PinnedRoots, (&'static str, String)>> {
    let (bytes, from_file) = match &args.roots {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the root-set file {}", path.display()))?;
            (bytes, true)
        }
        None => match context.state.pinned_roots()? {
            Some(bytes) => (bytes, false),
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
    Ok(Ok((roots, from_file.then_some(bytes))))
}

/// Offer one issuer's status list; keep the one held unless the new one
/// verifies and is not older.
fn sync_status_list(
    context: &Context,
    source: &Source,
    trust: &TrustedList,
    issuer: &str,
    named_url: Option<&str>,
    now: Timestamp,
) -> anyhow::Result<ListReport> {
    let location = source.status_list(issuer, named_url);
    let mut report = ListReport::new("status_list", Some(issuer), &location);
    let held_bytes = context.state.status_list(issuer)?;
    let held = held_bytes
        .as_deref()
        .and_then(|bytes| load_status_list(bytes, trust, now).ok());
    let describe = |report: &mut ListReport, list: &StatusList| {
        report.issued_at = Some(list.issued_at().0);
        report.expires_at = Some(list.expires_at().0);
    };
    if let Some(list) = &held {
        describe(&mut report, list);
    }
    let candidate = match source::fetch(&location, MAX_STATUS_LIST_LEN) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(report.unavailable(e)),
    };
    if held.is_some() && held_bytes.as_deref() == Some(candidate.as_slice()) {
        report.result = SyncResult::Unchanged;
        return Ok(report);
    }
    let list = match StatusList::verify(&candidate, trust, now) {
        Ok(list) => list,
        Err(e) => return Ok(report.failed(SyncResult::Refused, e.code(), e.to_string())),
    };
    if list.issuer() != issuer {
        let reason = format!("it is the status list of issuer {}", list.issuer());
        return Ok(report.failed(SyncResult::Refused, "issuer_mismatch", reason));
    }
    if let Some(held) = held.as_ref().filter(|h| list.issued_at() < h.issued_at()) {
        let reason = format!(
            "issued {}, before the one held ({}): rollback refused",
            list.issued_at(),
            held.issued_at()
        );
        return Ok(report.failed(SyncResult::Refused, "rollback", reason));
    }
    context.state.store_status_list(issuer, &candidate)?;
    describe(&mut report, &list);
    report.result = SyncResult::Accepted;
    Ok(report)
}
