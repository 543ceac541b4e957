//! `demo`: the web verifier's files, then `sealpass-issuer demo`, which
//! serves them at /verify/ (README, "Run it").

use crate::{Workspace, web};
use anyhow::{Context as _, Result};
use clap::Args;
use std::ffi::OsString;
use std::process::{Command, ExitCode};

#[derive(Args)]
pub struct DemoArgs {
    /// Passed to `sealpass-issuer demo` as they are, e.g. `--listen
    /// 127.0.0.1:0 --data-dir /tmp/demo` (all of them: `cargo run -p
    /// sealpass-issuer -- demo --help`)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<OsString>,
}

pub fn run(workspace: &Workspace, args: DemoArgs) -> Result<ExitCode> {
    web::build(workspace)?;
    let mut demo = workspace.cargo();
    demo.args(["run", "--locked", "-p", "sealpass-issuer", "--", "demo"])
        .args(&args.args);
    hand_over_to(demo)
}

/// Replaces this process with `command` (as `cargo run` does in turn): the
/// demo keeps this process's id, so Ctrl-C and a SIGTERM sent to `cargo
/// xtask demo` reach it and it shuts down cleanly, and its exit code is
/// this command's.
#[cfg(unix)]
fn hand_over_to(mut command: Command) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    Err(error).context("cannot run cargo")
}

/// Elsewhere Ctrl-C reaches every process of the console: wait for the
/// demo to stop, and pass its exit code on.
#[cfg(not(unix))]
fn hand_over_to(mut command: Command) -> Result<ExitCode> {
    let status = command.status().context("cannot run cargo")?;
    let code = status.code().and_then(|code| u8::try_from(code).ok());
    Ok(ExitCode::from(code.unwrap_or(1)))
}
