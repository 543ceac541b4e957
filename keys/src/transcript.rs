//! The ceremony transcript: one JSON line per step, each holding the SHA-256
//! of the one before, so no entry can be altered, removed or inserted without
//! breaking every hash after it. Witnesses write down the head hash; the
//! chain then proves the whole ceremony up to that point.

use crate::files::{self, FileError};
use sealpass_core::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One step of the ceremony, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1 for the first entry.
    pub index: u64,
    /// Seconds since 1970 (UTC), and the same in words.
    pub time: u64,
    pub time_utc: String,
    /// The command, e.g. `sign`.
    pub action: String,
    /// What was done, in words.
    pub summary: String,
    /// The custodian key that acted (name and fingerprint), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Public keys made or used, hex.
    pub public_keys: Vec<String>,
    pub inputs: Vec<FileDigest>,
    pub outputs: Vec<FileDigest>,
    /// `hash` of the entry before, or [`GENESIS`].
    pub prev: String,
    /// SHA-256 of this entry's JSON with `hash` empty.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    pub path: String,
    pub sha256: String,
}

impl FileDigest {
    pub fn of(path: &Path, bytes: &[u8]) -> FileDigest {
        FileDigest {
            path: path.display().to_string(),
            sha256: files::sha256_hex(bytes),
        }
    }
}

/// What a command reports about the step it did.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub action: String,
    pub summary: String,
    pub by: Option<String>,
    pub public_keys: Vec<String>,
    pub inputs: Vec<FileDigest>,
    pub outputs: Vec<FileDigest>,
}

/// Why the transcript is not a sound chain.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TranscriptError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("transcript line {line} is not a transcript entry: {reason}")]
    Malformed { line: usize, reason: String },
    #[error(
        "transcript entry {line} was altered after it was written: its hash does not match its content. Compare the file with the witnesses' copy and the head hashes they wrote down"
    )]
    Altered { line: usize },
    #[error(
        "transcript entry {line} does not follow the entry before it (an entry was removed, inserted or reordered)"
    )]
    Broken { line: usize },
    #[error(
        "the head hash {0} that was written down is not in this transcript: entries were removed or altered since"
    )]
    UnknownHead(String),
}

/// A transcript file whose chain has been checked, ready to extend.
#[derive(Debug)]
pub struct Transcript {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl Transcript {
    /// Read and check the transcript at `path`; a missing file is an empty
    /// transcript (the ceremony's first command creates it).
    pub fn open(path: &Path) -> Result<Transcript, TranscriptError> {
        let entries = if path.exists() {
            verify(&files::read(path)?)?
        } else {
            Vec::new()
        };
        Ok(Transcript {
            path: path.to_owned(),
            entries,
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The hash witnesses write down: the last entry's, or [`GENESIS`].
    pub fn head(&self) -> &str {
        self.entries.last().map_or(GENESIS, |e| e.hash.as_str())
    }

    /// Append a step and return the new head entry.
    pub fn append(&mut self, step: Step, now: Timestamp) -> Result<&Entry, TranscriptError> {
        let mut entry = Entry {
            index: self.entries.len() as u64 + 1,
            time: now.0,
            time_utc: now.to_string(),
            action: step.action,
            summary: step.summary,
            by: step.by,
            public_keys: step.public_keys,
            inputs: step.inputs,
            outputs: step.outputs,
            prev: self.head().to_owned(),
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        let mut line = serde_json::to_vec(&entry).expect("an entry serializes");
        line.push(b'\n');
        files::append(&self.path, &line)?;
        self.entries.push(entry);
        Ok(self.entries.last().expect("just pushed"))
    }
}

/// Check a transcript's chain: every entry's hash, index and link.
pub fn verify(bytes: &[u8]) -> Result<Vec<Entry>, TranscriptError> {
    let text = std::str::from_utf8(bytes).map_err(|_| TranscriptError::Malformed {
        line: 1,
        reason: "not UTF-8 text".into(),
    })?;
    let mut entries: Vec<Entry> = Vec::new();
    for (at, raw) in text.lines().enumerate() {
        let line = at + 1;
        let entry: Entry = serde_json::from_str(raw).map_err(|e| TranscriptError::Malformed {
            line,
            reason: e.to_string(),
        })?;
        if entry_hash(&entry) != entry.hash {
            return Err(TranscriptError::Altered { line });
        }
        let prev = entries.last().map_or(GENESIS, |e| e.hash.as_str());
        if entry.prev != prev || entry.index != line as u64 {
            return Err(TranscriptError::Broken { line });
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Where a head hash that a witness wrote down sits in the chain (1-based).
pub fn find_head(entries: &[Entry], head: &str) -> Result<usize, TranscriptError> {
    let head = head.trim().to_ascii_lowercase();
    entries
        .iter()
        .position(|e| e.hash == head)
        .map(|at| at + 1)
        .ok_or(TranscriptError::UnknownHead(head))
}

fn entry_hash(entry: &Entry) -> String {
    let unhashed = Entry {
        hash: String::new(),
        ..entry.clone()
    };
    hex::encode(Sha256::digest(
        serde_json::to_vec(&unhashed).expect("an entry serializes"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(action: &str) -> Step {
        Step {
            action: action.into(),
            summary: format!("did {action}"),
            ..Step::default()
        }
    }

    fn three_steps(path: &Path) -> String {
        let mut transcript = Transcript::open(path).unwrap();
        for (i, action) in ["custodian new", "draft", "sign"].iter().enumerate() {
            transcript
                .append(step(action), Timestamp(1_795_218_000 + i as u64))
                .unwrap();
        }
        transcript.head().to_owned()
    }

    #[test]
    fn the_chain_verifies_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let head = three_steps(&path);
        let reopened = Transcript::open(&path).unwrap();
        assert_eq!(reopened.head(), head);
        assert_eq!(reopened.entries()[0].prev, GENESIS);
        assert_eq!(find_head(reopened.entries(), &head).unwrap(), 3);
    }

    #[test]
    fn an_altered_entry_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        three_steps(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        let altered = text.replacen("did draft", "did nothing", 1);
        assert!(matches!(
            verify(altered.as_bytes()),
            Err(TranscriptError::Altered { line: 2 })
        ));
        let mut lines: Vec<&str> = text.lines().collect();
        lines.remove(1);
        assert!(matches!(
            verify(lines.join("\n").as_bytes()),
            Err(TranscriptError::Broken { line: 2 })
        ));
    }
}
