//! Open-loop load on loopback for the performance harness (issues 8 and
//! 19, `scripts/perf/run`): requests arrive at a set rate whatever the
//! server does, so a slow period cannot hide by slowing the load down (a
//! closed loop such as wrk waits for each answer before asking again).
//! Each request's latency is measured from the moment it was *scheduled*,
//! not from when a connection was free to send it: a request the client
//! had to hold because every connection was busy counts its wait (no
//! coordinated omission).
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin open_loop -- \
//!     --addr 127.0.0.1:18080 --tokens tokens.txt --phase 20000:10 [--phase RATE:SECONDS ...]
//!     [--path /api/v1/pass] [--connections 256] [--timeout-ms 2000] [--threads 2]
//!     [--poisson SEED] [--paced] [--honour-retry-after]
//!     [--recovery-after PHASE] [--in-order] [--quiet]
//! ```
//!
//! - `--phase RATE:SECONDS`: this many requests a second for this long;
//!   phases run one after the other (e.g. a baseline, a spike, a tail to
//!   watch recovery in).
//! - `--poisson SEED`: arrivals as a Poisson process at each phase's rate
//!   (exponential gaps, the same for the same seed), as the requests of
//!   many independent phones come; without it they are evenly spaced.
//!   Each phase carries `RATE x SECONDS` requests either way.
//! - `--tokens FILE`: identity tokens, one a line (`perf_tokens`); each
//!   request carries a random one as `Authorization: Bearer`. Without it no
//!   header is sent (e.g. a static file from nginx).
//! - `--in-order`: request i carries token i (modulo their number)
//!   instead of a random one: a warm-up that sends every token once.
//! - `--connections N`: N lines, each at most one connection at once
//!   (HTTP/1.1 keep-alive, reopened after the server closes one), taking
//!   the next request of the schedule when free. A request whose time
//!   comes while every line is busy waits for one, its wait counted in its
//!   latency; one still waiting `--timeout-ms` after its time is counted
//!   `unsent`: the generator fell short of its schedule, not the server.
//! - `--honour-retry-after`: each request comes from one of `--phones`
//!   phones (drawn at random; default: as many as connections). A phone
//!   refused with 503 or 429 and a `Retry-After` does not ask again before
//!   then, as the citizen page does (issuer/web/page/app.js): each of its
//!   requests due meanwhile is counted `held` (the phone was told to wait,
//!   so it does not ask), and the line that took it takes the next at
//!   once. Lines are connections, not phones, so none sleeps and `unsent`
//!   stays the generator's own shortfall. Without it a refused request's
//!   phone sends its next at once: the load of clients that ignore
//!   `Retry-After`. With 1,024 phones at 10x each asks hundreds of times a
//!   second, so one refusal holds hundreds of requests where a real phone
//!   would hold one: `held` overstates what citizens see.
//! - `--paced`: send each request at its scheduled time, to within a few
//!   microseconds. tokio's timers tick every millisecond, so without it
//!   the requests scheduled within one go out together, a burst at every
//!   tick (at 25,000 a second, 25 at once); with it a thread of its own
//!   releases each request at its time (pacer.rs).
//! - `--timeout-ms`: an answer not complete this long after the request
//!   was sent is a timeout (its connection is dropped).
//! - `--recovery-after PHASE`: report how long after the end of phase
//!   PHASE (0-based; the spike) the server was back to normal: the first
//!   second from which on every second has at least 95% of its requests
//!   answered 200/304 (of those not held: unsent ones count against it)
//!   and their p99 within max(2 x phase 0's p99, 20 ms).
//!
//! Prints a human summary on standard error and one JSON object on
//! standard output. Per phase: per status class (200, 304, 429, 503,
//! other, error, timeout, unsent, held) the count and p50/p99/max latency
//! (for `held`: how much of its wait the phone still had at the request's
//! time); `target_rps` (scheduled a second), `offered_rps` (sent to the
//! server a second), `held`, `unsent`, `refused` (429 and 503) and its
//! share of those sent, `valid` (at most 10% of the schedule unsent: the
//! generator kept its rate), goodput (200 and 304 a second). Each class
//! also has `sent_p50_ms`/`sent_p99_ms`, from when the request was sent:
//! the server's part (above the rate the connections carry, the wait for
//! a free connection is the generator's own queue, up to `--timeout-ms`).
//! Then a per-second series (offered = scheduled, sent, ok, shed, failed,
//! held, unsent, ok p99) from which recovery can be read.

mod cli;
mod histogram;
mod http;
mod lines;
mod pacer;
mod report;
mod schedule;

use std::sync::Arc;

const CLASSES: [&str; 9] = [
    "200", "304", "429", "503", "other", "error", "timeout", "unsent", "held",
];
const OK: usize = 0;
const NOT_MODIFIED: usize = 1;
const RATE_LIMITED: usize = 2;
const BUSY: usize = 3;
const OTHER: usize = 4;
const ERROR: usize = 5;
const TIMEOUT: usize = 6;
/// Never sent: every line was busy until its timeout (the load
/// generator, not the server, could not keep the rate).
const UNSENT: usize = 7;
/// Never sent: the phone was waiting out a `Retry-After`.
const HELD: usize = 8;

fn main() {
    let args = cli::parse_args();
    let run = Arc::new(lines::Run::new(&args, cli::requests(&args)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(lines::carry(run.clone(), args.connections));
    report::report(&args, &run);
}
