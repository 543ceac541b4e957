//! The phone accepts lists by the command line's rules: pinned roots at
//! first use, then T0-T6 (threshold, rollback, expiry), status lists that
//! verify, name their issuer and do not roll back; whatever is refused, the
//! lists held before stay and keep deciding.

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

fn code(checkpoint: &Checkpoint, pass: &str) -> String {
    json(checkpoint.verify_text(pass, ms(NOW)))["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn nothing_is_decided_before_a_sync() {
    let city = City::at(NOW);
    let mut checkpoint = Checkpoint::new();
    assert_eq!(code(&checkpoint, &city.valid_pass()), "no_trust_list");
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1), ms(NOW)));
    assert_eq!(report["code"], "no_roots");
    assert_eq!(json(checkpoint.pin_roots(b"not cbor"))["code"], "bad_roots");
}

#[test]
fn refused_lists_leave_the_held_ones_deciding() {
    let city = City::at(NOW);
    let mut checkpoint = synced(&city);
    let at = ms(NOW);
    // T3: two custodians are not enough.
    let two = city.sign(&city.list(2), &[0, 1]);
    assert_eq!(
        json(checkpoint.offer_trust_list("t", &two, at))["code"],
        "below_threshold"
    );
    // T5: an older list, even well signed.
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(1).clone(), at));
    assert_eq!(report["result"], "unchanged");
    let newer = city.trust_list(3);
    assert_eq!(
        json(checkpoint.offer_trust_list("t", &newer, at))["result"],
        "replaced"
    );
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(2), at));
    assert_eq!(report["code"], "rollback", "{report}");
    // T6: expired.
    let mut old = city.list(4);
    old.expires_at = NOW.minus(Seconds::hours(1));
    old.issued_at = NOW.minus(Seconds::days(2));
    let old = city.sign(&old, &[0, 1, 2]);
    assert_eq!(
        json(checkpoint.offer_trust_list("t", &old, at))["code"],
        "trust_list_expired"
    );
    // Tampered bytes.
    let mut tampered = city.trust_list(5);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let report = json(checkpoint.offer_trust_list("t", &tampered, at));
    assert_eq!(report["result"], "refused");
    assert_eq!(report["sequence"], 3);
    // The status list survived the replacement and still revokes.
    assert_eq!(code(&checkpoint, &city.named("revoked")), "pass_revoked");
    assert_eq!(code(&checkpoint, &city.valid_pass()), "valid");
    assert_eq!(
        code(&checkpoint, &city.named("bad-signature")),
        "bad_signature"
    );
    assert_eq!(code(&checkpoint, &city.named("expired")), "expired");
}

#[test]
fn status_lists_must_not_roll_back() {
    let city = City::at(NOW);
    let mut checkpoint = synced(&city);
    let older = city.status_list(NOW.minus(Seconds::hours(5)), &[]);
    let report = json(checkpoint.offer_status_list("CN-610100", "s", &older, ms(NOW)));
    assert_eq!(report["code"], "rollback", "{report}");
    let report =
        json(checkpoint.offer_status_list("CN-310000", "s", &city.current_status_list(), ms(NOW)));
    assert_eq!(report["code"], "issuer_mismatch");
}

#[test]
fn stored_lists_are_checked_again_when_loaded() {
    let city = City::at(NOW);
    let held = synced(&city);
    let mut phone = Checkpoint::new();
    // Restored against the pinned roots (tests/stored_trust.rs).
    phone.pin_roots(&held.pinned_roots_bytes());
    assert_eq!(
        json(phone.load_trust_list(&held.trust_list_bytes()))["ok"],
        true
    );
    let status = held.status_list_bytes("CN-610100");
    // A day later the status list has expired: still loaded, and it refuses.
    let later = ms(NOW.plus(Seconds::hours(30)));
    assert_eq!(
        json(phone.load_status_list("CN-610100", &status, later))["ok"],
        true
    );
    let mut claims = city.claims();
    claims.expires_at = NOW.plus(Seconds::hours(40));
    let verdict = json(phone.verify_text(&city.pass(&claims), later));
    assert_eq!(verdict["code"], "status_list_expired");
    assert_eq!(verdict["verdict"], "undecided");
    let mut damaged = held.trust_list_bytes();
    damaged[40] ^= 1;
    let mut fresh = Checkpoint::new();
    fresh.pin_roots(&city.roots.to_cbor());
    assert_eq!(
        json(fresh.load_trust_list(&damaged))["code"],
        "trust_list_damaged"
    );
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
    assert_eq!(code(&checkpoint, "hello"), "clock_behind");
    assert_eq!(
        json(checkpoint.verify_text(&city.valid_pass(), -1.0))["code"],
        "clock_unreadable"
    );
}

#[test]
fn the_status_warns_before_the_trust_list_expires() {
    let city = City::at(NOW);
    let checkpoint = synced(&city);
    let fresh = json(checkpoint.status(ms(NOW), 0.0));
    assert_eq!(fresh["ready"], true);
    assert_eq!(fresh["trust_list"]["freshness"], "fresh");
    assert_eq!(fresh["status_lists"][0]["state"], "current");
    let soon = json(checkpoint.status(ms(NOW.plus(Seconds::days(25))), 0.0));
    assert_eq!(soon["trust_list"]["freshness"], "expires_soon");
    assert_eq!(soon["status_lists"][0]["state"], "expired");
    let expired = json(checkpoint.status(ms(NOW.plus(Seconds::days(31))), 0.0));
    assert_eq!(expired["code"], "trust_list_expired");
    let sources = json(checkpoint.status_list_sources());
    assert_eq!(sources[0]["path"], "status/CN-610100.cbor");
}
