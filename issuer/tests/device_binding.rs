//! Device binding (issue 18, part 2) through the real public API over
//! loopback sockets, on SQLite and PostgreSQL: a phone asks for a
//! challenge, binds its key (Ed25519 or P-256, as WebCrypto exports them)
//! with a signature over the binding message, and the real signer's next
//! round signs the subject a bound pass, which a checkpoint accepts only as
//! a live code of that phone. A new phone replaces the old one and the old
//! pass is revoked in the next status list; refusals are typed; new
//! devices are rate limited; binding is off unless configured.

mod public_support;
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use public_support::http::{Reply, get_request, loopback, send};
use public_support::{ISSUER, PublicHarness, token};
use sealpass_core::live::{DeviceSigner, sign_live_code};
use sealpass_core::testkit::{NOW, device_key, p256_device_key};
use sealpass_core::{StatusList, Timestamp, Verifier, text};
use sealpass_issuer::read::public::auth::sign_eddsa;
use sealpass_issuer::read::public::binding::DeviceBindingSettings;
use sealpass_issuer::read::public::binding::proof::{KeyType, binding_message};
use serde_json::{Value, json};
use std::net::SocketAddr;
use support::{BACKENDS, Backend};

/// A phone's key as the citizen page holds it.
enum Phone {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl Phone {
    fn ed25519(label: &str) -> Phone {
        Phone::Ed25519(device_key(label))
    }

    fn p256(label: &str) -> Phone {
        Phone::P256(p256_device_key(label))
    }

    fn key_type(&self) -> KeyType {
        match self {
            Phone::Ed25519(_) => KeyType::Ed25519,
            Phone::P256(_) => KeyType::P256,
        }
    }

    fn key_type_name(&self) -> &'static str {
        match self {
            Phone::Ed25519(_) => "Ed25519",
            Phone::P256(_) => "P-256",
        }
    }

    /// `exportKey('raw')`: 32 bytes, or the 65-byte uncompressed point.
    fn raw_public_key(&self) -> Vec<u8> {
        match self {
            Phone::Ed25519(key) => key.verifying_key().to_bytes().to_vec(),
            Phone::P256(key) => key.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    fn signer(&self) -> &dyn DeviceSigner {
        match self {
            Phone::Ed25519(key) => key,
            Phone::P256(key) => key,
        }
    }

    /// The key as a bound pass carries it, base64url (the pass JSON's
    /// `holder_key`).
    fn holder_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signer().device_key().to_bytes())
    }

    /// The body of `PUT /api/v1/device` for `challenge` (base64url) and
    /// `subject`, signed as the page signs it.
    fn bind_body(&self, challenge: &str, subject: &str) -> Value {
        let raw = URL_SAFE_NO_PAD.decode(challenge).unwrap();
        let message = binding_message(&raw, subject, self.key_type(), &self.raw_public_key());
        json!({
            "challenge": challenge,
            "key_type": self.key_type_name(),
            "public_key": URL_SAFE_NO_PAD.encode(self.raw_public_key()),
            "signature": URL_SAFE_NO_PAD.encode(self.signer().sign_device(&message)),
        })
    }
}

/// The harness with binding on (at most `per_day` new devices), and its
/// router served on a loopback socket.
async fn bound_harness(backend: Backend, per_day: u32) -> (PublicHarness, SocketAddr) {
    let (store, guard) = support::store(backend).await;
    let binder = store.device_binder(NOW).await.unwrap();
    let harness = PublicHarness::over(store, guard, |settings| {
        let mut binding = DeviceBindingSettings::new(binder);
        binding.max_new_devices_per_day = per_day;
        settings.device_binding = Some(binding);
        settings.limits.per_client_rate = 10_000.0;
        settings.limits.per_client_burst = 10_000;
    })
    .await;
    let addr = harness.serve().await;
    (harness, addr)
}

fn request(method: &str, path: &str, bearer: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {bearer}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn challenge(addr: SocketAddr, bearer: &str) -> (String, String) {
    let reply = send(
        addr,
        loopback(1),
        request("POST", "/api/v1/device/challenge", bearer, ""),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["cache-control"], "no-store");
    let json = reply.json();
    (
        json["challenge"].as_str().unwrap().to_owned(),
        json["subject"].as_str().unwrap().to_owned(),
    )
}

async fn put_device(addr: SocketAddr, bearer: &str, body: &Value) -> Reply {
    send(
        addr,
        loopback(1),
        request("PUT", "/api/v1/device", bearer, &body.to_string()),
    )
    .await
}

/// Bind `phone` for the login `sub` (a fresh challenge); the answer.
async fn bind(addr: SocketAddr, sub: &str, phone: &Phone) -> Reply {
    bind_as(addr, &token(sub), phone).await
}

/// Bind `phone` for the login of the identity token `bearer`.
async fn bind_as(addr: SocketAddr, bearer: &str, phone: &Phone) -> Reply {
    let (challenge, subject) = challenge(addr, bearer).await;
    put_device(addr, bearer, &phone.bind_body(&challenge, &subject)).await
}

/// An identity token for `sub` issued at `at` (an hour long).
fn token_at(sub: &str, at: u64) -> String {
    let mut claims = public_support::claims(sub);
    claims["iat"] = json!(at - 60);
    claims["exp"] = json!(at + 3600);
    sign_eddsa(&public_support::ed_key(), "sso-2026", &claims)
}

async fn pass(addr: SocketAddr, sub: &str) -> Value {
    let reply = send(
        addr,
        loopback(1),
        get_request("/api/v1/pass", Some(&token(sub))),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// A checkpoint of the test city holding the issuer's current status list.
async fn status_lists(harness: &PublicHarness, now: Timestamp) -> Vec<StatusList> {
    let stored = harness.store.status_list(ISSUER).await.unwrap().unwrap();
    vec![StatusList::verify(&stored.bytes, harness.city.trusted(), now).unwrap()]
}

fn decide(
    harness: &PublicHarness,
    lists: &[StatusList],
    text: &str,
    now: Timestamp,
) -> Result<(), &'static str> {
    let policy = support::any_colour();
    Verifier::new(harness.city.trusted(), &policy)
        .with_status_lists(lists)
        .verify(text, now)
        .map(|_| ())
        .map_err(|e| e.code())
}

fn live_code(pass_text: &str, phone: &Phone, at: Timestamp) -> String {
    sign_live_code(&text::decode(pass_text).unwrap(), at, phone.signer())
}

#[tokio::test]
async fn each_key_type_binds_and_the_next_pass_is_bound_on_both_backends() {
    for backend in BACKENDS {
        let (harness, addr) = bound_harness(backend, 3).await;
        let options = send(
            addr,
            loopback(1),
            get_request("/api/v1/login-options", None),
        )
        .await;
        assert_eq!(options.json()["device_binding"], true);
        for (sub, phone) in [
            ("001", Phone::ed25519("citizen 001's phone")),
            ("002", Phone::p256("citizen 002's phone")),
        ] {
            let before = pass(addr, sub).await;
            assert_eq!(before["holder_bound"], false, "{backend:?}");
            assert_eq!(before["holder_key"], Value::Null);

            let bound = bind(addr, sub, &phone).await;
            assert_eq!(bound.status, 200, "{backend:?}: {}", bound.text());
            let json = bound.json();
            assert_eq!(
                (&json["changed"], &json["replaced"], &json["key_type"]),
                (&json!(true), &json!(false), &json!(phone.key_type_name()))
            );
            // Until the signer's next round, the pass is the unbound one.
            assert_eq!(pass(addr, sub).await["holder_bound"], false);

            let later = Timestamp(NOW.0 + 1);
            harness.set_now(later);
            assert_eq!(
                harness.signer.round(later, &|_| {}).await.unwrap().stored,
                1
            );
            let after = pass(addr, sub).await;
            assert_eq!(after["holder_bound"], true, "{backend:?} {sub}");
            assert_eq!(after["holder_key_type"], phone.key_type_name());
            assert_eq!(after["holder_key"], phone.holder_key());

            // A checkpoint: the pass alone is no pass; the phone's live code is.
            let lists = status_lists(&harness, later).await;
            let text = after["pass"].as_str().unwrap();
            assert_eq!(
                decide(&harness, &lists, text, later),
                Err("bound_pass_not_live")
            );
            let code = live_code(text, &phone, later);
            assert_eq!(
                decide(&harness, &lists, &code, later),
                Ok(()),
                "{backend:?}"
            );
            let stranger = live_code(text, &Phone::ed25519("a stranger's phone"), later);
            assert_eq!(
                decide(&harness, &lists, &stranger, later),
                Err("wrong_device")
            );
            // The unbound pass the citizen had is revoked with the binding.
            let old = before["pass"].as_str().unwrap();
            assert_eq!(decide(&harness, &lists, old, later), Err("pass_revoked"));

            // The same key again, with a new challenge: nothing to do.
            let again = bind(addr, sub, &phone).await;
            assert_eq!(again.status, 200);
            assert_eq!(again.json()["changed"], false);
            harness.signer.round(later, &|_| {}).await.unwrap();
            assert_eq!(pass(addr, sub).await["pass"], after["pass"]);
        }
    }
}

#[tokio::test]
async fn the_same_request_sent_again_binds_once_and_a_challenge_binds_one_key() {
    let (harness, addr) = bound_harness(Backend::Sqlite, 3).await;
    let bearer = token("001");
    let (challenge, subject) = challenge(addr, &bearer).await;
    let phone = Phone::ed25519("retrying phone");
    let body = phone.bind_body(&challenge, &subject);
    let first = put_device(addr, &bearer, &body).await;
    assert_eq!(first.json()["changed"], true);
    // A retry (the answer was lost): the same outcome, nothing more.
    let retry = put_device(addr, &bearer, &body).await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json()["changed"], false);
    // The challenge used for another key: refused, and nothing changes.
    let other = Phone::p256("another phone");
    let reused = put_device(addr, &bearer, &other.bind_body(&challenge, &subject)).await;
    assert_eq!(reused.status, 409, "{}", reused.text());
    assert_eq!(reused.json()["error"], "challenge_used");
    harness.signer.round(NOW, &|_| {}).await.unwrap();
    assert_eq!(pass(addr, "001").await["holder_key"], phone.holder_key());
    // Three enrolments and one binding.
    assert_eq!(logged_and_bound(&harness).await, (4, 1));
}

/// Events logged, and subjects with a bound device.
async fn logged_and_bound(harness: &PublicHarness) -> (i64, i64) {
    let stats = harness.store.stats().await.unwrap();
    (stats.events, stats.bound)
}

/// 32 bytes that are not the encoding of an Ed25519 point.
fn not_an_ed25519_point() -> [u8; 32] {
    (2u8..)
        .map(|b| {
            let mut bytes = [b; 32];
            bytes[31] &= 0x7f;
            bytes
        })
        .find(|bytes| {
            sealpass_core::live::DeviceKey::ed25519(bytes).map_err(|e| e.code())
                == Err("device_key_not_on_curve")
        })
        .unwrap()
}

#[tokio::test]
async fn bad_requests_are_refused_with_typed_errors_and_bind_nothing() {
    let (harness, addr) = bound_harness(Backend::Sqlite, 3).await;
    let bearer = token("001");
    let phone = Phone::ed25519("citizen 001's phone");
    let (challenge, subject) = challenge(addr, &bearer).await;
    let good = phone.bind_body(&challenge, &subject);
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let b64 = |bytes: &[u8]| json!(URL_SAFE_NO_PAD.encode(bytes));
    let mut small_order = [0u8; 32];
    small_order[0] = 1; // the identity point
    let mut off_curve_p256 = vec![4u8];
    off_curve_p256.extend_from_slice(&[5; 64]);
    let other_login = challenge_for(addr, "002").await;
    let signed_by_another = Phone::ed25519("another phone").bind_body(&challenge, &subject);
    let cases: Vec<(&str, Value)> = vec![
        ("malformed_request", json!({"challenge": challenge})),
        ("malformed_request", with("extra", json!(1))),
        ("bad_base64", with("public_key", json!("not base64!"))),
        ("bad_challenge", with("challenge", b64(&[1; 57]))),
        ("bad_challenge", with("challenge", json!(other_login))),
        ("unknown_key_type", with("key_type", json!("X25519"))),
        ("bad_device_key_length", with("public_key", b64(&[9; 31]))),
        (
            "bad_device_key_length",
            with("key_type", json!("P-256")), // 32 bytes are no P-256 key
        ),
        (
            "device_key_small_order",
            with("public_key", b64(&small_order)),
        ),
        (
            "device_key_not_on_curve",
            with("public_key", b64(&not_an_ed25519_point())),
        ),
        (
            "device_key_not_on_curve",
            with("key_type", json!("P-256"))
                .as_object()
                .map_or(Value::Null, |o| {
                    let mut o = o.clone();
                    o.insert("public_key".into(), b64(&off_curve_p256));
                    Value::Object(o)
                }),
        ),
        ("bad_signature_length", with("signature", b64(&[0; 63]))),
        (
            "bad_device_signature",
            with("public_key", signed_by_another["public_key"].clone()),
        ),
        ("bad_device_signature", with("signature", b64(&[0; 64]))),
    ];
    for (code, body) in &cases {
        let reply = put_device(addr, &bearer, body).await;
        assert_eq!(reply.status, 400, "{code}: {}", reply.text());
        let json = reply.json();
        assert_eq!(json["error"], *code, "{body}");
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
    let not_json = send(
        addr,
        loopback(1),
        request("PUT", "/api/v1/device", &bearer, "{not json"),
    )
    .await;
    assert_eq!(not_json.json()["error"], "malformed_request");
    // Without a login: 401 as for the pass.
    let anonymous = send(
        addr,
        loopback(1),
        "POST /api/v1/device/challenge HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .into(),
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"], "missing_token");

    // A stale challenge: 2 minutes, then refused with how long ago.
    harness.set_now(Timestamp(NOW.0 + 125));
    let stale = put_device(addr, &bearer, &good).await;
    assert_eq!(stale.status, 400);
    assert_eq!(stale.json()["error"], "challenge_expired");
    assert!(
        stale.json()["message"]
            .as_str()
            .unwrap()
            .contains("5 s ago")
    );

    // Nothing was bound by any of them.
    assert_eq!(logged_and_bound(&harness).await, (3, 0));
    harness
        .signer
        .round(Timestamp(NOW.0 + 125), &|_| {})
        .await
        .unwrap();
    assert_eq!(pass(addr, "001").await["holder_bound"], false);
    // The good request with a fresh challenge binds.
    assert_eq!(bind(addr, "001", &phone).await.status, 200);
}

async fn challenge_for(addr: SocketAddr, sub: &str) -> String {
    challenge(addr, &token(sub)).await.0
}

#[tokio::test]
async fn a_new_phone_replaces_the_old_one_whose_pass_is_revoked_at_the_next_sync() {
    for backend in BACKENDS {
        let (harness, addr) = bound_harness(backend, 3).await;
        let lost = Phone::ed25519("the phone that gets lost");
        let new = Phone::p256("the new phone");
        assert_eq!(bind(addr, "001", &lost).await.status, 200);
        let t1 = Timestamp(NOW.0 + 1);
        harness.set_now(t1);
        harness.signer.round(t1, &|_| {}).await.unwrap();
        let old = pass(addr, "001").await;
        let old_text = old["pass"].as_str().unwrap().to_owned();
        let lists = status_lists(&harness, t1).await;
        assert_eq!(
            decide(&harness, &lists, &live_code(&old_text, &lost, t1), t1),
            Ok(())
        );

        let replaced = bind(addr, "001", &new).await;
        assert_eq!(replaced.status, 200, "{}", replaced.text());
        assert_eq!(replaced.json()["replaced"], true);
        let t2 = Timestamp(NOW.0 + 2);
        harness.set_now(t2);
        let round = harness.signer.round(t2, &|_| {}).await.unwrap();
        assert!(
            round.status_list_signed,
            "{backend:?}: a new status list at once"
        );
        let current = pass(addr, "001").await;
        let text = current["pass"].as_str().unwrap();
        assert_eq!(current["holder_key"], new.holder_key());
        assert_ne!(text, old_text);

        // The checkpoint's next sync: the lost phone's codes stop working.
        let lists = status_lists(&harness, t2).await;
        let from_lost_phone = live_code(&old_text, &lost, t2);
        assert_eq!(
            decide(&harness, &lists, &from_lost_phone, t2),
            Err("pass_revoked"),
            "{backend:?}"
        );
        assert_eq!(
            decide(&harness, &lists, &live_code(text, &new, t2), t2),
            Ok(())
        );
        assert_eq!(
            decide(&harness, &lists, &live_code(text, &lost, t2), t2),
            Err("wrong_device")
        );
    }
}

#[tokio::test]
async fn one_phone_carries_two_people_on_both_backends() {
    for backend in BACKENDS {
        let (harness, addr) = bound_harness(backend, 3).await;
        let family = Phone::p256("the family's phone");
        for sub in ["001", "003"] {
            let reply = bind(addr, sub, &family).await;
            assert_eq!(reply.status, 200, "{backend:?} {sub}: {}", reply.text());
            assert_eq!(reply.json()["changed"], true);
        }
        let later = Timestamp(NOW.0 + 1);
        harness.set_now(later);
        assert_eq!(
            harness.signer.round(later, &|_| {}).await.unwrap().stored,
            2
        );
        let lists = status_lists(&harness, later).await;
        let mut texts = Vec::new();
        for sub in ["001", "003"] {
            let pass = pass(addr, sub).await;
            assert_eq!(pass["holder_key"], family.holder_key());
            let text = pass["pass"].as_str().unwrap().to_owned();
            assert_eq!(
                decide(&harness, &lists, &live_code(&text, &family, later), later),
                Ok(())
            );
            texts.push(text);
        }
        assert_ne!(texts[0], texts[1]);
        // The other person's pass stays unbound.
        assert_eq!(pass(addr, "002").await["holder_bound"], false);
    }
}

#[tokio::test]
async fn new_devices_are_limited_per_subject_per_day() {
    let (harness, addr) = bound_harness(Backend::Sqlite, 3).await;
    let phones: Vec<Phone> = (0..4)
        .map(|i| Phone::ed25519(&format!("phone {i}")))
        .collect();
    for (i, phone) in phones.iter().take(3).enumerate() {
        harness.set_now(Timestamp(NOW.0 + 600 * i as u64));
        assert_eq!(bind(addr, "001", phone).await.status, 200);
    }
    // The fourth within 24 hours: refused until the first leaves the day.
    let at = NOW.0 + 3600;
    harness.set_now(Timestamp(at));
    let refused = bind(addr, "001", &phones[3]).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.json()["error"], "too_many_devices");
    let wait = NOW.0 + 86_400 - at;
    assert_eq!(refused.headers["retry-after"], wait.to_string());
    assert_eq!(refused.json()["retry_after_seconds"], wait);
    // The phone bound now may bind again (nothing changes), and another
    // person is not limited by this one.
    assert_eq!(bind(addr, "001", &phones[2]).await.status, 200);
    assert_eq!(bind(addr, "002", &phones[3]).await.status, 200);
    // A day after the first binding, one more.
    harness.set_now(Timestamp(NOW.0 + 86_401));
    let next_day = bind_as(addr, &token_at("001", NOW.0 + 86_401), &phones[3]).await;
    assert_eq!(next_day.status, 200, "{}", next_day.text());
    assert_eq!(next_day.json()["replaced"], true);
}

#[tokio::test]
async fn binding_is_off_unless_configured() {
    let harness = PublicHarness::new(Backend::Sqlite).await;
    let addr = harness.serve().await;
    let options = send(
        addr,
        loopback(1),
        get_request("/api/v1/login-options", None),
    )
    .await;
    assert_eq!(options.json()["device_binding"], false);
    let bearer = token("001");
    let asked = send(
        addr,
        loopback(1),
        request("POST", "/api/v1/device/challenge", &bearer, ""),
    )
    .await;
    assert_eq!(asked.status, 403);
    assert_eq!(asked.json()["error"], "binding_disabled");
    let put = send(
        addr,
        loopback(1),
        request("PUT", "/api/v1/device", &bearer, "{}"),
    )
    .await;
    assert_eq!(put.status, 403);
    assert_eq!(put.json()["error"], "binding_disabled");
    assert_eq!(pass(addr, "001").await["holder_bound"], false);
}
