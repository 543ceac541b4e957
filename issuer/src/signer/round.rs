//! A round (see the module above): read a page of due subjects and plan
//! their claims with revocation indices, sign it on all threads, store it;
//! the three stages overlap through bounded channels, so signing threads
//! do not wait for the database while there is a page to sign.

use super::leases::Leases;
use super::{IssuerKey, PassSigner, RoundReport, SignError, index};
use crate::store::{DueSubject, SignedPass, SupersededPass};
use futures_util::StreamExt;
use sealpass_core::{HealthStatus, PassClaims, Seconds, SignerError, Timestamp, sign_passes};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the reader is in a round: subjects planned so far, of how many
/// were due when it began.
struct Rank {
    next: u64,
    of: u64,
}

/// A page planned for signing.
struct Plan {
    subjects: Vec<Planned>,
    claims: Vec<PassClaims>,
}

/// What storing a subject's new pass needs to know of the subject.
struct Planned {
    id: i64,
    status_version: i64,
    pass: Option<(i64, i64)>,
    prev: Option<(i64, i64)>,
}

impl PassSigner {
    /// Sign everything due at `now`, then keep the status list current.
    /// `progress` is told how many passes each stored page held.
    pub async fn round(
        &self,
        now: Timestamp,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<RoundReport, SignError> {
        let mut report = RoundReport::default();
        let (plan_tx, mut plan_rx) = tokio::sync::mpsc::channel::<Plan>(2);
        let (signed_tx, signed_rx) = tokio::sync::mpsc::channel::<SignedPage>(2);
        let mut list_signed = false;

        let read = async {
            let mut after = (i64::MIN, i64::MIN);
            let mut leases = Leases::default();
            let mut rank = Rank {
                next: 0,
                of: self.store.count_due(now).await?,
            };
            let mut busy = std::time::Duration::ZERO;
            loop {
                let started = std::time::Instant::now();
                let subjects = self
                    .store
                    .due_subjects(now, after, self.config.page)
                    .await?;
                let Some(last) = subjects.last() else { break };
                after = (last.due_at, last.id);
                let plan = self.plan(subjects, &mut rank, &mut leases, now).await?;
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
            let pages = futures_util::stream::unfold(signed_rx, |mut pages| async move {
                pages.recv().await.map(|page| (page, pages))
            });
            let writes = pages
                .map(|(passes, superseded)| async move {
                    let started = std::time::Instant::now();
                    let n = self.store.store_passes(&passes, &superseded, now).await?;
                    Ok::<_, SignError>((passes.len() as u64, n, started.elapsed()))
                })
                .buffer_unordered(self.store.page_writers());
            let mut writes = std::pin::pin!(writes);
            while let Some(written) = writes.next().await {
                let (signed, n, took) = written?;
                busy += took;
                stored += n;
                stale += signed - n;
                progress(signed);
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
        rank: &mut Rank,
        leases: &mut Leases,
        now: Timestamp,
    ) -> Result<Plan, SignError> {
        let expiries: Vec<Timestamp> = subjects
            .iter()
            .map(|s| {
                rank.next += 1;
                self.config
                    .expiry(s.id, s.status_version, now, rank.next - 1, rank.of)
            })
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
        let mut planned = Vec::with_capacity(subjects.len());
        for (subject, &expires_at) in subjects.into_iter().zip(&expiries) {
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
                    masked_name: subject.masked_name,
                    masked_id: subject.masked_id,
                    vaccination: subject.health.vaccination,
                    last_test: subject.health.last_test,
                },
            });
            planned.push(Planned {
                id: subject.id,
                status_version: subject.status_version,
                pass: subject.pass,
                prev: subject.prev,
            });
        }
        Ok(Plan {
            subjects: planned,
            claims,
        })
    }
}

/// Claims a signing thread takes at a time (about a millisecond's work),
/// signed as one batch (`sign_passes`).
const CLAIMS_PER_TAKE: usize = 64;

/// What one signing thread signed: runs of pass texts, each with the
/// position of its first claim in the page.
type Runs = Vec<(usize, Vec<String>)>;

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
    // Threads take a few claims at a time rather than a fixed share, so a
    // thread that the database's work slows down on its core leaves the
    // rest of the page to the others instead of keeping them waiting at
    // the page's end.
    let next = AtomicUsize::new(0);
    let signed: Vec<Result<Runs, SignerError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(CLAIMS_PER_TAKE, Ordering::Relaxed);
                        let Some(part) = plan.claims.get(start..) else {
                            return Ok(done);
                        };
                        let texts = sign_passes(&part[..part.len().min(CLAIMS_PER_TAKE)], key)?;
                        done.push((start, texts));
                    }
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
    let mut parts: Vec<(usize, Vec<String>)> = signed
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    parts.sort_unstable_by_key(|&(start, _)| start);
    let texts = parts.into_iter().flat_map(|(_, texts)| texts);
    let mut passes = Vec::with_capacity(plan.claims.len());
    for ((subject, claims), text) in plan.subjects.iter().zip(&plan.claims).zip(texts) {
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
