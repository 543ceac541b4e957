//! The admission rule over real sockets, against a server whose capacity
//! is known by construction: its one worker thread sleeps 1 ms for each
//! request (a synthetic service time), so it serves at most 1,000 requests
//! a second however busy the machine is, and the load is expressed in
//! multiples of that. The tests take turns: two at once would share the
//! machine's cores with each other's clients. The clients are Poisson arrivals on kept-alive
//! connections that stand for phones honouring `Retry-After`
//! (`public_support::open_loop`), on a runtime of their own.
//!
//! - At half of capacity nothing is refused: a queue forms now and then
//!   (random arrivals), but never stands.
//! - At ten times capacity a share is refused at once, and the admitted
//!   are served near the queue-delay target instead of at the back of
//!   every connection's queue.

mod public_support;
mod support;

use axum::Router;
use axum::routing::get;
use public_support::open_loop::{self, Load, Report};
use public_support::serve_with_door;
use sealpass_issuer::read::overload::{Limits, QueueDelay};
use sealpass_issuer::shared::metrics::Metrics;
use std::net::SocketAddr;
use std::time::Duration;

const SERVICE_TIME: Duration = Duration::from_millis(1);
/// Requests a second the server can serve at most.
const CAPACITY: f64 = 1_000.0;

/// Held by the test running, so that the two do not overlap.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server with the default limits and the given queue-delay target
/// (only the per-client limits off: every client is 127.0.0.1).
async fn synthetic_server(metrics: &Metrics, max_queue_delay: Duration) -> SocketAddr {
    let limits = Limits {
        max_queue_delay,
        per_client_rate: 1e9,
        per_client_burst: 1_000_000_000,
        max_connections_per_client: 0,
        ..Limits::default()
    };
    let routes = Router::new().route(
        "/work",
        get(|| async {
            // Blocks the worker thread, as CPU-bound work does.
            std::thread::sleep(SERVICE_TIME);
            "done"
        }),
    );
    let delay = QueueDelay::new(limits.max_queue_delay, metrics.clone());
    serve_with_door(routes, &limits, delay, metrics.clone()).await
}

/// `load` from a runtime of the clients' own (the server's one worker
/// thread is busy sleeping).
fn offer(addr: SocketAddr, load: Load) -> Report {
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    clients.block_on(open_loop::run(addr, load))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_server_at_half_its_capacity_refuses_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let metrics = Metrics::new();
    let addr = synthetic_server(&metrics, Limits::default().max_queue_delay).await;
    let load = Load {
        rate: CAPACITY / 2.0,
        seconds: 4.0,
        lines: 64,
        path: "/work",
        seed: 19,
    };
    let report = tokio::task::spawn_blocking(move || offer(addr, load))
        .await
        .unwrap();
    let refused = report.answered.iter().filter(|a| a.status != 200).count();
    assert_eq!(refused, 0, "refused at half of capacity");
    assert_eq!((report.held, report.unsent), (0, 0));
    assert_eq!(report.answered.len(), report.scheduled);
    assert!(report.scheduled > 1_800, "{} arrivals", report.scheduled);
    // Random arrivals at half of capacity do queue now and then: the rule
    // had waits to judge.
    let queued = report
        .answered
        .iter()
        .filter(|a| a.took > 2 * SERVICE_TIME)
        .count();
    assert!(queued > 100, "only {queued} requests waited");
}

/// What ten times capacity gave, after the first 2 s.
struct AtTenTimes {
    served_per_second: f64,
    refused: usize,
    admitted_p99: Duration,
    refused_p99: Duration,
    report: Report,
}

impl std::fmt::Display for AtTenTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "served {:.0}/s, admitted p99 {:?}, {} refused (p99 {:?}); of {} arrivals {} held, {} unsent",
            self.served_per_second,
            self.admitted_p99,
            self.refused,
            self.refused_p99,
            self.report.scheduled,
            self.report.held,
            self.report.unsent
        )
    }
}

/// Phones asking for ten times what the server serves, for 6 s.
async fn ten_times(addr: SocketAddr) -> AtTenTimes {
    let seconds = 6.0;
    let load = Load {
        rate: CAPACITY * 10.0,
        seconds,
        lines: 128,
        path: "/work",
        seed: 1919,
    };
    let report = tokio::task::spawn_blocking(move || offer(addr, load))
        .await
        .unwrap();
    // Once the phones sent away are waiting out their Retry-After (2-4 s).
    let settled = Duration::from_secs(2);
    let failed = report
        .answered
        .iter()
        .filter(|a| ![200, 503].contains(&a.status))
        .count();
    assert_eq!(failed, 0, "answers other than 200 and 503");
    AtTenTimes {
        served_per_second: report.with(200, settled).len() as f64 / (seconds - 2.0),
        refused: report.with(503, settled).len(),
        admitted_p99: report.p99(200, settled).unwrap(),
        refused_p99: report.p99(503, settled).unwrap_or_default(),
        report,
    }
}

/// The same server unprotected (no shedding for queue delay) is the
/// baseline, measured in the same test: on a busy machine the sleeps
/// overrun, and both slow alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_server_at_ten_times_its_capacity_refuses_quickly_and_serves_what_it_admits() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let metrics = Metrics::new();
    let protected =
        ten_times(synthetic_server(&metrics, Limits::default().max_queue_delay).await).await;
    let unprotected = ten_times(synthetic_server(&Metrics::new(), Duration::ZERO).await).await;
    eprintln!("at 10x, protected: {protected}\nunprotected: {unprotected}");
    assert!(protected.refused > 0, "nothing refused at 10x: {protected}");
    assert!(
        protected.report.held > 0,
        "no phone was told to wait: {protected}"
    );
    assert_eq!(unprotected.refused, 0);
    // Unprotected, every one of the 128 connections waits its turn
    // behind the others (about 128 ms); protected, near the target (5 ms).
    assert!(
        protected.admitted_p99 * 2 <= unprotected.admitted_p99,
        "admitted: {protected} against {unprotected}"
    );
    assert!(
        protected.refused_p99 * 2 <= unprotected.admitted_p99,
        "refused: {protected} against {unprotected}"
    );
    assert!(
        protected.served_per_second >= 0.6 * unprotected.served_per_second,
        "goodput: {protected} against {unprotected}"
    );
    assert!(metrics.render().contains(&format!(
        "sealpass_public_shed_queue_delay_total {}",
        protected.report.with(503, Duration::ZERO).len()
    )));
}
