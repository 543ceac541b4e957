//! The repository's own tasks, run through the cargo alias in
//! `.cargo/config.toml`, so that a fresh clone needs nothing but a Rust
//! toolchain:
//!
//! ```text
//! cargo xtask web     # the offline web verifier's files in verifier/web/dist
//! cargo xtask demo    # those, then `sealpass-issuer demo`, which serves them at /verify/
//! ```
//!
//! The wasm-bindgen step runs in this process, through the
//! `wasm-bindgen-cli-support` library, so no `wasm-bindgen` CLI has to be
//! installed (docs/web-verifier.md, "Build").

#![forbid(unsafe_code)]

mod demo;
mod precompress;
mod wasm_opt;
mod web;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The repository's own tasks: build the offline web verifier, run the demo with it",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the offline web verifier into verifier/web/dist: sealpass-web
    /// compiled to wasm32 for size, its JS glue, and the page's files, ready
    /// for any static web server (or the issuer's /verify/). Does nothing
    /// but check when nothing changed.
    Web,
    /// Build the web verifier (as `web` does), then run
    /// `cargo run -p sealpass-issuer -- demo ARGS`: the whole system on this
    /// machine, the web verifier served at /verify/. Ctrl-C stops it.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let task = Cli::parse().task;
    let workspace = Workspace::locate();
    let done = match task {
        Task::Web => web::build(&workspace).map(|()| ExitCode::SUCCESS),
        Task::Demo(args) => demo::run(&workspace, args),
    };
    // What went wrong and what to do, without a backtrace.
    done.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

/// Where the source tree and cargo's target directory are.
pub struct Workspace {
    root: PathBuf,
    target: PathBuf,
}

impl Workspace {
    fn locate() -> Workspace {
        // `cargo run` names this crate's folder at run time too. Where it was
        // compiled is only the fallback: a target directory shared by two
        // clones keeps one xtask binary for both.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .expect("xtask/ lies in the workspace")
            .to_path_buf();
        // `cargo run` starts <target>/debug/xtask; this finds the target
        // directory however it was chosen (CARGO_TARGET_DIR, build.target-dir).
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .and_then(|dir| std::path::absolute(dir).ok())
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                Some(exe.parent()?.parent()?.to_path_buf())
            })
            .unwrap_or_else(|| root.join("target"));
        Workspace { root, target }
    }

    /// The cargo that started this task (the same toolchain), else `cargo`.
    fn cargo(&self) -> std::process::Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = std::process::Command::new(cargo);
        command.current_dir(&self.root);
        command
    }
}
