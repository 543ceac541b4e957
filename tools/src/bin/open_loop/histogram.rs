//! The latency histogram of every class, phase and second.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A latency histogram in microseconds, log-linear (64 steps an octave:
/// within 1.6%), lock-free.
pub struct Histogram {
    buckets: Vec<AtomicU64>,
}

const LINEAR: u64 = 128;
const STEPS: u64 = 64;

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..(LINEAR + 40 * STEPS))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    fn index(us: u64) -> usize {
        if us < LINEAR {
            return us as usize;
        }
        let octave = 63 - u64::from(us.leading_zeros()); // >= 7
        let step = (us >> (octave - 6)) & (STEPS - 1);
        ((LINEAR + (octave - 7) * STEPS + step) as usize).min((LINEAR + 40 * STEPS - 1) as usize)
    }

    /// The smallest value of bucket `index`.
    fn value(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let octave = (index - LINEAR) / STEPS + 7;
        let step = (index - LINEAR) % STEPS;
        (1 << octave) + (step << (octave - 6))
    }

    pub fn record(&self, latency: Duration) {
        self.record_n(latency, 1);
    }

    pub fn record_n(&self, latency: Duration, n: u64) {
        let us = latency.as_micros().min(u128::from(u64::MAX)) as u64;
        self.buckets[Self::index(us)].fetch_add(n, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// The q-quantile in milliseconds (None when empty).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Relaxed);
            if seen >= rank {
                return Some(Self::value(i) as f64 / 1000.0);
            }
        }
        None
    }

    pub fn merge(&self, other: &Histogram) {
        for (a, b) in self.buckets.iter().zip(&other.buckets) {
            a.fetch_add(b.load(Relaxed), Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_within_two_percent() {
        for us in [0u64, 1, 127, 128, 129, 1000, 12_345, 1_000_000, 60_000_000] {
            let v = Histogram::value(Histogram::index(us));
            assert!(v <= us && us - v <= us / 50 + 1, "{us} -> {v}");
        }
    }
}
