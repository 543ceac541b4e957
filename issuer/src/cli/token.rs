//! `token create` and `token revoke`.

use super::{Global, now, open_store};
use anyhow::{Result, bail};
use clap::Subcommand;
use sealpass_issuer::store::Scope;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Make an admin API token for a health-authority system.
    ///
    /// The token is printed once, on standard output; the store keeps only
    /// its SHA-256. Give each system its own token with only the scopes it
    /// needs: subjects:import (enrol people), status:write (status
    /// updates), passes:revoke (revoke passes), identities:link (link a
    /// login at an identity provider to a person, and unlink it).
    Create {
        /// A name for the system, recorded with every event it sends.
        #[arg(long)]
        name: String,
        /// A scope; repeat for several.
        #[arg(long = "scope", required = true, value_parser = parse_scope)]
        scopes: Vec<Scope>,
    },
    /// Revoke a token by name: it is refused from the next request on.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::from_name(text).ok_or_else(|| {
        format!(
            "unknown scope {text:?}; scopes are {}",
            Scope::ALL.map(Scope::name).join(", ")
        )
    })
}

pub async fn run(command: Command, global: &Global) -> Result<ExitCode> {
    let store = open_store(global).await?;
    match command {
        Command::Create { name, scopes } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 64 {
                bail!("the token name must be 1 to 64 bytes");
            }
            let made = store.create_token(name, &scopes, now()).await?;
            eprintln!(
                "token {:?} with scopes {}; it is shown only now: store it in the system's secret store",
                made.info.name,
                made.info
                    .scopes
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            println!("{}", made.token);
        }
        Command::Revoke { name } => {
            if !store.revoke_token(&name, now()).await? {
                bail!("no live token is named {name:?}");
            }
            println!("token {name:?} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
