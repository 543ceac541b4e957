//! The lines that carry the schedule to the server: each takes the next
//! request due and sends it on its connection, unless the phone it comes
//! from is waiting out a `Retry-After` (then it is held, at once, and the
//! line takes the next), and records what came of it.

use crate::cli::Args;
use crate::histogram::Histogram;
use crate::http::{Connection, send};
use crate::pacer::Pacer;
use crate::schedule::{Schedule, mix};
use crate::{CLASSES, HELD, NOT_MODIFIED, OK, TIMEOUT, UNSENT};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts by class, for a phase.
pub struct Tally {
    /// Latency from the scheduled time.
    pub classes: Vec<Histogram>,
    /// Latency from when the request was sent: the server's part, without
    /// the wait for a free line (which, once the offered rate is over
    /// what the lines carry, is the generator's own queue).
    pub sent: Vec<Histogram>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            classes: CLASSES.iter().map(|_| Histogram::new()).collect(),
            sent: CLASSES.iter().map(|_| Histogram::new()).collect(),
        }
    }
}

/// One second of the run: counts by class and the latency of answered
/// requests (200, 304).
pub struct Second {
    pub counts: [AtomicU64; CLASSES.len()],
    pub ok: Histogram,
}

/// The run: its schedule, how far the lines have taken it, and what came
/// back, by phase and by second.
pub struct Run {
    addr: SocketAddr,
    pub requests: Vec<Vec<u8>>,
    in_order: bool,
    honour_retry_after: bool,
    /// `--paced`: each request released at its time by a thread of its
    /// own; otherwise at the tick of tokio's timer.
    pacer: Option<Pacer>,
    schedule: Schedule,
    /// The next request of the schedule that no line has taken.
    next: AtomicU64,
    /// The phones the requests come from (request `i` from phone
    /// `mix(i ^ PHONE_SALT) % phones.len()`), with when each was last
    /// told to wait and until when.
    phones: Vec<Phone>,
    start: Instant,
    timeout: Duration,
    pub phases: Vec<Tally>,
    pub seconds: Vec<Second>,
}

impl Run {
    pub fn new(args: &Args, requests: Vec<Vec<u8>>) -> Run {
        let schedule = match args.poisson {
            Some(seed) => Schedule::poisson(args.phases.clone(), seed),
            None => Schedule::even(args.phases.clone()),
        };
        let seconds = schedule.seconds().ceil() as usize;
        Run {
            addr: args.addr,
            requests,
            in_order: args.in_order,
            honour_retry_after: args.honour_retry_after,
            pacer: args.paced.then(|| Pacer::new(args.connections)),
            next: AtomicU64::new(0),
            phones: (0..args.phones.max(1)).map(|_| Phone::default()).collect(),
            // Time for every line to be ready before the first request.
            start: Instant::now() + Duration::from_millis(200),
            timeout: args.timeout,
            phases: args.phases.iter().map(|_| Tally::new()).collect(),
            seconds: (0..seconds.max(1))
                .map(|_| Second {
                    counts: Default::default(),
                    ok: Histogram::new(),
                })
                .collect(),
            schedule,
        }
    }

    fn record(&self, phase: usize, offset: f64, class: usize, latency: Duration, sent: Duration) {
        self.phases[phase].classes[class].record(latency);
        self.phases[phase].sent[class].record(sent);
        let second = &self.seconds[(offset as usize).min(self.seconds.len() - 1)];
        second.counts[class].fetch_add(1, Relaxed);
        if class == OK || class == NOT_MODIFIED {
            second.ok.record(latency);
        }
    }

    /// Until request `i`, due at `scheduled`, is due.
    async fn until(&self, i: u64, scheduled: Instant) {
        match &self.pacer {
            Some(pacer) => pacer.released(i).await,
            None if scheduled > Instant::now() => tokio::time::sleep_until(scheduled.into()).await,
            None => {}
        }
    }

    /// A line found request `i` older than the timeout: every line was
    /// busy for the whole timeout, and so were they for every request
    /// scheduled before `now - timeout`. All of them are counted unsent
    /// and the schedule moves past them.
    fn fall_behind(&self, phase: usize, offset: f64, scheduled: Instant, now: Instant) {
        self.record(phase, offset, UNSENT, now - scheduled, Duration::ZERO);
        let cutoff = (now - self.timeout)
            .saturating_duration_since(self.start)
            .as_secs_f64();
        let upto = self.schedule.index_at(cutoff);
        let from = self.next.fetch_max(upto, Relaxed);
        if from < upto {
            self.skip(from, upto, now);
        }
    }

    /// Requests `from..upto`, all older than the timeout at `now`: counted
    /// unsent at once, a second at a time (a generator that is behind
    /// must not spend the machine's CPU on each of them).
    fn skip(&self, from: u64, upto: u64, now: Instant) {
        let mut i = from;
        while i < upto {
            let Some((phase, offset)) = self.schedule.at(i) else {
                return;
            };
            let next = self
                .schedule
                .index_at(offset.floor() + 1.0)
                .clamp(i + 1, upto);
            let scheduled = self.start + Duration::from_secs_f64(offset);
            let latency = now.saturating_duration_since(scheduled);
            self.phases[phase].classes[UNSENT].record_n(latency, next - i);
            let second = &self.seconds[(offset as usize).min(self.seconds.len() - 1)];
            second.counts[UNSENT].fetch_add(next - i, Relaxed);
            i = next;
        }
    }
}

/// A phone's last `Retry-After`: from `since` to `until`, in microseconds
/// from the start of the run (both 0: never told to wait).
#[derive(Default)]
struct Phone {
    since: AtomicU64,
    until: AtomicU64,
}

impl Phone {
    /// Until when the phone waits, if it was waiting at `at` (µs).
    fn waiting_at(&self, at: u64) -> Option<u64> {
        let until = self.until.load(Relaxed);
        (self.since.load(Relaxed) <= at && at < until).then_some(until)
    }

    fn told_to_wait(&self, now: u64, wait: Duration) {
        self.since.store(now, Relaxed);
        self.until.store(now + wait.as_micros() as u64, Relaxed);
    }
}

/// Which phone request `i` comes from is drawn apart from which token it
/// carries.
const PHONE_SALT: u64 = 0x5EA1_9A55_0000_0019;

/// The whole schedule, carried on `connections` lines.
pub async fn carry(run: Arc<Run>, connections: usize) {
    let pacer = run.pacer.is_some().then(|| {
        let run = run.clone();
        std::thread::spawn(move || {
            if let Some(pacer) = &run.pacer {
                pacer.release(&run.schedule, run.start)
            }
        })
    });
    let lines: Vec<_> = (0..connections.max(1))
        .map(|_| tokio::spawn(line(run.clone())))
        .collect();
    for line in lines {
        let _ = line.await;
    }
    // Done: the lines took the last request after it was released.
    if let Some(pacer) = pacer {
        let _ = pacer.join();
    }
}

async fn line(run: Arc<Run>) {
    let mut slot: Option<Connection> = None;
    let micros = |at: Instant| at.saturating_duration_since(run.start).as_micros() as u64;
    loop {
        let i = run.next.fetch_add(1, Relaxed);
        let Some((phase, offset)) = run.schedule.at(i) else {
            break;
        };
        let scheduled = run.start + Duration::from_secs_f64(offset);
        let now = Instant::now();
        if now.saturating_duration_since(scheduled) > run.timeout {
            run.fall_behind(phase, offset, scheduled, now);
            continue;
        }
        let phone = &run.phones[(mix(i ^ PHONE_SALT) % run.phones.len() as u64) as usize];
        // Whether the phone waits is judged when the request would go: at
        // its time, or now if the lines are behind (a request due before
        // its phone was refused, still unsent, is not sent after it).
        let asks_at = micros(scheduled.max(now));
        if let Some(until) = phone.waiting_at(asks_at) {
            // The phone was told to wait, so it does not ask; the line is
            // free for the next request at once (no wait for this one's
            // time: at 10x nearly every request is held, and waking for
            // each took a core from the server).
            let left = Duration::from_micros(until - asks_at);
            run.record(phase, offset, HELD, left, Duration::ZERO);
            continue;
        }
        run.until(i, scheduled).await;
        let pick = if run.in_order { i } else { mix(i) };
        let request = &run.requests[(pick % run.requests.len() as u64) as usize];
        // A request sent late still has the whole timeout to be answered
        // (its latency is counted from its scheduled time all the same): a
        // deadline from the scheduled time would fail every request of a
        // generator that fell behind, and it would never catch up.
        let sent = Instant::now();
        let deadline = sent.max(scheduled) + run.timeout;
        let outcome = match tokio::time::timeout_at(
            deadline.into(),
            send(&mut slot, run.addr, request),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                slot = None;
                TIMEOUT.into()
            }
        };
        run.record(
            phase,
            offset,
            outcome.class,
            scheduled.elapsed(),
            sent.elapsed(),
        );
        if let Some(wait) = outcome.retry_after.filter(|_| run.honour_retry_after) {
            phone.told_to_wait(micros(Instant::now()), wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::answering;
    use crate::report::phase_report;
    use crate::schedule::Phase;
    use crate::{BUSY, CLASSES};

    /// One line at 100 requests a second for 1.5 s (150 requests).
    fn one_line(addr: SocketAddr, honour_retry_after: bool, timeout: Duration) -> Args {
        Args {
            addr,
            path: "/".into(),
            tokens: None,
            phases: vec![Phase {
                rate: 100.0,
                seconds: 1.5,
            }],
            connections: 1,
            phones: 1,
            timeout,
            threads: 1,
            recovery_after: None,
            in_order: false,
            honour_retry_after,
            paced: false,
            poisson: Some(19),
            quiet: true,
        }
    }

    /// The run's counts by class, and its phase's JSON.
    async fn carried(args: &Args) -> (Vec<u64>, serde_json::Value) {
        let run = Arc::new(Run::new(args, vec![b"GET / HTTP/1.1\r\n\r\n".to_vec()]));
        carry(run.clone(), args.connections).await;
        let counts = (0..CLASSES.len())
            .map(|c| run.phases[0].classes[c].count())
            .collect();
        (counts, phase_report(&args.phases[0], &run.phases[0]).0)
    }

    const BUSY_FOR_A_SECOND: &str =
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}";

    #[tokio::test]
    async fn a_phone_told_to_wait_holds_its_requests() {
        let busy = answering(BUSY_FOR_A_SECOND).await;
        let (counts, summary) = carried(&one_line(busy, true, Duration::from_secs(2))).await;
        // Sent at the start and again once the second was over; refused
        // again, the phone waits past the end of the run.
        assert_eq!(counts[BUSY], 2, "{counts:?}");
        assert_eq!(counts[HELD], 148, "each request due while it waited");
        assert_eq!(counts[UNSENT], 0, "the generator kept its schedule");
        assert_eq!(summary["held"], 148);
        assert_eq!(summary["unsent"], 0);
        assert_eq!(summary["valid"], true);
        assert_eq!(summary["target_rps"], 100.0);
        assert_eq!(summary["offered_rps"], 1.0, "2 sent in 1.5 s");
        assert_eq!(summary["refused_share"], 1.0);
    }

    #[tokio::test]
    async fn a_phone_that_ignores_retry_after_sends_every_request() {
        let busy = answering(BUSY_FOR_A_SECOND).await;
        let (counts, summary) = carried(&one_line(busy, false, Duration::from_secs(2))).await;
        assert_eq!(counts[BUSY], 150, "{counts:?}");
        assert_eq!(counts[HELD], 0);
        assert_eq!(summary["offered_rps"], 100.0);
    }

    #[tokio::test]
    async fn a_generator_that_falls_behind_counts_unsent_and_is_not_valid() {
        // A server that never answers: each request holds the only line
        // for the whole timeout (0.1 s), ten times the gap between them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                open.push(stream);
            }
        });
        let (counts, summary) = carried(&one_line(silent, true, Duration::from_millis(100))).await;
        assert!(counts[TIMEOUT] >= 10, "{counts:?}");
        assert!(counts[UNSENT] > 100, "{counts:?}");
        assert_eq!(counts[HELD], 0, "nothing told it to wait");
        assert_eq!(summary["valid"], false);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn paced_lines_send_each_request_at_its_time() {
        let served = answering("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npass").await;
        let mut args = one_line(served, true, Duration::from_secs(2));
        args.paced = true;
        args.connections = 8;
        args.phases[0].rate = 2000.0;
        args.phases[0].seconds = 0.5;
        let started = Instant::now();
        let (counts, summary) = carried(&args).await;
        assert_eq!(counts[OK], 1000, "{counts:?}");
        assert!(
            started.elapsed() >= Duration::from_millis(450),
            "not ahead of time"
        );
        assert_eq!(summary["valid"], true);
        // Sent when due, not at the next millisecond tick: unpaced, the
        // median is 1.2 ms here (a tick's rounding and the burst behind
        // it); paced, 0.14 ms.
        let p50 = summary["ok_p50_ms"].as_f64().unwrap();
        assert!(p50 < 0.7, "median {p50} ms from its time to its answer");
    }
}
