//! The clock both sides read: the admin API stamps events with it, the
//! public API judges passes and identity tokens by it. Tests pin it.

use sealpass_core::Timestamp;
use std::sync::Arc;

/// The clock of a server; tests pin it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    })
}
