//! A pass made ready to send when it is loaded: its text, its ETag and its
//! JSON at once, its PNG and SVG on the first request for either.

use crate::read::public::render::Modules;
use crate::store::StoreError;
use crate::store::reads::StoredPass;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// A pass with everything a response needs, made when it was loaded.
#[derive(Debug)]
pub struct RenderedPass {
    /// The pass text as signed.
    pub text: String,
    /// Hex of the first 16 bytes of SHA-256 of the text: the ETag.
    pub version: String,
    pub json: Vec<u8>,
    pub issued_at: u64,
    pub expires_at: u64,
    images: OnceLock<Images>,
}

/// The pass as QR code images.
#[derive(Debug)]
pub struct Images {
    pub png: Vec<u8>,
    pub svg: Vec<u8>,
}

impl RenderedPass {
    /// Whether the images were rendered already.
    pub fn has_images(&self) -> bool {
        self.images.get().is_some()
    }

    /// The images, rendered on the first call (off the async threads: see
    /// docs/performance.md, "QR rendering"), held after.
    pub fn images(&self) -> &Images {
        self.images.get_or_init(|| {
            // The text was encoded when the pass was loaded; it fits.
            match Modules::of(&self.text) {
                Ok(modules) => Images {
                    png: modules.png(),
                    svg: modules.svg().into_bytes(),
                },
                Err(_) => Images {
                    png: Vec::new(),
                    svg: Vec::new(),
                },
            }
        })
    }
}

/// The JSON of `GET /api/v1/pass` (docs/public-api.md).
#[derive(Serialize)]
struct PassJson<'a> {
    pass: &'a str,
    colour: &'static str,
    masked_name: &'a str,
    masked_id: &'a str,
    issuer: &'a str,
    issued_at: u64,
    valid_until: u64,
    next_pass_at: i64,
    version: &'a str,
    vaccination: VaccinationJson,
    test: Option<TestJson>,
    /// The pass carries a device key (`cnf`): a checkpoint accepts it only
    /// inside a live code that device signed.
    holder_bound: bool,
    holder_key_type: Option<&'static str>,
    /// base64url of the key as the pass carries it (Ed25519: 32 bytes;
    /// P-256: 33 bytes, compressed), for the page to tell its own key.
    holder_key: Option<String>,
}

/// The vaccination line of the citizen page, as the pass says it.
#[derive(Serialize)]
struct VaccinationJson {
    doses: u8,
    /// `YYYY-MM-DD`.
    last_dose: Option<String>,
}

/// The test line; the page says how long ago from `taken_at`.
#[derive(Serialize)]
struct TestJson {
    result: &'static str,
    taken_at: u64,
}

/// Why no pass can be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    #[error("no such subject")]
    UnknownSubject,
    #[error("no pass signed yet")]
    NotSigned,
    #[error("the stored pass cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Prepare a stored pass: its text made, its claims read, its JSON made.
/// The images wait for [`RenderedPass::images`].
pub fn render(stored: &StoredPass) -> Result<RenderedPass, PassError> {
    render_with_text(stored, stored.text())
}

/// [`render`], with the pass's `text` (`stored.text()`) made already.
pub(super) fn render_with_text(
    stored: &StoredPass,
    text: String,
) -> Result<RenderedPass, PassError> {
    // Only to say in JSON what the QR says: no trust decision rests on it.
    let claims = stored
        .unverified_claims()
        .map_err(|e| PassError::Unreadable(e.to_string()))?;
    if text.len() > MAX_QR_TEXT {
        return Err(PassError::Unreadable("too long for a QR code".into()));
    }
    let version = hex::encode(&Sha256::digest(text.as_bytes())[..16]);
    let json = serde_json::to_vec(&PassJson {
        pass: &text,
        colour: claims.health.colour.name(),
        masked_name: &claims.health.masked_name,
        masked_id: &claims.health.masked_id,
        issuer: &claims.issuer,
        issued_at: claims.issued_at.0,
        valid_until: claims.expires_at.0,
        next_pass_at: stored.due_at,
        version: &version,
        vaccination: VaccinationJson {
            doses: claims.health.vaccination.doses,
            last_dose: claims.health.vaccination.last_dose.map(|d| d.to_string()),
        },
        test: claims.health.last_test.map(|test| TestJson {
            result: test.result.name(),
            taken_at: test.taken_at.0,
        }),
        holder_bound: claims.holder.is_some(),
        holder_key_type: claims.holder.map(|key| key.key_type().name()),
        holder_key: claims
            .holder
            .map(|key| URL_SAFE_NO_PAD.encode(key.to_bytes())),
    })
    .expect("pass JSON serializes");
    Ok(RenderedPass {
        text,
        version,
        json,
        issued_at: claims.issued_at.0,
        expires_at: claims.expires_at.0,
        images: OnceLock::new(),
    })
}

/// Longest pass text that surely fits a QR code at level M (version 40
/// holds 3,391 alphanumeric characters); verifiers refuse more than 2,048.
const MAX_QR_TEXT: usize = 2048;
