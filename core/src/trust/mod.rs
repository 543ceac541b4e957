//! The trust list: the custodians' root set and the issuer keys it vouches
//! for, threshold-signed in a COSE_Sign, and the rules for accepting a new one.
//! The rules are numbered in docs/trust.md and cited where they are enforced.

mod list;
mod signed;
mod update;

pub use list::{
    FORMAT_VERSION, FORMAT_VERSION_1, IssuerKey, KeyStatus, LEGACY_MAX_PASS_LIFETIME, RootKey,
    RootSet, TrustList, TrustListError,
};
pub use signed::{
    Counted, EnvelopeError, MAX_TRUST_LIST_LEN, RootSignature, SignatureTally, SignedTrustList,
};
pub use update::{Freshness, RootSetRole, TrustUpdate, TrustUpdateError, TrustedList};
