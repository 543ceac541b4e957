//! `sealpass-issuer`: the issuer's store, admin API, imports and signer.
//!
//! ```text
//! $ sealpass-issuer migrate
//! $ sealpass-issuer token create --name cdc-xian --scope status:write
//! $ sealpass-issuer serve --listen 127.0.0.1:8080
//! $ sealpass-issuer import subjects people.csv
//! $ sealpass-issuer sign bulk --key-card issuer-2026.pub
//! $ sealpass-issuer sign daemon --key-card issuer-2026.pub
//! ```
//!
//! docs/issuer.md documents the data model, the admin API and operations.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
