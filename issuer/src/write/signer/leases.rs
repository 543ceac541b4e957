//! Revocation-index offsets reserved ahead for one round
//! (docs/issuer.md, "Revocation indices").
//!
//! Offsets are reserved in the store (committed) before the passes that use
//! them are signed, so two signers never share one and a crash only leaves
//! unused offsets. Reserving exactly one page's worth per page would cost a
//! write transaction per page and per expiry day, which on SQLite waits for
//! the writer storing the previous page. So a round keeps a lease per
//! expiry day: the first reservation of a day is exactly what its page
//! needs; each later one reserves as many as the day has used so far in the
//! round (at least what the page needs, at most [`MAX_LEASE`]). A bulk round
//! of n subjects commits O(log n + n / MAX_LEASE) reservations per day, a
//! small round exactly one, and what a round leaves unused is less than it
//! used and at most `MAX_LEASE` per day.

use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::ops::Range;

/// Largest number of offsets reserved at once for one expiry day.
pub const MAX_LEASE: i64 = 1 << 16;

/// The offsets a round has reserved but not handed out, per expiry day.
#[derive(Debug, Default)]
pub struct Leases {
    days: HashMap<i64, Lease>,
}

#[derive(Debug, Default)]
struct Lease {
    /// Reserved, not yet handed out, in the order they are handed out.
    free: Vec<Range<i64>>,
    /// Handed out so far in this round.
    used: i64,
}

impl Lease {
    fn available(&self) -> i64 {
        self.free.iter().map(|r| r.end - r.start).sum()
    }
}

impl Leases {
    /// Make sure `count` offsets of expiry `day` can be taken, reserving
    /// more in the store if needed.
    pub async fn ensure(&mut self, store: &Store, day: i64, count: i64) -> Result<(), StoreError> {
        let lease = self.days.entry(day).or_default();
        let missing = count - lease.available();
        if missing > 0 {
            let size = missing.max(lease.used.min(MAX_LEASE));
            let first = store.reserve_offsets(day, size).await?;
            lease.free.push(first..first + size);
        }
        Ok(())
    }

    /// The next reserved offset of expiry `day`; [`Leases::ensure`] must
    /// have made room for it.
    pub fn take(&mut self, day: i64) -> i64 {
        let lease = self
            .days
            .get_mut(&day)
            .expect("offsets ensured for the day");
        let range = lease.free.first_mut().expect("offsets ensured for the day");
        let offset = range.start;
        range.start += 1;
        if range.is_empty() {
            lease.free.remove(0);
        }
        lease.used += 1;
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[tokio::test(flavor = "current_thread")]
    async fn leases_grow_never_overlap_and_waste_less_than_they_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("leases.db").to_str().unwrap())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let day = 20_778;
        let mut leases = Leases::default();
        let mut handed_out = HashSet::new();
        let mut other_signer = HashSet::new();
        for page in 0..10 {
            leases.ensure(&store, day, 100).await.unwrap();
            for _ in 0..100 {
                assert!(handed_out.insert(leases.take(day)), "an offset twice");
            }
            if page == 3 {
                let first = store.reserve_offsets(day, 50).await.unwrap();
                other_signer.extend(first..first + 50);
            }
        }
        assert!(handed_out.is_disjoint(&other_signer));
        let reserved = store.max_offset_from(day).await.unwrap() - 50;
        let used = handed_out.len() as i64;
        assert!(reserved - used < used, "reserved {reserved} for {used}");
        // A small round reserves exactly what it needs.
        let mut small = Leases::default();
        small.ensure(&store, day + 1, 7).await.unwrap();
        assert_eq!(store.max_offset_from(day + 1).await.unwrap(), 7);
    }
}
