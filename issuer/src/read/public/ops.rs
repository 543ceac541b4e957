//! For operators: `/healthz` (the process answers), `/readyz` (the store
//! answers too: take traffic), `/metrics` (Prometheus, on the operators'
//! router only: [`super::operator_router`]), and the middleware
//! every request passes through: a request id, one JSON log line, and the
//! request metrics. Logs carry the route template, never the path a client
//! typed, and no address, token, subject or pass text.

use super::PublicState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::Instrument as _;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 once the store answers, 503 while it does not.
pub async fn readyz(State(state): State<PublicState>) -> Response {
    let store = tokio::time::timeout(READY_TIMEOUT, state.inner.store.ping()).await;
    let (status, store) = match store {
        Ok(Ok(())) => (StatusCode::OK, "reachable"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the store fails");
            (StatusCode::SERVICE_UNAVAILABLE, "unreachable")
        }
        Err(_) => {
            tracing::warn!("not ready: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "unreachable")
        }
    };
    let body = serde_json::json!({"ready": status == StatusCode::OK, "store": store});
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// `GET /metrics`
pub async fn metrics(State(state): State<PublicState>) -> Response {
    let inner = &state.inner;
    inner.metrics.passes_in_memory(inner.book.len());
    inner
        .metrics
        .connections_in_service(inner.in_service.count());
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        inner.metrics.render(),
    )
        .into_response()
}

/// A request id: the caller's `X-Request-Id` if it is short and plain,
/// else a new one.
fn request_id(request: &Request, counter: &AtomicU64) -> String {
    let given = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        });
    match given {
        Some(id) => id.to_owned(),
        None => {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let mut random = [0u8; 8];
            let _ = getrandom::fill(&mut random);
            format!("{}-{n}", hex::encode(random))
        }
    }
}

/// Request id, log line and metrics around every request.
pub async fn observe(
    State(state): State<PublicState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request_id(&request, &state.inner.request_counter);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.inner.metrics.request(&route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}
