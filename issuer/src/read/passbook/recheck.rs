//! When a held pass is compared with the store again: the reasons it may
//! have changed, and the safety net's bounds for one that no event named.

use std::time::Duration;

/// Whether a held pass is compared with the store before it is sent.
#[derive(Debug, PartialEq)]
pub(super) enum Check {
    No,
    /// It may have changed: compared before it is sent.
    Now(Read),
    /// Only the safety net: compared if a safety-net read is free.
    SafetyNet,
}

impl Check {
    /// A pass compared `age` ago; `may_have_changed`: why it may have
    /// (an event named it, its renewal came, the feed cannot vouch for it),
    /// if it may.
    pub(super) fn of(
        age: Duration,
        (recheck, unchanged): (Duration, Duration),
        may_have_changed: Option<Read>,
    ) -> Check {
        if age < recheck {
            Check::No
        } else if let Some(why) = may_have_changed {
            Check::Now(why)
        } else if age >= unchanged {
            Check::SafetyNet
        } else {
            Check::No
        }
    }
}

/// Why a pass is read from the store: the label of
/// `sealpass_public_passbook_store_reads_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Not held: its first request (or after it was dropped).
    First,
    /// An event named its subject.
    Named,
    /// Its renewal time (`due_at`) came.
    Renewal,
    /// The event feed has not answered lately.
    FeedSilent,
    /// Compared before the event feed started.
    BeforeFeed,
    /// Only `recheck_unchanged` passed.
    SafetyNet,
}

impl Read {
    pub(super) fn label(self) -> &'static str {
        match self {
            Read::First => "first",
            Read::Named => "named",
            Read::Renewal => "renewal",
            Read::FeedSilent => "feed_silent",
            Read::BeforeFeed => "before_feed",
            Read::SafetyNet => "safety_net",
        }
    }
}

/// Safety-net comparisons (a held pass no event named, compared only
/// because `recheck_unchanged` passed) made at once.
pub const SAFETY_NET_READS: usize = 4;

/// Safety-net comparisons started a second, at most: a trickle beside the
/// requests, not a burst (the passes loaded in a rush all came due
/// together, and even [`SAFETY_NET_READS`] at once their reads took much
/// of the machine's core for a while: docs/performance.md). So with many passes
/// held, an unchanged pass is compared every `recheck_unchanged` or every
/// (passes held / 250) seconds, whichever is longer: for 100,000, about
/// every 7 minutes. (It is only the safety net: the feed brings changes
/// within seconds.)
pub const SAFETY_NET_PER_SECOND: f64 = 250.0;
/// Comparisons the safety net may start at once after a quiet spell.
pub(super) const SAFETY_NET_BURST: f64 = 8.0;

#[cfg(test)]
mod tests {
    use super::*;

    const RECHECK: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(60));

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_pass_that_may_have_changed_is_compared_whatever_the_load() {
        // Only the safety net is bounded: a named, renewed or unvouched
        // pass is always compared before it is sent.
        for why in [
            Read::Named,
            Read::Renewal,
            Read::FeedSilent,
            Read::BeforeFeed,
        ] {
            assert_eq!(Check::of(s(3), RECHECK, Some(why)), Check::Now(why));
            assert_eq!(Check::of(s(61), RECHECK, Some(why)), Check::Now(why));
            assert_eq!(
                Check::of(s(1), RECHECK, Some(why)),
                Check::No,
                "at most every recheck"
            );
        }
    }

    #[test]
    fn an_unchanged_pass_is_compared_only_by_the_safety_net() {
        assert_eq!(Check::of(s(3), RECHECK, None), Check::No);
        assert_eq!(Check::of(s(60), RECHECK, None), Check::SafetyNet);
    }
}
