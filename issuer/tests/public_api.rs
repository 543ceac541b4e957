//! The public API through its real router (`app(state).oneshot(...)`),
//! against real SQLite and PostgreSQL: passes in three forms with ETags,
//! every authentication failure with a clear body that leaks nothing, the
//! lists as signed, the operators' endpoints, the OpenAPI document naming
//! every route, and passes kept through a store outage. Every test pins
//! `now`.

mod public_support;
mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use public_support::*;
use sealpass_core::testkit::NOW;
use sealpass_core::{CheckpointPolicy, Seconds, StatusList, Verifier};
use sealpass_issuer::read::public::auth::sign_eddsa;
use sealpass_issuer::read::public::endpoints::{Id, endpoints, openapi};
use sealpass_issuer::read::public::page::VerifierApp;
use sealpass_issuer::write::ingest::Kind;
use serde_json::json;
use support::{BACKENDS, Backend};

#[tokio::test]
async fn passes_in_three_forms_with_etags_and_new_passes_on_both_backends() {
    for backend in BACKENDS {
        let harness = PublicHarness::new(backend).await;

        // The SSO's EdDSA token for "001" is subject XA-001.
        let answer = harness.pass(&token("001")).await;
        assert_eq!(answer.status, StatusCode::OK, "{backend:?}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.header("cache-control"), Some("private, no-cache"));
        assert_eq!(answer.header("vary"), Some("Authorization"));
        assert!(answer.header("x-request-id").is_some());
        let pass = answer.json();
        let etag = answer.header("etag").unwrap().to_owned();
        assert_eq!(etag, format!("\"{}\"", pass["version"].as_str().unwrap()));
        assert_eq!(pass["colour"], "green");
        assert_eq!(pass["masked_name"], "张*明");
        assert_eq!(pass["masked_id"], "6101**********1231");
        assert_eq!(pass["issuer"], ISSUER);
        assert_eq!(pass["issued_at"], NOW.0);
        assert!(pass["next_pass_at"].as_u64().unwrap() < pass["valid_until"].as_u64().unwrap());

        // The pass text is what a checkpoint verifies.
        let policy = CheckpointPolicy {
            // The served pass's signature and claims are checked here; the
            // status lists have their own tests.
            danger_accept_unchecked_revocation: true,
            ..support::any_colour()
        };
        let verified = Verifier::new(harness.city.trusted(), &policy)
            .verify(pass["pass"].as_str().unwrap(), NOW)
            .expect("the served pass verifies");
        assert_eq!(verified.health().masked_name, "张*明");
        assert_eq!(
            verified.claims().expires_at.0,
            pass["valid_until"].as_u64().unwrap()
        );

        // The same pass again: 304, no body.
        let bearer = format!("Bearer {}", token("001"));
        let again = harness
            .get(
                "/api/v1/pass",
                &[("authorization", &bearer), ("if-none-match", &etag)],
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));

        // The ES256 mini-program login maps its sub as it is.
        let es = sign_es256(
            &es_key(),
            "mp-1",
            &json!({"iss": SSO_ES, "aud": [AUDIENCE, "other"], "sub": "XA-002", "exp": NOW.0 + 600}),
        );
        let yellow = harness.pass(&es).await;
        assert_eq!(
            yellow.status,
            StatusCode::OK,
            "{backend:?}: {}",
            String::from_utf8_lossy(&yellow.body)
        );
        assert_eq!(yellow.json()["colour"], "yellow");

        // PNG and SVG of the same pass.
        let png = harness
            .get("/api/v1/pass.png", &[("authorization", &bearer)])
            .await;
        assert_eq!(png.status, StatusCode::OK);
        assert_eq!(png.header("content-type"), Some("image/png"));
        assert_eq!(&png.body[1..4], b"PNG");
        let png_etag = png.header("etag").unwrap().to_owned();
        assert_ne!(png_etag, etag);
        let svg = harness
            .get("/api/v1/pass.svg", &[("authorization", &bearer)])
            .await;
        assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
        assert!(svg.body.starts_with(b"<svg"));
        let png_again = harness
            .get(
                "/api/v1/pass.png",
                &[("authorization", &bearer), ("if-none-match", &png_etag)],
            )
            .await;
        assert_eq!(png_again.status, StatusCode::NOT_MODIFIED);

        // A status change: the signer makes a new pass; the old ETag no
        // longer matches and the phone gets the new one.
        let update = "key,subject,colour\ncdc-7,XA-001,yellow\n";
        let report =
            support::ingest_csv(&harness.store, Kind::StatusUpdates, update, "cdc", NOW).await;
        assert_eq!(report.applied, 1);
        let later = NOW.plus(Seconds(30));
        harness.set_now(later);
        harness.signer.round(later, &|_| {}).await.unwrap();
        let fresh = harness
            .get(
                "/api/v1/pass",
                &[("authorization", &bearer), ("if-none-match", &etag)],
            )
            .await;
        assert_eq!(fresh.status, StatusCode::OK, "{backend:?}");
        assert_eq!(fresh.json()["colour"], "yellow");
        assert_ne!(fresh.header("etag"), Some(etag.as_str()));
    }
}

/// Every refusal: a 401/404 with a stable code and a sentence, and nothing
/// from inside (no SQL, no key ids, no subject, no token, no Rust types).
#[tokio::test]
async fn authentication_failures_are_clear_and_leak_nothing() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let good = token("001");
    let mut tampered: Vec<&str> = good.split('.').collect();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims("002").to_string());
    tampered[1] = &forged_payload;
    let tampered = tampered.join(".");
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    let with = |changes: serde_json::Value| {
        let mut c = claims("001");
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        sign_eddsa(&ed_key(), "sso-2026", &c)
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"sso-2026"}"#),
        URL_SAFE_NO_PAD.encode(claims("001").to_string())
    );
    let cases: Vec<(&str, Option<String>, StatusCode, &str, &str)> = vec![
        (
            "no token",
            None,
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "log in first",
        ),
        (
            "bad signature",
            Some(tampered),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "signature does not verify",
        ),
        (
            "another key",
            Some(sign_eddsa(&other_key, "sso-2026", &claims("001"))),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "signature does not verify",
        ),
        (
            "unknown kid",
            Some(sign_eddsa(&ed_key(), "sso-1999", &claims("001"))),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "not accepted here",
        ),
        (
            "alg none",
            Some(none),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "not accepted here",
        ),
        (
            "wrong audience",
            Some(with(json!({"aud": "someone-else"}))),
            StatusCode::UNAUTHORIZED,
            "wrong_audience",
            "another service",
        ),
        (
            "unknown issuer",
            Some(with(json!({"iss": "https://evil.example"}))),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "not accepted here",
        ),
        (
            "expired",
            Some(with(json!({"exp": NOW.0 - 600}))),
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "expired 10 min ago",
        ),
        (
            "not yet valid",
            Some(with(json!({"nbf": NOW.0 + 3600}))),
            StatusCode::UNAUTHORIZED,
            "token_not_yet_valid",
            "phone's clock",
        ),
        (
            "garbage",
            Some("not-a-jwt".into()),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "not accepted here",
        ),
        (
            "unknown subject",
            Some(token("404")),
            StatusCode::NOT_FOUND,
            "unknown_subject",
            "not registered you",
        ),
    ];
    for (what, token, status, code, says) in cases {
        let answer = match &token {
            Some(token) => harness.pass(token).await,
            None => harness.get("/api/v1/pass", &[]).await,
        };
        assert_eq!(answer.status, status, "{what}");
        let body = answer.json();
        assert_eq!(body["error"], code, "{what}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "{what}: only error and message: {body}"
        );
        let text = String::from_utf8_lossy(&answer.body).to_lowercase();
        for secret in [
            "sqlx", "database", "select", "sso-2026", "xa-0", "kid", "error(", "{sub}",
        ] {
            assert!(!text.contains(secret), "{what} leaks {secret:?}: {text}");
        }
        if let Some(token) = &token {
            assert!(
                !text.contains(&token.to_lowercase()),
                "{what} echoes the token"
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                answer
                    .header("www-authenticate")
                    .unwrap()
                    .starts_with("Bearer")
            );
        }
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
    }
}

#[tokio::test]
async fn a_subject_without_a_pass_yet_is_told_to_retry() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let newcomer =
        "subject,name,id_number,colour,doses\nXA-004,赵六明,610102199001011231,green,3\n";
    support::ingest_csv(&harness.store, Kind::Enrolments, newcomer, "test", NOW).await;
    let answer = harness.pass(&token("004")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "pass_not_ready");
    assert_eq!(answer.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn lists_are_served_exactly_as_signed_and_cacheable_on_both_backends() {
    for backend in BACKENDS {
        let harness = PublicHarness::new(backend).await;
        let trust = harness.get("/trust-list.cbor", &[]).await;
        assert_eq!(trust.status, StatusCode::OK);
        assert_eq!(trust.body, harness.city.signed_first_list(), "{backend:?}");
        assert_eq!(trust.header("cache-control"), Some("public, max-age=300"));
        assert_eq!(trust.header("access-control-allow-origin"), Some("*"));
        let etag = trust.header("etag").unwrap().to_owned();
        let again = harness
            .get("/trust-list.cbor", &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);

        let status = harness.get(&format!("/status/{ISSUER}.cbor"), &[]).await;
        assert_eq!(status.status, StatusCode::OK, "{backend:?}");
        assert_eq!(status.header("cache-control"), Some("public, max-age=60"));
        let stored = harness.store.status_list(ISSUER).await.unwrap().unwrap();
        assert_eq!(status.body, stored.bytes);
        StatusList::verify(&status.body, harness.city.trusted(), NOW)
            .expect("the served status list verifies");

        let none = harness.get("/status/CN-999999.cbor", &[]).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        assert_eq!(none.json()["error"], "no_status_list");
        assert_eq!(
            harness.get("/status/CN-610100.json", &[]).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn no_trust_list_yet_is_a_clear_404() {
    let (store, _guard) = support::store(Backend::Sqlite).await;
    let state = sealpass_issuer::read::public::PublicState::new(
        store.reader(),
        Default::default(),
        sealpass_issuer::shared::clock::system_clock(),
        None,
    );
    let answer = tower::ServiceExt::oneshot(
        sealpass_issuer::read::public::app(state),
        Request::get("/trust-list.cbor")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_held_pass_is_served_through_a_store_outage_and_readyz_says_so() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let first = harness.pass(&token("001")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(harness.get("/readyz", &[]).await.status, StatusCode::OK);

    harness.store.close().await;
    let held = harness.pass(&token("001")).await;
    assert_eq!(held.status, StatusCode::OK, "served from memory");
    assert_eq!(held.body, first.body);
    // Nobody else's pass was held: an honest 503 with Retry-After.
    let other = harness.pass(&token("003")).await;
    assert_eq!(other.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(other.json()["error"], "unavailable");
    assert!(other.header("retry-after").is_some());
    // The trust list read before is held too.
    let ready = harness.get("/readyz", &[]).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["store"], "unreachable");
    assert_eq!(harness.get("/healthz", &[]).await.status, StatusCode::OK);
    let metrics = String::from_utf8(harness.operator("/metrics").await.body).unwrap();
    assert!(
        metrics.contains("sealpass_public_passes_held_during_outage_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_count_requests_latencies_and_pass_age() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    harness.set_now(NOW.plus(Seconds(90)));
    harness.pass(&token("001")).await;
    harness.get("/api/v1/pass", &[]).await;
    let answer = harness.operator("/metrics").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(answer.body).unwrap();
    for expected in [
        "sealpass_public_requests_total{route=\"/api/v1/pass\",status=\"200\"} 1",
        "sealpass_public_requests_total{route=\"/api/v1/pass\",status=\"401\"} 1",
        "sealpass_public_request_duration_seconds_bucket{route=\"/api/v1/pass\",status=\"200\",le=\"0.5\"}",
        "sealpass_public_pass_age_seconds_bucket{le=\"300\"} 1",
        "sealpass_public_shed_total 0",
        "sealpass_public_rate_limited_total 0",
        "sealpass_public_passes_in_memory 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("XA-00"), "no subject in metrics");
}

/// A concrete path for every route of the table.
fn example_path(route: &str) -> String {
    route
        .replace("{file}", "CN-610100.cbor")
        .replace("{*file}", "index.html")
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document_and_answers() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let answer = harness.get("/openapi.json", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let document = answer.json();
    assert_eq!(document, openapi(false));
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mounted: Vec<_> = endpoints().into_iter().filter(|e| !e.demo_only).collect();
    for endpoint in &mounted {
        let operation = &paths
            .get(endpoint.doc_path)
            .unwrap_or_else(|| panic!("{} is not in openapi.json", endpoint.doc_path))
            [endpoint.method];
        assert!(operation["summary"].is_string(), "{}", endpoint.doc_path);
        assert!(operation["responses"].is_object(), "{}", endpoint.doc_path);
        // Every documented route exists in the router (no 404/405).
        let path = example_path(endpoint.route);
        let bearer = format!("Bearer {}", token("001"));
        let request = Request::builder()
            .method(endpoint.method.to_uppercase().as_str())
            .uri(&path)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap();
        let answer = harness.request(request).await;
        let expected_missing = matches!(endpoint.id, Id::VerifyIndex | Id::VerifyFile);
        if expected_missing {
            // No web verifier in this test: its routes say so.
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                String::from_utf8_lossy(&answer.body).contains("not installed"),
                "{path}"
            );
        } else if matches!(endpoint.id, Id::DeviceChallenge | Id::Device) {
            // Binding is off here (tests/device_binding.rs turns it on).
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(answer.json()["error"], "binding_disabled");
        } else {
            assert!(
                answer.status.is_success() || answer.status.is_redirection(),
                "{} {path}: {}",
                endpoint.method,
                answer.status
            );
        }
    }
    // Nothing is documented that the router does not mount.
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, mounted.len());
    // The demo's routes are neither mounted nor documented here.
    assert!(!paths.contains_key("/demo/idp/token"));
    let demo = harness
        .request(
            Request::post("/demo/idp/token")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"login":"XA-001"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(demo.status, StatusCode::NOT_FOUND);
    assert_eq!(
        harness.get("/no/such/thing", &[]).await.json()["error"],
        "not_found"
    );
}

#[tokio::test]
async fn the_citizen_page_is_served_with_a_strict_policy() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let page = harness.get("/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(
        html.contains("<main") && html.contains("aria-live") && html.contains("role=\"timer\"")
    );
    let etag = page.header("etag").unwrap().to_owned();
    assert_eq!(
        harness.get("/", &[("if-none-match", &etag)]).await.status,
        StatusCode::NOT_MODIFIED
    );
    for (path, content_type) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/holder.js", "text/javascript; charset=utf-8"),
        ("/device.js", "text/javascript; charset=utf-8"),
        ("/live.js", "text/javascript; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/vendor/qrcode.mjs", "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ] {
        let answer = harness.get(path, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.header("content-type"), Some(content_type), "{path}");
    }
    let options = harness.get("/api/v1/login-options", &[]).await.json();
    assert_eq!(
        options,
        json!({"demo": false, "login_url": null, "device_binding": false})
    );
    let redirect = harness.get("/verify", &[]).await;
    assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.header("location"), Some("/verify/"));
}

/// Every module the citizen page imports is served, and its service
/// worker keeps each for offline use: a module left out of either would
/// break the page (offline, its live codes) without a sound.
#[tokio::test]
async fn every_module_the_citizen_page_imports_is_served_and_kept_offline() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let text = |path: &str| {
        let harness = &harness;
        let path = path.to_owned();
        async move {
            let answer = harness.get(&path, &[]).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            String::from_utf8(answer.body).unwrap()
        }
    };
    let worker = text("/sw.js").await;
    let mut seen = vec!["/app.js".to_owned()];
    let mut next = 0;
    while next < seen.len() {
        let module = text(&seen[next]).await;
        next += 1;
        // `import ... from '/x.js';` and `await import('/x.js')`, as the
        // page writes them (an apostrophe in a comment is not a quote).
        let imports = ["from '", "from \"", "import('", "import(\""]
            .iter()
            .flat_map(|opening| module.match_indices(opening).map(|(at, o)| at + o.len()))
            .filter_map(|start| {
                let rest = &module[start..];
                rest.find(['\'', '"']).map(|end| &rest[..end])
            });
        for quoted in imports {
            let imported = quoted.starts_with('/')
                && (quoted.ends_with(".js") || quoted.ends_with(".mjs"))
                && quoted != "/sw.js"; // registered, not imported
            if imported && !seen.iter().any(|held| held == quoted) {
                seen.push(quoted.to_owned());
            }
        }
    }
    for module in [
        "/holder.js",
        "/device.js",
        "/live.js",
        "/qr.js",
        "/i18n.js",
        "/vendor/qrcode.mjs",
    ] {
        assert!(
            seen.iter().any(|held| held == module),
            "{module} in {seen:?}"
        );
    }
    for module in &seen {
        assert!(
            worker.contains(&format!("'{module}'")),
            "sw.js keeps {module} for offline use"
        );
    }
}

/// The web verifier's files go out in the smallest form a request accepts
/// (the `.br` and `.gz` that `cargo xtask web` writes beside each), each
/// form with its own ETag, and as they are to a client that takes neither.
#[tokio::test]
async fn the_verifier_app_is_sent_compressed_as_the_request_accepts() {
    let dist = tempfile::tempdir().unwrap();
    let wasm = b"\0asm".repeat(1000);
    std::fs::create_dir(dist.path().join("pkg")).unwrap();
    for (path, bytes) in [
        ("index.html", &b"<!doctype html>"[..]),
        ("pkg/app_bg.wasm", &wasm),
        ("pkg/app_bg.wasm.br", b"brotli form"),
        ("pkg/app_bg.wasm.gz", b"gzip form"),
        // A form of nothing is an ordinary file.
        ("orphan.br", b"orphan"),
    ] {
        std::fs::write(dist.path().join(path), bytes).unwrap();
    }
    let app = VerifierApp::load(dist.path(), None).unwrap();
    let harness =
        PublicHarness::with(Backend::Sqlite, |settings| settings.verifier_app = app).await;
    let get = |accept: Option<&'static str>| {
        let harness = &harness;
        async move {
            let headers: Vec<_> = accept.map(|a| ("accept-encoding", a)).into_iter().collect();
            harness.get("/verify/pkg/app_bg.wasm", &headers).await
        }
    };

    let brotli = get(Some("gzip, deflate, br, zstd")).await;
    let gzip = get(Some("gzip, deflate")).await;
    let plain = get(None).await;
    let refused = get(Some("br;q=0, gzip;q=0")).await;
    let gzip_preferred = get(Some("br;q=0.5, gzip")).await;

    for (answer, body, encoding) in [
        (&brotli, &b"brotli form"[..], Some("br")),
        (&gzip, b"gzip form", Some("gzip")),
        (&plain, &wasm, None),
        (&refused, &wasm, None),
        (&gzip_preferred, b"gzip form", Some("gzip")),
    ] {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, body);
        assert_eq!(answer.header("content-encoding"), encoding);
        assert_eq!(answer.header("content-type"), Some("application/wasm"));
        assert_eq!(answer.header("vary"), Some("accept-encoding"));
        assert_eq!(
            answer.header("content-length"),
            Some(&*body.len().to_string())
        );
    }
    let etags = [&brotli, &gzip, &plain].map(|a| a.header("etag").unwrap().to_owned());
    assert!(
        etags[0].ends_with("-br\"") && etags[1].ends_with("-gzip\""),
        "{etags:?}"
    );
    assert_eq!(
        etags[0].trim_end_matches("-br\""),
        etags[2].trim_end_matches('"')
    );
    // Each form revalidates against its own ETag only.
    let again = |accept: &'static str, etag: String| {
        let harness = &harness;
        async move {
            let headers = [
                ("accept-encoding", accept),
                ("if-none-match", etag.as_str()),
            ];
            harness.get("/verify/pkg/app_bg.wasm", &headers).await
        }
    };
    let unchanged = again("br", etags[0].clone()).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.header("etag"), Some(etags[0].as_str()));
    assert_eq!(unchanged.header("vary"), Some("accept-encoding"));
    assert_eq!(again("gzip", etags[0].clone()).await.status, StatusCode::OK);
    // A file held only as it is: no Vary, no encoding.
    let page = harness.get("/verify/", &[("accept-encoding", "br")]).await;
    assert_eq!(page.body, b"<!doctype html>");
    assert_eq!(
        (page.header("content-encoding"), page.header("vary")),
        (None, None)
    );
    let orphan = harness
        .get("/verify/orphan.br", &[("accept-encoding", "br")])
        .await;
    assert_eq!(
        (orphan.status, orphan.body.as_slice()),
        (StatusCode::OK, &b"orphan"[..])
    );
    assert_eq!(
        harness.get("/verify/pkg/app_bg.wasm.br", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}
