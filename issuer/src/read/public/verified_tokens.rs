//! Identity tokens already verified, remembered until they expire.
//!
//! A phone sends the same identity token with every refresh of its pass
//! until the token expires, and verifying it (an Ed25519 or P-256
//! signature, then the claims) costs a large share of what a pass download
//! may cost (docs/performance.md, "Public API under overload").
//! So a token that verified is remembered by the SHA-256 of its *whole*
//! text, with the subject it maps to and the moment it stops being
//! accepted (`exp` plus the provider's skew). A later request is answered
//! from the table only if it carries exactly the same bytes (SHA-256 is
//! collision resistant: no other token, a changed signature included, can
//! find the entry) and only before that moment; anything else is verified
//! in full, and only successes are remembered. Times never go backwards
//! for `nbf`/`iat`: a token valid once stays valid until its `exp`.
//!
//! Keys and providers are fixed for the life of the process (they come
//! from the configuration at start), so an entry can never outlive the key
//! that verified it.
//!
//! Memory is bounded: at most `capacity` entries (about 120 bytes each),
//! in 16 shards; a full shard first forgets expired entries, then an
//! arbitrary sixteenth of itself.

use super::auth::{AuthError, Citizen, IdentityProviders, MAX_TOKEN_LEN};
use sealpass_core::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

const SHARDS: usize = 16;

struct Entry {
    subject: String,
    /// Accepted from this time on, as [`Citizen::valid_from`].
    valid_from: u64,
    /// Refused from this time on (`exp` + skew), as [`Citizen::valid_until`].
    valid_until: u64,
}

/// Verified identity tokens by the SHA-256 of their text. `capacity` 0
/// turns the table off: every token is verified in full.
pub struct VerifiedTokens {
    shards: Vec<Mutex<HashMap<[u8; 32], Entry>>>,
    per_shard: usize,
}

/// Whether a token was found in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Remembered,
    Verified,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> VerifiedTokens {
        VerifiedTokens {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
        }
    }

    /// Verify `token` with `providers` at `now`, or find it verified
    /// before and not expired.
    pub fn verify(
        &self,
        providers: &IdentityProviders,
        token: &str,
        now: Timestamp,
    ) -> Result<(Citizen, Lookup), AuthError> {
        if self.per_shard == 0 || token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return providers.verify(token, now).map(|c| (c, Lookup::Verified));
        }
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let shard = &self.shards[usize::from(key[0]) % SHARDS];
        {
            let mut entries = shard.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = entries.get(&key) {
                if entry.valid_from <= now.0 && now.0 < entry.valid_until {
                    let citizen = Citizen {
                        subject: entry.subject.clone(),
                        valid_from: entry.valid_from,
                        valid_until: entry.valid_until,
                    };
                    return Ok((citizen, Lookup::Remembered));
                }
                // Out of its time: verified in full below, which says why.
                if now.0 >= entry.valid_until {
                    entries.remove(&key);
                }
            }
        }
        let citizen = providers.verify(token, now)?;
        let mut entries = shard.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.per_shard {
            entries.retain(|_, e| now.0 < e.valid_until);
        }
        if entries.len() >= self.per_shard {
            let drop: Vec<[u8; 32]> = entries
                .keys()
                .take((self.per_shard / 16).max(1))
                .copied()
                .collect();
            for k in drop {
                entries.remove(&k);
            }
        }
        entries.insert(
            key,
            Entry {
                subject: citizen.subject.clone(),
                valid_from: citizen.valid_from,
                valid_until: citizen.valid_until,
            },
        );
        Ok((citizen, Lookup::Verified))
    }

    /// Tokens remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::public::auth::{sign_eddsa, test_providers};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sealpass_core::Seconds;
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_795_218_000);

    fn key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
    }

    fn providers() -> IdentityProviders {
        test_providers(&key())
    }

    fn token(sub: &str) -> String {
        sign_eddsa(
            &key(),
            "k1",
            &json!({"iss": "https://sso.example", "aud": "sealpass", "sub": sub, "exp": NOW.0 + 600, "iat": NOW.0}),
        )
    }

    #[test]
    fn a_token_is_verified_once_then_remembered() {
        let (p, table) = (providers(), VerifiedTokens::new(100));
        let t = token("42");
        let (first, how) = table.verify(&p, &t, NOW).unwrap();
        assert_eq!((first.subject.as_str(), how), ("XA-42", Lookup::Verified));
        let (again, how) = table.verify(&p, &t, Timestamp(NOW.0 + 1)).unwrap();
        assert_eq!(again, first);
        assert_eq!(how, Lookup::Remembered);
        // Another token, even of the same person, is verified on its own.
        let other = token("43");
        assert_eq!(table.verify(&p, &other, NOW).unwrap().1, Lookup::Verified);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_remembered_token_expires_when_verifying_would_refuse_it() {
        let (p, table) = (providers(), VerifiedTokens::new(100));
        let t = token("42");
        table.verify(&p, &t, NOW).unwrap();
        // exp + skew (60 s) - 1: still accepted, from the table.
        let last = Timestamp(NOW.0 + 659);
        assert_eq!(table.verify(&p, &t, last).unwrap().1, Lookup::Remembered);
        assert_eq!(
            table.verify(&p, &t, Timestamp(NOW.0 + 660)),
            Err(AuthError::Expired(Seconds(60)))
        );
        assert!(table.is_empty());
    }

    #[test]
    fn a_remembered_token_is_not_taken_before_its_time() {
        let (p, table) = (providers(), VerifiedTokens::new(100));
        let t = token("42"); // iat NOW, skew 60 s
        table.verify(&p, &t, NOW).unwrap();
        assert_eq!(
            table.verify(&p, &t, Timestamp(NOW.0 - 60)).unwrap().1,
            Lookup::Remembered
        );
        // A clock set back before iat - skew: refused as verifying would.
        assert_eq!(
            table.verify(&p, &t, Timestamp(NOW.0 - 61)),
            Err(AuthError::NotYetValid)
        );
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn only_the_exact_bytes_find_an_entry() {
        let (p, table) = (providers(), VerifiedTokens::new(100));
        let t = token("42");
        table.verify(&p, &t, NOW).unwrap();
        // Same header and claims, another signature: verified, refused.
        let (input, _) = t.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
        assert_eq!(table.verify(&p, &forged, NOW), Err(AuthError::BadSignature));
        // Refusals are not remembered either.
        assert_eq!(table.len(), 1);
        assert_eq!(table.verify(&p, &forged, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn the_table_stays_within_its_capacity() {
        let (p, table) = (providers(), VerifiedTokens::new(64));
        for n in 0..1000 {
            table.verify(&p, &token(&n.to_string()), NOW).unwrap();
        }
        assert!(table.len() <= 64, "{} entries", table.len());
        // Off: nothing is remembered.
        let off = VerifiedTokens::new(0);
        let t = token("42");
        off.verify(&p, &t, NOW).unwrap();
        assert_eq!(off.verify(&p, &t, NOW).unwrap().1, Lookup::Verified);
        assert!(off.is_empty());
    }
}
