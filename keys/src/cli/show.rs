//! `show`: explain any sealpass ceremony file.

use super::Context;
use anyhow::{Result, bail};
use sealpass_core::{RootSet, SignedTrustList, TrustedList};
use sealpass_keys::card::{CustodianCard, IssuerCard};
use sealpass_keys::explain::{describe, describe_roots};
use sealpass_keys::files;
use sealpass_keys::json::{list_json, roots_json, sealed_key_json};
use sealpass_keys::keyfile::SealedKey;
use std::path::PathBuf;
use std::process::ExitCode;

/// Explain a trust list or draft (who signed, what counts), a root-set
/// file, or a key card or key file (public parts only). Read-only.
#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
    /// Also count a list's signatures against this current list's roots.
    #[arg(long, value_name = "LIST")]
    current: Option<PathBuf>,
    /// Print the facts as JSON (docs/key-ceremony.md, "For scripts").
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, context: &Context) -> Result<ExitCode> {
    let bytes = files::read(&args.file)?;
    if let Ok(signed) = SignedTrustList::from_bytes(&bytes) {
        let current = match &args.current {
            Some(path) => Some(TrustedList::from_stored(&files::read(path)?)?),
            None => None,
        };
        let mut against = vec![("its own", &signed.list().roots)];
        if let Some(current) = &current {
            against.insert(0, ("the current list's", &current.list().roots));
        }
        if args.json {
            let mut value = serde_json::to_value(list_json(&signed, &against, context.now))?;
            value["sha256"] = files::sha256_hex(&bytes).into();
            print_json(&value)?;
        } else {
            print!("{}", describe(&signed, &against, context.now));
            println!("SHA-256 of the file: {}", files::sha256_hex(&bytes));
        }
    } else if let Ok(roots) = RootSet::from_cbor(&bytes) {
        if args.json {
            let mut value = serde_json::to_value(roots_json(&roots))?;
            value["kind"] = "root_set".into();
            print_json(&value)?;
        } else {
            print!("{}", describe_roots(&roots));
        }
    } else if let Ok(card) = CustodianCard::from_json(&bytes) {
        if args.json {
            print_card("custodian_card", &bytes)?;
        } else {
            print!("{}", card.render());
        }
    } else if let Ok(card) = IssuerCard::from_json(&bytes) {
        if args.json {
            print_card("issuer_card", &bytes)?;
        } else {
            print!("{}", card.render());
        }
    } else if let Ok(sealed) = SealedKey::from_json(&bytes) {
        let public_key = sealed.public_key_bytes()?;
        if args.json {
            print_json(&sealed_key_json(&sealed, &public_key))?;
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "sealed {} secret key of {} (scrypt 2^{}); key id {}; fingerprint {}",
            sealed.role.name(),
            sealed.label,
            sealed.kdf.log_n,
            sealpass_core::Kid::of(&public_key),
            sealpass_keys::card::fingerprint(&public_key)
        );
        if sealed.kdf.log_n < sealpass_keys::keyfile::DEFAULT_LOG_N {
            println!(
                "WARNING: its scrypt cost is below the 2^{} sealpass-keys uses: a test key, cheap to crack",
                sealpass_keys::keyfile::DEFAULT_LOG_N
            );
        }
    } else {
        bail!(
            "{} is not a sealpass trust list, draft, root set, key card or key file",
            args.file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `value` as one line of JSON.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// A key card (public by nature) as it is on file, with its kind.
fn print_card(kind: &str, bytes: &[u8]) -> Result<()> {
    let card: serde_json::Value = serde_json::from_slice(bytes)?;
    print_json(&serde_json::json!({ "kind": kind, "card": card }))
}
