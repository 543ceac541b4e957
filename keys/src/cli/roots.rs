//! `roots new`, `roots export` and `roots show`: the root-set file verifiers
//! pin on first use (`RootSet::to_cbor`), checked by its fingerprint.

use super::{Context, read_roots, refuse_existing};
use anyhow::{Context as _, Result, ensure};
use clap::Subcommand;
use sealpass_core::{RootSet, TrustedList};
use sealpass_keys::card::CustodianCard;
use sealpass_keys::explain::describe_roots;
use sealpass_keys::files::{self, Mode};
use sealpass_keys::transcript::{FileDigest, Step};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Make the first root set from the custodians' .pub cards.
    ///
    /// Check every card's fingerprint with its custodian, aloud, before you
    /// run this. The file is what verifiers pin; publish it with its
    /// fingerprint through a second channel (a printed notice, the city's
    /// web site), so a verifier can check it is the real one.
    New {
        /// How many distinct custodians must sign each list (at least 2).
        #[arg(long)]
        threshold: u32,
        /// Where to write the root-set file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The custodians' .pub cards, in the order the list shows them.
        #[arg(required = true, value_name = "CARD")]
        cards: Vec<PathBuf>,
    },
    /// Write the root set of a signed list, for verifiers installed after a
    /// rotation to pin.
    Export {
        /// A finalized trust list.
        #[arg(long, value_name = "LIST")]
        list: PathBuf,
        /// Where to write the root-set file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Explain a root-set file and print its fingerprint.
    Show { roots: PathBuf },
}

pub fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::New {
            threshold,
            out,
            cards,
        } => new(threshold, &out, &cards, context),
        Command::Export { list, out } => export(&list, &out, context),
        Command::Show { roots } => {
            let (roots, _) = read_roots(&roots)?;
            print!("{}", describe_roots(&roots));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn new(threshold: u32, out: &Path, cards: &[PathBuf], context: &Context) -> Result<ExitCode> {
    refuse_existing(&[out])?;
    let mut transcript = context.open_transcript()?;
    let mut keys = Vec::new();
    let mut inputs = Vec::new();
    for path in cards {
        let bytes = files::read(path)?;
        let card = CustodianCard::from_json(&bytes)
            .with_context(|| format!("{} is not a custodian card", path.display()))?;
        keys.push(card.root_key());
        inputs.push(FileDigest::of(path, &bytes));
    }
    ensure!(
        threshold >= 2,
        "a threshold of {threshold} lets a single custodian change the list alone; use at least 2"
    );
    let roots = RootSet { threshold, keys };
    let bytes = roots.to_cbor();
    RootSet::from_cbor(&bytes).context("these cards do not make a valid root set")?;
    files::write_new(out, &bytes, Mode::Public)?;
    print!("{}", describe_roots(&roots));
    println!("wrote {}", out.display());
    record(
        context,
        &mut transcript,
        "roots new",
        &roots,
        inputs,
        out,
        &bytes,
    )
}

fn export(list: &Path, out: &Path, context: &Context) -> Result<ExitCode> {
    refuse_existing(&[out])?;
    let mut transcript = context.open_transcript()?;
    let list_bytes = files::read(list)?;
    let trusted = TrustedList::from_stored(&list_bytes)
        .with_context(|| format!("{} is not a valid signed trust list", list.display()))?;
    let roots = trusted.list().roots.clone();
    let bytes = roots.to_cbor();
    files::write_new(out, &bytes, Mode::Public)?;
    print!("{}", describe_roots(&roots));
    println!(
        "wrote {} from list sequence {}",
        out.display(),
        trusted.list().sequence
    );
    let inputs = vec![FileDigest::of(list, &list_bytes)];
    record(
        context,
        &mut transcript,
        "roots export",
        &roots,
        inputs,
        out,
        &bytes,
    )
}

fn record(
    context: &Context,
    transcript: &mut sealpass_keys::transcript::Transcript,
    action: &str,
    roots: &RootSet,
    inputs: Vec<FileDigest>,
    out: &Path,
    bytes: &[u8],
) -> Result<ExitCode> {
    context.record(
        transcript,
        Step {
            action: action.into(),
            summary: format!(
                "wrote a root set of {} custodians, threshold {}, fingerprint {}",
                roots.keys.len(),
                roots.threshold,
                files::sha256_hex(bytes)
            ),
            by: None,
            public_keys: roots
                .keys
                .iter()
                .map(|k| hex::encode(k.public_key))
                .collect(),
            inputs,
            outputs: vec![FileDigest::of(out, bytes)],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
