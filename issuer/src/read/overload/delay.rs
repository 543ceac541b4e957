//! Queue delay: shedding when the machine, not the number of requests in
//! flight, is what is full, and only then.
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
//! [`super::waits`]).
//!
//! **A queue stands** only when most requests read in a whole
//! [`INTERVAL`] waited longer than the target (`max_queue_delay`): more
//! than [`LATE_TO_STAND`] of them, and at least [`MIN_SAMPLES`] read in
//! it. That is CoDel's test (every packet of an interval over the target)
//! with a quartile for the minimum: tokio runs the task it has just woken
//! for I/O before the others waiting (its LIFO slot), so one request in
//! each batch the runtime takes from the kernel is read at once however
//! long the queue, and the minimum would never see one. Anything that
//! leaves the server moments with little waiting (a closed loop of a few
//! dozen clients, random arrivals below capacity, a burst, a page load
//! that waited out a pause of a busy shared machine) lets most requests
//! through within the target, and nothing is refused. (The rule before
//! this one counted late requests at a 0.5 ms limit: on a busy machine it
//! refused 1-6% of the requests at half of capacity and in a closed loop
//! of 64 connections; docs/public-api.md, "Overload", says why this one
//! replaced it.)
//!
//! While a queue stands, and until a whole interval in which at most one
//! request in [`LATE_AT_MOST_ONE_IN`] was late ends it, of the requests
//! that waited longer than the target a share `target / wait` is served,
//! evenly spread, and the others are answered 503 busy at once, with
//! `Retry-After`, the connection kept alive, at most one in
//! [`SHED_AT_MOST_ONE_IN`] of the interval's requests. A request that
//! waited less than the target is never refused. By Little's law the
//! wait is proportional to the clients queued, so keeping that share of
//! them brings the wait back to about the target in one round, while those
//! sent away come back after their `Retry-After`, spread over seconds.

use crate::shared::metrics::Metrics;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The window over which waits are judged: CoDel's interval, about a
/// round trip's worth of requests and longer than a page load.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// Fewest requests read in a window for it to show a standing queue: more
/// than a page load or two brings at once.
pub const MIN_SAMPLES: u32 = 32;
/// A queue stands after a window in which more than this share of the
/// requests waited longer than the target: three in four (the window's
/// first quartile of waits is over the target).
pub const LATE_TO_STAND: (u32, u32) = (3, 4);
/// Once a queue stands, it is over after a whole window in which at most
/// one request in this many waited longer than the target. (While the
/// share rule keeps the wait near the target, many requests are read
/// within it: the test to start would end and restart the shedding every
/// other window, letting the queue grow back in between.)
pub const LATE_AT_MOST_ONE_IN: u32 = 2;
/// At most one request in this many of a window is shed. Refusing costs
/// about what serving does; it pays only with clients that wait their
/// `Retry-After` (the citizen page does), for then a few refusals a second
/// keep the queue short. Clients that come straight back would make every
/// refusal a wasted answer: with such clients, refusing without a bound
/// served a small fraction of capacity ("Overload at 10x" in the git
/// history of docs/performance.md).
pub const SHED_AT_MOST_ONE_IN: u32 = 16;

/// The measured queueing delay and the decision it drives.
pub struct QueueDelay {
    target: Duration,
    /// The last sojourn measured, in microseconds.
    last: AtomicU64,
    window: Mutex<Window>,
    metrics: Metrics,
}

/// The requests read since `start`: how many, how many waited longer than
/// the target, how many were shed.
struct Window {
    start: Instant,
    measured: u32,
    late: u32,
    shed: u32,
    /// A queue stands (see the module's documentation).
    standing: bool,
    /// The shares of late requests admitted so far, in 1/65,536ths: a
    /// late request is admitted each time this passes a whole number.
    admitted: u64,
}

impl Window {
    fn new(start: Instant) -> Window {
        Window {
            start,
            measured: 0,
            late: 0,
            shed: 0,
            standing: false,
            admitted: 0,
        }
    }

    /// At the end of a window: whether a queue stands in the next one.
    /// `contiguous` is false when the window ended over an interval before
    /// the next request came, so that nothing was read in between.
    fn queue_after(&self, contiguous: bool) -> bool {
        if !contiguous || self.measured < MIN_SAMPLES {
            return false;
        }
        let (late, of) = if self.standing {
            (1, LATE_AT_MOST_ONE_IN)
        } else {
            LATE_TO_STAND
        };
        u64::from(self.late) * u64::from(of) > u64::from(self.measured) * u64::from(late)
    }

    /// Whether to admit a request that waited `sojourn`, over `target`,
    /// while a queue stands: a share `target / sojourn` of such requests
    /// is, evenly spread.
    fn admit_late(&mut self, target: Duration, sojourn: Duration) -> bool {
        let share = (target.as_nanos() * u128::from(WHOLE) / sojourn.as_nanos().max(1))
            .min(u128::from(WHOLE)) as u64;
        let before = self.admitted;
        self.admitted = before.wrapping_add(share);
        self.admitted / WHOLE != before / WHOLE
    }
}

/// One, in the fixed point of `Window::admitted`.
const WHOLE: u64 = 1 << 16;

impl QueueDelay {
    /// `target` zero: never shed for delay.
    pub fn new(target: Duration, metrics: Metrics) -> Arc<QueueDelay> {
        Arc::new(QueueDelay {
            target,
            last: AtomicU64::new(0),
            window: Mutex::new(Window::new(Instant::now())),
            metrics,
        })
    }

    /// A request read at `now` that waited `sojourn` to be read: record
    /// it; true if it is to be shed.
    pub fn waited(&self, sojourn: Duration, now: Instant) -> bool {
        if self.target.is_zero() {
            return false;
        }
        self.last
            .store(sojourn.as_micros() as u64, Ordering::Relaxed);
        self.metrics.queue_delay(sojourn);
        let late = sojourn > self.target;
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let age = now.saturating_duration_since(window.start);
        if age >= INTERVAL {
            let standing = window.queue_after(age < 2 * INTERVAL);
            let admitted = window.admitted;
            *window = Window::new(now);
            window.standing = standing;
            window.admitted = admitted;
        }
        window.measured += 1;
        window.late += u32::from(late);
        let within_budget = window
            .shed
            .saturating_add(1)
            .saturating_mul(SHED_AT_MOST_ONE_IN)
            <= window.measured;
        if !late || !window.standing || !within_budget || window.admit_late(self.target, sojourn) {
            return false;
        }
        window.shed += 1;
        true
    }

    /// The last sojourn measured.
    pub fn current(&self) -> Duration {
        Duration::from_micros(self.last.load(Ordering::Relaxed))
    }

    /// Whether a queue stands now.
    pub fn is_standing(&self) -> bool {
        if self.target.is_zero() {
            return false;
        }
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        window.start.elapsed() < 2 * INTERVAL && window.standing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `waits.len()` requests read 10 µs apart from `from`, request `i`
    /// having waited `waits[i]`: which were shed.
    fn reads(delay: &QueueDelay, from: Instant, waits: &[Duration]) -> Vec<bool> {
        waits
            .iter()
            .enumerate()
            .map(|(i, wait)| delay.waited(*wait, from + Duration::from_micros(10 * i as u64)))
            .collect()
    }

    fn all(n: usize, wait: Duration) -> Vec<Duration> {
        vec![wait; n]
    }

    fn count(shed: &[bool]) -> usize {
        shed.iter().filter(|s| **s).count()
    }

    #[test]
    fn windows_with_a_quarter_on_time_are_never_a_queue() {
        // Random arrivals near capacity, or a busy machine: many requests
        // wait several times the target, but a quarter of each window's
        // are read within it.
        let delay = QueueDelay::new(ms(5), Metrics::new());
        let t = Instant::now();
        for w in 0..20u64 {
            let mut waits = all(2000, ms(8 + w));
            waits
                .iter_mut()
                .skip(w as usize % 4)
                .step_by(4)
                .for_each(|w| *w = ms(4));
            let start = t + ms(100 * w);
            assert_eq!(count(&reads(&delay, start, &waits)), 0, "window {w}");
        }
        assert!(!delay.is_standing());
    }

    #[test]
    fn a_stall_of_a_page_load_is_not_a_queue() {
        let delay = QueueDelay::new(ms(5), Metrics::new());
        let t = Instant::now() + ms(1000);
        // A page load's 31 requests all waited 60 ms (the server was not
        // scheduled): too few to call it a queue.
        assert_eq!(
            count(&reads(&delay, t, &all(MIN_SAMPLES as usize - 1, ms(60)))),
            0
        );
        assert_eq!(delay.current(), ms(60));
        assert_eq!(count(&reads(&delay, t + ms(100), &all(200, ms(60)))), 0);
        assert!(!delay.is_standing());
    }

    #[test]
    fn a_whole_window_of_late_requests_sheds_a_share_of_the_next_within_a_budget() {
        let delay = QueueDelay::new(ms(10), Metrics::new());
        let t = Instant::now();
        // Every request of a window waited over the target: nothing is
        // shed in it (a queue is only known at its end) ...
        assert_eq!(count(&reads(&delay, t, &all(1000, ms(40)))), 0);
        // ... and in the next, of those that waited 40 ms three in four
        // are shed (a quarter is enough to bring the wait back to 10 ms),
        // evenly spread, as far as the budget of one in 16 goes.
        let late = reads(&delay, t + ms(100), &all(1600, ms(40)));
        assert!(delay.is_standing());
        let budget = 1600 / SHED_AT_MOST_ONE_IN as usize;
        assert!((budget - 2..=budget).contains(&count(&late)), "the budget");
        assert!(late[..32].iter().any(|s| *s), "at once");
        let longest_refused_run = late.split(|s| !*s).map(<[bool]>::len).max().unwrap();
        assert!(longest_refused_run <= 3, "spread: {longest_refused_run}");
        // A request within the target is never shed, queue or not.
        assert!(!delay.waited(ms(9), t + ms(190)));
    }

    #[test]
    fn the_queue_lasts_while_most_requests_are_late_and_ends_when_few_are() {
        let delay = QueueDelay::new(ms(10), Metrics::new());
        let t = Instant::now();
        reads(&delay, t, &all(1000, ms(40)));
        assert!(count(&reads(&delay, t + ms(100), &all(1000, ms(40)))) > 0);
        // Shedding brought a third of the requests within the target: the
        // queue still stands while most are late.
        let mut waits = all(1000, ms(20));
        waits.iter_mut().step_by(3).for_each(|w| *w = ms(2));
        assert!(count(&reads(&delay, t + ms(200), &waits)) > 0);
        assert!(delay.is_standing());
        // A window where most were on time ends it: late ones in the next
        // are served, until a whole window is late again.
        let mut waits = all(1000, ms(2));
        waits.iter_mut().step_by(3).for_each(|w| *w = ms(20));
        reads(&delay, t + ms(300), &waits);
        assert_eq!(count(&reads(&delay, t + ms(400), &all(1000, ms(40)))), 0);
        assert!(count(&reads(&delay, t + ms(500), &all(1000, ms(40)))) > 0);
    }

    #[test]
    fn a_silence_between_windows_ends_the_queue() {
        let delay = QueueDelay::new(ms(10), Metrics::new());
        let t = Instant::now();
        reads(&delay, t, &all(1000, ms(40)));
        // Nothing read for over an interval after that window: nothing
        // stood in the meantime.
        assert_eq!(count(&reads(&delay, t + ms(250), &all(1000, ms(40)))), 0);
    }

    #[test]
    fn a_zero_target_never_sheds() {
        let delay = QueueDelay::new(Duration::ZERO, Metrics::new());
        let t = Instant::now();
        reads(&delay, t, &all(1000, Duration::from_secs(5)));
        assert!(!delay.waited(Duration::from_secs(5), t + Duration::from_secs(5)));
        assert!(!delay.is_standing());
    }
}
