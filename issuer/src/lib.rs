//! sealpass-issuer: the issuer, in two sides over one store. On the write
//! side ([`write`]) health authorities push enrolments and status changes
//! through the admin API (or the command line), and the signer, the only
//! holder of the issuer key, signs a pass for everyone ahead of time and
//! keeps the status list current. The [`store`] keeps each person's current
//! status and current signed pass. The read side ([`read`]) serves passes
//! that are already signed and never needs the key.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use sealpass_core::{Seconds, Timestamp};
//! use sealpass_issuer::write::ingest::{self, Format, Kind, ReaderSource};
//! use sealpass_issuer::write::signer::{IssuerKey, PassSigner, SignerConfig};
//! use sealpass_issuer::store::Store;
//! use std::sync::Arc;
//!
//! let now = Timestamp(1_795_218_000);
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path().join("issuer.db").to_str().unwrap()).await.unwrap();
//! store.migrate().await.unwrap();
//!
//! // A health authority enrols a person (only the masked name and id are kept).
//! let csv = "subject,name,id_number,colour,doses\nXA-1,张三明,610102199001011231,green,3\n";
//! let report = ingest::ingest(&store, Kind::Enrolments, Format::Csv,
//!     ReaderSource::new(csv.as_bytes()), "example", now, &mut |_| {}).await.unwrap();
//! assert_eq!(report.applied, 1);
//!
//! // The signer signs a pass for everyone who is due.
//! let key = IssuerKey::new(Arc::new(ed25519_dalek::SigningKey::from_bytes(&[7; 32])));
//! let signer = PassSigner::new(store.clone(), key, SignerConfig::new("CN-610100")).unwrap();
//! let round = signer.round(now, &|_| {}).await.unwrap();
//! assert_eq!(round.stored, 1);
//! let person = store.subject("XA-1").await.unwrap().unwrap();
//! assert!(person.pass_text.unwrap().starts_with("SP1:"));
//! assert_eq!(person.masked_name, "张*明");
//! # });
//! ```

#![forbid(unsafe_code)]

// The layers, bottom to top (docs/issuer.md, "Layout"; tests/layers.rs
// fails if a module names one above it, or if one side names the other):
// the domain vocabulary and the store; what both sides share; the write
// side and the read side, beside each other; the demo and the synthetic
// population on top (the command line is the binary, src/cli).
pub mod id_number;
pub mod model;
pub mod store;

pub mod shared;

pub mod read;
pub mod write;

pub mod demo;
pub mod population;
