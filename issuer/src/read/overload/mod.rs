//! Overload protection for the public API: the 151st person at the morning
//! rush gets a fast, honest "busy, retry in N s" while the first 150 keep
//! their speed (docs/public-api.md, "Overload").
//!
//! - **Connections in service** ([`connections`], [`door`]): at most
//!   `max_connections` connections are handed to the server at once; the
//!   door refuses the next one itself, at once, with 503 and `Retry-After`,
//!   so the queue inside the server is never longer than that. A
//!   kept-alive connection idle for `idle_timeout` after an answer is
//!   closed, giving its place back.
//! - **Concurrency limit with load shedding.** At most `max_in_flight`
//!   requests are worked on at once (tower's global concurrency limit); a
//!   request beyond that is not queued but answered at once (tower's load
//!   shed) with 503 and `Retry-After`. A queue would only make everyone
//!   slow and time out together.
//! - **Queue-delay shedding** ([`delay`], [`door`]): when a queue stands
//!   (every request read in a whole 100 ms waited longer than
//!   `max_queue_delay` before it was read), a share of the late ones is
//!   answered 503 busy (the connection kept alive), enough to bring the
//!   wait back to the target once their clients wait their `Retry-After`.
//! - **Per-client rate limit.** A token bucket per client address (an IPv6
//!   client by its /64) refuses a client that sends more than its share
//!   with 429 and the seconds until its next token. The table of buckets is
//!   bounded: when full, buckets that have refilled are forgotten, and if
//!   none has, new clients pass unlimited (the global limit still holds).
//! - **Request timeout**: a request worked on longer is answered 503.
//! - **Body size limit**: bodies over `max_body_bytes` are refused (413).
//!
//! `Retry-After` is jittered between N and 2N seconds so that refused
//! phones do not all come back in the same second.

pub mod connections;
pub mod delay;
pub mod door;
pub mod per_client;
pub mod rate;
pub mod waits;

pub use connections::{Admission, InService};
pub use delay::QueueDelay;
pub use door::{ClientAddr, Door};
pub use rate::RateLimiter;

use crate::shared::errors::ApiError;
use crate::shared::metrics::Metrics;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower::ServiceBuilder;

/// Connections one client address may hold open by default: generous,
/// for a mobile carrier's NAT puts many phones behind one address at the
/// morning rush (docs/public-api.md, "Slow clients").
pub const DEFAULT_CONNECTIONS_PER_CLIENT: usize = 512;

/// The limits; every one is configurable (flags, environment, config file).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Connections in service at once (handed to the server by the door
    /// and not yet closed, idle ones giving their place up); more are
    /// refused at the door with 503 (0: no cap, the default: see
    /// docs/public-api.md for when and how to set it).
    pub max_connections: usize,
    /// A kept-alive connection idle this long after an answer is closed
    /// (zero: never).
    pub idle_timeout: Duration,
    /// A new connection that sends nothing for this long is closed at the
    /// door (browsers open connections ahead of need and close them
    /// themselves after about 10 s unused).
    pub first_request_timeout: Duration,
    /// A request head (request line and headers) must have arrived whole
    /// this long after its first bytes, or the connection is closed (zero:
    /// never). Slow clients held connections for ever without it (issue
    /// 15, finding 5).
    pub header_read_timeout: Duration,
    /// Connections open at once from one client address (an IPv6 /64),
    /// counted from accept to close, whatever they are doing; more are
    /// closed at once (0: no cap). Only without `client_ip_header`:
    /// behind a proxy every connection is the proxy's.
    pub max_connections_per_client: usize,
    /// Requests worked on at once; more are shed with 503.
    pub max_in_flight: usize,
    /// The queue-delay target: a queue stands when every request read in
    /// a whole interval waited longer than this to be read, and then late
    /// requests are shed (zero: never for delay).
    pub max_queue_delay: Duration,
    /// Base of the `Retry-After` of a shed request, in seconds.
    pub retry_after: u64,
    /// Sustained requests per second per client.
    pub per_client_rate: f64,
    /// Requests a client may send in a burst.
    pub per_client_burst: u32,
    /// Clients whose buckets are remembered at once.
    pub tracked_clients: usize,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Take the client address from this header (the last address of
    /// `X-Forwarded-For`), for a server behind a trusted reverse proxy.
    pub client_ip_header: Option<String>,
}

impl Default for Limits {
    /// Measured on a 2-core machine (docs/performance.md, "Public API
    /// under overload").
    fn default() -> Limits {
        Limits {
            max_connections: 0,
            idle_timeout: Duration::from_secs(60),
            first_request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections_per_client: DEFAULT_CONNECTIONS_PER_CLIENT,
            max_in_flight: 256,
            max_queue_delay: Duration::from_millis(5),
            retry_after: 2,
            per_client_rate: 10.0,
            per_client_burst: 40,
            tracked_clients: 100_000,
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 16 * 1024,
            client_ip_header: None,
        }
    }
}

/// Wrap `routes` in the limits: rate limit, then shed for queue delay,
/// then shed-or-admit by concurrency, then the timeout and body limit,
/// then the routes.
pub fn protect<S>(
    routes: Router<S>,
    limits: &Limits,
    delay: Arc<QueueDelay>,
    metrics: Metrics,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let jitter = Arc::new(Jitter::default());
    let retry_after = limits.retry_after.max(1);
    let busy = Busy {
        jitter: jitter.clone(),
        retry_after,
        delay,
        metrics: metrics.clone(),
    };
    let shed_metrics = metrics.clone();
    let handle = move |error: tower::BoxError| {
        let metrics = shed_metrics.clone();
        let jitter = jitter.clone();
        async move {
            let seconds = jitter.around(retry_after);
            if error.is::<tower::load_shed::error::Overloaded>() {
                metrics.shed();
                busy_answer(seconds)
            } else if error.is::<tower::timeout::error::Elapsed>() {
                metrics.timed_out();
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    format!("sealpass took too long to answer: please retry in {seconds} s"),
                )
                .retry_after(seconds)
                .into_response()
            } else {
                tracing::error!(error = %error, "request failed in the overload layers");
                ApiError::unavailable().into_response()
            }
        }
    };
    let limiter = Arc::new(RateLimiter::new(limits, metrics));
    routes
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(handle))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    limits.max_in_flight.max(1),
                ))
                .timeout(limits.request_timeout),
        )
        .layer(middleware::from_fn_with_state(busy, shed_on_queue_delay))
        .layer(middleware::from_fn_with_state(limiter, rate::rate_limit))
}

/// A refusal for queue delay keeps the connection: a client that waits
/// its `Retry-After` comes back without a new handshake, and one that
/// does not costs one short answer a time instead of a new connection
/// (with such clients at 10x, more of capacity served than with the
/// connection closed: "Overload at 10x" in the git history of
/// docs/performance.md).
fn busy_answer_kept_alive(seconds: u64) -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        format!("sealpass is busy right now: please retry in {seconds} s"),
    )
    .retry_after(seconds)
    .into_response()
}

/// 503 busy over the concurrency limit, and the connection closed after it:
/// a shed client that kept its connection alive would send its next request
/// straight into the same queue. Closed, it comes back through the
/// [door](door), and the connections the server works for shrink. Measured
/// ("Overload at 10x" in the git history of docs/performance.md, under the
/// earlier queue-delay rule): 10x offered over kept-alive connections,
/// goodput higher with it.
fn busy_answer(seconds: u64) -> Response {
    let mut response = busy_answer_kept_alive(seconds);
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

#[derive(Clone)]
struct Busy {
    jitter: Arc<Jitter>,
    retry_after: u64,
    delay: Arc<QueueDelay>,
    metrics: Metrics,
}

async fn shed_on_queue_delay(State(busy): State<Busy>, request: Request, next: Next) -> Response {
    // A connection's first request waited from its first bytes (the
    // door's stamp); a later one from when it became readable (waits.rs).
    let now = std::time::Instant::now();
    let waited_too_long = request
        .extensions()
        .get::<axum::extract::ConnectInfo<ClientAddr>>()
        .is_some_and(|c| {
            if c.0.first_request.swap(false, Ordering::Relaxed) {
                // Two turns of the queue (the task that takes the
                // connection from the door, then its own first read) for
                // one of a kept-alive request: half of it is judged.
                let waited = now.saturating_duration_since(c.0.accepted);
                busy.delay.waited(waited / 2, now)
            } else {
                c.0.waits
                    .take()
                    .is_some_and(|wait| busy.delay.waited(wait, now))
            }
        });
    if waited_too_long {
        tracing::debug!(
            waited_micros = busy.delay.current().as_micros() as u64,
            "shed: the request waited too long to be read"
        );
        busy.metrics.shed_for_delay();
        return busy_answer_kept_alive(busy.jitter.around(busy.retry_after));
    }
    next.run(request).await
}

/// A cheap spread of `Retry-After` values: `base` to `2 * base` seconds.
#[derive(Default)]
struct Jitter(AtomicU64);

impl Jitter {
    fn around(&self, base: u64) -> u64 {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        base + crate::shared::mix(n) % (base + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_for_queue_delay_keeps_the_connection_and_one_over_the_limit_closes_it() {
        let kept = busy_answer_kept_alive(3);
        let closed = busy_answer(3);
        for answer in [&kept, &closed] {
            assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(answer.headers()[axum::http::header::RETRY_AFTER], "3");
        }
        assert!(!kept.headers().contains_key(axum::http::header::CONNECTION));
        assert_eq!(closed.headers()[axum::http::header::CONNECTION], "close");
    }

    #[test]
    fn retry_after_is_spread_between_n_and_2n() {
        let j = Jitter::default();
        let values: Vec<u64> = (0..200).map(|_| j.around(3)).collect();
        assert!(values.iter().all(|v| (3..=6).contains(v)));
        assert!(values.contains(&3) && values.contains(&6));
    }
}
