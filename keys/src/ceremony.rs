//! Signing a draft and finalizing it: the custodian-side checks around the
//! core's one counting function, [`SignedTrustList::count_root_signatures`],
//! and its update rules T1-T6 (docs/trust.md), which decide in the end.

use sealpass_core::cose;
use sealpass_core::trust::EnvelopeError;
use sealpass_core::{
    Counted, Kid, RootSet, SignatureTally, SignedTrustList, Signer, SignerError, Timestamp,
    TrustUpdate, TrustUpdateError, TrustedList,
};
use thiserror::Error;

/// What a new list is checked against: the root set pinned for the very first
/// list, or the list verifiers hold now.
#[derive(Debug, Clone)]
pub enum Basis {
    Pinned(RootSet),
    Current(TrustedList),
}

impl Basis {
    /// The current list, re-checked against its own roots (T1-T3).
    pub fn current(bytes: &[u8]) -> Result<Basis, TrustUpdateError> {
        TrustedList::from_stored(bytes).map(Basis::Current)
    }

    pub fn roots(&self) -> &RootSet {
        match self {
            Basis::Pinned(roots) => roots,
            Basis::Current(list) => &list.list().roots,
        }
    }

    /// How the custodians call this root set.
    pub fn role_name(&self) -> &'static str {
        match self {
            Basis::Pinned(_) => "pinned",
            Basis::Current(_) => "current",
        }
    }

    pub fn sequence(&self) -> u64 {
        match self {
            Basis::Pinned(_) => 0,
            Basis::Current(list) => list.list().sequence,
        }
    }

    /// Run the core's update rules exactly as a verifier will.
    pub fn accept(
        &self,
        candidate: &[u8],
        now: Timestamp,
    ) -> Result<TrustedList, TrustUpdateError> {
        match self {
            Basis::Pinned(roots) => TrustedList::bootstrap(roots, candidate, now),
            Basis::Current(list) => match list.update(candidate, now)? {
                TrustUpdate::Replaced(accepted) => Ok(accepted),
                // T0: the very list verifiers hold already; not a new one.
                TrustUpdate::Unchanged => Err(TrustUpdateError::Rollback {
                    current: list.list().sequence,
                    candidate: list.list().sequence,
                }),
            },
        }
    }
}

/// Why a custodian's signature was not added.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("the draft cannot be read: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error(
        "key {kid} ({name}) is not a custodian of this draft's root set{current}: its signature would count for nothing, so it was not added"
    )]
    NotACustodian {
        kid: Kid,
        name: String,
        current: &'static str,
    },
    #[error(
        "{custodian} (key id {kid}) already signed this draft (signature {position}); each custodian signs once: pass the draft on to the next custodian"
    )]
    AlreadySigned {
        custodian: String,
        kid: Kid,
        position: usize,
    },
    #[error(
        "the draft was changed after it was signed: the signature of {0} does not verify over its content. Do not sign it; get the draft as it was drafted and compare its SHA-256 with the transcript"
    )]
    Tampered(String),
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// Check that the custodian with key id `kid` may sign the draft: one of the
/// draft's custodians (or of the current list's, for a rotation), not signed
/// yet, and every signature already there still verifies. Run before the
/// passphrase is asked for, and again by [`sign_draft`].
pub fn check_can_sign(
    draft: &[u8],
    current: Option<&RootSet>,
    kid: Kid,
    name: &str,
) -> Result<SignedTrustList, SignError> {
    let signed = SignedTrustList::from_bytes(draft)?;
    let own_roots = &signed.list().roots;
    if own_roots.position(kid).is_none()
        && current.is_none_or(|roots| roots.position(kid).is_none())
    {
        return Err(SignError::NotACustodian {
            kid,
            name: name.into(),
            current: if current.is_some() {
                " nor of the current list"
            } else {
                " (a custodian rotated out signs with --current pointing to the current list)"
            },
        });
    }
    if let Some(position) = signed.signatures().iter().position(|s| s.kid == kid) {
        return Err(SignError::AlreadySigned {
            custodian: name.into(),
            kid,
            position: position + 1,
        });
    }
    for roots in std::iter::once(own_roots).chain(current) {
        if let Some(name) = invalid_signers(&signed.count_root_signatures(roots), roots).first() {
            return Err(SignError::Tampered(name.clone()));
        }
    }
    Ok(signed)
}

/// Add `signer`'s signature to the draft after [`check_can_sign`].
pub fn sign_draft(
    draft: &[u8],
    current: Option<&RootSet>,
    signer: &dyn Signer,
    signer_name: &str,
) -> Result<Vec<u8>, SignError> {
    let mut signed = check_can_sign(draft, current, signer.kid(), signer_name)?;
    signed.add_signature(signer)?;
    Ok(signed.to_bytes())
}

/// Why a draft could not be finalized.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FinalizeError {
    #[error("the draft cannot be read: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error(
        "the draft was changed after it was signed: the signature of {0} does not verify over its content. Nothing was written; get the draft as drafted (its SHA-256 is in the transcript) and have it signed again"
    )]
    Tampered(String),
    #[error(
        "sequence {candidate} is not higher than the current list's {current}: verifiers would refuse it as a rollback. Draft again from the current list"
    )]
    Rollback { current: u64, candidate: u64 },
    #[error(
        "signed by {signed} distinct custodians of the {role} root set ({names}); {threshold} are needed. Still to sign: {missing} more of {candidates}"
    )]
    BelowThreshold {
        role: &'static str,
        signed: u32,
        threshold: u32,
        names: String,
        missing: u32,
        candidates: String,
    },
    #[error("verifiers would refuse this list: {0}")]
    Refused(#[from] TrustUpdateError),
}

/// A list ready to publish, and what was left out of it.
#[derive(Debug)]
pub struct Finalized {
    pub bytes: Vec<u8>,
    pub accepted: TrustedList,
    /// Signatures that counted for no root set and were not published.
    pub dropped: Vec<String>,
}

/// Check a signed draft against `basis` and produce the list verifiers
/// download: tampering, rollback and both thresholds (T3, and T4 for a
/// rotation) are explained in custodians' terms, signatures that count for
/// nothing are dropped, and the core's rules T1-T6 have the last word.
pub fn finalize(draft: &[u8], basis: &Basis, now: Timestamp) -> Result<Finalized, FinalizeError> {
    let signed = SignedTrustList::from_bytes(draft)?;
    let list = signed.list();
    let current = basis.roots();
    let mut sets = vec![(basis.role_name(), current)];
    if list.roots != *current {
        sets.push(("incoming", &list.roots));
    }
    let tallies: Vec<_> = sets
        .iter()
        .map(|(role, roots)| (*role, *roots, signed.count_root_signatures(roots)))
        .collect();
    for (_, roots, tally) in &tallies {
        if let Some(name) = invalid_signers(tally, roots).first() {
            return Err(FinalizeError::Tampered(name.clone()));
        }
    }
    if list.sequence <= basis.sequence() {
        return Err(FinalizeError::Rollback {
            current: basis.sequence(),
            candidate: list.sequence,
        });
    }
    for (role, roots, tally) in &tallies {
        if !tally.meets_threshold() {
            return Err(below_threshold(role, roots, tally));
        }
    }
    let mut dropped = Vec::new();
    let keep: Vec<bool> = (0..signed.signatures().len())
        .map(|i| {
            let counts = tallies
                .iter()
                .any(|(_, _, tally)| matches!(tally.signatures[i], Counted::Valid(_)));
            if !counts {
                let kid = signed.signatures()[i].kid;
                let why = match tallies[0].2.signatures[i] {
                    Counted::Duplicate(_) => "a repeated signature",
                    _ => "not a custodian of either root set",
                };
                dropped.push(format!("signature {} by key {kid}: {why}", i + 1));
            }
            counts
        })
        .collect();
    let bytes = keep_signatures(draft, &keep)?;
    let accepted = basis.accept(&bytes, now)?;
    Ok(Finalized {
        bytes,
        accepted,
        dropped,
    })
}

/// Names of the roots whose signatures are present but do not verify.
fn invalid_signers(tally: &SignatureTally, roots: &RootSet) -> Vec<String> {
    tally
        .signatures
        .iter()
        .filter_map(|counted| match counted {
            Counted::Invalid(index) => Some(custodian_name(roots, *index)),
            _ => None,
        })
        .collect()
}

fn custodian_name(roots: &RootSet, index: usize) -> String {
    let key = &roots.keys[index];
    format!("{} (key id {})", key.custodian, key.kid())
}

fn below_threshold(role: &'static str, roots: &RootSet, tally: &SignatureTally) -> FinalizeError {
    let mut signed_by = vec![false; roots.keys.len()];
    for counted in &tally.signatures {
        if let Counted::Valid(index) = counted {
            signed_by[*index] = true;
        }
    }
    let list = |want: bool| {
        let names: Vec<String> = (0..roots.keys.len())
            .filter(|&i| signed_by[i] == want)
            .map(|i| roots.keys[i].custodian.clone())
            .collect();
        if names.is_empty() {
            "nobody".to_string()
        } else {
            names.join(", ")
        }
    };
    FinalizeError::BelowThreshold {
        role,
        signed: tally.distinct_valid(),
        threshold: tally.threshold,
        names: list(true),
        missing: tally.threshold - tally.distinct_valid(),
        candidates: list(false),
    }
}

/// The same COSE_Sign with only the signatures marked `keep`; the payload
/// bytes are carried over untouched.
fn keep_signatures(draft: &[u8], keep: &[bool]) -> Result<Vec<u8>, EnvelopeError> {
    let parsed = cose::parse_sign(draft).map_err(EnvelopeError::from)?;
    let signatures: Vec<(Vec<u8>, [u8; 64])> = parsed
        .signatures
        .iter()
        .zip(keep)
        .filter(|(_, keep)| **keep)
        .map(|(s, _)| (s.protected.bytes.to_vec(), s.signature))
        .collect();
    Ok(cose::encode_sign(parsed.payload, &signatures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{City, NOW};
    use sealpass_core::{Seconds, TrustList};

    fn draft(city: &City) -> (TrustList, Vec<u8>) {
        let mut list = city.first_list().clone();
        list.sequence = 2;
        (list.clone(), SignedTrustList::draft(list).to_bytes())
    }

    fn sign_by(city: &City, mut draft: Vec<u8>, who: &[usize]) -> Vec<u8> {
        for &i in who {
            draft = sign_draft(&draft, None, city.custodian(i + 1), "c").unwrap();
        }
        draft
    }

    #[test]
    fn three_of_five_finalizes_and_the_core_accepts_it() {
        let city = City::new();
        let (_, unsigned) = draft(&city);
        let signed = sign_by(&city, unsigned, &[0, 3, 4]);
        let basis = Basis::current(city.signed_first_list()).unwrap();
        let done = finalize(&signed, &basis, NOW).unwrap();
        assert!(done.dropped.is_empty());
        assert_eq!(done.accepted.list().sequence, 2);
    }

    #[test]
    fn two_of_five_is_below_threshold_and_says_who_is_missing() {
        let city = City::new();
        let (_, unsigned) = draft(&city);
        let signed = sign_by(&city, unsigned, &[0, 1]);
        let basis = Basis::current(city.signed_first_list()).unwrap();
        let err = finalize(&signed, &basis, NOW).unwrap_err().to_string();
        assert!(err.contains("signed by 2 distinct custodians"), "{err}");
        assert!(
            err.contains("1 more of custodian 3, custodian 4, custodian 5"),
            "{err}"
        );
    }

    #[test]
    fn a_second_signature_and_an_outsider_are_refused_when_signing() {
        let city = City::new();
        let (_, unsigned) = draft(&city);
        let once = sign_by(&city, unsigned, &[0]);
        let twice = sign_draft(&once, None, city.custodian(1), "custodian 1").unwrap_err();
        assert!(matches!(
            twice,
            SignError::AlreadySigned { position: 1, .. }
        ));
        let err = sign_draft(&once, None, &city.outsider, "mallory").unwrap_err();
        assert!(matches!(err, SignError::NotACustodian { .. }));
    }

    #[test]
    fn a_tampered_draft_is_refused_by_signing_and_finalizing() {
        let city = City::new();
        let (mut list, unsigned) = draft(&city);
        let signed = sign_by(&city, unsigned, &[0, 1, 2]);
        // Re-wrap the same signatures around a list with an extra day of life.
        list.expires_at = list.expires_at.plus(Seconds::days(1));
        let parsed = cose::parse_sign(&signed).unwrap();
        let signatures: Vec<_> = parsed
            .signatures
            .iter()
            .map(|s| (s.protected.bytes.to_vec(), s.signature))
            .collect();
        let tampered = cose::encode_sign(&list.to_cbor(), &signatures);
        let basis = Basis::current(city.signed_first_list()).unwrap();
        assert!(matches!(
            finalize(&tampered, &basis, NOW),
            Err(FinalizeError::Tampered(_))
        ));
        assert!(matches!(
            sign_draft(&tampered, None, city.custodian(4), "custodian 4"),
            Err(SignError::Tampered(_))
        ));
    }

    #[test]
    fn an_equal_sequence_is_a_rollback() {
        let city = City::new();
        let unsigned = SignedTrustList::draft(city.first_list().clone()).to_bytes();
        let signed = sign_by(&city, unsigned, &[0, 1, 2]);
        let basis = Basis::current(city.signed_first_list()).unwrap();
        assert!(matches!(
            finalize(&signed, &basis, NOW),
            Err(FinalizeError::Rollback {
                current: 1,
                candidate: 1
            })
        ));
    }

    #[test]
    fn signatures_that_count_for_nothing_are_dropped() {
        let city = City::new();
        let (list, _) = draft(&city);
        let mut draft = SignedTrustList::draft(list);
        for key in [city.custodian(1), &city.outsider] {
            draft.add_signature(key).unwrap();
        }
        let mut bytes = draft.to_bytes();
        bytes = sign_by(&city, bytes, &[1, 2]);
        let basis = Basis::current(city.signed_first_list()).unwrap();
        let done = finalize(&bytes, &basis, NOW).unwrap();
        assert_eq!(done.dropped.len(), 1);
        assert!(done.dropped[0].starts_with("signature 2 by key"));
        assert_eq!(
            SignedTrustList::from_bytes(&done.bytes)
                .unwrap()
                .signatures()
                .len(),
            3
        );
    }
}
