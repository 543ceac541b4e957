//! Drafting the next trust list: the current one with the sequence raised by
//! one and the ceremony's edits applied, or the very first list from a root
//! set. The result is checked as a verifier would (rule T2 of docs/trust.md)
//! before anyone is asked to sign it.

use sealpass_core::trust::TrustListError;
use sealpass_core::{IssuerKey, KeyStatus, Kid, RootKey, RootSet, Seconds, Timestamp, TrustList};
use thiserror::Error;

/// What the ceremony changes in this list. Applied in this order: root set
/// (replace, remove, add, threshold), then issuer keys (add, retire, revoke,
/// status-list locations).
#[derive(Debug, Clone, Default)]
pub struct Edits {
    pub replace_custodians: Vec<(Kid, RootKey)>,
    pub remove_custodians: Vec<Kid>,
    pub add_custodians: Vec<RootKey>,
    pub threshold: Option<u32>,
    pub add_issuer_keys: Vec<IssuerKey>,
    pub retire: Vec<Kid>,
    pub revoke: Vec<Kid>,
    /// A key's new status-list URL, or `None` to remove it.
    pub status_list_urls: Vec<(Kid, Option<String>)>,
    /// The longest a pass (or status list) may live, set on every issuer
    /// key of the list. A key without one is refused: lists are drafted in
    /// format version 2 only (docs/trust.md, "Pass lifetime").
    pub max_pass_lifetime: Option<Seconds>,
}

/// Why a draft could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DraftError {
    #[error("the current list has no custodian with key id {0}; its custodians are: {1}")]
    NoSuchCustodian(Kid, String),
    #[error("custodian key {0} is already in the root set")]
    CustodianExists(Kid),
    #[error("the list has no issuer key with key id {0}; its issuer keys are: {1}")]
    NoSuchIssuerKey(Kid, String),
    #[error("issuer key {0} is already in the list")]
    IssuerKeyExists(Kid),
    #[error("issuer key {0} is revoked: a revoked key stays revoked and cannot be {1}")]
    AlreadyRevoked(Kid, &'static str),
    #[error("issuer key {0} is already retired")]
    AlreadyRetired(Kid),
    #[error(
        "threshold {threshold} is impossible with {roots} custodians: it must be between 1 and {roots}"
    )]
    BadThreshold { threshold: u32, roots: usize },
    #[error("a threshold of 1 lets a single custodian change the list alone; use at least 2")]
    SingleCustodian,
    #[error("the sequence number cannot go higher")]
    SequenceExhausted,
    #[error("the drafted list would be refused by verifiers: {0}")]
    Inconsistent(#[from] TrustListError),
    #[error(
        "issuer key {0} names no maximum pass lifetime: give --max-pass-lifetime (e.g. 2d: the issuer's pass validity with its jitter and clock skew, rounded up)"
    )]
    NoPassLifetime(Kid),
    #[error("a maximum pass lifetime of zero would refuse every pass")]
    ZeroPassLifetime,
}

/// The first list of a city: sequence 1 under the pinned root set.
pub fn first_list(
    roots: RootSet,
    edits: &Edits,
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> Result<TrustList, DraftError> {
    let mut list = TrustList {
        sequence: 1,
        issued_at,
        expires_at,
        roots,
        issuer_keys: Vec::new(),
    };
    apply(&mut list, edits)?;
    Ok(list)
}

/// The next list after `current`: sequence + 1, new dates, the edits applied.
pub fn next_list(
    current: &TrustList,
    edits: &Edits,
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> Result<TrustList, DraftError> {
    let mut list = current.clone();
    list.sequence = current
        .sequence
        .checked_add(1)
        .ok_or(DraftError::SequenceExhausted)?;
    list.issued_at = issued_at;
    list.expires_at = expires_at;
    apply(&mut list, edits)?;
    Ok(list)
}

fn apply(list: &mut TrustList, edits: &Edits) -> Result<(), DraftError> {
    let roots = &mut list.roots;
    for (old, new) in &edits.replace_custodians {
        let at = custodian_index(roots, *old)?;
        refuse_present(roots, new)?;
        roots.keys[at] = new.clone();
    }
    for old in &edits.remove_custodians {
        let at = custodian_index(roots, *old)?;
        roots.keys.remove(at);
    }
    for new in &edits.add_custodians {
        refuse_present(roots, new)?;
        roots.keys.push(new.clone());
    }
    if let Some(threshold) = edits.threshold {
        roots.threshold = threshold;
    }
    if roots.threshold == 0 || roots.threshold as usize > roots.keys.len() {
        return Err(DraftError::BadThreshold {
            threshold: roots.threshold,
            roots: roots.keys.len(),
        });
    }
    if roots.threshold < 2 {
        return Err(DraftError::SingleCustodian);
    }

    for key in &edits.add_issuer_keys {
        if list.issuer_key(key.kid()).is_some() {
            return Err(DraftError::IssuerKeyExists(key.kid()));
        }
        list.issuer_keys.push(key.clone());
    }
    let issued_at = list.issued_at;
    for kid in &edits.retire {
        let key = issuer_key(list, *kid)?;
        match key.status {
            KeyStatus::Revoked => return Err(DraftError::AlreadyRevoked(*kid, "retired")),
            KeyStatus::Retired => return Err(DraftError::AlreadyRetired(*kid)),
            KeyStatus::Active => {}
        }
        key.status = KeyStatus::Retired;
        // A retired key signs no more: passes issued after this list are
        // refused as outside its window; earlier ones stay valid.
        key.not_after = key.not_after.min(issued_at).max(key.not_before);
    }
    for kid in &edits.revoke {
        let key = issuer_key(list, *kid)?;
        if key.status == KeyStatus::Revoked {
            return Err(DraftError::AlreadyRevoked(*kid, "revoked again"));
        }
        key.status = KeyStatus::Revoked;
    }
    for (kid, url) in &edits.status_list_urls {
        issuer_key(list, *kid)?.status_list_url = url.clone();
    }
    if let Some(lifetime) = edits.max_pass_lifetime {
        if lifetime.0 == 0 {
            return Err(DraftError::ZeroPassLifetime);
        }
        for key in &mut list.issuer_keys {
            key.max_pass_lifetime = Some(lifetime);
        }
    }
    if let Some(key) = list
        .issuer_keys
        .iter()
        .find(|k| k.max_pass_lifetime.is_none())
    {
        return Err(DraftError::NoPassLifetime(key.kid()));
    }
    // Rule T2, exactly as a verifier will check it.
    TrustList::from_cbor(&list.to_cbor())?;
    RootSet::from_cbor(&list.roots.to_cbor())?;
    Ok(())
}

fn custodian_index(roots: &RootSet, kid: Kid) -> Result<usize, DraftError> {
    roots.position(kid).ok_or_else(|| {
        let names: Vec<String> = roots
            .keys
            .iter()
            .map(|key| format!("{} ({})", key.custodian, key.kid()))
            .collect();
        DraftError::NoSuchCustodian(kid, names.join(", "))
    })
}

fn refuse_present(roots: &RootSet, key: &RootKey) -> Result<(), DraftError> {
    match roots.position(key.kid()) {
        Some(_) => Err(DraftError::CustodianExists(key.kid())),
        None => Ok(()),
    }
}

fn issuer_key(list: &mut TrustList, kid: Kid) -> Result<&mut IssuerKey, DraftError> {
    let names: Vec<String> = list
        .issuer_keys
        .iter()
        .map(|key| format!("{} of {}", key.kid(), key.issuer))
        .collect();
    list.issuer_keys
        .iter_mut()
        .find(|key| key.kid() == kid)
        .ok_or_else(|| DraftError::NoSuchIssuerKey(kid, names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{self, City, NOW};
    use sealpass_core::{Seconds, Signer};

    fn later() -> (Timestamp, Timestamp) {
        (NOW, NOW.plus(Seconds::days(30)))
    }

    #[test]
    fn next_list_raises_the_sequence_and_applies_edits() {
        let city = City::new();
        let old_issuer = city.first_list().issuer_keys[0].kid();
        let new_issuer = testkit::issuer_entry(&city.next, KeyStatus::Active);
        let replaced = city.roots.keys[4].kid();
        let newcomer = RootKey {
            custodian: "custodian 6".into(),
            public_key: city.custodian(6).public_key(),
        };
        let edits = Edits {
            replace_custodians: vec![(replaced, newcomer.clone())],
            add_issuer_keys: vec![new_issuer.clone()],
            revoke: vec![old_issuer],
            ..Edits::default()
        };
        let (issued, expires) = later();
        let next = next_list(city.first_list(), &edits, issued, expires).unwrap();
        assert_eq!(next.sequence, 2);
        assert_eq!(next.roots.keys[4], newcomer);
        assert_eq!(next.roots.threshold, 3);
        assert_eq!(next.issuer_keys[0].status, KeyStatus::Revoked);
        assert_eq!(next.issuer_keys[1], new_issuer);
    }

    #[test]
    fn retiring_closes_the_window_at_the_new_list() {
        let city = City::new();
        let kid = city.first_list().issuer_keys[0].kid();
        let edits = Edits {
            retire: vec![kid],
            ..Edits::default()
        };
        let (issued, expires) = later();
        let next = next_list(city.first_list(), &edits, issued, expires).unwrap();
        assert_eq!(next.issuer_keys[0].status, KeyStatus::Retired);
        assert_eq!(next.issuer_keys[0].not_after, issued);
        let again = next_list(&next, &edits, issued, expires).unwrap_err();
        assert_eq!(again, DraftError::AlreadyRetired(kid));
    }

    #[test]
    fn impossible_edits_are_refused() {
        let city = City::new();
        let (issued, expires) = later();
        let too_high = Edits {
            threshold: Some(6),
            ..Edits::default()
        };
        assert_eq!(
            next_list(city.first_list(), &too_high, issued, expires).unwrap_err(),
            DraftError::BadThreshold {
                threshold: 6,
                roots: 5
            }
        );
        let alone = Edits {
            threshold: Some(1),
            ..Edits::default()
        };
        assert_eq!(
            next_list(city.first_list(), &alone, issued, expires).unwrap_err(),
            DraftError::SingleCustodian
        );
        let unknown = Edits {
            revoke: vec![Kid([0; 8])],
            ..Edits::default()
        };
        assert!(matches!(
            next_list(city.first_list(), &unknown, issued, expires),
            Err(DraftError::NoSuchIssuerKey(..))
        ));
        let duplicate = Edits {
            add_custodians: vec![city.roots.keys[0].clone()],
            ..Edits::default()
        };
        assert!(matches!(
            next_list(city.first_list(), &duplicate, issued, expires),
            Err(DraftError::CustodianExists(_))
        ));
    }

    /// Finding 4 of the security review: lists are drafted in format
    /// version 2 only, every key with a maximum pass lifetime.
    #[test]
    fn a_list_without_pass_lifetimes_is_not_drafted() {
        let city = City::new();
        let (issued, expires) = later();
        let mut new_key = testkit::issuer_entry(&city.next, KeyStatus::Active);
        new_key.max_pass_lifetime = None;
        let kid = new_key.kid();
        let without = Edits {
            add_issuer_keys: vec![new_key],
            ..Edits::default()
        };
        assert_eq!(
            next_list(city.first_list(), &without, issued, expires).unwrap_err(),
            DraftError::NoPassLifetime(kid)
        );
        let with = Edits {
            max_pass_lifetime: Some(Seconds::days(2)),
            ..without
        };
        let next = next_list(city.first_list(), &with, issued, expires).unwrap();
        assert!(
            next.issuer_keys
                .iter()
                .all(|key| key.max_pass_lifetime == Some(Seconds::days(2)))
        );
        assert_eq!(next.version(), sealpass_core::trust::FORMAT_VERSION);
    }

    /// Finding 8: a custodian's root key is never also an issuer key.
    #[test]
    fn a_root_key_is_not_drafted_as_an_issuer_key() {
        let city = City::new();
        let (issued, expires) = later();
        let mut root_as_issuer = testkit::issuer_entry(city.custodian(1), KeyStatus::Active);
        root_as_issuer.issuer = "CN-610100".into();
        let edits = Edits {
            add_issuer_keys: vec![root_as_issuer],
            ..Edits::default()
        };
        assert!(matches!(
            next_list(city.first_list(), &edits, issued, expires),
            Err(DraftError::Inconsistent(
                TrustListError::RootKeyAsIssuerKey(_)
            ))
        ));
    }
}
