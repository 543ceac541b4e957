//! sealpass-web: the offline web verifier's decisions, compiled to wasm32
//! and run in the page's Web Worker. A frame from the phone's camera goes
//! in, the command line's `--json` verdict comes out, decided by
//! sealpass-core exactly as `sealpass-verifier` decides; QR codes are read
//! by sealpass-qr with the command line's settings.
//!
//! Every method takes and returns plain values (bytes, strings, numbers;
//! JSON for structures), so the same API is tested natively:
//!
//! ```
//! use sealpass_core::testkit::{City, NOW};
//! use sealpass_web::Checkpoint;
//!
//! let city = City::new();
//! let now_ms = NOW.0 as f64 * 1000.0; // what Date.now() gives
//! let mut checkpoint = Checkpoint::new();
//! checkpoint.pin_roots(&city.roots.to_cbor());
//! checkpoint.offer_trust_list("trust-list.cbor", city.signed_first_list(), now_ms);
//! let pass = sealpass_core::sign_pass(&city.claims(), &city.active).unwrap();
//! // Without its issuer's status list, revocation cannot be checked.
//! let verdict = checkpoint.verify_text(&pass, now_ms);
//! assert!(verdict.contains(r#""code":"revocation_not_checked""#));
//! let status_list = city.large_status_list(&[]);
//! checkpoint.offer_status_list("CN-610100", "status/CN-610100.cbor", &status_list, now_ms);
//! let verdict = checkpoint.verify_text(&pass, now_ms);
//! assert!(verdict.contains(r#""verdict":"valid""#));
//! ```

mod verdict;

pub use sealpass_checkpoint::Verdict;
use sealpass_checkpoint::{ClockComparison, ClockGuard, ListKind};
pub use sealpass_checkpoint::{ListReport, Lists, issuer_file_stem, issuers};
pub use verdict::Origin;

use sealpass_core::{
    BUILTIN_PROFILES, CheckpointPolicy, DEFAULT_CLOCK_SKEW, ReplayMemory, Seconds, Timestamp,
};
use sealpass_qr::{Frame, Look, read};
use serde::Serialize;
use serde_json::json;
use wasm_bindgen::prelude::*;

/// The ways of looking at camera frames, one per frame in turn: a code the
/// first look misses is tried another way a few frames later, and no frame
/// costs more than one look.
const FRAME_LOOKS: [Look; 3] = [Look::Multi, Look::Generic, Look::MultiGlobal];

/// A phone's checkpoint: its lists, its policy and the newest time it has
/// seen. The page keeps the bytes in the phone's storage and hands them
/// back on every start; nothing here is trusted for having been stored.
#[wasm_bindgen]
pub struct Checkpoint {
    lists: Lists,
    policy: CheckpointPolicy,
    clock_skew: Seconds,
    clock: ClockGuard,
    /// The live codes accepted on this phone while the page is open.
    memory: ReplayMemory,
    frames: usize,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Checkpoint::new()
    }
}

#[wasm_bindgen]
impl Checkpoint {
    /// Nothing trusted yet; the `subway` profile.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Checkpoint {
        Checkpoint {
            lists: Lists::default(),
            policy: CheckpointPolicy::default(),
            clock_skew: DEFAULT_CLOCK_SKEW,
            clock: ClockGuard::default(),
            memory: ReplayMemory::default(),
            frames: 0,
        }
    }

    /// The built-in checkpoint profiles, as a JSON array of names.
    pub fn profiles() -> String {
        serde_json::to_string(&BUILTIN_PROFILES).expect("names serialise")
    }

    /// This phone's clock (`device_seconds`, when a list server's answer
    /// arrived) against the server's (`server_seconds`, the answer's
    /// `Date`): `ClockComparison` as JSON, `off` when a warning is due.
    pub fn compare_clock(device_seconds: f64, server_seconds: f64) -> String {
        let seconds = |value: f64| Timestamp(value.max(0.0) as u64);
        let compared = ClockComparison::new(seconds(device_seconds), seconds(server_seconds));
        serde_json::to_string(&compared).expect("a comparison serialises")
    }

    /// Choose a built-in profile; false (and unchanged) for an unknown name.
    pub fn set_policy(&mut self, name: &str) -> bool {
        match CheckpointPolicy::builtin(name) {
            Some(policy) => {
                self.policy = policy;
                true
            }
            None => false,
        }
    }

    pub fn policy(&self) -> String {
        self.policy.name.clone()
    }

    /// Pin the root-set file served with the app. JSON: `{"ok", "fingerprint",
    /// "code", "reason"}`.
    pub fn pin_roots(&mut self, bytes: &[u8]) -> String {
        match self.lists.pin_roots(bytes) {
            Ok(fingerprint) => json!({"ok": true, "fingerprint": fingerprint}),
            Err((code, reason)) => json!({"ok": false, "code": code, "reason": reason}),
        }
        .to_string()
    }

    /// Re-load the stored trust list, against the pinned roots: pin the
    /// stored roots and hand back the highest sequence accepted first. JSON:
    /// `{"ok", "code", "reason"}`; a list that does not verify against the
    /// pinned roots is `trust_list_damaged`, one older than the highest
    /// sequence accepted `rollback`. After `ok` the page stores
    /// [`Checkpoint::pinned_roots_bytes`] (the pin follows a rotation).
    pub fn load_trust_list(&mut self, bytes: &[u8]) -> String {
        match self.lists.load_trust_list(bytes) {
            Ok(()) => json!({"ok": true}),
            Err((code, reason)) => json!({"ok": false, "code": code, "reason": reason}),
        }
        .to_string()
    }

    /// Re-load a stored status list. JSON as [`Checkpoint::load_trust_list`],
    /// code `status_list_not_used`.
    pub fn load_status_list(&mut self, issuer: &str, bytes: &[u8], now_ms: f64) -> String {
        let now = timestamp(now_ms).unwrap_or(Timestamp(0));
        match self.lists.load_status_list(issuer, bytes, now) {
            Ok(()) => json!({"ok": true}),
            Err(reason) => json!({"ok": false, "code": "status_list_not_used", "reason": reason}),
        }
        .to_string()
    }

    /// Offer a downloaded trust list (bootstrap, never below the highest
    /// sequence accepted, or T0-T7): the `sync --json` report. After a
    /// `bootstrapped` or `replaced` result the page stores
    /// [`Checkpoint::trust_list_bytes`], then
    /// [`Checkpoint::pinned_roots_bytes`] and
    /// [`Checkpoint::highest_sequence_accepted`].
    pub fn offer_trust_list(&mut self, location: &str, bytes: &[u8], now_ms: f64) -> String {
        let report = match timestamp(now_ms) {
            Some(now) => self.lists.offer_trust_list(location, bytes, now),
            None => self.lists.unavailable(
                ListKind::TrustList,
                None,
                location,
                "clock_unreadable",
                CLOCK_UNREADABLE.into(),
            ),
        };
        to_json(&report)
    }

    /// Offer one issuer's downloaded status list: the `sync --json` report.
    pub fn offer_status_list(
        &mut self,
        issuer: &str,
        location: &str,
        bytes: &[u8],
        now_ms: f64,
    ) -> String {
        let report = match timestamp(now_ms) {
            Some(now) => self.lists.offer_status_list(issuer, location, bytes, now),
            None => self.lists.unavailable(
                ListKind::StatusList,
                Some(issuer),
                location,
                "clock_unreadable",
                CLOCK_UNREADABLE.into(),
            ),
        };
        to_json(&report)
    }

    /// The report for a list that could not be fetched (`not_found` or
    /// `fetch_failed`); the list held stays.
    pub fn unavailable(
        &self,
        issuer: Option<String>,
        location: &str,
        not_found: bool,
        reason: &str,
    ) -> String {
        let list = match issuer {
            None => ListKind::TrustList,
            Some(_) => ListKind::StatusList,
        };
        let code = if not_found {
            "not_found"
        } else {
            "fetch_failed"
        };
        to_json(
            &self
                .lists
                .unavailable(list, issuer.as_deref(), location, code, reason.into()),
        )
    }

    /// The trust list held, byte for byte as signed (empty if none).
    pub fn trust_list_bytes(&self) -> Vec<u8> {
        self.lists
            .trust
            .as_ref()
            .map(|t| t.bytes().to_vec())
            .unwrap_or_default()
    }

    /// An issuer's status list held, byte for byte as signed (empty if none).
    pub fn status_list_bytes(&self, issuer: &str) -> Vec<u8> {
        self.lists
            .held(issuer)
            .map(|h| h.bytes.to_vec())
            .unwrap_or_default()
    }

    /// The status lists to fetch, relative to the sync base URL (or the URL
    /// an issuer key names): JSON `[{"issuer", "path", "url"}]`.
    pub fn status_list_sources(&self) -> String {
        let issuers = self
            .lists
            .trust
            .as_ref()
            .map(|t| issuers(t.list()))
            .unwrap_or_default();
        let sources: Vec<_> = issuers
            .into_iter()
            .map(|(issuer, url)| {
                let path = format!("status/{}.cbor", issuer_file_stem(&issuer));
                json!({"issuer": issuer, "path": path, "url": url})
            })
            .collect();
        serde_json::Value::from(sources).to_string()
    }

    /// The newest time this phone has ever seen (Unix seconds, from the
    /// page's storage): a clock set back further than the skew decides
    /// nothing (`clock_behind`), as on the command line.
    pub fn set_newest_time_seen(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.clock = ClockGuard::new(Some(Timestamp(seconds as u64)));
        }
    }

    /// Remember `now` if it is the newest time seen; returns the newest
    /// time seen, in Unix seconds, for the page to store.
    pub fn see_time(&mut self, now_ms: f64) -> f64 {
        if let Some(now) = timestamp(now_ms) {
            self.clock.see(now);
        }
        self.clock.newest_seen().map_or(0.0, |t| t.0 as f64)
    }

    /// What the phone holds and whether it can decide, for the status
    /// screen: JSON (see [`Status`]). `next_sync_in_seconds`: when the page
    /// syncs next, so that a list that runs out before then is warned of
    /// (`expires_before_next_sync`, `warnings`).
    pub fn status(&self, now_ms: f64, next_sync_in_seconds: f64) -> String {
        let next_sync_in = if next_sync_in_seconds.is_finite() && next_sync_in_seconds > 0.0 {
            Seconds(next_sync_in_seconds as u64)
        } else {
            Seconds(0)
        };
        to_json(&self.describe(now_ms, next_sync_in))
    }

    /// The highest trust-list sequence this phone ever accepted, from the
    /// page's storage (its own record, like the newest time seen): a stored
    /// list older than it is refused, and starting again from the pinned
    /// roots never accepts a list below it.
    pub fn set_highest_sequence_accepted(&mut self, sequence: f64) {
        if sequence.is_finite() && sequence > 0.0 {
            self.lists.highest_sequence = self.lists.highest_sequence.max(sequence as u64);
        }
    }

    /// The highest trust-list sequence accepted, for the page to store.
    pub fn highest_sequence_accepted(&self) -> f64 {
        self.lists.highest_sequence as f64
    }

    /// The root set pinned now, as `RootSet::to_cbor` (empty if none): the
    /// first one pinned, or the roots of a rotation accepted since.
    pub fn pinned_roots_bytes(&self) -> Vec<u8> {
        self.lists
            .pinned
            .as_ref()
            .map(|roots| roots.to_cbor())
            .unwrap_or_default()
    }

    /// Decide on a pass text typed into the page: one verdict, JSON.
    pub fn verify_text(&mut self, text: &str, now_ms: f64) -> String {
        self.decide(text, now_ms)
            .to_json(Origin::Typed.source(), &self.policy.name)
    }

    /// Look for codes in one RGBA camera frame (a canvas's `ImageData`) and
    /// decide on each: JSON `[{"text", "verdict"}]`, empty when no code was
    /// read. The text lets the page tell the same pass held up again.
    pub fn scan_rgba(&mut self, rgba: &[u8], width: u32, height: u32, now_ms: f64) -> String {
        let Some(frame) = Frame::from_rgba(rgba, width, height) else {
            return "[]".into();
        };
        let look = FRAME_LOOKS[self.frames % FRAME_LOOKS.len()];
        self.frames = self.frames.wrapping_add(1);
        let decided: Vec<(String, Verdict)> = read(&frame, look)
            .into_iter()
            .map(|text| {
                let verdict = self.decide(&text, now_ms);
                (text, verdict)
            })
            .collect();
        let found: Vec<Scanned<'_>> = decided
            .iter()
            .enumerate()
            .map(|(symbol, (text, verdict))| Scanned {
                text,
                verdict: verdict.json(Origin::Camera { symbol }.source(), &self.policy.name),
            })
            .collect();
        to_json(&found)
    }
}

const CLOCK_UNREADABLE: &str = "this phone's clock is set before 1970: set the clock";

impl Checkpoint {
    /// One pass at `now`: the clock first, then the lists, then the core.
    pub fn decide(&mut self, text: &str, now_ms: f64) -> Verdict {
        let now = match self.believed_now(now_ms) {
            Ok(now) => now,
            Err((code, reason)) => return Verdict::setup(code, reason),
        };
        if self.lists.trust.is_none() {
            let reason = "no trust list on this phone yet: connect to the network and sync";
            return Verdict::setup("no_trust_list", reason.into());
        }
        self.lists
            .decide(&self.policy, self.clock_skew, &mut self.memory, text, now)
    }

    /// `now`, unless the clock is unreadable or set back.
    fn believed_now(&self, now_ms: f64) -> Result<Timestamp, (&'static str, String)> {
        let now = timestamp(now_ms).ok_or(("clock_unreadable", CLOCK_UNREADABLE.to_owned()))?;
        self.clock
            .check(now, self.clock_skew)
            .map_err(|behind| (sealpass_checkpoint::ClockBehind::CODE, behind.to_string()))?;
        Ok(now)
    }

    fn describe(&self, now_ms: f64, next_sync_in: Seconds) -> Status {
        let now = self.believed_now(now_ms);
        let at = *now.as_ref().unwrap_or(&Timestamp(0));
        let mut lists = self.lists.status(at, next_sync_in, &self.policy);
        if let Err((code, reason)) = now {
            lists.ready = false;
            lists.code = Some(code);
            lists.reason = Some(reason);
        }
        Status {
            now: at.0,
            newest_time_seen: self.clock.newest_seen().map(|t| t.0),
            policy: self.policy.name.clone(),
            lists,
        }
    }
}

/// A code read from a camera frame, and the verdict on it.
#[derive(Debug, Serialize)]
struct Scanned<'a> {
    text: &'a str,
    verdict: sealpass_checkpoint::JsonVerdict<'a>,
}

/// What the status screen shows: the command line's `status --json` but
/// for the state directory and the clock's source: the shared part is
/// `sealpass_checkpoint::ListsStatus`.
#[derive(Debug, Serialize)]
pub struct Status {
    now: u64,
    newest_time_seen: Option<u64>,
    policy: String,
    #[serde(flatten)]
    lists: sealpass_checkpoint::ListsStatus,
}

/// Unix seconds from `Date.now()`'s milliseconds; `None` before 1970 or not
/// a number.
fn timestamp(now_ms: f64) -> Option<Timestamp> {
    (now_ms.is_finite() && now_ms >= 0.0).then(|| Timestamp((now_ms / 1000.0).floor() as u64))
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("reports serialise")
}
