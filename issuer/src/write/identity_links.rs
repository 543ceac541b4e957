//! The admin API's identity links (issue 17; docs/issuer.md, "Identity
//! links"): `POST /admin/v1/identity-links` links a citizen's login at an
//! identity provider (its `iss` and `sub`) to a sealpass subject, `POST
//! /admin/v1/identity-links/unlink` removes the link. Both need the scope
//! `identities:link`. The body is one JSON object; its fields are checked
//! by ingestion's rules (`ingest::checks`, `ingest::rows::subject_id`).
//!
//! Logs name the endpoint, the token and the outcome, never the login or
//! the subject: they are personal data.

use super::admin_api::{AdminState, authorize, error};
use super::ingest::checks::plain_text;
use super::ingest::rows::{RowError, subject_id};
use crate::model::{MAX_LINK_ISSUER_LEN, MAX_LINK_SUB_LEN};
use crate::shared::errors::ApiError;
use crate::store::{ApiToken, IdentityLink, LinkError, LinkOutcome, Scope};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// Largest body accepted: one small JSON object.
const MAX_BODY: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    issuer: String,
    sub: String,
    subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlinkBody {
    issuer: String,
    sub: String,
}

/// A request body whose fields are checked.
trait Checked: serde::de::DeserializeOwned {
    fn check(&self) -> Result<(), RowError>;
}

impl Checked for LinkBody {
    fn check(&self) -> Result<(), RowError> {
        login(&self.issuer, &self.sub)?;
        subject_id(&self.subject)
    }
}

impl Checked for UnlinkBody {
    fn check(&self) -> Result<(), RowError> {
        login(&self.issuer, &self.sub)
    }
}

/// The request's token, if it has the scope `identities:link`, and its
/// body, if it is JSON of the right fields and they pass the checks; else
/// the answer.
async fn checked<T: Checked>(
    state: &AdminState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(ApiToken, T), Response> {
    let token = authorize(state, headers, Scope::IdentitiesLink).await?;
    let body: T = read_json(headers, body).await?;
    body.check()
        .map_err(|refused| error(StatusCode::BAD_REQUEST, refused.code, refused.reason))?;
    Ok((token, body))
}

/// `POST /admin/v1/identity-links`: `{"issuer", "sub", "subject"}`.
pub(super) async fn link(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (token, body) = match checked::<LinkBody>(&state, &headers, body).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let link = IdentityLink {
        issuer: body.issuer,
        sub: body.sub,
        subject: body.subject,
    };
    let now = (state.clock)();
    match state.store.link_identity(&link, &token.name, now).await {
        Ok(outcome) => {
            let outcome = match outcome {
                LinkOutcome::Linked => "linked",
                LinkOutcome::Unchanged => "unchanged",
            };
            tracing::info!(endpoint = "identity-links", token = %token.name, outcome, "identity link");
            ok(
                json!({"outcome": outcome, "issuer": link.issuer, "sub": link.sub, "subject": link.subject}),
            )
        }
        Err(LinkError::UnknownSubject) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_subject",
            "no subject is enrolled under this id: enrol the person first, then link the login",
        ),
        Err(LinkError::LinkedElsewhere) => error(
            StatusCode::CONFLICT,
            "already_linked",
            "this login is linked to another subject: unlink it first if the link is wrong",
        ),
        Err(LinkError::Store(e)) => {
            tracing::error!(endpoint = "identity-links", token = %token.name, error = %e, "store failed while linking a login");
            unavailable()
        }
    }
}

/// `POST /admin/v1/identity-links/unlink`: `{"issuer", "sub"}`.
pub(super) async fn unlink(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (token, body) = match checked::<UnlinkBody>(&state, &headers, body).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let now = (state.clock)();
    match state
        .store
        .unlink_identity(&body.issuer, &body.sub, &token.name, now)
        .await
    {
        Ok(true) => {
            tracing::info!(endpoint = "identity-links/unlink", token = %token.name, outcome = "unlinked", "identity link");
            ok(json!({"outcome": "unlinked", "issuer": body.issuer, "sub": body.sub}))
        }
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            "not_linked",
            "this login has no link: the identity provider's template already applies",
        ),
        Err(e) => {
            tracing::error!(endpoint = "identity-links/unlink", token = %token.name, error = %e, "store failed while unlinking a login");
            unavailable()
        }
    }
}

/// The login's `issuer` and `sub`: 1 to their longest, no invisible
/// characters (ingestion's rule for every field).
fn login(issuer: &str, sub: &str) -> Result<(), RowError> {
    for (field, value, longest, code) in [
        ("issuer", issuer, MAX_LINK_ISSUER_LEN, "bad_issuer"),
        ("sub", sub, MAX_LINK_SUB_LEN, "bad_sub"),
    ] {
        if value.is_empty() || value.len() > longest {
            return Err(RowError::new(
                code,
                format!(
                    "{field} must be 1 to {longest} bytes, exactly as the identity provider's tokens carry it"
                ),
            ));
        }
        plain_text(field, value)?;
    }
    Ok(())
}

async fn read_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ));
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body must be one JSON object of at most {MAX_BODY} bytes"),
        ));
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not the expected JSON object: {e}"),
        )
    })
}

fn ok(body: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

fn unavailable() -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        "the change was not stored; send it again",
    )
    .retry_after(5)
    .into_response()
}
