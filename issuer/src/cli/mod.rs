//! The subcommands, one module each, and what they share: the store URL,
//! logging, the clock and progress bars.

mod demo;
mod import;
mod population;
mod public;
mod serve;
mod sign;
mod stats;
mod token;
mod trust;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sealpass_core::Timestamp;
use sealpass_issuer::store::{Store, redact_url};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Exit code of a failure (clap's usage errors exit 2 as well).
pub const EXIT_FAILED: u8 = 2;

/// The sealpass issuer: health status from the health authorities in, signed
/// passes out.
///
/// The store is an SQLite file (the default) or PostgreSQL (a postgres://
/// URL). Health-authority systems push enrolments, status updates and
/// revocations through the admin API (`serve`) or from files (`import`);
/// the signer (`sign`), the only part that opens the issuer key, signs a pass
/// for everyone ahead of time and keeps the status list current.
///
/// Getting started:
///
///   sealpass-issuer migrate
///   sealpass-issuer population --count 1000 --out people.csv   (synthetic people)
///   sealpass-issuer import subjects people.csv
///   SEALPASS_PASSPHRASE=... sealpass-issuer sign bulk --key-card issuer.pub
///   sealpass-issuer token create --name cdc-xian --scope status:write
///   sealpass-issuer serve --listen 127.0.0.1:8080
#[derive(Parser)]
#[command(
    name = "sealpass-issuer",
    version,
    max_term_width = 100,
    verbatim_doc_comment
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
pub struct Global {
    /// The store: a file path or sqlite://PATH (SQLite), or
    /// postgres://USER@HOST/DB (PostgreSQL)
    #[arg(
        long,
        global = true,
        env = "SEALPASS_STORE",
        default_value = "sealpass-issuer.db",
        value_name = "URL"
    )]
    pub store: String,
    /// Log level: error, warn, info, debug
    #[arg(
        long,
        global = true,
        env = "SEALPASS_LOG",
        default_value = "info",
        value_name = "LEVEL"
    )]
    pub log: tracing::Level,
    /// Log format: text, or json (one object per line) [default: json for
    /// `public`, text otherwise]
    #[arg(
        long,
        global = true,
        env = "SEALPASS_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<LogFormat>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create or update the store's tables (idempotent; every command that
    /// needs them runs it too).
    Migrate,
    /// Admin API tokens for health-authority systems.
    #[command(subcommand)]
    Token(token::Command),
    /// Serve the admin ingestion API (role `admin`).
    #[command(visible_alias = "admin")]
    Serve(serve::ServeArgs),
    /// Serve the public API: passes to citizens, signed lists to
    /// verifiers, the citizen page and the web verifier. Holds no key.
    Public(public::PublicArgs),
    /// Start the whole system in one command, for development and trying it
    /// out: development keys, synthetic citizens, signer, public and admin
    /// APIs, citizen page, web verifier, demo login. Never for real passes.
    Demo(demo::DemoArgs),
    /// Import enrolments, status updates or revocations from a CSV or
    /// NDJSON file.
    Import(import::ImportArgs),
    /// Sign passes and the status list with the issuer key (role `signer`).
    #[command(subcommand, visible_alias = "signer")]
    Sign(sign::Command),
    /// Write a synthetic population (CSV or NDJSON) for tests and demos.
    Population(population::PopulationArgs),
    /// Publish a trust list from the key ceremony.
    #[command(subcommand)]
    Trust(trust::Command),
    /// Counts of subjects, passes, events and revocations.
    Stats(stats::StatsArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = match cli.global.log_format {
        Some(format) => format == LogFormat::Json,
        None => matches!(cli.command, Command::Public(_)),
    };
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_max_level(cli.global.log)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_max_level(cli.global.log)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Migrate => {
            let store = open_store(global).await?;
            println!(
                "the store at {} is up to date ({})",
                redact_url(&global.store),
                store.kind().name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(command) => token::run(command, global).await,
        Command::Serve(args) => serve::run(args, global).await,
        Command::Public(args) => public::run(args, global).await,
        Command::Demo(args) => demo::run(args, global).await,
        Command::Import(args) => import::run(args, global).await,
        Command::Sign(command) => sign::run(command, global).await,
        Command::Population(args) => population::run(args),
        Command::Trust(command) => trust::run(command, global).await,
        Command::Stats(args) => stats::run(args, global).await,
    }
}

/// Open the store and bring its schema up to date.
pub async fn open_store(global: &Global) -> Result<Store> {
    let store = Store::open(&global.store)
        .await
        .with_context(|| format!("cannot open the store {}", redact_url(&global.store)))?;
    store.migrate().await.context("cannot migrate the store")?;
    Ok(store)
}

/// The time now, from the system clock.
pub fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// A progress bar on a terminal, nothing otherwise.
pub fn progress_bar(length: u64, what: &str, bytes: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    let template = if bytes {
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
    } else {
        "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Parse a duration such as 90s, 30m, 8h, 1d.
pub fn parse_duration(text: &str) -> Result<sealpass_core::Seconds, String> {
    sealpass_core::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration: use e.g. 90s, 30m, 8h or 1d"))
}
