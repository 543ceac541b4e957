//! `scan`: every QR code in image files, each with its own verdict.

use super::Context;
use crate::qr;
use crate::verdict::{self, Origin};
use clap::Args;
use sealpass_checkpoint::{Outcome, Verdict};
use sealpass_core::ReplayMemory;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  sealpass-verifier scan pass.png
  sealpass-verifier scan --json photos/*.jpg

Photos of a phone screen work: tilted, slightly blurred or noisy. When an
image holds several codes, each gets its own verdict. An image that cannot
be read, or in which no code is found, is `CANNOT DECIDE` (exit code 2).";

/// Read every QR code in PNG or JPEG images and decide on each
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ScanArgs {
    /// PNG or JPEG files: screenshots, rendered passes or photos of a screen
    #[arg(value_name = "IMAGE", required = true)]
    images: Vec<PathBuf>,
}

pub fn run(context: &Context, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let now = context.clock.now()?;
    let checkpoint = context.checkpoint(now);
    let progress = args.images.len() > 1 && std::io::stderr().is_terminal();
    let mut worst = Outcome::Valid;
    // The live codes accepted in this run: the same one again is warned of.
    let mut memory = ReplayMemory::default();
    for (n, path) in args.images.iter().enumerate() {
        let shown = path.display().to_string();
        if progress {
            eprint!("\r\x1b[2Kreading {}/{}: {shown}", n + 1, args.images.len());
            let _ = std::io::stderr().flush();
        }
        let codes = qr::read_codes(path);
        if progress {
            eprint!("\r\x1b[2K");
        }
        match codes {
            Ok(codes) => {
                for (symbol, text) in codes.iter().enumerate() {
                    let verdict = match &checkpoint {
                        Ok(checkpoint) => checkpoint.decide(&mut memory, text, now),
                        Err(e) => verdict::setup(e),
                    };
                    let origin = Origin::Image {
                        path: shown.clone(),
                        symbol: Some(symbol),
                    };
                    worst = worst.max(context.emit(&verdict, &origin));
                }
            }
            Err(e) => {
                let verdict = Verdict::undecided(e.code(), "input", e.to_string());
                let origin = Origin::Image {
                    path: shown,
                    symbol: None,
                };
                worst = worst.max(context.emit(&verdict, &origin));
            }
        }
    }
    Ok(ExitCode::from(worst.exit_code()))
}
