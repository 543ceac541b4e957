//! `stats`: counts for operators and scripts.

use super::{Global, open_store};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct StatsArgs {
    /// One JSON object instead of text
    #[arg(long)]
    json: bool,
}

pub async fn run(args: StatsArgs, global: &Global) -> Result<ExitCode> {
    let store = open_store(global).await?;
    let s = store.stats().await?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "subjects": s.subjects, "signed": s.signed, "current": s.current,
                "events": s.events, "revoked": s.revoked, "bound": s.bound,
            })
        );
    } else {
        println!("subjects: {}", s.subjects);
        println!(
            "with a pass: {} ({} signed from their current status)",
            s.signed, s.current
        );
        println!("events logged: {}", s.events);
        println!("revoked passes: {}", s.revoked);
        println!("subjects with a bound device: {}", s.bound);
    }
    Ok(ExitCode::SUCCESS)
}
