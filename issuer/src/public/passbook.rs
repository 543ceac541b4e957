//! The pass book: citizens' current passes, ready to send, in memory.
//!
//! A pass is loaded from the store (one indexed read) the first time it is
//! asked for, and its JSON made then, once; its PNG and SVG are rendered
//! once too, the first time either is asked for (the citizen page draws
//! the QR itself and never asks). Every later request for the same pass is
//! answered from memory with bytes made before it arrived; nothing is
//! signed or rendered per request. An entry
//! is re-checked against the store at most every `recheck` (default 2 s), so a
//! pass the signer replaced reaches the phone within seconds; a check that
//! finds the same pass touches nothing else. When the store cannot be
//! reached, a held pass that has not expired is still served: citizens
//! keep their passes through a database failover.
//!
//! Memory is bounded: past `capacity` entries, an arbitrary sixteenth is
//! dropped (they are reloaded on their next request). About 1 KiB a pass,
//! 7 KiB once its images were asked for.

use super::reads::{PassLookup, StoredPass};
use super::render::Modules;
use crate::store::{Store, StoreError};
use sealpass_core::{PassClaims, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

    /// The images, rendered on the first call (about 0.1 ms: run it off the
    /// async threads), held after.
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
}

/// Why no pass can be sent.
#[derive(Debug, thiserror::Error)]
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

/// Read what our own signer wrote: the claims of a stored pass. No trust
/// decision rests on this (the phone's verifier decides); it only says in
/// JSON what the QR says.
fn claims_of(text: &str) -> Result<PassClaims, PassError> {
    let bad = |e: &dyn std::fmt::Display| PassError::Unreadable(e.to_string());
    let cose = sealpass_core::text::decode(text).map_err(|e| bad(&e))?;
    let sign1 = sealpass_core::cose::parse_sign1(&cose).map_err(|e| bad(&e))?;
    PassClaims::from_cbor(sign1.payload).map_err(|e| bad(&e))
}

/// Prepare a stored pass: its claims read, its JSON made. The images wait
/// for [`RenderedPass::images`].
pub fn render(stored: &StoredPass) -> Result<RenderedPass, PassError> {
    let claims = claims_of(&stored.text)?;
    if stored.text.len() > MAX_QR_TEXT {
        return Err(PassError::Unreadable("too long for a QR code".into()));
    }
    let version = hex::encode(&Sha256::digest(stored.text.as_bytes())[..16]);
    let json = serde_json::to_vec(&PassJson {
        pass: &stored.text,
        colour: claims.health.colour.name(),
        masked_name: &claims.health.masked_name,
        masked_id: &claims.health.masked_id,
        issuer: &claims.issuer,
        issued_at: claims.issued_at.0,
        valid_until: claims.expires_at.0,
        next_pass_at: stored.due_at,
        version: &version,
    })
    .expect("pass JSON serializes");
    Ok(RenderedPass {
        text: stored.text.clone(),
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

struct Slot {
    pass: Arc<RenderedPass>,
    checked: Instant,
}

/// How a pass was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Checked against the store within `recheck`.
    Current,
    /// The store could not be reached; the pass held in memory was sent.
    HeldDuringOutage,
}

pub struct PassBook {
    store: Store,
    slots: Mutex<HashMap<String, Slot>>,
    capacity: usize,
    recheck: Duration,
}

impl PassBook {
    pub fn new(store: Store, capacity: usize, recheck: Duration) -> PassBook {
        PassBook {
            store,
            slots: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            recheck,
        }
    }

    fn held(&self, subject: &str) -> Option<(Arc<RenderedPass>, Instant)> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get(subject).map(|s| (s.pass.clone(), s.checked))
    }

    fn keep(&self, subject: &str, pass: Arc<RenderedPass>) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= self.capacity && !slots.contains_key(subject) {
            let drop: Vec<String> = slots
                .keys()
                .take((self.capacity / 16).max(1))
                .cloned()
                .collect();
            for key in drop {
                slots.remove(&key);
            }
        }
        slots.insert(
            subject.to_owned(),
            Slot {
                pass,
                checked: Instant::now(),
            },
        );
    }

    /// The current pass of `subject`.
    pub async fn get(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<(Arc<RenderedPass>, Source), PassError> {
        let held = self.held(subject);
        if let Some((pass, checked)) = &held
            && checked.elapsed() < self.recheck
        {
            return Ok((pass.clone(), Source::Current));
        }
        let lookup = match self.store.current_pass(subject).await {
            Ok(lookup) => lookup,
            Err(e) => {
                return match held {
                    Some((pass, _)) if pass.expires_at > now.0 => {
                        Ok((pass, Source::HeldDuringOutage))
                    }
                    _ => Err(e.into()),
                };
            }
        };
        match lookup {
            PassLookup::Unknown => {
                self.forget(subject);
                Err(PassError::UnknownSubject)
            }
            PassLookup::NotSigned { .. } => Err(PassError::NotSigned),
            PassLookup::Signed(stored) => {
                let pass = match held {
                    Some((pass, _)) if pass.text == stored.text => pass,
                    _ => Arc::new(render(&stored)?),
                };
                self.keep(subject, pass.clone());
                Ok((pass, Source::Current))
            }
        }
    }

    fn forget(&self, subject: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(subject);
    }

    /// Passes held in memory.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
