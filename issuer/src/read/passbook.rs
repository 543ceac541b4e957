//! The pass book: citizens' current passes, ready to send, in memory.
//!
//! A pass is loaded from the store (one indexed read) the first time it is
//! asked for, and its JSON made then, once; its PNG and SVG are rendered
//! once too, the first time either is asked for (the citizen page draws
//! the QR itself and never asks). Every later request for the same pass is
//! answered from memory with bytes made before it arrived; nothing is
//! signed or rendered per request.
//!
//! A held pass is compared with the store again only when it may have
//! changed, so a rush over a million citizens does not become a store read
//! per request: a task follows the store's events (every status update,
//! enrolment and revocation is one; one primary-key range read every
//! `recheck`, default 2 s) and marks the passes of the subjects they name;
//! a marked pass, one whose renewal time (`due_at`) has come, one last
//! compared before the feed started, and any pass not compared for
//! `recheck_unchanged` (default 60 s, a safety net) is compared on its
//! next request, at most every `recheck`. So a pass the
//! signer replaced reaches the phone within seconds. While the events
//! cannot be read (the store fails), every held pass is compared at most
//! every `recheck`, as if all had changed. The safety net alone makes at
//! most [`SAFETY_NET_READS`] comparisons at once, each beside the request
//! that sends the held pass (it never waits for one); beyond them the held
//! pass is sent and compared on a later request (measured: the 100,000
//! passes loaded in a rush all came due together 60 s later, every request
//! became a store read, and the server answered 0.02 of its capacity for
//! minutes), and none while the server sheds requests for queue delay.
//! A `recheck` of zero compares on
//! every request. When the store cannot be reached, a held pass that has
//! not expired is still served: citizens keep their passes through a
//! database failover.
//!
//! Memory is bounded: past `capacity` entries, an arbitrary sixteenth is
//! dropped (they are reloaded on their next request). About 1 KiB a pass,
//! 7 KiB once its images were asked for.

use crate::read::overload::QueueDelay;
use crate::read::overload::rate::Bucket;
use crate::read::public::render::Modules;
use crate::shared::metrics::Metrics;
use crate::store::reads::{PassLookup, StoredPass};
use crate::store::{Store, StoreError};
use sealpass_core::{PassClaims, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// A pass with everything a response needs, made when it was loaded.
#[derive(Debug)]
pub struct RenderedPass {
    /// The pass text as signed.
    pub text: String,
    /// Hex of the first 16 bytes of SHA-256 of the text: the ETag.
    pub version: String,
    pub json: Vec<u8>,
    pub issued_at: u64,
    pub expires_at: u64,
    images: OnceLock<Images>,
}

/// The pass as QR code images.
#[derive(Debug)]
pub struct Images {
    pub png: Vec<u8>,
    pub svg: Vec<u8>,
}

impl RenderedPass {
    /// Whether the images were rendered already.
    pub fn has_images(&self) -> bool {
        self.images.get().is_some()
    }

    /// The images, rendered on the first call (about 0.1 ms: run it off the
    /// async threads), held after.
    pub fn images(&self) -> &Images {
        self.images.get_or_init(|| {
            // The text was encoded when the pass was loaded; it fits.
            match Modules::of(&self.text) {
                Ok(modules) => Images {
                    png: modules.png(),
                    svg: modules.svg().into_bytes(),
                },
                Err(_) => Images {
                    png: Vec::new(),
                    svg: Vec::new(),
                },
            }
        })
    }
}

/// The JSON of `GET /api/v1/pass` (docs/public-api.md).
#[derive(Serialize)]
struct PassJson<'a> {
    pass: &'a str,
    colour: &'static str,
    masked_name: &'a str,
    masked_id: &'a str,
    issuer: &'a str,
    issued_at: u64,
    valid_until: u64,
    next_pass_at: i64,
    version: &'a str,
}

/// Why no pass can be sent.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("no such subject")]
    UnknownSubject,
    #[error("no pass signed yet")]
    NotSigned,
    #[error("the stored pass cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Read what our own signer wrote: the claims of a stored pass. No trust
/// decision rests on this (the phone's verifier decides); it only says in
/// JSON what the QR says.
fn claims_of(text: &str) -> Result<PassClaims, PassError> {
    let bad = |e: &dyn std::fmt::Display| PassError::Unreadable(e.to_string());
    let cose = sealpass_core::text::decode(text).map_err(|e| bad(&e))?;
    let sign1 = sealpass_core::cose::parse_sign1(&cose).map_err(|e| bad(&e))?;
    PassClaims::from_cbor(sign1.payload).map_err(|e| bad(&e))
}

/// Prepare a stored pass: its claims read, its JSON made. The images wait
/// for [`RenderedPass::images`].
pub fn render(stored: &StoredPass) -> Result<RenderedPass, PassError> {
    let claims = claims_of(&stored.text)?;
    if stored.text.len() > MAX_QR_TEXT {
        return Err(PassError::Unreadable("too long for a QR code".into()));
    }
    let version = hex::encode(&Sha256::digest(stored.text.as_bytes())[..16]);
    let json = serde_json::to_vec(&PassJson {
        pass: &stored.text,
        colour: claims.health.colour.name(),
        masked_name: &claims.health.masked_name,
        masked_id: &claims.health.masked_id,
        issuer: &claims.issuer,
        issued_at: claims.issued_at.0,
        valid_until: claims.expires_at.0,
        next_pass_at: stored.due_at,
        version: &version,
    })
    .expect("pass JSON serializes");
    Ok(RenderedPass {
        text: stored.text.clone(),
        version,
        json,
        issued_at: claims.issued_at.0,
        expires_at: claims.expires_at.0,
        images: OnceLock::new(),
    })
}

/// Longest pass text that surely fits a QR code at level M (version 40
/// holds 3,391 alphanumeric characters); verifiers refuse more than 2,048.
const MAX_QR_TEXT: usize = 2048;

#[derive(Clone)]
struct Slot {
    pass: Arc<RenderedPass>,
    checked: Instant,
    /// When the signer renews this pass (the store's `due_at`; 0 while a
    /// status change waits for the signer).
    due_at: i64,
    /// An event named this subject since the pass was compared.
    changed: bool,
}

impl Check {
    /// A pass compared `age` ago; `may_have_changed`: why it may have
    /// (an event named it, its renewal came, the feed cannot vouch for it),
    /// if it may.
    fn of(
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
enum Read {
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
    fn label(self) -> &'static str {
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

/// Events read per query of the change feed.
const FEED_BATCH: i64 = 10_000;
/// Events read again on every poll: on PostgreSQL, ids are handed out
/// before their transactions commit, so an event may appear behind one
/// already read. (Beyond this, `recheck_unchanged` still catches it.)
const FEED_OVERLAP: i64 = 1_000;

/// Safety-net comparisons (a held pass no event named, compared only
/// because `recheck_unchanged` passed) made at once.
pub const SAFETY_NET_READS: usize = 4;

/// Safety-net comparisons started a second, at most: a trickle beside the
/// requests, not a burst (measured: the passes loaded in a rush all came
/// due together 60 s later, and at 4 at once their reads still took a
/// third of the machine's core for half a minute). So with many passes
/// held, an unchanged pass is compared every `recheck_unchanged` or every
/// (passes held / 250) seconds, whichever is longer: for 100,000, about
/// every 7 minutes. (It is only the safety net: the feed brings changes
/// within seconds.)
pub const SAFETY_NET_PER_SECOND: f64 = 250.0;
/// Comparisons the safety net may start at once after a quiet spell.
const SAFETY_NET_BURST: f64 = 8.0;

type Slots = Mutex<HashMap<String, Slot>>;

/// Whether a held pass is compared with the store before it is sent.
#[derive(Debug, PartialEq)]
enum Check {
    No,
    /// It may have changed: compared before it is sent.
    Now(Read),
    /// Only the safety net: compared if a safety-net read is free.
    SafetyNet,
}

/// How a pass was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Checked against the store within `recheck`.
    Current,
    /// The store could not be reached; the pass held in memory was sent.
    HeldDuringOutage,
}

pub struct PassBook {
    store: Store,
    slots: Arc<Slots>,
    capacity: usize,
    recheck: Duration,
    recheck_unchanged: Duration,
    /// When the change feed last answered, in milliseconds since `epoch`
    /// (0: never).
    followed: Arc<AtomicU64>,
    /// When the change feed started, in milliseconds since `epoch`: a pass
    /// compared before then may have missed an event.
    feed_started: Arc<AtomicU64>,
    epoch: Instant,
    safety_net: Arc<tokio::sync::Semaphore>,
    /// While it says a queue stands, the safety net waits.
    shedding: Option<Arc<QueueDelay>>,
    /// The safety net's turns: [`SAFETY_NET_PER_SECOND`].
    safety_net_turns: Mutex<Bucket>,
    metrics: Metrics,
}

impl PassBook {
    /// A pass book over `store`. Within a tokio runtime and with a
    /// `recheck` above zero, it starts following the store's events.
    pub fn new(
        store: Store,
        capacity: usize,
        recheck: Duration,
        recheck_unchanged: Duration,
        metrics: Metrics,
    ) -> PassBook {
        let book = PassBook {
            store,
            slots: Arc::default(),
            capacity: capacity.max(1),
            recheck,
            recheck_unchanged,
            followed: Arc::default(),
            feed_started: Arc::default(),
            epoch: Instant::now(),
            safety_net: Arc::new(tokio::sync::Semaphore::new(SAFETY_NET_READS)),
            shedding: None,
            safety_net_turns: Mutex::new(Bucket::full(SAFETY_NET_BURST, Instant::now())),
            metrics,
        };
        if !recheck.is_zero()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(follow_events(
                book.store.clone(),
                Arc::downgrade(&book.slots),
                book.followed.clone(),
                book.feed_started.clone(),
                book.epoch,
                recheck,
            ));
        }
        book
    }

    /// Make no safety-net comparison while `delay` says a queue stands:
    /// each is a store read on the machine that is already turning
    /// requests away (measured: the 95,000 passes loaded before a 10x
    /// spike came due for it together during the spike, and their reads
    /// cost a fifth of the passes served). Passes the feed names or the
    /// signer renewed are still compared before they are sent; the rest
    /// are compared on a request after the rush.
    pub fn safety_net_waits_while_shedding(mut self, delay: Arc<QueueDelay>) -> PassBook {
        self.shedding = Some(delay);
        self
    }

    /// A safety-net comparison's permit, if one may start now: no queue
    /// stands, one of the [`SAFETY_NET_READS`] is free, and the safety net
    /// has not had its [`SAFETY_NET_PER_SECOND`] (its turn is then taken).
    fn safety_net_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if self
            .shedding
            .as_ref()
            .is_some_and(|delay| delay.is_standing())
        {
            return None;
        }
        let permit = self.safety_net.clone().try_acquire_owned().ok()?;
        self.safety_net_turns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(SAFETY_NET_PER_SECOND, SAFETY_NET_BURST, Instant::now())
            .is_ok()
            .then_some(permit)
    }

    /// Whether the change feed answered lately: held passes that no event
    /// named can be trusted unchanged.
    fn following(&self) -> bool {
        let last = self.followed.load(Ordering::Relaxed);
        last > 0 && {
            let since = (self.epoch.elapsed().as_millis() as u64).saturating_sub(last);
            since < 3 * self.recheck.as_millis() as u64 + 1000
        }
    }

    /// Whether a held pass is compared with the store now.
    fn check(&self, slot: &Slot, now: Timestamp) -> Check {
        let checked_ms = slot
            .checked
            .saturating_duration_since(self.epoch)
            .as_millis() as u64;
        let may_have_changed = if slot.changed {
            Some(Read::Named)
        } else if now.0 as i64 >= slot.due_at {
            Some(Read::Renewal)
        } else if !self.following() {
            Some(Read::FeedSilent)
        } else if checked_ms < self.feed_started.load(Ordering::Relaxed) {
            Some(Read::BeforeFeed)
        } else {
            None
        };
        Check::of(
            slot.checked.elapsed(),
            (self.recheck, self.recheck_unchanged),
            may_have_changed,
        )
    }

    fn held(&self, subject: &str) -> Option<Slot> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get(subject).cloned()
    }

    fn keep(&self, subject: &str, pass: Arc<RenderedPass>, due_at: i64) {
        keep_in(&self.slots, self.capacity, subject, pass, due_at);
    }

    /// The current pass of `subject`.
    pub async fn get(
        &self,
        subject: &str,
        now: Timestamp,
    ) -> Result<(Arc<RenderedPass>, Source), PassError> {
        let held = self.held(subject);
        let why = match &held {
            None => Read::First,
            Some(slot) => match self.check(slot, now) {
                Check::No => return Ok((slot.pass.clone(), Source::Current)),
                Check::Now(why) => why,
                Check::SafetyNet => {
                    // The held pass is sent now; the comparison, if a
                    // safety-net read is free, runs beside it.
                    if let Some(permit) = self.safety_net_turn() {
                        self.metrics.passbook_store_read(Read::SafetyNet.label());
                        tokio::spawn(compare_beside(
                            self.store.clone(),
                            self.slots.clone(),
                            self.capacity,
                            subject.to_owned(),
                            slot.pass.clone(),
                            permit,
                        ));
                    }
                    return Ok((slot.pass.clone(), Source::Current));
                }
            },
        };
        self.metrics.passbook_store_read(why.label());
        let held = held.map(|slot| (slot.pass, slot.checked));
        let lookup = match self.store.current_pass(subject).await {
            Ok(lookup) => lookup,
            Err(e) => {
                return match held {
                    Some((pass, _)) if pass.expires_at > now.0 => {
                        Ok((pass, Source::HeldDuringOutage))
                    }
                    _ => Err(e.into()),
                };
            }
        };
        match lookup {
            PassLookup::Unknown => {
                self.forget(subject);
                Err(PassError::UnknownSubject)
            }
            PassLookup::NotSigned { .. } => Err(PassError::NotSigned),
            PassLookup::Signed(stored) => {
                let pass = match held {
                    Some((pass, _)) if pass.text == stored.text => pass,
                    _ => Arc::new(render(&stored)?),
                };
                self.keep(subject, pass.clone(), stored.due_at);
                Ok((pass, Source::Current))
            }
        }
    }

    fn forget(&self, subject: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(subject);
    }

    /// Passes held in memory.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hold `pass` for `subject`, compared now; past `capacity` an arbitrary
/// sixteenth of the passes held is dropped first.
fn keep_in(slots: &Slots, capacity: usize, subject: &str, pass: Arc<RenderedPass>, due_at: i64) {
    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
    if slots.len() >= capacity && !slots.contains_key(subject) {
        let drop: Vec<String> = slots.keys().take((capacity / 16).max(1)).cloned().collect();
        for key in drop {
            slots.remove(&key);
        }
    }
    slots.insert(
        subject.to_owned(),
        Slot {
            pass,
            checked: Instant::now(),
            due_at,
            changed: false,
        },
    );
}

/// A safety-net comparison, beside the request that sent the held pass
/// (measured: made in the request, each one's wait on the store was the
/// p99 of a half-loaded server for the minute in which the passes loaded
/// in a rush all came due). A pass the store replaced is held from now
/// on; a subject no longer stored, or no longer signed, is forgotten so
/// that its next request reads the store; a store that cannot be reached
/// leaves the held pass as it is.
async fn compare_beside(
    store: Store,
    slots: Arc<Slots>,
    capacity: usize,
    subject: String,
    held: Arc<RenderedPass>,
    _read: tokio::sync::OwnedSemaphorePermit,
) {
    match store.current_pass(&subject).await {
        Ok(PassLookup::Signed(stored)) => {
            let pass = if held.text == stored.text {
                held
            } else {
                match render(&stored) {
                    Ok(pass) => Arc::new(pass),
                    Err(e) => {
                        tracing::warn!(error = %e, "a stored pass cannot be read");
                        return;
                    }
                }
            };
            keep_in(&slots, capacity, &subject, pass, stored.due_at);
        }
        Ok(PassLookup::Unknown | PassLookup::NotSigned { .. }) => {
            slots
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&subject);
        }
        Err(_) => {}
    }
}

/// Milliseconds since `epoch`, at least 1.
fn since(epoch: Instant) -> u64 {
    (epoch.elapsed().as_millis() as u64).max(1)
}

/// The change feed: every `interval`, the subjects of the store's new
/// events are marked changed (if held). Ends when the book is dropped.
async fn follow_events(
    store: Store,
    slots: Weak<Slots>,
    followed: Arc<AtomicU64>,
    feed_started: Arc<AtomicU64>,
    epoch: Instant,
    interval: Duration,
) {
    let mut cursor: Option<i64> = None;
    // Ids read within FEED_OVERLAP of the cursor: read again, not news.
    let mut seen = std::collections::BTreeSet::new();
    let mut caught_up = true;
    // The first read at once: a pass loaded before the feed starts is
    // compared again on its next request (measured: the 9,496 passes a
    // warm-up loaded in the feed's first 2 s were each read twice).
    let mut first = true;
    loop {
        if caught_up && !std::mem::take(&mut first) {
            tokio::time::sleep(interval).await;
        }
        let Some(slots) = slots.upgrade() else {
            return;
        };
        let answered = match cursor {
            // Start at the newest event; those just before it are old news.
            None => match store.last_event_id().await {
                Ok(id) => {
                    feed_started.store(since(epoch), Ordering::Relaxed);
                    store
                        .subjects_changed_after((id - FEED_OVERLAP).max(0), FEED_BATCH)
                        .await
                        .map(|events| {
                            seen.extend(events.iter().map(|(e, _)| *e).filter(|e| *e <= id));
                            cursor = Some(id);
                            caught_up = true;
                        })
                }
                Err(e) => Err(e),
            },
            Some(after) => store
                .subjects_changed_after((after - FEED_OVERLAP).max(0), FEED_BATCH)
                .await
                .map(|events| {
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    let mut last = after;
                    for (id, subject) in &events {
                        last = last.max(*id);
                        if seen.insert(*id)
                            && let Some(slot) = slots.get_mut(subject)
                        {
                            slot.changed = true;
                        }
                    }
                    seen = seen.split_off(&(last - FEED_OVERLAP));
                    caught_up = (events.len() as i64) < FEED_BATCH;
                    cursor = Some(last);
                }),
        };
        match answered {
            Ok(()) => followed.store(since(epoch), Ordering::Relaxed),
            Err(e) => {
                caught_up = true;
                tracing::warn!(error = %e, "cannot read the store's events: held passes are compared every recheck");
            }
        }
    }
}

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
