//! The write side: what changes the store. Health authorities' events come
//! in through the admin API ([`admin_api`]) or the command line and are
//! checked and applied by [`ingest`]; the admin API also links logins to
//! subjects ([`identity_links`]); the [`signer`], the only holder of
//! the issuer key ([`key`]), signs passes and the status list ahead of time.
//!
//! It builds on the store, the shared module and core; nothing in it names
//! the read side (tests/layers.rs).

pub mod admin_api;
pub mod identity_links;
pub mod ingest;
pub mod key;
pub mod signer;
