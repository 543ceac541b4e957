//! A checkpoint's memory of the live codes it accepted, so that the same
//! code shown again inside its window is noticed: "already scanned 12 s
//! ago here". A warning on an accepted verdict, never a refusal (a re-scan
//! at a turnstile is routine) and never silent (a code passed back over the
//! barrier is the same code).
//!
//! The memory is the caller's, in memory, bounded, and forgets a code once
//! the window has closed on it: it would be refused as too old anyway.
//! It remembers a code by the SHA-256 of its pass bytes and its `t`, never
//! by its signature bytes, so no re-encoding of a signature (an ECDSA twin)
//! makes a code new.

use super::LiveCodeWindow;
use crate::time::{Seconds, Timestamp};
use std::collections::BTreeMap;
use std::fmt;

/// What identifies one live code: the pass it carries and the second it
/// was signed. Two codes with the same key are the same code to a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey {
    /// Ordered first by time, so the oldest codes are forgotten first.
    pub signed_at: Timestamp,
    /// SHA-256 of the pass's COSE_Sign1 bytes.
    pub pass_hash: [u8; 32],
}

/// The warning for a live code this checkpoint accepted before, inside
/// its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyScanned {
    /// When this checkpoint first accepted the code.
    pub first_seen: Timestamp,
    /// How long before `now` that was.
    pub ago: Seconds,
}

impl fmt::Display for AlreadyScanned {
    /// `already scanned 12 s ago here`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "already scanned {} ago here", self.ago)
    }
}

/// The live codes a checkpoint accepted whose window is still open, at most
/// [`ReplayMemory::capacity`] of them.
#[derive(Debug, Clone)]
pub struct ReplayMemory {
    /// Each code's key, and when it was first accepted.
    seen: BTreeMap<ReplayKey, Timestamp>,
    capacity: usize,
}

impl Default for ReplayMemory {
    fn default() -> Self {
        ReplayMemory::with_capacity(ReplayMemory::DEFAULT_CAPACITY)
    }
}

impl ReplayMemory {
    /// Enough for a gate scanning several codes a second through a whole
    /// window, in well under a megabyte.
    pub const DEFAULT_CAPACITY: usize = 8192;

    /// A memory of at most `capacity` codes (at least one).
    pub fn with_capacity(capacity: usize) -> ReplayMemory {
        ReplayMemory {
            seen: BTreeMap::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many codes are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Note that the code `key` was accepted at `now` under `window`. If it
    /// was accepted before and is still remembered, say when (the first
    /// time counts); otherwise remember it. Codes whose window has closed
    /// are forgotten first; when the memory is full, the code signed
    /// earliest is forgotten to make room.
    pub fn remember(
        &mut self,
        key: ReplayKey,
        window: LiveCodeWindow,
        now: Timestamp,
    ) -> Option<AlreadyScanned> {
        self.forget_before(now.minus(window.max_age));
        if let Some(&first_seen) = self.seen.get(&key) {
            return Some(AlreadyScanned {
                first_seen,
                ago: now.since(first_seen),
            });
        }
        while self.seen.len() >= self.capacity {
            self.seen.pop_first();
        }
        self.seen.insert(key, now);
        None
    }

    /// Forget every code signed before `oldest`.
    fn forget_before(&mut self, oldest: Timestamp) {
        let keep = self.seen.split_off(&ReplayKey {
            signed_at: oldest,
            pass_hash: [0; 32],
        });
        self.seen = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_218_000);

    fn key(signed_at: Timestamp, pass: u8) -> ReplayKey {
        ReplayKey {
            signed_at,
            pass_hash: [pass; 32],
        }
    }

    #[test]
    fn the_same_code_again_inside_the_window_is_already_scanned() {
        let window = LiveCodeWindow::default();
        let mut memory = ReplayMemory::default();
        let code = key(NOW.minus(Seconds(5)), 1);
        assert_eq!(memory.remember(code, window, NOW), None);
        let again = memory.remember(code, window, NOW.plus(Seconds(12)));
        assert_eq!(
            again,
            Some(AlreadyScanned {
                first_seen: NOW,
                ago: Seconds(12)
            })
        );
        assert_eq!(again.unwrap().to_string(), "already scanned 12 s ago here");
        // The first scan counts, not the last.
        let third = memory.remember(code, window, NOW.plus(Seconds(20)));
        assert_eq!(third.unwrap().ago, Seconds(20));
        // Another pass signed in the same second, or the same pass signed a
        // second later, is another code.
        assert_eq!(
            memory.remember(key(NOW.minus(Seconds(5)), 2), window, NOW),
            None
        );
        assert_eq!(
            memory.remember(key(NOW.minus(Seconds(4)), 1), window, NOW),
            None
        );
    }

    #[test]
    fn codes_are_forgotten_once_their_window_has_closed() {
        let window = LiveCodeWindow::default();
        let mut memory = ReplayMemory::default();
        let code = key(NOW, 1);
        memory.remember(code, window, NOW);
        memory.remember(key(NOW.plus(Seconds(30)), 2), window, NOW.plus(Seconds(30)));
        // At t + 60 s the code is still acceptable, and still remembered.
        assert!(
            memory
                .remember(code, window, NOW.plus(Seconds(60)))
                .is_some()
        );
        // At t + 61 s it is not: forgotten, and the later code kept.
        memory.remember(key(NOW.plus(Seconds(61)), 3), window, NOW.plus(Seconds(61)));
        assert_eq!(memory.len(), 2);
        assert!(!memory.seen.contains_key(&code));
    }

    #[test]
    fn a_full_memory_forgets_the_code_signed_earliest() {
        let window = LiveCodeWindow::default();
        let mut memory = ReplayMemory::with_capacity(3);
        for (i, pass) in (1..=4).enumerate() {
            memory.remember(key(NOW.plus(Seconds(i as u64)), pass), window, NOW);
        }
        assert_eq!(memory.len(), 3);
        assert!(!memory.seen.contains_key(&key(NOW, 1)));
        assert!(memory.seen.contains_key(&key(NOW.plus(Seconds(3)), 4)));
        assert_eq!(ReplayMemory::with_capacity(0).capacity(), 1);
    }
}
