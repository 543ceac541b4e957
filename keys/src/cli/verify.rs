//! `verify`: check a list exactly as a verifier would (rules T0-T6).

use super::{BasisArgs, Context, EXIT_FAILED};
use anyhow::{Context as _, Result};
use sealpass_core::SignedTrustList;
use sealpass_keys::explain::describe;
use sealpass_keys::files;
use sealpass_keys::json::list_json;
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
    /// Print the list and the verdict as JSON (docs/key-ceremony.md, "For
    /// scripts"); the exit code is the same.
    #[arg(long)]
    json: bool,
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
    let verdict = basis.accept(&bytes, context.now);
    if args.json {
        let mut value = serde_json::to_value(list_json(&signed, &against, context.now))?;
        value["accepted"] = verdict.is_ok().into();
        value["refusal"] = match &verdict {
            Ok(_) => serde_json::Value::Null,
            Err(err) => serde_json::json!({ "code": err.code(), "message": err.to_string() }),
        };
        super::show::print_json(&value)?;
        return Ok(match verdict {
            Ok(_) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(EXIT_FAILED),
        });
    }
    print!("{}", describe(&signed, &against, context.now));
    match verdict {
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
