//! `custodian new` and `custodian card`.

use super::{Context, refuse_existing};
use anyhow::{Context as _, Result};
use clap::Subcommand;
use sealpass_keys::card::{CustodianCard, fingerprint};
use sealpass_keys::files::{self, Mode, with_extension};
use sealpass_keys::keyfile::{self, KeyRole, SealedKey};
use sealpass_keys::transcript::{FileDigest, Step};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Make your root key, on your own offline machine.
    ///
    /// Writes PREFIX.key (your secret, sealed under your passphrase, mode
    /// 0600) and PREFIX.pub (your public key card, for the drafting table),
    /// and prints the card: read the fingerprint aloud, or show the QR code,
    /// so the others can check it. Refuses to overwrite existing files.
    New {
        /// Your name as the list will show it, e.g. "Wang Li".
        #[arg(long)]
        name: String,
        /// Where to write: PREFIX.key and PREFIX.pub.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
    },
    /// Print a custodian's key card (fingerprint, public key, QR) from a
    /// .pub file.
    Card {
        /// A custodian's .pub file.
        card: PathBuf,
    },
}

pub fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::New { name, out } => new(&name, &out, context),
        Command::Card { card } => {
            let card = CustodianCard::from_json(&files::read(&card)?)
                .with_context(|| format!("{} is not a custodian card", card.display()))?;
            print!("{}", card.render());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn new(name: &str, out: &std::path::Path, context: &Context) -> Result<ExitCode> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "the custodian's name is empty");
    let key_path = with_extension(out, "key");
    let card_path = with_extension(out, "pub");
    refuse_existing(&[&key_path, &card_path])?;
    let mut transcript = context.open_transcript()?;
    let passphrase = context
        .secrets
        .new_passphrase(&format!("the root key of {name}"))?;

    context.warn_if_weak_kdf();
    let key = keyfile::generate()?;
    let public_key = key.verifying_key().to_bytes();
    let sealed = SealedKey::seal(
        &key,
        KeyRole::Custodian,
        name,
        &passphrase,
        context.kdf_log_n,
    )?;
    drop(key);
    let sealed = sealed.to_json();
    let card = CustodianCard::new(name, &public_key).to_json();
    files::write_new(&key_path, &sealed, Mode::OwnerOnly)?;
    files::write_new(&card_path, &card, Mode::Public)?;

    print!("{}", CustodianCard::new(name, &public_key).render());
    println!(
        "wrote {} (secret, sealed; keep it offline) and {} (public card)",
        key_path.display(),
        card_path.display()
    );
    context.record(
        &mut transcript,
        Step {
            action: "custodian new".into(),
            summary: format!("made the root key of custodian {name}"),
            by: Some(format!("{name}, fingerprint {}", fingerprint(&public_key))),
            public_keys: vec![hex::encode(public_key)],
            inputs: vec![],
            outputs: vec![
                FileDigest::of(&key_path, &sealed),
                FileDigest::of(&card_path, &card),
            ],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
