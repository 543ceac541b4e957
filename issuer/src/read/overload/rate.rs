//! The per-client rate limit: a token bucket per client address, in a
//! bounded table.

use crate::read::overload::Limits;
use crate::shared::errors::ApiError;
use crate::shared::metrics::Metrics;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Token buckets per client address.
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    rate: f64,
    burst: f64,
    capacity: usize,
    header: Option<String>,
    metrics: Metrics,
}

/// A token bucket: `burst` tokens at most, refilled at `rate` a second
/// (both given on each call, so a table of them stores only this).
#[derive(Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket of `burst` tokens at `now`.
    pub fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    /// The tokens there would be at `now`.
    fn refilled(&self, rate: f64, burst: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * rate).min(burst)
    }

    /// Take a token at `now`, or say how long until one is there.
    pub fn take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        self.tokens = self.refilled(rate, burst, now);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
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
            buckets.retain(|_, b| b.refilled(rate, burst, now) < burst);
            if buckets.len() >= self.capacity {
                self.metrics.rate_limiter_full();
                return Ok(());
            }
        }
        buckets
            .entry(client)
            .or_insert(Bucket::full(self.burst, now))
            .take(self.rate, self.burst, now)
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

/// An IPv6 client owns a /64; count it as one.
pub(crate) fn bucket_key(ip: IpAddr) -> IpAddr {
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

pub async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<super::ClientAddr>>()
        .map(|c| c.0.addr)
        .or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0));
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
}
