//! `import subjects|status|revocations FILE`: the admin API's imports from
//! a file, with a progress bar.

use super::{EXIT_FAILED, Global, now, open_store, progress_bar};
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use sealpass_issuer::write::ingest::{self, Format, IngestError, Kind, ReaderSource};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(after_help = "\
Exit codes: 0 every row applied (or applied before), 1 some rows refused (the
others are committed; the refused ones are listed with line numbers), 2 the
import stopped (the rows before the line printed are committed; importing the
file again is safe: every event is idempotent).")]
pub struct ImportArgs {
    /// What the file holds
    what: What,
    /// A CSV file with a header line, or NDJSON (one JSON object per line)
    file: PathBuf,
    /// The file's format [default: from its extension: .csv, else NDJSON]
    #[arg(long)]
    format: Option<FormatArg>,
    /// Who is importing, recorded with every event
    #[arg(long = "as", default_value = "cli", value_name = "NAME")]
    source: String,
    /// The report as JSON (the admin API's answer)
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum What {
    /// Enrolments: subject,name,id_number,colour[,doses,last_dose,test_time,test_result,key]
    Subjects,
    /// Status updates: key,subject and any of colour,doses,last_dose,test_time+test_result
    Status,
    /// Revocations of a subject's live passes: key,subject[,reason]
    Revocations,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Ndjson,
}

pub async fn run(args: ImportArgs, global: &Global) -> Result<ExitCode> {
    let kind = match args.what {
        What::Subjects => Kind::Enrolments,
        What::Status => Kind::StatusUpdates,
        What::Revocations => Kind::Revocations,
    };
    let format = match args.format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Ndjson) => Format::Ndjson,
        None if args
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            Format::Csv
        }
        None => Format::Ndjson,
    };
    let file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let length = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let store = open_store(global).await?;
    let bar = progress_bar(length, "importing", true);
    let result = ingest::ingest(
        &store,
        kind,
        format,
        ReaderSource::new(file),
        &args.source,
        now(),
        &mut |p| bar.set_position(p.bytes),
    )
    .await;
    bar.finish_and_clear();
    store.close().await;
    let report = match result {
        Ok(report) => report,
        Err(IngestError::Header(message)) => {
            eprintln!(
                "error: {}: {message}; nothing was imported",
                args.file.display()
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
        Err(e) => {
            let line = e.committed_through_line();
            eprintln!(
                "error: {e}. Rows up to line {line} are committed; import the file again to finish (events are idempotent)"
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: {} lines, {} applied, {} applied before, {} superseded, {} refused",
            args.file.display(),
            report.lines,
            report.applied,
            report.duplicates,
            report.superseded,
            report.rejected
        );
        for notice in &report.notices {
            println!(
                "  line {}: {} ({})",
                notice.line, notice.reason, notice.code
            );
        }
        if report.notices_truncated {
            println!(
                "  ... and {} more superseded rows",
                report.superseded - report.notices.len() as u64
            );
        }
        for error in &report.errors {
            println!("  line {}: {} ({})", error.line, error.reason, error.code);
        }
        if report.errors_truncated {
            println!(
                "  ... and {} more refused rows",
                report.rejected - report.errors.len() as u64
            );
        }
    }
    Ok(if report.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
