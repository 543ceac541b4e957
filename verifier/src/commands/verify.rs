//! `verify`: pass texts from the command line or from standard input.

use super::Context;
use crate::verdict::{self, Origin};
use clap::Args;
use sealpass_checkpoint::{Outcome, Verdict};
use sealpass_core::ReplayMemory;
use std::io::Read;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  sealpass-verifier verify 'SP1:RRQT 9 60GO07/3BTV-$G$4K8CKHQB180+M…'
  xclip -o | sealpass-verifier verify
  sealpass-verifier --json --policy office verify \"$PASS\"

Each pass gets one verdict: VALID with its colour, the masked name and id to
compare with the ID card and how long it stays valid; or NOT VALID or CANNOT
DECIDE with one reason. Exit code: the worst verdict (0, 1 or 2).";

/// Decide on pass texts given as arguments or on standard input
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct VerifyArgs {
    /// Pass texts (`SP1:…`). Quote each one: passes contain spaces. With
    /// none, or `-`, passes are read from standard input, one per line
    #[arg(value_name = "PASS")]
    passes: Vec<String>,
}

pub fn run(context: &Context, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let inputs: Vec<(String, Origin)> = if args.passes.is_empty() || args.passes == ["-"] {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        String::from_utf8_lossy(&bytes)
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| (line.to_owned(), Origin::Line(n as u64 + 1)))
            .collect()
    } else {
        args.passes
            .into_iter()
            .map(|pass| (pass, Origin::Argument))
            .collect()
    };
    if inputs.is_empty() {
        let verdict = Verdict::undecided(
            "no_input",
            "input",
            "no pass given: pass it as an argument or on standard input".into(),
        );
        return Ok(ExitCode::from(
            context.emit(&verdict, &Origin::Line(1)).exit_code(),
        ));
    }
    let now = context.clock.now()?;
    let checkpoint = context.checkpoint(now);
    let mut worst = Outcome::Valid;
    // The live codes accepted in this run: the same one again is warned of.
    let mut memory = ReplayMemory::default();
    for (text, origin) in inputs {
        let verdict = match &checkpoint {
            Ok(checkpoint) => checkpoint.decide(&mut memory, &text, now),
            Err(e) => verdict::setup(e),
        };
        worst = worst.max(context.emit(&verdict, &origin));
    }
    Ok(ExitCode::from(worst.exit_code()))
}
