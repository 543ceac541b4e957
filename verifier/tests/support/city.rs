//! The test city is `sealpass_core::testkit::City` (one for every
//! checkpoint test); this adds what only a test with a disk needs.

pub use sealpass_core::testkit::{City, NOW};
use std::path::Path;

/// A folder laid out as `sync --from` reads it.
pub fn publish(dir: &Path, trust_list: &[u8], status_list: Option<&[u8]>) {
    std::fs::create_dir_all(dir.join("status")).unwrap();
    std::fs::write(dir.join("trust-list.cbor"), trust_list).unwrap();
    if let Some(status) = status_list {
        std::fs::write(dir.join("status/CN-610100.cbor"), status).unwrap();
    }
}
