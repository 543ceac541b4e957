//! What the checkpoint's tests share: lists synced to the test city, and
//! the verdict a pass gets from them (as both front ends decide it).

// Each test file uses part of this.
#![allow(dead_code)]

use sealpass_checkpoint::{Lists, SyncResult, Verdict};
use sealpass_core::testkit::City;
use sealpass_core::{CheckpointPolicy, Timestamp, Verifier};

/// Lists that pinned the city's roots and bootstrapped trust list
/// `sequence` at the city's `now`.
pub fn bootstrapped(city: &City, sequence: u64) -> Lists {
    let mut lists = Lists::default();
    lists.pin_roots(&city.roots.to_cbor()).unwrap();
    let report = lists.offer_trust_list("t", &city.trust_list(sequence), city.now);
    assert_eq!(report.result, SyncResult::Bootstrapped, "{report:?}");
    lists
}

/// A checkpoint after its first sync: trust list 1 and the issuer's
/// current status list.
pub fn synced(city: &City) -> Lists {
    let mut lists = bootstrapped(city, 1);
    let status = city.current_status_list();
    let report = lists.offer_status_list("CN-610100", "s", &status, city.now);
    assert_eq!(report.result, SyncResult::Accepted, "{report:?}");
    lists
}

/// What `pass` gets from `lists` at `now` under the default profile.
pub fn verdict(lists: &Lists, pass: &str, now: Timestamp) -> Verdict {
    let trust = lists.trust.as_ref().expect("a trust list is held");
    let policy = CheckpointPolicy::default();
    let result = Verifier::new(trust, &policy)
        .with_status_lists(lists.status_lists())
        .verify(pass, now);
    Verdict::from_result(result, pass, &policy, now)
}

/// The verdict's code: `valid`, or why not.
pub fn code(lists: &Lists, pass: &str, now: Timestamp) -> &'static str {
    verdict(lists, pass, now).reason.map_or("valid", |r| r.code)
}
