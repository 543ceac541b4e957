//! Stored lists are trusted no further than the phone's pinned roots
//! (security review, issue 15, finding 6): the stored trust list is
//! restored against the pinned root set (T3, and T4 for a rotation), the
//! pin follows a rotation the phone accepted, and starting again after a
//! damaged list never goes below the highest sequence ever accepted.

use sealpass_core::testkit::City;
use sealpass_core::testkit::{NOW, key, root_set, sign_list};
use sealpass_core::{RootSet, TrustList};
use sealpass_web::Checkpoint;
use serde_json::Value;

fn ms(t: sealpass_core::Timestamp) -> f64 {
    t.0 as f64 * 1000.0
}

fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

/// A phone that pinned the city's roots and accepted `sequence`.
fn synced(city: &City, sequence: u64) -> Checkpoint {
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    let report = json(checkpoint.offer_trust_list("t", &city.trust_list(sequence), ms(NOW)));
    assert_eq!(report["result"], "bootstrapped", "{report}");
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
fn a_forged_stored_list_self_signed_by_other_roots_is_refused_at_load() {
    let city = City::at(NOW);
    let held = synced(&city, 1);
    // Whoever can write the phone's storage makes a root set of their own
    // and a list it signs: it meets its own threshold, not the pinned one.
    let impostors: Vec<_> = (1..=3).map(|i| key(&format!("impostor {i}"))).collect();
    let forged = TrustList {
        sequence: 99,
        roots: root_set(&impostors, 2),
        ..city.list(1)
    };
    let forged = sign_list(&forged, &impostors[..2]);
    let (phone, loaded) = restarted(&held, &forged);
    assert_eq!(loaded["ok"], false, "{loaded}");
    assert_eq!(loaded["code"], "trust_list_damaged");
    assert_eq!(
        json(phone.verify_text(&city.valid_pass(), ms(NOW)))["code"],
        "no_trust_list"
    );
    // The list the phone itself stored loads.
    let (_, loaded) = restarted(&held, &held.trust_list_bytes());
    assert_eq!(loaded["ok"], true, "{loaded}");
}

#[test]
fn a_damaged_stored_list_then_an_older_sequence_is_refused_as_rollback() {
    let city = City::at(NOW);
    let mut held = synced(&city, 1);
    let report = json(held.offer_trust_list("t", &city.trust_list(3), ms(NOW)));
    assert_eq!(report["result"], "replaced", "{report}");
    assert_eq!(held.highest_sequence_accepted(), 3.0);
    let mut damaged = held.trust_list_bytes();
    damaged[40] ^= 1;
    let (mut phone, loaded) = restarted(&held, &damaged);
    assert_eq!(loaded["code"], "trust_list_damaged", "{loaded}");
    // Starting again from the pinned roots: an older list, validly signed,
    // is a rollback, not a fresh start.
    let report = json(phone.offer_trust_list("t", &city.trust_list(2), ms(NOW)));
    assert_eq!(report["result"], "refused", "{report}");
    assert_eq!(report["code"], "rollback");
    let reason = report["reason"].as_str().unwrap();
    assert!(
        reason.contains("sequence 2") && reason.contains('3'),
        "{reason}"
    );
    // The sequence held before, or a newer one, is accepted.
    let report = json(phone.offer_trust_list("t", &city.trust_list(3), ms(NOW)));
    assert_eq!(report["result"], "bootstrapped", "{report}");
}

#[test]
fn a_stored_list_older_than_the_highest_sequence_accepted_is_refused_at_load() {
    let city = City::at(NOW);
    let mut held = synced(&city, 1);
    held.offer_trust_list("t", &city.trust_list(3), ms(NOW));
    // Sequence 1, genuinely signed, written back into storage.
    let (_, loaded) = restarted(&held, &city.trust_list(1));
    assert_eq!(loaded["ok"], false, "{loaded}");
    assert_eq!(loaded["code"], "rollback");
}

#[test]
fn the_pinned_roots_follow_a_rotation_the_phone_accepted() {
    let city = City::at(NOW);
    let mut held = synced(&city, 1);
    let new_custodians: Vec<_> = (6..=8).map(|i| key(&format!("custodian {i}"))).collect();
    let new_roots: RootSet = root_set(&new_custodians, 2);
    let rotated = TrustList {
        sequence: 2,
        roots: new_roots.clone(),
        ..city.list(2)
    };
    let mut signers = city.custodians[..3].to_vec();
    signers.extend(new_custodians[..2].iter().cloned());
    let rotated = sign_list(&rotated, &signers);
    let report = json(held.offer_trust_list("t", &rotated, ms(NOW)));
    assert_eq!(report["result"], "replaced", "{report}");
    // The page stores the list, then the pinned roots, which followed.
    assert_eq!(held.pinned_roots_bytes(), new_roots.to_cbor());
    let (phone, loaded) = restarted(&held, &rotated);
    assert_eq!(loaded["ok"], true, "{loaded}");
    assert_eq!(phone.pinned_roots_bytes(), new_roots.to_cbor());

    // A phone that stored the rotated list but not yet the new roots
    // restores it against the old pin (T3) and its own roots (T4), and the
    // pin follows then.
    let mut old_pin = Checkpoint::new();
    old_pin.pin_roots(&city.roots.to_cbor());
    assert_eq!(json(old_pin.load_trust_list(&rotated))["ok"], true);
    assert_eq!(old_pin.pinned_roots_bytes(), new_roots.to_cbor());

    // After the rotation the old custodians alone no longer govern: a list
    // they sign is refused at load.
    let old_only = sign_list(&city.list(5), &city.custodians[..3]);
    let (_, loaded) = restarted(&held, &old_only);
    assert_eq!(loaded["code"], "trust_list_damaged", "{loaded}");
}
