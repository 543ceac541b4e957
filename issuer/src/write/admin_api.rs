//! The admin ingestion API for health-authority systems (docs/issuer.md,
//! "Admin API"). Every request carries an admin token with the scope the
//! endpoint needs; bodies are CSV or NDJSON of any size, streamed into the
//! store in committed chunks. A 200 answer means every applied row is
//! durably committed; refused rows are listed with their line numbers.
//!
//! [`admin_router`] is the whole API, so the public read side can be
//! mounted beside it in the same server.

use crate::shared::clock::Clock;
use crate::shared::errors::ApiError;
use crate::store::{ApiToken, Scope, Store};
use crate::write::identity_links;
use crate::write::ingest::{self, ByteSource, Format, IngestError, Kind, Report};
use axum::Router;
use axum::body::{Body, BodyDataStream};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;

/// What the admin API needs: the store and a clock.
#[derive(Clone)]
pub struct AdminState {
    pub store: Store,
    pub clock: Clock,
}

/// The admin API: `POST /admin/v1/subjects`, `/admin/v1/status`,
/// `/admin/v1/revocations`, and the identity links,
/// `/admin/v1/identity-links` and `/admin/v1/identity-links/unlink`
/// ([`identity_links`](super::identity_links)).
pub fn admin_router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/v1/subjects", post(import_subjects))
        .route("/admin/v1/status", post(import_status))
        .route("/admin/v1/revocations", post(import_revocations))
        .route("/admin/v1/identity-links", post(identity_links::link))
        .route(
            "/admin/v1/identity-links/unlink",
            post(identity_links::unlink),
        )
        // Bodies of any size: they are streamed, never held whole.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn import_subjects(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    import(
        state,
        headers,
        body,
        Kind::Enrolments,
        Scope::SubjectsImport,
        "subjects",
    )
    .await
}

async fn import_status(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    import(
        state,
        headers,
        body,
        Kind::StatusUpdates,
        Scope::StatusWrite,
        "status",
    )
    .await
}

async fn import_revocations(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    import(
        state,
        headers,
        body,
        Kind::Revocations,
        Scope::PassesRevoke,
        "revocations",
    )
    .await
}

pub(super) fn error(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// The token of the request if it is live and has `scope`; else the
/// answer (401, 403, or 503 when the store fails).
pub(super) async fn authorize(
    state: &AdminState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<ApiToken, Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send an admin token: Authorization: Bearer spa_...",
        ));
    };
    match state.store.authenticate(presented).await {
        Ok(Some(token)) if token.allows(scope) => Ok(token),
        Ok(Some(token)) => {
            tracing::warn!(token = %token.name, scope = %scope, "admin token lacks the scope");
            Err(error(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this token does not have the scope {scope}"),
            ))
        }
        Ok(None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the admin token is unknown or revoked",
        )),
        Err(e) => {
            tracing::error!(error = %e, "store failed while checking an admin token");
            Err(unavailable(None))
        }
    }
}

fn unavailable(committed_through_line: Option<u64>) -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "the batch was not completely stored; send the whole batch again (events are idempotent)",
    )
    .retry_after(5)
    .committed_through_line(committed_through_line)
    .into_response()
}

fn format_of(headers: &HeaderMap) -> Option<Format> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Some(Format::Csv),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/json" => Some(Format::Ndjson),
        _ => None,
    }
}

struct BodySource(BodyDataStream);

impl ByteSource for BodySource {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        match self.0.next().await {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes.to_vec())),
            Some(Err(e)) => Err(std::io::Error::other(e)),
        }
    }
}

async fn import(
    state: AdminState,
    headers: HeaderMap,
    body: Body,
    kind: Kind,
    scope: Scope,
    endpoint: &'static str,
) -> Response {
    let token = match authorize(&state, &headers, scope).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let Some(format) = format_of(&headers) else {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: text/csv (with a header line) or application/x-ndjson",
        );
    };
    let now = (state.clock)();
    let source = BodySource(body.into_data_stream());
    let result = ingest::ingest(
        &state.store,
        kind,
        format,
        source,
        &token.name,
        now,
        &mut |_| {},
    )
    .await;
    match result {
        Ok(report) => {
            log_report(endpoint, &token, &report);
            (StatusCode::OK, axum::Json(report)).into_response()
        }
        Err(IngestError::Header(message)) => error(StatusCode::BAD_REQUEST, "bad_header", message),
        Err(IngestError::Source {
            source,
            committed_through_line,
        }) => {
            tracing::warn!(endpoint, token = %token.name, error = %source, committed_through_line, "request body ended early");
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_incomplete",
                "the request body could not be read to its end; send the whole batch again",
            )
            .committed_through_line(Some(committed_through_line))
            .into_response()
        }
        Err(IngestError::Store {
            source,
            committed_through_line,
        }) => {
            tracing::error!(endpoint, token = %token.name, error = %source, committed_through_line, "store failed during an import");
            unavailable(Some(committed_through_line))
        }
    }
}

fn log_report(endpoint: &'static str, token: &ApiToken, report: &Report) {
    tracing::info!(
        endpoint,
        token = %token.name,
        lines = report.lines,
        applied = report.applied,
        duplicates = report.duplicates,
        superseded = report.superseded,
        rejected = report.rejected,
        "import committed"
    );
}
