//! Revocation fails closed on the phone (security review, issue 15,
//! finding 1): a phone that could not fetch an issuer's status list never
//! shows that issuer's passes as valid, says that it is not ready and why,
//! and warns before a status list it holds runs out ahead of the next sync.

use sealpass_core::Seconds;
use sealpass_core::testkit::City;
use sealpass_core::testkit::NOW;
use sealpass_web::Checkpoint;
use serde_json::Value;

fn ms(t: sealpass_core::Timestamp) -> f64 {
    t.0 as f64 * 1000.0
}

fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

/// The page's sync interval (app.js): every 6 hours while it is open.
const SIX_HOURS: f64 = 6.0 * 3600.0;

/// A phone that synced while the server answered 404 for the status list.
fn synced_without_status_list(city: &City) -> Checkpoint {
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1), ms(NOW)));
    assert_eq!(report["result"], "bootstrapped", "{report}");
    let report = json(checkpoint.unavailable(
        Some("CN-610100".into()),
        "status/CN-610100.cbor",
        true,
        "HTTP 404",
    ));
    assert_eq!(report["code"], "not_found", "{report}");
    checkpoint
}

#[test]
fn a_revoked_pass_is_never_valid_when_the_status_list_answers_404() {
    let city = City::at(NOW);
    let checkpoint = synced_without_status_list(&city);
    for pass in [city.named("revoked"), city.valid_pass()] {
        let verdict = json(checkpoint.verify_text(&pass, ms(NOW)));
        assert_eq!(verdict["verdict"], "undecided", "{verdict}");
        assert_eq!(verdict["valid"], false);
        assert_eq!(verdict["code"], "revocation_not_checked");
        assert_eq!(verdict["phase"], "revocation");
        assert!(
            verdict["reason"]
                .as_str()
                .unwrap()
                .starts_with("could not check revocation"),
            "{verdict}"
        );
    }
}

#[test]
fn status_is_not_ready_while_an_issuer_has_no_status_list() {
    let city = City::at(NOW);
    let mut checkpoint = synced_without_status_list(&city);
    let status = json(checkpoint.status(ms(NOW), SIX_HOURS));
    assert_eq!(status["ready"], false, "{status}");
    assert_eq!(status["code"], "revocation_not_checked");
    let reason = status["reason"].as_str().unwrap();
    assert!(reason.contains("CN-610100"), "{reason}");
    assert_eq!(status["status_lists"][0]["state"], "missing");
    // Once the status list is held, the phone is ready.
    let report =
        json(checkpoint.offer_status_list("CN-610100", "s", &city.current_status_list(), ms(NOW)));
    assert_eq!(report["result"], "accepted");
    let status = json(checkpoint.status(ms(NOW), SIX_HOURS));
    assert_eq!(status["ready"], true, "{status}");
    assert_eq!(status["code"], Value::Null);
}

#[test]
fn status_is_not_ready_once_the_held_status_list_has_expired() {
    let city = City::at(NOW);
    let mut checkpoint = synced_without_status_list(&city);
    checkpoint.offer_status_list("CN-610100", "s", &city.current_status_list(), ms(NOW));
    // The status list was issued an hour before NOW and lasts 24 h.
    let later = ms(NOW.plus(Seconds::hours(24)));
    let status = json(checkpoint.status(later, SIX_HOURS));
    assert_eq!(status["status_lists"][0]["state"], "expired");
    assert_eq!(status["ready"], false, "{status}");
    assert_eq!(status["code"], "revocation_not_checked");
    assert!(status["reason"].as_str().unwrap().contains("CN-610100"));
    let mut claims = city.claims();
    claims.expires_at = NOW.plus(Seconds::hours(40));
    let verdict = json(checkpoint.verify_text(&city.pass(&claims), later));
    assert_eq!(verdict["verdict"], "undecided", "{verdict}");
    assert_eq!(verdict["code"], "status_list_expired");
}

#[test]
fn status_warns_when_a_status_list_expires_before_the_next_sync() {
    let city = City::at(NOW);
    let mut checkpoint = synced_without_status_list(&city);
    // Issued 20 h ago, valid 24 h: it expires in 4 h.
    let short = city.status_list(NOW.minus(Seconds::hours(20)), &[]);
    let report = json(checkpoint.offer_status_list("CN-610100", "s", &short, ms(NOW)));
    assert_eq!(report["result"], "accepted", "{report}");

    // The next sync is in 6 h: the list runs out 2 h before it.
    let status = json(checkpoint.status(ms(NOW), SIX_HOURS));
    assert_eq!(status["ready"], true, "{status}");
    assert_eq!(status["status_lists"][0]["expires_before_next_sync"], true);
    let warnings = status["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{status}");
    let warning = warnings[0].as_str().unwrap();
    assert!(warning.contains("CN-610100"), "{warning}");
    assert!(warning.contains("4 h"), "{warning}");

    // With the next sync in 3 h, it is still current then: no warning.
    let status = json(checkpoint.status(ms(NOW), 3.0 * 3600.0));
    assert_eq!(status["status_lists"][0]["expires_before_next_sync"], false);
    assert_eq!(status["warnings"], Value::Array(vec![]));

    // Whatever the page passes, an answer and no panic.
    for (now, next) in [
        (f64::NAN, f64::INFINITY),
        (-1.0, -1.0),
        (f64::MAX, f64::MAX),
    ] {
        let status = json(checkpoint.status(now, next));
        assert_eq!(status["ready"], false, "{status}");
    }
}
