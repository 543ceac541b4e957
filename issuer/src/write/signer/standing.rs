//! Whether the trust list lets the issuer key sign: checked when a signer
//! starts, so a key the ceremony retired, revoked or never listed signs
//! nothing that every checkpoint would refuse (docs/issuer.md, "The
//! signer's key and the trust list").

use sealpass_core::{KeyStatus, Kid, Seconds, Timestamp, TrustList};
use thiserror::Error;

/// Why the trust list does not let a key sign passes now.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UntrustedKey {
    #[error("trust list {sequence} does not name the issuer key {kid}")]
    NotListed { sequence: u64, kid: Kid },
    #[error("trust list {sequence} names the key {kid} for issuer {listed}, not for {issuer}")]
    OtherIssuer {
        sequence: u64,
        kid: Kid,
        listed: String,
        issuer: String,
    },
    #[error("trust list {sequence} marks the key {kid} {status}: it may no longer sign")]
    NotActive {
        sequence: u64,
        kid: Kid,
        status: &'static str,
    },
    #[error("the key {kid} may sign from {not_before} to {not_after}, and it is now {now}")]
    OutsideWindow {
        kid: Kid,
        not_before: Timestamp,
        not_after: Timestamp,
        now: Timestamp,
    },
    #[error(
        "the signer would sign for {lifetime}, but trust list {sequence} lets the key {kid} sign for at most {max}: checkpoints would refuse every pass. Shorten --validity (or --status-list-validity), or have the custodians raise the key's maximum pass lifetime"
    )]
    LifetimeTooLong {
        sequence: u64,
        kid: Kid,
        lifetime: Seconds,
        max: Seconds,
    },
}

/// Ok if `list` names `kid` as an active key of `issuer` whose signing
/// window holds `now` and whose maximum pass lifetime covers `lifetime`,
/// the longest the signer makes a pass or status list valid; otherwise why
/// checkpoints would refuse what it signs.
pub fn key_standing(
    list: &TrustList,
    kid: Kid,
    issuer: &str,
    now: Timestamp,
    lifetime: Seconds,
) -> Result<(), UntrustedKey> {
    let sequence = list.sequence;
    let key = list
        .issuer_key(kid)
        .ok_or(UntrustedKey::NotListed { sequence, kid })?;
    if key.issuer != issuer {
        return Err(UntrustedKey::OtherIssuer {
            sequence,
            kid,
            listed: key.issuer.clone(),
            issuer: issuer.to_owned(),
        });
    }
    if key.status != KeyStatus::Active {
        return Err(UntrustedKey::NotActive {
            sequence,
            kid,
            status: key.status.name(),
        });
    }
    if now < key.not_before || now > key.not_after {
        return Err(UntrustedKey::OutsideWindow {
            kid,
            not_before: key.not_before,
            not_after: key.not_after,
            now,
        });
    }
    let max = key.pass_lifetime_limit();
    if lifetime > max {
        return Err(UntrustedKey::LifetimeTooLong {
            sequence,
            kid,
            lifetime,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::testkit::{City, ISSUER, NOW};
    use sealpass_core::{Seconds, Signer};

    const DAY: Seconds = Seconds::hours(24);

    /// The review's finding 4 at the issuer: a signer configured for
    /// passes longer than its key's maximum lifetime would sign passes
    /// every checkpoint refuses.
    #[test]
    fn a_key_stands_only_for_passes_within_its_lifetime_bound() {
        let city = City::new();
        let list = city.trusted().list().clone();
        let kid = city.active.kid();
        assert_eq!(
            key_standing(&list, kid, ISSUER, NOW, Seconds::days(2)),
            Ok(())
        );
        assert!(matches!(
            key_standing(&list, kid, ISSUER, NOW, Seconds(Seconds::days(2).0 + 1)),
            Err(UntrustedKey::LifetimeTooLong { .. })
        ));
    }

    #[test]
    fn only_an_active_listed_key_of_this_issuer_inside_its_window_stands() {
        let city = City::new();
        let mut list = city.trusted().list().clone();
        let kid = city.active.kid();
        assert_eq!(key_standing(&list, kid, ISSUER, NOW, DAY), Ok(()));

        let stranger = Kid::of(&[7; 32]);
        assert!(matches!(
            key_standing(&list, stranger, ISSUER, NOW, DAY),
            Err(UntrustedKey::NotListed { .. })
        ));
        assert!(matches!(
            key_standing(&list, kid, "CN-440100", NOW, DAY),
            Err(UntrustedKey::OtherIssuer { .. })
        ));
        let key = list
            .issuer_keys
            .iter()
            .position(|k| k.kid() == kid)
            .unwrap();
        let window = (
            list.issuer_keys[key].not_before,
            list.issuer_keys[key].not_after,
        );
        assert!(matches!(
            key_standing(&list, kid, ISSUER, window.1.plus(Seconds(1)), DAY),
            Err(UntrustedKey::OutsideWindow { .. })
        ));
        assert!(matches!(
            key_standing(&list, kid, ISSUER, Timestamp(window.0.0 - 1), DAY),
            Err(UntrustedKey::OutsideWindow { .. })
        ));
        for status in [KeyStatus::Retired, KeyStatus::Revoked] {
            list.issuer_keys[key].status = status;
            let refused = key_standing(&list, kid, ISSUER, NOW, DAY).unwrap_err();
            assert!(refused.to_string().contains(status.name()), "{refused}");
        }
    }
}
