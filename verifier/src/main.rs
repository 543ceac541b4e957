//! `sealpass-verifier`: the checkpoint side of sealpass. It decides on a
//! health pass with no network at all, from the trust list and status lists
//! that `sync` stored; the decisions themselves are `sealpass-core`'s.
//!
//! ```text
//! $ sealpass-verifier sync --from https://health.example/sealpass --roots roots.cbor
//! $ sealpass-verifier verify 'SP1:RRQT 9 60GO07/3BTV-$G$4K8CKHQB180+M…'
//! $ sealpass-verifier scan photo.jpg
//! $ sealpass-verifier listen            # a USB scanner in keyboard mode
//! ```
//!
//! Exit codes: 0 valid, 1 not valid, 2 could not decide. The `--json`
//! output and the state directory are documented in docs/verifier.md.

#![forbid(unsafe_code)]

mod checkpoint;
mod clock;
mod commands;
mod output;
mod qr;
mod source;
mod state;
mod verdict;
mod zone;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use sealpass_core::{BUILTIN_PROFILES, CheckpointPolicy, MAX_CLOCK_SKEW, Seconds, parse_duration};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str = "Check sealpass health passes at a checkpoint, offline.";

const LONG_ABOUT: &str = "\
Check sealpass health passes at a checkpoint, offline.

A pass is decided on this device alone: its signature, its issuer's key, its
validity window, revocation and this checkpoint's policy. The network is used
only by `sync`, which fetches the signed trust list and status lists and
stores them in the state directory. Without a sync, verification goes on
from the stored lists: it warns when they are getting old and refuses to
decide once they have expired.";

const AFTER_HELP: &str = "\
Exit codes (for every command that decides): 0 valid, 1 not valid, 2 could not
decide (bad input, no trust list, unreadable image, clock set back). With
several passes, the worst one.

First use, with the root-set file handed out by the key ceremony:
  sealpass-verifier sync --from https://health.example/sealpass --roots roots.cbor
Then, e.g. once a day:
  sealpass-verifier sync --from https://health.example/sealpass
Or from a USB stick, with no network:
  sealpass-verifier sync --from /media/usb/sealpass

Check passes:
  sealpass-verifier verify 'SP1:…'          a pass text (quote it: it has spaces)
  sealpass-verifier scan photo.jpg          every QR code in PNG or JPEG images
  sealpass-verifier listen                  a USB scanner in keyboard mode
  sealpass-verifier --json verify 'SP1:…'   one JSON object per pass
  sealpass-verifier status                  how old the stored lists are";

#[derive(Debug, Parser)]
#[command(
    name = "sealpass-verifier",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Where the trust list, the status lists and the clock's high-water mark
    /// are kept [default: $XDG_STATE_HOME/sealpass-verifier, else
    /// ~/.local/state/sealpass-verifier]
    #[arg(long, global = true, env = "SEALPASS_STATE_DIR", value_name = "DIR")]
    state_dir: Option<PathBuf>,

    /// This checkpoint's policy: a built-in profile (subway: green;
    /// office: green and a test within 48 h; hospital: green, a test
    /// within 24 h and 2 doses; outdoor: green or yellow), or a policy
    /// file such as `colours = green; max-test-age = 48h; min-doses = 2`
    #[arg(
        long,
        global = true,
        env = "SEALPASS_POLICY",
        value_name = "NAME|FILE",
        default_value = "subway"
    )]
    policy: String,

    /// One JSON object per line and per pass, with stable field names
    /// (docs/verifier.md), instead of the verdict for people
    #[arg(long, global = true)]
    json: bool,

    /// Show times in UTC instead of this machine's time zone (TZ, else
    /// /etc/localtime); --json always gives Unix seconds
    #[arg(long, global = true)]
    utc: bool,

    /// How far this device's clock may differ from the issuer's: passes
    /// issued that little in the future are accepted, and a clock that went
    /// back by more than this is refused (e.g. 90s, 5m; at most 1h)
    #[arg(long, global = true, value_name = "DURATION", default_value = "5m", value_parser = parse_skew)]
    clock_skew: Seconds,
}

#[derive(Debug, Subcommand)]
enum Command {
    Verify(commands::verify::VerifyArgs),
    Scan(commands::scan::ScanArgs),
    Listen(commands::listen::ListenArgs),
    Sync(commands::sync::SyncArgs),
    Status(commands::status::StatusArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let context = commands::Context::new(
        state_dir(cli.global.state_dir)?,
        load_policy(&cli.global.policy)?,
        cli.global.clock_skew,
        cli.global.json,
        cli.global.utc,
    )?;
    match cli.command {
        Command::Verify(args) => commands::verify::run(&context, args),
        Command::Scan(args) => commands::scan::run(&context, args),
        Command::Listen(args) => commands::listen::run(&context, args),
        Command::Sync(args) => commands::sync::run(&context, args),
        Command::Status(args) => commands::status::run(&context, args),
    }
}

fn state_dir(given: Option<PathBuf>) -> anyhow::Result<state::StateDir> {
    let path = match given {
        Some(path) => path,
        None => state::StateDir::default_path().context(
            "no state directory: set --state-dir, SEALPASS_STATE_DIR, XDG_STATE_HOME or HOME",
        )?,
    };
    Ok(state::StateDir::new(path))
}

/// A built-in profile by name, else a policy definition file.
fn load_policy(name_or_file: &str) -> anyhow::Result<CheckpointPolicy> {
    if let Some(policy) = CheckpointPolicy::builtin(name_or_file) {
        return Ok(policy);
    }
    let path = Path::new(name_or_file);
    if !path.exists() {
        bail!(
            "no policy `{name_or_file}`: use a built-in profile ({}) or a policy file",
            BUILTIN_PROFILES.join(", ")
        );
    }
    let definition = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    definition
        .parse()
        .with_context(|| format!("the policy file {} is not valid", path.display()))
}

fn parse_skew(text: &str) -> Result<Seconds, String> {
    let skew = parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 90s, 5m or 1h"))?;
    if skew > MAX_CLOCK_SKEW {
        return Err(format!(
            "{skew} is more than the {MAX_CLOCK_SKEW} a checkpoint may tolerate: a larger skew would accept expired passes. Set this device's clock right instead"
        ));
    }
    Ok(skew)
}
