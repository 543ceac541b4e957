//! The public API's smaller holes of issue 15 (finding 8), through the real
//! router on a real store: identity tokens that would never expire or
//! live too long, logs that echoed a token's `alg`, identity providers
//! whose subject templates overlap, and `/metrics` on the public listener.
//! Every test pins `now`.

mod public_support;
mod support;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use public_support::*;
use sealpass_core::testkit::NOW;
use sealpass_issuer::read::public::auth::sign_eddsa;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::Backend;

/// A good SSO token for XA-001 with `changes` over its claims.
fn token_with(changes: Value) -> String {
    let mut claims = claims("001");
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    sign_eddsa(&ed_key(), "sso-2026", &claims)
}

/// A token whose payload is exactly `payload` (JSON text), so numbers keep
/// the form they are written in.
fn token_with_payload(payload: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": "sso-2026"}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    use ed25519_dalek::Signer as _;
    let signature = ed_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[tokio::test]
async fn an_exp_that_is_a_float_or_beyond_2_63_or_too_far_ahead_is_refused() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    assert_eq!(harness.pass(&token("001")).await.status, StatusCode::OK);
    let base = format!(
        r#""iss": "{SSO}", "aud": "{AUDIENCE}", "sub": "001", "iat": {}"#,
        NOW.0 - 60
    );
    let cases = [
        ("a float", format!(r#"{{{base}, "exp": 1e300}}"#)),
        (
            "a float within range",
            format!(r#"{{{base}, "exp": {}.5}}"#, NOW.0 + 600),
        ),
        ("2^63", format!(r#"{{{base}, "exp": 9223372036854775808}}"#)),
        (
            "2^64 - 1",
            format!(r#"{{{base}, "exp": 18446744073709551615}}"#),
        ),
        (
            "a year ahead",
            format!(r#"{{{base}, "exp": {}}}"#, NOW.0 + 365 * 86_400),
        ),
    ];
    for (what, payload) in cases {
        let answer = harness.pass(&token_with_payload(&payload)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(answer.json()["error"], "invalid_token", "{what}");
    }
    // Issued long ago with a far expiry: the lifetime is too long even
    // though little of it is left.
    let answer = harness
        .pass(&token_with(
            json!({"iat": NOW.0 - 30 * 86_400, "exp": NOW.0 + 3600}),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // 12 hours, as the demo's and the load tests' tokens: accepted.
    let answer = harness
        .pass(&token_with(json!({"iat": NOW.0, "exp": NOW.0 + 12 * 3600})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

/// Log lines written while the guard lives (this thread only).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_tokens_alg_never_reaches_the_log() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "EVIL\u{1b}[2J\nforged log line", "kid": "sso-2026"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims("001").to_string());
    let answer = harness.pass(&format!("{header}.{payload}.AAAA")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("identity token refused"), "{log}");
    assert!(log.contains("algorithm_not_accepted"), "{log}");
    assert!(!log.contains("EVIL"), "{log}");
    assert!(!log.contains("forged"), "{log}");
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_router() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let answer = harness.get("/metrics", &[]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(
        !String::from_utf8_lossy(&answer.body).contains("sealpass_public_"),
        "no metric is served to the public"
    );
    // They are on the operators' router.
    let metrics = String::from_utf8(harness.metrics().await).unwrap();
    assert!(
        metrics.contains("sealpass_public_passes_in_memory"),
        "{metrics}"
    );
}

#[test]
fn identity_providers_whose_subject_templates_overlap_are_refused_at_load() {
    use sealpass_issuer::read::public::auth::ed25519_jwk;
    use sealpass_issuer::read::public::config::FileConfig;
    let dir = tempfile::tempdir().unwrap();
    let jwks = json!({"keys": [ed25519_jwk(&ed_key().verifying_key(), "k1")]});
    std::fs::write(dir.path().join("jwks.json"), jwks.to_string()).unwrap();
    let config = |templates: &[&str]| {
        let mut text = String::new();
        for (i, template) in templates.iter().enumerate() {
            text += &format!(
                "[[identity_provider]]\nissuer = \"https://idp-{i}.example\"\naudience = \"sealpass\"\n\
                 jwks_file = \"jwks.json\"\nsubject_template = \"{template}\"\n"
            );
        }
        let path = dir.path().join("public.toml");
        std::fs::write(&path, text).unwrap();
        FileConfig::load(&path).unwrap().providers()
    };
    for overlapping in [
        ["{sub}", "XA-{sub}"],
        ["XA-{sub}", "XA-{sub}"],
        ["XA-{sub}", "XA-1{sub}"],
        ["{sub}-sso", "{sub}"],
        ["A{sub}-x", "AB{sub}"],
    ] {
        let refused = config(&overlapping).map(|_| ()).unwrap_err().to_string();
        assert!(
            refused.contains("can make the same subject"),
            "{overlapping:?}: {refused}"
        );
    }
    for apart in [["XA-{sub}", "MP-{sub}"], ["{sub}-a", "{sub}-b"]] {
        assert_eq!(config(&apart).unwrap().len(), 2, "{apart:?}");
    }
    let twice = config(&["XA-{sub}-{sub}"]).map(|_| ()).unwrap_err();
    assert!(twice.to_string().contains("{sub} once"), "{twice}");
}
