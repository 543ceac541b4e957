//! Device-binding challenges: stateless, checked by any public API node.
//!
//! A challenge is 57 bytes, sent as base64url without padding:
//!
//! ```text
//! 01                       version
//! u64 big-endian           expires at (Unix seconds)
//! 16 bytes                 nonce (random)
//! 32 bytes                 HMAC-SHA-256 (RFC 2104) under the issuer's
//!                          challenge secret of "sealpass bind challenge v1",
//!                          0x00, the 25 bytes above and the subject
//! ```
//!
//! *Why stateless:* the public API runs on many nodes behind a load
//! balancer, and a phone's challenge and its binding may reach different
//! nodes. A challenge kept in memory would fail there; one kept in the
//! store would cost a write per challenge (and a clean-up), on the
//! database that is already the city's bottleneck. The MAC needs only the
//! secret every node reads from the store at start (`issuer_secrets`).
//! **Single use** comes from the event log: a binding's idempotency key is
//! `bind:` and the nonce, unique in the log, so a challenge binds at most
//! once (`BindOutcome::ChallengeUsed`), on whichever node.

use hmac::{KeyInit, Mac};
use sealpass_core::{Seconds, Timestamp};
use sha2::Sha256;

/// Bytes of a challenge.
pub const CHALLENGE_BYTES: usize = 1 + 8 + NONCE_BYTES + 32;
const NONCE_BYTES: usize = 16;
const VERSION: u8 = 1;
const CONTEXT: &[u8] = b"sealpass bind challenge v1\0";

/// How long a challenge may be answered, by default.
pub const DEFAULT_CHALLENGE_LIFETIME: Seconds = Seconds(120);

/// A challenge that this issuer made, for this subject, and that has not
/// expired. Only [`check`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub nonce: [u8; NONCE_BYTES],
}

/// Why a challenge is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeError {
    /// Not a challenge this issuer made for this login (or damaged).
    NotOurs,
    /// It expired this many seconds ago.
    Expired { ago: u64 },
}

fn tag(secret: &[u8], signed: &[u8], subject: &str) -> hmac::Hmac<Sha256> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(CONTEXT);
    mac.update(signed);
    mac.update(subject.as_bytes());
    mac
}

/// A new challenge for `subject`, good until `now + lifetime`.
pub fn issue(
    secret: &[u8],
    subject: &str,
    now: Timestamp,
    lifetime: Seconds,
) -> Result<([u8; CHALLENGE_BYTES], Timestamp), getrandom::Error> {
    let expires_at = now.plus(lifetime);
    let mut challenge = [0u8; CHALLENGE_BYTES];
    challenge[0] = VERSION;
    challenge[1..9].copy_from_slice(&expires_at.0.to_be_bytes());
    getrandom::fill(&mut challenge[9..9 + NONCE_BYTES])?;
    let mac = tag(secret, &challenge[..9 + NONCE_BYTES], subject).finalize();
    challenge[9 + NONCE_BYTES..].copy_from_slice(&mac.into_bytes());
    Ok((challenge, expires_at))
}

/// Check `challenge` (raw bytes) for `subject` at `now`. The MAC is
/// compared in constant time, and checked before anything else is read.
pub fn check(
    secret: &[u8],
    challenge: &[u8],
    subject: &str,
    now: Timestamp,
) -> Result<Checked, ChallengeError> {
    if challenge.len() != CHALLENGE_BYTES || challenge[0] != VERSION {
        return Err(ChallengeError::NotOurs);
    }
    let (signed, mac) = challenge.split_at(9 + NONCE_BYTES);
    tag(secret, signed, subject)
        .verify_slice(mac)
        .map_err(|_| ChallengeError::NotOurs)?;
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&signed[1..9]);
    let expires_at = u64::from_be_bytes(expires);
    if now.0 > expires_at {
        return Err(ChallengeError::Expired {
            ago: now.0 - expires_at,
        });
    }
    let mut nonce = [0u8; NONCE_BYTES];
    nonce.copy_from_slice(&signed[9..]);
    Ok(Checked { nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = &[7; 32];
    const NOW: Timestamp = Timestamp(1_795_218_000);

    #[test]
    fn a_challenge_is_good_for_its_subject_until_it_expires() {
        let (challenge, expires_at) =
            issue(SECRET, "XA-001", NOW, DEFAULT_CHALLENGE_LIFETIME).unwrap();
        assert_eq!(expires_at, Timestamp(NOW.0 + 120));
        let checked = check(SECRET, &challenge, "XA-001", expires_at).unwrap();
        assert_eq!(checked.nonce[..], challenge[9..25]);
        assert_eq!(
            check(SECRET, &challenge, "XA-001", Timestamp(expires_at.0 + 5)),
            Err(ChallengeError::Expired { ago: 5 })
        );
    }

    #[test]
    fn another_subject_secret_or_a_flipped_bit_is_not_ours() {
        let (challenge, _) = issue(SECRET, "XA-001", NOW, DEFAULT_CHALLENGE_LIFETIME).unwrap();
        assert_eq!(
            check(SECRET, &challenge, "XA-002", NOW),
            Err(ChallengeError::NotOurs)
        );
        assert_eq!(
            check(&[8; 32], &challenge, "XA-001", NOW),
            Err(ChallengeError::NotOurs)
        );
        for byte in 0..CHALLENGE_BYTES {
            let mut flipped = challenge;
            flipped[byte] ^= 1;
            assert_eq!(
                check(SECRET, &flipped, "XA-001", NOW),
                Err(ChallengeError::NotOurs),
                "byte {byte}"
            );
        }
        assert_eq!(
            check(SECRET, &challenge[..56], "XA-001", NOW),
            Err(ChallengeError::NotOurs)
        );
    }

    #[test]
    fn two_challenges_differ() {
        let a = issue(SECRET, "XA-001", NOW, DEFAULT_CHALLENGE_LIFETIME).unwrap();
        let b = issue(SECRET, "XA-001", NOW, DEFAULT_CHALLENGE_LIFETIME).unwrap();
        assert_ne!(a.0, b.0);
    }
}
