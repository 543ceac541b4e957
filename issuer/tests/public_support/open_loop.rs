//! A small open-loop load for the admission tests: Poisson arrivals at a
//! fixed rate, spread over kept-alive connections that stand for phones
//! honouring `Retry-After`, each with its own arrivals (a Poisson process
//! at its share of the rate). A phone told to wait does not send the
//! arrivals that come meanwhile (`held`); an arrival that comes while the
//! phone still waits for an answer is sent after it, unless that is over
//! [`STALE`] late (`unsent`: the citizen gave up). Each answer is timed
//! from the moment its request was sent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Load {
    /// Arrivals a second.
    pub rate: f64,
    pub seconds: f64,
    /// Kept-alive connections (phones).
    pub lines: usize,
    pub path: &'static str,
    pub seed: u64,
}

/// One request sent and answered.
pub struct Answered {
    /// When it was sent, from the start of the load.
    pub sent_at: Duration,
    pub status: u16,
    /// From sent to the whole answer read.
    pub took: Duration,
}

/// An arrival its phone could not send this long after its time is not
/// sent.
pub const STALE: Duration = Duration::from_millis(100);

pub struct Report {
    pub answered: Vec<Answered>,
    /// Arrivals not sent: their line was waiting out a `Retry-After`.
    pub held: usize,
    /// Arrivals not sent: their line was busy until [`STALE`] after them.
    pub unsent: usize,
    pub scheduled: usize,
}

impl Report {
    /// Answers with `status` to requests sent at or after `from`.
    pub fn with(&self, status: u16, from: Duration) -> Vec<&Answered> {
        self.answered
            .iter()
            .filter(|a| a.status == status && a.sent_at >= from)
            .collect()
    }

    /// The 99th percentile of those answers' times.
    pub fn p99(&self, status: u16, from: Duration) -> Option<Duration> {
        let mut took: Vec<Duration> = self.with(status, from).iter().map(|a| a.took).collect();
        took.sort();
        let rank = (took.len() * 99).div_ceil(100);
        took.get(rank.checked_sub(1)?).copied()
    }
}

/// Arrival times of a Poisson process at `rate` for `seconds`, from a
/// seeded SplitMix64.
pub fn poisson_arrivals(rate: f64, seconds: f64, seed: u64) -> Vec<Duration> {
    let mut state = seed;
    let mut next_uniform = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut at = 0.0;
    let mut arrivals = Vec::new();
    loop {
        at += -(1.0 - next_uniform()).ln() / rate;
        if at >= seconds {
            return arrivals;
        }
        arrivals.push(Duration::from_secs_f64(at));
    }
}

/// Run `load` against `addr` on the current runtime.
pub async fn run(addr: SocketAddr, load: Load) -> Report {
    let share = load.rate / load.lines as f64;
    let scheduled = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(AtomicUsize::new(0));
    let unsent = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now() + Duration::from_millis(20);
    let request = format!("GET {} HTTP/1.1\r\nHost: sealpass.test\r\n\r\n", load.path);
    let lines: Vec<_> = (0..load.lines)
        .map(|line| {
            let arrivals = poisson_arrivals(share, load.seconds, load.seed + line as u64);
            scheduled.fetch_add(arrivals.len(), Ordering::Relaxed);
            let (held, unsent, answered, request) = (
                held.clone(),
                unsent.clone(),
                answered.clone(),
                request.clone(),
            );
            tokio::spawn(async move {
                let mut connection: Option<TcpStream> = None;
                let mut back = start;
                for offset in arrivals {
                    let due = start + offset;
                    if due + STALE < Instant::now() {
                        unsent.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    if Instant::now() < back {
                        held.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let sent = Instant::now();
                    let answer = exchange(&mut connection, addr, request.as_bytes()).await;
                    let took = sent.elapsed();
                    let Some(answer) = answer else {
                        connection = None;
                        answered.lock().unwrap().push(Answered {
                            sent_at: sent - start,
                            status: 0,
                            took,
                        });
                        continue;
                    };
                    if let Some(seconds) = answer.retry_after {
                        back = Instant::now() + Duration::from_secs(seconds);
                    }
                    if answer.close {
                        connection = None;
                    }
                    answered.lock().unwrap().push(Answered {
                        sent_at: sent - start,
                        status: answer.status,
                        took,
                    });
                }
            })
        })
        .collect();
    for line in lines {
        line.await.unwrap();
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    Report {
        answered,
        held: held.load(Ordering::Relaxed),
        unsent: unsent.load(Ordering::Relaxed),
        scheduled: scheduled.load(Ordering::Relaxed),
    }
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    close: bool,
}

/// One request on the line's kept-alive connection (opened if need be);
/// None if the connection failed.
async fn exchange(
    connection: &mut Option<TcpStream>,
    addr: SocketAddr,
    request: &[u8],
) -> Option<Answer> {
    if connection.is_none() {
        *connection = Some(TcpStream::connect(addr).await.ok()?);
    }
    let stream = connection.as_mut()?;
    stream.write_all(request).await.ok()?;
    let mut raw = Vec::with_capacity(512);
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
            .map(str::to_owned)
    };
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = header("content-length")?.parse().ok()?;
    while raw.len() < head_end + length {
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..n]);
    }
    Some(Answer {
        status,
        retry_after: header("retry-after").and_then(|s| s.parse().ok()),
        close: header("connection").is_some_and(|c| c == "close"),
    })
}
