//! A round (see the module above): read due pass pages and plan the
//! claims of their due subjects with revocation indices, sign them on all
//! threads, store the pages; the three stages overlap through bounded
//! channels, so signing threads do not wait for the database while there
//! is something to sign.

use super::leases::Leases;
use super::{IssuerKey, PassSigner, RoundReport, SignError, index};
use crate::store::pages::{PAGE_SUBJECTS, PassPage, Slot};
use crate::store::{DuePage, PageWrite, SupersededPass};
use futures_util::StreamExt;
use sealpass_core::{HealthStatus, PassClaims, Seconds, SignerError, Timestamp, sign_passes_cose};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the reader is in a round: subjects planned so far, of how many
/// were due when it began.
struct Rank {
    next: u64,
    of: u64,
}

/// Pages planned for signing: the claims of their due subjects, page by
/// page in order.
struct Plan {
    pages: Vec<PlannedPage>,
    claims: Vec<PassClaims>,
}

/// A due page and which of its subjects are signed anew.
struct PlannedPage {
    page: i64,
    revision: i64,
    passes: PassPage,
    /// Its subjects' status versions by slot (`DuePage::versions`).
    versions: Vec<Option<i64>>,
    /// `(id, status version)` of each subject signed anew, in the order
    /// of its claims in [`Plan::claims`].
    signed: Vec<(i64, i64)>,
}

/// A subject of a due page whose renewal is at most this far off is
/// renewed with the page, so that a page is written once per renewal and
/// not once for each second its subjects' renewals are apart.
const RENEW_TOGETHER: Seconds = Seconds::minutes(10);

impl PassSigner {
    /// Sign everything due at `now`, then keep the status list current.
    /// `progress` is told how many passes each stored page held.
    pub async fn round(
        &self,
        now: Timestamp,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<RoundReport, SignError> {
        // Every round, not only when the command starts: a list published
        // while `sign daemon` runs may retire or revoke its key, and then
        // nothing more is signed (issue 15). No list stored yet: nothing
        // to check against (the commands warn).
        self.check_standing(now).await?;
        let mut report = RoundReport::default();
        let (plan_tx, mut plan_rx) = tokio::sync::mpsc::channel::<Plan>(2);
        let (signed_tx, signed_rx) = tokio::sync::mpsc::channel::<SignedPages>(2);
        let mut list_signed = false;
        let pages_per_read = (self.config.batch / PAGE_SUBJECTS as usize).max(1);

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
                let pages = self.store.due_pages(now, after, pages_per_read).await?;
                let Some(last) = pages.last() else { break };
                after = (last.due_at, last.page);
                let plan = self.plan(pages, &mut rank, &mut leases, now).await?;
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
                    sign_plan(plan, &key, threads, renew_before, skew, now)
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
                .map(|(pages, superseded)| async move {
                    let started = std::time::Instant::now();
                    let n = self.store.store_pages(&pages, &superseded, now).await?;
                    let signed = pages.iter().map(|p| p.signed).sum::<u64>();
                    Ok::<_, SignError>((signed, n, started.elapsed()))
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

    /// Claims for the due subjects of `pages`, with revocation indices
    /// from `leases`. A subject is due if it has no pass, a pass signed
    /// from an older status, or one whose renewal is at most
    /// [`RENEW_TOGETHER`] away.
    async fn plan(
        &self,
        pages: Vec<DuePage>,
        rank: &mut Rank,
        leases: &mut Leases,
        now: Timestamp,
    ) -> Result<Plan, SignError> {
        let renew_by = now.plus(RENEW_TOGETHER).0 as i64;
        let mut planned: Vec<PlannedPage> = Vec::with_capacity(pages.len());
        let mut due_subjects = Vec::new();
        let mut expiries = Vec::new();
        for due in pages {
            let versions = due.versions();
            let mut signed = Vec::new();
            for subject in due.subjects {
                if due.passes.due_of(subject.id, subject.status_version) <= renew_by {
                    rank.next += 1;
                    expiries.push(self.config.expiry(
                        subject.id,
                        subject.status_version,
                        now,
                        rank.next - 1,
                        rank.of,
                    ));
                    signed.push((subject.id, subject.status_version));
                    due_subjects.push(subject);
                }
            }
            planned.push(PlannedPage {
                page: due.page,
                revision: due.revision,
                passes: due.passes,
                versions,
                signed,
            });
        }
        let mut days: Vec<i64> = expiries.iter().map(|&e| index::expiry_day(e)).collect();
        days.sort_unstable();
        let mut start = 0;
        while start < days.len() {
            let day = days[start];
            let count = days[start..].iter().take_while(|&&d| d == day).count();
            leases.ensure(&self.store, day, count as i64).await?;
            start += count;
        }
        let mut claims = Vec::with_capacity(due_subjects.len());
        for (subject, &expires_at) in due_subjects.into_iter().zip(&expiries) {
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
                holder: subject.holder,
            });
        }
        Ok(Plan {
            pages: planned,
            claims,
        })
    }
}

/// Claims a signing thread takes at a time (about a millisecond's work),
/// signed as one batch (`sign_passes_cose`).
const CLAIMS_PER_TAKE: usize = 64;

/// What one signing thread signed: runs of passes (COSE_Sign1 bytes),
/// each with the position of its first claim in the plan.
type Runs = Vec<(usize, Vec<Vec<u8>>)>;

/// Pages signed: the pages to store, and the live passes their new passes
/// push out of tracking (see `Store::store_pages`).
type SignedPages = (Vec<PageWrite>, Vec<SupersededPass>);

/// Sign a plan's claims on `threads` threads and write them into their
/// pages.
fn sign_plan(
    plan: Plan,
    key: &IssuerKey,
    threads: usize,
    renew_before: Seconds,
    skew: Seconds,
    now: Timestamp,
) -> Result<SignedPages, SignError> {
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
                        let passes =
                            sign_passes_cose(&part[..part.len().min(CLAIMS_PER_TAKE)], key)?;
                        done.push((start, passes));
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
    let mut parts: Vec<(usize, Vec<Vec<u8>>)> = signed
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    parts.sort_unstable_by_key(|&(start, _)| start);
    let mut passes = parts.into_iter().flat_map(|(_, passes)| passes);
    let mut claims = plan.claims.iter();
    let live_after = now.0.saturating_sub(skew.0) as i64;
    let mut writes = Vec::with_capacity(plan.pages.len());
    let mut superseded = Vec::new();
    for planned in plan.pages {
        let mut page = planned.passes;
        for &(id, version) in &planned.signed {
            let (Some(claims), Some(cose)) = (claims.next(), passes.next()) else {
                return Err(SignError::Thread("fewer passes signed than planned".into()));
            };
            let old = page.get(id);
            if let Some((revocation_index, expires_at)) = old.and_then(|p| p.prev)
                && expires_at > live_after
            {
                superseded.push(SupersededPass {
                    subject_id: id,
                    revocation_index,
                    expires_at,
                });
            }
            let expires_at = claims.expires_at.0 as i64;
            let slot = Slot {
                version,
                issued_at: now.0 as i64,
                expires_at,
                revocation_index: i64::from(claims.revocation_index),
                due_at: expires_at - renew_before.0 as i64,
                prev: old.map(|p| (p.revocation_index, p.expires_at)),
                kid: kid.clone(),
                cose,
            };
            page.set(id, slot);
        }
        writes.push(PageWrite {
            page: planned.page,
            revision: planned.revision,
            due_at: page.due_at(&planned.versions),
            slots: page.encode(),
            signed: planned.signed.len() as u64,
        });
    }
    Ok((writes, superseded))
}
