//! The demo identity provider: **DEMO ONLY.** It hands an identity token
//! to whoever asks, for any demo citizen, so that the one-command demo can
//! be tried without a city's single sign-on. It can only be made by
//! [`DemoIdentityProvider::enable`], which only the `demo` command calls,
//! and which refuses any store but the demo's own SQLite file in a
//! directory the demo created; no flag, variable or configuration key of
//! the `public` command reaches it (tests/public_demo_refused.rs).

use super::DemoDir;
use crate::population::Population;
use crate::read::public::PluggedLogin;
use crate::read::public::auth::{
    IdentityProvider, ProviderKey, PublicKey, ed25519_jwk, sign_eddsa,
};
use crate::shared::clock::Clock;
use crate::shared::errors::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpass_core::{Colour, Seconds, mask_name};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// The demo provider's `iss`: the `.invalid` top-level domain never exists.
pub const DEMO_ISSUER: &str = "https://demo-idp.sealpass.invalid";
pub const DEMO_AUDIENCE: &str = "sealpass-demo";
pub const DEMO_KID: &str = "demo-idp-DEVELOPMENT-ONLY";
/// How long a demo login lasts.
const TOKEN_LIFETIME: Seconds = Seconds::hours(12);

/// A citizen one can log in as.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoCitizen {
    pub login: String,
    pub masked_name: String,
    pub colour: &'static str,
}

/// **DEMO ONLY.** See the module documentation.
#[derive(Clone)]
pub struct DemoIdentityProvider {
    inner: Arc<Inner>,
}

struct Inner {
    key: ed25519_dalek::SigningKey,
    citizens: Vec<DemoCitizen>,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DemoRefused {
    #[error(
        "the demo identity provider runs only on the demo's own SQLite store ({expected}), not on {found}: it would let anyone log in as anyone"
    )]
    NotTheDemoStore { expected: String, found: String },
    #[error("{0} was not created by `sealpass-issuer demo`: the demo identity provider is refused")]
    NotADemoDirectory(String),
}

impl DemoIdentityProvider {
    /// Enable the demo identity provider for `store_url`, which must be the
    /// demo directory's own SQLite file.
    pub fn enable(
        store_url: &str,
        dir: &DemoDir,
        key: ed25519_dalek::SigningKey,
        citizens: Vec<DemoCitizen>,
    ) -> Result<DemoIdentityProvider, DemoRefused> {
        if !dir.is_demo() {
            return Err(DemoRefused::NotADemoDirectory(
                dir.path().display().to_string(),
            ));
        }
        let expected = dir.store_path();
        let refused = || DemoRefused::NotTheDemoStore {
            expected: expected.display().to_string(),
            found: crate::store::redact_url(store_url),
        };
        let path = store_url
            .strip_prefix("sqlite://")
            .or_else(|| store_url.strip_prefix("sqlite:"))
            .unwrap_or(store_url);
        if path.contains("://") {
            return Err(refused());
        }
        let same = match (Path::new(path).canonicalize(), expected.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            return Err(refused());
        }
        Ok(DemoIdentityProvider {
            inner: Arc::new(Inner { key, citizens }),
        })
    }

    pub fn citizens(&self) -> &[DemoCitizen] {
        &self.inner.citizens
    }

    /// A token for `login`, issued at `now`.
    pub fn token(&self, login: &str, now: sealpass_core::Timestamp) -> String {
        let claims = serde_json::json!({
            "iss": DEMO_ISSUER,
            "aud": DEMO_AUDIENCE,
            "sub": login,
            "iat": now.0,
            "exp": now.plus(TOKEN_LIFETIME).0,
            "demo": "DEVELOPMENT ONLY",
        });
        sign_eddsa(&self.inner.key, DEMO_KID, &claims)
    }
}

impl PluggedLogin for DemoIdentityProvider {
    fn provider(&self) -> IdentityProvider {
        IdentityProvider {
            issuer: DEMO_ISSUER.into(),
            audience: DEMO_AUDIENCE.into(),
            keys: vec![ProviderKey {
                kid: DEMO_KID.into(),
                key: PublicKey::Ed25519(self.inner.key.verifying_key()),
            }],
            subject_template: "{sub}".into(),
            skew: Seconds(60),
        }
    }

    /// `/demo/idp/citizens`, `/demo/idp/token`, `/demo/idp/jwks.json`.
    fn routes(&self, clock: Clock) -> Router {
        Router::new()
            .route("/demo/idp/citizens", get(citizens))
            .route("/demo/idp/token", post(token))
            .route("/demo/idp/jwks.json", get(jwks))
            .with_state(DemoState {
                demo: self.clone(),
                clock,
            })
    }
}

/// What the demo's routes share.
#[derive(Clone)]
struct DemoState {
    demo: DemoIdentityProvider,
    clock: Clock,
}

/// A few citizens of the demo population to log in as: the first green,
/// yellow and red people, and two more green ones.
pub fn pick_citizens(seed: u64, count: u64) -> Vec<DemoCitizen> {
    let population = Population::new(seed, count, sealpass_core::Timestamp(0));
    let mut picked: Vec<DemoCitizen> = Vec::new();
    let wanted = [
        Colour::Green,
        Colour::Yellow,
        Colour::Red,
        Colour::Green,
        Colour::Green,
    ];
    for colour in wanted {
        let found = (0..count.min(10_000))
            .map(|n| population.person(n))
            .find(|p| p.colour == colour && !picked.iter().any(|c| c.login == p.subject));
        if let Some(person) = found {
            picked.push(DemoCitizen {
                login: person.subject,
                masked_name: mask_name(&person.name),
                colour: colour.name(),
            });
        }
    }
    picked
}

/// `GET /demo/idp/citizens`
async fn citizens(State(state): State<DemoState>) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "warning": "DEMO ONLY: development identity provider",
            "citizens": state.demo.citizens(),
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    login: String,
}

/// `POST /demo/idp/token`
async fn token(State(state): State<DemoState>, body: Option<Json<TokenRequest>>) -> Response {
    let Some(Json(request)) = body else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send {\"login\": \"...\"} as JSON",
        )
        .into_response();
    };
    let login = request.login.trim();
    let plain = !login.is_empty()
        && login.len() <= crate::model::MAX_SUBJECT_LEN
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plain {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_login",
            "no such demo citizen: pick one from /demo/idp/citizens",
        )
        .into_response();
    }
    let now = (state.clock)();
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "id_token": state.demo.token(login, now),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME.0,
            "warning": "DEMO ONLY: development identity provider",
        })),
    )
        .into_response()
}

/// `GET /demo/idp/jwks.json`
async fn jwks(State(state): State<DemoState>) -> Response {
    Json(serde_json::json!({
        "keys": [ed25519_jwk(&state.demo.inner.key.verifying_key(), DEMO_KID)]
    }))
    .into_response()
}
