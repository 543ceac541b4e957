//! What the public API's metrics cost per pass served: recording its two
//! histogram samples and counter (as the pass route does), and folding the
//! samples into the histograms (the upkeep, `issuer/src/shared/metrics.rs`), which
//! holds the serving runtime while it runs (docs/performance.md, "Overload
//! at 10x").
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin metrics_cost
//! ```

use sealpass_issuer::shared::metrics::Metrics;
use std::time::{Duration, Instant};

/// What the public API's metrics cost per pass served (no arguments).
#[derive(clap::Parser)]
struct Args {}

fn main() {
    let Args {} = clap::Parser::parse();
    // Outside a runtime: no upkeep task, so the fold below is all of it.
    let metrics = Metrics::new();
    // 5 s and 1 s of 45,000 passes a second, and a 10 s burst.
    for passes in [45_000u32, 225_000, 450_000] {
        let start = Instant::now();
        for _ in 0..passes {
            metrics.request("pass", 200, Duration::from_micros(900));
            metrics.pass_served(60, false);
        }
        let recording = start.elapsed();
        let start = Instant::now();
        let _ = metrics.render();
        let folding = start.elapsed();
        println!(
            "{passes} passes: recording {:.0} ns a pass; folding (and rendering) {:.2} ms, {:.1} ns a pass",
            recording.as_nanos() as f64 / f64::from(passes),
            folding.as_secs_f64() * 1e3,
            folding.as_nanos() as f64 / f64::from(passes),
        );
    }
}
