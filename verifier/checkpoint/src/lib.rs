//! sealpass-checkpoint: every rule a checkpoint applies to the lists it
//! holds, once, for the command line (`sealpass-verifier`) and the offline
//! web verifier alike. No I/O, no clock: the shells fetch, offer what they
//! fetched here, and persist what was accepted; time is a parameter.
//!
//! ```
//! use sealpass_checkpoint::{Lists, SyncResult};
//! use sealpass_core::testkit::{City, NOW};
//!
//! let city = City::new();
//! let mut lists = Lists::default();
//! lists.pin_roots(&city.roots.to_cbor()).unwrap();
//! let report = lists.offer_trust_list("trust-list.cbor", city.signed_first_list(), NOW);
//! assert_eq!(report.result, SyncResult::Bootstrapped);
//! let status = city.large_status_list(&[]);
//! let report = lists.offer_status_list("CN-610100", "status/CN-610100.cbor", &status, NOW);
//! assert_eq!(report.result, SyncResult::Accepted);
//! assert!(lists.unchecked_issuers(NOW).is_empty());
//! ```

#![forbid(unsafe_code)]

mod clock;
mod decide;
mod keyboard;
mod lists;
mod report;
mod status;
mod verdict;

pub use clock::{CLOCK_OFF_AFTER, ClockBehind, ClockComparison, ClockGuard};
pub use keyboard::layout_hint;
pub use lists::{HeldStatusList, Lists, check_stored_status_list, issuer_file_stem, issuers};
pub use report::{ListKind, ListReport, SyncResult};
pub use status::{IssuerKeyState, ListsStatus, RootsState, StatusListState, TrustListState};
pub use verdict::{JsonVerdict, Outcome, PassSummary, Reason, Source, Verdict};
