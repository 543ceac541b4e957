//! The signer: the only part of the issuer that holds the issuer key.
//!
//! A **round** signs every subject that is due (a status change, no pass
//! yet, or a pass to renew), in pages, through a three-stage pipeline:
//! read a page and reserve its revocation indices, sign it on all threads,
//! store it; the three stages overlap. Then it keeps the status list
//! current. Every step is idempotent: a pass is stored only if the status
//! it was signed from is still current (else the subject stays due), and
//! storing it moves the subject's `due_at` to the renewal time, so a round
//! interrupted anywhere is finished by the next one, with nothing skipped
//! and nothing stored twice.
//!
//! Schedule (docs/issuer.md, "The signer's schedule"): a pass is valid for
//! `validity` minus a jitter in `[0, jitter)` derived from the subject, so
//! renewals spread out instead of coming as one wave; it is renewed when
//! `renew_before` of it is left.

pub mod index;
mod leases;
mod status_list;

use crate::store::{DueSubject, SignedPass, Store, StoreError, SupersededPass};
use leases::Leases;
use sealpass_core::{
    HealthStatus, Kid, PassClaims, Seconds, Signer, SignerError, Timestamp, sign_pass,
};
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
    /// Subjects per page.
    pub page: usize,
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
            page: 4096,
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
        if self.page == 0 || self.threads == 0 {
            return Err("page size and threads must be at least 1".into());
        }
        Ok(())
    }

    /// When a pass for subject `id`, at status `version`, issued `now`,
    /// expires.
    pub fn expiry(&self, id: i64, version: i64, now: Timestamp) -> Timestamp {
        let jitter = if self.jitter.0 == 0 {
            0
        } else {
            mix(id as u64 ^ (version as u64).rotate_left(32) ^ now.0) % self.jitter.0
        };
        now.plus(Seconds(self.validity.0 - jitter))
    }
}

/// splitmix64's finalizer: a bijection that spreads nearby inputs.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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
}

/// Why a round stopped.
#[derive(Debug, Error)]
pub enum SignError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] SignerError),
    #[error("the revocation index space is exhausted (offset {0})")]
    IndexSpace(i64),
    #[error("a signing thread failed: {0}")]
    Thread(String),
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
    /// reserving indices, signing, storing. The stages overlap, so the
    /// round takes about as long as the busiest one when they do.
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

/// A page planned for signing.
struct Plan {
    subjects: Vec<DueSubject>,
    claims: Vec<PassClaims>,
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

    /// Sign everything due at `now`, then keep the status list current.
    /// `progress` is told how many passes each stored page held.
    pub async fn round(
        &self,
        now: Timestamp,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<RoundReport, SignError> {
        let mut report = RoundReport::default();
        let (plan_tx, mut plan_rx) = tokio::sync::mpsc::channel::<Plan>(2);
        let (signed_tx, mut signed_rx) = tokio::sync::mpsc::channel::<SignedPage>(2);
        let mut list_signed = false;

        let read = async {
            let mut after = (i64::MIN, i64::MIN);
            let mut leases = Leases::default();
            let mut busy = std::time::Duration::ZERO;
            loop {
                let started = std::time::Instant::now();
                let subjects = self
                    .store
                    .due_subjects(now, after, self.config.page)
                    .await?;
                let Some(last) = subjects.last() else { break };
                after = (last.due_at, last.id);
                let plan = self.plan(subjects, &mut leases, now).await?;
                let highest = plan
                    .claims
                    .iter()
                    .map(|c| i64::from(c.revocation_index) / index::PARTITIONS as i64)
                    .max()
                    .unwrap_or(0);
                list_signed |= self.ensure_capacity(highest, now).await?;
                busy += started.elapsed();
                if plan_tx.send(plan).await.is_err() {
                    break;
                }
            }
            drop(plan_tx);
            Ok::<_, SignError>(busy)
        };
        let sign = async {
            let mut busy = std::time::Duration::ZERO;
            while let Some(plan) = plan_rx.recv().await {
                let started = std::time::Instant::now();
                let key = self.key.clone();
                let threads = self.config.threads;
                let renew_before = self.config.renew_before;
                let skew = self.config.clock_skew;
                let signed = tokio::task::spawn_blocking(move || {
                    sign_page(&plan, &key, threads, renew_before, skew, now)
                })
                .await
                .map_err(|e| SignError::Thread(e.to_string()))??;
                busy += started.elapsed();
                if signed_tx.send(signed).await.is_err() {
                    break;
                }
            }
            drop(signed_tx);
            Ok::<_, SignError>(busy)
        };
        let write = async {
            let mut stored = 0;
            let mut stale = 0;
            let mut busy = std::time::Duration::ZERO;
            while let Some((passes, superseded)) = signed_rx.recv().await {
                let started = std::time::Instant::now();
                let n = self.store.store_passes(&passes, &superseded, now).await?;
                busy += started.elapsed();
                stored += n;
                stale += passes.len() as u64 - n;
                progress(passes.len() as u64);
            }
            Ok::<_, SignError>((stored, stale, busy))
        };
        let (read_busy, sign_busy, (stored, stale, write_busy)) =
            tokio::try_join!(read, sign, write)?;
        report.stored = stored;
        report.stale = stale;
        report.read_seconds = read_busy.as_secs_f64();
        report.sign_seconds = sign_busy.as_secs_f64();
        report.write_seconds = write_busy.as_secs_f64();
        report.status_list_signed = self.maintain_status_list(now).await? || list_signed;
        Ok(report)
    }

    /// Claims for a page, with revocation indices from `leases`.
    async fn plan(
        &self,
        subjects: Vec<DueSubject>,
        leases: &mut Leases,
        now: Timestamp,
    ) -> Result<Plan, SignError> {
        let expiries: Vec<Timestamp> = subjects
            .iter()
            .map(|s| self.config.expiry(s.id, s.status_version, now))
            .collect();
        let mut days: Vec<i64> = expiries.iter().map(|&e| index::expiry_day(e)).collect();
        days.sort_unstable();
        let mut start = 0;
        while start < days.len() {
            let day = days[start];
            let count = days[start..].iter().take_while(|&&d| d == day).count();
            leases.ensure(&self.store, day, count as i64).await?;
            start += count;
        }
        let mut claims = Vec::with_capacity(subjects.len());
        for (subject, &expires_at) in subjects.iter().zip(&expiries) {
            let day = index::expiry_day(expires_at);
            let offset = leases.take(day);
            let revocation_index =
                index::revocation_index(day, offset).ok_or(SignError::IndexSpace(offset))?;
            claims.push(PassClaims {
                issuer: self.config.issuer.clone(),
                issued_at: now,
                not_before: now,
                expires_at,
                revocation_index,
                health: HealthStatus {
                    colour: subject.health.colour,
                    masked_name: subject.masked_name.clone(),
                    masked_id: subject.masked_id.clone(),
                    vaccination: subject.health.vaccination,
                    last_test: subject.health.last_test,
                },
            });
        }
        Ok(Plan { subjects, claims })
    }
}

/// Sign a page on `threads` threads; also name the live passes that drop
/// out of tracking when these are stored (see `Store::store_passes`).
/// A page signed: the passes, and the live passes they push out of tracking.
type SignedPage = (Vec<SignedPass>, Vec<SupersededPass>);

fn sign_page(
    plan: &Plan,
    key: &IssuerKey,
    threads: usize,
    renew_before: Seconds,
    skew: Seconds,
    now: Timestamp,
) -> Result<SignedPage, SignError> {
    let kid = key.kid.to_hex();
    let per_thread = plan.claims.len().div_ceil(threads).max(1);
    let texts: Vec<Result<Vec<String>, SignerError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .claims
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|claims| sign_pass(claims, key))
                        .collect::<Result<Vec<String>, SignerError>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SignerError("a signing thread panicked".into())))
            })
            .collect()
    });
    let mut passes = Vec::with_capacity(plan.claims.len());
    let texts = texts.into_iter().collect::<Result<Vec<_>, _>>()?;
    for ((subject, claims), text) in plan
        .subjects
        .iter()
        .zip(&plan.claims)
        .zip(texts.into_iter().flatten())
    {
        let expires_at = claims.expires_at.0 as i64;
        passes.push(SignedPass {
            subject_id: subject.id,
            text,
            kid: kid.clone(),
            issued_at: now.0 as i64,
            expires_at,
            revocation_index: i64::from(claims.revocation_index),
            status_version: subject.status_version,
            due_at: expires_at - renew_before.0 as i64,
        });
    }
    let live_after = now.0.saturating_sub(skew.0) as i64;
    let superseded = plan
        .subjects
        .iter()
        .filter(|s| s.pass.is_some())
        .filter_map(|s| {
            s.prev.map(|(revocation_index, expires_at)| SupersededPass {
                subject_id: s.id,
                revocation_index,
                expires_at,
            })
        })
        .filter(|p| p.expires_at > live_after)
        .collect();
    Ok((passes, superseded))
}
