//! The morning rush against a running public API, on loopback: PHONES
//! phones each fetch their pass, wait THINK milliseconds, and fetch again;
//! a phone told "busy" (503) or "too many" (429) waits the Retry-After the
//! server named, as the citizen page does. Prints, per answer, how many and
//! how fast. docs/performance.md, "Public API under overload".
//!
//!   cargo run --release -p sealpass-tools --bin public_rush -- \
//!       http://127.0.0.1:8080 TOKEN [PHONES] [THINK_MS] [SECONDS]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Record = BTreeMap<u16, Vec<Duration>>;

/// PHONES phones fetch their pass again and again from a running public
/// API, honouring Retry-After; prints per answer how many and how fast.
#[derive(clap::Parser)]
struct Args {
    /// The public API: http://IP:PORT
    #[arg(value_name = "BASE_URL")]
    base: String,
    /// An identity token, sent as Authorization: Bearer
    token: String,
    /// Phones at once
    #[arg(default_value_t = 2000)]
    phones: usize,
    /// Milliseconds a phone waits between fetches
    #[arg(default_value_t = 100)]
    think_ms: u64,
    /// How long the rush lasts
    #[arg(default_value_t = 10)]
    seconds: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Args = clap::Parser::parse();
    let addr: SocketAddr = args
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("BASE_URL is http://IP:PORT");
    let request = format!(
        "GET /api/v1/pass HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        args.token
    );
    let phones = args.phones;
    let think = Duration::from_millis(args.think_ms);
    let seconds = Duration::from_secs(args.seconds);
    let record: Arc<Mutex<Record>> = Arc::default();
    let started = Instant::now();
    let end = started + seconds;
    let tasks: Vec<_> = (0..phones)
        .map(|i| {
            let request = request.clone();
            let record = record.clone();
            tokio::spawn(async move {
                // Phones wake up spread over the first THINK.
                tokio::time::sleep(think.mul_f64(i as f64 / phones as f64)).await;
                while Instant::now() < end {
                    let asked = Instant::now();
                    let (status, retry_after) = fetch(addr, &request).await;
                    let took = asked.elapsed();
                    record.lock().unwrap().entry(status).or_default().push(took);
                    let wait = match status {
                        429 | 503 => Duration::from_secs(retry_after.unwrap_or(2)),
                        0 => Duration::from_secs(1),
                        _ => think,
                    };
                    tokio::time::sleep(wait).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let record = record.lock().unwrap();
    println!("{phones} phones, think {think:?}, {elapsed:.0} s:");
    for (status, times) in record.iter() {
        let mut times = times.clone();
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "  {status}: {} ({:.0}/s), latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            times.len(),
            times.len() as f64 / elapsed,
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            at(1.0).as_secs_f64() * 1e3
        );
    }
}

/// One request on a new connection: status (0 if it failed) and
/// Retry-After.
async fn fetch(addr: SocketAddr, request: &str) -> (u16, Option<u64>) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return (0, None);
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (0, None);
    }
    let mut raw = Vec::with_capacity(1024);
    if stream.read_to_end(&mut raw).await.is_err() {
        return (0, None);
    }
    let head = String::from_utf8_lossy(&raw);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let retry_after = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok());
    (status, retry_after)
}
