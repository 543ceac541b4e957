//! The public API's harness: a real store (SQLite or PostgreSQL, through
//! the issue-4 harness in `tests/support`), three people enrolled through
//! the real ingestion code, their passes signed by the real signer with the
//! test city's issuer key (`testkit::City`), the city's first trust list
//! published, and two identity providers (EdDSA and ES256) whose tokens
//! the tests make. The clock is pinned.
#![allow(dead_code)]

pub mod http;
pub mod open_loop;

use crate::support::{self, Backend, StoreGuard};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use sealpass_core::testkit::{City, NOW};
use sealpass_core::{Seconds, Timestamp};
use sealpass_issuer::read::overload::{
    Admission, ClientAddr, Door, InService, Limits, QueueDelay, protect,
};
use sealpass_issuer::read::public::auth::{
    IdentityProvider, IdentityProviders, ed25519_jwk, parse_jwks, sign_eddsa,
};
use sealpass_issuer::read::public::{PublicSettings, PublicState, app, operator_router};
use sealpass_issuer::shared::metrics::Metrics;
use sealpass_issuer::store::Store;
use sealpass_issuer::write::ingest::Kind;
use sealpass_issuer::write::signer::{PassSigner, SignerConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower::ServiceExt;

pub const ISSUER: &str = "CN-610100";
pub const SSO: &str = "https://sso.xian.example";
pub const SSO_ES: &str = "https://mini-program.example";
pub const AUDIENCE: &str = "sealpass-xian";

pub use crate::support::PEOPLE_CSV;

pub fn ed_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[21; 32])
}

pub fn es_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[22; 32]).expect("a valid P-256 scalar")
}

pub fn es_jwk(key: &p256::ecdsa::SigningKey, kid: &str) -> Value {
    let point = key.verifying_key().to_sec1_point(false);
    let bytes = point.as_bytes();
    json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": kid,
           "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]), "y": URL_SAFE_NO_PAD.encode(&bytes[33..65])})
}

/// A compact JWS with ES256.
pub fn sign_es256(key: &p256::ecdsa::SigningKey, kid: &str, claims: &Value) -> String {
    use p256::ecdsa::signature::Signer as _;
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The two test identity providers: the city's SSO (EdDSA, subjects
/// prefixed `XA-`) and a mini-program login (ES256, subjects as they are).
pub fn providers() -> IdentityProviders {
    let ed = json!({"keys": [ed25519_jwk(&ed_key().verifying_key(), "sso-2026")]});
    let es = json!({"keys": [es_jwk(&es_key(), "mp-1")]});
    IdentityProviders::new(vec![
        IdentityProvider {
            issuer: SSO.into(),
            audience: AUDIENCE.into(),
            keys: parse_jwks(ed.to_string().as_bytes()).unwrap(),
            subject_template: "XA-{sub}".into(),
            skew: Seconds(60),
        },
        IdentityProvider {
            issuer: SSO_ES.into(),
            audience: AUDIENCE.into(),
            keys: parse_jwks(es.to_string().as_bytes()).unwrap(),
            subject_template: "{sub}".into(),
            skew: Seconds(60),
        },
    ])
}

/// Claims of a good SSO token for `sub` at NOW.
pub fn claims(sub: &str) -> Value {
    json!({"iss": SSO, "aud": AUDIENCE, "sub": sub, "iat": NOW.0 - 60, "exp": NOW.0 + 3600})
}

pub fn token(sub: &str) -> String {
    sign_eddsa(&ed_key(), "sso-2026", &claims(sub))
}

pub struct PublicHarness {
    pub store: Store,
    pub guard: StoreGuard,
    pub clock: Arc<AtomicU64>,
    pub state: PublicState,
    pub app: Router,
    pub city: City,
    pub signer: PassSigner,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl PublicHarness {
    pub async fn new(backend: Backend) -> PublicHarness {
        PublicHarness::with(backend, |_| {}).await
    }

    pub async fn with(backend: Backend, adjust: impl FnOnce(&mut PublicSettings)) -> PublicHarness {
        let (store, guard) = support::store(backend).await;
        PublicHarness::over(store, guard, adjust).await
    }

    /// The harness over `store` (migrated, empty), kept alive by `guard`.
    pub async fn over(
        store: Store,
        guard: StoreGuard,
        adjust: impl FnOnce(&mut PublicSettings),
    ) -> PublicHarness {
        let report = support::ingest_csv(&store, Kind::Enrolments, PEOPLE_CSV, "test", NOW).await;
        assert_eq!(report.applied, 3, "{report:?}");
        let city = City::new();
        store
            .publish_trust_list(1, city.signed_first_list(), NOW)
            .await
            .unwrap();
        let signer = PassSigner::new(
            store.clone(),
            support::issuer_key(),
            SignerConfig::new(ISSUER),
        )
        .unwrap();
        assert_eq!(signer.round(NOW, &|_| {}).await.unwrap().stored, 3);
        let clock = Arc::new(AtomicU64::new(NOW.0));
        let read = clock.clone();
        let mut settings = PublicSettings {
            providers: providers(),
            pass_recheck: Duration::ZERO,
            ..PublicSettings::default()
        };
        // The test's own runtime also runs the test's synchronous code,
        // which a queue-delay probe would rightly see as a saturated
        // server; tests/public_overload.rs tests that shedding on its own.
        settings.limits.max_queue_delay = Duration::ZERO;
        adjust(&mut settings);
        let state = PublicState::new(
            store.reader(),
            settings,
            Arc::new(move || Timestamp(read.load(Ordering::SeqCst))),
            None,
        );
        PublicHarness {
            app: app(state.clone()),
            store,
            guard,
            clock,
            state,
            city,
            signer,
        }
    }

    pub fn set_now(&self, now: Timestamp) {
        self.clock.store(now.0, Ordering::SeqCst);
    }

    pub async fn request(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.request(request.body(Body::empty()).unwrap()).await
    }

    /// `GET path` from the operators' router (`/metrics`).
    pub async fn operator(&self, path: &str) -> Answer {
        let response = operator_router(self.state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: body.to_vec(),
        }
    }

    /// `GET /metrics` from the operators' router, the body.
    pub async fn metrics(&self) -> Vec<u8> {
        self.operator("/metrics").await.body
    }

    /// Serve the public API on a loopback socket, as `public` does.
    pub async fn serve(&self) -> std::net::SocketAddr {
        serve(self.app.clone()).await
    }

    pub async fn pass(&self, token: &str) -> Answer {
        let bearer = format!("Bearer {token}");
        self.get("/api/v1/pass", &[("authorization", &bearer)])
            .await
    }
}

/// Serve `router` on a free loopback port (its connections' addresses
/// given to it, as the door does); the address.
pub async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// Serve `routes` behind the limits and the door, as `public` does.
pub async fn serve_with_door(
    routes: Router,
    limits: &Limits,
    delay: Arc<QueueDelay>,
    metrics: Metrics,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admission = Admission::new(
        InService::new(limits.max_connections),
        limits.retry_after,
        metrics.clone(),
    );
    let door = Door::open(listener, admission, limits.idle_timeout).unwrap();
    let addr = axum::serve::Listener::local_addr(&door).unwrap().addr;
    let app =
        protect(routes, limits, delay, metrics).into_make_service_with_connect_info::<ClientAddr>();
    tokio::spawn(async move { axum::serve(door, app).await.unwrap() });
    addr
}
