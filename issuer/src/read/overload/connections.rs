//! Connections in service: the work the server takes on, bounded at the
//! door.
//!
//! Measured ("Overload at 10x" in the git history of docs/performance.md):
//! an open loop over many kept-alive connections, each with a request
//! outstanding, is a queue of as many requests inside the server, tens of
//! milliseconds of one core's work and a longer tail, and the requests
//! refused from it had waited in it before they were judged. Neither the
//! concurrency limit (a pass held in memory is worked on for microseconds,
//! so few are ever "in flight") nor the queue delay (some requests are
//! always read quickly) sees that queue. So the door counts the connections
//! it has handed to the server and, at `max_connections`, refuses the next
//! one itself, at once, with `503 busy` and a `Retry-After`: the queue
//! inside is never longer than the cap, and a refusal never waits behind
//! it.
//!
//! What is counted is open connections handed to the server: a kept-alive
//! connection whose next request has arrived but is not read yet is in the
//! server's queue as much as one being worked on, and only a count of
//! connections bounds that queue. So that quiet kept-alive connections
//! (phones between page loads, a load balancer's spare connections) do not
//! keep new clients out of an idle server, a connection idle since its last
//! answer for [`EVICT_IDLE_AFTER`] gives its place up when the door needs
//! one: it is closed (as an idle timeout would close it) and the new
//! connection is admitted. Only when no connection is that idle is the new
//! one refused.

use crate::shared::metrics::Metrics;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

/// How long a kept-alive connection must have been idle since its last
/// answer before it gives its place to a new connection at the cap: longer
/// than a busy client takes to send its next request (so the connections
/// being served are not churned), far shorter than a phone's pause.
pub const EVICT_IDLE_AFTER: Duration = Duration::from_millis(100);
/// Idle connections looked at per admission, at most.
const EVICTION_LOOKS: usize = 16;

/// What the door and the served connections admit or refuse with: the
/// places in service and the complete `503 busy` answers to refuse with.
pub struct Admission {
    pub in_service: Arc<InService>,
    /// The whole HTTP answer of a refusal, one per `Retry-After` value.
    answers: Vec<Vec<u8>>,
    turn: AtomicUsize,
    pub metrics: Metrics,
}

impl Admission {
    /// Refusals with `Retry-After` jittered from `retry_after` to twice it.
    pub fn new(in_service: Arc<InService>, retry_after: u64, metrics: Metrics) -> Arc<Admission> {
        let base = retry_after.max(1);
        Arc::new(Admission {
            in_service,
            answers: (base..=2 * base).map(busy_answer).collect(),
            turn: AtomicUsize::new(0),
            metrics,
        })
    }

    /// The next refusal to send (the `Retry-After` values in turn).
    pub fn busy_answer(&self) -> &[u8] {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        &self.answers[turn % self.answers.len()]
    }
}

/// The whole HTTP answer of a refusal, with `Retry-After: seconds`.
fn busy_answer(seconds: u64) -> Vec<u8> {
    let body = format!(
        "{{\"error\":\"busy\",\"message\":\"sealpass is busy right now: please retry in {seconds} s\",\"retry_after_seconds\":{seconds}}}"
    );
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncache-control: no-store\r\n\
         retry-after: {seconds}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The count of connections in service, its cap, and the idle ones that
/// may give their place up.
#[derive(Debug)]
pub struct InService {
    count: AtomicUsize,
    /// 0: no cap.
    cap: usize,
    /// How long a connection must be idle to give its place up.
    evict_after: Duration,
    epoch: Instant,
    /// Connections that went idle, oldest first (some may be busy again
    /// or gone: looked at when a place is needed).
    idle: Mutex<VecDeque<Weak<Presence>>>,
}

/// A served connection as the door sees it: busy, idle since an answer,
/// or told to close.
#[derive(Debug)]
pub struct Presence {
    state: AtomicU8,
    /// When it went idle, microseconds since the [`InService`] epoch.
    idle_since: AtomicU64,
    /// In the idle queue already.
    queued: AtomicBool,
    /// The connection's task, woken to close it.
    task: Mutex<Option<Waker>>,
}

const BUSY: u8 = 0;
const IDLE: u8 = 1;
const EVICTED: u8 = 2;

impl InService {
    /// At most `cap` connections in service (0: no cap).
    pub fn new(cap: usize) -> Arc<InService> {
        InService::evicting_after(cap, EVICT_IDLE_AFTER)
    }

    /// As [`InService::new`], idle connections giving their place up after
    /// `evict_after` instead of [`EVICT_IDLE_AFTER`].
    pub fn evicting_after(cap: usize, evict_after: Duration) -> Arc<InService> {
        Arc::new(InService {
            count: AtomicUsize::new(0),
            cap,
            evict_after,
            epoch: Instant::now(),
            idle: Mutex::default(),
        })
    }

    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// A place for one more connection: a free one, or one an idle
    /// connection gives up (it is told to close); none at the cap.
    pub fn enter(self: &Arc<Self>) -> Option<Place> {
        let admitted = self.cap == 0
            || self
                .count
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < self.cap).then_some(n + 1)
                })
                .is_ok();
        if self.cap == 0 {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        if admitted || self.evict_one() {
            if !admitted {
                // The evicted connection gives its place back when it has
                // closed: until then the count is over the cap by one.
                self.count.fetch_add(1, Ordering::Relaxed);
            }
            Some(Place {
                in_service: self.clone(),
                presence: Arc::new(Presence {
                    state: AtomicU8::new(BUSY),
                    idle_since: AtomicU64::new(0),
                    queued: AtomicBool::new(false),
                    task: Mutex::new(None),
                }),
            })
        } else {
            None
        }
    }

    /// Tell the connection idle longest, if idle long enough, to close.
    fn evict_one(&self) -> bool {
        let old_enough = self
            .micros()
            .saturating_sub(self.evict_after.as_micros() as u64);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..EVICTION_LOOKS {
            let Some(candidate) = idle.pop_front() else {
                return false;
            };
            let Some(presence) = candidate.upgrade() else {
                continue;
            };
            if presence.state.load(Ordering::Acquire) != IDLE {
                presence.queued.store(false, Ordering::Relaxed);
                continue;
            }
            if presence.idle_since.load(Ordering::Relaxed) > old_enough {
                // Idle, but not for long (it may have been busy since it
                // was queued): looked at again later.
                idle.push_back(candidate);
                continue;
            }
            if presence
                .state
                .compare_exchange(IDLE, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                let task = presence
                    .task
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                if let Some(task) = task {
                    task.wake();
                }
                return true;
            }
            presence.queued.store(false, Ordering::Relaxed);
        }
        false
    }

    /// Connections in service now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// The cap (0: none).
    pub fn cap(&self) -> usize {
        self.cap
    }
}

/// One connection's place in service, given back when it is dropped (the
/// connection closed).
#[derive(Debug)]
pub struct Place {
    in_service: Arc<InService>,
    presence: Arc<Presence>,
}

impl Place {
    /// The connection answered and waits for its next request, woken
    /// through `task` should it have to give its place up.
    pub fn idle(&self, task: &Waker) {
        {
            let mut slot = self.presence.task.lock().unwrap_or_else(|e| e.into_inner());
            if !slot.as_ref().is_some_and(|t| t.will_wake(task)) {
                *slot = Some(task.clone());
            }
        }
        if self.presence.state.load(Ordering::Acquire) == BUSY {
            self.presence
                .idle_since
                .store(self.in_service.micros(), Ordering::Relaxed);
            let _ = self.presence.state.compare_exchange(
                BUSY,
                IDLE,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            if self.in_service.cap != 0 && !self.presence.queued.swap(true, Ordering::Relaxed) {
                self.in_service
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_back(Arc::downgrade(&self.presence));
            }
        }
    }

    /// A request arrived: busy again, unless the place was given up
    /// (false: the connection is to close, the request unanswered).
    pub fn busy(&self) -> bool {
        match self
            .presence
            .state
            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == BUSY,
        }
    }

    /// Whether the place was given up to a new connection.
    pub fn evicted(&self) -> bool {
        self.presence.state.load(Ordering::Acquire) == EVICTED
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.in_service.count.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn places_are_bounded_and_given_back() {
        let in_service = InService::new(2);
        let a = in_service.enter().expect("first");
        let b = in_service.enter().expect("second");
        assert!(in_service.enter().is_none(), "the cap holds");
        assert_eq!(in_service.count(), 2);
        drop(a);
        let c = in_service.enter().expect("a place was given back");
        drop((b, c));
        assert_eq!(in_service.count(), 0);
    }

    #[test]
    fn an_idle_connection_gives_its_place_up_and_a_busy_one_does_not() {
        let in_service = InService::evicting_after(1, Duration::ZERO);
        let a = in_service.enter().expect("first");
        assert!(in_service.enter().is_none(), "busy: kept");
        a.idle(&noop());
        assert!(a.busy(), "its next request arrived");
        assert!(in_service.enter().is_none(), "busy again: kept");
        a.idle(&noop());
        let b = in_service.enter().expect("the idle one gave its place up");
        assert!(a.evicted());
        assert!(!a.busy(), "its next request is not served");
        assert_eq!(in_service.count(), 2, "until it has closed");
        drop(a);
        assert_eq!(in_service.count(), 1);
        assert!(!b.evicted());
    }

    #[test]
    fn a_connection_idle_for_less_than_the_threshold_keeps_its_place() {
        let in_service = InService::evicting_after(1, Duration::from_secs(3600));
        let a = in_service.enter().expect("first");
        a.idle(&noop());
        assert!(in_service.enter().is_none());
        assert!(!a.evicted());
        assert!(a.busy());
    }

    #[test]
    fn no_cap_only_counts() {
        let in_service = InService::new(0);
        let places: Vec<Place> = (0..1000).filter_map(|_| in_service.enter()).collect();
        assert_eq!(places.len(), 1000);
        assert_eq!(in_service.count(), 1000);
    }
}
