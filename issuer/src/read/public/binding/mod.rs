//! Device binding (issue 18, part 2; docs/public-api.md, "Device
//! binding"): a logged-in citizen's page binds its phone's public key to
//! the citizen's subject, proving possession by signing a fresh challenge,
//! and the signer then signs the subject's passes with the key in `cnf`.
//!
//! - `POST /api/v1/device/challenge`: a challenge for the logged-in
//!   citizen ([`challenge`]: stateless, 2 minutes).
//! - `PUT /api/v1/device`: the key and its signature over the binding
//!   message ([`proof`]); stored as an event ([`DeviceBinder`]).
//!
//! Off unless configured ([`DeviceBindingSettings`]): verifiers must
//! understand live codes before any pass is bound (docs/issuer.md,
//! "Rollout"). Off, both answer 403 `binding_disabled`.

pub mod challenge;
pub mod proof;

use super::PublicState;
use super::pass_api::logged_in_subject;
use crate::model::DeviceBinding;
use crate::shared::errors::ApiError;
use crate::store::{BindOutcome, DeviceBinder};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpass_core::{Seconds, Timestamp};
use serde_json::json;

/// How a public API binds devices. Present in
/// [`PublicSettings::device_binding`](super::PublicSettings) only when
/// the configuration turns binding on.
#[derive(Clone)]
pub struct DeviceBindingSettings {
    pub binder: DeviceBinder,
    /// New devices a subject may bind in any 24 hours (the first one
    /// included); binding the key already bound is free.
    pub max_new_devices_per_day: u32,
    /// How long a challenge may be answered.
    pub challenge_lifetime: Seconds,
}

/// Default of [`DeviceBindingSettings::max_new_devices_per_day`].
pub const DEFAULT_MAX_NEW_DEVICES_PER_DAY: u32 = 3;

impl DeviceBindingSettings {
    /// Binding on, with the default limits.
    pub fn new(binder: DeviceBinder) -> DeviceBindingSettings {
        DeviceBindingSettings {
            binder,
            max_new_devices_per_day: DEFAULT_MAX_NEW_DEVICES_PER_DAY,
            challenge_lifetime: challenge::DEFAULT_CHALLENGE_LIFETIME,
        }
    }
}

fn disabled() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "binding_disabled",
        "this issuer does not bind devices (yet): show your pass as it is",
    )
    .into_response()
}

/// A JSON answer that no cache keeps.
fn private_json(body: serde_json::Value) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Binding's settings, the logged-in citizen's subject and the time; or
/// the answer that refuses the request (binding off, or the login).
async fn binding_for_login<'a>(
    state: &'a PublicState,
    headers: &HeaderMap,
) -> Result<(&'a DeviceBindingSettings, String, Timestamp), Response> {
    let Some(binding) = &state.inner.binding else {
        return Err(disabled());
    };
    let now = (state.inner.clock)();
    let subject = logged_in_subject(state, headers, now).await?;
    Ok((binding, subject, now))
}

/// `POST /api/v1/device/challenge`: `{"challenge", "subject", "expires_at"}`.
pub async fn new_challenge(State(state): State<PublicState>, headers: HeaderMap) -> Response {
    let (binding, subject, now) = match binding_for_login(&state, &headers).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    match challenge::issue(
        binding.binder.challenge_secret(),
        &subject,
        now,
        binding.challenge_lifetime,
    ) {
        Ok((challenge, expires_at)) => private_json(json!({
            "challenge": URL_SAFE_NO_PAD.encode(challenge),
            "subject": subject,
            "expires_at": expires_at.0,
        })),
        Err(e) => {
            tracing::error!(error = %e, "no randomness for a binding challenge");
            ApiError::unavailable().into_response()
        }
    }
}

/// `PUT /api/v1/device`: bind the key (docs/public-api.md).
pub async fn bind_device(
    State(state): State<PublicState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (binding, subject, now) = match binding_for_login(&state, &headers).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let proven = match proof::prove(&body, binding.binder.challenge_secret(), &subject, now) {
        Ok(proven) => proven,
        Err(error) => {
            tracing::info!(code = error.code(), "device binding refused");
            return ApiError::new(StatusCode::BAD_REQUEST, error.code(), error.message())
                .into_response();
        }
    };
    let key_type = proven.device.key_type().name();
    let event = DeviceBinding {
        key: format!("bind:{}", hex::encode(proven.nonce)),
        subject,
        device: proven.device,
    };
    let outcome = match binding
        .binder
        .bind(&event, binding.max_new_devices_per_day, now)
        .await
    {
        Ok(outcome) => outcome,
        Err(e) => {
            // Not acknowledged: the page sends the same request again,
            // which binds once however often it arrives.
            tracing::error!(error = %e, "store failed while binding a device");
            return ApiError::unavailable().into_response();
        }
    };
    let (changed, replaced) = match outcome {
        BindOutcome::Bound { replaced } => (true, replaced),
        BindOutcome::Unchanged => (false, false),
        BindOutcome::ChallengeUsed => {
            tracing::info!(code = "challenge_used", "device binding refused");
            return ApiError::new(
                StatusCode::CONFLICT,
                "challenge_used",
                "this challenge was used for another binding: ask for a new one",
            )
            .into_response();
        }
        BindOutcome::UnknownSubject => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_subject",
                "no health pass is held for this login: your health authority has not registered you with sealpass",
            )
            .into_response();
        }
        BindOutcome::TooSoon {
            retry_after_seconds,
        } => {
            tracing::info!(code = "too_many_devices", "device binding refused");
            let hours = retry_after_seconds.div_ceil(3600);
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_devices",
                format!(
                    "this pass was moved to {} new phones in the last 24 hours: it can be moved again in about {hours} h, or your health authority can help",
                    binding.max_new_devices_per_day
                ),
            )
            .retry_after(retry_after_seconds)
            .into_response();
        }
    };
    tracing::info!(
        outcome = if replaced {
            "replaced"
        } else if changed {
            "bound"
        } else {
            "unchanged"
        },
        key_type,
        "device binding"
    );
    private_json(json!({
        "bound": true,
        "changed": changed,
        "replaced": replaced,
        "key_type": key_type,
        "message": if changed {
            "this phone is bound: your new pass is being made and arrives within seconds"
        } else {
            "this phone was bound already"
        },
    }))
}
