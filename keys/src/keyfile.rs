//! Secret key files: an Ed25519 secret sealed under a passphrase.
//!
//! The construction is age's passphrase mode (scrypt, then a
//! ChaCha20-Poly1305 AEAD) written directly with the RustCrypto crates it
//! uses, in a small JSON file that also names the public key, so a custodian
//! can see whose key it is without the passphrase. docs/key-ceremony.md,
//! "Key files", gives the format and why not the age crate itself.
//!
//! The secret never exists unencrypted outside zeroizing memory: the seed,
//! the derived key and the decrypted buffer are wiped when dropped.

use crate::passphrase::Passphrase;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

pub const FORMAT: &str = "sealpass secret key v1";

/// scrypt cost of new key files: N = 2^18, r = 8, p = 1 (256 MiB, about a
/// second on a laptop), above age's interactive default.
pub const DEFAULT_LOG_N: u8 = 18;
/// The most a key file may ask for when read (1 GiB), so a crafted file
/// cannot exhaust memory.
pub const MAX_LOG_N: u8 = 20;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// What a key is for; bound into the encryption, so a custodian key file
/// cannot be passed off as an issuer key file or the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// A root key of the trust list's root set.
    Custodian,
    /// A key that signs passes and status lists.
    Issuer,
}

impl KeyRole {
    pub fn name(self) -> &'static str {
        match self {
            KeyRole::Custodian => "custodian",
            KeyRole::Issuer => "issuer",
        }
    }
}

/// The file as stored (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedKey {
    pub format: String,
    pub role: KeyRole,
    /// The custodian's name or the issuer id.
    pub label: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub kdf: Kdf,
    pub cipher: String,
    nonce: String,
    ciphertext: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    pub name: String,
    pub log_n: u8,
    pub r: u32,
    pub p: u32,
    salt: String,
}

/// Why a key file could not be made or opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("this is not a sealpass secret key file: {0}")]
    NotAKeyFile(String),
    #[error("key file format {0:?} is not supported (this tool reads {FORMAT:?})")]
    UnsupportedFormat(String),
    #[error(
        "the key file asks for scrypt 2^{0}, above the 2^{MAX_LOG_N} this tool allows: it was not written by sealpass-keys"
    )]
    CostTooHigh(u8),
    #[error("this is a {found} key file, but a {expected} key is needed here")]
    WrongRole {
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "wrong passphrase (or the key file was altered): nothing was decrypted. Try again; Caps Lock and keyboard layout are the usual causes"
    )]
    WrongPassphrase,
    #[error("the key file is damaged: its secret does not belong to its public key")]
    Mismatch,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

impl SealedKey {
    /// Seal `key` under `passphrase` with scrypt cost 2^`log_n`.
    pub fn seal(
        key: &SigningKey,
        role: KeyRole,
        label: &str,
        passphrase: &Passphrase,
        log_n: u8,
    ) -> Result<SealedKey, KeyFileError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        random(&mut salt)?;
        random(&mut nonce)?;
        let public_key = key.verifying_key().to_bytes();
        let wrapping = derive(passphrase, &salt, log_n)?;
        let seed = Zeroizing::new(key.to_bytes());
        let aad = associated_data(role, label, &public_key);
        let ciphertext = cipher(&wrapping)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: seed.as_slice(),
                    aad: &aad,
                },
            )
            .map_err(|_| KeyFileError::Random("encryption failed".into()))?;
        Ok(SealedKey {
            format: FORMAT.into(),
            role,
            label: label.into(),
            public_key: hex::encode(public_key),
            kdf: Kdf {
                name: "scrypt".into(),
                log_n,
                r: SCRYPT_R,
                p: SCRYPT_P,
                salt: hex::encode(salt),
            },
            cipher: "chacha20poly1305".into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }

    /// Decrypt the secret; `expected` is the role the caller needs.
    pub fn open(
        &self,
        passphrase: &Passphrase,
        expected: KeyRole,
    ) -> Result<SigningKey, KeyFileError> {
        if self.role != expected {
            return Err(KeyFileError::WrongRole {
                expected: expected.name(),
                found: self.role.name(),
            });
        }
        let public_key = self.public_key_bytes()?;
        let salt = decode_hex::<16>(&self.kdf.salt, "salt")?;
        let nonce = decode_hex::<12>(&self.nonce, "nonce")?;
        let ciphertext = hex::decode(&self.ciphertext)
            .map_err(|_| KeyFileError::NotAKeyFile("ciphertext is not hex".into()))?;
        let wrapping = derive(passphrase, &salt, self.kdf.log_n)?;
        let aad = associated_data(self.role, &self.label, &public_key);
        let plain = Zeroizing::new(
            cipher(&wrapping)
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyFileError::WrongPassphrase)?,
        );
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            plain
                .as_slice()
                .try_into()
                .map_err(|_| KeyFileError::Mismatch)?,
        );
        let key = SigningKey::from_bytes(&seed);
        if key.verifying_key().to_bytes() != public_key {
            return Err(KeyFileError::Mismatch);
        }
        Ok(key)
    }

    pub fn public_key_bytes(&self) -> Result<[u8; 32], KeyFileError> {
        decode_hex::<32>(&self.public_key, "public_key")
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a key file serializes");
        out.push(b'\n');
        out
    }

    pub fn from_json(bytes: &[u8]) -> Result<SealedKey, KeyFileError> {
        let file: SealedKey =
            serde_json::from_slice(bytes).map_err(|e| KeyFileError::NotAKeyFile(e.to_string()))?;
        if file.format != FORMAT {
            return Err(KeyFileError::UnsupportedFormat(file.format));
        }
        if file.kdf.name != "scrypt"
            || file.kdf.r != SCRYPT_R
            || file.kdf.p != SCRYPT_P
            || file.cipher != "chacha20poly1305"
        {
            return Err(KeyFileError::NotAKeyFile(
                "unknown key derivation or cipher".into(),
            ));
        }
        if file.kdf.log_n > MAX_LOG_N || file.kdf.log_n == 0 {
            return Err(KeyFileError::CostTooHigh(file.kdf.log_n));
        }
        Ok(file)
    }
}

/// A fresh Ed25519 key from the operating system's generator.
pub fn generate() -> Result<SigningKey, KeyFileError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    random(seed.as_mut_slice())?;
    Ok(SigningKey::from_bytes(&seed))
}

fn random(buffer: &mut [u8]) -> Result<(), KeyFileError> {
    getrandom::fill(buffer).map_err(|e| KeyFileError::Random(e.to_string()))
}

fn derive(
    passphrase: &Passphrase,
    salt: &[u8; 16],
    log_n: u8,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    if log_n == 0 || log_n > MAX_LOG_N {
        return Err(KeyFileError::CostTooHigh(log_n));
    }
    let params = scrypt::Params::new(log_n, SCRYPT_R, SCRYPT_P)
        .map_err(|_| KeyFileError::CostTooHigh(log_n))?;
    // Domain-separated salt, as age's scrypt stanza does.
    let mut labelled = b"sealpass secret key v1/scrypt".to_vec();
    labelled.extend_from_slice(salt);
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(
        passphrase.expose().as_bytes(),
        &labelled,
        &params,
        key.as_mut_slice(),
    )
    .expect("32 bytes is a valid scrypt output length");
    Ok(key)
}

fn cipher(key: &Zeroizing<[u8; 32]>) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new_from_slice(key.as_slice()).expect("32-byte key")
}

/// Binds the ciphertext to what the file says about it.
fn associated_data(role: KeyRole, label: &str, public_key: &[u8; 32]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + label.len());
    aad.extend_from_slice(FORMAT.as_bytes());
    aad.push(0);
    aad.extend_from_slice(role.name().as_bytes());
    aad.push(0);
    aad.extend_from_slice(&(label.len() as u32).to_be_bytes());
    aad.extend_from_slice(label.as_bytes());
    aad.extend_from_slice(public_key);
    aad
}

fn decode_hex<const N: usize>(text: &str, field: &str) -> Result<[u8; N], KeyFileError> {
    let bytes =
        hex::decode(text).map_err(|_| KeyFileError::NotAKeyFile(format!("{field} is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| KeyFileError::NotAKeyFile(format!("{field} has the wrong length")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_LOG_N: u8 = 4;

    fn passphrase() -> Passphrase {
        Passphrase::new("Drum-Lantern-42-river".into())
    }

    #[test]
    fn a_sealed_key_opens_with_its_passphrase_only() {
        let key = generate().unwrap();
        let sealed = SealedKey::seal(
            &key,
            KeyRole::Custodian,
            "Wang Li",
            &passphrase(),
            TEST_LOG_N,
        )
        .unwrap();
        let read = SealedKey::from_json(&sealed.to_json()).unwrap();
        let opened = read.open(&passphrase(), KeyRole::Custodian).unwrap();
        assert_eq!(opened.to_bytes(), key.to_bytes());
        let wrong = Passphrase::new("Drum-Lantern-43-river".into());
        assert!(matches!(
            read.open(&wrong, KeyRole::Custodian),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert!(matches!(
            read.open(&passphrase(), KeyRole::Issuer),
            Err(KeyFileError::WrongRole { .. })
        ));
    }

    #[test]
    fn an_altered_label_or_public_key_does_not_open() {
        let key = generate().unwrap();
        let sealed = SealedKey::seal(
            &key,
            KeyRole::Custodian,
            "Wang Li",
            &passphrase(),
            TEST_LOG_N,
        )
        .unwrap();
        let mut renamed = sealed.clone();
        renamed.label = "Li Wang".into();
        assert!(matches!(
            renamed.open(&passphrase(), KeyRole::Custodian),
            Err(KeyFileError::WrongPassphrase)
        ));
        let mut rekeyed = sealed;
        rekeyed.public_key = hex::encode(generate().unwrap().verifying_key().to_bytes());
        assert!(rekeyed.open(&passphrase(), KeyRole::Custodian).is_err());
    }

    #[test]
    fn the_secret_is_not_in_the_file() {
        let key = generate().unwrap();
        let json = SealedKey::seal(
            &key,
            KeyRole::Issuer,
            "CN-610100",
            &passphrase(),
            TEST_LOG_N,
        )
        .unwrap()
        .to_json();
        let secret = key.to_bytes();
        assert!(!json.windows(32).any(|w| w == secret));
        let text = String::from_utf8(json).unwrap();
        assert!(!text.contains(&hex::encode(secret)));
    }
}
