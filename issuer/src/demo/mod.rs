//! `sealpass-issuer demo`: the whole system from one command, on the
//! embedded SQLite store, in one directory (`./sealpass-demo` by default):
//! a development key ceremony, a few thousand synthetic citizens, the
//! signer, the public API with the citizen page and the web verifier, the
//! admin API, and the demo identity provider. **Everything it makes is for
//! development only** (the directory's `DEVELOPMENT-ONLY.txt` says so, and
//! only such a directory can enable the demo identity provider). Run again,
//! it reuses what it made.

pub mod ceremony;
pub mod idp;

use crate::population::Population;
use crate::store::{Scope, Store};
use crate::write::ingest::{self, Format, Kind, ReaderSource};
use crate::write::signer::{PassSigner, SignerConfig};
use sealpass_core::Timestamp;
use sealpass_keys::files::{Mode, write_new};
use std::path::{Path, PathBuf};

/// The marker file of a demo directory, and its first line.
const MARKER: &str = "DEVELOPMENT-ONLY.txt";
const MARKER_LINE: &str = "sealpass demo directory: DEVELOPMENT ONLY";
/// Seed of the demo population (the same people every time).
pub const POPULATION_SEED: u64 = 2026;

/// A directory made by `sealpass-issuer demo`.
pub struct DemoDir {
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error(
        "{0} exists and was not made by `sealpass-issuer demo` (no {MARKER}); choose another --data-dir"
    )]
    ForeignDirectory(String),
    #[error("cannot use {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ceremony(#[from] ceremony::CeremonyError),
    #[error("demo store: {0}")]
    Store(String),
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DemoDir {
    /// Use `path` as the demo directory, creating it (and its marker) if
    /// it does not exist. A directory with other files and no marker is
    /// refused: the demo never takes over a directory it did not make.
    pub fn create(path: &Path) -> Result<DemoDir, DemoError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        let dir = DemoDir {
            path: path.to_path_buf(),
        };
        if dir.is_demo() {
            return Ok(dir);
        }
        let empty = std::fs::read_dir(path)
            .map_err(io_error(path))?
            .next()
            .is_none();
        if !empty {
            return Err(DemoError::ForeignDirectory(path.display().to_string()));
        }
        let text = format!(
            "{MARKER_LINE}\n\nMade by `sealpass-issuer demo`: development keys with a published\n\
             passphrase, synthetic citizens, a demo identity provider that lets anyone\n\
             log in as anyone. Never use any of it for real passes. Delete this\n\
             directory to start the demo afresh.\n"
        );
        write_new(&path.join(MARKER), text.as_bytes(), Mode::Public)
            .map_err(|e| DemoError::Store(e.to_string()))?;
        Ok(dir)
    }

    /// `path` as it is, without creating anything.
    pub fn open(path: &Path) -> DemoDir {
        DemoDir {
            path: path.to_path_buf(),
        }
    }

    /// Whether `sealpass-issuer demo` made this directory.
    pub fn is_demo(&self) -> bool {
        std::fs::read_to_string(self.path.join(MARKER))
            .is_ok_and(|text| text.lines().next() == Some(MARKER_LINE))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The demo's SQLite store.
    pub fn store_path(&self) -> PathBuf {
        self.path.join("issuer.db")
    }

    pub fn ceremony_dir(&self) -> PathBuf {
        self.path.join("ceremony")
    }
}

/// Everything the demo set up, ready to serve.
pub struct Prepared {
    pub store: Store,
    pub store_url: String,
    pub ceremony: ceremony::DevCeremony,
    pub signer: PassSigner,
    pub citizens: u64,
    pub enrolled_now: u64,
    pub admin_token: String,
    pub idp_key: ed25519_dalek::SigningKey,
}

/// Set up (or reuse) the demo in `dir` with `citizens` synthetic people.
pub async fn prepare(dir: &DemoDir, citizens: u64, now: Timestamp) -> Result<Prepared, DemoError> {
    let store_error = |e: &dyn std::fmt::Display| DemoError::Store(e.to_string());
    let store_url = dir
        .store_path()
        .to_str()
        .ok_or_else(|| DemoError::Store("the demo directory's path is not UTF-8".into()))?
        .to_owned();
    let store = Store::open(&store_url).await.map_err(|e| store_error(&e))?;
    store.migrate().await.map_err(|e| store_error(&e))?;
    let ceremony = ceremony::ensure(dir, &store, now).await?;

    let mut enrolled_now = 0;
    let held = store.stats().await.map_err(|e| store_error(&e))?.subjects as u64;
    if held == 0 {
        let mut csv = String::with_capacity(citizens as usize * 96);
        csv.push_str(Population::CSV_HEADER);
        csv.push('\n');
        for person in Population::new(POPULATION_SEED, citizens, now) {
            csv.push_str(&person.csv());
            csv.push('\n');
        }
        let report = ingest::ingest(
            &store,
            Kind::Enrolments,
            Format::Csv,
            ReaderSource::new(csv.as_bytes()),
            "demo-population",
            now,
            &mut |_| {},
        )
        .await
        .map_err(|e| store_error(&e))?;
        enrolled_now = report.applied;
    }
    let citizens = store.stats().await.map_err(|e| store_error(&e))?.subjects as u64;

    let token_path = dir.path().join("admin-token.txt");
    let admin_token = match std::fs::read_to_string(&token_path) {
        Ok(token) => token.trim().to_owned(),
        Err(_) => {
            let made = store
                .create_token("demo-admin", &Scope::ALL, now)
                .await
                .map_err(|e| store_error(&e))?;
            write_new(
                &token_path,
                format!("{}\n", made.token).as_bytes(),
                Mode::OwnerOnly,
            )
            .map_err(|e| store_error(&e))?;
            made.token
        }
    };

    let idp_path = dir.path().join("demo-idp.key");
    let idp_key = match std::fs::read_to_string(&idp_path) {
        Ok(text) => {
            let seed: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| DemoError::Store(format!("{} is damaged", idp_path.display())))?;
            ed25519_dalek::SigningKey::from_bytes(&seed)
        }
        Err(_) => {
            let key = sealpass_keys::keyfile::generate().map_err(|e| store_error(&e))?;
            write_new(
                &idp_path,
                format!("{}\n", hex::encode(key.to_bytes())).as_bytes(),
                Mode::OwnerOnly,
            )
            .map_err(|e| store_error(&e))?;
            key
        }
    };

    let signer = PassSigner::new(
        store.clone(),
        ceremony.key.clone(),
        SignerConfig::new(&ceremony.issuer),
    )
    .map_err(DemoError::Store)?;
    Ok(Prepared {
        store,
        store_url,
        ceremony,
        signer,
        citizens,
        enrolled_now,
        admin_token,
        idp_key,
    })
}
