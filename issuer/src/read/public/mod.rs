//! The public side of the issuer: what citizens' phones and checkpoints
//! download. It holds no signing key and never signs or renders on a
//! request's path: passes come from the [`PassBook`](crate::read::passbook::PassBook)
//! (rendered once per pass), the lists as signed (docs/public-api.md).
//!
//! ```no_run
//! # async fn example(store: sealpass_issuer::store::Store) {
//! use sealpass_issuer::shared::clock::system_clock;
//! use sealpass_issuer::read::public::{PublicSettings, PublicState, app};
//! let state = PublicState::new(store.reader(), PublicSettings::default(), system_clock(), None);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, service).await.unwrap();
//! # }
//! ```

pub mod accept_encoding;
pub mod auth;
pub mod binding;
pub mod config;
pub mod endpoints;
pub mod identity_links;
pub mod lists;
pub mod ops;
pub mod page;
pub mod pass_api;
pub mod render;
pub mod verified_tokens;

use crate::read::overload::door::DoorLimits;
use crate::read::overload::{Admission, Door, InService, Limits, QueueDelay, protect};
use crate::read::passbook::{FollowsChanges, PassBook};
use crate::shared::clock::Clock;
use crate::shared::errors::ApiError;
use crate::shared::metrics::Metrics;
use crate::store::reads::StoreReader;
use auth::{IdentityProvider, IdentityProviders};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post, put};
use endpoints::{Endpoint, Id, endpoints};
use page::{StaticFile, VerifierApp};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// How the public API is set up (from flags, environment and the config
/// file: [`config`]).
#[derive(Clone)]
pub struct PublicSettings {
    pub providers: IdentityProviders,
    pub limits: Limits,
    /// Most passes held in memory.
    pub pass_cache_entries: usize,
    /// How soon a held pass that may have changed (an event named its
    /// subject, or its renewal time came) is compared with the store, and
    /// how often the store's events are read (0: compare on every request).
    pub pass_recheck: Duration,
    /// How often a held pass that no event named is compared all the same.
    pub pass_recheck_unchanged: Duration,
    /// Most verified identity tokens remembered (0: none; each is then
    /// verified on every request).
    pub token_cache_entries: usize,
    /// Where the citizen page sends people to log in (the city's single
    /// sign-on, which sends them back to `/#id_token=...`).
    pub login_url: Option<String>,
    pub verifier_app: VerifierApp,
    /// Device binding: `None` (the default) answers 403
    /// `binding_disabled` (docs/issuer.md, "Rollout").
    pub device_binding: Option<binding::DeviceBindingSettings>,
}

impl Default for PublicSettings {
    fn default() -> PublicSettings {
        PublicSettings {
            providers: IdentityProviders::default(),
            limits: Limits::default(),
            pass_cache_entries: 1_000_000,
            pass_recheck: Duration::from_secs(2),
            pass_recheck_unchanged: Duration::from_secs(60),
            token_cache_entries: 1_000_000,
            login_url: None,
            verifier_app: VerifierApp::default(),
            device_binding: None,
        }
    }
}

/// An identity provider plugged in from outside the public API, with
/// routes of its own: the demo's (`sealpass-issuer demo`), which hands out
/// tokens. Production passes none; the read side names no demo code
/// (tests/layers.rs).
pub trait PluggedLogin: Send + Sync {
    /// The provider whose tokens the public API then accepts.
    fn provider(&self) -> IdentityProvider;
    /// Its routes, mounted behind the same overload limits as the API's
    /// (the [`endpoints`] marked `demo_only`, documented in the OpenAPI
    /// document only when a login is plugged in).
    fn routes(&self, clock: Clock) -> Router;
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct PublicState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: StoreReader,
    pub book: PassBook,
    pub lists: lists::ListCache,
    pub providers: IdentityProviders,
    pub verified_tokens: Arc<verified_tokens::VerifiedTokens>,
    pub clock: Clock,
    pub metrics: Metrics,
    pub limits: Limits,
    pub delay: Arc<QueueDelay>,
    pub in_service: Arc<InService>,
    pub page: HashMap<&'static str, StaticFile>,
    pub verifier: VerifierApp,
    pub login_url: Option<String>,
    pub login: Option<Arc<dyn PluggedLogin>>,
    pub binding: Option<binding::DeviceBindingSettings>,
    pub request_counter: AtomicU64,
    pub openapi: Vec<u8>,
}

impl PublicState {
    /// The state of a public API over `store`. `login` is a plugged-in
    /// identity provider with routes of its own: only `sealpass-issuer
    /// demo` passes one.
    pub fn new(
        store: StoreReader,
        settings: PublicSettings,
        clock: Clock,
        login: Option<Arc<dyn PluggedLogin>>,
    ) -> PublicState {
        let mut providers = settings.providers;
        if let Some(login) = &login {
            let mut all = providers.into_vec();
            all.push(login.provider());
            providers = IdentityProviders::new(all);
        }
        let openapi = serde_json::to_vec_pretty(&endpoints::openapi(login.is_some()))
            .expect("the OpenAPI document serializes");
        let metrics = Metrics::new();
        let delay = QueueDelay::new(settings.limits.max_queue_delay, metrics.clone());
        let in_service = InService::new(settings.limits.max_connections);
        let verified_tokens = Arc::new(verified_tokens::VerifiedTokens::new(
            settings.token_cache_entries,
        ));
        // The change feed tells the remembered logins when their identity
        // links change (identity_links.rs).
        let follows: Arc<dyn FollowsChanges> = verified_tokens.clone();
        PublicState {
            inner: Arc::new(Inner {
                book: PassBook::new(
                    store.clone(),
                    settings.pass_cache_entries,
                    settings.pass_recheck,
                    settings.pass_recheck_unchanged,
                    metrics.clone(),
                    Some(Arc::downgrade(&follows)),
                )
                .safety_net_waits_while_shedding(delay.clone()),
                store,
                lists: lists::ListCache::default(),
                providers,
                verified_tokens,
                clock,
                metrics,
                limits: settings.limits,
                delay,
                in_service,
                page: page::citizen_page(),
                verifier: settings.verifier_app,
                login_url: settings.login_url,
                login,
                binding: settings.device_binding,
                request_counter: AtomicU64::new(0),
                openapi,
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Whether a login is plugged in (the demo's).
    pub fn is_demo(&self) -> bool {
        self.inner.login.is_some()
    }

    /// Open the [`Door`] on `listener` for this state's limits: connections
    /// are accepted on a thread of their own, and refused there at once
    /// while `max_connections` are in service. Serve with
    /// `app(state).into_make_service_with_connect_info::<ClientAddr>()`.
    pub fn open_door(&self, listener: tokio::net::TcpListener) -> std::io::Result<Door> {
        let limits = &self.inner.limits;
        Door::open_with(
            listener,
            Admission::new(
                self.inner.in_service.clone(),
                limits.retry_after,
                self.inner.metrics.clone(),
            ),
            DoorLimits {
                idle: limits.idle_timeout,
                first_request: limits.first_request_timeout,
                header_read: limits.header_read_timeout,
                // Behind a proxy every connection is the proxy's.
                per_client: if limits.client_ip_header.is_some() {
                    0
                } else {
                    limits.max_connections_per_client
                },
            },
        )
    }
}

fn route_of(endpoint: &Endpoint) -> MethodRouter<PublicState> {
    match endpoint.id {
        Id::Pass => get(pass_api::pass_json),
        Id::PassPng => get(pass_api::pass_png),
        Id::PassSvg => get(pass_api::pass_svg),
        Id::LoginOptions => get(login_options),
        Id::DeviceChallenge => post(binding::new_challenge),
        Id::Device => put(binding::bind_device),
        Id::TrustList => get(lists::trust_list),
        Id::StatusList => get(lists::status_list),
        Id::Healthz => get(ops::healthz),
        Id::Readyz => get(ops::readyz),
        Id::OpenApi => get(openapi),
        Id::Page(index) => {
            let path = page::CITIZEN_PAGE[index].0;
            get(
                move |State(state): State<PublicState>, headers: HeaderMap| async move {
                    state.inner.page[path].send(&headers)
                },
            )
        }
        Id::VerifyRedirect => get(|| async { Redirect::permanent("/verify/") }),
        Id::VerifyIndex => get(
            |State(state): State<PublicState>, headers: HeaderMap| async move {
                state.inner.verifier.send("", &headers)
            },
        ),
        Id::VerifyFile => get(
            |State(state): State<PublicState>, Path(file): Path<String>, headers: HeaderMap| async move {
                state.inner.verifier.send(&file, &headers)
            },
        ),
        // Served by the plugged-in login's own routes (see `app`).
        Id::DemoCitizens | Id::DemoToken | Id::DemoJwks => MethodRouter::new(),
    }
}

/// The whole public API: every route of [`endpoints`], the overload limits
/// around all but the operators' probes, and a request id, a log line and
/// metrics around everything.
pub fn app(state: PublicState) -> Router {
    let mut limited = Router::new();
    let mut open = Router::new();
    for endpoint in endpoints().iter().filter(|e| !e.demo_only) {
        let route = route_of(endpoint);
        if endpoint.limited {
            limited = limited.route(endpoint.route, route);
        } else {
            open = open.route(endpoint.route, route);
        }
    }
    let mut limited = limited.with_state(state.clone());
    if let Some(login) = &state.inner.login {
        limited = limited.merge(login.routes(state.inner.clock.clone()));
    }
    let limited = protect(
        limited,
        &state.inner.limits,
        state.inner.delay.clone(),
        state.inner.metrics.clone(),
    );
    open.with_state(state.clone())
        .merge(limited)
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::observe,
        ))
}

/// The operators' router: `GET /metrics` (Prometheus text format). It is
/// not on the public listener (issue 15, finding 8: it was public and not
/// rate limited): `public --metrics-listen` serves it on an address of its
/// own, and the demo on its admin listener.
pub fn operator_router(state: PublicState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(state)
}

/// `GET /api/v1/login-options`: what the citizen page offers.
async fn login_options(State(state): State<PublicState>) -> Response {
    let body = serde_json::json!({
        "demo": state.is_demo(),
        "login_url": state.inner.login_url,
        "device_binding": state.inner.binding.is_some(),
    });
    ([(header::CACHE_CONTROL, "no-cache")], axum::Json(body)).into_response()
}

/// `GET /openapi.json`
async fn openapi(State(state): State<PublicState>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        state.inner.openapi.clone(),
    )
        .into_response()
}
