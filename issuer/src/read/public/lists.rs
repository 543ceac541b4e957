//! The trust list and the status lists, byte for byte as signed, in the
//! layout `sealpass-verifier sync` and the web verifier read
//! (docs/verifier.md): `/trust-list.cbor` and `/status/<issuer>.cbor`.
//! They are public and signed, so any CDN may cache them
//! (`Cache-Control: public`), and any origin may fetch them (CORS `*`).
//!
//! The lists change a few times a day at most; each is held in memory and
//! re-read from the store at most once a second. When the store cannot be
//! reached, the list held is served (its signature and expiry make it safe
//! to serve stale).

use super::PublicState;
use crate::shared::errors::ApiError;
use crate::store::reads::StoreReader;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a list read from the store is served before it is read again.
const REFRESH: Duration = Duration::from_secs(1);
/// How long CDNs and verifiers may keep a list before asking again.
const TRUST_LIST_MAX_AGE: u32 = 300;
const STATUS_LIST_MAX_AGE: u32 = 60;

/// A list ready to send.
pub struct ServedList {
    pub bytes: Vec<u8>,
    pub etag: String,
}

impl ServedList {
    fn new(bytes: Vec<u8>) -> ServedList {
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
        ServedList { bytes, etag }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Which {
    Trust,
    Status(String),
}

/// A list as last read from the store (`None`: not published), and when.
type Held = (Instant, Option<Arc<ServedList>>);

/// The lists held in memory.
#[derive(Default)]
pub struct ListCache {
    held: Mutex<HashMap<Which, Held>>,
}

/// Most status lists held at once (one per issuer: a handful).
const MAX_ISSUERS: usize = 64;

impl ListCache {
    async fn get(
        &self,
        store: &StoreReader,
        which: Which,
    ) -> Result<Option<Arc<ServedList>>, ApiError> {
        let held = {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            held.get(&which).cloned()
        };
        if let Some((at, list)) = &held
            && at.elapsed() < REFRESH
        {
            return Ok(list.clone());
        }
        let read = match &which {
            Which::Trust => store.trust_list().await.map(|l| l.map(|l| l.bytes)),
            Which::Status(issuer) => store.status_list(issuer).await.map(|l| l.map(|l| l.bytes)),
        };
        let list = match read {
            Ok(bytes) => bytes.map(|bytes| match &held {
                Some((_, Some(list))) if list.bytes == bytes => list.clone(),
                _ => Arc::new(ServedList::new(bytes)),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "store unreachable while reading a signed list");
                return match held {
                    Some((_, Some(list))) => Ok(Some(list)),
                    _ => Err(ApiError::unavailable()),
                };
            }
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() >= MAX_ISSUERS && !held.contains_key(&which) {
            held.retain(|w, _| *w == Which::Trust);
        }
        held.insert(which, (Instant::now(), list.clone()));
        Ok(list)
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn send(list: &ServedList, headers: &HeaderMap, max_age: u32) -> Response {
    let cache =
        HeaderValue::from_str(&format!("public, max-age={max_age}")).expect("a valid header value");
    let etag = HeaderValue::from_str(&list.etag).expect("hex is a valid header value");
    let mut response = if not_modified(headers, &list.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Body::from(list.bytes.clone()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/cbor"),
        );
        response
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `GET /trust-list.cbor`
pub async fn trust_list(State(state): State<PublicState>, headers: HeaderMap) -> Response {
    match state.inner.lists.get(&state.inner.store, Which::Trust).await {
        Ok(Some(list)) => send(&list, &headers, TRUST_LIST_MAX_AGE),
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_trust_list",
            "no trust list is published yet: the key ceremony's list is stored with `sealpass-issuer trust publish`",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /status/{issuer}.cbor`; the issuer id is percent-decoded by the
/// router, as `sealpass-verifier` escapes it.
pub async fn status_list(
    State(state): State<PublicState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(issuer) = file
        .strip_suffix(".cbor")
        .filter(|i| !i.is_empty() && i.len() <= 64)
    else {
        return ApiError::not_found().into_response();
    };
    match state
        .inner
        .lists
        .get(&state.inner.store, Which::Status(issuer.to_owned()))
        .await
    {
        Ok(Some(list)) => send(&list, &headers, STATUS_LIST_MAX_AGE),
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_status_list",
            "this issuer has no status list here",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}
