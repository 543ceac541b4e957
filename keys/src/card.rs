//! Public key cards: what a custodian reads aloud and others check across
//! the room, and the public files that carry custodian and issuer keys from
//! the machine that made them to the drafting table.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use sealpass_core::{ALG_ED25519, IssuerKey, KeyStatus, Kid, RootKey, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use thiserror::Error;

pub const CUSTODIAN_FORMAT: &str = "sealpass custodian key v1";
pub const ISSUER_FORMAT: &str = "sealpass issuer key v1";

/// SHA-256 of the raw public key, in groups of four hex digits. Its first
/// 16 digits are the key id (kid).
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    let digest = hex::encode(Sha256::digest(public_key));
    digest
        .as_bytes()
        .chunks(4)
        .map(|group| std::str::from_utf8(group).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A custodian's public root key, as `custodian new` writes it (`NAME.pub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodianCard {
    pub format: String,
    pub custodian: String,
    pub public_key: String,
    pub kid: String,
}

/// An issuer's public key and the window it is meant for, as `issuer new`
/// writes it; `draft --add-issuer-key` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerCard {
    pub format: String,
    pub issuer: String,
    pub public_key: String,
    pub kid: String,
    pub not_before: u64,
    pub not_after: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_url: Option<String>,
    pub storage: KeyStorage,
}

/// Where an issuer key's secret lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum KeyStorage {
    /// An encrypted key file (`sealpass secret key v1`).
    File { path: String },
    /// A PKCS#11 token; the key's CKA_ID is its kid.
    Pkcs11 { module: String, token: String },
}

/// Why a public key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CardError {
    #[error("not a sealpass public key file: {0}")]
    NotACard(String),
    #[error("this file is a {found:?}, but a {expected:?} is needed here")]
    WrongFormat {
        expected: &'static str,
        found: String,
    },
    #[error("the public key is not a usable Ed25519 key")]
    BadKey,
    #[error(
        "the key id {written} written in the file does not match its public key (key id {actual}): the file was edited"
    )]
    KidMismatch { written: String, actual: Kid },
    #[error("the key's validity window ends before it starts")]
    InvertedWindow,
}

impl CustodianCard {
    pub fn new(custodian: &str, public_key: &[u8; 32]) -> CustodianCard {
        CustodianCard {
            format: CUSTODIAN_FORMAT.into(),
            custodian: custodian.into(),
            public_key: hex::encode(public_key),
            kid: Kid::of(public_key).to_hex(),
        }
    }

    pub fn from_json(bytes: &[u8]) -> Result<CustodianCard, CardError> {
        let card: CustodianCard = parse(bytes, CUSTODIAN_FORMAT)?;
        checked_key(&card.public_key, &card.kid)?;
        Ok(card)
    }

    pub fn public_key(&self) -> [u8; 32] {
        checked_key(&self.public_key, &self.kid).expect("checked when read")
    }

    pub fn root_key(&self) -> RootKey {
        RootKey {
            custodian: self.custodian.clone(),
            public_key: self.public_key(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }

    /// The card printed for the room: name, kid, fingerprint, public key,
    /// and a QR code of the public key.
    pub fn render(&self) -> String {
        render(
            "custodian root key",
            &[("custodian", &self.custodian)],
            &self.public_key(),
            "SPROOT:",
        )
    }
}

impl IssuerCard {
    pub fn from_json(bytes: &[u8]) -> Result<IssuerCard, CardError> {
        let card: IssuerCard = parse(bytes, ISSUER_FORMAT)?;
        checked_key(&card.public_key, &card.kid)?;
        if card.not_after < card.not_before {
            return Err(CardError::InvertedWindow);
        }
        Ok(card)
    }

    pub fn public_key(&self) -> [u8; 32] {
        checked_key(&self.public_key, &self.kid).expect("checked when read")
    }

    /// The trust-list entry for this key: active, inside its window, its
    /// maximum pass lifetime left for the draft to set.
    pub fn trust_entry(&self) -> IssuerKey {
        IssuerKey {
            issuer: self.issuer.clone(),
            alg: ALG_ED25519,
            public_key: self.public_key(),
            not_before: Timestamp(self.not_before),
            not_after: Timestamp(self.not_after),
            status: KeyStatus::Active,
            status_list_url: self.status_list_url.clone(),
            max_pass_lifetime: None,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }

    pub fn render(&self) -> String {
        let window = format!(
            "{} to {}",
            Timestamp(self.not_before),
            Timestamp(self.not_after)
        );
        let storage = match &self.storage {
            KeyStorage::File { path } => format!("encrypted key file {path}"),
            KeyStorage::Pkcs11 { token, .. } => format!("PKCS#11 token {token:?}"),
        };
        render(
            "issuer signing key",
            &[
                ("issuer", &self.issuer),
                ("valid", &window),
                ("stored in", &storage),
            ],
            &self.public_key(),
            "SPISSUER:",
        )
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    expected: &'static str,
) -> Result<T, CardError> {
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    let format: Format =
        serde_json::from_slice(bytes).map_err(|e| CardError::NotACard(e.to_string()))?;
    if format.format != expected {
        return Err(CardError::WrongFormat {
            expected,
            found: format.format,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| CardError::NotACard(e.to_string()))
}

fn checked_key(public_key: &str, kid: &str) -> Result<[u8; 32], CardError> {
    let bytes: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(CardError::BadKey)?;
    match ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
        Ok(key) if !key.is_weak() => {}
        _ => return Err(CardError::BadKey),
    }
    let actual = Kid::of(&bytes);
    if actual.to_hex() != kid {
        return Err(CardError::KidMismatch {
            written: kid.into(),
            actual,
        });
    }
    Ok(bytes)
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).expect("a card serializes");
    out.push(b'\n');
    out
}

fn render(title: &str, lines: &[(&str, &str)], public_key: &[u8; 32], qr_prefix: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "sealpass {title}");
    for (name, value) in lines {
        let _ = writeln!(out, "  {:<12} {value}", format!("{name}:"));
    }
    let _ = writeln!(out, "  {:<12} {}", "key id:", Kid::of(public_key));
    let print = fingerprint(public_key);
    let (first, second) = print.split_at(39);
    let _ = writeln!(out, "  {:<12} {first}", "fingerprint:");
    let _ = writeln!(out, "  {:<12} {}", "", second.trim_start());
    let _ = writeln!(out, "  {:<12} {}", "public key:", hex::encode(public_key));
    // Upper-case hex stays in the QR alphanumeric set.
    let content = format!("{qr_prefix}{}", hex::encode_upper(public_key));
    if let Ok(code) = QrCode::new(content.as_bytes()) {
        let _ = writeln!(out, "  scan to compare ({content}):");
        let picture = code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build();
        out.push_str(&picture);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_begins_with_the_kid() {
        let key = sealpass_core::testkit::key("custodian 1");
        let public_key = ed25519_dalek::VerifyingKey::from(&key).to_bytes();
        let print = fingerprint(&public_key);
        assert_eq!(print.replace(' ', "")[..16], Kid::of(&public_key).to_hex());
        assert_eq!(print.len(), 64 + 15);
    }

    #[test]
    fn an_edited_card_is_refused() {
        let key = sealpass_core::testkit::key("custodian 1");
        let public_key = ed25519_dalek::VerifyingKey::from(&key).to_bytes();
        let card = CustodianCard::new("Wang Li", &public_key);
        let read = CustodianCard::from_json(&card.to_json()).unwrap();
        assert_eq!(read, card);
        assert!(read.render().contains("Wang Li"));
        let mut edited = card.clone();
        edited.kid = "0000000000000000".into();
        assert!(matches!(
            CustodianCard::from_json(&edited.to_json()),
            Err(CardError::KidMismatch { .. })
        ));
    }
}
