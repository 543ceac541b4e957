//! `listen`: a USB barcode scanner in keyboard mode types each pass and
//! Enter; every line gets exactly one verdict, in order, and nothing a
//! scanner (or a person at the keyboard) types stops the loop.

use super::Context;
use crate::checkpoint::Checkpoint;
use crate::state::SetupError;
use crate::verdict::{self, Origin};
use clap::Args;
use sealpass_checkpoint::{Outcome, Verdict};
use sealpass_core::ReplayMemory;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

/// Longer lines are read to their end and refused: a pass is at most 2048
/// characters, and a stuck key must not fill the memory.
pub const MAX_LINE_LEN: usize = 64 * 1024;

const AFTER_HELP: &str = "\
Set the scanner to keyboard mode with Enter (CR or LF) after each code, and
the same keyboard layout (US) on the scanner and this computer: a pass typed
through another layout (`SP1Ö…`, `SP&M…`) is recognised and said so.

Each line gets one verdict as soon as Enter arrives, and a bell on a
terminal. Blank lines are skipped. The clock is read for every pass, and a
`sync` made meanwhile (e.g. by cron) is picked up at the next pass. At the
end of the input the exit code is the worst verdict's (0, 1 or 2).

Examples:
  sealpass-verifier listen
  sealpass-verifier --json listen < scans.txt > verdicts.jsonl";

/// Decide on each line a USB barcode scanner types, until the input ends
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ListenArgs {
    /// Do not ring the terminal bell after each verdict
    #[arg(long)]
    no_bell: bool,
}

pub fn run(context: &Context, args: ListenArgs) -> anyhow::Result<ExitCode> {
    let bell = context.style.terminal && !context.json && !args.no_bell;
    let mut input = io::stdin().lock();
    let mut loaded: Option<(Vec<_>, Result<Checkpoint, SetupError>)> = None;
    let mut worst = Outcome::Valid;
    // The live codes accepted in this run: the same one again is warned of.
    let mut memory = ReplayMemory::default();
    let mut number = 0;
    while let Some((line, too_long)) = read_line(&mut input, MAX_LINE_LEN)? {
        number += 1;
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let verdict = if too_long {
            Verdict::undecided(
                "line_too_long",
                "input",
                format!("a line of more than {MAX_LINE_LEN} bytes is no pass: is a key stuck?"),
            )
        } else {
            match context.clock.now() {
                Err(e) => Verdict::undecided("clock_unreadable", "setup", format!("{e:#}")),
                Ok(now) => match context.check_clock(now) {
                    Err(e) => verdict::setup(&e),
                    Ok(()) => {
                        // Reload after a sync, or while nothing could be loaded.
                        let generation = context.state.generation();
                        let stale = match &loaded {
                            Some((seen, Ok(_))) => *seen != generation,
                            _ => true,
                        };
                        if stale {
                            loaded = Some((generation, context.load_checkpoint(now)));
                        }
                        match &loaded {
                            Some((_, Ok(checkpoint))) => checkpoint.decide(&mut memory, &text, now),
                            Some((_, Err(e))) => verdict::setup(e),
                            None => unreachable!("loaded just above"),
                        }
                    }
                },
            }
        };
        worst = worst.max(context.emit(&verdict, &Origin::Line(number)));
        if bell {
            let _ = io::stdout().write_all(b"\x07");
            let _ = io::stdout().flush();
        }
    }
    Ok(ExitCode::from(worst.exit_code()))
}

/// One line without its `\n` (a `\r` before it is left for trimming), at
/// most `cap` bytes of it; `true` if more was read and dropped. `None` at
/// the end of the input.
fn read_line(input: &mut impl BufRead, cap: usize) -> io::Result<Option<(Vec<u8>, bool)>> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(read_any.then_some((line, too_long)));
        }
        read_any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let room = cap.saturating_sub(line.len());
        too_long |= chunk.len() > room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let consumed = newline.map_or(available.len(), |at| at + 1);
        input.consume(consumed);
        if newline.is_some() {
            return Ok(Some((line, too_long)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<(Vec<u8>, bool)> {
        let mut reader = io::BufReader::with_capacity(4, input);
        std::iter::from_fn(|| read_line(&mut reader, cap).unwrap()).collect()
    }

    #[test]
    fn lines_are_split_capped_and_the_last_needs_no_newline() {
        let got = lines(b"SP1:AB\r\n\nabcdefghij\nend", 5);
        let expected: Vec<(Vec<u8>, bool)> = vec![
            (b"SP1:A".to_vec(), true),
            (b"".to_vec(), false),
            (b"abcde".to_vec(), true),
            (b"end".to_vec(), false),
        ];
        assert_eq!(got, expected);
        assert!(lines(b"", 5).is_empty());
        assert_eq!(lines(b"\xff\xfe\n", 5), [(b"\xff\xfe".to_vec(), false)]);
    }
}
