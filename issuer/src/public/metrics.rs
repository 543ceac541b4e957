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
//! | `sealpass_public_connections_in_service` | gauge | (handed to the server by the door, not yet closed) |
//! | `sealpass_public_passbook_store_reads_total` | counter | `reason`: why a pass was read from the store (`first`, `named`, `renewal`, `feed_silent`, `before_feed`, `safety_net`) |
//! | `sealpass_public_queue_delay_seconds` | gauge | (how long the last request measured waited to be read; a new connection's first request, half of it) |
//! | `sealpass_public_timeouts_total` | counter | |
//! | `sealpass_public_rate_limited_total` | counter | (429) |
//! | `sealpass_public_rate_limiter_full_total` | counter | (clients let through unlimited: table full) |
//! | `sealpass_public_pass_age_seconds` | histogram | (age of each pass served) |
//! | `sealpass_public_passes_held_during_outage_total` | counter | (served from memory, store unreachable) |
//! | `sealpass_public_passes_in_memory` | gauge | |

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the samples recorded into histograms are folded into them.
/// The exporter keeps every sample until then, and only a scrape of
/// `/metrics` would fold them otherwise: measured, a server nobody scraped
/// held 33 bytes more per pass served (200 MiB after 7 million). Folding
/// takes 10-15 ns a pass served (`examples/metrics_cost.rs`) and holds
/// the serving runtime while it runs, so often: at 45,000 passes/s,
/// 0.4-0.7 ms every second rather than 2.4-3.4 ms every 5 s (a stall
/// longer than `max_queue_delay`).
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
#[derive(Clone)]
pub struct Metrics(Arc<PrometheusRecorder>);

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
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
            .build_recorder();
        let metrics = Metrics(Arc::new(recorder));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(keep_up(Arc::downgrade(&metrics.0)));
        }
        // Present from the start, at zero, so that alerts can rate() them.
        for name in [
            "sealpass_public_shed_total",
            "sealpass_public_shed_queue_delay_total",
            "sealpass_public_shed_connections_total",
            "sealpass_public_timeouts_total",
            "sealpass_public_rate_limited_total",
            "sealpass_public_rate_limiter_full_total",
            "sealpass_public_passes_held_during_outage_total",
        ] {
            metrics.counter(name, vec![]).increment(0);
        }
        metrics
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> metrics::Counter {
        self.0
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        self.counter(
            "sealpass_public_requests_total",
            vec![
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ],
        )
        .increment(1);
        self.0
            .register_histogram(
                &Key::from_parts(
                    "sealpass_public_request_duration_seconds",
                    vec![
                        Label::new("route", route.to_owned()),
                        Label::new("status", status.to_string()),
                    ],
                ),
                &METADATA,
            )
            .record(elapsed.as_secs_f64());
    }

    pub fn shed(&self) {
        self.counter("sealpass_public_shed_total", vec![])
            .increment(1);
    }

    pub fn shed_for_delay(&self) {
        self.shed();
        self.counter("sealpass_public_shed_queue_delay_total", vec![])
            .increment(1);
    }

    /// Refused at the door: the connections in service were at the cap.
    pub fn shed_at_cap(&self) {
        self.shed();
        self.counter("sealpass_public_shed_connections_total", vec![])
            .increment(1);
    }

    pub fn connections_in_service(&self, n: usize) {
        self.0
            .register_gauge(
                &Key::from_name("sealpass_public_connections_in_service"),
                &METADATA,
            )
            .set(n as f64);
    }

    /// The pass book read a pass from the store, for `reason`.
    pub fn passbook_store_read(&self, reason: &'static str) {
        self.counter(
            "sealpass_public_passbook_store_reads_total",
            vec![Label::new("reason", reason)],
        )
        .increment(1);
    }

    pub fn queue_delay(&self, delay: Duration) {
        self.0
            .register_gauge(
                &Key::from_name("sealpass_public_queue_delay_seconds"),
                &METADATA,
            )
            .set(delay.as_secs_f64());
    }

    pub fn timed_out(&self) {
        self.counter("sealpass_public_timeouts_total", vec![])
            .increment(1);
    }

    pub fn rate_limited(&self) {
        self.counter("sealpass_public_rate_limited_total", vec![])
            .increment(1);
    }

    pub fn rate_limiter_full(&self) {
        self.counter("sealpass_public_rate_limiter_full_total", vec![])
            .increment(1);
    }

    pub fn pass_served(&self, age_seconds: u64, held_during_outage: bool) {
        self.0
            .register_histogram(
                &Key::from_name("sealpass_public_pass_age_seconds"),
                &METADATA,
            )
            .record(age_seconds as f64);
        if held_during_outage {
            self.counter("sealpass_public_passes_held_during_outage_total", vec![])
                .increment(1);
        }
    }

    pub fn passes_in_memory(&self, n: usize) {
        self.0
            .register_gauge(
                &Key::from_name("sealpass_public_passes_in_memory"),
                &METADATA,
            )
            .set(n as f64);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.0.handle().render()
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
