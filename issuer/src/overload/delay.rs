//! Queue delay: shedding when the machine, not the number of requests in
//! flight, is what is full.
//!
//! A request that needs no I/O (a pass already held, a list) is worked on
//! in well under a millisecond, so the concurrency limit rarely sees more
//! than a few in flight even when the machine is saturated: the queue is
//! then *before* the service, connections accepted and waiting to be read,
//! where every request waits longer and longer and no limit counts it. So
//! the [door](super::door) stamps each connection when its first bytes
//! arrive, and the first request read from it measures how long it waited:
//! its sojourn time, as CoDel measures a packet's. As in CoDel, a few slow
//! requests are not a queue: the queue is *standing* when, over a whole
//! [`INTERVAL`] (the last one, or the one going on), at least
//! [`MIN_SAMPLES`] requests were measured and even the quickest of them
//! waited longer than `max_queue_delay`. (Measured: on a busy shared
//! machine a server is sometimes not scheduled for 100 ms; the two or three
//! requests that arrived meanwhile waited that long, but there is no queue
//! to drain, and refusing them only broke a page load.) While it stands, each
//! request that waited too long is answered 503 busy at once (answering it
//! would only lengthen the queue for those behind it), and for [`HOLD`]
//! after such a request the door refuses new connections itself, at once,
//! so the queue drains; the first request served quickly ends it.

use crate::public::metrics::Metrics;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the door refuses after a request waited too long.
pub const HOLD: Duration = Duration::from_millis(15);
/// The window over which waits are judged.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// Fewest waits in a window for it to show a standing queue.
pub const MIN_SAMPLES: u32 = 8;

/// The measured queueing delay and the decision it drives.
pub struct QueueDelay {
    limit: Duration,
    epoch: Instant,
    /// The last sojourn measured, in microseconds.
    last: AtomicU64,
    /// Microseconds since `epoch` until which the door refuses (0: never).
    refuse_until: AtomicU64,
    window: Mutex<Window>,
    metrics: Metrics,
}

/// The waits measured since `start`.
struct Window {
    start: Instant,
    quickest: Duration,
    count: u32,
    /// The last full window showed a standing queue, and no request has
    /// been served quickly since.
    standing: bool,
}

impl Window {
    /// Enough waits, and even the quickest over the limit.
    fn shows_a_queue(&self, limit: Duration) -> bool {
        self.count >= MIN_SAMPLES && self.quickest > limit
    }
}

impl QueueDelay {
    /// `limit` zero: never shed for delay.
    pub fn new(limit: Duration, metrics: Metrics) -> Arc<QueueDelay> {
        let now = Instant::now();
        Arc::new(QueueDelay {
            limit,
            // Before any stamp a door can make.
            epoch: now.checked_sub(Duration::from_secs(3600)).unwrap_or(now),
            last: AtomicU64::new(0),
            refuse_until: AtomicU64::new(0),
            window: Mutex::new(Window {
                start: now,
                quickest: Duration::MAX,
                count: 0,
                standing: false,
            }),
            metrics,
        })
    }

    /// A monitor that says "over" all the time (`over`) or never: for
    /// tests of what is done with the decision.
    pub fn pinned(over: bool, metrics: Metrics) -> Arc<QueueDelay> {
        if !over {
            return QueueDelay::new(Duration::ZERO, metrics);
        }
        let delay = QueueDelay::new(Duration::from_micros(1), metrics);
        delay.refuse_until.store(u64::MAX, Ordering::Relaxed);
        delay
    }

    fn micros_since_epoch(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_micros() as u64
    }

    /// A request read at `now` from a connection whose first bytes arrived
    /// at `arrived`: record how long it waited; true if it is to be shed.
    pub fn waited(&self, arrived: Instant, now: Instant) -> bool {
        if self.limit.is_zero() {
            return false;
        }
        let sojourn = now.saturating_duration_since(arrived);
        self.last
            .store(sojourn.as_micros() as u64, Ordering::Relaxed);
        self.metrics.queue_delay(sojourn);
        let standing = {
            let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if now.saturating_duration_since(window.start) >= INTERVAL {
                window.standing = window.shows_a_queue(self.limit);
                window.start = now;
                window.quickest = sojourn;
                window.count = 1;
            } else {
                window.quickest = window.quickest.min(sojourn);
                window.count += 1;
            }
            if sojourn <= self.limit {
                window.standing = false;
            }
            window.standing || window.shows_a_queue(self.limit)
        };
        let shed = sojourn > self.limit && standing;
        if shed {
            let until = self.micros_since_epoch(now + HOLD);
            self.refuse_until.fetch_max(until, Ordering::Relaxed);
        }
        shed
    }

    /// The last sojourn measured.
    pub fn current(&self) -> Duration {
        Duration::from_micros(self.last.load(Ordering::Relaxed))
    }

    /// Whether the door should refuse new connections now.
    pub fn is_over(&self) -> bool {
        let until = self.refuse_until.load(Ordering::Relaxed);
        until != 0 && self.micros_since_epoch(Instant::now()) < until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_few_slow_requests_are_not_a_queue() {
        let delay = QueueDelay::new(ms(20), Metrics::new());
        let t = Instant::now();
        // Three slow page loads in a window, then a window's worth later:
        // too few to call it a queue.
        for i in 0..3 {
            assert!(!delay.waited(t + ms(10 * i), t + ms(10 * i + 60)));
        }
        assert!(!delay.waited(t + ms(150), t + ms(210)));
        assert_eq!(delay.current(), ms(60));
        assert!(!delay.is_over());
        // Nor is a stall: two requests that waited 110 ms together.
        assert!(!delay.waited(t + ms(250), t + ms(360)));
        assert!(!delay.waited(t + ms(250), t + ms(361)));
    }

    #[test]
    fn a_standing_queue_is_shed_until_a_request_is_served_quickly() {
        let delay = QueueDelay::new(ms(20), Metrics::new());
        let t = Instant::now();
        // A window in which every one of 8 requests waited over 20 ms.
        for i in 0..7 {
            assert!(!delay.waited(t + ms(5 * i), t + ms(5 * i + 30)));
        }
        // The eighth makes it a queue: it is shed.
        assert!(delay.waited(t + ms(35), t + ms(65)));
        // So is each slow request in the next window, and the door closes
        // for a moment (until t + 125 ms).
        assert!(delay.waited(t + ms(80), t + ms(110)));
        assert!(delay.waited(t + ms(85), t + ms(112)));
        assert!(delay.is_over());
        std::thread::sleep(ms(150));
        assert!(!delay.is_over(), "the door opens again to measure anew");
        // A quick one ends it; a slow one after is not shed.
        assert!(!delay.waited(t + ms(120), t + ms(121)));
        assert!(!delay.waited(t + ms(125), t + ms(150)));
    }

    #[test]
    fn a_zero_limit_never_sheds() {
        let delay = QueueDelay::new(Duration::ZERO, Metrics::new());
        let t = Instant::now();
        assert!(!delay.waited(t, t + Duration::from_secs(5)));
        assert!(!delay.is_over());
    }
}
