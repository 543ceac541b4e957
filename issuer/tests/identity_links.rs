//! Identity links (issue 17; docs/public-api.md, "Identity providers"):
//! a health authority links a login (the provider's `iss`, the token's
//! `sub`) to a subject through the admin API, and the public API serves
//! that subject's pass; a link wins over the template, a link that
//! contradicts an enrolled template subject is refused with 409
//! `identity_conflict`, and a link or unlink reaches remembered tokens
//! within the pass book's feed interval. Through the real routers, on
//! both backends.

mod public_support;
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use public_support::*;
use sealpass_core::testkit::NOW;
use sealpass_issuer::read::public::auth::sign_eddsa;
use sealpass_issuer::store::Scope;
use sealpass_issuer::write::admin_api::{AdminState, admin_router};
use sealpass_issuer::write::ingest::Kind;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{BACKENDS, Backend};
use tower::ServiceExt;

/// The public harness with its pass book's feed reading the store every
/// 100 ms (as tests/public_passbook.rs), and an admin token of `scopes`.
async fn harness(backend: Backend, scopes: &[Scope]) -> (PublicHarness, String) {
    let harness = PublicHarness::with(backend, |settings| {
        settings.pass_recheck = Duration::from_millis(100);
        settings.pass_recheck_unchanged = Duration::from_secs(3600);
        settings.limits.per_client_rate = 1e9;
        settings.limits.per_client_burst = 1_000_000_000;
    })
    .await;
    let admin = harness
        .store
        .create_token("cdc-xian", scopes, NOW)
        .await
        .unwrap()
        .token;
    (harness, admin)
}

/// `POST path` of the admin API with `body` as JSON and `token`.
async fn admin(
    harness: &PublicHarness,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let router = admin_router(AdminState {
        store: harness.store.clone(),
        clock: Arc::new(|| NOW),
    });
    let request = Request::post(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn link(
    harness: &PublicHarness,
    token: &str,
    sub: &str,
    subject: &str,
) -> (StatusCode, Value) {
    let body = json!({"issuer": SSO, "sub": sub, "subject": subject});
    admin(harness, "/admin/v1/identity-links", token, body).await
}

async fn unlink(harness: &PublicHarness, token: &str, sub: &str) -> (StatusCode, Value) {
    let body = json!({"issuer": SSO, "sub": sub});
    admin(harness, "/admin/v1/identity-links/unlink", token, body).await
}

/// Another token of the same login (another `iat`): not remembered, so
/// verified in full.
fn fresh_token(sub: &str) -> String {
    let mut claims = claims(sub);
    claims["iat"] = json!(NOW.0 - 30);
    sign_eddsa(&ed_key(), "sso-2026", &claims)
}

/// The status and error code of the pass download for `token`, asked
/// until `done` holds or 3 s have passed; with how long it took.
async fn pass_until(
    harness: &PublicHarness,
    token: &str,
    done: impl Fn(StatusCode, &Value) -> bool,
) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    loop {
        let answer = harness.pass(token).await;
        let json = answer.json();
        if done(answer.status, &json) || started.elapsed() > Duration::from_secs(3) {
            return (answer.status, json, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_login_gets_the_linked_subjects_pass_over_its_template() {
    for backend in BACKENDS {
        let (harness, token) = harness(backend, &[Scope::IdentitiesLink]).await;
        let own = harness.pass(&public_support::token("001")).await.json();
        // The template maps "wechat-zhang" to XA-wechat-zhang: nobody.
        let login = public_support::token("wechat-zhang");
        let before = harness.pass(&login).await;
        assert_eq!(before.status, StatusCode::NOT_FOUND, "{backend:?}");
        assert_eq!(before.json()["error"], "unknown_subject");

        let (status, body) = link(&harness, &token, "wechat-zhang", "XA-001").await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["outcome"], "linked");
        let (status, body) = link(&harness, &token, "wechat-zhang", "XA-001").await;
        assert_eq!(
            (status, &body["outcome"]),
            (StatusCode::OK, &json!("unchanged"))
        );

        // The remembered token, once the feed read the link ...
        let (status, pass, _) = pass_until(&harness, &login, |s, _| s == StatusCode::OK).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {pass}");
        assert_eq!(pass["pass"], own["pass"], "{backend:?}");
        // ... and a token verified in full.
        let fresh = harness.pass(&fresh_token("wechat-zhang")).await;
        assert_eq!(fresh.status, StatusCode::OK, "{backend:?}");
        assert_eq!(fresh.json()["pass"], own["pass"]);
    }
}

#[tokio::test]
async fn a_link_to_an_unknown_subject_or_of_bad_text_is_refused() {
    for backend in BACKENDS {
        let (harness, token) = harness(backend, &[Scope::IdentitiesLink]).await;
        let (status, body) = link(&harness, &token, "wechat-zhang", "XA-999").await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: {body}"
        );
        assert_eq!(body["error"], "unknown_subject");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("enrol the person first")
        );

        for (sub, subject, code) in [
            ("wechat\u{202E}zhang", "XA-001", "bad_sub"),
            ("", "XA-001", "bad_sub"),
            (&"9".repeat(65), "XA-001", "bad_sub"),
            ("wechat-zhang", "XA 001", "bad_subject"),
        ] {
            let (status, body) = link(&harness, &token, sub, subject).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{sub:?} {subject:?}: {body}"
            );
            assert_eq!(body["error"], code, "{sub:?} {subject:?}");
        }
        let body =
            json!({"issuer": "https://sso\u{200B}.example", "sub": "1", "subject": "XA-001"});
        let (status, body) = admin(&harness, "/admin/v1/identity-links", &token, body).await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::BAD_REQUEST, &json!("bad_issuer"))
        );

        // Another subject for a linked login: unlink first.
        assert_eq!(
            link(&harness, &token, "wechat-zhang", "XA-001").await.0,
            StatusCode::OK
        );
        let (status, body) = link(&harness, &token, "wechat-zhang", "XA-003").await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::CONFLICT, &json!("already_linked"))
        );
        // Nothing to unlink.
        let (status, body) = unlink(&harness, &token, "wechat-li").await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::NOT_FOUND, &json!("not_linked"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_linked_to_one_subject_whose_template_names_another_enrolled_is_refused() {
    for backend in BACKENDS {
        let (harness, token) = harness(backend, &[Scope::IdentitiesLink]).await;
        // Past the feed's first read, so resolutions are remembered.
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The template maps "002" to XA-002, enrolled; the link says XA-001.
        assert_eq!(
            link(&harness, &token, "002", "XA-001").await.0,
            StatusCode::OK
        );
        for login in [public_support::token("002"), fresh_token("002")] {
            let answer = harness.pass(&login).await;
            assert_eq!(answer.status, StatusCode::CONFLICT, "{backend:?}");
            let body = answer.json();
            assert_eq!(body["error"], "identity_conflict");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("contact your health authority")
            );
            assert_eq!(answer.header("cache-control"), Some("no-store"));
        }

        // A linked login whose template's subject is enrolled only later
        // turns into a conflict within the feed's interval.
        let login = public_support::token("wechat-wang");
        assert_eq!(
            link(&harness, &token, "wechat-wang", "XA-003").await.0,
            StatusCode::OK
        );
        let (status, _, _) = pass_until(&harness, &login, |s, _| s == StatusCode::OK).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let enrol = "subject,name,id_number,colour\nXA-wechat-wang,王五,610102199001011231,green\n";
        let report = support::ingest_csv(&harness.store, Kind::Enrolments, enrol, "cdc", NOW).await;
        assert_eq!(report.applied, 1, "{report:?}");
        let (status, body, _) =
            pass_until(&harness, &login, |s, _| s == StatusCode::CONFLICT).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinking_makes_the_template_apply_again_within_the_feed_interval() {
    for backend in BACKENDS {
        let (harness, token) = harness(backend, &[Scope::IdentitiesLink]).await;
        // Past the feed's first read, so the resolution is remembered.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let login = public_support::token("wechat-zhang");
        assert_eq!(
            link(&harness, &token, "wechat-zhang", "XA-001").await.0,
            StatusCode::OK
        );
        assert_eq!(
            harness.pass(&login).await.status,
            StatusCode::OK,
            "{backend:?}"
        );
        assert_eq!(
            harness.pass(&login).await.status,
            StatusCode::OK,
            "{backend:?}"
        );

        let (status, body) = unlink(&harness, &token, "wechat-zhang").await;
        assert_eq!(
            (status, &body["outcome"]),
            (StatusCode::OK, &json!("unlinked"))
        );
        // The template's XA-wechat-zhang again: nobody enrolled.
        let (status, body, took) = pass_until(&harness, &login, |s, _| s != StatusCode::OK).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}: {body}");
        assert_eq!(body["error"], "unknown_subject");
        // The feed reads every 100 ms; a few polls' slack on a busy machine.
        assert!(took < Duration::from_secs(1), "{backend:?}: {took:?}");
    }
}

#[tokio::test]
async fn the_link_endpoints_need_the_identities_link_scope() {
    for backend in BACKENDS {
        let (harness, writer) = harness(backend, &[Scope::StatusWrite, Scope::PassesRevoke]).await;
        let body = json!({"issuer": SSO, "sub": "wechat-zhang", "subject": "XA-001"});
        for path in [
            "/admin/v1/identity-links",
            "/admin/v1/identity-links/unlink",
        ] {
            let (status, answer) = admin(&harness, path, &writer, body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {path}");
            assert_eq!(answer["error"], "forbidden");
            assert!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .contains("identities:link")
            );
            let (status, _) = admin(&harness, path, "spa_00", body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?} {path}");
        }
        let linker = harness
            .store
            .create_token("registry", &[Scope::IdentitiesLink], NOW)
            .await
            .unwrap()
            .token;
        assert_eq!(
            link(&harness, &linker, "wechat-zhang", "XA-001").await.0,
            StatusCode::OK
        );
        assert_eq!(
            unlink(&harness, &linker, "wechat-zhang").await.0,
            StatusCode::OK
        );
    }
}

/// `sealpass-issuer token create --scope identities:link` makes a token
/// with that scope.
#[test]
fn the_command_line_makes_tokens_with_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    let made = support::create_token_by_cli(
        env!("CARGO_BIN_EXE_sealpass-issuer"),
        &dir.path().join("issuer.db"),
        "registry",
        "identities:link",
    );
    assert!(String::from_utf8_lossy(&made.stderr).contains("identities:link"));
}
