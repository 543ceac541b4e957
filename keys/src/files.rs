//! Writing ceremony files safely: secrets with mode 0600, nothing ever
//! silently overwritten, drafts replaced atomically; and the SHA-256 of every
//! file the transcript mentions.

use sha2::{Digest, Sha256};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A file could not be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("refusing to overwrite existing file {0}: move it away or choose another name")]
    WouldOverwrite(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0600: only the owner (encrypted secret keys).
    OwnerOnly,
    /// 0644: public keys, drafts, lists, the transcript.
    Public,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::OwnerOnly => 0o600,
            Mode::Public => 0o644,
        }
    }
}

/// Write a new file; refuse if anything already exists at `path` (age's
/// keygen refuses the same way).
pub fn write_new(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), FileError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode.bits())
        .open(path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => FileError::WouldOverwrite(path.to_owned()),
            _ => FileError::Write {
                path: path.to_owned(),
                source,
            },
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| FileError::Write {
            path: path.to_owned(),
            source,
        })
}

/// Replace an existing file's content atomically (a draft gaining a
/// signature): write a sibling, then rename it over the original.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let _ = fs::remove_file(&temporary);
    write_new(&temporary, bytes, Mode::Public)?;
    fs::rename(&temporary, path).map_err(|source| FileError::Write {
        path: path.to_owned(),
        source,
    })
}

pub fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    fs::read(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Append to a file, creating it (mode 0644) if it does not exist.
pub fn append(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(Mode::Public.bits())
        .open(path)
        .map_err(|source| FileError::Write {
            path: path.to_owned(),
            source,
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| FileError::Write {
            path: path.to_owned(),
            source,
        })
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `path` with its extension replaced (`wang` → `wang.key`).
pub fn with_extension(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secrets_are_written_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        write_new(&path, b"one", Mode::OwnerOnly).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = write_new(&path, b"two", Mode::OwnerOnly).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("refusing to overwrite existing file")
        );
        assert_eq!(fs::read(&path).unwrap(), b"one");
    }

    #[test]
    fn replace_swaps_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.draft");
        write_new(&path, b"one", Mode::Public).unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
    }
}
