//! The read side: what citizens' phones and checkpoints download. The
//! [`public`] API serves passes from the [`passbook`] (each pass rendered
//! once) and the lists as signed, behind its [`overload`] protection. It
//! holds no key and never signs.
//!
//! It reads the store through the store's read interface and uses the
//! shared module and core; nothing in it names the write side
//! (tests/layers.rs).

pub mod overload;
pub mod passbook;
pub mod public;
