//! `sign once|daemon|bulk`: the signer, the only command that opens the
//! issuer key.

use super::{Global, open_store, parse_duration, progress_bar};
use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use sealpass_core::Seconds;
use sealpass_issuer::write::key::open_issuer_key;
use sealpass_issuer::write::signer::{PassSigner, SignerConfig};
use sealpass_keys::passphrase::Passphrase;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand)]
pub enum Command {
    /// Sign everything due now (new subjects, status changes, renewals) and
    /// the status list if needed, then exit.
    Once(SignArgs),
    /// Keep signing: a round every --interval, so a status change has a new
    /// pass within seconds. Stops cleanly on Ctrl-C or SIGTERM.
    Daemon {
        #[command(flatten)]
        args: SignArgs,
        /// Time between rounds
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        interval: Seconds,
    },
    /// Sign the whole population that is due, on all cores, with a progress
    /// bar. Interrupted, it resumes where it stopped when run again.
    Bulk(SignArgs),
}

#[derive(Args)]
pub struct SignArgs {
    /// The issuer key card (ISSUER.pub from `sealpass-keys issuer new`); a
    /// file key is looked for beside it, a token key in its token
    #[arg(long, env = "SEALPASS_ISSUER_KEY_CARD", value_name = "FILE")]
    key_card: PathBuf,
    /// A file holding the key file's passphrase or the token's PIN [default:
    /// $SEALPASS_PASSPHRASE, else $SEALPASS_PKCS11_PIN]
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Validity of a pass
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    validity: Seconds,
    /// Renew a pass when this much of it is left
    #[arg(long, default_value = "8h", value_parser = parse_duration)]
    renew_before: Seconds,
    /// Expiries are spread over this much, so renewals never come as one wave
    #[arg(long, default_value = "4h", value_parser = parse_duration)]
    jitter: Seconds,
    /// Validity of a signed status list
    #[arg(long, default_value = "6h", value_parser = parse_duration)]
    status_list_validity: Seconds,
    /// Signing threads [default: one per core]
    #[arg(long)]
    threads: Option<usize>,
}

fn secret(args: &SignArgs) -> Result<Passphrase> {
    if let Some(path) = &args.secret_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(Passphrase::from_line(
            text.lines().next().unwrap_or_default().to_owned(),
        ));
    }
    std::env::var("SEALPASS_PASSPHRASE")
        .or_else(|_| std::env::var("SEALPASS_PKCS11_PIN"))
        .map(Passphrase::from_line)
        .context("the issuer key's passphrase or PIN is needed: set SEALPASS_PASSPHRASE (key file), SEALPASS_PKCS11_PIN (token) or --secret-file")
}

async fn signer(args: &SignArgs, global: &Global) -> Result<PassSigner> {
    let (card, key) = open_issuer_key(&args.key_card, &secret(args)?)?;
    let store = open_store(global).await?;
    let mut config = SignerConfig::new(&card.issuer);
    config.validity = args.validity;
    config.renew_before = args.renew_before;
    config.jitter = args.jitter;
    config.status_list_validity = args.status_list_validity;
    config.status_list_renew_before = Seconds(args.status_list_validity.0 / 2);
    if let Some(threads) = args.threads {
        config.threads = threads;
    }
    let signer = PassSigner::new(store, key, config).map_err(anyhow::Error::msg)?;
    tracing::info!(kid = %signer.kid(), issuer = %card.issuer, "issuer key opened");
    match signer.check_standing(super::now()).await? {
        Some(sequence) => {
            tracing::info!(
                trust_list = sequence,
                "the trust list lets the issuer key sign"
            )
        }
        None => tracing::warn!(
            "no trust list is stored yet (sealpass-issuer trust publish): the issuer key is not checked against one"
        ),
    }
    Ok(signer)
}

pub async fn run(command: Command, global: &Global) -> Result<ExitCode> {
    match command {
        Command::Once(args) => {
            let signer = signer(&args, global).await?;
            let report = signer.round(super::now(), &|_| {}).await?;
            println!(
                "signed {} passes ({} left due: their status changed meanwhile){}",
                report.stored,
                report.stale,
                if report.status_list_signed {
                    "; status list signed"
                } else {
                    ""
                }
            );
        }
        Command::Bulk(args) => {
            let signer = signer(&args, global).await?;
            let now = super::now();
            let store = open_store(global).await?;
            let due = store.count_due(now).await?;
            let bar = progress_bar(due, "signing", false);
            let started = std::time::Instant::now();
            let report = signer.round(now, &|n| bar.inc(n)).await?;
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "signed and stored {} passes in {seconds:.1} s ({:.0} passes/s, {} threads){}",
                report.stored,
                report.stored as f64 / seconds.max(1e-9),
                signer.config().threads,
                if report.stale > 0 {
                    format!("; {} left due (status changed meanwhile)", report.stale)
                } else {
                    String::new()
                }
            );
            println!(
                "stages busy: reading and reserving indices {:.1} s, signing {:.1} s, storing {:.1} s",
                report.read_seconds, report.sign_seconds, report.write_seconds
            );
        }
        Command::Daemon { args, interval } => {
            let signer = signer(&args, global).await?;
            let shutdown = super::serve::shutdown();
            tokio::pin!(shutdown);
            loop {
                let report = signer.round(super::now(), &|_| {}).await?;
                if report.stored > 0 || report.status_list_signed {
                    tracing::info!(
                        stored = report.stored,
                        stale = report.stale,
                        status_list = report.status_list_signed,
                        "round"
                    );
                }
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(Duration::from_secs(interval.0.max(1))) => {}
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
