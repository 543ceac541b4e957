//! Issuer keys inside a PKCS#11 token (an HSM, or SoftHSM2 for tests): the
//! key pair is generated in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN), the
//! secret is marked sensitive and never extractable, and every signature is
//! made by the token (CKM_EDDSA). [`TokenSigner`] implements the core's
//! [`Signer`], so the issuer signs passes with it exactly as with a key file.

use crate::passphrase::Passphrase;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sealpass_core::{Kid, Signer, SignerError};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Debian's SoftHSM2 module.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// CKA_EC_PARAMS of Ed25519 keys: the PrintableString "edwards25519"
/// (PKCS#11 v3.0 §2.3.10), which SoftHSM2 and most HSMs accept.
const EDWARDS25519_PARAMS: [u8; 14] = [
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];

/// Why the token could not be used. Token errors carry PKCS#11 return
/// codes, never secret material.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("cannot load the PKCS#11 module {path}: {source}. Is the token's library installed?")]
    Module {
        path: PathBuf,
        source: CryptokiError,
    },
    #[error(
        "no token labelled {label:?} is present (tokens seen: {seen}). Initialize it first, e.g. softhsm2-util --init-token --free --label {label:?}"
    )]
    NoSuchToken { label: String, seen: String },
    #[error("the token refused the PIN: wrong PIN (or it is locked after too many tries)")]
    WrongPin,
    #[error("the token has no issuer key with key id {0}")]
    NoSuchKey(Kid),
    #[error("the token already holds a key with key id {0}")]
    KeyExists(Kid),
    #[error(
        "the token's key pair did not produce a usable Ed25519 key (does the token support CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA?)"
    )]
    NotEd25519,
    #[error("the token failed during {during}: {source}")]
    Token {
        during: &'static str,
        source: CryptokiError,
    },
}

fn token_error(during: &'static str) -> impl FnOnce(CryptokiError) -> TokenError {
    move |source| match source {
        CryptokiError::Pkcs11(RvError::PinIncorrect | RvError::PinLocked, _) => {
            TokenError::WrongPin
        }
        source => TokenError::Token { during, source },
    }
}

/// A logged-in session on one token.
pub struct Token {
    session: Session,
}

impl Token {
    /// Load `module`, find the token labelled `label` and log in as user.
    pub fn open(module: &Path, label: &str, pin: &Passphrase) -> Result<Token, TokenError> {
        let pkcs11 = Pkcs11::new(module).map_err(|source| TokenError::Module {
            path: module.to_owned(),
            source,
        })?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CryptokiError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(source) => {
                return Err(TokenError::Module {
                    path: module.to_owned(),
                    source,
                });
            }
        }
        let slot = find_slot(&pkcs11, label)?;
        let session = pkcs11
            .open_rw_session(slot)
            .map_err(token_error("opening a session"))?;
        let pin = AuthPin::new(pin.expose().into());
        session
            .login(UserType::User, Some(&pin))
            .map_err(token_error("login"))?;
        Ok(Token { session })
    }

    /// Generate an Ed25519 issuer key pair inside the token. The secret is
    /// sensitive and not extractable; both objects get CKA_ID = the kid.
    pub fn generate_issuer_key(self, issuer: &str) -> Result<TokenSigner, TokenError> {
        let label = format!("sealpass issuer {issuer}").into_bytes();
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(EDWARDS25519_PARAMS.to_vec()),
            Attribute::Label(label.clone()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label),
        ];
        let (public, private) = self
            .session
            .generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &public_template,
                &private_template,
            )
            .map_err(token_error("key generation"))?;
        let public_key = read_public_key(&self.session, public)?;
        let kid = Kid::of(&public_key);
        for object in [public, private] {
            self.session
                .update_attributes(object, &[Attribute::Id(kid.0.to_vec())])
                .map_err(token_error("labelling the new key"))?;
        }
        let signer = TokenSigner {
            session: self.session,
            private,
            public_key,
            kid,
        };
        signer.self_test()?;
        Ok(signer)
    }

    /// The issuer key with this kid, ready to sign.
    pub fn issuer_key(self, kid: Kid) -> Result<TokenSigner, TokenError> {
        let find = |class| {
            self.session
                .find_objects(&[
                    Attribute::Class(class),
                    Attribute::KeyType(KeyType::EC_EDWARDS),
                    Attribute::Id(kid.0.to_vec()),
                ])
                .map_err(token_error("finding the key"))
        };
        let public = find(ObjectClass::PUBLIC_KEY)?;
        let private = find(ObjectClass::PRIVATE_KEY)?;
        let (Some(&public), Some(&private)) = (public.first(), private.first()) else {
            return Err(TokenError::NoSuchKey(kid));
        };
        let public_key = read_public_key(&self.session, public)?;
        if Kid::of(&public_key) != kid {
            return Err(TokenError::NoSuchKey(kid));
        }
        Ok(TokenSigner {
            session: self.session,
            private,
            public_key,
            kid,
        })
    }
}

fn find_slot(pkcs11: &Pkcs11, label: &str) -> Result<Slot, TokenError> {
    let mut seen = Vec::new();
    for slot in pkcs11
        .get_slots_with_token()
        .map_err(token_error("listing slots"))?
    {
        let info = pkcs11
            .get_token_info(slot)
            .map_err(token_error("reading token information"))?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
        if info.token_initialized() {
            seen.push(format!("{:?}", info.label().trim_end()));
        }
    }
    Err(TokenError::NoSuchToken {
        label: label.into(),
        seen: if seen.is_empty() {
            "none".into()
        } else {
            seen.join(", ")
        },
    })
}

/// CKA_EC_POINT of an Edwards key: the 32 raw bytes, usually DER-wrapped in
/// an OCTET STRING (04 20 ...).
fn read_public_key(session: &Session, object: ObjectHandle) -> Result<[u8; 32], TokenError> {
    let attributes = session
        .get_attributes(object, &[AttributeType::EcPoint])
        .map_err(token_error("reading the public key"))?;
    let Some(Attribute::EcPoint(point)) = attributes.into_iter().next() else {
        return Err(TokenError::NotEd25519);
    };
    let raw = match point.as_slice() {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        raw => raw,
    };
    raw.try_into().map_err(|_| TokenError::NotEd25519)
}

/// An issuer key that lives in a PKCS#11 token.
pub struct TokenSigner {
    session: Session,
    private: ObjectHandle,
    public_key: [u8; 32],
    kid: Kid,
}

impl TokenSigner {
    /// Sign once and check the signature in software: a token that signs
    /// with another algorithm or a wrong key is caught before it is used.
    fn self_test(&self) -> Result<(), TokenError> {
        let message = b"sealpass token self-test";
        let signature = self.sign(message).map_err(|_| TokenError::NotEd25519)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.public_key)
            .map_err(|_| TokenError::NotEd25519)?;
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
            .map_err(|_| TokenError::NotEd25519)
    }
}

impl Signer for TokenSigner {
    fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let signature = self
            .session
            .sign(&mechanism, self.private, message)
            .map_err(|e| SignerError(format!("the PKCS#11 token refused to sign: {e}")))?;
        signature.try_into().map_err(|s: Vec<u8>| {
            SignerError(format!(
                "the token returned a {}-byte signature, not 64",
                s.len()
            ))
        })
    }

    fn kid(&self) -> Kid {
        self.kid
    }
}
