//! The command line: what load, against what, and how the phones behave.

use crate::schedule::Phase;
use std::net::SocketAddr;
use std::time::Duration;

pub struct Args {
    pub addr: SocketAddr,
    pub path: String,
    pub tokens: Option<String>,
    pub phases: Vec<Phase>,
    pub connections: usize,
    pub phones: usize,
    pub timeout: Duration,
    pub threads: usize,
    pub recovery_after: Option<usize>,
    pub in_order: bool,
    pub honour_retry_after: bool,
    pub paced: bool,
    /// The seed of Poisson arrivals; `None`: evenly spaced.
    pub poisson: Option<u64>,
    pub quiet: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!("open_loop: {problem} (see open_loop --help)");
    std::process::exit(2)
}

/// Open-loop load on loopback: requests at a set arrival rate whatever
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
    /// The phones the requests come from, each told to wait on its own
    /// (with --honour-retry-after) [default: as many as connections]
    #[arg(long, value_name = "N")]
    phones: Option<usize>,
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
    /// A line answered 503 or 429 with Retry-After sends nothing more for
    /// that long: the requests it takes until then are counted `held`
    #[arg(long)]
    honour_retry_after: bool,
    /// Send each request at its scheduled time to the microsecond (a
    /// thread of its own), not at the millisecond tick of tokio's timer
    #[arg(long)]
    paced: bool,
    /// Poisson arrivals (exponential gaps at each phase's rate) from this
    /// seed, instead of evenly spaced ones
    #[arg(long, value_name = "SEED")]
    poisson: Option<u64>,
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

pub fn parse_args() -> Args {
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
        phones: cli.phones.unwrap_or(cli.connections),
        timeout: Duration::from_millis(cli.timeout_ms),
        threads: cli.threads,
        recovery_after: cli.recovery_after,
        in_order: cli.in_order,
        honour_retry_after: cli.honour_retry_after,
        paced: cli.paced,
        poisson: cli.poisson,
        quiet: cli.quiet,
    }
}

pub fn requests(args: &Args) -> Vec<Vec<u8>> {
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
