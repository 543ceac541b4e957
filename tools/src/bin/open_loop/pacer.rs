//! `--paced`: a thread that releases each request at its time, to within
//! a few microseconds, and wakes the line waiting for it.
//!
//! tokio's timers tick every millisecond, so requests due within one tick
//! go out together: at 25,000 a second, bursts of 25, which a server
//! watching its queue delay sees as load it does not have. Lines spinning
//! until their time instead cost the generator a whole core at any rate
//! (measured: 15,000 a second on 1,024 lines took 5.3 s of CPU in 5.2 s),
//! a core the server on the same machine needs. One thread sleeping with
//! a microsecond's timer slack costs a fraction of that at such rates;
//! at ten times capacity it is busy, as the generator is anyway.

use crate::schedule::Schedule;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Requests due this soon are released with the one due now.
const BATCH: Duration = Duration::from_micros(20);

pub struct Pacer {
    /// Every request before this one is due.
    due: AtomicU64,
    /// The line waiting for request `i` waits on `waits[i % waits.len()]`.
    /// Lines take requests in order and wait for the one they took, so at
    /// most `lines` requests are taken and not yet due, each by its own
    /// line: with twice as many places no two waiting lines share one.
    waits: Vec<Notify>,
}

impl Pacer {
    pub fn new(lines: usize) -> Pacer {
        Pacer {
            due: AtomicU64::new(0),
            waits: (0..2 * lines.max(1)).map(|_| Notify::new()).collect(),
        }
    }

    /// Until request `i` is due.
    pub async fn released(&self, i: u64) {
        let wait = &self.waits[(i % self.waits.len() as u64) as usize];
        // A release before the line waits leaves a permit (notify_one), so
        // none is lost; a permit left by an earlier request's release
        // wakes the line too early, and it waits again. Lines that skip
        // held requests run ahead, so two may wait on one place, and the
        // wake meant for one may be taken by the other: each looks again
        // at least every millisecond (before, the last line could wait for
        // ever).
        while self.due.load(Ordering::Acquire) <= i {
            let _ = tokio::time::timeout(Duration::from_millis(1), wait.notified()).await;
        }
    }

    /// Release the whole schedule, each request at its time from `start`
    /// (run on a thread of its own: it sleeps between requests).
    pub fn release(&self, schedule: &Schedule, start: Instant) {
        // The kernel may wake a sleeping thread up to its timer slack late
        // (50 us by default); a microsecond is enough here.
        // SAFETY: PR_SET_TIMERSLACK takes a number and changes only this
        // thread's timer slack.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong) };
        let mut next = 0;
        while let Some((_, offset)) = schedule.at(next) {
            let at = start + Duration::from_secs_f64(offset);
            let now = Instant::now();
            if at > now + BATCH {
                std::thread::sleep(at - now - BATCH);
                continue;
            }
            // Everything due within `BATCH` of now, at once: a thread woken
            // late, or a rate above what one thread can wake one at a time
            // (at 400,000 a second, sleeping before each request was a
            // core's worth of system calls, taken from the server).
            let elapsed = (now + BATCH).saturating_duration_since(start).as_secs_f64();
            let upto = schedule.index_at(elapsed).max(next + 1);
            self.due.store(upto, Ordering::Release);
            for i in next..upto {
                self.waits[(i % self.waits.len() as u64) as usize].notify_one();
            }
            next = upto;
        }
    }
}
