//! What the page stores it hands back on every start (security review,
//! issue 15, finding 6): the pinned roots (`pinned_roots_bytes`), the
//! highest sequence accepted (`highest_sequence_accepted`,
//! `set_highest_sequence_accepted`) and the lists' bytes round-trip, and
//! `load_trust_list`/`load_status_list` answer in JSON (`trust_list_damaged`,
//! `rollback`, `status_list_not_used`). The rules a stored list is held to
//! (the pinned roots, never below the highest sequence, the pin following
//! a rotation) are sealpass-checkpoint's, tested once for both front ends in
//! `verifier/checkpoint/tests/stored.rs`.

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

/// A phone that pinned the city's roots, accepted trust lists 1 then
/// `sequence`, and the issuer's status list.
fn synced(city: &City, sequence: u64) -> Checkpoint {
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    for offered in [1, sequence] {
        checkpoint.offer_trust_list("t", &city.trust_list(offered), ms(NOW));
    }
    checkpoint.offer_status_list("CN-610100", "s", &city.current_status_list(), ms(NOW));
    assert_eq!(checkpoint.highest_sequence_accepted(), sequence as f64);
    checkpoint
}

/// A phone starting again from what `held` stored: roots, then the highest
/// sequence, then the trust list, as the page's `loadStoredLists` does.
fn restarted(held: &Checkpoint, trust_list: &[u8]) -> (Checkpoint, Value) {
    let mut phone = Checkpoint::new();
    assert_eq!(
        json(phone.pin_roots(&held.pinned_roots_bytes()))["ok"],
        true
    );
    phone.set_highest_sequence_accepted(held.highest_sequence_accepted());
    let loaded = json(phone.load_trust_list(trust_list));
    (phone, loaded)
}

#[test]
fn what_the_page_stored_restores_the_same_checkpoint() {
    let empty = Checkpoint::new();
    assert!(empty.pinned_roots_bytes().is_empty());
    assert!(empty.trust_list_bytes().is_empty());
    assert!(empty.status_list_bytes("CN-610100").is_empty());
    assert_eq!(empty.highest_sequence_accepted(), 0.0);

    let city = City::at(NOW);
    let held = synced(&city, 3);
    assert_eq!(held.pinned_roots_bytes(), city.roots.to_cbor());
    let (mut phone, loaded) = restarted(&held, &held.trust_list_bytes());
    assert_eq!(loaded, serde_json::json!({"ok": true}));
    let status = held.status_list_bytes("CN-610100");
    let loaded = json(phone.load_status_list("CN-610100", &status, ms(NOW)));
    assert_eq!(loaded, serde_json::json!({"ok": true}));
    assert_eq!(phone.pinned_roots_bytes(), held.pinned_roots_bytes());
    assert_eq!(phone.highest_sequence_accepted(), 3.0);
    assert_eq!(phone.trust_list_bytes(), held.trust_list_bytes());
    assert_eq!(phone.status_list_bytes("CN-610100"), status);
    let revoked = json(phone.verify_text(&city.named("revoked"), ms(NOW)));
    assert_eq!(revoked["code"], "pass_revoked");
}

#[test]
fn the_highest_sequence_accepted_is_handed_back_before_the_stored_list() {
    let city = City::at(NOW);
    let held = synced(&city, 3);
    // Sequence 1, genuinely signed, written back into storage.
    let (mut phone, loaded) = restarted(&held, &city.trust_list(1));
    assert_eq!(loaded["ok"], false, "{loaded}");
    assert_eq!(loaded["code"], "rollback");
    assert!(loaded["reason"].is_string(), "{loaded}");
    // The record only ever rises; what is not a sequence is ignored.
    for nonsense in [1.0, 0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        phone.set_highest_sequence_accepted(nonsense);
        assert_eq!(phone.highest_sequence_accepted(), 3.0, "{nonsense}");
    }
    phone.set_highest_sequence_accepted(4.0);
    assert_eq!(phone.highest_sequence_accepted(), 4.0);
}

#[test]
fn stored_lists_that_do_not_load_answer_with_json_codes() {
    let city = City::at(NOW);
    let held = synced(&city, 1);
    let mut damaged = held.trust_list_bytes();
    damaged[40] ^= 1;
    let (mut phone, loaded) = restarted(&held, &damaged);
    assert_eq!(loaded["ok"], false, "{loaded}");
    assert_eq!(loaded["code"], "trust_list_damaged");
    assert!(loaded["reason"].is_string(), "{loaded}");
    assert_eq!(
        json(phone.verify_text(&city.valid_pass(), ms(NOW)))["code"],
        "no_trust_list"
    );
    let status = held.status_list_bytes("CN-610100");
    let loaded = json(phone.load_status_list("CN-610100", &status, ms(NOW)));
    assert_eq!(loaded["code"], "status_list_not_used", "{loaded}");
    phone.load_trust_list(&held.trust_list_bytes());
    let loaded = json(phone.load_status_list("CN-610100", b"damaged", ms(NOW)));
    assert_eq!(loaded["ok"], false, "{loaded}");
    assert_eq!(loaded["code"], "status_list_not_used");
    assert!(loaded["reason"].is_string(), "{loaded}");
    let status = json(phone.status(ms(NOW), 0.0));
    assert_eq!(status["status_lists"][0]["state"], "not_used");
}
