//! When each request of the run is due.

#[derive(Clone, Copy)]
pub struct Phase {
    pub rate: f64,
    pub seconds: f64,
}

/// Request `i` of the whole run: which phase, and when (seconds from the
/// start).
pub struct Schedule {
    phases: Vec<Phase>,
    /// First request index and start time of each phase.
    starts: Vec<(u64, f64)>,
    total: u64,
}

impl Schedule {
    pub fn new(phases: Vec<Phase>) -> Schedule {
        let mut starts = Vec::new();
        let (mut first, mut at) = (0u64, 0.0);
        for phase in &phases {
            starts.push((first, at));
            first += (phase.rate * phase.seconds).round() as u64;
            at += phase.seconds;
        }
        Schedule {
            phases,
            starts,
            total: first,
        }
    }

    pub fn at(&self, i: u64) -> Option<(usize, f64)> {
        if i >= self.total {
            return None;
        }
        let phase = self.starts.partition_point(|(first, _)| *first <= i) - 1;
        let (first, start) = self.starts[phase];
        Some((phase, start + (i - first) as f64 / self.phases[phase].rate))
    }

    /// The first request scheduled at or after `t` seconds.
    pub fn index_at(&self, t: f64) -> u64 {
        if t <= 0.0 {
            return 0;
        }
        let phase = self
            .starts
            .partition_point(|(_, start)| *start <= t)
            .saturating_sub(1);
        let (first, start) = self.starts[phase];
        let end = self.starts.get(phase + 1).map_or(self.total, |s| s.0);
        (first + ((t - start) * self.phases[phase].rate).ceil() as u64).min(end)
    }

    pub fn seconds(&self) -> f64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }
}

/// SplitMix64's finalizer: a random token for request `i`.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spreads_requests_over_phases() {
        let s = Schedule::new(vec![
            Phase {
                rate: 10.0,
                seconds: 2.0,
            },
            Phase {
                rate: 100.0,
                seconds: 1.0,
            },
        ]);
        assert_eq!(s.total, 120);
        assert_eq!(s.at(0), Some((0, 0.0)));
        assert_eq!(s.at(19), Some((0, 1.9)));
        assert_eq!(s.at(20), Some((1, 2.0)));
        assert_eq!(s.at(120), None);
        assert_eq!(s.index_at(0.0), 0);
        assert_eq!(s.index_at(1.95), 20);
        assert_eq!(s.index_at(2.0), 20);
        assert_eq!(s.index_at(2.5), 70);
        assert_eq!(s.index_at(9.0), 120);
    }
}
