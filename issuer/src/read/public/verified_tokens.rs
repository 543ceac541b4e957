//! Identity tokens already verified, remembered until they expire.
//!
//! A phone sends the same identity token with every refresh of its pass
//! until the token expires, and verifying it (an Ed25519 or P-256
//! signature, then the claims) costs a large share of what a pass download
//! may cost ("Public API under overload" in the git history of docs/performance.md).
//! So a token that verified is remembered by the SHA-256 of its *whole*
//! text, with the login it names, the subject it maps to and the moment it
//! stops being accepted (`exp` plus the provider's skew). A later request is answered
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
//! The login's [`Resolution`] (its identity link, `identity_links.rs`) is
//! remembered with the token once the pass book's change feed follows the
//! store (before, it is only held for a store outage), and forgotten when
//! the feed says the login's link changed ([`FollowsChanges`]): the table
//! is the feed's listener. A resolution
//! read from the store while the feed was forgetting is not remembered
//! (`forgotten` counts the forgettings; a resolution is remembered only if
//! none happened since its token was looked up).
//!
//! Memory is bounded: at most `capacity` entries (about 170 bytes each),
//! in 16 shards; a full shard first forgets expired entries, then an
//! arbitrary sixteenth of itself.

use super::auth::{AuthError, Citizen, IdentityProviders, MAX_TOKEN_LEN};
use super::identity_links::Resolution;
use crate::read::passbook::FollowsChanges;
use sealpass_core::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const SHARDS: usize = 16;

/// A remembered token (its key) waiting on its template's subject, until
/// the token's `valid_until`.
type Waiting = ([u8; 32], u64);

struct Entry {
    /// The login and its times ([`Citizen::valid_from`] to
    /// [`Citizen::valid_until`]).
    citizen: Citizen,
    /// Which subject the login is, once resolved ...
    resolution: Option<Resolution>,
    /// ... and whether the change feed followed the links since: if not,
    /// it is resolved again, and used only when the store cannot answer.
    followed: bool,
}

/// Verified identity tokens by the SHA-256 of their text. `capacity` 0
/// turns the table off: every token is verified in full.
pub struct VerifiedTokens {
    shards: Vec<Mutex<HashMap<[u8; 32], Entry>>>,
    per_shard: usize,
    /// Resolutions are remembered only once the change feed follows.
    keep_resolutions: AtomicBool,
    /// +1 before every forgetting of resolutions.
    forgotten: AtomicU64,
    /// +1 before the feed names newly changed subjects.
    subjects_named: AtomicU64,
    /// Tokens remembered as linked while their template's subject was not
    /// enrolled, by that subject (with the token's `valid_until`): its
    /// enrolment makes them conflicts, so they are resolved again.
    waiting_on_template: Mutex<HashMap<String, Vec<Waiting>>>,
}

/// Whether a token was found in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Remembered,
    Verified,
}

/// A token that verified, or was found verified before.
#[derive(Debug, PartialEq, Eq)]
pub struct Login {
    pub citizen: Citizen,
    /// Its resolution, if remembered and the change feed followed the
    /// links since; if not, resolve it ([`super::identity_links::resolve`])
    /// and [`VerifiedTokens::remember_resolution`].
    pub resolution: Option<Resolution>,
    /// The resolution remembered while the feed did not follow (before
    /// its first read, or with `recheck = 0s`): for when the store cannot
    /// answer, as a held pass is served through an outage.
    pub held_resolution: Option<Resolution>,
    pub lookup: Lookup,
    /// Where it is remembered, and the table's counts when it was looked up.
    key: Option<[u8; 32]>,
    forgotten: u64,
    subjects_named: u64,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> VerifiedTokens {
        VerifiedTokens {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            keep_resolutions: AtomicBool::new(false),
            forgotten: AtomicU64::new(0),
            subjects_named: AtomicU64::new(0),
            waiting_on_template: Mutex::default(),
        }
    }

    fn shard(&self, key: &[u8; 32]) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.shards[usize::from(key[0]) % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Verify `token` with `providers` at `now`, or find it verified
    /// before and not expired.
    pub fn verify(
        &self,
        providers: &IdentityProviders,
        token: &str,
        now: Timestamp,
    ) -> Result<Login, AuthError> {
        let forgotten = self.forgotten.load(Ordering::SeqCst);
        let subjects_named = self.subjects_named.load(Ordering::SeqCst);
        let login = |citizen, (resolution, held_resolution), lookup, key| Login {
            citizen,
            resolution,
            held_resolution,
            lookup,
            key,
            forgotten,
            subjects_named,
        };
        if self.per_shard == 0 || token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return providers
                .verify(token, now)
                .map(|c| login(c, (None, None), Lookup::Verified, None));
        }
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        {
            let mut entries = self.shard(&key);
            if let Some(entry) = entries.get(&key) {
                let citizen = &entry.citizen;
                if citizen.valid_from <= now.0 && now.0 < citizen.valid_until {
                    let resolution = entry.resolution.clone();
                    let resolutions = if entry.followed {
                        (resolution, None)
                    } else {
                        (None, resolution)
                    };
                    return Ok(login(
                        citizen.clone(),
                        resolutions,
                        Lookup::Remembered,
                        Some(key),
                    ));
                }
                // Out of its time: verified in full below, which says why.
                if now.0 >= citizen.valid_until {
                    entries.remove(&key);
                }
            }
        }
        let citizen = providers.verify(token, now)?;
        let mut entries = self.shard(&key);
        if entries.len() >= self.per_shard {
            entries.retain(|_, e| now.0 < e.citizen.valid_until);
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
                citizen: citizen.clone(),
                resolution: None,
                followed: false,
            },
        );
        Ok(login(citizen, (None, None), Lookup::Verified, Some(key)))
    }

    /// Remember `resolution`, read from the store after `login` was looked
    /// up, with its token: unless the feed forgot resolutions since (the
    /// store may have answered from before the change it forgot them for).
    /// While the feed does not follow, it is only held for an outage.
    pub fn remember_resolution(&self, login: &Login, resolution: Resolution, now: Timestamp) {
        let Some(key) = login.key else {
            return;
        };
        let followed = self.keep_resolutions.load(Ordering::SeqCst);
        let waits = followed && resolution.waits_on_template(&login.citizen);
        if waits {
            // Listed before it is remembered, so an enrolment the feed
            // names from now on finds it (or the count below has moved).
            let mut waiting = self
                .waiting_on_template
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let count = waiting.len();
            if count >= 1024 && count.is_power_of_two() {
                waiting.retain(|_, tokens| {
                    tokens.retain(|&(_, until)| until > now.0);
                    !tokens.is_empty()
                });
            }
            waiting
                .entry(login.citizen.subject.clone())
                .or_default()
                .push((key, login.citizen.valid_until));
        }
        let mut entries = self.shard(&key);
        if self.forgotten.load(Ordering::SeqCst) != login.forgotten
            || (waits && self.subjects_named.load(Ordering::SeqCst) != login.subjects_named)
        {
            return;
        }
        if let Some(entry) = entries.get_mut(&key) {
            entry.resolution = Some(resolution);
            entry.followed = followed;
        }
    }

    /// Forget the resolutions of the entries `forget` picks.
    fn forget_resolutions(&self, forget: impl Fn(&Citizen) -> bool) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        for shard in &self.shards {
            let mut entries = shard.lock().unwrap_or_else(|e| e.into_inner());
            for entry in entries.values_mut() {
                if entry.resolution.is_some() && forget(&entry.citizen) {
                    entry.resolution = None;
                }
            }
        }
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

impl FollowsChanges for VerifiedTokens {
    fn started(&self) {
        self.forget_resolutions(|_| true);
        self.waiting_on_template
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.keep_resolutions.store(true, Ordering::SeqCst);
    }

    fn subjects_changed(&self, subjects: &[&str]) {
        self.subjects_named.fetch_add(1, Ordering::SeqCst);
        let tokens: Vec<[u8; 32]> = {
            let mut waiting = self
                .waiting_on_template
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if waiting.is_empty() {
                return;
            }
            subjects
                .iter()
                .filter_map(|subject| waiting.remove(*subject))
                .flatten()
                .map(|(key, _)| key)
                .collect()
        };
        if tokens.is_empty() {
            return;
        }
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        for key in tokens {
            if let Some(entry) = self.shard(&key).get_mut(&key) {
                entry.resolution = None;
            }
        }
    }

    fn links_changed(&self, logins: &[(String, String)]) {
        let logins: HashSet<(&str, &str)> = logins
            .iter()
            .map(|(issuer, sub)| (issuer.as_str(), sub.as_str()))
            .collect();
        self.forget_resolutions(|citizen| logins.contains(&(&*citizen.issuer, &*citizen.sub)));
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
        let first = table.verify(&p, &t, NOW).unwrap();
        assert_eq!(
            (first.citizen.subject.as_str(), first.lookup),
            ("XA-42", Lookup::Verified)
        );
        let again = table.verify(&p, &t, Timestamp(NOW.0 + 1)).unwrap();
        assert_eq!(again.citizen, first.citizen);
        assert_eq!(again.lookup, Lookup::Remembered);
        // Another token, even of the same person, is verified on its own.
        let other = token("43");
        assert_eq!(
            table.verify(&p, &other, NOW).unwrap().lookup,
            Lookup::Verified
        );
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_remembered_token_expires_when_verifying_would_refuse_it() {
        let (p, table) = (providers(), VerifiedTokens::new(100));
        let t = token("42");
        table.verify(&p, &t, NOW).unwrap();
        // exp + skew (60 s) - 1: still accepted, from the table.
        let last = Timestamp(NOW.0 + 659);
        assert_eq!(
            table.verify(&p, &t, last).unwrap().lookup,
            Lookup::Remembered
        );
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
            table.verify(&p, &t, Timestamp(NOW.0 - 60)).unwrap().lookup,
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
        assert_eq!(off.verify(&p, &t, NOW).unwrap().lookup, Lookup::Verified);
        assert!(off.is_empty());
    }
}

#[cfg(test)]
mod resolution_tests {
    use super::*;
    use crate::read::public::auth::{sign_eddsa, test_providers};
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_795_218_000);

    fn key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
    }

    fn token(sub: &str) -> String {
        sign_eddsa(
            &key(),
            "k1",
            &json!({"iss": "https://sso.example", "aud": "sealpass", "sub": sub, "exp": NOW.0 + 600, "iat": NOW.0}),
        )
    }

    fn linked() -> Resolution {
        Resolution::Linked("S-7".into())
    }

    #[test]
    fn a_resolution_is_trusted_only_once_the_feed_follows_and_until_its_link_changes() {
        let (p, table) = (test_providers(&key()), VerifiedTokens::new(100));
        let t = token("42");
        // Before the feed's first read: held for an outage only.
        let login = table.verify(&p, &t, NOW).unwrap();
        table.remember_resolution(&login, linked(), NOW);
        let again = table.verify(&p, &t, NOW).unwrap();
        assert_eq!(
            (again.resolution, again.held_resolution),
            (None, Some(linked()))
        );
        // The feed starts: what was remembered is forgotten, then trusted.
        table.started();
        let login = table.verify(&p, &t, NOW).unwrap();
        assert_eq!((&login.resolution, &login.held_resolution), (&None, &None));
        table.remember_resolution(&login, linked(), NOW);
        assert_eq!(
            table.verify(&p, &t, NOW).unwrap().resolution,
            Some(linked())
        );
        // Another login's link changes: this one stays.
        table.links_changed(&[("https://sso.example".into(), "43".into())]);
        assert_eq!(
            table.verify(&p, &t, NOW).unwrap().resolution,
            Some(linked())
        );
        // Its own: forgotten.
        table.links_changed(&[("https://sso.example".into(), "42".into())]);
        assert_eq!(table.verify(&p, &t, NOW).unwrap().resolution, None);
    }

    #[test]
    fn a_resolution_read_before_a_change_the_feed_forgot_is_not_remembered() {
        let (p, table) = (test_providers(&key()), VerifiedTokens::new(100));
        table.started();
        let t = token("42");
        let login = table.verify(&p, &t, NOW).unwrap();
        // The store answered, then the feed read a change of this login.
        table.links_changed(&[("https://sso.example".into(), "42".into())]);
        table.remember_resolution(&login, linked(), NOW);
        assert_eq!(table.verify(&p, &t, NOW).unwrap().resolution, None);
    }

    #[test]
    fn a_link_waiting_on_its_template_subject_is_resolved_again_once_it_is_enrolled() {
        let (p, table) = (test_providers(&key()), VerifiedTokens::new(100));
        table.started();
        let t = token("42"); // the template's subject: XA-42, not enrolled
        let login = table.verify(&p, &t, NOW).unwrap();
        table.remember_resolution(&login, linked(), NOW);
        table.subjects_changed(&["XA-41"]);
        assert_eq!(
            table.verify(&p, &t, NOW).unwrap().resolution,
            Some(linked())
        );
        table.subjects_changed(&["XA-42"]);
        assert_eq!(table.verify(&p, &t, NOW).unwrap().resolution, None);
    }
}
