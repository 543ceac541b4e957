//! sealpass-keys: the key ceremony that makes a city's root of trust.
//!
//! Each custodian makes a root key on an own offline machine and keeps it
//! sealed under a passphrase; issuer keys live in a sealed file or a PKCS#11
//! token; trust lists are drafted from the current one, travel from
//! custodian to custodian gathering signatures, and are finalized only when
//! the threshold of distinct custodians signed. Every step is recorded in a
//! hash-chained transcript. The binary `sealpass-keys` is the ceremony's
//! command line; docs/key-ceremony.md is the script custodians follow.
//!
//! ```
//! use sealpass_core::{Seconds, Timestamp, TrustedList};
//! use sealpass_keys::card::CustodianCard;
//! use sealpass_keys::ceremony::{Basis, finalize, sign_draft};
//! use sealpass_keys::drafting::{Edits, first_list};
//! use sealpass_keys::keyfile::{KeyRole, SealedKey, generate};
//! use sealpass_keys::passphrase::Passphrase;
//!
//! let now = Timestamp(1_795_218_000);
//! // Three custodians make their keys; each secret is sealed at once.
//! // (Cost 2^4 only to keep this example fast; real key files use 2^18.)
//! let passphrase = Passphrase::new("Drum-Lantern-42-river".into());
//! let names = ["Wang Li", "Zhang Wei", "Liu Yang"];
//! let mut sealed = Vec::new();
//! let mut cards = Vec::new();
//! for name in names {
//!     let key = generate().unwrap();
//!     sealed.push(SealedKey::seal(&key, KeyRole::Custodian, name, &passphrase, 4).unwrap());
//!     cards.push(CustodianCard::new(name, &key.verifying_key().to_bytes()));
//! }
//! let roots = sealpass_core::RootSet {
//!     threshold: 2,
//!     keys: cards.iter().map(CustodianCard::root_key).collect(),
//! };
//!
//! // The first list, signed by two of the three on their own machines.
//! let list = first_list(roots.clone(), &Edits::default(), now, now.plus(Seconds::days(30))).unwrap();
//! let mut draft = sealpass_core::SignedTrustList::draft(list).to_bytes();
//! for (file, name) in sealed.iter().zip(names).take(2) {
//!     let key = file.open(&passphrase, KeyRole::Custodian).unwrap();
//!     draft = sign_draft(&draft, None, &key, name).unwrap();
//! }
//! let published = finalize(&draft, &Basis::Pinned(roots.clone()), now).unwrap();
//! assert!(TrustedList::bootstrap(&roots, &published.bytes, now).is_ok());
//! ```

#![forbid(unsafe_code)]

pub mod card;
pub mod ceremony;
pub mod drafting;
pub mod explain;
pub mod files;
pub mod json;
pub mod keyfile;
pub mod passphrase;
pub mod pkcs11;
pub mod transcript;
