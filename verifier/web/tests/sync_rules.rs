//! The page's sync methods answer in JSON with the command line's field
//! names (docs/verifier.md, "`--json`"): `pin_roots`, `offer_trust_list`,
//! `offer_status_list` and `unavailable` (with the shell's own
//! `clock_unreadable`), and `status_list_sources` names what to fetch; a
//! clock set back or unreadable decides nothing. The rules these methods
//! apply (pinned roots, T0-T7, status-list rollback and issuer mismatch)
//! are sealpass-checkpoint's, tested once for both front ends in
//! `verifier/checkpoint/tests/`.

use sealpass_core::Seconds;
use sealpass_core::testkit::City;
use sealpass_core::testkit::NOW;
use sealpass_web::Checkpoint;
use serde_json::{Value, json as literal};

fn ms(t: sealpass_core::Timestamp) -> f64 {
    t.0 as f64 * 1000.0
}

fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

fn synced(city: &City) -> Checkpoint {
    let mut checkpoint = Checkpoint::new();
    let pinned = json(checkpoint.pin_roots(&city.roots.to_cbor()));
    assert_eq!(pinned["ok"], true);
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1), ms(NOW)));
    assert_eq!(report["result"], "bootstrapped", "{report}");
    let report =
        json(checkpoint.offer_status_list("CN-610100", "s", &city.current_status_list(), ms(NOW)));
    assert_eq!(report["result"], "accepted", "{report}");
    checkpoint
}

fn code(checkpoint: &mut Checkpoint, pass: &str) -> String {
    json(checkpoint.verify_text(pass, ms(NOW)))["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn nothing_is_decided_before_a_sync() {
    let city = City::at(NOW);
    let mut checkpoint = Checkpoint::new();
    let verdict = json(checkpoint.verify_text(&city.valid_pass(), ms(NOW)));
    assert_eq!(verdict["code"], "no_trust_list");
    assert_eq!(verdict["phase"], "setup");
    let refused = json(checkpoint.pin_roots(b"not cbor"));
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["code"], "bad_roots");
    assert!(refused["reason"].is_string(), "{refused}");
    let pinned = json(checkpoint.pin_roots(&city.roots.to_cbor()));
    let fingerprint = city.roots.fingerprint();
    assert_eq!(pinned, literal!({"ok": true, "fingerprint": fingerprint}));
}

#[test]
fn offers_answer_with_the_sync_json_fields() {
    let city = City::at(NOW);
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1), ms(NOW)));
    let list = city.list(1);
    let bootstrapped = literal!({
        "list": "trust_list", "location": "t", "result": "bootstrapped",
        "code": null, "reason": null, "sequence": 1,
        "issued_at": list.issued_at.0, "expires_at": list.expires_at.0,
    });
    assert_eq!(report, bootstrapped);
    let two = city.sign(&city.list(2), &[1, 2]);
    let report = json(checkpoint.offer_trust_list("t", &two, ms(NOW)));
    assert_eq!(report["result"], "refused");
    assert_eq!(report["code"], "below_threshold");
    assert!(report["reason"].is_string(), "{report}");
    assert_eq!(report["previous_sequence"], 1);

    let status = city.current_status_list();
    let report = json(checkpoint.offer_status_list("CN-610100", "s", &status, ms(NOW)));
    let issued_at = NOW.minus(Seconds::hours(1));
    let accepted = literal!({
        "list": "status_list", "issuer": "CN-610100", "location": "s",
        "result": "accepted", "code": null, "reason": null,
        "issued_at": issued_at.0, "expires_at": issued_at.plus(Seconds::hours(24)).0,
    });
    assert_eq!(report, accepted);
    assert_eq!(checkpoint.status_list_bytes("CN-610100"), status);
    assert_eq!(checkpoint.trust_list_bytes(), city.trust_list(1));

    let missing = json(checkpoint.unavailable(Some("CN-610100".into()), "s", true, "HTTP 404"));
    assert_eq!(missing["result"], "unavailable");
    assert_eq!(missing["code"], "not_found");
    assert_eq!(missing["reason"], "HTTP 404");
    let offline = json(checkpoint.unavailable(None, "t", false, "offline"));
    assert_eq!(offline["code"], "fetch_failed");
    assert_eq!(offline["list"], "trust_list");
    assert_eq!(offline.get("issuer"), None);
    assert_eq!(offline["sequence"], 1);
}

#[test]
fn an_unreadable_clock_accepts_no_list() {
    let city = City::at(NOW);
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1), -1.0));
    assert_eq!(report["result"], "unavailable", "{report}");
    assert_eq!(report["code"], "clock_unreadable");
    assert!(checkpoint.trust_list_bytes().is_empty());
    let mut checkpoint = synced(&city);
    let status = city.status_list(NOW, &[]);
    let report = json(checkpoint.offer_status_list("CN-610100", "s", &status, f64::NAN));
    assert_eq!(report["code"], "clock_unreadable", "{report}");
    assert_eq!(report["issuer"], "CN-610100");
}

#[test]
fn a_clock_set_back_decides_nothing() {
    let city = City::at(NOW);
    let mut checkpoint = synced(&city);
    checkpoint.see_time(ms(NOW.plus(Seconds::hours(2))));
    let verdict = json(checkpoint.verify_text(&city.valid_pass(), ms(NOW)));
    assert_eq!(verdict["code"], "clock_behind");
    assert_eq!(verdict["phase"], "setup");
    let status = json(checkpoint.status(ms(NOW), 0.0));
    assert_eq!(status["ready"], false);
    assert_eq!(code(&mut checkpoint, "hello"), "clock_behind");
    assert_eq!(
        json(checkpoint.verify_text(&city.valid_pass(), -1.0))["code"],
        "clock_unreadable"
    );
}

#[test]
fn status_list_sources_name_what_to_fetch() {
    let city = City::at(NOW);
    assert_eq!(Checkpoint::new().status_list_sources(), "[]");
    let checkpoint = synced(&city);
    let sources = json(checkpoint.status_list_sources());
    let expected =
        literal!([{"issuer": "CN-610100", "path": "status/CN-610100.cbor", "url": null}]);
    assert_eq!(sources, expected);
}
