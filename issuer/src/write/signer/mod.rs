//! The signer: the only part of the issuer that holds the issuer key.
//!
//! A **round** signs every subject that is due (a status change, no pass
//! yet, or a pass to renew) in the due pass pages (`store::pages`, 64
//! subjects a page), through a three-stage pipeline: read pages and reserve
//! revocation indices, sign on all threads, store the pages; the three
//! stages overlap. Then it keeps the status list current. Every step is
//! idempotent: a page is stored only if nothing changed it since it was
//! read (its revision; else it stays due), and storing it moves the page's
//! `due_at` to its next renewal, so a round interrupted anywhere is
//! finished by the next one, with nothing skipped and nothing stored twice.
//!
//! Schedule (docs/issuer.md, "The signer's schedule"): a pass is valid for
//! `validity` minus a jitter in `[0, jitter)`, spread evenly over the
//! subjects of a round in the order they are signed
//! ([`SignerConfig::expiry`]), so renewals spread out instead of coming as
//! one wave; it is renewed when `renew_before` of it is left.

pub mod index;
mod leases;
mod round;
mod standing;
mod status_list;

pub use standing::{UntrustedKey, key_standing};

use crate::shared::mix;
use crate::store::{Store, StoreError};
use sealpass_core::{Kid, Seconds, Signer, SignerError, Timestamp};
use std::sync::Arc;
use thiserror::Error;

/// When and how passes and status lists are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerConfig {
    /// The issuer id passes carry, e.g. `CN-610100`.
    pub issuer: String,
    /// Longest validity of a pass.
    pub validity: Seconds,
    /// Renew a pass when this much of it is left.
    pub renew_before: Seconds,
    /// Expiry is `validity` minus a per-subject jitter below this.
    pub jitter: Seconds,
    /// The clock skew verifiers allow (docs/format.md: 5 minutes).
    pub clock_skew: Seconds,
    /// Validity of a signed status list.
    pub status_list_validity: Seconds,
    /// Re-sign the status list when this much of it is left.
    pub status_list_renew_before: Seconds,
    /// Subjects read, signed and stored at a time, in whole pass pages of
    /// 64 (`store::pages`).
    pub batch: usize,
    /// Signing threads.
    pub threads: usize,
}

impl SignerConfig {
    pub fn new(issuer: &str) -> SignerConfig {
        SignerConfig {
            issuer: issuer.into(),
            validity: Seconds::hours(24),
            renew_before: Seconds::hours(8),
            jitter: Seconds::hours(4),
            clock_skew: Seconds::minutes(5),
            status_list_validity: Seconds::hours(6),
            status_list_renew_before: Seconds::hours(3),
            batch: 4096,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// Refuse a schedule under which passes would be due at once, or
    /// revocation indices could be reused while a pass might still be seen.
    pub fn check(&self) -> Result<(), String> {
        if self.jitter.0 + self.renew_before.0 >= self.validity.0 {
            return Err(format!(
                "jitter ({}) plus renew-before ({}) must be shorter than the validity ({})",
                self.jitter, self.renew_before, self.validity
            ));
        }
        let lifetime = self.validity.0 + self.clock_skew.0 + self.status_list_validity.0;
        if lifetime > index::max_lifetime().0 {
            return Err(format!(
                "validity + clock skew + status-list validity must be at most {} (revocation indices are reused after that)",
                index::max_lifetime()
            ));
        }
        if self.status_list_renew_before.0 >= self.status_list_validity.0 {
            return Err("status-list renew-before must be shorter than its validity".into());
        }
        if self.batch == 0 || self.threads == 0 {
            return Err("batch size and threads must be at least 1".into());
        }
        Ok(())
    }

    /// When a pass for subject `id`, at status `version`, issued `now`,
    /// expires, when it is the `rank`-th (from 0) of `of` subjects signed in
    /// one round: `validity` minus a jitter in `[0, jitter)`.
    ///
    /// The jitter window is cut into `of` equal strata and the `rank`-th
    /// subject gets a point of the `rank`-th stratum from the top, derived
    /// from subject, status version and time. So a round's expiries (and
    /// the renewals they make due) spread evenly over the window, a round of
    /// one subject draws its jitter from the whole window, and the `due_at`
    /// a round stores rises in the order it signs: the due index grows at
    /// one place instead of at random ones, which on SQLite made storing
    /// first passes several times cheaper (docs/performance.md, "Issuer:
    /// bulk signing").
    pub fn expiry(&self, id: i64, version: i64, now: Timestamp, rank: u64, of: u64) -> Timestamp {
        let of = of.max(rank + 1);
        let point = mix(id as u64 ^ (version as u64).rotate_left(32) ^ now.0) >> 32;
        let stratum = u128::from(of - 1 - rank);
        let jitter = (u128::from(self.jitter.0) * ((stratum << 32) + u128::from(point))
            / (u128::from(of) << 32)) as u64;
        now.plus(Seconds(self.validity.0 - jitter))
    }
}

/// The issuer key, shareable across signing threads, with its kid computed
/// once.
#[derive(Clone)]
pub struct IssuerKey {
    inner: Arc<dyn Signer + Send + Sync>,
    kid: Kid,
}

impl IssuerKey {
    pub fn new(inner: Arc<dyn Signer + Send + Sync>) -> IssuerKey {
        let kid = inner.kid();
        IssuerKey { inner, kid }
    }
}

impl Signer for IssuerKey {
    fn public_key(&self) -> [u8; 32] {
        self.inner.public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        self.inner.sign(message)
    }
    fn kid(&self) -> Kid {
        self.kid
    }
    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignerError> {
        self.inner.sign_batch(messages)
    }
}

/// Why a round stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] SignerError),
    #[error("the revocation index space is exhausted (offset {0})")]
    IndexSpace(i64),
    #[error("a signing thread failed: {0}")]
    Thread(String),
    #[error("the issuer key cannot sign: {0}")]
    Untrusted(#[from] UntrustedKey),
    #[error("the trust list in the store does not load: {0}")]
    TrustList(String),
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RoundReport {
    /// Passes signed and stored.
    pub stored: u64,
    /// Passes signed but not stored: the status changed meanwhile; the
    /// subject stays due for the next round.
    pub stale: u64,
    /// Whether the status list was signed anew.
    pub status_list_signed: bool,
    /// Time each pipeline stage was busy, in seconds: reading pages and
    /// reserving indices, signing, storing (summed over the pages stored at
    /// once on PostgreSQL). The stages overlap, so the round takes about as
    /// long as the busiest one when they do.
    pub read_seconds: f64,
    pub sign_seconds: f64,
    pub write_seconds: f64,
}

/// The signer of one issuer over one store.
pub struct PassSigner {
    store: Store,
    key: IssuerKey,
    config: SignerConfig,
}

impl PassSigner {
    pub fn new(store: Store, key: IssuerKey, config: SignerConfig) -> Result<PassSigner, String> {
        config.check()?;
        Ok(PassSigner { store, key, config })
    }

    pub fn config(&self) -> &SignerConfig {
        &self.config
    }

    pub fn kid(&self) -> Kid {
        self.key.kid
    }

    /// Check the key against the newest trust list in the store: its
    /// sequence if the list lets this key sign for this issuer at `now`,
    /// `None` if no list is stored yet, an error (and nothing signed) if
    /// the list has retired, revoked or never named the key.
    pub async fn check_standing(&self, now: Timestamp) -> Result<Option<u64>, SignError> {
        let Some(stored) = self.store.trust_list().await? else {
            return Ok(None);
        };
        let trusted = sealpass_core::TrustedList::from_stored(&stored.bytes)
            .map_err(|e| SignError::TrustList(e.to_string()))?;
        let lifetime = self.config.validity.max(self.config.status_list_validity);
        key_standing(
            trusted.list(),
            self.key.kid,
            &self.config.issuer,
            now,
            lifetime,
        )?;
        Ok(Some(trusted.list().sequence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_218_000);

    fn jitter_of(config: &SignerConfig, expiry: Timestamp) -> u64 {
        NOW.plus(config.validity).0 - expiry.0
    }

    #[test]
    fn a_round_spreads_expiries_evenly_and_in_signing_order() {
        let config = SignerConfig::new("CN-610100");
        let n = 10_000;
        let jitters: Vec<u64> = (0..n)
            .map(|rank| jitter_of(&config, config.expiry(rank as i64 * 7, 1, NOW, rank, n)))
            .collect();
        // Rising expiry, so rising due_at, in the order subjects are signed.
        assert!(jitters.windows(2).all(|w| w[0] >= w[1]));
        assert!(jitters.iter().all(|&j| j < config.jitter.0));
        // Each tenth of the window holds a tenth of the round.
        let tenth = config.jitter.0 / 10;
        for part in 0..10 {
            let inside = jitters.iter().filter(|&&j| j / tenth == part).count() as u64;
            assert!(inside.abs_diff(n / 10) <= 2, "{inside} in tenth {part}");
        }
    }

    #[test]
    fn a_round_of_one_draws_from_the_whole_window() {
        let config = SignerConfig::new("CN-610100");
        let jitters: Vec<u64> = (0..1_000)
            .map(|id| jitter_of(&config, config.expiry(id, 3, NOW, 0, 1)))
            .collect();
        assert!(jitters.iter().all(|&j| j < config.jitter.0));
        assert!(*jitters.iter().min().unwrap() < config.jitter.0 / 20);
        assert!(*jitters.iter().max().unwrap() > config.jitter.0 / 20 * 19);
        // Subjects that became due after the round began rank past its count.
        let late = config.expiry(5, 1, NOW, 12, 10);
        assert!(jitter_of(&config, late) < config.jitter.0 / 13 + 1);
        let mut none = config.clone();
        none.jitter = Seconds(0);
        assert_eq!(none.expiry(5, 1, NOW, 0, 1), NOW.plus(none.validity));
    }
}
