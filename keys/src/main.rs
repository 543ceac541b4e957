//! `sealpass-keys`: the key ceremony's command line. The edge of the crate:
//! it reads the clock, the disk, the terminal and the environment, and turns
//! every failure into a message and a non-zero exit code.

#![forbid(unsafe_code)]

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cli::EXIT_FAILED)
        }
    }
}
