//! Offering downloaded lists (docs/trust.md, T0-T7, "Highest sequence",
//! "Revocation"): pinned roots at first use, then threshold, rollback and
//! expiry for trust lists; status lists that verify, name their issuer and
//! do not roll back. Whatever is refused, the lists held before stay and
//! keep deciding. Both front ends offer through these rules.

mod support;

use sealpass_checkpoint::{ListKind, Lists, SyncResult};
use sealpass_core::Seconds;
use sealpass_core::testkit::{City, NOW};
use support::{code, synced};

#[test]
fn nothing_is_accepted_before_the_roots_are_pinned() {
    let city = City::at(NOW);
    let mut lists = Lists::default();
    let report = lists.offer_trust_list("t", &city.trust_list(1), NOW);
    assert_eq!(report.result, SyncResult::Refused);
    assert_eq!(report.code, Some("no_roots"));
    assert!(lists.trust.is_none());
    let report = lists.offer_status_list("CN-610100", "s", &city.current_status_list(), NOW);
    assert_eq!(report.code, Some("no_trust_list"));

    let (code, _) = lists.pin_roots(b"not cbor").unwrap_err();
    assert_eq!(code, "bad_roots");
    assert!(lists.pinned.is_none());
    let fingerprint = lists.pin_roots(&city.roots.to_cbor()).unwrap();
    assert_eq!(fingerprint, city.roots.fingerprint());
    let report = lists.offer_trust_list("t", &city.trust_list(1), NOW);
    assert_eq!(report.result, SyncResult::Bootstrapped, "{report:?}");
    assert_eq!(report.sequence, Some(1));
    assert_eq!(report.previous_sequence, None);
    assert_eq!(lists.highest_sequence, 1);
}

#[test]
fn refused_lists_leave_the_held_ones_deciding() {
    let city = City::at(NOW);
    let mut lists = synced(&city);
    // T3: two custodians are not enough.
    let two = city.sign(&city.list(2), &[1, 2]);
    let report = lists.offer_trust_list("t", &two, NOW);
    assert_eq!(report.result, SyncResult::Refused);
    assert_eq!(report.code, Some("below_threshold"));
    // T5: the same list again is unchanged; a newer one replaces it; an
    // older one, even well signed, is a rollback.
    let report = lists.offer_trust_list("t", &city.trust_list(1), NOW);
    assert_eq!(report.result, SyncResult::Unchanged);
    let report = lists.offer_trust_list("t", &city.trust_list(3), NOW);
    assert_eq!(report.result, SyncResult::Replaced);
    assert_eq!(report.previous_sequence, Some(1));
    assert_eq!(report.sequence, Some(3));
    let report = lists.offer_trust_list("t", &city.trust_list(2), NOW);
    assert_eq!(report.result, SyncResult::Refused, "{report:?}");
    assert_eq!(report.code, Some("rollback"));
    // T6: expired.
    let mut old = city.list(4);
    old.expires_at = NOW.minus(Seconds::hours(1));
    old.issued_at = NOW.minus(Seconds::days(2));
    let report = lists.offer_trust_list("t", &city.sign(&old, &[1, 2, 3]), NOW);
    assert_eq!(report.code, Some("trust_list_expired"));
    // Tampered bytes.
    let mut tampered = city.trust_list(5);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let report = lists.offer_trust_list("t", &tampered, NOW);
    assert_eq!(report.result, SyncResult::Refused);
    assert_eq!(report.sequence, Some(3));
    assert_eq!(lists.highest_sequence, 3);
    // The status list survived the replacement and still revokes.
    assert_eq!(code(&lists, &city.named("revoked"), NOW), "pass_revoked");
    assert_eq!(code(&lists, &city.valid_pass(), NOW), "valid");
    let tampered = city.named("bad-signature");
    assert_eq!(code(&lists, &tampered, NOW), "bad_signature");
    assert_eq!(code(&lists, &city.named("expired"), NOW), "expired");
}

#[test]
fn status_lists_must_not_roll_back_nor_name_another_issuer() {
    let city = City::at(NOW);
    let mut lists = synced(&city);
    let current = city.current_status_list();
    let report = lists.offer_status_list("CN-610100", "s", &current, NOW);
    assert_eq!(report.result, SyncResult::Unchanged);
    let older = city.status_list(NOW.minus(Seconds::hours(5)), &[]);
    let report = lists.offer_status_list("CN-610100", "s", &older, NOW);
    assert_eq!(report.result, SyncResult::Refused, "{report:?}");
    assert_eq!(report.code, Some("rollback"));
    let report = lists.offer_status_list("CN-310000", "s", &current, NOW);
    assert_eq!(report.code, Some("issuer_mismatch"));
    assert!(lists.held("CN-310000").is_none());
    // The list held before is still the one held.
    assert_eq!(lists.held("CN-610100").unwrap().bytes, current);
}

#[test]
fn a_list_that_could_not_be_fetched_leaves_the_one_held() {
    let city = City::at(NOW);
    let lists = synced(&city);
    let report = lists.unavailable(
        ListKind::StatusList,
        Some("CN-610100"),
        "s",
        "fetch_failed",
        "offline".into(),
    );
    assert_eq!(report.result, SyncResult::Unavailable);
    assert_eq!(report.code, Some("fetch_failed"));
    let held = &lists.held("CN-610100").unwrap().list;
    assert_eq!(report.issued_at, Some(held.issued_at().0));
    let report = lists.unavailable(ListKind::TrustList, None, "t", "not_found", "404".into());
    assert_eq!(report.sequence, Some(1));
    assert_eq!(code(&lists, &city.valid_pass(), NOW), "valid");
}
