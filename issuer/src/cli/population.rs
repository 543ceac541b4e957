//! `population`: synthetic people for tests, demos and benchmarks.

use super::{now, progress_bar};
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use sealpass_issuer::population::Population;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct PopulationArgs {
    /// How many people
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// The same seed gives the same people
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output format (`import subjects` reads both)
    #[arg(long, value_enum, default_value = "csv")]
    format: PopFormat,
    /// Where to write; - for standard output
    #[arg(long, default_value = "-")]
    out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum PopFormat {
    Csv,
    Ndjson,
}

pub fn run(args: PopulationArgs) -> Result<ExitCode> {
    let to_stdout = args.out.as_os_str() == "-";
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?,
        )
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let bar = if to_stdout {
        indicatif::ProgressBar::hidden()
    } else {
        progress_bar(args.count, "generating", false)
    };
    if matches!(args.format, PopFormat::Csv) {
        writeln!(out, "{}", Population::CSV_HEADER)?;
    }
    for (n, person) in Population::new(args.seed, args.count, now()).enumerate() {
        let line = match args.format {
            PopFormat::Csv => person.csv(),
            PopFormat::Ndjson => person.json(),
        };
        writeln!(out, "{line}")?;
        if n % 10_000 == 0 {
            bar.set_position(n as u64);
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(ExitCode::SUCCESS)
}
