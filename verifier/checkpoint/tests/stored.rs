//! Stored lists are trusted no further than the pinned roots (docs/trust.md,
//! "Stored lists"; security review, issue 15, finding 6): a stored trust
//! list is restored against the pinned root set (T3, and T4 for a
//! rotation), never below the highest sequence ever accepted; the pin
//! follows a rotation the checkpoint accepted; starting again after a
//! damaged list never goes below that sequence either; a stored status
//! list is checked again, and an expired one still refuses its passes.

mod support;

use sealpass_checkpoint::{Lists, Outcome, SyncResult};
use sealpass_core::testkit::{City, NOW, root_set, sign_list};
use sealpass_core::{RootSet, Seconds, TrustList};
use support::{bootstrapped, code, synced, verdict};

type Loaded = Result<(), (&'static str, String)>;

/// A checkpoint starting again from what `held` stored: roots, then the
/// highest sequence, then the trust list, as both front ends load them.
fn restarted(held: &Lists, trust_list: &[u8]) -> (Lists, Loaded) {
    let mut lists = Lists::default();
    let roots = held.pinned.as_ref().expect("roots are pinned");
    lists.pin_roots(&roots.to_cbor()).unwrap();
    lists.highest_sequence = held.highest_sequence;
    let loaded = lists.load_trust_list(trust_list);
    (lists, loaded)
}

fn stored_trust_list(lists: &Lists) -> Vec<u8> {
    lists.trust.as_ref().unwrap().bytes().to_vec()
}

/// A checkpoint that synced, started again from its own stored trust
/// list, and the issuer's status list it stored.
fn restored(city: &City) -> (Lists, Vec<u8>) {
    let held = synced(city);
    let (lists, loaded) = restarted(&held, &stored_trust_list(&held));
    assert_eq!(loaded, Ok(()));
    (lists, held.held("CN-610100").unwrap().bytes.to_vec())
}

fn error_code(loaded: Loaded) -> &'static str {
    loaded.expect_err("the stored list is refused").0
}

#[test]
fn stored_lists_load_against_the_pinned_roots() {
    let city = City::at(NOW);
    let (mut lists, status) = restored(&city);
    assert_eq!(lists.load_status_list("CN-610100", &status, NOW), Ok(()));
    assert_eq!(code(&lists, &city.named("revoked"), NOW), "pass_revoked");

    let held = synced(&city);
    let mut damaged = stored_trust_list(&held);
    damaged[40] ^= 1;
    let (lists, loaded) = restarted(&held, &damaged);
    assert_eq!(error_code(loaded), "trust_list_damaged");
    assert!(lists.trust.is_none());
}

#[test]
fn an_expired_stored_status_list_is_loaded_and_refuses_its_passes() {
    let city = City::at(NOW);
    let (mut lists, status) = restored(&city);
    // A day later the status list has expired: still loaded, and it refuses.
    let later = NOW.plus(Seconds::hours(30));
    assert_eq!(lists.load_status_list("CN-610100", &status, later), Ok(()));
    let mut claims = city.claims();
    claims.expires_at = NOW.plus(Seconds::hours(40));
    let verdict = verdict(&lists, &city.pass(&claims), later);
    assert_eq!(verdict.outcome, Outcome::Undecided);
    assert_eq!(verdict.reason.unwrap().code, "status_list_expired");
}

#[test]
fn a_stored_status_list_that_does_not_verify_is_not_used() {
    let city = City::at(NOW);
    let (mut lists, status) = restored(&city);
    let reason = lists
        .load_status_list("CN-310000", &status, NOW)
        .unwrap_err();
    assert!(reason.contains("CN-610100"), "{reason}");
    assert!(
        lists
            .load_status_list("CN-610100", b"damaged", NOW)
            .is_err()
    );
    assert!(lists.held("CN-610100").is_none());
    assert_eq!(lists.not_used.len(), 2, "{:?}", lists.not_used);
    // Loaded once it verifies; no longer listed as not used.
    assert_eq!(lists.load_status_list("CN-610100", &status, NOW), Ok(()));
    assert_eq!(lists.not_used.len(), 1, "{:?}", lists.not_used);
}

#[test]
fn a_forged_stored_list_self_signed_by_other_roots_is_refused_at_load() {
    let city = City::at(NOW);
    let held = bootstrapped(&city, 1);
    // Whoever can write the phone's storage makes a root set of their own
    // and a list it signs: it meets its own threshold, not the pinned one.
    let impostors = city.impostors();
    let forged = TrustList {
        sequence: 99,
        roots: root_set(&impostors, 2),
        ..city.list(1)
    };
    let forged = sign_list(&forged, &impostors[..2]);
    let (lists, loaded) = restarted(&held, &forged);
    assert_eq!(error_code(loaded), "trust_list_damaged");
    assert!(lists.trust.is_none(), "nothing is decided on it");
    assert_eq!(lists.pinned, held.pinned);
    // The list the checkpoint itself stored loads.
    let (_, loaded) = restarted(&held, &stored_trust_list(&held));
    assert_eq!(loaded, Ok(()));
}

#[test]
fn a_damaged_stored_list_then_an_older_sequence_is_refused_as_rollback() {
    let city = City::at(NOW);
    let mut held = bootstrapped(&city, 1);
    let report = held.offer_trust_list("t", &city.trust_list(3), NOW);
    assert_eq!(report.result, SyncResult::Replaced, "{report:?}");
    assert_eq!(held.highest_sequence, 3);
    let mut damaged = stored_trust_list(&held);
    damaged[40] ^= 1;
    let (mut lists, loaded) = restarted(&held, &damaged);
    assert_eq!(error_code(loaded), "trust_list_damaged");
    // Starting again from the pinned roots: an older list, validly signed,
    // is a rollback, not a fresh start.
    let report = lists.offer_trust_list("t", &city.trust_list(2), NOW);
    assert_eq!(report.result, SyncResult::Refused, "{report:?}");
    assert_eq!(report.code, Some("rollback"));
    let reason = report.reason.unwrap();
    assert!(
        reason.contains("sequence 2") && reason.contains('3'),
        "{reason}"
    );
    // The sequence held before, or a newer one, is accepted.
    let report = lists.offer_trust_list("t", &city.trust_list(3), NOW);
    assert_eq!(report.result, SyncResult::Bootstrapped, "{report:?}");
}

#[test]
fn a_stored_list_older_than_the_highest_sequence_accepted_is_refused_at_load() {
    let city = City::at(NOW);
    let mut held = bootstrapped(&city, 1);
    held.offer_trust_list("t", &city.trust_list(3), NOW);
    // Sequence 1, genuinely signed, written back into storage.
    let (lists, loaded) = restarted(&held, &city.trust_list(1));
    assert_eq!(error_code(loaded), "rollback");
    assert!(lists.trust.is_none());
}

#[test]
fn the_pinned_roots_follow_a_rotation_the_checkpoint_accepted() {
    let city = City::at(NOW);
    let mut held = bootstrapped(&city, 1);
    let new_custodians = city.custodians(&[6, 7, 8]);
    let new_roots: RootSet = root_set(&new_custodians, 2);
    let rotated = TrustList {
        sequence: 2,
        roots: new_roots.clone(),
        ..city.list(2)
    };
    let mut signers = city.custodians(&[1, 2, 3]);
    signers.extend(new_custodians[..2].iter().cloned());
    let rotated = sign_list(&rotated, &signers);
    let report = held.offer_trust_list("t", &rotated, NOW);
    assert_eq!(report.result, SyncResult::Replaced, "{report:?}");
    // The shell stores the list, then the pinned roots, which followed.
    assert_eq!(held.pinned.as_ref(), Some(&new_roots));
    let (lists, loaded) = restarted(&held, &rotated);
    assert_eq!(loaded, Ok(()));
    assert_eq!(lists.pinned.as_ref(), Some(&new_roots));

    // A checkpoint that stored the rotated list but not yet the new roots
    // restores it against the old pin (T3) and its own roots (T4), and the
    // pin follows then.
    let mut old_pin = Lists::default();
    old_pin.pin_roots(&city.roots.to_cbor()).unwrap();
    assert_eq!(old_pin.load_trust_list(&rotated), Ok(()));
    assert_eq!(old_pin.pinned.as_ref(), Some(&new_roots));

    // After the rotation the old custodians alone no longer govern: a list
    // they sign is refused at load.
    let old_only = sign_list(&city.list(5), &city.custodians(&[1, 2, 3]));
    let (_, loaded) = restarted(&held, &old_only);
    assert_eq!(error_code(loaded), "trust_list_damaged");
}
