//! The test city's issuer key as a real sealed key file and its card, for
//! the tests that run `sealpass-issuer sign --key-card` (not in `support`,
//! which the measurement tools include and which needs no key file).

use sealpass_core::testkit;
use sealpass_keys::card::{ISSUER_FORMAT, IssuerCard, KeyStorage};
use sealpass_keys::keyfile::{KeyRole, SealedKey};
use sealpass_keys::passphrase::Passphrase;
use std::path::{Path, PathBuf};

/// The test city's issuer key as a key file sealed with `passphrase` (low
/// scrypt cost) and its card (`issuer.key`, `issuer.pub` in `dir`): what
/// `sign --key-card` reads on a real machine. Returns the card's path.
pub fn sealed_issuer_key(dir: &Path, passphrase: &str) -> PathBuf {
    let key = testkit::City::new().active;
    let sealed = SealedKey::seal(
        &key,
        KeyRole::Issuer,
        "CN-610100",
        &Passphrase::new(passphrase.into()),
        1,
    )
    .unwrap();
    std::fs::write(dir.join("issuer.key"), sealed.to_json()).unwrap();
    let public_key = key.verifying_key().to_bytes();
    let card = IssuerCard {
        format: ISSUER_FORMAT.into(),
        issuer: "CN-610100".into(),
        public_key: hex::encode(public_key),
        kid: sealpass_core::Kid::of(&public_key).to_hex(),
        not_before: 0,
        not_after: 4_000_000_000,
        status_list_url: None,
        storage: KeyStorage::File {
            path: "issuer.key".into(),
        },
    };
    let path = dir.join("issuer.pub");
    std::fs::write(&path, card.to_json()).unwrap();
    path
}
