//! The pass book: citizens' current passes, ready to send, in memory.
//!
//! A pass is loaded from the store (one indexed read) the first time it is
//! asked for, and its JSON made then, once; its PNG and SVG are rendered
//! once too, the first time either is asked for (the citizen page draws
//! the QR itself and never asks). Every later request for the same pass is
//! answered from memory with bytes made before it arrived; nothing is
//! signed or rendered per request.
//!
//! A held pass is compared with the store again only when it may have
//! changed, so a rush over a million citizens does not become a store read
//! per request: a task follows the store's events (every status update,
//! enrolment and revocation is one; one primary-key range read every
//! `recheck`, default 2 s) and marks the passes of the subjects they name;
//! a marked pass, one whose renewal time (`due_at`) has come, one last
//! compared before the feed started, and any pass not compared for
//! `recheck_unchanged` (default 60 s, a safety net) is compared on its
//! next request, at most every `recheck`. So a pass the
//! signer replaced reaches the phone within seconds. While the events
//! cannot be read (the store fails), every held pass is compared at most
//! every `recheck`, as if all had changed. The safety net alone makes at
//! most [`SAFETY_NET_READS`] comparisons at once, each beside the request
//! that sends the held pass (it never waits for one); beyond them the held
//! pass is sent and compared on a later request (without the bound, the
//! passes loaded in a rush all came due together `recheck_unchanged`
//! later, every request became a store read, and the server answered a
//! small fraction of its capacity for minutes: docs/performance.md, "Pass
//! download and overload"), and none while the server sheds requests for
//! queue delay.
//! A `recheck` of zero compares on
//! every request. When the store cannot be reached, a held pass that has
//! not expired is still served: citizens keep their passes through a
//! database failover.
//!
//! Memory is bounded: past `capacity` entries, an arbitrary sixteenth is
//! dropped (they are reloaded on their next request). What a pass holds,
//! with and without its images, is measured by `public_render_time`
//! (tools/src/bin/public_render_time.rs; docs/performance.md, "Public API
//! under overload").

mod feed;
mod held;
mod recheck;
mod rendered;

pub use feed::FollowsChanges;
pub use recheck::{SAFETY_NET_PER_SECOND, SAFETY_NET_READS};
pub use rendered::{Images, PassError, RenderedPass, render};

use crate::read::overload::QueueDelay;
use crate::read::overload::rate::Bucket;
use crate::shared::metrics::Metrics;
use crate::store::reads::PassLookup;
use crate::store::reads::StoreReader;
use feed::follow_events;
use held::{Slot, Slots, compare_beside, keep_in};
use recheck::{Check, Read, SAFETY_NET_BURST};
use rendered::render_with_text;
use sealpass_core::Timestamp;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How a pass was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Checked against the store within `recheck`.
    Current,
    /// The store could not be reached; the pass held in memory was sent.
    HeldDuringOutage,
}

pub struct PassBook {
    store: StoreReader,
    slots: Arc<Slots>,
    capacity: usize,
    recheck: Duration,
    recheck_unchanged: Duration,
    /// When the change feed last answered, in milliseconds since `epoch`
    /// (0: never).
    followed: Arc<AtomicU64>,
    /// When the change feed started, in milliseconds since `epoch`: a pass
    /// compared before then may have missed an event.
    feed_started: Arc<AtomicU64>,
    epoch: Instant,
    safety_net: Arc<tokio::sync::Semaphore>,
    /// While it says a queue stands, the safety net waits.
    shedding: Option<Arc<QueueDelay>>,
    /// The safety net's turns: [`SAFETY_NET_PER_SECOND`].
    safety_net_turns: Mutex<Bucket>,
    metrics: Metrics,
}

impl PassBook {
    /// A pass book over `store`. Within a tokio runtime and with a
    /// `recheck` above zero, it starts following the store's events, and
    /// tells `listener` (while it lives) what they and the identity links'
    /// changes make stale.
    pub fn new(
        store: StoreReader,
        capacity: usize,
        recheck: Duration,
        recheck_unchanged: Duration,
        metrics: Metrics,
        listener: Option<Weak<dyn FollowsChanges>>,
    ) -> PassBook {
        let book = PassBook {
            store,
            slots: Arc::default(),
            capacity: capacity.max(1),
            recheck,
            recheck_unchanged,
            followed: Arc::default(),
            feed_started: Arc::default(),
            epoch: Instant::now(),
            safety_net: Arc::new(tokio::sync::Semaphore::new(SAFETY_NET_READS)),
            shedding: None,
            safety_net_turns: Mutex::new(Bucket::full(SAFETY_NET_BURST, Instant::now())),
            metrics,
        };
        if !recheck.is_zero()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(follow_events(
                book.store.clone(),
                Arc::downgrade(&book.slots),
                book.followed.clone(),
                book.feed_started.clone(),
                book.epoch,
                recheck,
                listener,
            ));
        }
        book
    }

    /// Make no safety-net comparison while `delay` says a queue stands:
    /// each is a store read on the machine that is already turning
    /// requests away (the passes loaded before a 10x spike came due
    /// together during it, and their reads cost a share of the passes
    /// served: "Overload at 10x" in the git history of
    /// docs/performance.md). Passes the feed names or the signer renewed
    /// are still compared before they are sent; the rest
    /// are compared on a request after the rush.
    pub fn safety_net_waits_while_shedding(mut self, delay: Arc<QueueDelay>) -> PassBook {
        self.shedding = Some(delay);
        self
    }

    /// A safety-net comparison's permit, if one may start now: no queue
    /// stands, one of the [`SAFETY_NET_READS`] is free, and the safety net
    /// has not had its [`SAFETY_NET_PER_SECOND`] (its turn is then taken).
    fn safety_net_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if self
            .shedding
            .as_ref()
            .is_some_and(|delay| delay.is_standing())
        {
            return None;
        }
        let permit = self.safety_net.clone().try_acquire_owned().ok()?;
        self.safety_net_turns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(SAFETY_NET_PER_SECOND, SAFETY_NET_BURST, Instant::now())
            .is_ok()
            .then_some(permit)
    }

    /// Whether the change feed answered lately: held passes that no event
    /// named can be trusted unchanged.
    fn following(&self) -> bool {
        let last = self.followed.load(Ordering::Relaxed);
        last > 0 && {
            let since = (self.epoch.elapsed().as_millis() as u64).saturating_sub(last);
            since < 3 * self.recheck.as_millis() as u64 + 1000
        }
    }

    /// Whether a held pass is compared with the store now.
    fn check(&self, slot: &Slot, now: Timestamp) -> Check {
        let checked_ms = slot
            .checked
            .saturating_duration_since(self.epoch)
            .as_millis() as u64;
        let may_have_changed = if slot.changed {
            Some(Read::Named)
        } else if now.0 as i64 >= slot.due_at {
            Some(Read::Renewal)
        } else if !self.following() {
            Some(Read::FeedSilent)
        } else if checked_ms < self.feed_started.load(Ordering::Relaxed) {
            Some(Read::BeforeFeed)
        } else {
            None
        };
        Check::of(
            slot.checked.elapsed(),
            (self.recheck, self.recheck_unchanged),
            may_have_changed,
        )
    }

    fn held(&self, subject: &str) -> Option<Slot> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get(subject).cloned()
    }

    fn keep(&self, subject: &str, pass: Arc<RenderedPass>, due_at: i64) {
        keep_in(&self.slots, self.capacity, subject, pass, due_at);
    }

    /// The current pass of `subject`.
    pub async fn get(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<(Arc<RenderedPass>, Source), PassError> {
        let held = self.held(subject);
        let why = match &held {
            None => Read::First,
            Some(slot) => match self.check(slot, now) {
                Check::No => return Ok((slot.pass.clone(), Source::Current)),
                Check::Now(why) => why,
                Check::SafetyNet => {
                    // The held pass is sent now; the comparison, if a
                    // safety-net read is free, runs beside it.
                    if let Some(permit) = self.safety_net_turn() {
                        self.metrics.passbook_store_read(Read::SafetyNet.label());
                        tokio::spawn(compare_beside(
                            self.store.clone(),
                            self.slots.clone(),
                            self.capacity,
                            subject.to_owned(),
                            slot.pass.clone(),
                            permit,
                        ));
                    }
                    return Ok((slot.pass.clone(), Source::Current));
                }
            },
        };
        self.metrics.passbook_store_read(why.label());
        let held = held.map(|slot| (slot.pass, slot.checked));
        let lookup = match self.store.current_pass(subject).await {
            Ok(lookup) => lookup,
            Err(e) => {
                return match held {
                    Some((pass, _)) if pass.expires_at > now.0 => {
                        Ok((pass, Source::HeldDuringOutage))
                    }
                    _ => Err(e.into()),
                };
            }
        };
        match lookup {
            PassLookup::Unknown => {
                self.forget(subject);
                Err(PassError::UnknownSubject)
            }
            PassLookup::NotSigned { .. } => Err(PassError::NotSigned),
            PassLookup::Signed(stored) => {
                let text = stored.text();
                let pass = match held {
                    Some((pass, _)) if pass.text == text => pass,
                    _ => Arc::new(render_with_text(&stored, text)?),
                };
                self.keep(subject, pass.clone(), stored.due_at);
                Ok((pass, Source::Current))
            }
        }
    }

    fn forget(&self, subject: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(subject);
    }

    /// Passes held in memory.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
