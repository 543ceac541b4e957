//! Overload protection for the public API: the 151st person at the morning
//! rush gets a fast, honest "busy, retry in N s" while the first 150 keep
//! their speed (docs/public-api.md, "Overload").
//!
//! - **Concurrency limit with load shedding.** At most `max_in_flight`
//!   requests are worked on at once (tower's global concurrency limit); a
//!   request beyond that is not queued but answered at once (tower's load
//!   shed) with 503 and `Retry-After`. A queue would only make everyone
//!   slow and time out together.
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

use crate::public::errors::ApiError;
use crate::public::metrics::Metrics;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceBuilder;

/// The limits; every one is configurable (flags, environment, config file).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Requests worked on at once; more are shed with 503.
    pub max_in_flight: usize,
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
            max_in_flight: 256,
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

/// Wrap `routes` in the limits: rate limit, then shed-or-admit, then the
/// timeout and body limit, then the routes.
pub fn protect<S>(routes: Router<S>, limits: &Limits, metrics: Metrics) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let jitter = Arc::new(Jitter::default());
    let retry_after = limits.retry_after.max(1);
    let shed_metrics = metrics.clone();
    let handle = move |error: tower::BoxError| {
        let metrics = shed_metrics.clone();
        let jitter = jitter.clone();
        async move {
            let seconds = jitter.around(retry_after);
            if error.is::<tower::load_shed::error::Overloaded>() {
                metrics.shed();
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!("sealpass is busy right now: please retry in {seconds} s"),
                )
                .retry_after(seconds)
                .into_response()
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
        .layer(middleware::from_fn_with_state(limiter, rate_limit))
}

/// A cheap spread of `Retry-After` values: `base` to `2 * base` seconds.
#[derive(Default)]
struct Jitter(AtomicU64);

impl Jitter {
    fn around(&self, base: u64) -> u64 {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        base + crate::signer::mix(n) % (base + 1)
    }
}

/// Token buckets per client address.
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    rate: f64,
    burst: f64,
    capacity: usize,
    header: Option<String>,
    metrics: Metrics,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(limits: &Limits, metrics: Metrics) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            rate: limits.per_client_rate.max(0.001),
            burst: f64::from(limits.per_client_burst.max(1)),
            capacity: limits.tracked_clients.max(1),
            header: limits.client_ip_header.clone(),
            metrics,
        }
    }

    /// Take a token for `client`, or say how long until one is there.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let client = bucket_key(client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(&client) && buckets.len() >= self.capacity {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| refill(b, rate, burst, now) < burst);
            if buckets.len() >= self.capacity {
                self.metrics.rate_limiter_full();
                return Ok(());
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        bucket.tokens = refill(bucket, self.rate, self.burst, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }

    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let from_header = self.header.as_deref().and_then(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        from_header
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

fn refill(bucket: &Bucket, rate: f64, burst: f64, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * rate).min(burst)
}

/// An IPv6 client owns a /64; count it as one.
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = limiter.client(request.headers(), peer);
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            limiter.metrics.rate_limited();
            let seconds = (wait.as_secs_f64().ceil() as u64).max(1);
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from this address: please retry in {seconds} s"),
            )
            .retry_after(seconds)
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: f64, burst: u32, tracked: usize) -> RateLimiter {
        let limits = Limits {
            per_client_rate: rate,
            per_client_burst: burst,
            tracked_clients: tracked,
            ..Limits::default()
        };
        RateLimiter::new(&limits, Metrics::new())
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let l = limiter(2.0, 3, 10);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.take(ip, t).is_ok());
        }
        let wait = l.take(ip, t).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(l.take(ip, t + Duration::from_millis(500)).is_ok());
        assert!(
            l.take("10.0.0.2".parse().unwrap(), t).is_ok(),
            "others unaffected"
        );
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let l = limiter(1.0, 1, 10);
        let t = Instant::now();
        assert!(l.take("2001:db8:1:2::1".parse().unwrap(), t).is_ok());
        assert!(l.take("2001:db8:1:2::ffff".parse().unwrap(), t).is_err());
        assert!(l.take("2001:db8:1:3::1".parse().unwrap(), t).is_ok());
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = limiter(1.0, 2, 100);
        let t = Instant::now();
        for i in 0..10_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            let _ = l.take(ip, t + Duration::from_millis(u64::from(i)));
        }
        assert!(l.buckets.lock().unwrap().len() <= 100);
    }

    #[test]
    fn retry_after_is_spread_between_n_and_2n() {
        let j = Jitter::default();
        let values: Vec<u64> = (0..200).map(|_| j.around(3)).collect();
        assert!(values.iter().all(|v| (3..=6).contains(v)));
        assert!(values.contains(&3) && values.contains(&6));
    }
}
