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

pub mod checks;
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
    /// Rows logged whose test result is older than the one held, so it did
    /// not replace it (any other field of the row did apply); the first
    /// [`MAX_REPORTED_ERRORS`] are in `notices`. Never counted in `applied`.
    pub superseded: u64,
    /// Rows refused; the first [`MAX_REPORTED_ERRORS`] are in `errors`.
    pub rejected: u64,
    pub errors: Vec<RowReport>,
    pub errors_truncated: bool,
    /// Rows taken but not wholly applied (`superseded`), with the reason.
    pub notices: Vec<RowReport>,
    pub notices_truncated: bool,
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
#[non_exhaustive]
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

impl IngestError {
    /// The last line of the input whose rows are committed (0 for a bad
    /// header: nothing was imported).
    pub fn committed_through_line(&self) -> u64 {
        match self {
            IngestError::Header(_) => 0,
            IngestError::Source {
                committed_through_line,
                ..
            }
            | IngestError::Store {
                committed_through_line,
                ..
            } => *committed_through_line,
        }
    }
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
            } else if end - start > MAX_LINE_LEN {
                // A long line that arrived whole is refused as one that
                // arrived in pieces is (issue 15, finding 8).
                importer.too_long();
            } else {
                importer.line(&buffer[start..end]).await?;
            }
            start = end + 1;
        }
        buffer.drain(..start);
        if buffer.len() > MAX_LINE_LEN {
            if !skipping_long_line {
                importer.too_long();
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
        let record = fields
            .and_then(|f| self.kind.parse(&f))
            .and_then(|r| checks::not_in_future(&r, self.now).map(|()| r));
        match record {
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

    /// A line over [`MAX_LINE_LEN`]: counted and refused, never parsed.
    fn too_long(&mut self) {
        self.report.lines += 1;
        self.refuse(RowError::new(
            "line_too_long",
            format!("a line may hold at most {MAX_LINE_LEN} bytes"),
        ));
    }

    fn refuse(&mut self, error: RowError) {
        let report = &mut self.report;
        report.rejected += 1;
        listed(
            &mut report.errors,
            &mut report.errors_truncated,
            report.lines,
            error,
        );
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
            let report = &mut self.report;
            match outcome {
                RowOutcome::Applied => report.applied += 1,
                RowOutcome::Duplicate => report.duplicates += 1,
                RowOutcome::Superseded => {
                    report.superseded += 1;
                    listed(
                        &mut report.notices,
                        &mut report.notices_truncated,
                        *line,
                        RowError::new(
                            "superseded",
                            "test_time is older than the test result held, which stays: the row is logged, its test result not applied",
                        ),
                    );
                }
                RowOutcome::Refused(error) => {
                    report.rejected += 1;
                    listed(
                        &mut report.errors,
                        &mut report.errors_truncated,
                        *line,
                        error,
                    );
                }
            }
        }
        self.report.errors.sort_by_key(|e| e.line);
        self.committed_through = last_line;
        Ok(())
    }

    /// What became of each row.
    async fn commit(&self, rows: &[(u64, Record)]) -> Result<Vec<RowOutcome>, StoreError> {
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
                        EnrolOutcome::Enrolled => RowOutcome::Applied,
                        EnrolOutcome::Duplicate => RowOutcome::Duplicate,
                        EnrolOutcome::Refused { code, reason } => {
                            RowOutcome::Refused(RowError { code, reason })
                        }
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

/// What became of one row in the store.
enum RowOutcome {
    Applied,
    Duplicate,
    /// Logged, but its test result is older than the one held.
    Superseded,
    Refused(RowError),
}

fn events(outcomes: Vec<EventOutcome>) -> Vec<RowOutcome> {
    outcomes
        .into_iter()
        .map(|o| match o {
            EventOutcome::Applied(applied) if applied.superseded => RowOutcome::Superseded,
            EventOutcome::Applied(_) => RowOutcome::Applied,
            EventOutcome::Duplicate => RowOutcome::Duplicate,
            EventOutcome::Refused { code, reason } => {
                RowOutcome::Refused(RowError { code, reason })
            }
            // Only device bindings are limited in time, and they are not rows.
            EventOutcome::TooSoon { .. } => RowOutcome::Refused(RowError {
                code: "too_soon",
                reason: "too many changes of this kind today".into(),
            }),
        })
        .collect()
}

/// Add a row to a report's list, at most [`MAX_REPORTED_ERRORS`] of them.
fn listed(list: &mut Vec<RowReport>, truncated: &mut bool, line: u64, error: RowError) {
    if list.len() < MAX_REPORTED_ERRORS {
        list.push(RowReport {
            line,
            code: error.code,
            reason: error.reason,
        });
    } else {
        *truncated = true;
    }
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
