//! The passes held in memory, bounded, and the safety net's comparison
//! of a held pass with the store beside the request that sent it.

use super::rendered::{RenderedPass, render_with_text};
use crate::store::reads::PassLookup;
use crate::store::reads::StoreReader;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub(super) struct Slot {
    pub pass: Arc<RenderedPass>,
    pub checked: Instant,
    /// When the signer renews this pass (the store's `due_at`; 0 while a
    /// status change waits for the signer).
    pub due_at: i64,
    /// An event named this subject since the pass was compared.
    pub changed: bool,
}

pub(super) type Slots = Mutex<HashMap<String, Slot>>;

/// Hold `pass` for `subject`, compared now; past `capacity` an arbitrary
/// sixteenth of the passes held is dropped first.
pub(super) fn keep_in(
    slots: &Slots,
    capacity: usize,
    subject: &str,
    pass: Arc<RenderedPass>,
    due_at: i64,
) {
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
/// (made in the request, each one's wait on the store became the p99 of a
/// half-loaded server while the passes loaded in a rush came due;
/// docs/performance.md, "Pass download and overload"). A pass the store replaced is held from now
/// on; a subject no longer stored, or no longer signed, is forgotten so
/// that its next request reads the store; a store that cannot be reached
/// leaves the held pass as it is.
pub(super) async fn compare_beside(
    store: StoreReader,
    slots: Arc<Slots>,
    capacity: usize,
    subject: String,
    held: Arc<RenderedPass>,
    _read: tokio::sync::OwnedSemaphorePermit,
) {
    match store.current_pass(&subject).await {
        Ok(PassLookup::Signed(stored)) => {
            let text = stored.text();
            let pass = if held.text == text {
                held
            } else {
                match render_with_text(&stored, text) {
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
