//! Opening the issuer key for the signer, with no terminal: the issuer key
//! card (`sealpass-keys issuer new` wrote it) says where the secret lives,
//! a sealed key file beside the card or a PKCS#11 token, and the passphrase
//! or PIN comes from the environment or a file the operator provides.

use crate::write::signer::IssuerKey;
use sealpass_core::{Signer, SignerError};
use sealpass_keys::card::{IssuerCard, KeyStorage};
use sealpass_keys::keyfile::{KeyRole, SealedKey};
use sealpass_keys::passphrase::Passphrase;
use sealpass_keys::pkcs11::Token;
use std::path::Path;
use std::sync::{Arc, Mutex};
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an issuer key card: {reason}")]
    Card { path: String, reason: String },
    #[error("cannot open the issuer key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("cannot use the PKCS#11 token: {0}")]
    Token(String),
    #[error("the key found does not match the card's public key")]
    Mismatch,
}

/// A PKCS#11 session signs one request at a time; the signer's threads
/// take turns.
struct Serialized<S>(Mutex<S>);

impl<S: Signer> Signer for Serialized<S> {
    fn public_key(&self) -> [u8; 32] {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .public_key()
    }
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sign(message)
    }
    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignerError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sign_batch(messages)
    }
}

/// Open the issuer key a card names. `secret` is the key file's passphrase
/// or the token's user PIN.
pub fn open_issuer_key(
    card_path: &Path,
    secret: &Passphrase,
) -> Result<(IssuerCard, IssuerKey), KeyError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let card = IssuerCard::from_json(&read(card_path)?).map_err(|e| KeyError::Card {
        path: card_path.display().to_string(),
        reason: e.to_string(),
    })?;
    let signer: Arc<dyn Signer + Send + Sync> = match &card.storage {
        KeyStorage::File { path } => {
            let key_path = card_path.parent().unwrap_or(Path::new(".")).join(path);
            let key_error = |reason: String| KeyError::KeyFile {
                path: key_path.display().to_string(),
                reason,
            };
            let sealed =
                SealedKey::from_json(&read(&key_path)?).map_err(|e| key_error(e.to_string()))?;
            let key = sealed
                .open(secret, KeyRole::Issuer)
                .map_err(|e| key_error(e.to_string()))?;
            Arc::new(sealpass_core::ExpandedKey::new(&key))
        }
        KeyStorage::Pkcs11 { module, token } => {
            let session = Token::open(Path::new(module), token, secret)
                .map_err(|e| KeyError::Token(e.to_string()))?;
            let key = session
                .issuer_key(sealpass_core::Kid::of(&card.public_key()))
                .map_err(|e| KeyError::Token(e.to_string()))?;
            Arc::new(Serialized(Mutex::new(key)))
        }
    };
    if signer.public_key() != card.public_key() {
        return Err(KeyError::Mismatch);
    }
    Ok((card, IssuerKey::new(signer)))
}
