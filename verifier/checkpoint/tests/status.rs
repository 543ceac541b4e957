//! Whether a checkpoint can decide, and what it warns of (docs/verifier.md,
//! "`status`"; security review, issue 15, finding 1): revocation fails
//! closed, so a checkpoint without a current status list of every issuer
//! is not ready and says why; it warns before a list it holds runs out
//! ahead of the next planned sync; each list's state and freshness.

mod support;

use sealpass_checkpoint::{ListKind, Lists, Outcome, SyncResult};
use sealpass_core::testkit::{City, NOW};
use sealpass_core::{CheckpointPolicy, Seconds};
use support::{bootstrapped, synced, verdict};

/// The web page's sync interval: every 6 hours while it is open.
const SIX_HOURS: Seconds = Seconds::hours(6);

fn policy() -> CheckpointPolicy {
    CheckpointPolicy::default()
}

#[test]
fn nothing_is_ready_before_a_trust_list_is_held() {
    let city = City::at(NOW);
    let mut lists = Lists::default();
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert!(!status.ready);
    assert_eq!(status.code, Some("no_trust_list"));
    assert_eq!(status.pinned_roots, None);
    assert_eq!(status.trust_list, None);
    assert!(status.status_lists.is_empty());
    lists.pin_roots(&city.roots.to_cbor()).unwrap();
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert_eq!(status.code, Some("no_trust_list"));
    let roots = status.pinned_roots.unwrap();
    assert_eq!(roots.fingerprint, city.roots.fingerprint());
    assert_eq!(roots.threshold, 3);
}

#[test]
fn a_revoked_pass_is_never_valid_when_the_status_list_answers_404() {
    let city = City::at(NOW);
    let lists = bootstrapped(&city, 1);
    let report = lists.unavailable(
        ListKind::StatusList,
        Some("CN-610100"),
        "status/CN-610100.cbor",
        "not_found",
        "HTTP 404".into(),
    );
    assert_eq!(report.result, SyncResult::Unavailable);
    assert_eq!(report.issued_at, None, "no status list is held");
    for pass in [city.named("revoked"), city.valid_pass()] {
        let verdict = verdict(&lists, &pass, NOW);
        assert_eq!(verdict.outcome, Outcome::Undecided, "{verdict:?}");
        let reason = verdict.reason.unwrap();
        assert_eq!(reason.code, "revocation_not_checked");
        assert_eq!(reason.phase, "revocation");
        assert!(
            reason.text.starts_with("could not check revocation"),
            "{}",
            reason.text
        );
    }
    assert_eq!(lists.unchecked_issuers(NOW), ["CN-610100"]);
}

#[test]
fn not_ready_while_an_issuer_has_no_status_list() {
    let city = City::at(NOW);
    let mut lists = bootstrapped(&city, 1);
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert!(!status.ready, "{status:?}");
    assert_eq!(status.code, Some("revocation_not_checked"));
    let reason = status.reason.unwrap();
    assert!(reason.contains("CN-610100"), "{reason}");
    assert_eq!(status.status_lists[0].state, "missing");
    // Once the status list is held, the checkpoint is ready.
    let current = city.current_status_list();
    let report = lists.offer_status_list("CN-610100", "s", &current, NOW);
    assert_eq!(report.result, SyncResult::Accepted);
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert!(status.ready, "{status:?}");
    assert_eq!(status.code, None);
    assert_eq!(status.reason, None);
}

#[test]
fn a_stored_status_list_that_did_not_load_is_not_used_and_says_why() {
    let city = City::at(NOW);
    let mut lists = bootstrapped(&city, 1);
    assert!(
        lists
            .load_status_list("CN-610100", b"damaged", NOW)
            .is_err()
    );
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert!(!status.ready);
    let state = &status.status_lists[0];
    assert_eq!(state.state, "not_used");
    assert!(state.reason.is_some(), "{state:?}");
    assert_eq!(state.issued_at, None);
}

#[test]
fn not_ready_once_the_held_status_list_has_expired() {
    let city = City::at(NOW);
    let lists = synced(&city);
    // The status list was issued an hour before NOW and lasts 24 h.
    let later = NOW.plus(Seconds::hours(24));
    let status = lists.status(later, SIX_HOURS, &policy());
    assert_eq!(status.status_lists[0].state, "expired");
    assert!(!status.ready, "{status:?}");
    assert_eq!(status.code, Some("revocation_not_checked"));
    assert!(status.reason.unwrap().contains("CN-610100"));
    let mut claims = city.claims();
    claims.expires_at = NOW.plus(Seconds::hours(40));
    let verdict = verdict(&lists, &city.pass(&claims), later);
    assert_eq!(verdict.outcome, Outcome::Undecided, "{verdict:?}");
    assert_eq!(verdict.reason.unwrap().code, "status_list_expired");
}

#[test]
fn warns_when_a_status_list_expires_before_the_next_sync() {
    let city = City::at(NOW);
    let mut lists = bootstrapped(&city, 1);
    // Issued 20 h ago, valid 24 h: it expires in 4 h.
    let short = city.status_list(NOW.minus(Seconds::hours(20)), &[]);
    let report = lists.offer_status_list("CN-610100", "s", &short, NOW);
    assert_eq!(report.result, SyncResult::Accepted, "{report:?}");

    // The next sync is in 6 h: the list runs out 2 h before it.
    let status = lists.status(NOW, SIX_HOURS, &policy());
    assert!(status.ready, "{status:?}");
    assert!(status.status_lists[0].expires_before_next_sync);
    assert_eq!(status.warnings.len(), 1, "{:?}", status.warnings);
    let warning = &status.warnings[0];
    assert!(warning.contains("CN-610100"), "{warning}");
    assert!(warning.contains("4 h"), "{warning}");

    // With the next sync in 3 h, it is still current then: no warning.
    let status = lists.status(NOW, Seconds::hours(3), &policy());
    assert!(!status.status_lists[0].expires_before_next_sync);
    assert!(status.warnings.is_empty(), "{:?}", status.warnings);
}

#[test]
fn the_trust_list_goes_from_fresh_to_expires_soon_to_expired() {
    let city = City::at(NOW);
    let lists = synced(&city);
    let fresh = lists.status(NOW, Seconds(0), &policy());
    assert!(fresh.ready);
    let trust_list = fresh.trust_list.unwrap();
    assert_eq!(trust_list.freshness, "fresh");
    assert_eq!(trust_list.sequence, 1);
    assert_eq!(fresh.status_lists[0].state, "current");
    let soon = lists.status(NOW.plus(Seconds::days(25)), Seconds(0), &policy());
    assert_eq!(soon.trust_list.unwrap().freshness, "expires_soon");
    assert_eq!(soon.status_lists[0].state, "expired");
    let expired = lists.status(NOW.plus(Seconds::days(31)), Seconds(0), &policy());
    assert!(!expired.ready);
    assert_eq!(expired.code, Some("trust_list_expired"));
    assert_eq!(expired.trust_list.unwrap().freshness, "expired");

    // Issued a day before NOW, valid 30 days: a sync planned later than
    // that is warned of.
    let status = lists.status(NOW, Seconds::days(30), &policy());
    assert!(status.trust_list.unwrap().expires_before_next_sync);
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.starts_with("the trust list")),
        "{:?}",
        status.warnings
    );
}
