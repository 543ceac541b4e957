//! `verify`: check a list exactly as a verifier would (rules T0-T6).

use super::{BasisArgs, Context, EXIT_FAILED};
use anyhow::{Context as _, Result};
use sealpass_core::SignedTrustList;
use sealpass_keys::explain::describe;
use sealpass_keys::files;
use std::path::PathBuf;
use std::process::ExitCode;

/// Check a trust list as a verifier holding --current (or pinning --roots)
/// would, and explain it. Exit 0 if verifiers would accept it, 1 if not.
/// Read-only: nothing is appended to the transcript.
#[derive(clap::Args)]
pub struct Args {
    /// The trust list to check.
    list: PathBuf,
    #[command(flatten)]
    basis: BasisArgs,
}

pub fn run(args: Args, context: &Context) -> Result<ExitCode> {
    let (basis, _) = args.basis.load()?;
    let bytes = files::read(&args.list)?;
    let signed = SignedTrustList::from_bytes(&bytes)
        .with_context(|| format!("{} is not a trust list", args.list.display()))?;
    let mut against = vec![("the current", basis.roots())];
    if signed.list().roots != *basis.roots() {
        against.push(("the new", &signed.list().roots));
    }
    print!("{}", describe(&signed, &against, context.now));
    match basis.accept(&bytes, context.now) {
        Ok(_) => {
            println!("ACCEPTED: verifiers holding the current list will accept this one");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("REFUSED ({}): {err}", err.code());
            eprintln!(
                "error: verifiers would refuse {}: {err}",
                args.list.display()
            );
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}
