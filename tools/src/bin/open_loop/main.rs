//! Open-loop load on loopback for the performance harness (issue 8,
//! `scripts/perf/run`): requests are sent at a fixed arrival rate whatever
//! the server does, so a slow period cannot hide by slowing the load down
//! (a closed loop such as wrk waits for each answer before asking again).
//! Each request's latency is measured from the moment it was *scheduled*,
//! not from when a connection was free to send it: a request the client
//! had to hold because every connection was busy counts its wait (no
//! coordinated omission).
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin open_loop -- \
//!     --addr 127.0.0.1:18080 --tokens tokens.txt --phase 20000:10 [--phase RATE:SECONDS ...]
//!     [--path /api/v1/pass] [--connections 256] [--timeout-ms 2000] [--threads 2]
//!     [--recovery-after PHASE] [--in-order] [--honour-retry-after] [--paced] [--quiet]
//! ```
//!
//! - `--phase RATE:SECONDS`: this many requests a second for this long;
//!   phases run one after the other (e.g. a baseline, a spike, a tail to
//!   watch recovery in).
//! - `--tokens FILE`: identity tokens, one a line (`perf_tokens`); each
//!   request carries a random one as `Authorization: Bearer`. Without it no
//!   header is sent (e.g. a static file from nginx).
//! - `--in-order`: request i carries token i (modulo their number)
//!   instead of a random one: a warm-up that sends every token once.
//! - `--connections N`: at most N connections at once (HTTP/1.1
//!   keep-alive, reopened after the server closes one). A request whose
//!   scheduled time comes while all N are busy waits for one, its wait
//!   counted in its latency; one still unsent `--timeout-ms` after its time
//!   is counted as `unsent` (the generator could not keep the rate).
//! - `--honour-retry-after`: a connection refused with 503 or 429 and a
//!   `Retry-After` carries nothing more for that long, as a phone whose
//!   citizen page was told to come back does not ask again before then
//!   (the page does this: issuer/web/page/app.js). Without it a refused
//!   connection takes the next scheduled request at once: the load of
//!   clients that ignore `Retry-After`.
//! - `--paced`: send each request at its scheduled microsecond. tokio's
//!   timers tick every millisecond, so without it the requests scheduled
//!   within one go out together, a burst at every tick (at 25,000 a
//!   second, 25 at once); with it a connection wakes a millisecond early
//!   and yields until its time, which costs the generator's core the
//!   spinning (for low rates: at 10x the generator is busy anyway).
//! - `--timeout-ms`: an answer not complete this long after the request
//!   was sent is a timeout (its connection is dropped).
//! - `--recovery-after PHASE`: report how long after the end of phase
//!   PHASE (0-based; the spike) the server was back to normal: the first
//!   second from which on every second has at least 95% of its requests
//!   answered 200/304 and their p99 within max(2 x phase 0's p99, 20 ms).
//!
//! Prints a human summary on standard error and one JSON object on
//! standard output: per phase and per status class (200, 304, 429, 503,
//! other, error, timeout, unsent) the count and p50/p99/max latency, goodput
//! (200 and 304 a second), and a per-second series (offered, ok, shed,
//! failed, unsent, ok p99) from which recovery can be read. Each class also
//! has `sent_p50_ms`/`sent_p99_ms`, from when the request was sent: the
//! server's part (above the rate the connections carry, the wait for a
//! free connection is the generator's own queue, up to `--timeout-ms`).

mod histogram;
mod http;
mod report;
mod schedule;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use histogram::Histogram;
use http::{Connection, send};
use schedule::{Phase, Schedule, mix};

const CLASSES: [&str; 8] = [
    "200", "304", "429", "503", "other", "error", "timeout", "unsent",
];
const OK: usize = 0;
const NOT_MODIFIED: usize = 1;
const RATE_LIMITED: usize = 2;
const BUSY: usize = 3;
const OTHER: usize = 4;
const ERROR: usize = 5;
const TIMEOUT: usize = 6;
/// Never sent: every connection was busy until its timeout (the load
/// generator, not the server, could not keep the rate).
const UNSENT: usize = 7;

/// Counts by class, for a phase or a second.
struct Tally {
    /// Latency from the scheduled time.
    classes: Vec<Histogram>,
    /// Latency from when the request was sent: the server's part, without
    /// the wait for a free connection (which, once the offered rate is
    /// over what the connections carry, is the generator's own queue).
    sent: Vec<Histogram>,
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
struct Second {
    counts: [AtomicU64; 8],
    ok: Histogram,
}

struct Shared {
    addr: SocketAddr,
    requests: Vec<Vec<u8>>,
    in_order: bool,
    honour_retry_after: bool,
    paced: bool,
    schedule: Schedule,
    next: AtomicU64,
    start: Instant,
    timeout: Duration,
    phases: Vec<Tally>,
    seconds: Vec<Second>,
}

impl Shared {
    fn record(&self, phase: usize, offset: f64, class: usize, latency: Duration, sent: Duration) {
        self.phases[phase].classes[class].record(latency);
        self.phases[phase].sent[class].record(sent);
        let second = &self.seconds[(offset as usize).min(self.seconds.len() - 1)];
        second.counts[class].fetch_add(1, Relaxed);
        if class == OK || class == NOT_MODIFIED {
            second.ok.record(latency);
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

async fn worker(shared: Arc<Shared>) {
    let mut slot: Option<Connection> = None;
    loop {
        let i = shared.next.fetch_add(1, Relaxed);
        let Some((phase, offset)) = shared.schedule.at(i) else {
            break;
        };
        let scheduled = shared.start + Duration::from_secs_f64(offset);
        let now = Instant::now();
        if scheduled > now {
            if shared.paced {
                let early = scheduled - Duration::from_millis(1);
                if early > now {
                    tokio::time::sleep_until(early.into()).await;
                }
                while Instant::now() < scheduled {
                    tokio::task::yield_now().await;
                }
            } else {
                tokio::time::sleep_until(scheduled.into()).await;
            }
        } else if now - scheduled > shared.timeout {
            // Every connection was busy for the whole timeout; so were
            // they for every request scheduled before now - timeout.
            shared.record(phase, offset, UNSENT, now - scheduled, Duration::ZERO);
            let cutoff = (now - shared.timeout)
                .saturating_duration_since(shared.start)
                .as_secs_f64();
            let upto = shared.schedule.index_at(cutoff);
            let from = shared.next.fetch_max(upto, Relaxed);
            if from < upto {
                shared.skip(from, upto, now);
            }
            continue;
        }
        let pick = if shared.in_order { i } else { mix(i) };
        let request = &shared.requests[(pick % shared.requests.len() as u64) as usize];
        // A request sent late still has the whole timeout to be answered
        // (its latency is counted from its scheduled time all the same): a
        // deadline from the scheduled time would fail every request of a
        // generator that fell behind, and it would never catch up.
        let sent = Instant::now();
        let deadline = sent.max(scheduled) + shared.timeout;
        let outcome =
            match tokio::time::timeout_at(deadline.into(), send(&mut slot, shared.addr, request))
                .await
            {
                Ok(outcome) => outcome,
                Err(_) => {
                    slot = None;
                    TIMEOUT.into()
                }
            };
        shared.record(
            phase,
            offset,
            outcome.class,
            scheduled.elapsed(),
            sent.elapsed(),
        );
        if let Some(wait) = outcome.retry_after.filter(|_| shared.honour_retry_after) {
            // The phone on this line was told to come back later: the line
            // carries nothing until then, if that is still in the run.
            let back = Instant::now() + wait;
            if back >= shared.start + Duration::from_secs_f64(shared.schedule.seconds()) {
                break;
            }
            tokio::time::sleep_until(back.into()).await;
        }
    }
}

struct Args {
    addr: SocketAddr,
    path: String,
    tokens: Option<String>,
    phases: Vec<Phase>,
    connections: usize,
    timeout: Duration,
    threads: usize,
    recovery_after: Option<usize>,
    in_order: bool,
    honour_retry_after: bool,
    paced: bool,
    quiet: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!("open_loop: {problem} (see open_loop --help)");
    std::process::exit(2)
}

/// Open-loop load on loopback: requests at a fixed arrival rate whatever
/// the server does, latency counted from each request's scheduled time
/// (no coordinated omission). A summary on standard error, one JSON
/// object on standard output.
#[derive(clap::Parser)]
struct Cli {
    /// The server
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    addr: SocketAddr,
    /// The path every request asks for
    #[arg(long, default_value = "/api/v1/pass")]
    path: String,
    /// Identity tokens, one a line (perf_tokens); each request carries a
    /// random one. Without it no Authorization header is sent
    #[arg(long, value_name = "FILE")]
    tokens: Option<String>,
    /// This many requests a second for this long; phases run one after
    /// the other
    #[arg(long = "phase", value_name = "RATE:SECONDS", required = true, value_parser = parse_phase)]
    phases: Vec<Phase>,
    /// At most this many connections at once (HTTP/1.1 keep-alive)
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// An answer not complete this long after its request was sent is a
    /// timeout
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    timeout_ms: u64,
    /// The generator's threads
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Report how long after the end of this phase (0-based) the server
    /// was back to normal
    #[arg(long, value_name = "PHASE")]
    recovery_after: Option<usize>,
    /// Request i carries token i instead of a random one (a warm-up)
    #[arg(long)]
    in_order: bool,
    /// A connection answered 503 or 429 with Retry-After carries nothing
    /// more for that long
    #[arg(long)]
    honour_retry_after: bool,
    /// Send each request at its scheduled microsecond (spins)
    #[arg(long)]
    paced: bool,
    /// No summary on standard error
    #[arg(long)]
    quiet: bool,
}

fn parse_phase(value: &str) -> Result<Phase, String> {
    let bad = || format!("{value:?}: RATE:SECONDS, both above 0");
    let (rate, seconds) = value.split_once(':').ok_or_else(bad)?;
    let phase = Phase {
        rate: rate.parse().map_err(|_| bad())?,
        seconds: seconds.parse().map_err(|_| bad())?,
    };
    if !(phase.rate > 0.0 && phase.seconds > 0.0) {
        return Err(bad());
    }
    Ok(phase)
}

fn parse_args() -> Args {
    let cli: Cli = clap::Parser::parse();
    if cli.recovery_after.is_some_and(|p| p >= cli.phases.len()) {
        usage("--recovery-after names a phase that is not there");
    }
    Args {
        addr: cli.addr,
        path: cli.path,
        tokens: cli.tokens,
        phases: cli.phases,
        connections: cli.connections,
        timeout: Duration::from_millis(cli.timeout_ms),
        threads: cli.threads,
        recovery_after: cli.recovery_after,
        in_order: cli.in_order,
        honour_retry_after: cli.honour_retry_after,
        paced: cli.paced,
        quiet: cli.quiet,
    }
}

fn requests(args: &Args) -> Vec<Vec<u8>> {
    let head = format!("GET {} HTTP/1.1\r\nHost: {}\r\n", args.path, args.addr);
    match &args.tokens {
        None => vec![format!("{head}\r\n").into_bytes()],
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| usage(&format!("cannot read {file}: {e}")));
            let requests: Vec<Vec<u8>> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|token| format!("{head}Authorization: Bearer {}\r\n\r\n", token.trim()))
                .map(String::into_bytes)
                .collect();
            if requests.is_empty() {
                usage(&format!("{file} holds no token"));
            }
            requests
        }
    }
}

fn main() {
    let args = parse_args();
    let schedule = Schedule::new(args.phases.clone());
    let seconds = schedule.seconds().ceil() as usize;
    let shared = Arc::new(Shared {
        addr: args.addr,
        requests: requests(&args),
        in_order: args.in_order,
        honour_retry_after: args.honour_retry_after,
        paced: args.paced,
        next: AtomicU64::new(0),
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
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let workers: Vec<_> = (0..args.connections.max(1))
            .map(|_| tokio::spawn(worker(shared.clone())))
            .collect();
        for w in workers {
            let _ = w.await;
        }
    });
    report::report(&args, &shared);
}
