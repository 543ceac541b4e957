//! The subcommands, one module each, and what they share: the clock, the
//! transcript, where secrets come from, and the list a new one is checked
//! against.

mod custodian;
mod draft;
mod finalize;
mod issuer;
mod roots;
mod secrets;
mod show;
mod sign;
mod transcript;
mod verify;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use sealpass_core::{RootSet, Timestamp};
use sealpass_keys::ceremony::Basis;
use sealpass_keys::files;
use sealpass_keys::keyfile::{DEFAULT_LOG_N, MAX_LOG_N};
use sealpass_keys::transcript::{Entry, FileDigest, Step, Transcript};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Exit code of every failure (clap's usage errors exit 2).
pub const EXIT_FAILED: u8 = 1;

/// The sealpass key ceremony: custodian root keys, issuer signing keys, and
/// trust lists signed by a threshold of custodians.
///
/// A ceremony, in order (docs/key-ceremony.md is the full script):
///
///   1. each custodian, on an own offline machine:  custodian new
///   2. the issuer's operator:                       issuer new
///   3. at the table:  roots new (first time only),  draft
///   4. each custodian, on an own machine:           sign
///   5. at the table:  finalize, verify, transcript verify; witnesses write down the head hash
///
/// Every command that makes, signs, exports or finalizes something appends an
/// entry to the hash-chained transcript (--transcript). Exit codes: 0 done,
/// 1 failed or refused (the message says why and what to do), 2 wrong usage.
#[derive(Parser)]
#[command(
    name = "sealpass-keys",
    version,
    max_term_width = 100,
    verbatim_doc_comment
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// The ceremony transcript (JSON Lines, hash-chained). It travels with
    /// the draft; every step is appended to it.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "SEALPASS_TRANSCRIPT",
        default_value = "ceremony-transcript.jsonl"
    )]
    transcript: PathBuf,

    /// Read the passphrase from this open file descriptor (first line) instead
    /// of asking on the terminal. SEALPASS_PASSPHRASE in the environment also
    /// works, for scripted tests only.
    #[arg(
        long,
        global = true,
        value_name = "FD",
        help_heading = "Global options"
    )]
    passphrase_fd: Option<u32>,

    /// Read the PKCS#11 token's user PIN from this file descriptor instead of
    /// asking. SEALPASS_PKCS11_PIN in the environment also works.
    #[arg(
        long,
        global = true,
        value_name = "FD",
        help_heading = "Global options"
    )]
    pin_fd: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Custodian root keys: make one, or print a key card
    #[command(subcommand)]
    Custodian(custodian::Command),
    /// Issuer signing keys (in an encrypted file or a PKCS#11 token)
    #[command(subcommand)]
    Issuer(issuer::Command),
    /// Root-set files verifiers pin on first use
    #[command(subcommand)]
    Roots(roots::Command),
    /// Draft the next trust list (sequence + 1) with the ceremony's changes
    Draft(draft::Args),
    /// Add your custodian signature to a draft
    Sign(sign::Args),
    /// Check a signed draft's threshold and write the list verifiers download
    Finalize(finalize::Args),
    /// Check a list as a verifier would, and explain it
    Verify(verify::Args),
    /// Explain any sealpass file: list, draft, root set or public key
    Show(show::Args),
    /// Check the transcript's hash chain and print its head hash
    #[command(subcommand)]
    Transcript(transcript::Command),
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let context = Context::new(cli.global)?;
    match cli.command {
        Command::Custodian(command) => custodian::run(command, &context),
        Command::Issuer(command) => issuer::run(command, &context),
        Command::Roots(command) => roots::run(command, &context),
        Command::Draft(args) => draft::run(args, &context),
        Command::Sign(args) => sign::run(args, &context),
        Command::Finalize(args) => finalize::run(args, &context),
        Command::Verify(args) => verify::run(args, &context),
        Command::Show(args) => show::run(args, &context),
        Command::Transcript(command) => transcript::run(command, &context),
    }
}

/// What every command may need from the edge.
pub struct Context {
    pub now: Timestamp,
    pub transcript: PathBuf,
    pub secrets: secrets::Sources,
    /// scrypt cost of new key files.
    pub kdf_log_n: u8,
}

/// Lowers the scrypt cost of new key files, for tests only: it makes key
/// files cheap to crack, so its name says so, and only debug (test) builds
/// honour it; a release build refuses to run while it is set.
const DANGER_KDF_ENV: &str = "SEALPASS_DANGER_INSECURE_KDF_LOG_N";

/// The scrypt cost [`DANGER_KDF_ENV`]'s `value` asks for: the full cost
/// when unset; a release build refuses any value.
fn kdf_log_n(value: Option<String>, release_build: bool) -> Result<u8> {
    match value {
        None => Ok(DEFAULT_LOG_N),
        Some(_) if release_build => bail!(
            "{DANGER_KDF_ENV} is set, but this is a release build, which always seals keys at full cost: unset it"
        ),
        Some(value) => value
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LOG_N).contains(n))
            .with_context(|| format!("{DANGER_KDF_ENV} must be 1 to {MAX_LOG_N}")),
    }
}

impl Context {
    fn new(global: Global) -> Result<Context> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let release_build = !cfg!(debug_assertions);
        let kdf_log_n = kdf_log_n(std::env::var(DANGER_KDF_ENV).ok(), release_build)?;
        Ok(Context {
            now: Timestamp(now),
            transcript: global.transcript,
            secrets: secrets::Sources {
                passphrase_fd: global.passphrase_fd,
                pin_fd: global.pin_fd,
            },
            kdf_log_n,
        })
    }

    /// Say so loudly when new key files are made cheap to crack.
    pub fn warn_if_weak_kdf(&self) {
        if self.kdf_log_n < DEFAULT_LOG_N {
            eprintln!(
                "WARNING: {DANGER_KDF_ENV}={}: this key file is cheap to crack. For tests only.",
                self.kdf_log_n
            );
        }
    }

    /// The transcript, its chain checked before anything is done.
    pub fn open_transcript(&self) -> Result<Transcript> {
        Transcript::open(&self.transcript).with_context(|| {
            format!(
                "the transcript {} is not sound; nothing was done",
                self.transcript.display()
            )
        })
    }

    /// Append a step and tell the room the new head hash.
    pub fn record(&self, transcript: &mut Transcript, step: Step) -> Result<()> {
        let entry: &Entry = transcript.append(step, self.now)?;
        println!(
            "transcript {}: entry {} appended, head hash {}",
            self.transcript.display(),
            entry.index,
            entry.hash
        );
        Ok(())
    }
}

/// `--current LIST` or `--roots FILE`: what a new list must satisfy.
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
pub struct BasisArgs {
    /// The trust list verifiers hold now (every list after the first).
    #[arg(long, value_name = "LIST")]
    current: Option<PathBuf>,
    /// The pinned root-set file (`roots new`), for the very first list only.
    #[arg(long, value_name = "ROOTS")]
    roots: Option<PathBuf>,
}

impl BasisArgs {
    pub fn load(&self) -> Result<(Basis, FileDigest)> {
        if let Some(path) = &self.current {
            let bytes = files::read(path)?;
            let basis = Basis::current(&bytes)
                .with_context(|| format!("{} is not a valid trust list", path.display()))?;
            Ok((basis, FileDigest::of(path, &bytes)))
        } else if let Some(path) = &self.roots {
            let (roots, digest) = read_roots(path)?;
            Ok((Basis::Pinned(roots), digest))
        } else {
            bail!("give --current LIST or --roots FILE")
        }
    }
}

pub fn read_roots(path: &Path) -> Result<(RootSet, FileDigest)> {
    let bytes = files::read(path)?;
    let roots = RootSet::from_cbor(&bytes)
        .with_context(|| format!("{} is not a sealpass root-set file", path.display()))?;
    Ok((roots, FileDigest::of(path, &bytes)))
}

/// `365d`, `48h`, `30m`, `3600s`.
pub fn parse_duration(text: &str) -> Result<sealpass_core::Seconds, String> {
    sealpass_core::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration like 30d, 48h or 90m"))
}

/// `2026-12-01` (UTC midnight).
pub fn parse_date(text: &str) -> Result<Timestamp, String> {
    let parts: Vec<u32> = text
        .split('-')
        .map(|p| p.parse().map_err(|_| ()))
        .collect::<Result<_, ()>>()
        .map_err(|()| format!("{text:?} is not a date like 2026-12-01"))?;
    match parts[..] {
        [y, m, d] => sealpass_core::Date::from_ymd(y, m, d)
            .map(|date| Timestamp(u64::from(date.0) * 86_400))
            .ok_or_else(|| format!("{text} is not a day of the calendar")),
        _ => Err(format!("{text:?} is not a date like 2026-12-01")),
    }
}

/// A key id given on the command line: 16 hex digits.
pub fn parse_kid(text: &str) -> Result<sealpass_core::Kid, String> {
    let bytes = hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or_else(|| {
            format!("{text:?} is not a key id (16 hex digits, as `show` prints them)")
        })?;
    Ok(sealpass_core::Kid(bytes))
}

/// Refuse early, before any passphrase is asked, if an output exists.
pub fn refuse_existing(paths: &[&Path]) -> Result<()> {
    for path in paths {
        if path.exists() {
            return Err(files::FileError::WouldOverwrite(path.to_path_buf()).into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The security review's untested path: a release build refuses the
    /// test-only switch that makes key files cheap to crack.
    #[test]
    fn a_release_build_refuses_the_insecure_kdf_switch() {
        let refused = kdf_log_n(Some("4".into()), true).unwrap_err();
        assert!(refused.to_string().contains("release build"), "{refused}");
        assert_eq!(kdf_log_n(Some("4".into()), false).unwrap(), 4);
        assert!(kdf_log_n(Some("99".into()), false).is_err());
        assert_eq!(kdf_log_n(None, true).unwrap(), DEFAULT_LOG_N);
    }
}
