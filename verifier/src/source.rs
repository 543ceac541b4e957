//! Where `sync` gets the lists: an HTTP server, or a directory (a USB stick
//! handed over with no network). Both have the same layout:
//!
//! ```text
//! SOURCE/trust-list.cbor          the trust list, as the custodians signed it
//! SOURCE/status/<issuer>.cbor     each issuer's status list (issuer id as in
//!                                 `state::issuer_file_stem`: CN-610100.cbor)
//! ```
//!
//! Over HTTP, an issuer key that names a status-list URL in the trust list
//! is fetched from there instead. Nothing fetched is trusted for where it
//! came from: every list is checked by its signatures.

use crate::state::{STATUS_DIR, TRUST_LIST_FILE};
use sealpass_checkpoint::issuer_file_stem;
use sealpass_core::Timestamp;
use std::fmt;
use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `http://…` or `https://…`, without a trailing slash.
    Http(String),
    /// A directory, given as a path or a `file://` URL.
    Dir(PathBuf),
}

/// One list's place at a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    File(PathBuf),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Url(url) => f.write_str(url),
            Location::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How long one download may take, all in.
const TIMEOUT: Duration = Duration::from_secs(60);

impl Source {
    pub fn parse(from: &str) -> Source {
        let lower = from.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::Http(from.trim_end_matches('/').to_owned())
        } else if let Some(path) = from.strip_prefix("file://") {
            Source::Dir(PathBuf::from(path))
        } else {
            Source::Dir(PathBuf::from(from))
        }
    }

    pub fn trust_list(&self) -> Location {
        match self {
            Source::Http(base) => Location::Url(format!("{base}/{TRUST_LIST_FILE}")),
            Source::Dir(dir) => Location::File(dir.join(TRUST_LIST_FILE)),
        }
    }

    /// The issuer's status list: the URL its key names when syncing over
    /// HTTP, else `status/<issuer>.cbor` at the source.
    pub fn status_list(&self, issuer: &str, named_url: Option<&str>) -> Location {
        let file = format!("{}.cbor", issuer_file_stem(issuer));
        match (self, named_url) {
            (Source::Http(_), Some(url)) => Location::Url(url.to_owned()),
            (Source::Http(base), None) => Location::Url(format!("{base}/{STATUS_DIR}/{file}")),
            (Source::Dir(dir), _) => Location::File(dir.join(STATUS_DIR).join(file)),
        }
    }
}

/// Why a list could not be fetched (as opposed to fetched and refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    NotFound,
    Failed(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotFound => f.write_str("not found"),
            FetchError::Failed(reason) => f.write_str(reason),
        }
    }
}

/// What a fetch brought: the bytes and, over HTTP, the server's clock (the
/// `Date` of its answer) with this device's when the answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub server_time: Option<Timestamp>,
}

/// The bytes at `location`, at most `limit` of them.
pub fn fetch(location: &Location, limit: usize) -> Result<Fetched, FetchError> {
    match location {
        Location::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| match e.kind() {
                ErrorKind::NotFound => FetchError::NotFound,
                _ => FetchError::Failed(e.to_string()),
            })?;
            let mut bytes = Vec::new();
            file.take(limit as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| FetchError::Failed(e.to_string()))?;
            if bytes.len() > limit {
                return Err(too_large(limit));
            }
            Ok(Fetched {
                bytes,
                server_time: None,
            })
        }
        Location::Url(url) => fetch_http(url, limit),
    }
}

fn fetch_http(url: &str, limit: usize) -> Result<Fetched, FetchError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("sealpass-verifier/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(describe)?;
    let status = response.status();
    if status == 404 || status == 410 {
        return Err(FetchError::NotFound);
    }
    if !status.is_success() {
        return Err(FetchError::Failed(format!("the server answered {status}")));
    }
    let server_time = response
        .headers()
        .get("date")
        .and_then(|date| date.to_str().ok())
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .and_then(|date| date.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since_epoch| Timestamp(since_epoch.as_secs()));
    let bytes = response
        .body_mut()
        .with_config()
        .limit(limit as u64)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(limit),
            e => describe(e),
        })?;
    Ok(Fetched { bytes, server_time })
}

fn too_large(limit: usize) -> FetchError {
    FetchError::Failed(format!("larger than the {limit} bytes accepted"))
}

fn describe(e: ureq::Error) -> FetchError {
    FetchError::Failed(match e {
        ureq::Error::TlsRequired | ureq::Error::Tls(_) => format!(
            "{e}: this build has no https support (built without the `https` feature); sync over http:// (the lists are signed) or from a directory"
        ),
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound | ureq::Error::Io(_) => {
            format!("cannot reach the server ({e})")
        }
        e => e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_their_layout() {
        let http = Source::parse("http://health.example/sealpass/");
        assert_eq!(
            http.trust_list(),
            Location::Url("http://health.example/sealpass/trust-list.cbor".into())
        );
        assert_eq!(
            http.status_list("CN-610100", None),
            Location::Url("http://health.example/sealpass/status/CN-610100.cbor".into())
        );
        assert_eq!(
            http.status_list("CN-610100", Some("https://cdn.example/s/1")),
            Location::Url("https://cdn.example/s/1".into())
        );
        let usb = Source::parse("file:///media/usb/sealpass");
        assert_eq!(usb, Source::Dir("/media/usb/sealpass".into()));
        assert_eq!(
            usb.status_list("CN-610100", Some("https://cdn.example/s/1")),
            Location::File("/media/usb/sealpass/status/CN-610100.cbor".into())
        );
        assert_eq!(Source::parse("usb"), Source::Dir("usb".into()));
    }
}
