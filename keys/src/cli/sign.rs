//! `sign`: a custodian adds a signature to the draft, on their own machine.

use super::Context;
use anyhow::{Context as _, Result, bail};
use sealpass_core::{RootSet, TrustedList};
use sealpass_keys::card::fingerprint;
use sealpass_keys::ceremony::{check_can_sign, sign_draft};
use sealpass_keys::explain::{changes, describe};
use sealpass_keys::files;
use sealpass_keys::keyfile::{KeyRole, SealedKey};
use sealpass_keys::transcript::{FileDigest, Step};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Read a draft, show what it says, and add your signature to it.
///
/// Check what is printed against what the ceremony agreed before you say
/// yes: sequence, expiry, custodians, and every issuer key with its status.
/// The draft file is replaced by the draft with your signature appended;
/// pass it on to the next custodian. Refused if you already signed, if your
/// key is not a custodian's, or if the draft changed after someone signed.
#[derive(clap::Args)]
pub struct Args {
    /// The draft to sign (replaced in place, atomically).
    draft: PathBuf,
    /// Your custodian key file (.key).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The list verifiers hold now: shows what changes, and lets a custodian
    /// who is being rotated out sign.
    #[arg(long, value_name = "LIST")]
    current: Option<PathBuf>,
    /// Do not ask for confirmation (scripts; the printout still shows).
    #[arg(long)]
    yes: bool,
}

pub fn run(args: Args, context: &Context) -> Result<ExitCode> {
    let draft = files::read(&args.draft)?;
    let sealed = SealedKey::from_json(&files::read(&args.key)?)
        .with_context(|| format!("{} is not a key file", args.key.display()))?;
    if sealed.role != KeyRole::Custodian {
        bail!(
            "{} is an {} key file; trust lists are signed with custodian root keys",
            args.key.display(),
            sealed.role.name()
        );
    }
    let public_key = sealed.public_key_bytes()?;
    let kid = sealpass_core::Kid::of(&public_key);
    let current = match &args.current {
        Some(path) => Some(
            TrustedList::from_stored(&files::read(path)?)
                .with_context(|| format!("{} is not a valid trust list", path.display()))?,
        ),
        None => None,
    };
    let current_roots: Option<&RootSet> = current.as_ref().map(|c| &c.list().roots);
    let signed = check_can_sign(&draft, current_roots, kid, &sealed.label)
        .with_context(|| format!("{} was not signed", args.draft.display()))?;

    let mut against = vec![("the draft's own", &signed.list().roots)];
    if let Some(roots) = current_roots {
        if *roots != signed.list().roots {
            against.insert(0, ("the current list's", roots));
        }
    }
    print!("{}", describe(&signed, &against, context.now));
    if let Some(current) = &current {
        println!("changes from the current list:");
        for line in changes(current.list(), signed.list()) {
            println!("  - {line}");
        }
    }
    if !args.yes && std::io::stdin().is_terminal() {
        print!(
            "Sign list sequence {} as {}? Type yes to sign: ",
            signed.list().sequence,
            sealed.label
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            bail!("not signed: you did not confirm");
        }
    }

    let mut transcript = context.open_transcript()?;
    let passphrase = context
        .secrets
        .passphrase(&format!("the root key of {}", sealed.label))?;
    let key = sealed
        .open(&passphrase, KeyRole::Custodian)
        .with_context(|| format!("cannot open {}", args.key.display()))?;
    drop(passphrase);
    let signed_bytes = sign_draft(&draft, current_roots, &key, &sealed.label)?;
    drop(key);
    files::replace(&args.draft, &signed_bytes)?;
    let count = signed.signatures().len() + 1;
    println!(
        "signed as {} (key id {kid}); the draft now has {count} signature(s). Pass {} on to the next custodian",
        sealed.label,
        args.draft.display()
    );
    let mut inputs = vec![FileDigest::of(&args.draft, &draft)];
    if let Some(path) = &args.current {
        inputs.push(FileDigest::of(path, &files::read(path)?));
    }
    context.record(
        &mut transcript,
        Step {
            action: "sign".into(),
            summary: format!(
                "{} signed draft sequence {} (signature {count})",
                sealed.label,
                signed.list().sequence
            ),
            by: Some(format!(
                "{}, fingerprint {}",
                sealed.label,
                fingerprint(&public_key)
            )),
            public_keys: vec![hex::encode(public_key)],
            inputs,
            outputs: vec![FileDigest::of(&args.draft, &signed_bytes)],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
