//! The change feed: the subjects of the store's new events, read every
//! `recheck`, mark their held passes to be compared. With a
//! [`FollowsChanges`] beside the passes (the public API's remembered
//! logins), it also reads the identity links' new changes and tells it
//! those and the subjects the events named.

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

/// What else is kept in memory from the store and made stale by its
/// changes, told by the feed on every read: the public API's remembered
/// logins (`read::public::verified_tokens`).
pub trait FollowsChanges: Send + Sync {
    /// The feed made its first read: what was remembered before it may
    /// have missed a change; from now on no change is missed.
    fn started(&self);
    /// New events named these subjects (an enrolment among them).
    fn subjects_changed(&self, subjects: &[&str]);
    /// The identity links of these logins (issuer, sub) changed.
    fn links_changed(&self, logins: &[(String, String)]);
}

/// Milliseconds since `epoch`, at least 1.
fn since(epoch: Instant) -> u64 {
    (epoch.elapsed().as_millis() as u64).max(1)
}

/// The change feed: every `interval`, the subjects of the store's new
/// events are marked changed (if held). Ends when the book is dropped.
#[allow(clippy::too_many_arguments)]
pub(super) async fn follow_events(
    store: StoreReader,
    slots: Weak<Slots>,
    followed: Arc<AtomicU64>,
    feed_started: Arc<AtomicU64>,
    epoch: Instant,
    interval: Duration,
    listener: Option<Weak<dyn FollowsChanges>>,
) {
    let mut cursor: Option<i64> = None;
    // The identity links' changes: numbered in commit order, so a cursor
    // alone never misses one (store/identity_links.rs).
    let mut link_cursor: Option<i64> = None;
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
            None => match start_links(&store, listener.as_ref(), &mut link_cursor).await {
                Err(e) => Err(e),
                Ok(()) => match store.last_event_id().await {
                    Ok(id) => {
                        feed_started.store(since(epoch), Ordering::Relaxed);
                        store
                            .subjects_changed_after((id - FEED_OVERLAP).max(0), FEED_BATCH)
                            .await
                            .map(|events| {
                                seen.extend(events.iter().map(|(e, _)| *e).filter(|e| *e <= id));
                                cursor = Some(id);
                                caught_up = true;
                                if let Some(listener) = listener.as_ref().and_then(Weak::upgrade) {
                                    listener.started();
                                }
                            })
                    }
                    Err(e) => Err(e),
                },
            },
            Some(after) => store
                .subjects_changed_after((after - FEED_OVERLAP).max(0), FEED_BATCH)
                .await
                .map(|events| {
                    let mut named = Vec::new();
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    let mut last = after;
                    for (id, subject) in &events {
                        last = last.max(*id);
                        if seen.insert(*id) {
                            named.push(subject.as_str());
                            if let Some(slot) = slots.get_mut(subject) {
                                slot.changed = true;
                            }
                        }
                    }
                    drop(slots);
                    if let Some(listener) = listener.as_ref().and_then(Weak::upgrade)
                        && !named.is_empty()
                    {
                        listener.subjects_changed(&named);
                    }
                    seen = seen.split_off(&(last - FEED_OVERLAP));
                    caught_up = (events.len() as i64) < FEED_BATCH;
                    cursor = Some(last);
                }),
        };
        let answered = match (answered, link_cursor) {
            (Ok(()), Some(after)) if cursor.is_some() => {
                follow_links(&store, listener.as_ref(), after, &mut link_cursor)
                    .await
                    .map(|all| caught_up &= all)
            }
            (answered, _) => answered,
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

/// Where the links' changes start: the newest change when the feed starts
/// (a login remembered before is forgotten by [`FollowsChanges::started`]).
async fn start_links(
    store: &StoreReader,
    listener: Option<&Weak<dyn FollowsChanges>>,
    link_cursor: &mut Option<i64>,
) -> Result<(), crate::store::StoreError> {
    if listener.is_some() && link_cursor.is_none() {
        *link_cursor = Some(store.last_link_change().await?);
    }
    Ok(())
}

/// Read the links' changes after `after` and tell the listener; whether
/// all were read.
async fn follow_links(
    store: &StoreReader,
    listener: Option<&Weak<dyn FollowsChanges>>,
    after: i64,
    link_cursor: &mut Option<i64>,
) -> Result<bool, crate::store::StoreError> {
    let Some(listener) = listener.and_then(Weak::upgrade) else {
        return Ok(true);
    };
    let changes = store.links_changed_after(after, FEED_BATCH).await?;
    if let Some((last, _, _)) = changes.last() {
        *link_cursor = Some(*last);
        let logins: Vec<(String, String)> = changes
            .into_iter()
            .map(|(_, issuer, sub)| (issuer, sub))
            .collect();
        listener.links_changed(&logins);
        return Ok((logins.len() as i64) < FEED_BATCH);
    }
    Ok(true)
}
