//! Streamed imports: bytes come in chunks (an HTTP body or a file), are cut
//! into lines, parsed into records, and committed to the store in chunks of
//! rows. Memory is bounded by one chunk of rows and one line, whatever the
//! size of the input. Each row is applied, found to be a duplicate, or
//! refused with its line number and the reason; a refused row never stops
//! the good ones.
//!
//! Durability: when [`ingest`] returns `Ok`, every applied row is
//! committed. When it fails, the rows up to `committed_through_line` are
//! committed and the rest may not be: sending the whole input again is safe,
//! since every event is idempotent.

pub mod rows;

use crate::model::{Enrolment, Revocation, StatusUpdate};
use crate::store::{EnrolOutcome, EventOutcome, Store, StoreError};
pub use rows::{Format, Kind, Record, RowError};
use sealpass_core::Timestamp;
use serde::Serialize;
use std::future::Future;
use thiserror::Error;

/// Longest line accepted, in bytes.
pub const MAX_LINE_LEN: usize = 16 * 1024;
/// At most this many refused rows are listed in a report (all are counted).
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Where the bytes of an import come from.
pub trait ByteSource {
    /// The next chunk of bytes, or `None` at the end.
    fn next_chunk(&mut self) -> impl Future<Output = std::io::Result<Option<Vec<u8>>>> + Send;
}

/// The outcome of an import, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Lines read, including a CSV header and blank lines.
    pub lines: u64,
    /// Rows applied now.
    pub applied: u64,
    /// Rows applied before (same idempotency key, same content): no change.
    pub duplicates: u64,
    /// Rows refused; the first [`MAX_REPORTED_ERRORS`] are in `errors`.
    pub rejected: u64,
    pub errors: Vec<RowReport>,
    pub errors_truncated: bool,
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport {
    pub line: u64,
    pub code: &'static str,
    pub reason: String,
}

/// Why an import stopped before its end.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The CSV header is unusable: nothing was imported.
    #[error("bad CSV header: {0}")]
    Header(String),
    /// The input could not be read (the client went away).
    #[error("the input could not be read: {source}")]
    Source {
        source: std::io::Error,
        committed_through_line: u64,
    },
    /// The store failed.
    #[error("the store failed: {source}")]
    Store {
        source: StoreError,
        committed_through_line: u64,
    },
}

/// Progress of an import, for a progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub bytes: u64,
    pub lines: u64,
}

/// Rows committed per transaction.
fn rows_per_commit(kind: Kind) -> usize {
    match kind {
        Kind::Enrolments => 5000,
        Kind::StatusUpdates | Kind::Revocations => 1000,
    }
}

struct Importer<'a> {
    store: &'a Store,
    kind: Kind,
    format: Format,
    token: &'a str,
    now: Timestamp,
    columns: Option<Vec<&'static str>>,
    pending: Vec<(u64, Record)>,
    report: Report,
    committed_through: u64,
}

/// Import everything `source` holds.
pub async fn ingest(
    store: &Store,
    kind: Kind,
    format: Format,
    mut source: impl ByteSource,
    token: &str,
    now: Timestamp,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Report, IngestError> {
    let mut importer = Importer {
        store,
        kind,
        format,
        token,
        now,
        columns: None,
        pending: Vec::new(),
        report: Report::default(),
        committed_through: 0,
    };
    let mut buffer: Vec<u8> = Vec::new();
    let mut skipping_long_line = false;
    let mut bytes = 0u64;
    loop {
        let chunk = source
            .next_chunk()
            .await
            .map_err(|source| IngestError::Source {
                source,
                committed_through_line: importer.committed_through,
            })?;
        let Some(chunk) = chunk else { break };
        bytes += chunk.len() as u64;
        buffer.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(newline) = buffer[start..].iter().position(|&b| b == b'\n') {
            let end = start + newline;
            if skipping_long_line {
                skipping_long_line = false;
            } else {
                importer.line(&buffer[start..end]).await?;
            }
            start = end + 1;
        }
        buffer.drain(..start);
        if buffer.len() > MAX_LINE_LEN {
            if !skipping_long_line {
                importer.report.lines += 1;
                importer.refuse(RowError::new(
                    "line_too_long",
                    format!("a line may hold at most {MAX_LINE_LEN} bytes"),
                ));
                skipping_long_line = true;
            }
            buffer.clear();
        }
        progress(Progress {
            bytes,
            lines: importer.report.lines,
        });
    }
    if !buffer.is_empty() && !skipping_long_line {
        importer.line(&buffer).await?;
    }
    importer.flush().await?;
    progress(Progress {
        bytes,
        lines: importer.report.lines,
    });
    if importer.format == Format::Csv && importer.columns.is_none() {
        return Err(IngestError::Header(
            "the input is empty: a CSV import begins with a header line".into(),
        ));
    }
    Ok(importer.report)
}

impl Importer<'_> {
    async fn line(&mut self, raw: &[u8]) -> Result<(), IngestError> {
        self.report.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            self.refuse(RowError::new("bad_utf8", "the line is not UTF-8 text"));
            return Ok(());
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(());
        }
        let fields = match self.format {
            Format::Csv => match &self.columns {
                None => {
                    self.columns =
                        Some(rows::csv_header(text, self.kind).map_err(IngestError::Header)?);
                    return Ok(());
                }
                Some(columns) => rows::csv_fields(text, columns),
            },
            Format::Ndjson => rows::json_fields(text, self.kind),
        };
        match fields.and_then(|f| self.kind.parse(&f)) {
            Ok(record) => {
                self.pending.push((self.report.lines, record));
                if self.pending.len() >= rows_per_commit(self.kind) {
                    self.flush().await?;
                }
            }
            Err(error) => self.refuse(error),
        }
        Ok(())
    }

    fn refuse(&mut self, error: RowError) {
        self.report.rejected += 1;
        if self.report.errors.len() < MAX_REPORTED_ERRORS {
            self.report.errors.push(RowReport {
                line: self.report.lines,
                code: error.code,
                reason: error.reason,
            });
        } else {
            self.report.errors_truncated = true;
        }
    }

    async fn flush(&mut self) -> Result<(), IngestError> {
        let pending = std::mem::take(&mut self.pending);
        let last_line = self.report.lines;
        let outcomes = self
            .commit(&pending)
            .await
            .map_err(|source| IngestError::Store {
                source,
                committed_through_line: self.committed_through,
            })?;
        for ((line, _), outcome) in pending.iter().zip(outcomes) {
            match outcome {
                Ok(true) => self.report.applied += 1,
                Ok(false) => self.report.duplicates += 1,
                Err(error) => {
                    self.report.rejected += 1;
                    if self.report.errors.len() < MAX_REPORTED_ERRORS {
                        self.report.errors.push(RowReport {
                            line: *line,
                            code: error.code,
                            reason: error.reason,
                        });
                    } else {
                        self.report.errors_truncated = true;
                    }
                }
            }
        }
        self.report.errors.sort_by_key(|e| e.line);
        self.committed_through = last_line;
        Ok(())
    }

    /// Per row: applied (true), duplicate (false) or refused.
    async fn commit(
        &self,
        rows: &[(u64, Record)],
    ) -> Result<Vec<Result<bool, RowError>>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        Ok(match self.kind {
            Kind::Enrolments => {
                let batch: Vec<Enrolment> = rows
                    .iter()
                    .filter_map(|(_, r)| match r {
                        Record::Enrolment(e) => Some(e.clone()),
                        _ => None,
                    })
                    .collect();
                self.store
                    .enrol(&batch, self.token, self.now)
                    .await?
                    .into_iter()
                    .map(|o| match o {
                        EnrolOutcome::Enrolled => Ok(true),
                        EnrolOutcome::Duplicate => Ok(false),
                        EnrolOutcome::Refused { code, reason } => Err(RowError { code, reason }),
                    })
                    .collect()
            }
            Kind::StatusUpdates => {
                let batch: Vec<StatusUpdate> = rows
                    .iter()
                    .filter_map(|(_, r)| match r {
                        Record::Status(u) => Some(u.clone()),
                        _ => None,
                    })
                    .collect();
                events(
                    self.store
                        .apply_status_updates(&batch, self.token, self.now)
                        .await?,
                )
            }
            Kind::Revocations => {
                let batch: Vec<Revocation> = rows
                    .iter()
                    .filter_map(|(_, r)| match r {
                        Record::Revocation(r) => Some(r.clone()),
                        _ => None,
                    })
                    .collect();
                events(self.store.revoke(&batch, self.token, self.now).await?)
            }
        })
    }
}

fn events(outcomes: Vec<EventOutcome>) -> Vec<Result<bool, RowError>> {
    outcomes
        .into_iter()
        .map(|o| match o {
            EventOutcome::Applied(_) => Ok(true),
            EventOutcome::Duplicate => Ok(false),
            EventOutcome::Refused { code, reason } => Err(RowError { code, reason }),
        })
        .collect()
}

/// A file (or any async reader) as a [`ByteSource`].
pub struct ReaderSource<R> {
    reader: R,
}

impl<R> ReaderSource<R> {
    pub fn new(reader: R) -> Self {
        ReaderSource { reader }
    }
}

impl<R: tokio::io::AsyncRead + Unpin + Send> ByteSource for ReaderSource<R> {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        let mut chunk = vec![0u8; 256 * 1024];
        let n = self.reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        chunk.truncate(n);
        Ok(Some(chunk))
    }
}
