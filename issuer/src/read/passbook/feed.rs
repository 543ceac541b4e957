//! The change feed: the subjects of the store's new events, read every
//! `recheck`, mark their held passes to be compared.

use super::held::Slots;
use crate::store::reads::StoreReader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Events read per query of the change feed.
const FEED_BATCH: i64 = 10_000;
/// Events read again on every poll: on PostgreSQL, ids are handed out
/// before their transactions commit, so an event may appear behind one
/// already read. (Beyond this, `recheck_unchanged` still catches it.)
const FEED_OVERLAP: i64 = 1_000;

/// Milliseconds since `epoch`, at least 1.
fn since(epoch: Instant) -> u64 {
    (epoch.elapsed().as_millis() as u64).max(1)
}

/// The change feed: every `interval`, the subjects of the store's new
/// events are marked changed (if held). Ends when the book is dropped.
pub(super) async fn follow_events(
    store: StoreReader,
    slots: Weak<Slots>,
    followed: Arc<AtomicU64>,
    feed_started: Arc<AtomicU64>,
    epoch: Instant,
    interval: Duration,
) {
    let mut cursor: Option<i64> = None;
    // Ids read within FEED_OVERLAP of the cursor: read again, not news.
    let mut seen = std::collections::BTreeSet::new();
    let mut caught_up = true;
    // The first read at once: a pass loaded before the feed starts is
    // compared again on its next request (a warm-up's passes loaded in the
    // feed's first seconds were each read twice: docs/performance.md).
    let mut first = true;
    loop {
        if caught_up && !std::mem::take(&mut first) {
            tokio::time::sleep(interval).await;
        }
        let Some(slots) = slots.upgrade() else {
            return;
        };
        let answered = match cursor {
            // Start at the newest event; those just before it are old news.
            None => match store.last_event_id().await {
                Ok(id) => {
                    feed_started.store(since(epoch), Ordering::Relaxed);
                    store
                        .subjects_changed_after((id - FEED_OVERLAP).max(0), FEED_BATCH)
                        .await
                        .map(|events| {
                            seen.extend(events.iter().map(|(e, _)| *e).filter(|e| *e <= id));
                            cursor = Some(id);
                            caught_up = true;
                        })
                }
                Err(e) => Err(e),
            },
            Some(after) => store
                .subjects_changed_after((after - FEED_OVERLAP).max(0), FEED_BATCH)
                .await
                .map(|events| {
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    let mut last = after;
                    for (id, subject) in &events {
                        last = last.max(*id);
                        if seen.insert(*id)
                            && let Some(slot) = slots.get_mut(subject)
                        {
                            slot.changed = true;
                        }
                    }
                    seen = seen.split_off(&(last - FEED_OVERLAP));
                    caught_up = (events.len() as i64) < FEED_BATCH;
                    cursor = Some(last);
                }),
        };
        match answered {
            Ok(()) => followed.store(since(epoch), Ordering::Relaxed),
            Err(e) => {
                caught_up = true;
                tracing::warn!(error = %e, "cannot read the store's events: held passes are compared every recheck");
            }
        }
    }
}
