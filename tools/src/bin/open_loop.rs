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

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// A latency histogram in microseconds, log-linear (64 steps an octave:
/// within 1.6%), lock-free.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

const LINEAR: u64 = 128;
const STEPS: u64 = 64;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: (0..(LINEAR + 40 * STEPS))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    fn index(us: u64) -> usize {
        if us < LINEAR {
            return us as usize;
        }
        let octave = 63 - u64::from(us.leading_zeros()); // >= 7
        let step = (us >> (octave - 6)) & (STEPS - 1);
        ((LINEAR + (octave - 7) * STEPS + step) as usize).min((LINEAR + 40 * STEPS - 1) as usize)
    }

    /// The smallest value of bucket `index`.
    fn value(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let octave = (index - LINEAR) / STEPS + 7;
        let step = (index - LINEAR) % STEPS;
        (1 << octave) + (step << (octave - 6))
    }

    fn record(&self, latency: Duration) {
        self.record_n(latency, 1);
    }

    fn record_n(&self, latency: Duration, n: u64) {
        let us = latency.as_micros().min(u128::from(u64::MAX)) as u64;
        self.buckets[Self::index(us)].fetch_add(n, Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// The q-quantile in milliseconds (None when empty).
    fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Relaxed);
            if seen >= rank {
                return Some(Self::value(i) as f64 / 1000.0);
            }
        }
        None
    }

    fn merge(&self, other: &Histogram) {
        for (a, b) in self.buckets.iter().zip(&other.buckets) {
            a.fetch_add(b.load(Relaxed), Relaxed);
        }
    }
}

#[derive(Clone, Copy)]
struct Phase {
    rate: f64,
    seconds: f64,
}

/// Request `i` of the whole run: which phase, and when (seconds from the
/// start).
struct Schedule {
    phases: Vec<Phase>,
    /// First request index and start time of each phase.
    starts: Vec<(u64, f64)>,
    total: u64,
}

impl Schedule {
    fn new(phases: Vec<Phase>) -> Schedule {
        let mut starts = Vec::new();
        let (mut first, mut at) = (0u64, 0.0);
        for phase in &phases {
            starts.push((first, at));
            first += (phase.rate * phase.seconds).round() as u64;
            at += phase.seconds;
        }
        Schedule {
            phases,
            starts,
            total: first,
        }
    }

    fn at(&self, i: u64) -> Option<(usize, f64)> {
        if i >= self.total {
            return None;
        }
        let phase = self.starts.partition_point(|(first, _)| *first <= i) - 1;
        let (first, start) = self.starts[phase];
        Some((phase, start + (i - first) as f64 / self.phases[phase].rate))
    }

    /// The first request scheduled at or after `t` seconds.
    fn index_at(&self, t: f64) -> u64 {
        if t <= 0.0 {
            return 0;
        }
        let phase = self
            .starts
            .partition_point(|(_, start)| *start <= t)
            .saturating_sub(1);
        let (first, start) = self.starts[phase];
        let end = self.starts.get(phase + 1).map_or(self.total, |s| s.0);
        (first + ((t - start) * self.phases[phase].rate).ceil() as u64).min(end)
    }

    fn seconds(&self) -> f64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }
}

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

/// SplitMix64's finalizer: a random token for request `i`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// What an exchange ended with.
enum Outcome {
    Answered {
        status: u16,
        close: bool,
        /// The answer's `Retry-After`, in whole seconds.
        retry_after: Option<u64>,
    },
    /// The connection failed; `reused`: it had carried a request before
    /// and nothing of this answer arrived (the server closed it while
    /// idle), so the request may be sent again on a new one.
    Failed { reused: bool },
}

async fn exchange(connection: &mut Connection, request: &[u8], reused: bool) -> Outcome {
    let failed = Outcome::Failed { reused };
    if connection.stream.write_all(request).await.is_err() {
        return failed;
    }
    let buffer = &mut connection.buffer;
    buffer.clear();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > 64 * 1024 {
            return Outcome::Failed { reused: false };
        }
        match connection.stream.read_buf(buffer).await {
            Ok(0) | Err(_) if buffer.is_empty() => return failed,
            Ok(0) | Err(_) => return Outcome::Failed { reused: false },
            Ok(_) => {}
        }
    };
    let head = &buffer[..head_end];
    let status: u16 = std::str::from_utf8(head.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = None;
    let mut close = false;
    let mut retry_after = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line).to_ascii_lowercase();
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if let Some(v) = line.strip_prefix("connection:") {
            close = v.trim() == "close";
        } else if let Some(v) = line.strip_prefix("retry-after:") {
            retry_after = v.trim().parse::<u64>().ok();
        }
    }
    let length = match length {
        Some(length) => length,
        None if status == 304 || status == 204 => 0,
        None => {
            // Delimited by the end of the connection.
            let _ = connection.stream.read_to_end(buffer).await;
            return Outcome::Answered {
                status,
                close: true,
                retry_after,
            };
        }
    };
    while buffer.len() < head_end + length {
        match connection.stream.read_buf(buffer).await {
            Ok(0) | Err(_) => return Outcome::Failed { reused: false },
            Ok(_) => {}
        }
    }
    Outcome::Answered {
        status,
        close,
        retry_after,
    }
}

async fn connect(addr: SocketAddr) -> Option<Connection> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    Some(Connection {
        stream,
        buffer: Vec::with_capacity(4096),
    })
}

/// What one request came to: its class, and the `Retry-After` of a
/// refusal (503 or 429).
struct Sent {
    class: usize,
    retry_after: Option<Duration>,
}

impl From<usize> for Sent {
    fn from(class: usize) -> Sent {
        Sent {
            class,
            retry_after: None,
        }
    }
}

/// One request on `slot`'s connection (opened if needed).
async fn send(slot: &mut Option<Connection>, addr: SocketAddr, request: &[u8]) -> Sent {
    for _attempt in 0..2 {
        let reused = slot.is_some();
        if slot.is_none() {
            *slot = connect(addr).await;
        }
        let Some(connection) = slot.as_mut() else {
            return ERROR.into();
        };
        match exchange(connection, request, reused).await {
            Outcome::Answered {
                status,
                close,
                retry_after,
            } => {
                if close {
                    *slot = None;
                }
                let class = match status {
                    200 => OK,
                    304 => NOT_MODIFIED,
                    429 => RATE_LIMITED,
                    503 => BUSY,
                    _ => OTHER,
                };
                let refused = class == RATE_LIMITED || class == BUSY;
                return Sent {
                    class,
                    retry_after: retry_after.filter(|_| refused).map(Duration::from_secs),
                };
            }
            Outcome::Failed { reused } => {
                *slot = None;
                if !reused {
                    return ERROR.into();
                }
            }
        }
    }
    ERROR.into()
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

fn ms(value: Option<f64>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |v| {
        serde_json::json!((v * 1000.0).round() / 1000.0)
    })
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
    report(&args, &shared);
}

fn report(args: &Args, shared: &Shared) {
    let mut phases = Vec::new();
    for (n, (phase, tally)) in args.phases.iter().zip(&shared.phases).enumerate() {
        let mut classes = serde_json::Map::new();
        let mut line = format!("phase {n}: {:.0}/s for {} s:", phase.rate, phase.seconds);
        for ((name, h), sent) in CLASSES.iter().zip(&tally.classes).zip(&tally.sent) {
            let count = h.count();
            if count == 0 {
                continue;
            }
            let (p50, p99, max) = (h.quantile(0.5), h.quantile(0.99), h.quantile(1.0));
            line += &format!(
                " {name} {count} (p50 {:.2} / p99 {:.2} / max {:.1} ms);",
                p50.unwrap_or(0.0),
                p99.unwrap_or(0.0),
                max.unwrap_or(0.0)
            );
            classes.insert(
                (*name).into(),
                serde_json::json!({"count": count, "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max),
                    "sent_p50_ms": ms(sent.quantile(0.5)), "sent_p99_ms": ms(sent.quantile(0.99))}),
            );
        }
        let ok = tally.classes[OK].count() + tally.classes[NOT_MODIFIED].count();
        let answered = Histogram::new();
        answered.merge(&tally.classes[OK]);
        answered.merge(&tally.classes[NOT_MODIFIED]);
        let goodput = ok as f64 / phase.seconds;
        if !args.quiet {
            eprintln!("{line} goodput {goodput:.0}/s");
        }
        phases.push(serde_json::json!({
            "rate": phase.rate, "seconds": phase.seconds,
            "offered": (phase.rate * phase.seconds).round(),
            "classes": classes, "goodput_per_s": goodput.round(),
            "ok_p50_ms": ms(answered.quantile(0.5)), "ok_p99_ms": ms(answered.quantile(0.99)),
        }));
    }
    let mut per_second = Vec::new();
    for (t, second) in shared.seconds.iter().enumerate() {
        let c: Vec<u64> = second.counts.iter().map(|c| c.load(Relaxed)).collect();
        per_second.push(serde_json::json!({
            "t": t, "offered": c.iter().sum::<u64>(), "ok": c[OK] + c[NOT_MODIFIED],
            "shed": c[RATE_LIMITED] + c[BUSY], "failed": c[OTHER] + c[ERROR] + c[TIMEOUT],
            "unsent": c[UNSENT],
            "ok_p99_ms": ms(second.ok.quantile(0.99)),
        }));
    }
    let recovery = args.recovery_after.map(|spike| {
        let baseline = shared.phases[0].classes[OK].quantile(0.99).unwrap_or(0.0);
        let limit = (2.0 * baseline).max(20.0);
        let end: f64 = args.phases[..=spike].iter().map(|p| p.seconds).sum();
        let normal = |s: &Second| {
            let c: Vec<u64> = s.counts.iter().map(|c| c.load(Relaxed)).collect();
            let offered: u64 = c.iter().sum();
            let ok = c[OK] + c[NOT_MODIFIED];
            offered > 0
                && ok as f64 >= 0.95 * offered as f64
                && s.ok.quantile(0.99).unwrap_or(f64::MAX) <= limit
        };
        let first = end.ceil() as usize;
        // The last second may be partial: judge up to the one before it.
        let last = shared.seconds.len().saturating_sub(1).max(first);
        let recovered = (first..last)
            .find(|&s| (s..last).all(|t| normal(&shared.seconds[t])))
            .map(|s| s as f64 - end);
        if !args.quiet {
            match recovered {
                Some(r) => eprintln!(
                    "recovered {r:.0} s after phase {spike} ended (every later second: >= 95% answered 200/304, p99 <= {limit:.1} ms)"
                ),
                None => eprintln!("not recovered within the run after phase {spike}"),
            }
        }
        serde_json::json!({"after_phase": spike, "seconds": recovered, "p99_limit_ms": limit})
    });
    if !args.quiet {
        for s in &per_second {
            eprintln!("  {s}");
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "connections": args.connections, "timeout_ms": args.timeout.as_millis() as u64,
            "tokens": shared.requests.len(), "phases": phases,
            "per_second": per_second, "recovery": recovery,
        })
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_within_two_percent() {
        for us in [0u64, 1, 127, 128, 129, 1000, 12_345, 1_000_000, 60_000_000] {
            let v = Histogram::value(Histogram::index(us));
            assert!(v <= us && us - v <= us / 50 + 1, "{us} -> {v}");
        }
    }

    /// A server that answers every request on a connection with `answer`.
    async fn answering(answer: &'static str) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buffer).await {
                        if n == 0 || stream.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_refusal_carries_its_retry_after_and_a_pass_does_not() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let busy = answering(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 3\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
        )
        .await;
        let mut slot = None;
        let sent = send(&mut slot, busy, request).await;
        assert_eq!(sent.class, BUSY);
        assert_eq!(sent.retry_after, Some(Duration::from_secs(3)));
        assert!(slot.is_none(), "closed as the server said");
        let served =
            answering("HTTP/1.1 200 OK\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\npass").await;
        let sent = send(&mut slot, served, request).await;
        assert_eq!(sent.class, OK);
        assert_eq!(sent.retry_after, None, "only a refusal is waited out");
        assert!(slot.is_some(), "kept alive");
        let sent = send(&mut slot, served, request).await;
        assert_eq!(sent.class, OK, "and used again");
    }

    #[test]
    fn schedule_spreads_requests_over_phases() {
        let s = Schedule::new(vec![
            Phase {
                rate: 10.0,
                seconds: 2.0,
            },
            Phase {
                rate: 100.0,
                seconds: 1.0,
            },
        ]);
        assert_eq!(s.total, 120);
        assert_eq!(s.at(0), Some((0, 0.0)));
        assert_eq!(s.at(19), Some((0, 1.9)));
        assert_eq!(s.at(20), Some((1, 2.0)));
        assert_eq!(s.at(120), None);
        assert_eq!(s.index_at(0.0), 0);
        assert_eq!(s.index_at(1.95), 20);
        assert_eq!(s.index_at(2.0), 20);
        assert_eq!(s.index_at(2.5), 70);
        assert_eq!(s.index_at(9.0), 120);
    }
}
