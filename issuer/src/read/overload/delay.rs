//! Queue delay: shedding when the machine, not the number of requests in
//! flight, is what is full.
//!
//! A request that needs no I/O (a pass already held, a list) is worked on
//! in well under a millisecond, so the concurrency limit rarely sees more
//! than a few in flight even when the machine is saturated: the queue is
//! then *before* the service, connections accepted and waiting to be read,
//! where every request waits longer and longer and no limit counts it. So
//! the [door](super::door) stamps each connection when its first bytes
//! arrive, and the first request read from it measures how long it waited
//! (half of it: it waited two turns of the queue, one to be taken from the
//! door and one to be read, where a kept-alive request waits one): its
//! sojourn time, as CoDel measures a packet's (and a kept-alive
//! connection's later requests are timed from when they became readable:
//! [`super::waits`]). As in CoDel, a few slow requests are not a queue: a
//! queue is *standing* while at least [`MIN_SAMPLES`] requests waited
//! longer than `max_queue_delay` within an [`INTERVAL`] (the last one, or
//! the one going on), and at least one in [`LATE_ONE_IN`] of the requests
//! measured in it. (On a busy shared machine a server is sometimes not
//! scheduled for a long moment; the requests of a page load that
//! arrived meanwhile waited that long, but there is no queue to drain, and
//! refusing them only broke the page. Under load, a pause of a millisecond
//! makes a few late among thousands served on time.)
//!
//! While a queue stands, of the requests that waited too long a share
//! `max_queue_delay / wait` is served, evenly spread, and the others are
//! answered 503 busy at once, with `Retry-After`, the connection kept
//! alive, at most one in [`SHED_AT_MOST_ONE_IN`] of the window's
//! requests. By Little's law the wait is proportional to the clients
//! queued, so keeping that share of them brings the wait back to about the
//! limit in one round, while those sent away come back after their
//! `Retry-After`, spread over seconds: the server stays busy at the
//! limit's wait instead of serving everyone late or turning everyone away
//! at once. Measured on one core (docs/performance.md, "Overload at 10x",
//! `scripts/perf/overload-pinned`): with the default limit of 0.5 ms,
//! clients that wait their `Retry-After`, sending 10 times what the core
//! serves, were served about as fast as unloaded at p99 while the core
//! served its capacity. With 1 ms the served waited longer than the goal
//! of twice unloaded allows; the price of 0.5 ms is more refusals at
//! moderate load, most of them the load generator's bursts.

use crate::shared::metrics::Metrics;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The window over which waits are judged.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// Fewest late requests in a window for it to show a standing queue: more
/// than a page load or two brings at once.
pub const MIN_SAMPLES: u32 = 32;
/// And at least one request in this many late: a few late among many
/// quick ones are the machine's hiccups, not a queue. (With one in 8,
/// many more requests were refused at a fifth of capacity; the 10x
/// figures held either way: docs/performance.md, "Overload at 10x".)
pub const LATE_ONE_IN: u32 = 4;
/// At most one request in this many of a window is shed. Refusing costs
/// about what serving does; it pays only with clients that wait their
/// `Retry-After` (the citizen page does), for then a few refusals a second
/// keep the queue short. Clients that come straight back would make every
/// refusal a wasted answer: with such clients, refusing without a bound
/// served a small fraction of capacity (docs/performance.md, "Overload at
/// 10x").
pub const SHED_AT_MOST_ONE_IN: u32 = 16;

/// The measured queueing delay and the decision it drives.
pub struct QueueDelay {
    limit: Duration,
    /// The last sojourn measured, in microseconds.
    last: AtomicU64,
    window: Mutex<Window>,
    metrics: Metrics,
}

/// The requests measured since `start`, how many of them were late, and
/// how many were shed.
struct Window {
    start: Instant,
    measured: u32,
    late: u32,
    shed: u32,
    /// The last full window showed a standing queue.
    standing: bool,
    /// The shares of late requests admitted so far, in 1/65,536ths: a
    /// late request is admitted each time this passes a whole number.
    admitted: u64,
}

impl Window {
    fn shows_a_queue(&self) -> bool {
        self.late >= MIN_SAMPLES && self.late.saturating_mul(LATE_ONE_IN) >= self.measured
    }

    /// A queue stood in the last full window or stands in this one.
    fn queue_stands(&self) -> bool {
        self.standing || self.shows_a_queue()
    }

    /// Whether to admit a request that waited `sojourn`, over `limit`,
    /// while a queue stands: a share `limit / sojourn` of such requests
    /// is, evenly spread. Under Little's law the wait is proportional to
    /// the clients in the queue, so keeping that share of them (the others
    /// told to come back later) brings the wait back to about the limit
    /// in one round, without turning every client away at once.
    fn admit_late(&mut self, limit: Duration, sojourn: Duration) -> bool {
        let share = (limit.as_nanos() * u128::from(WHOLE) / sojourn.as_nanos().max(1))
            .min(u128::from(WHOLE)) as u64;
        let before = self.admitted;
        self.admitted = before.wrapping_add(share);
        self.admitted / WHOLE != before / WHOLE
    }
}

/// One, in the fixed point of `QueueDelay::admitted`.
const WHOLE: u64 = 1 << 16;

impl QueueDelay {
    /// `limit` zero: never shed for delay.
    pub fn new(limit: Duration, metrics: Metrics) -> Arc<QueueDelay> {
        let now = Instant::now();
        Arc::new(QueueDelay {
            limit,
            last: AtomicU64::new(0),
            window: Mutex::new(Window {
                start: now,
                measured: 0,
                late: 0,
                shed: 0,
                standing: false,
                admitted: 0,
            }),
            metrics,
        })
    }

    /// A request read at `now` that waited `sojourn` to be read: record
    /// it; true if it is to be shed.
    pub fn waited(&self, sojourn: Duration, now: Instant) -> bool {
        if self.limit.is_zero() {
            return false;
        }
        self.last
            .store(sojourn.as_micros() as u64, Ordering::Relaxed);
        self.metrics.queue_delay(sojourn);
        let late = sojourn > self.limit;
        {
            let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if now.saturating_duration_since(window.start) >= INTERVAL {
                window.standing = window.shows_a_queue();
                window.start = now;
                window.measured = 0;
                window.late = 0;
                window.shed = 0;
            }
            window.measured += 1;
            window.late += u32::from(late);
            let standing = window.queue_stands();
            let within_budget = window
                .shed
                .saturating_add(1)
                .saturating_mul(SHED_AT_MOST_ONE_IN)
                <= window.measured;
            if !late || !standing || !within_budget || window.admit_late(self.limit, sojourn) {
                return false;
            }
            window.shed += 1;
        }
        true
    }

    /// The last sojourn measured.
    pub fn current(&self) -> Duration {
        Duration::from_micros(self.last.load(Ordering::Relaxed))
    }

    /// Whether a queue stands now (in the window going on or the last one).
    pub fn is_standing(&self) -> bool {
        if self.limit.is_zero() {
            return false;
        }
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        window.start.elapsed() < 2 * INTERVAL && window.queue_stands()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` requests read 10 µs apart from `from`, each having waited
    /// `wait`: which were shed.
    fn reads(delay: &QueueDelay, from: Instant, n: u32, wait: Duration) -> Vec<bool> {
        (0..n)
            .map(|i| delay.waited(wait, from + Duration::from_micros(10 * u64::from(i))))
            .collect()
    }

    fn count(shed: &[bool]) -> usize {
        shed.iter().filter(|s| **s).count()
    }

    #[test]
    fn a_page_load_or_a_stall_is_not_a_queue() {
        let delay = QueueDelay::new(ms(1), Metrics::new());
        let t = Instant::now() + ms(1000);
        // A page load's 31 requests all waited 60 ms (the server was not
        // scheduled): too few to call it a queue.
        assert_eq!(count(&reads(&delay, t, MIN_SAMPLES - 1, ms(60))), 0);
        assert_eq!(delay.current(), ms(60));
        assert!(!delay.is_standing());
        // Nor are 40 late among 1,000 served on time in a window.
        let t = t + ms(200);
        assert_eq!(count(&reads(&delay, t, 960, Duration::ZERO)), 0);
        assert_eq!(count(&reads(&delay, t + ms(10), 40, ms(5))), 0);
    }

    #[test]
    fn a_standing_queue_sheds_a_share_of_the_late_requests_within_a_budget() {
        let delay = QueueDelay::new(ms(10), Metrics::new());
        let t = Instant::now();
        // 300 on time, then late ones: a queue stands once at least 32
        // are late and one in 4 of those measured (the 100th late one).
        // Those that waited 40 ms are shed three in four (only a
        // quarter is needed to bring the wait back to 10 ms), evenly
        // spread, as far as the budget of one in 16 of the window goes.
        assert_eq!(count(&reads(&delay, t, 300, ms(1))), 0);
        let late = reads(&delay, t + ms(5), 1200, ms(40));
        assert!(delay.is_standing());
        // The late one whose arrival makes a quarter of the 300 + n late.
        let queue_from = 300usize.div_ceil(LATE_ONE_IN as usize - 1) - 1;
        assert_eq!(queue_from, 99);
        assert!(late[..queue_from].iter().all(|s| !s), "not yet a queue");
        assert!(
            late[queue_from..queue_from + 11].iter().any(|s| *s),
            "a queue"
        );
        let shed = count(&late);
        assert_eq!(
            shed,
            1500 / SHED_AT_MOST_ONE_IN as usize,
            "the window's budget"
        );
        let longest_refused_run = late.split(|s| !*s).map(<[bool]>::len).max().unwrap();
        assert!(longest_refused_run <= 3, "spread: {longest_refused_run}");
        // A request within the limit is never shed, queue or not.
        assert!(!delay.waited(ms(5), t + ms(55)));
        // In the next window, of requests that waited a second, almost
        // all are refused while the budget lasts.
        let very_late = reads(&delay, t + ms(110), 320, ms(1000));
        assert_eq!(count(&very_late), 20, "one in 16");
    }

    #[test]
    fn the_queue_ends_when_late_requests_become_rare() {
        let delay = QueueDelay::new(ms(10), Metrics::new());
        let t = Instant::now();
        assert!(
            count(&reads(&delay, t, 1600, ms(100))) > 90,
            "a standing queue"
        );
        // The next window sees only a few late requests among many on
        // time (those few still shed: the last window had a queue) ...
        assert_eq!(count(&reads(&delay, t + ms(150), 1000, ms(1))), 0);
        reads(&delay, t + ms(160), 20, ms(100));
        // ... so in the one after, late requests are not a queue again
        // until there are enough of them.
        let after = reads(&delay, t + ms(260), 100, ms(100));
        assert_eq!(count(&after[..MIN_SAMPLES as usize - 1]), 0);
    }

    #[test]
    fn a_zero_limit_never_sheds() {
        let delay = QueueDelay::new(Duration::ZERO, Metrics::new());
        let t = Instant::now();
        assert!(!delay.waited(Duration::from_secs(5), t + Duration::from_secs(5)));
        assert!(!delay.is_standing());
    }
}
