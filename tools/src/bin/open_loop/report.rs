//! What the run came to: a summary on standard error, one JSON object on
//! standard output (its fields are described at the top of main.rs).

use crate::cli::Args;
use crate::histogram::Histogram;
use crate::lines::{Run, Second, Tally};
use crate::schedule::Phase;
use crate::{BUSY, CLASSES, ERROR, HELD, NOT_MODIFIED, OK, OTHER, RATE_LIMITED, TIMEOUT, UNSENT};
use serde_json::{Value, json};
use std::sync::atomic::Ordering::Relaxed;

/// A run whose generator left more than this share of its schedule unsent
/// did not offer the load it was asked for: its figures do not count.
const MOST_UNSENT: f64 = 0.10;

fn ms(value: Option<f64>) -> Value {
    value.map_or(Value::Null, |v| json!((v * 1000.0).round() / 1000.0))
}

pub fn report(args: &Args, run: &Run) {
    let mut phases = Vec::new();
    for (n, (phase, tally)) in args.phases.iter().zip(&run.phases).enumerate() {
        let (summary, line) = phase_report(phase, tally);
        if !args.quiet {
            eprintln!("phase {n}: {line}");
        }
        phases.push(summary);
    }
    let per_second: Vec<Value> = run.seconds.iter().enumerate().map(second_report).collect();
    let recovery = args.recovery_after.map(|spike| recovery(args, run, spike));
    if !args.quiet {
        for s in &per_second {
            eprintln!("  {s}");
        }
    }
    println!(
        "{}",
        json!({
            "connections": args.connections, "timeout_ms": args.timeout.as_millis() as u64,
            "tokens": run.requests.len(),
            "arrivals": if args.poisson.is_some() { "poisson" } else { "even" },
            "poisson_seed": args.poisson, "paced": args.paced,
            "honour_retry_after": args.honour_retry_after,
            "phases": phases, "per_second": per_second, "recovery": recovery,
        })
    );
}

/// A phase's JSON and its line of the summary.
pub fn phase_report(phase: &Phase, tally: &Tally) -> (Value, String) {
    let mut classes = serde_json::Map::new();
    let mut line = format!("{:.0}/s for {} s:", phase.rate, phase.seconds);
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
            json!({"count": count, "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max),
                "sent_p50_ms": ms(sent.quantile(0.5)), "sent_p99_ms": ms(sent.quantile(0.99))}),
        );
    }
    let count = |class: usize| tally.classes[class].count();
    let scheduled: u64 = (0..CLASSES.len()).map(count).sum();
    let (held, unsent) = (count(HELD), count(UNSENT));
    let sent = scheduled - held - unsent;
    let refused = count(RATE_LIMITED) + count(BUSY);
    let ok = count(OK) + count(NOT_MODIFIED);
    let answered = Histogram::new();
    answered.merge(&tally.classes[OK]);
    answered.merge(&tally.classes[NOT_MODIFIED]);
    let goodput = ok as f64 / phase.seconds;
    let (target_rps, offered_rps) = (
        scheduled as f64 / phase.seconds,
        sent as f64 / phase.seconds,
    );
    let valid = unsent as f64 <= MOST_UNSENT * scheduled as f64;
    let refused_share = if sent > 0 {
        refused as f64 / sent as f64
    } else {
        0.0
    };
    line += &format!(
        " goodput {goodput:.0}/s; sent {offered_rps:.0}/s of {target_rps:.0}/s scheduled, \
         {held} held (Retry-After), {unsent} unsent, {:.2}% of those sent refused",
        100.0 * refused_share
    );
    if !valid {
        line += &format!(
            "; NOT VALID: the generator left {:.0}% of its schedule unsent",
            100.0 * unsent as f64 / scheduled.max(1) as f64
        );
    }
    let summary = json!({
        "rate": phase.rate, "seconds": phase.seconds,
        // The requests scheduled ("offered" before sent and held were told apart).
        "offered": scheduled, "scheduled": scheduled,
        "target_rps": target_rps.round(), "offered_rps": offered_rps.round(),
        "sent": sent, "held": held, "unsent": unsent, "valid": valid,
        "refused": refused, "refused_share": refused_share,
        "classes": classes, "goodput_per_s": goodput.round(),
        "ok_p50_ms": ms(answered.quantile(0.5)), "ok_p99_ms": ms(answered.quantile(0.99)),
    });
    (summary, line)
}

fn counts(second: &Second) -> Vec<u64> {
    second.counts.iter().map(|c| c.load(Relaxed)).collect()
}

fn second_report((t, second): (usize, &Second)) -> Value {
    let c = counts(second);
    let scheduled: u64 = c.iter().sum();
    json!({
        "t": t, "offered": scheduled, "sent": scheduled - c[HELD] - c[UNSENT],
        "ok": c[OK] + c[NOT_MODIFIED], "shed": c[RATE_LIMITED] + c[BUSY],
        "failed": c[OTHER] + c[ERROR] + c[TIMEOUT], "held": c[HELD], "unsent": c[UNSENT],
        "ok_p99_ms": ms(second.ok.quantile(0.99)),
    })
}

/// How long after phase `spike` ended every second was normal again.
fn recovery(args: &Args, run: &Run, spike: usize) -> Value {
    let baseline = run.phases[0].classes[OK].quantile(0.99).unwrap_or(0.0);
    let limit = (2.0 * baseline).max(20.0);
    let end: f64 = args.phases[..=spike].iter().map(|p| p.seconds).sum();
    let normal = |s: &Second| {
        let c = counts(s);
        // Held requests left out: each refusal holds its line for the
        // whole Retry-After, rate / lines x Retry-After requests (31 at
        // 16,000/s on 1,024 lines, where a real phone holds one), so they
        // would measure the harness's few busy phones, not the server.
        // Unsent ones still count against the second.
        let not_held: u64 = c.iter().sum::<u64>() - c[HELD];
        let ok = c[OK] + c[NOT_MODIFIED];
        not_held > 0
            && ok as f64 >= 0.95 * not_held as f64
            && s.ok.quantile(0.99).unwrap_or(f64::MAX) <= limit
    };
    let first = end.ceil() as usize;
    // The last second may be partial: judge up to the one before it.
    let last = run.seconds.len().saturating_sub(1).max(first);
    let recovered = (first..last)
        .find(|&s| (s..last).all(|t| normal(&run.seconds[t])))
        .map(|s| s as f64 - end);
    if !args.quiet {
        match recovered {
            Some(r) => eprintln!(
                "recovered {r:.0} s after phase {spike} ended (every later second: >= 95% answered 200/304, p99 <= {limit:.1} ms)"
            ),
            None => eprintln!("not recovered within the run after phase {spike}"),
        }
    }
    json!({"after_phase": spike, "seconds": recovered, "p99_limit_ms": limit})
}
