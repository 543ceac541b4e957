//! `transcript verify` and `transcript show`.

use super::Context;
use anyhow::{Context as _, Result};
use clap::Subcommand;
use sealpass_keys::files;
use sealpass_keys::transcript::{GENESIS, find_head, verify};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Check every entry's hash and link, and print the head hash.
    ///
    /// Witnesses write the head hash down (and sign the paper) after each
    /// step. Later, --head checks that a hash written down is still in the
    /// chain: nothing before it was altered or removed since.
    Verify {
        /// A head hash a witness wrote down earlier.
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
    /// Print the transcript one entry a line (after checking it).
    Show,
}

pub fn run(command: Command, context: &Context) -> Result<ExitCode> {
    let bytes = files::read(&context.transcript)?;
    let entries = verify(&bytes).with_context(|| {
        format!(
            "the transcript {} is not sound",
            context.transcript.display()
        )
    })?;
    match command {
        Command::Verify { head } => {
            let last = entries.last().map_or(GENESIS, |e| e.hash.as_str());
            println!(
                "transcript {}: {} entries, chain intact",
                context.transcript.display(),
                entries.len()
            );
            if let Some(head) = head {
                let at = find_head(&entries, &head)?;
                println!(
                    "the witnessed head hash is entry {at}; {} entries were added after it",
                    entries.len() - at
                );
            }
            println!("head hash: {last}");
        }
        Command::Show => {
            for entry in &entries {
                println!(
                    "{:>3}  {}  {:<14} {}{}",
                    entry.index,
                    entry.time_utc,
                    entry.action,
                    entry.summary,
                    entry
                        .by
                        .as_deref()
                        .map(|by| format!(" [by {by}]"))
                        .unwrap_or_default()
                );
                for file in entry.inputs.iter() {
                    println!("       in   {}  {}", file.sha256, file.path);
                }
                for file in entry.outputs.iter() {
                    println!("       out  {}  {}", file.sha256, file.path);
                }
                println!("       hash {}", entry.hash);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
