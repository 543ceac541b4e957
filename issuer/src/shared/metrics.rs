//! The public API's metrics, rendered at `/metrics` in the Prometheus text
//! format. Each server has its own recorder (no global one), so tests and
//! the demo's several servers in one process keep separate counts.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealpass_public_requests_total` | counter | `route`, `status` |
//! | `sealpass_public_request_duration_seconds` | histogram | `route`, `status` |
//! | `sealpass_public_shed_total` | counter | (503 busy: over the concurrency limit, the queue delay or the connection cap) |
//! | `sealpass_public_shed_queue_delay_total` | counter | (of which for queue delay) |
//! | `sealpass_public_shed_connections_total` | counter | (of which at the door: `max_connections` in service) |
//! | `sealpass_public_refused_per_client_total` | counter | (connections closed at the door: their address held `max_connections_per_client`) |
//! | `sealpass_public_connections_in_service` | gauge | (handed to the server by the door, not yet closed) |
//! | `sealpass_public_passbook_store_reads_total` | counter | `reason`: why a pass was read from the store (`first`, `named`, `renewal`, `feed_silent`, `before_feed`, `safety_net`) |
//! | `sealpass_public_queue_delay_seconds` | gauge | (how long the last request measured waited to be read; a new connection's first request, half of it) |
//! | `sealpass_public_timeouts_total` | counter | |
//! | `sealpass_public_rate_limited_total` | counter | (429) |
//! | `sealpass_public_rate_limiter_full_total` | counter | (clients let through unlimited: table full) |
//! | `sealpass_public_pass_age_seconds` | histogram | (age of each pass served) |
//! | `sealpass_public_passes_held_during_outage_total` | counter | (served from memory, store unreachable) |
//! | `sealpass_public_passes_in_memory` | gauge | |

use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// How often the samples recorded into histograms are folded into them.
/// The exporter keeps every sample until then, and only a scrape of
/// `/metrics` would fold them otherwise: a server nobody scraped grew with
/// every pass served. Folding holds the serving runtime while it runs, so
/// it runs often, in short stalls: every 5 s, a stall at the rush's rate
/// was longer than `max_queue_delay` (measured by `metrics_cost`,
/// tools/src/bin/metrics_cost.rs; docs/performance.md, "Pass download and
/// overload").
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const AGE_BUCKETS: &[f64] = &[
    60.0,
    300.0,
    900.0,
    3600.0,
    3.0 * 3600.0,
    6.0 * 3600.0,
    12.0 * 3600.0,
    24.0 * 3600.0,
    48.0 * 3600.0,
];

/// The recorder and its handles. Cheap to clone.
///
/// The handles are registered once, not per request: registering looks
/// the key up in the recorder's registry, and a labelled key allocates its
/// label strings first, several times the cost of recording with the
/// handles held (`metrics_cost`, tools/src/bin/metrics_cost.rs).
#[derive(Clone)]
pub struct Metrics(Arc<Handles>);

struct Handles {
    recorder: Arc<PrometheusRecorder>,
    /// By route, then status: a route's key is its path pattern, so there
    /// are as many as the router has routes.
    requests: RwLock<HashMap<String, HashMap<u16, RequestHandles>>>,
    shed: Counter,
    shed_queue_delay: Counter,
    shed_connections: Counter,
    refused_per_client: Counter,
    timeouts: Counter,
    rate_limited: Counter,
    rate_limiter_full: Counter,
    held_during_outage: Counter,
    connections_in_service: Gauge,
    queue_delay: Gauge,
    passes_in_memory: Gauge,
    pass_age: Histogram,
}

/// One route and status's count and durations.
#[derive(Clone)]
struct RequestHandles {
    count: Counter,
    duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = Arc::new(
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "sealpass_public_request_duration_seconds".into(),
                    ),
                    LATENCY_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(
                            "sealpass_public_pass_age_seconds".into(),
                        ),
                        AGE_BUCKETS,
                    )
                })
                .expect("bucket lists are not empty")
                .build_recorder(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(keep_up(Arc::downgrade(&recorder)));
        }
        // Counters are present from the start, at zero, so that alerts can
        // rate() them.
        let counter = |name: &'static str| {
            let counter = recorder.register_counter(&Key::from_name(name), &METADATA);
            counter.increment(0);
            counter
        };
        let gauge = |name: &'static str| recorder.register_gauge(&Key::from_name(name), &METADATA);
        Metrics(Arc::new(Handles {
            requests: RwLock::default(),
            shed: counter("sealpass_public_shed_total"),
            shed_queue_delay: counter("sealpass_public_shed_queue_delay_total"),
            shed_connections: counter("sealpass_public_shed_connections_total"),
            refused_per_client: counter("sealpass_public_refused_per_client_total"),
            timeouts: counter("sealpass_public_timeouts_total"),
            rate_limited: counter("sealpass_public_rate_limited_total"),
            rate_limiter_full: counter("sealpass_public_rate_limiter_full_total"),
            held_during_outage: counter("sealpass_public_passes_held_during_outage_total"),
            connections_in_service: gauge("sealpass_public_connections_in_service"),
            queue_delay: gauge("sealpass_public_queue_delay_seconds"),
            passes_in_memory: gauge("sealpass_public_passes_in_memory"),
            pass_age: recorder.register_histogram(
                &Key::from_name("sealpass_public_pass_age_seconds"),
                &METADATA,
            ),
            recorder,
        }))
    }

    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        let record = |handles: &RequestHandles| {
            handles.count.increment(1);
            handles.duration.record(elapsed.as_secs_f64());
        };
        let known = self.0.requests.read().unwrap_or_else(|e| e.into_inner());
        match known
            .get(route)
            .and_then(|by_status| by_status.get(&status))
        {
            Some(handles) => record(handles),
            None => {
                drop(known);
                record(&self.register_request(route, status));
            }
        }
    }

    /// Register the handles of `route` and `status`, the first time they
    /// are seen.
    fn register_request(&self, route: &str, status: u16) -> RequestHandles {
        let labels = || {
            vec![
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ]
        };
        let recorder = &self.0.recorder;
        let handles = RequestHandles {
            count: recorder.register_counter(
                &Key::from_parts("sealpass_public_requests_total", labels()),
                &METADATA,
            ),
            duration: recorder.register_histogram(
                &Key::from_parts("sealpass_public_request_duration_seconds", labels()),
                &METADATA,
            ),
        };
        let mut known = self.0.requests.write().unwrap_or_else(|e| e.into_inner());
        known
            .entry(route.to_owned())
            .or_default()
            .insert(status, handles.clone());
        handles
    }

    pub fn shed(&self) {
        self.0.shed.increment(1);
    }

    pub fn shed_for_delay(&self) {
        self.shed();
        self.0.shed_queue_delay.increment(1);
    }

    /// Refused at the door: the connections in service were at the cap.
    pub fn shed_at_cap(&self) {
        self.shed();
        self.0.shed_connections.increment(1);
    }

    /// Closed at the door: its address held as many connections as it may.
    pub fn refused_per_client(&self) {
        self.0.refused_per_client.increment(1);
    }

    pub fn connections_in_service(&self, n: usize) {
        self.0.connections_in_service.set(n as f64);
    }

    /// The pass book read a pass from the store, for `reason` (each read
    /// costs far more than registering).
    pub fn passbook_store_read(&self, reason: &'static str) {
        self.0
            .recorder
            .register_counter(
                &Key::from_parts(
                    "sealpass_public_passbook_store_reads_total",
                    vec![Label::new("reason", reason)],
                ),
                &METADATA,
            )
            .increment(1);
    }

    pub fn queue_delay(&self, delay: Duration) {
        self.0.queue_delay.set(delay.as_secs_f64());
    }

    pub fn timed_out(&self) {
        self.0.timeouts.increment(1);
    }

    pub fn rate_limited(&self) {
        self.0.rate_limited.increment(1);
    }

    pub fn rate_limiter_full(&self) {
        self.0.rate_limiter_full.increment(1);
    }

    pub fn pass_served(&self, age_seconds: u64, held_during_outage: bool) {
        self.0.pass_age.record(age_seconds as f64);
        if held_during_outage {
            self.0.held_during_outage.increment(1);
        }
    }

    pub fn passes_in_memory(&self, n: usize) {
        self.0.passes_in_memory.set(n as f64);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.0.recorder.handle().render()
    }
}

/// Every [`UPKEEP_EVERY`], the recorded histogram samples are folded into
/// their histograms, until the recorder is dropped.
async fn keep_up(recorder: Weak<PrometheusRecorder>) {
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(recorder) = recorder.upgrade() else {
            return;
        };
        recorder.handle().run_upkeep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status_through_the_cached_handles() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.request("/api/v1/pass", 200, Duration::from_micros(300));
        }
        metrics.request("/api/v1/pass", 503, Duration::from_micros(100));
        metrics.request("/healthz", 200, Duration::from_millis(2));
        let text = metrics.render();
        for line in [
            "sealpass_public_requests_total{route=\"/api/v1/pass\",status=\"200\"} 3",
            "sealpass_public_requests_total{route=\"/api/v1/pass\",status=\"503\"} 1",
            "sealpass_public_requests_total{route=\"/healthz\",status=\"200\"} 1",
            "sealpass_public_request_duration_seconds_bucket{route=\"/api/v1/pass\",status=\"200\",le=\"0.0005\"} 3",
            "sealpass_public_request_duration_seconds_bucket{route=\"/healthz\",status=\"200\",le=\"0.001\"} 0",
            "sealpass_public_shed_total 0",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
    }
}
