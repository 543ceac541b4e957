//! Static files: the citizen page (`issuer/web/page/`, compiled into the
//! binary) at `/`, and the offline web verifier (`verifier/web/dist/`, a
//! directory read once at start) at `/verify/`, with the key ceremony's
//! root-set file beside it as `/verify/roots.cbor` (docs/web-verifier.md).
//! Every file is held in memory with its ETag; browsers revalidate
//! (`no-cache`) and the pages' service workers keep them for offline use.
//! The verifier's files come with their brotli and gzip forms, which
//! `cargo xtask web` writes beside each (`NAME.br`, `NAME.gz`): a request
//! gets the smallest it accepts (`accept_encoding`), each form with its
//! own ETag.

use super::accept_encoding::{self, Coding};
use super::lists::not_modified;
use crate::shared::errors::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The citizen page's files: URL path, file, content type.
pub const CITIZEN_PAGE: &[(&str, &[u8], &str)] = &[
    (
        "/",
        include_bytes!("../../../web/page/index.html"),
        "text/html; charset=utf-8",
    ),
    (
        "/errors.js",
        include_bytes!("../../../web/page/errors.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/app.js",
        include_bytes!("../../../web/page/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/i18n.js",
        include_bytes!("../../../web/page/i18n.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/qr.js",
        include_bytes!("../../../web/page/qr.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/holder.js",
        include_bytes!("../../../web/page/holder.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/device.js",
        include_bytes!("../../../web/page/device.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/live.js",
        include_bytes!("../../../web/page/live.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/style.css",
        include_bytes!("../../../web/page/style.css"),
        "text/css; charset=utf-8",
    ),
    (
        "/sw.js",
        include_bytes!("../../../web/page/sw.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/manifest.webmanifest",
        include_bytes!("../../../web/page/manifest.webmanifest"),
        "application/manifest+json",
    ),
    (
        "/icon.svg",
        include_bytes!("../../../web/page/icon.svg"),
        "image/svg+xml",
    ),
    (
        "/vendor/qrcode.mjs",
        include_bytes!("../../../web/page/vendor/qrcode.mjs"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/vendor/LICENSE-qrcode-generator.txt",
        include_bytes!("../../../web/page/vendor/LICENSE-qrcode-generator.txt"),
        "text/plain; charset=utf-8",
    ),
];

/// What the citizen page may load: only its own origin; no inline script.
/// (The web verifier's files are sent as they are built; its own
/// documentation says what it loads.)
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// A file ready to send, as it is and in the compressed forms held.
pub struct StaticFile {
    bytes: Bytes,
    /// Brotli, then gzip, when held: smallest first, as `choose` wants.
    compressed: Vec<(Coding, Bytes)>,
    content_type: String,
    /// A hash of the file as it is, quoted; a compressed form's ETag adds
    /// its coding inside the quotes (`"…-br"`), as it is other bytes.
    etag: String,
    csp: bool,
}

impl StaticFile {
    pub fn new(bytes: Vec<u8>, content_type: &str) -> StaticFile {
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..12]));
        StaticFile {
            bytes: bytes.into(),
            compressed: Vec::new(),
            content_type: content_type.to_owned(),
            etag,
            csp: false,
        }
    }

    /// Hold `bytes` as the file in `coding` too (made by the build; not
    /// checked here, as the file itself is not).
    fn with_compressed(mut self, coding: Coding, bytes: Vec<u8>) -> StaticFile {
        self.compressed.retain(|(held, _)| *held != coding);
        self.compressed.push((coding, bytes.into()));
        self.compressed.sort_by_key(|(held, _)| *held);
        self
    }

    /// Send it with the citizen page's Content-Security-Policy.
    fn with_csp(mut self) -> StaticFile {
        self.csp = true;
        self
    }

    pub fn send(&self, headers: &HeaderMap) -> Response {
        let held: Vec<Coding> = self.compressed.iter().map(|(coding, _)| *coding).collect();
        let coding = accept_encoding::choose(headers, &held);
        let (bytes, etag) = match self.compressed.iter().find(|(held, _)| *held == coding) {
            Some((coding, bytes)) => (
                bytes,
                format!("{}-{}\"", self.etag.trim_end_matches('"'), coding.token()),
            ),
            None => (&self.bytes, self.etag.clone()),
        };
        let mut response = if not_modified(headers, &etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Body::from(bytes.clone()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&self.content_type).expect("a valid content type"),
            );
            if coding != Coding::Identity {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(coding.token()),
                );
            }
            response
        };
        let h = response.headers_mut();
        h.insert(
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header value"),
        );
        if !self.compressed.is_empty() {
            // Caches keep one copy per form (RFC 9110, section 12.5.5).
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.csp {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
        }
        response
    }
}

/// The citizen page's files by URL path.
pub fn citizen_page() -> HashMap<&'static str, StaticFile> {
    CITIZEN_PAGE
        .iter()
        .map(|(path, bytes, content_type)| {
            (
                *path,
                StaticFile::new(bytes.to_vec(), content_type).with_csp(),
            )
        })
        .collect()
}

/// The offline web verifier's files, by path below `/verify/`.
#[derive(Default, Clone)]
pub struct VerifierApp {
    files: Arc<HashMap<String, StaticFile>>,
}

/// Why the verifier app could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("{0} has no index.html: build the web verifier first (cargo xtask web)")]
    NotBuilt(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} holds more than 64 MiB: is it the web verifier's dist/ directory?")]
    TooLarge(String),
}

fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "cbor" => "application/cbor",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl VerifierApp {
    /// Read `dir` (the web verifier's `dist/`) whole, and add the root-set
    /// file as `roots.cbor`.
    pub fn load(dir: &Path, roots: Option<Vec<u8>>) -> Result<VerifierApp, AppError> {
        if !dir.join("index.html").is_file() {
            return Err(AppError::NotBuilt(dir.display().to_string()));
        }
        let mut files = HashMap::new();
        let mut total = 0usize;
        let mut pending = vec![(dir.to_path_buf(), String::new())];
        while let Some((path, prefix)) = pending.pop() {
            let read_error = |source| AppError::Read {
                path: path.display().to_string(),
                source,
            };
            for entry in std::fs::read_dir(&path).map_err(read_error)? {
                let entry = entry.map_err(|e| AppError::Read {
                    path: path.display().to_string(),
                    source: e,
                })?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let file_type = entry.file_type().map_err(|e| AppError::Read {
                    path: entry.path().display().to_string(),
                    source: e,
                })?;
                let relative = format!("{prefix}{name}");
                if file_type.is_dir() && prefix.matches('/').count() < 4 {
                    pending.push((entry.path(), format!("{relative}/")));
                } else if file_type.is_file() {
                    let bytes = std::fs::read(entry.path()).map_err(|e| AppError::Read {
                        path: entry.path().display().to_string(),
                        source: e,
                    })?;
                    total += bytes.len();
                    if total > 64 << 20 {
                        return Err(AppError::TooLarge(dir.display().to_string()));
                    }
                    let file = StaticFile::new(bytes, content_type_of(&relative));
                    files.insert(relative, file);
                }
            }
        }
        // `NAME.br` and `NAME.gz` beside `NAME` are its compressed forms.
        let suffixes = [(".br", Coding::Brotli), (".gz", Coding::Gzip)];
        let forms: Vec<String> = files
            .keys()
            .filter(|name| {
                suffixes.iter().any(|(suffix, _)| {
                    name.strip_suffix(suffix)
                        .is_some_and(|plain| files.contains_key(plain))
                })
            })
            .cloned()
            .collect();
        for name in forms {
            let Some((suffix, coding)) = suffixes.iter().find(|(s, _)| name.ends_with(s)) else {
                continue;
            };
            let plain = &name[..name.len() - suffix.len()];
            // (`a.br.gz` finds no `a.br` once that became a form of `a`.)
            if !files.contains_key(plain) {
                continue;
            }
            if let (Some(form), Some(file)) = (files.remove(&name), files.remove(plain)) {
                let file = file.with_compressed(*coding, Vec::from(form.bytes));
                files.insert(plain.to_owned(), file);
            }
        }
        if let Some(roots) = roots {
            files.insert(
                "roots.cbor".into(),
                StaticFile::new(roots, "application/cbor"),
            );
        }
        Ok(VerifierApp {
            files: Arc::new(files),
        })
    }

    pub fn is_installed(&self) -> bool {
        !self.files.is_empty()
    }

    /// The file at `path` below `/verify/` (`""` is `index.html`).
    pub fn send(&self, path: &str, headers: &HeaderMap) -> Response {
        if !self.is_installed() {
            return (
                StatusCode::NOT_FOUND,
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                NOT_INSTALLED,
            )
                .into_response();
        }
        let path = if path.is_empty() { "index.html" } else { path };
        match self.files.get(path) {
            Some(file) => file.send(headers),
            None => ApiError::not_found().into_response(),
        }
    }
}

const NOT_INSTALLED: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>sealpass verifier</title>\
<main><h1>The offline web verifier is not installed here</h1>\
<p>Build it with <code>cargo xtask web</code> and start the issuer with \
<code>--verifier-app verifier/web/dist</code> (docs/web-verifier.md). \
The command-line verifier works meanwhile: <code>sealpass-verifier sync --from THIS-SERVER</code>.</p></main></html>\n";
