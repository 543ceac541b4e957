//! Revocation fails closed on the phone (security review, issue 15,
//! finding 1), as the page sees it: after an issuer's status list answered
//! 404 (`unavailable`), that issuer's passes get an `undecided` verdict,
//! and the `status` JSON says that the phone is not ready and why, then
//! warns before a status list it holds runs out ahead of the next sync;
//! whatever numbers the page passes, `status` answers. The rules (fail
//! closed, readiness, warnings) are sealpass-checkpoint's, tested once for
//! both front ends in `verifier/checkpoint/tests/status.rs`.

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
    let mut checkpoint = synced_without_status_list(&city);
    let verdict = json(checkpoint.verify_text(&city.named("revoked"), ms(NOW)));
    assert_eq!(verdict["verdict"], "undecided", "{verdict}");
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["code"], "revocation_not_checked");
    assert_eq!(verdict["phase"], "revocation");
}

#[test]
fn the_status_json_says_why_it_is_not_ready_and_warns_before_the_next_sync() {
    let city = City::at(NOW);
    let mut checkpoint = synced_without_status_list(&city);
    let status = json(checkpoint.status(ms(NOW), SIX_HOURS));
    assert_eq!(status["ready"], false, "{status}");
    assert_eq!(status["code"], "revocation_not_checked");
    let reason = status["reason"].as_str().unwrap();
    assert!(reason.contains("CN-610100"), "{reason}");
    assert_eq!(status["status_lists"][0]["state"], "missing");
    // The page's own fields beside the shared ones.
    assert_eq!(status["now"], NOW.0);
    assert_eq!(status["newest_time_seen"], Value::Null);
    assert_eq!(status["policy"], "subway");
    assert_eq!(status["highest_sequence_accepted"], 1);
    assert_eq!(
        status["pinned_roots"]["fingerprint"],
        city.roots.fingerprint()
    );
    assert_eq!(status["trust_list"]["freshness"], "fresh");

    // Issued 20 h ago, valid 24 h: it expires in 4 h, before the next sync.
    let short = city.status_list(NOW.minus(Seconds::hours(20)), &[]);
    let report = json(checkpoint.offer_status_list("CN-610100", "s", &short, ms(NOW)));
    assert_eq!(report["result"], "accepted", "{report}");
    let status = json(checkpoint.status(ms(NOW), SIX_HOURS));
    assert_eq!(status["ready"], true, "{status}");
    assert_eq!(status["code"], Value::Null);
    assert_eq!(status["status_lists"][0]["expires_before_next_sync"], true);
    assert_eq!(status["warnings"].as_array().unwrap().len(), 1, "{status}");

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
