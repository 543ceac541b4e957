//! Trust lists and drafts in words a custodian understands: what the list
//! says, who signed it, which signatures do not count and why, and what
//! changed since the current list.

use crate::card::fingerprint;
use sealpass_core::{
    Counted, IssuerKey, KeyStatus, RootSet, SignedTrustList, Timestamp, TrustList,
};
use std::fmt::Write;

/// The whole list: dates, root set, issuer keys, and the signatures counted
/// against each root set in `against` (role name, roots), or against the
/// list's own roots if `against` is empty.
pub fn describe(signed: &SignedTrustList, against: &[(&str, &RootSet)], now: Timestamp) -> String {
    let list = signed.list();
    let mut out = String::new();
    let _ = writeln!(out, "trust list, sequence {}", list.sequence);
    let _ = writeln!(out, "  issued:  {}", list.issued_at);
    let _ = writeln!(
        out,
        "  expires: {} ({})",
        list.expires_at,
        relative(list.expires_at, now)
    );
    let _ = writeln!(
        out,
        "  root set: any {} of these {} custodians must sign (root-set fingerprint {})",
        list.roots.threshold,
        list.roots.keys.len(),
        list.roots.fingerprint()
    );
    for (i, key) in list.roots.keys.iter().enumerate() {
        let _ = writeln!(
            out,
            "    {}. {} (key id {})",
            i + 1,
            key.custodian,
            key.kid()
        );
    }
    let _ = writeln!(out, "  issuer keys: {}", list.issuer_keys.len());
    for key in &list.issuer_keys {
        let _ = writeln!(out, "    - {}", issuer_key_line(key));
    }
    let own = [("its own", &list.roots)];
    let against = if against.is_empty() {
        &own[..]
    } else {
        against
    };
    let _ = writeln!(out, "  signatures: {}", signed.signatures().len());
    for (role, roots) in against {
        let tally = signed.count_root_signatures(roots);
        let _ = writeln!(out, "  counted against {role} root set:");
        for (i, counted) in tally.signatures.iter().enumerate() {
            let kid = signed.signatures()[i].kid;
            let line = match counted {
                Counted::Valid(at) => format!("{}: valid, counts", roots.keys[*at].custodian),
                Counted::Duplicate(at) => format!(
                    "{}: signed a second time, does not count again",
                    roots.keys[*at].custodian
                ),
                Counted::NotARoot(_) => {
                    format!("key id {kid}: not a custodian of this root set, does not count")
                }
                Counted::Invalid(at) => format!(
                    "{}: DOES NOT VERIFY (the list was changed after signing, or the signature is damaged), does not count",
                    roots.keys[*at].custodian
                ),
                Counted::WrongAlgorithm(_) => {
                    format!("key id {kid}: not an Ed25519 signature, does not count")
                }
            };
            let _ = writeln!(out, "    {}. {line}", i + 1);
        }
        let verdict = if tally.meets_threshold() {
            "threshold met"
        } else {
            "threshold NOT met"
        };
        let _ = writeln!(
            out,
            "    {} distinct custodians signed, {} required: {verdict}",
            tally.distinct_valid(),
            tally.threshold
        );
    }
    out
}

/// What `new` changes compared with `old`, one line per change.
pub fn changes(old: &TrustList, new: &TrustList) -> Vec<String> {
    let mut lines = vec![format!(
        "sequence {} -> {}; expires {}",
        old.sequence, new.sequence, new.expires_at
    )];
    for key in &old.roots.keys {
        if new.roots.position(key.kid()).is_none() {
            lines.push(format!(
                "custodian removed: {} (key id {})",
                key.custodian,
                key.kid()
            ));
        }
    }
    for key in &new.roots.keys {
        if old.roots.position(key.kid()).is_none() {
            lines.push(format!(
                "custodian added: {} (key id {})",
                key.custodian,
                key.kid()
            ));
        }
    }
    if old.roots.threshold != new.roots.threshold {
        lines.push(format!(
            "threshold {} -> {}",
            old.roots.threshold, new.roots.threshold
        ));
    }
    for key in &new.issuer_keys {
        match old.issuer_key(key.kid()) {
            None => lines.push(format!("issuer key added: {}", issuer_key_line(key))),
            Some(before) if before != key => {
                lines.push(format!("issuer key changed: {}", issuer_key_line(key)))
            }
            Some(_) => {}
        }
    }
    for key in &old.issuer_keys {
        if new.issuer_key(key.kid()).is_none() {
            lines.push(format!("issuer key dropped from the list: {}", key.kid()));
        }
    }
    lines
}

/// The root set in words, for `roots show` and `roots export`.
pub fn describe_roots(roots: &RootSet) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "root set: any {} of these {} custodians must sign",
        roots.threshold,
        roots.keys.len()
    );
    for (i, key) in roots.keys.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, key.custodian);
        let _ = writeln!(out, "     fingerprint {}", fingerprint(&key.public_key));
    }
    let _ = writeln!(
        out,
        "root-set fingerprint (SHA-256 of the file): {}",
        roots.fingerprint()
    );
    out
}

fn issuer_key_line(key: &IssuerKey) -> String {
    let status = match key.status {
        KeyStatus::Active => "active".to_string(),
        KeyStatus::Retired => "retired (signs no more; its earlier passes stay valid)".into(),
        KeyStatus::Revoked => "REVOKED (nothing it ever signed is accepted)".into(),
    };
    let url = key
        .status_list_url
        .as_deref()
        .map(|url| format!("; status list at {url}"))
        .unwrap_or_else(|| "; no status list".into());
    let window = match key.status {
        KeyStatus::Active => "may sign",
        _ => "was to sign",
    };
    let lifetime = match key.max_pass_lifetime {
        Some(max) => format!("passes of at most {max}"),
        None => format!(
            "no maximum pass lifetime (format version 1: {} applies)",
            sealpass_core::LEGACY_MAX_PASS_LIFETIME
        ),
    };
    format!(
        "{} key id {}: {status}; {window} from {} to {}; {lifetime}{url}",
        key.issuer,
        key.kid(),
        key.not_before,
        key.not_after
    )
}

fn relative(at: Timestamp, now: Timestamp) -> String {
    if at > now {
        format!("in {}", at.since(now))
    } else {
        format!("EXPIRED {} ago", now.since(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{City, NOW};

    #[test]
    fn describes_signatures_and_threshold() {
        let city = City::new();
        let signed = SignedTrustList::from_bytes(city.signed_first_list()).unwrap();
        let text = describe(&signed, &[], NOW);
        assert!(text.contains("trust list, sequence 1"), "{text}");
        assert!(text.contains("any 3 of these 5 custodians"), "{text}");
        assert!(text.contains("1. custodian 1: valid, counts"), "{text}");
        assert!(text.contains("3 distinct custodians signed, 3 required: threshold met"));
        assert!(text.contains("CN-610100 key id"), "{text}");
    }
}
