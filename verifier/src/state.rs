//! The state directory: everything a checkpoint keeps between runs.
//!
//! ```text
//! STATE/
//!   roots.cbor              the root set pinned at the first sync (the ceremony's root-set file),
//!                           handed on to a new set when a verified list rotates the roots
//!   trust-list.cbor         the trusted list, byte for byte as the custodians signed it
//!   highest-sequence        the highest trust-list sequence ever accepted here
//!   status/<issuer>.cbor    each issuer's status list, byte for byte as signed
//!   clock                   the newest time this device has ever seen, in Unix seconds
//! ```
//!
//! Every file is written whole to a temporary file beside it and renamed over
//! the old one, so a power cut leaves the old file or the new, never half.
//! Nothing here is trusted for being here: every load re-checks the
//! signatures, the trust list against the pinned roots
//! (`TrustedList::restore`, docs/trust.md "Stored lists") and each status
//! list against the trust list (`StatusList::verify`).

use anyhow::Context;
use sealpass_checkpoint::{ClockBehind, ClockGuard, issuer_file_stem};
use sealpass_core::{Seconds, Timestamp};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const ROOTS_FILE: &str = "roots.cbor";
pub const TRUST_LIST_FILE: &str = "trust-list.cbor";
pub const STATUS_DIR: &str = "status";
pub const CLOCK_FILE: &str = "clock";
pub const HIGHEST_SEQUENCE_FILE: &str = "highest-sequence";

/// Why this verifier cannot decide anything right now, whatever the pass.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetupError {
    #[error(
        "no trust list in {dir}: run `sealpass-verifier sync --from URL --roots ROOTS-FILE` first"
    )]
    NoTrustList { dir: String },
    #[error("the stored trust list {path} does not verify ({reason}): sync again")]
    DamagedTrustList { path: String, reason: String },
    #[error(
        "no pinned root set in {dir}, so the stored trust list cannot be checked: sync again with --roots ROOTS-FILE --re-pin"
    )]
    NoPinnedRoots { dir: String },
    #[error(transparent)]
    ClockBehind(#[from] ClockBehind),
    #[error("cannot read the state directory: {0}")]
    Unreadable(String),
}

impl SetupError {
    pub fn code(&self) -> &'static str {
        match self {
            SetupError::NoTrustList { .. } => "no_trust_list",
            SetupError::DamagedTrustList { .. } => "trust_list_damaged",
            SetupError::NoPinnedRoots { .. } => "no_pinned_roots",
            SetupError::ClockBehind(_) => ClockBehind::CODE,
            SetupError::Unreadable(_) => "state_unreadable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub fn new(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    /// `$XDG_STATE_HOME/sealpass-verifier`, else `~/.local/state/sealpass-verifier`.
    pub fn default_path() -> Option<PathBuf> {
        let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(state_home) = non_empty("XDG_STATE_HOME") {
            return Some(PathBuf::from(state_home).join("sealpass-verifier"));
        }
        non_empty("HOME").map(|home| PathBuf::from(home).join(".local/state/sealpass-verifier"))
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn trust_list_path(&self) -> PathBuf {
        self.root.join(TRUST_LIST_FILE)
    }

    pub fn status_list_path(&self, issuer: &str) -> PathBuf {
        self.root
            .join(STATUS_DIR)
            .join(format!("{}.cbor", issuer_file_stem(issuer)))
    }

    pub fn pinned_roots(&self) -> anyhow::Result<Option<Vec<u8>>> {
        read_if_present(&self.root.join(ROOTS_FILE))
    }

    pub fn store_pinned_roots(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.root.join(ROOTS_FILE), bytes)
    }

    pub fn trust_list(&self) -> anyhow::Result<Option<Vec<u8>>> {
        read_if_present(&self.trust_list_path())
    }

    pub fn store_trust_list(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.trust_list_path(), bytes)
    }

    /// The highest trust-list sequence ever accepted here, if one was.
    pub fn highest_sequence(&self) -> anyhow::Result<Option<u64>> {
        let path = self.root.join(HIGHEST_SEQUENCE_FILE);
        let Some(bytes) = read_if_present(&path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        let sequence = text.trim().parse().with_context(|| {
            format!(
                "{} does not hold a sequence number: sync with --roots ROOTS-FILE --re-pin",
                path.display()
            )
        })?;
        Ok(Some(sequence))
    }

    /// Record the highest sequence accepted (`Lists::highest_sequence`,
    /// which only a re-pin lowers).
    pub fn reset_highest_sequence(&self, sequence: u64) -> anyhow::Result<()> {
        write_atomic(
            &self.root.join(HIGHEST_SEQUENCE_FILE),
            format!("{sequence}\n").as_bytes(),
        )
    }

    pub fn status_list(&self, issuer: &str) -> anyhow::Result<Option<Vec<u8>>> {
        read_if_present(&self.status_list_path(issuer))
    }

    pub fn store_status_list(&self, issuer: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.status_list_path(issuer), bytes)
    }

    /// A fingerprint of the files a running `listen` depends on, to notice a
    /// `sync` made meanwhile.
    pub fn generation(&self) -> Vec<(PathBuf, Option<std::time::SystemTime>, u64)> {
        let mut paths = vec![self.trust_list_path()];
        if let Ok(entries) = fs::read_dir(self.root.join(STATUS_DIR)) {
            paths.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
        }
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let meta = fs::metadata(&path).ok();
                let modified = meta.as_ref().and_then(|m| m.modified().ok());
                let len = meta.map_or(0, |m| m.len());
                (path, modified, len)
            })
            .collect()
    }

    /// The newest time this device has ever seen, if it has seen one.
    pub fn newest_time_seen(&self) -> anyhow::Result<Option<Timestamp>> {
        let path = self.root.join(CLOCK_FILE);
        let Some(bytes) = read_if_present(&path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        let seconds = text
            .trim()
            .parse()
            .with_context(|| format!("{} does not hold Unix seconds", path.display()))?;
        Ok(Some(Timestamp(seconds)))
    }

    /// Believe the clock only if it has not gone back by more than `skew`
    /// from the newest time seen here, and remember `now` if it is newer.
    /// Remembering is best effort: a read-only state still decides.
    pub fn check_clock(&self, now: Timestamp, skew: Seconds) -> Result<(), SetupError> {
        let seen = self
            .newest_time_seen()
            .map_err(|e| SetupError::Unreadable(format!("{e:#}")))?;
        let mut guard = ClockGuard::new(seen);
        guard.check(now, skew)?;
        if guard.see(now) {
            let _ = self.remember_time(now);
        }
        Ok(())
    }

    fn remember_time(&self, now: Timestamp) -> anyhow::Result<()> {
        if !self.root.is_dir() {
            return Ok(());
        }
        write_atomic(
            &self.root.join(CLOCK_FILE),
            format!("{}\n", now.0).as_bytes(),
        )
    }
}

fn read_if_present(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write a file whole: a temporary file in the same directory, flushed to
/// disk, then renamed over the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_set_back_is_noticed_and_small_drift_is_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_owned());
        let skew = Seconds::minutes(5);
        assert_eq!(state.check_clock(Timestamp(10_000), skew), Ok(()));
        assert_eq!(state.newest_time_seen().unwrap(), Some(Timestamp(10_000)));
        // Within the skew: believed, and the mark stays.
        assert_eq!(state.check_clock(Timestamp(9_800), skew), Ok(()));
        assert_eq!(state.newest_time_seen().unwrap(), Some(Timestamp(10_000)));
        assert_eq!(
            state.check_clock(Timestamp(9_000), skew),
            Err(SetupError::ClockBehind(ClockBehind {
                now: Timestamp(9_000),
                seen: Timestamp(10_000)
            }))
        );
        assert_eq!(state.check_clock(Timestamp(20_000), skew), Ok(()));
        assert_eq!(state.newest_time_seen().unwrap(), Some(Timestamp(20_000)));
    }

    #[test]
    fn the_highest_sequence_is_kept_in_a_record_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_owned());
        assert_eq!(state.highest_sequence().unwrap(), None);
        state.reset_highest_sequence(5).unwrap();
        assert_eq!(state.highest_sequence().unwrap(), Some(5));
        state.reset_highest_sequence(2).unwrap();
        assert_eq!(state.highest_sequence().unwrap(), Some(2));
        fs::write(dir.path().join(HIGHEST_SEQUENCE_FILE), "x").unwrap();
        assert!(state.highest_sequence().is_err());
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("nested"));
        state.store_status_list("CN-610100", b"one").unwrap();
        state.store_status_list("CN-610100", b"two").unwrap();
        assert_eq!(state.status_list("CN-610100").unwrap().unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("nested/status"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["CN-610100.cbor"]);
    }
}
