//! What the run came to: a summary on standard error, one JSON object on
//! standard output.

use crate::histogram::Histogram;
use crate::{
    Args, BUSY, CLASSES, ERROR, NOT_MODIFIED, OK, OTHER, RATE_LIMITED, Second, Shared, TIMEOUT,
    UNSENT,
};
use std::sync::atomic::Ordering::Relaxed;

fn ms(value: Option<f64>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |v| {
        serde_json::json!((v * 1000.0).round() / 1000.0)
    })
}

pub fn report(args: &Args, shared: &Shared) {
    let mut phases = Vec::new();
    for (n, (phase, tally)) in args.phases.iter().zip(&shared.phases).enumerate() {
        let mut classes = serde_json::Map::new();
        let mut line = format!("phase {n}: {:.0}/s for {} s:", phase.rate, phase.seconds);
        for ((name, h), sent) in CLASSES.iter().zip(&tally.classes).zip(&tally.sent) {
            let count = h.count();
            if count == 0 {
                continue;
            }
            let (p50, p99, max) = (h.quantile(0.5), h.quantile(0.99), h.quantile(1.0));
            line += &format!(
                " {name} {count} (p50 {:.2} / p99 {:.2} / max {:.1} ms);",
                p50.unwrap_or(0.0),
                p99.unwrap_or(0.0),
                max.unwrap_or(0.0)
            );
            classes.insert(
                (*name).into(),
                serde_json::json!({"count": count, "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max),
                    "sent_p50_ms": ms(sent.quantile(0.5)), "sent_p99_ms": ms(sent.quantile(0.99))}),
            );
        }
        let ok = tally.classes[OK].count() + tally.classes[NOT_MODIFIED].count();
        let answered = Histogram::new();
        answered.merge(&tally.classes[OK]);
        answered.merge(&tally.classes[NOT_MODIFIED]);
        let goodput = ok as f64 / phase.seconds;
        if !args.quiet {
            eprintln!("{line} goodput {goodput:.0}/s");
        }
        phases.push(serde_json::json!({
            "rate": phase.rate, "seconds": phase.seconds,
            "offered": (phase.rate * phase.seconds).round(),
            "classes": classes, "goodput_per_s": goodput.round(),
            "ok_p50_ms": ms(answered.quantile(0.5)), "ok_p99_ms": ms(answered.quantile(0.99)),
        }));
    }
    let mut per_second = Vec::new();
    for (t, second) in shared.seconds.iter().enumerate() {
        let c: Vec<u64> = second.counts.iter().map(|c| c.load(Relaxed)).collect();
        per_second.push(serde_json::json!({
            "t": t, "offered": c.iter().sum::<u64>(), "ok": c[OK] + c[NOT_MODIFIED],
            "shed": c[RATE_LIMITED] + c[BUSY], "failed": c[OTHER] + c[ERROR] + c[TIMEOUT],
            "unsent": c[UNSENT],
            "ok_p99_ms": ms(second.ok.quantile(0.99)),
        }));
    }
    let recovery = args.recovery_after.map(|spike| {
        let baseline = shared.phases[0].classes[OK].quantile(0.99).unwrap_or(0.0);
        let limit = (2.0 * baseline).max(20.0);
        let end: f64 = args.phases[..=spike].iter().map(|p| p.seconds).sum();
        let normal = |s: &Second| {
            let c: Vec<u64> = s.counts.iter().map(|c| c.load(Relaxed)).collect();
            let offered: u64 = c.iter().sum();
            let ok = c[OK] + c[NOT_MODIFIED];
            offered > 0
                && ok as f64 >= 0.95 * offered as f64
                && s.ok.quantile(0.99).unwrap_or(f64::MAX) <= limit
        };
        let first = end.ceil() as usize;
        // The last second may be partial: judge up to the one before it.
        let last = shared.seconds.len().saturating_sub(1).max(first);
        let recovered = (first..last)
            .find(|&s| (s..last).all(|t| normal(&shared.seconds[t])))
            .map(|s| s as f64 - end);
        if !args.quiet {
            match recovered {
                Some(r) => eprintln!(
                    "recovered {r:.0} s after phase {spike} ended (every later second: >= 95% answered 200/304, p99 <= {limit:.1} ms)"
                ),
                None => eprintln!("not recovered within the run after phase {spike}"),
            }
        }
        serde_json::json!({"after_phase": spike, "seconds": recovered, "p99_limit_ms": limit})
    });
    if !args.quiet {
        for s in &per_second {
            eprintln!("  {s}");
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "connections": args.connections, "timeout_ms": args.timeout.as_millis() as u64,
            "tokens": shared.requests.len(), "phases": phases,
            "per_second": per_second, "recovery": recovery,
        })
    );
}
