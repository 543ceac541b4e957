//! Revocation indices (docs/issuer.md, "Revocation indices").
//!
//! Every pass gets an index no live pass has: the index is chosen by the
//! pass's **expiry day** `d` and a counter `offset` of that day,
//!
//! ```text
//! index = offset * PARTITIONS + d mod PARTITIONS
//! ```
//!
//! so the status list is `PARTITIONS` interleaved partitions, one per expiry
//! day modulo `PARTITIONS`. The counter of day `d + PARTITIONS` starts again
//! at zero and reuses the indices of day `d`, whose passes all expired at
//! least `PARTITIONS - 1` days before any pass of day `d + PARTITIONS` is
//! issued. That gap must exceed a pass's validity, the clock skew and a
//! status list's validity together ([`max_lifetime`]): then no verifier
//! holding an unexpired status list can see the bit of a revoked old pass
//! on a new pass with the same index, and a revoked subject's next pass
//! never inherits the revoked bit. The list's length depends on the number
//! of passes expiring per day, not on how many were ever issued, so it does
//! not grow as 13 million passes are renewed every day.

use sealpass_core::{Seconds, Timestamp};

/// Interleaved partitions of the index space, one per expiry day mod 4.
pub const PARTITIONS: u64 = 4;

/// Smallest partition capacity a status list is signed with.
pub const MIN_CAPACITY: u64 = 1 << 14;

/// Largest partition capacity: the core accepts status lists of at most
/// 2^29 entries.
pub const MAX_CAPACITY: u64 = (1 << 29) / PARTITIONS;

/// The longest a pass may be valid, plus the clock skew verifiers allow,
/// plus a status list's validity: this must not exceed
/// `(PARTITIONS - 1)` days.
pub fn max_lifetime() -> Seconds {
    Seconds::days(PARTITIONS - 1)
}

/// The expiry day of a pass (days since 1970-01-01, UTC).
pub fn expiry_day(expires_at: Timestamp) -> i64 {
    (expires_at.0 / 86_400) as i64
}

/// The revocation index of the `offset`-th pass expiring on `day`.
pub fn revocation_index(day: i64, offset: i64) -> Option<u32> {
    let offset = u64::try_from(offset).ok()?;
    let partition = u64::try_from(day).ok()? % PARTITIONS;
    u32::try_from(offset.checked_mul(PARTITIONS)? + partition).ok()
}

/// The capacity per partition a status list needs when the highest offset
/// reserved is `max_offset`: twice that, to a power of two, so passes can be
/// issued for a long time before verifiers need a longer list.
pub fn capacity_for(max_offset: i64) -> u64 {
    let needed = (max_offset.max(0) as u64)
        .saturating_add(1)
        .saturating_mul(2);
    needed
        .min(MAX_CAPACITY)
        .next_power_of_two()
        .clamp(MIN_CAPACITY, MAX_CAPACITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_interleave_and_reuse_after_four_days() {
        let day = 20_778; // 2026-11-21
        assert_eq!(revocation_index(day, 0), Some(2));
        assert_eq!(revocation_index(day + 1, 0), Some(3));
        assert_eq!(revocation_index(day, 1), Some(6));
        assert_eq!(revocation_index(day + 4, 1), revocation_index(day, 1));
        let expiry = Timestamp(day as u64 * 86_400 + 3_600);
        assert_eq!(expiry_day(expiry), day);
    }

    #[test]
    fn capacity_doubles_the_highest_offset() {
        assert_eq!(capacity_for(0), MIN_CAPACITY);
        assert_eq!(capacity_for(13_000_000), 1 << 25);
        assert_eq!(capacity_for(i64::MAX), MAX_CAPACITY);
    }
}
