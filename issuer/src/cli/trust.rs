//! `trust publish`: store the trust list the key ceremony finalized, so the
//! read side can serve it exactly as signed.

use super::{Global, now, open_store};
use anyhow::{Context as _, Result};
use clap::Subcommand;
use sealpass_core::TrustedList;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Store a finalized trust list (trust-list-N.cose from `sealpass-keys
    /// finalize`). Its structure and custodian signatures are checked
    /// against its own root set first.
    Publish { file: PathBuf },
}

pub async fn run(command: Command, global: &Global) -> Result<ExitCode> {
    let Command::Publish { file } = command;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let list = TrustedList::from_stored(&bytes)
        .with_context(|| format!("{} is not a valid signed trust list", file.display()))?;
    let sequence = list.list().sequence;
    let store = open_store(global).await?;
    if store.publish_trust_list(sequence, &bytes, now()).await? {
        println!("trust list {sequence} published");
    } else {
        println!("trust list {sequence} was published already; nothing changed");
    }
    Ok(ExitCode::SUCCESS)
}
