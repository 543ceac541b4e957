//! `finalize`: check a signed draft and write the list verifiers download.

use super::{BasisArgs, Context, refuse_existing};
use anyhow::{Context as _, Result};
use sealpass_core::SignedTrustList;
use sealpass_keys::ceremony::{Basis, finalize};
use sealpass_keys::explain::describe;
use sealpass_keys::files::{self, Mode};
use sealpass_keys::transcript::{FileDigest, Step};
use std::path::PathBuf;
use std::process::ExitCode;

/// Check the signed draft as verifiers will and write the published list.
///
/// Needs the threshold of distinct custodians of the current root set (or
/// the pinned one, for the first list); a list that changes the root set
/// also needs the threshold of its new root set. Refuses a draft changed
/// after signing, a sequence not above the current list's, and an expired
/// list. Signatures that count for no root set are left out.
#[derive(clap::Args)]
pub struct Args {
    /// The signed draft.
    draft: PathBuf,
    #[command(flatten)]
    basis: BasisArgs,
    /// Where to write the trust list verifiers download.
    #[arg(long, value_name = "LIST")]
    out: PathBuf,
}

pub fn run(args: Args, context: &Context) -> Result<ExitCode> {
    refuse_existing(&[&args.out])?;
    let mut transcript = context.open_transcript()?;
    let (basis, basis_digest) = args.basis.load()?;
    let draft = files::read(&args.draft)?;
    let done = finalize(&draft, &basis, context.now).with_context(|| {
        format!(
            "{} was not finalized; nothing was written",
            args.draft.display()
        )
    })?;
    files::write_new(&args.out, &done.bytes, Mode::Public)?;

    let signed = SignedTrustList::from_bytes(&done.bytes)?;
    let mut against = vec![("the current", basis.roots())];
    if signed.list().roots != *basis.roots() {
        against.push(("the new", &signed.list().roots));
    }
    print!("{}", describe(&signed, &against, context.now));
    for line in &done.dropped {
        println!("left out: {line}");
    }
    let hash = files::sha256_hex(&done.bytes);
    println!(
        "wrote {} (SHA-256 {hash}): publish it where verifiers sync",
        args.out.display()
    );
    let signers: Vec<String> = signed
        .count_root_signatures(&signed.list().roots)
        .signatures
        .iter()
        .filter_map(|c| match c {
            sealpass_core::Counted::Valid(i) => {
                Some(signed.list().roots.keys[*i].custodian.clone())
            }
            _ => None,
        })
        .collect();
    let rotated = matches!(&basis, Basis::Current(c) if c.list().roots != signed.list().roots);
    context.record(
        &mut transcript,
        Step {
            action: "finalize".into(),
            summary: format!(
                "finalized list sequence {}{}, signed by {} signature(s) (of its own custodians: {})",
                signed.list().sequence,
                if rotated { " (root rotation)" } else { "" },
                signed.signatures().len(),
                signers.join(", ")
            ),
            by: None,
            public_keys: vec![],
            inputs: vec![basis_digest, FileDigest::of(&args.draft, &draft)],
            outputs: vec![FileDigest::of(&args.out, &done.bytes)],
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
