//! The lists a checkpoint holds: the pinned root set, the trust list and
//! each issuer's status list, accepted by the rules of docs/trust.md
//! (T0-T7, "Highest sequence", "Stored lists", "Revocation") and re-checked
//! whenever they are loaded from storage: the trust list against the pinned
//! roots, never below the highest sequence ever accepted. The command line
//! keeps them in its state directory, a phone in IndexedDB; both offer what
//! they fetch here and persist what was accepted.

use crate::report::{ListKind, ListReport, SyncResult};
use sealpass_core::{
    KeyStatus, RootSet, StatusList, StatusListError, Timestamp, TrustList, TrustUpdate, TrustedList,
};

/// A status list held for an issuer, with the bytes it was checked from.
#[derive(Debug, Clone, Copy)]
pub struct HeldStatusList<'a> {
    pub bytes: &'a [u8],
    pub list: &'a StatusList,
}

/// Everything a checkpoint trusts, as it was checked.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// The root set the trust list must answer to: pinned at first load,
    /// then following each rotation the phone accepted (T4).
    pub pinned: Option<RootSet>,
    pub trust: Option<TrustedList>,
    /// The status lists held, one per issuer, as verification reads them
    /// (a slice, never copied per pass)...
    status_lists: Vec<StatusList>,
    /// ...and the bytes each was checked from, in the same order.
    status_list_bytes: Vec<Vec<u8>>,
    /// The highest trust-list sequence ever accepted, kept by the page in a
    /// record of its own: no stored or bootstrapped list may be older.
    pub highest_sequence: u64,
    /// Stored status lists that did not load, by issuer, and why.
    pub not_used: Vec<(String, String)>,
}

impl Lists {
    /// Pin a root-set file (`RootSet::to_cbor`): the ceremony's, at first
    /// use. Returns its fingerprint, to compare with the one read out.
    pub fn pin_roots(&mut self, bytes: &[u8]) -> Result<String, (&'static str, String)> {
        let roots = RootSet::from_cbor(bytes)
            .map_err(|e| ("bad_roots", format!("the root-set file is not valid: {e}")))?;
        let fingerprint = roots.fingerprint();
        self.pinned = Some(roots);
        Ok(fingerprint)
    }

    /// Forget the trust list, its status lists and the highest sequence
    /// accepted, and pin `roots` again: only on the custodians' word
    /// (docs/trust.md, "What the design cannot stop").
    pub fn re_pin(&mut self, roots: RootSet) {
        *self = Lists {
            pinned: Some(roots),
            ..Lists::default()
        };
    }

    /// Re-load the trust list this phone stored, against the pinned roots
    /// (`TrustedList::restore`: T1, T2, T3 against the pinned set and T4 if
    /// the list rotated it), and not older than the highest sequence ever
    /// accepted. A list signed only by roots of its own, however well, is
    /// refused: storage is not a way in. Errors: `(code, reason)`.
    pub fn load_trust_list(&mut self, bytes: &[u8]) -> Result<(), (&'static str, String)> {
        let damaged = |reason: String| ("trust_list_damaged", reason);
        let pinned = self
            .pinned
            .as_ref()
            .ok_or_else(|| damaged("no root set is pinned here to check it against".into()))?;
        let trusted = TrustedList::restore(pinned, bytes).map_err(|e| damaged(e.to_string()))?;
        let sequence = trusted.list().sequence;
        if sequence < self.highest_sequence {
            return Err((
                "rollback",
                format!(
                    "it is sequence {sequence}, older than sequence {}, the highest accepted here",
                    self.highest_sequence
                ),
            ));
        }
        self.hold_trust_list(trusted);
        self.status_lists.clear();
        self.status_list_bytes.clear();
        Ok(())
    }

    /// Hold an accepted or restored trust list: the pin follows the roots
    /// it brings (it was signed by the pinned roots and by its own, T3 and
    /// T4), and its sequence is the highest accepted if it is higher.
    fn hold_trust_list(&mut self, trusted: TrustedList) {
        let list = trusted.list();
        if self.pinned.as_ref() != Some(&list.roots) {
            self.pinned = Some(list.roots.clone());
        }
        self.highest_sequence = self.highest_sequence.max(list.sequence);
        self.trust = Some(trusted);
    }

    /// Re-load a stored status list against the trust list held. An expired
    /// one is still loaded, so that its issuer's passes are refused with
    /// `status_list_expired` rather than accepted unchecked (as the CLI).
    pub fn load_status_list(
        &mut self,
        issuer: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<(), String> {
        let trust = self.trust.as_ref().ok_or("no trust list is held")?;
        let checked = match check_stored_status_list(bytes, trust, now) {
            Ok(list) if list.issuer() != issuer => {
                Err(format!("it names issuer {}", list.issuer()))
            }
            Ok(list) => Ok(list),
            Err(e) => Err(e.to_string()),
        };
        match checked {
            Ok(list) => {
                self.hold_status_list(bytes, list);
                Ok(())
            }
            Err(reason) => {
                self.not_used.retain(|(held, _)| held != issuer);
                self.not_used.push((issuer.to_owned(), reason.clone()));
                Err(reason)
            }
        }
    }

    /// Offer a downloaded trust list: bootstrap against the pinned roots,
    /// or update the list held (T0-T7). Whatever is refused, the list held
    /// before stays; a replaced trust list drops the status lists it no
    /// longer vouches for.
    pub fn offer_trust_list(&mut self, location: &str, bytes: &[u8], now: Timestamp) -> ListReport {
        let mut report = ListReport::new(ListKind::TrustList, None, location);
        report.previous_sequence = self.trust.as_ref().map(|t| t.list().sequence);
        let offered = match (&self.trust, &self.pinned) {
            (Some(held), _) => held.update(bytes, now),
            // Starting again (first use, or the stored list was damaged):
            // never below the highest sequence ever accepted.
            (None, Some(roots)) => {
                TrustedList::bootstrap_at_least(roots, bytes, now, self.highest_sequence)
                    .map(TrustUpdate::Replaced)
            }
            (None, None) => {
                return report.refused(
                    "no_roots",
                    "nothing is trusted yet: pin the root-set file from the key ceremony".into(),
                );
            }
        }
        .map_err(|e| (e.code(), e.to_string()));
        match offered {
            Ok(TrustUpdate::Unchanged) => report.result = SyncResult::Unchanged,
            Ok(TrustUpdate::Replaced(accepted)) => {
                report.result = if self.trust.is_some() {
                    SyncResult::Replaced
                } else {
                    SyncResult::Bootstrapped
                };
                let (lists, bytes): (Vec<StatusList>, Vec<Vec<u8>>) =
                    std::mem::take(&mut self.status_list_bytes)
                        .into_iter()
                        .filter_map(|bytes| {
                            let list = check_stored_status_list(&bytes, &accepted, now).ok()?;
                            Some((list, bytes))
                        })
                        .unzip();
                self.hold_trust_list(accepted);
                self.status_lists = lists;
                self.status_list_bytes = bytes;
            }
            Err((code, reason)) => report = report.refused(code, reason),
        }
        report.describe_trust(self.trust.as_ref());
        report
    }

    /// Offer one issuer's downloaded status list: it must verify against
    /// the trust list held, name this issuer, and not be older than the one
    /// held (a rollback would un-revoke passes).
    pub fn offer_status_list(
        &mut self,
        issuer: &str,
        location: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> ListReport {
        let mut report = ListReport::new(ListKind::StatusList, Some(issuer), location);
        let Some(trust) = &self.trust else {
            return report.refused("no_trust_list", "no trust list is held".into());
        };
        let held_issued_at = self.held(issuer).map(|held| held.list.issued_at());
        if let Some(held) = self.held(issuer) {
            report.describe_status(held.list);
            if held.bytes == bytes {
                report.result = SyncResult::Unchanged;
                return report;
            }
        }
        let list = match StatusList::verify(bytes, trust, now) {
            Ok(list) => list,
            Err(e) => return report.refused(e.code(), e.to_string()),
        };
        if list.issuer() != issuer {
            let reason = format!("it is the status list of issuer {}", list.issuer());
            return report.refused("issuer_mismatch", reason);
        }
        if let Some(held) = held_issued_at.filter(|&held| list.issued_at() < held) {
            let reason = format!(
                "issued {}, before the one held ({held}): rollback refused",
                list.issued_at()
            );
            return report.refused("rollback", reason);
        }
        report.describe_status(&list);
        report.result = SyncResult::Accepted;
        self.hold_status_list(bytes, list);
        report
    }

    /// A report for a list that could not be downloaded; the one held stays.
    pub fn unavailable(
        &self,
        list: ListKind,
        issuer: Option<&str>,
        location: &str,
        code: &'static str,
        reason: String,
    ) -> ListReport {
        let mut report =
            ListReport::new(list, issuer, location).failed(SyncResult::Unavailable, code, reason);
        match issuer.and_then(|issuer| self.held(issuer)) {
            Some(held) => report.describe_status(held.list),
            None if issuer.is_none() => report.describe_trust(self.trust.as_ref()),
            None => {}
        }
        report
    }

    pub fn held(&self, issuer: &str) -> Option<HeldStatusList<'_>> {
        let at = self
            .status_lists
            .iter()
            .position(|l| l.issuer() == issuer)?;
        Some(HeldStatusList {
            bytes: &self.status_list_bytes[at],
            list: &self.status_lists[at],
        })
    }

    /// The status lists held, for `Verifier::with_status_lists`.
    pub fn status_lists(&self) -> &[StatusList] {
        &self.status_lists
    }

    /// The issuers whose passes cannot be checked for revocation at `now`:
    /// no status list held, or the one held has expired. Their passes are
    /// not decided (`revocation_not_checked`, `status_list_expired`) unless
    /// the policy accepts unchecked revocation.
    pub fn unchecked_issuers(&self, now: Timestamp) -> Vec<String> {
        let Some(trust) = &self.trust else {
            return Vec::new();
        };
        issuers(trust.list())
            .into_iter()
            .map(|(issuer, _)| issuer)
            .filter(|issuer| {
                self.held(issuer)
                    .is_none_or(|held| now >= held.list.expires_at())
            })
            .collect()
    }

    fn hold_status_list(&mut self, bytes: &[u8], list: StatusList) {
        self.not_used.retain(|(issuer, _)| issuer != list.issuer());
        if let Some(at) = self
            .status_lists
            .iter()
            .position(|l| l.issuer() == list.issuer())
        {
            self.status_lists.remove(at);
            self.status_list_bytes.remove(at);
        }
        self.status_lists.push(list);
        self.status_list_bytes.push(bytes.to_vec());
    }
}

/// A stored status list re-checked against `trust`; an expired one is
/// checked at the last second it was valid (the command line's rule).
pub fn check_stored_status_list(
    bytes: &[u8],
    trust: &TrustedList,
    now: Timestamp,
) -> Result<StatusList, StatusListError> {
    match StatusList::verify(bytes, trust, now) {
        Err(StatusListError::Expired { expired_at, .. }) if expired_at.0 > 0 => {
            StatusList::verify(bytes, trust, Timestamp(expired_at.0 - 1))
        }
        other => other,
    }
}

/// The issuers a trust list admits passes from (a key that is not
/// revoked), in list order, each with the status-list URL its keys name (an
/// active key's before a retired key's), as the command line syncs them.
pub fn issuers(list: &TrustList) -> Vec<(String, Option<String>)> {
    let mut issuers: Vec<(String, Option<String>)> = Vec::new();
    let mut keys: Vec<_> = list
        .issuer_keys
        .iter()
        .filter(|key| key.status != KeyStatus::Revoked)
        .collect();
    keys.sort_by_key(|key| key.status != KeyStatus::Active);
    for key in keys {
        match issuers.iter_mut().find(|(issuer, _)| *issuer == key.issuer) {
            Some((_, url)) => {
                if url.is_none() {
                    url.clone_from(&key.status_list_url);
                }
            }
            None => issuers.push((key.issuer.clone(), key.status_list_url.clone())),
        }
    }
    issuers
}

/// An issuer id as a URL path segment, as the command line's sync layout
/// names it: letters, digits, `-` and `_` stay; other bytes become `%XX`.
pub fn issuer_file_stem(issuer: &str) -> String {
    let mut stem = String::with_capacity(issuer.len());
    for byte in issuer.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            stem.push(byte as char);
        } else {
            stem.push_str(&format!("%{byte:02X}"));
        }
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_ids_become_safe_file_names() {
        assert_eq!(issuer_file_stem("CN-610100"), "CN-610100");
        assert_eq!(issuer_file_stem("../etc/passwd"), "%2E%2E%2Fetc%2Fpasswd");
        assert_eq!(issuer_file_stem("西安"), "%E8%A5%BF%E5%AE%89");
    }
}
