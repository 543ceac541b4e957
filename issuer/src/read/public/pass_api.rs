//! `GET /api/v1/pass` (JSON), `/api/v1/pass.png` and `/api/v1/pass.svg`:
//! the logged-in citizen's current pass. Each answer carries the pass's
//! ETag; a phone that sends it back in `If-None-Match` gets `304 Not
//! Modified` until the signer has made a new pass, so it downloads a pass
//! once, not once per refresh.

use super::PublicState;
use super::auth::AuthError;
use super::identity_links;
use super::lists::not_modified;
use crate::read::passbook::{PassError, RenderedPass, Source};
use crate::shared::errors::ApiError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealpass_core::Timestamp;

/// Which representation of the pass.
#[derive(Clone, Copy)]
pub enum Form {
    Json,
    Png,
    Svg,
}

impl Form {
    fn content_type(self) -> &'static str {
        match self {
            Form::Json => "application/json",
            Form::Png => "image/png",
            Form::Svg => "image/svg+xml",
        }
    }

    fn etag(self, version: &str) -> String {
        match self {
            Form::Json => format!("\"{version}\""),
            Form::Png => format!("\"{version}.png\""),
            Form::Svg => format!("\"{version}.svg\""),
        }
    }

    fn bytes(self, pass: &RenderedPass) -> &[u8] {
        match self {
            Form::Json => &pass.json,
            Form::Png => &pass.images().png,
            Form::Svg => &pass.images().svg,
        }
    }
}

fn auth_error(error: AuthError) -> ApiError {
    let mut answer = ApiError::new(StatusCode::UNAUTHORIZED, error.code(), error.message());
    answer.authenticate = Some(match error {
        AuthError::Missing => "Bearer realm=\"sealpass\"",
        _ => "Bearer realm=\"sealpass\", error=\"invalid_token\"",
    });
    answer
}

pub async fn pass_json(state: State<PublicState>, headers: HeaderMap) -> Response {
    pass(state, headers, Form::Json).await
}

pub async fn pass_png(state: State<PublicState>, headers: HeaderMap) -> Response {
    pass(state, headers, Form::Png).await
}

pub async fn pass_svg(state: State<PublicState>, headers: HeaderMap) -> Response {
    pass(state, headers, Form::Svg).await
}

/// The subject of the citizen logged in with the request's identity
/// token, or the answer that refuses it (401, 409 `identity_conflict`,
/// 503). The pass downloads and device binding both begin here.
pub(crate) async fn logged_in_subject(
    state: &PublicState,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<String, Response> {
    let inner = &state.inner;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    let login = match inner.verified_tokens.verify(&inner.providers, token, now) {
        Ok(login) => login,
        Err(error) => {
            // Fixed words only: the error's text may quote the token.
            tracing::info!(
                code = error.code(),
                cause = error.cause(),
                "identity token refused"
            );
            return Err(auth_error(error).into_response());
        }
    };
    // Remembered with the token, or resolved once from the store.
    let resolution = match &login.resolution {
        Some(resolution) => resolution.clone(),
        None => match identity_links::resolve(&inner.store, &login.citizen).await {
            Ok(resolution) => {
                inner
                    .verified_tokens
                    .remember_resolution(&login, resolution.clone(), now);
                resolution
            }
            Err(e) => match &login.held_resolution {
                // As a held pass is served through an outage.
                Some(held) => held.clone(),
                None => {
                    tracing::error!(error = %e, "store unreachable while resolving a login's identity link");
                    return Err(ApiError::unavailable().into_response());
                }
            },
        },
    };
    let Some(subject) = resolution.subject(&login.citizen) else {
        // A fixed cause only: never the login or either subject.
        tracing::warn!(
            code = "identity_conflict",
            cause = "linked_and_template_subjects_differ",
            "login refused"
        );
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "identity_conflict",
            "this login is linked to one person's health record and names another: please contact your health authority to have it corrected",
        )
        .into_response());
    };
    Ok(subject.to_owned())
}

async fn pass(State(state): State<PublicState>, headers: HeaderMap, form: Form) -> Response {
    let inner = &state.inner;
    let now = (inner.clock)();
    let subject = match logged_in_subject(&state, &headers, now).await {
        Ok(subject) => subject,
        Err(refused) => return refused,
    };
    let (pass, source) = match inner.book.get(&subject, now).await {
        Ok(found) => found,
        Err(PassError::UnknownSubject) => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_subject",
                "no health pass is held for this login: your health authority has not registered you with sealpass",
            )
            .into_response();
        }
        Err(PassError::NotSigned) => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "pass_not_ready",
                "your pass is being made: please retry in a minute",
            )
            .retry_after(60)
            .into_response();
        }
        Err(PassError::Unreadable(reason)) => {
            tracing::error!(%reason, "a stored pass cannot be read");
            return ApiError::unavailable().into_response();
        }
        Err(PassError::Store(e)) => {
            tracing::error!(error = %e, "store unreachable while loading a pass");
            return ApiError::unavailable().into_response();
        }
    };
    inner.metrics.pass_served(
        now.0.saturating_sub(pass.issued_at),
        source == Source::HeldDuringOutage,
    );
    let etag = form.etag(&pass.version);
    if !matches!(form, Form::Json) && !pass.has_images() {
        // Once per pass: rendering takes milliseconds, off the async threads.
        let rendering = pass.clone();
        if tokio::task::spawn_blocking(move || {
            rendering.images();
        })
        .await
        .is_err()
        {
            return ApiError::unavailable().into_response();
        }
    }
    let mut response = if not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Body::from(form.bytes(&pass).to_vec()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(form.content_type()),
        );
        response
    };
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header value"),
    );
    // Personal: never in a shared cache; kept by the phone, revalidated.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Authorization"));
    response
}
