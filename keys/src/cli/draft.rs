//! `draft`: the next trust list, from the current one (or, the very first
//! time, from the pinned root set), with the sequence raised by one.

use super::{BasisArgs, Context, parse_duration, parse_kid, refuse_existing};
use anyhow::{Context as _, Result};
use sealpass_core::{Kid, Seconds, SignedTrustList};
use sealpass_keys::card::{CustodianCard, IssuerCard};
use sealpass_keys::ceremony::Basis;
use sealpass_keys::drafting::{Edits, first_list, next_list};
use sealpass_keys::explain::{changes, describe};
use sealpass_keys::files::{self, Mode};
use sealpass_keys::transcript::{FileDigest, Step};
use std::path::PathBuf;
use std::process::ExitCode;

/// Draft the next trust list with the ceremony's changes.
///
/// The draft is the current list with the sequence raised by one, new issue
/// and expiry dates, and the changes below. It is written unsigned to --out;
/// then it travels from custodian to custodian (`sign`) and is finalized
/// once enough have signed. Key ids are the 16 hex digits `show` prints.
///
/// Examples:
///   draft --roots roots.cbor --add-issuer-key issuer-2026.pub --max-pass-lifetime 2d --out list-1.draft
///   draft --current trust-list-1.cose --revoke 1f51fa5b853a9f0d --out list-2.draft
///   draft --current trust-list-1.cose --replace-custodian 9c3e...=zhao.pub --out list-2.draft
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    basis: BasisArgs,
    /// Where to write the unsigned draft.
    #[arg(long, value_name = "DRAFT")]
    out: PathBuf,
    /// How long the list stays valid from now. Verifiers refuse to decide
    /// with an expired list, so publish the next one well before.
    #[arg(long, value_parser = parse_duration, default_value = "30d")]
    expires_in: Seconds,
    /// Add an issuer key from its .pub card (`issuer new`).
    #[arg(long, value_name = "CARD")]
    add_issuer_key: Vec<PathBuf>,
    /// Retire an issuer key: it signs no more; passes it signed stay valid.
    #[arg(long, value_parser = parse_kid, value_name = "KID")]
    retire: Vec<Kid>,
    /// Revoke an issuer key (leaked): nothing it ever signed is accepted.
    #[arg(long, value_parser = parse_kid, value_name = "KID")]
    revoke: Vec<Kid>,
    /// Set an issuer key's status-list location (an empty URL removes it).
    #[arg(long, value_parser = parse_url_edit, value_name = "KID=URL")]
    status_list_url: Vec<(Kid, Option<String>)>,
    /// Add a custodian from their .pub card.
    #[arg(long, value_name = "CARD")]
    add_custodian: Vec<PathBuf>,
    /// Remove a custodian (lost, left, or compromised).
    #[arg(long, value_parser = parse_kid, value_name = "KID")]
    remove_custodian: Vec<Kid>,
    /// Replace a custodian's key with a new card.
    #[arg(long, value_parser = parse_replacement, value_name = "KID=CARD")]
    replace_custodian: Vec<(Kid, PathBuf)>,
    /// Change how many distinct custodians must sign.
    #[arg(long)]
    threshold: Option<u32>,
    /// The longest a pass or status list may be valid (exp - iat), set on
    /// every issuer key of the list; required while any key has none (the
    /// first list, a new key, or a list from before format version 2).
    /// Verifiers refuse longer passes: cover the issuer's pass validity
    /// with its jitter and clock skew, e.g. 2d for 24 h passes.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    max_pass_lifetime: Option<Seconds>,
}

fn parse_url_edit(text: &str) -> Result<(Kid, Option<String>), String> {
    let (kid, url) = text.split_once('=').ok_or("expected KID=URL")?;
    let url = url.trim();
    Ok((parse_kid(kid)?, (!url.is_empty()).then(|| url.to_owned())))
}

fn parse_replacement(text: &str) -> Result<(Kid, PathBuf), String> {
    let (kid, card) = text.split_once('=').ok_or("expected KID=CARD")?;
    Ok((parse_kid(kid)?, PathBuf::from(card)))
}

pub fn run(args: Args, context: &Context) -> Result<ExitCode> {
    refuse_existing(&[&args.out])?;
    let mut transcript = context.open_transcript()?;
    let (basis, basis_digest) = args.basis.load()?;
    let mut inputs = vec![basis_digest];
    let mut custodian_card = |path: &PathBuf| -> Result<sealpass_core::RootKey> {
        let bytes = files::read(path)?;
        inputs.push(FileDigest::of(path, &bytes));
        Ok(CustodianCard::from_json(&bytes)
            .with_context(|| format!("{} is not a custodian card", path.display()))?
            .root_key())
    };
    let mut edits = Edits {
        replace_custodians: Vec::new(),
        remove_custodians: args.remove_custodian,
        add_custodians: Vec::new(),
        threshold: args.threshold,
        add_issuer_keys: Vec::new(),
        retire: args.retire,
        revoke: args.revoke,
        status_list_urls: args.status_list_url,
        max_pass_lifetime: args.max_pass_lifetime,
    };
    for (kid, path) in &args.replace_custodian {
        edits.replace_custodians.push((*kid, custodian_card(path)?));
    }
    for path in &args.add_custodian {
        edits.add_custodians.push(custodian_card(path)?);
    }
    for path in &args.add_issuer_key {
        let bytes = files::read(path)?;
        inputs.push(FileDigest::of(path, &bytes));
        let card = IssuerCard::from_json(&bytes)
            .with_context(|| format!("{} is not an issuer key card", path.display()))?;
        edits.add_issuer_keys.push(card.trust_entry());
    }

    let issued_at = context.now;
    let expires_at = issued_at.plus(args.expires_in);
    let (list, summary) = match &basis {
        Basis::Pinned(roots) => {
            let list = first_list(roots.clone(), &edits, issued_at, expires_at)?;
            let summary = vec![format!(
                "first list, sequence 1, with {} issuer keys",
                list.issuer_keys.len()
            )];
            (list, summary)
        }
        Basis::Current(current) => {
            let list = next_list(current.list(), &edits, issued_at, expires_at)?;
            let summary = changes(current.list(), &list);
            (list, summary)
        }
    };
    let draft = SignedTrustList::draft(list);
    let bytes = draft.to_bytes();
    files::write_new(&args.out, &bytes, Mode::Public)?;

    print!("{}", describe(&draft, &[], context.now));
    println!("changes:");
    for line in &summary {
        println!("  - {line}");
    }
    println!(
        "wrote the unsigned draft {} (SHA-256 {})",
        args.out.display(),
        files::sha256_hex(&bytes)
    );
    context.record(
        &mut transcript,
        Step {
            action: "draft".into(),
            summary: format!(
                "drafted list sequence {}: {}",
                draft.list().sequence,
                summary.join("; ")
            ),
            by: None,
            public_keys: draft
                .list()
                .issuer_keys
                .iter()
                .map(|k| hex::encode(k.public_key))
                .chain(
                    draft
                        .list()
                        .roots
                        .keys
                        .iter()
                        .map(|k| hex::encode(k.public_key)),
                )
                .collect(),
            inputs,
            outputs: vec![FileDigest::of(&args.out, &bytes)],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
