//! Citizens log in with the identity provider their city already has (a
//! mini-program login, a government single sign-on): the provider signs an
//! identity token, a JWT (RFC 7519) in JWS compact form (RFC 7515), and the
//! public API checks it against that provider's public keys (a JWKS, RFC
//! 7517). Only two algorithms are accepted, each bound to the key type that
//! can make it: `EdDSA` with Ed25519 keys (RFC 8037) and `ES256` with P-256
//! keys. `none`, HMAC and anything else are refused before any key is
//! looked at; the algorithm is never chosen by the token alone.
//!
//! Checks, in order: shape and size; header (`alg` one of the two, `kid`
//! present, no `crit`); the provider named by `iss`; the key named by `kid`
//! and its algorithm; the signature; then the claims, read only from
//! verified bytes: `aud` contains the provider's audience, `exp` is after
//! now minus the skew and at most [`MAX_TOKEN_LIFETIME`] after now and
//! after `iat`, `nbf` and `iat` are not after now plus the skew, times
//! are whole numbers below 2^63, `sub` is present. The provider's template maps `sub` to a sealpass
//! subject (docs/public-api.md, "Identity providers").

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealpass_core::{Seconds, Timestamp};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use thiserror::Error;

/// Longest identity token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 8192;
/// Longest sealpass subject a template may produce (the store's limit).
const MAX_SUBJECT_LEN: usize = crate::model::MAX_SUBJECT_LEN;
/// Longest lifetime of an identity token accepted: `exp` at most this far
/// after `iat` and after now (plus the skew). Logins of cities' sign-ons
/// and mini-programs last minutes to 12 hours (the demo's: 12 h); a token
/// that claims to last longer, or never to expire, is refused, so a
/// stolen token is not good for ever, nor remembered for ever
/// ([`super::verified_tokens`]).
pub const MAX_TOKEN_LIFETIME: Seconds = Seconds::hours(24);
/// The largest NumericDate accepted (2^63 - 1: beyond it a time is not a
/// date but an attempt never to expire).
const MAX_NUMERIC_DATE: u64 = i64::MAX as u64;

/// A JWS algorithm this verifier knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EdDsa,
    Es256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
        }
    }
}

/// A provider's public key.
#[derive(Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::EdDsa,
            PublicKey::P256(_) => Algorithm::Es256,
        }
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(key) => {
                let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                    return false;
                };
                let signature = ed25519_dalek::Signature::from_bytes(&bytes);
                key.verify_strict(signing_input, &signature).is_ok()
            }
            PublicKey::P256(key) => {
                use p256::ecdsa::signature::Verifier as _;
                // JWS carries ES256 signatures as r || s, 64 bytes (RFC 7518 §3.4).
                if signature.len() != 64 {
                    return false;
                }
                let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify(signing_input, &signature).is_ok()
            }
        }
    }
}

/// One key of a provider, with its key id.
#[derive(Clone)]
pub struct ProviderKey {
    pub kid: String,
    pub key: PublicKey,
}

/// An identity provider the public API trusts.
#[derive(Clone)]
pub struct IdentityProvider {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry for this service.
    pub audience: String,
    pub keys: Vec<ProviderKey>,
    /// How its `sub` becomes a sealpass subject: `{sub}` is replaced.
    pub subject_template: String,
    /// Clock difference tolerated on `exp`, `nbf` and `iat`.
    pub skew: Seconds,
}

/// Why a JWKS could not be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    #[error("not a JSON Web Key Set: {0}")]
    NotJwks(String),
    #[error("key {index}: {reason}")]
    Key { index: usize, reason: String },
    #[error("the key set has no signing key")]
    Empty,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    d: Option<String>,
}

/// Read a JWKS document: Ed25519 (`OKP`) and P-256 (`EC`) signing keys,
/// each with a `kid`. Private keys and keys of other types are refused:
/// a misconfigured set should stop the service, not be half used.
pub fn parse_jwks(json: &[u8]) -> Result<Vec<ProviderKey>, JwksError> {
    let set: Jwks = serde_json::from_slice(json).map_err(|e| JwksError::NotJwks(e.to_string()))?;
    let mut keys = Vec::new();
    for (index, jwk) in set.keys.into_iter().enumerate() {
        let fail = |reason: &str| JwksError::Key {
            index,
            reason: reason.into(),
        };
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        if jwk.d.is_some() {
            return Err(fail(
                "it holds a private key (\"d\"): publish only the public part",
            ));
        }
        let kid = jwk.kid.ok_or_else(|| fail("it has no \"kid\""))?;
        let coordinate = |value: Option<String>, name: &str| -> Result<[u8; 32], JwksError> {
            let text = value.ok_or_else(|| fail(&format!("it has no \"{name}\"")))?;
            let bytes = URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| fail(&format!("\"{name}\" is not base64url")))?;
            bytes
                .try_into()
                .map_err(|_| fail(&format!("\"{name}\" is not 32 bytes")))
        };
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                let x = coordinate(jwk.x, "x")?;
                PublicKey::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&x)
                        .map_err(|_| fail("\"x\" is not an Ed25519 public key"))?,
                )
            }
            ("EC", Some("P-256")) => {
                let mut sec1 = vec![0x04];
                sec1.extend_from_slice(&coordinate(jwk.x, "x")?);
                sec1.extend_from_slice(&coordinate(jwk.y, "y")?);
                PublicKey::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                        .map_err(|_| fail("\"x\", \"y\" is not a point of P-256"))?,
                )
            }
            (kty, crv) => {
                return Err(fail(&format!(
                    "key type {kty:?} curve {crv:?} is not supported: use OKP/Ed25519 (EdDSA) or EC/P-256 (ES256)"
                )));
            }
        };
        if let Some(alg) = &jwk.alg
            && alg != key.algorithm().name()
        {
            return Err(fail(&format!(
                "\"alg\" {alg:?} does not match its key type ({})",
                key.algorithm().name()
            )));
        }
        keys.push(ProviderKey { kid, key });
    }
    if keys.is_empty() {
        return Err(JwksError::Empty);
    }
    Ok(keys)
}

/// Why an identity token was refused. [`AuthError::message`] is what the
/// citizen's app is told: enough to act on, nothing about keys or the
/// configuration; signature failures stay opaque.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("no identity token")]
    Missing,
    #[error("the identity token is malformed: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("the token's issuer is not a configured identity provider")]
    UnknownIssuer,
    #[error("the token names a key the provider does not have")]
    UnknownKey,
    #[error("the token's algorithm does not match the provider's key")]
    AlgorithmMismatch,
    #[error("signature does not verify")]
    BadSignature,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token expired {0} ago")]
    Expired(Seconds),
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has no usable {0:?} claim")]
    MissingClaim(&'static str),
    #[error("the token's subject cannot be a sealpass subject")]
    BadSubject,
    #[error("the token claims to be valid for longer than {MAX_TOKEN_LIFETIME}")]
    TooLongLived,
}

impl AuthError {
    /// A stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing_token",
            AuthError::Expired(_) => "token_expired",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::WrongAudience => "wrong_audience",
            _ => "invalid_token",
        }
    }

    /// A fixed word for the logs, one per kind of refusal: never text the
    /// token carried (its `alg`, say), which an attacker chooses.
    pub fn cause(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed(_) => "malformed",
            AuthError::Algorithm(_) => "algorithm_not_accepted",
            AuthError::UnknownIssuer => "unknown_issuer",
            AuthError::UnknownKey => "unknown_key",
            AuthError::AlgorithmMismatch => "algorithm_mismatch",
            AuthError::BadSignature => "bad_signature",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::Expired(_) => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::BadSubject => "bad_subject",
            AuthError::TooLongLived => "too_long_lived",
        }
    }

    /// The sentence for the citizen's app.
    pub fn message(&self) -> String {
        match self {
            AuthError::Missing => {
                "log in first: send the identity token as Authorization: Bearer <token>".into()
            }
            AuthError::Expired(ago) => {
                format!("your login expired {ago} ago: log in again")
            }
            AuthError::NotYetValid => {
                "your login is not valid yet: check the phone's clock, then log in again".into()
            }
            AuthError::WrongAudience => {
                "this login was made for another service: log in to sealpass again".into()
            }
            AuthError::BadSignature => {
                "the identity token's signature does not verify: log in again".into()
            }
            _ => "the identity token is not accepted here: log in again".into(),
        }
    }
}

/// A citizen whose token verified: who the provider says it is, and the
/// sealpass subject the provider's template maps it to (an identity link
/// may map it to another: `super::identity_links`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    /// The template's subject.
    pub subject: String,
    /// The provider's `iss` (shared with the configuration)...
    pub issuer: Arc<str>,
    /// ... and the token's `sub`: the login an identity link names.
    pub sub: Box<str>,
    /// The token is accepted from this time (its `nbf` and `iat` less the
    /// provider's skew) ...
    pub valid_from: u64,
    /// ... and refused from this time on (`exp` plus the skew): when a
    /// verified token may be taken as verified ([`super::verified_tokens`]).
    pub valid_until: u64,
}

/// The configured identity providers.
#[derive(Clone, Default)]
pub struct IdentityProviders {
    providers: Vec<IdentityProvider>,
    /// Each provider's `iss`, shared by the citizens it verifies.
    issuers: Vec<Arc<str>>,
}

impl IdentityProviders {
    pub fn new(providers: Vec<IdentityProvider>) -> IdentityProviders {
        let issuers = providers
            .iter()
            .map(|p| Arc::from(p.issuer.as_str()))
            .collect();
        IdentityProviders { providers, issuers }
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    pub fn into_vec(self) -> Vec<IdentityProvider> {
        self.providers
    }

    /// Verify `token` at `now` and map its subject.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Citizen, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed("too long"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed("not three dot-separated parts"));
        };
        let header = decode_json(header_b64, "header")?;
        let algorithm = match header.get("alg").and_then(Value::as_str) {
            Some("EdDSA") => Algorithm::EdDsa,
            Some("ES256") => Algorithm::Es256,
            Some(other) => return Err(AuthError::Algorithm(other.into())),
            None => return Err(AuthError::Malformed("no \"alg\" in the header")),
        };
        if header.get("crit").is_some() {
            return Err(AuthError::Malformed(
                "a critical header extension (\"crit\")",
            ));
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(AuthError::Malformed("no \"kid\" in the header"))?;
        // The payload picks the provider before it is verified; nothing
        // else in it is read until the signature holds.
        let unverified = decode_json(payload_b64, "payload")?;
        let issuer = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(AuthError::MissingClaim("iss"))?;
        let index = self
            .providers
            .iter()
            .position(|p| p.issuer == issuer)
            .ok_or(AuthError::UnknownIssuer)?;
        let provider = &self.providers[index];
        let key = provider
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(AuthError::UnknownKey)?;
        if key.key.algorithm() != algorithm {
            return Err(AuthError::AlgorithmMismatch);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| AuthError::Malformed("the signature is not base64url"))?;
        let signing_input_len = header_b64.len() + 1 + payload_b64.len();
        if !key
            .key
            .verify(&token.as_bytes()[..signing_input_len], &signature)
        {
            return Err(AuthError::BadSignature);
        }
        let claims = unverified;
        let (valid_from, valid_until) = check_claims(provider, &claims, now)?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::MissingClaim("sub"))?;
        let subject = provider.subject_template.replace("{sub}", sub);
        if subject.len() > MAX_SUBJECT_LEN || subject.chars().any(char::is_control) {
            return Err(AuthError::BadSubject);
        }
        Ok(Citizen {
            subject,
            issuer: self.issuers[index].clone(),
            sub: sub.into(),
            valid_from,
            valid_until,
        })
    }
}

fn decode_json(part: &str, what: &'static str) -> Result<Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| {
        AuthError::Malformed(match what {
            "header" => "the header is not base64url",
            _ => "the payload is not base64url",
        })
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
        AuthError::Malformed(match what {
            "header" => "the header is not JSON",
            _ => "the payload is not JSON",
        })
    })?;
    if !value.is_object() {
        return Err(AuthError::Malformed("a part is not a JSON object"));
    }
    Ok(value)
}

fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        // A whole number of seconds up to 2^63 - 1: a float (`1e300`,
        // `1.5`) or a larger number is refused, not rounded into a date
        // that never comes.
        Some(value) => value
            .as_u64()
            .filter(|&t| t <= MAX_NUMERIC_DATE)
            .map(Some)
            .ok_or(AuthError::MissingClaim(name)),
    }
}

/// Check the claims at `now`; the times from which the token is accepted
/// and from which it is refused.
fn check_claims(
    provider: &IdentityProvider,
    claims: &Value,
    now: Timestamp,
) -> Result<(u64, u64), AuthError> {
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == provider.audience,
        Some(Value::Array(auds)) => auds
            .iter()
            .any(|a| a.as_str() == Some(provider.audience.as_str())),
        _ => false,
    };
    if !audience_ok {
        return Err(AuthError::WrongAudience);
    }
    let skew = provider.skew.0;
    let exp = numeric_date(claims, "exp")?.ok_or(AuthError::MissingClaim("exp"))?;
    if now.0 >= exp.saturating_add(skew) {
        return Err(AuthError::Expired(Seconds(now.0 - exp)));
    }
    if exp > now.0.saturating_add(MAX_TOKEN_LIFETIME.0 + skew) {
        return Err(AuthError::TooLongLived);
    }
    let mut valid_from = 0;
    for name in ["nbf", "iat"] {
        if let Some(t) = numeric_date(claims, name)? {
            if t > now.0.saturating_add(skew) {
                return Err(AuthError::NotYetValid);
            }
            if name == "iat" && exp.saturating_sub(t) > MAX_TOKEN_LIFETIME.0 {
                return Err(AuthError::TooLongLived);
            }
            valid_from = valid_from.max(t.saturating_sub(skew));
        }
    }
    Ok((valid_from, exp.saturating_add(skew)))
}

/// Sign `claims` as a compact JWS with an Ed25519 key (`alg` EdDSA). The
/// demo identity provider and tests make tokens with it.
pub fn sign_eddsa(key: &ed25519_dalek::SigningKey, kid: &str, claims: &Value) -> String {
    use ed25519_dalek::Signer as _;
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The JWK of an Ed25519 public key.
pub fn ed25519_jwk(key: &ed25519_dalek::VerifyingKey, kid: &str) -> Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(key.to_bytes()),
    })
}

/// One provider for unit tests: issuer `https://sso.example`, audience
/// `sealpass`, `key` under kid `k1`, subjects `XA-{sub}`, 60 s of skew.
#[cfg(test)]
pub(crate) fn test_providers(key: &ed25519_dalek::SigningKey) -> IdentityProviders {
    let jwks = serde_json::json!({"keys": [ed25519_jwk(&key.verifying_key(), "k1")]});
    IdentityProviders::new(vec![IdentityProvider {
        issuer: "https://sso.example".into(),
        audience: "sealpass".into(),
        keys: parse_jwks(jwks.to_string().as_bytes()).unwrap(),
        subject_template: "XA-{sub}".into(),
        skew: Seconds(60),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_795_218_000);

    fn ed_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[5; 32])
    }

    fn providers() -> IdentityProviders {
        test_providers(&ed_key())
    }

    fn claims() -> Value {
        json!({"iss": "https://sso.example", "aud": "sealpass", "sub": "42", "exp": NOW.0 + 600, "iat": NOW.0})
    }

    #[test]
    fn a_good_token_maps_its_subject() {
        let token = sign_eddsa(&ed_key(), "k1", &claims());
        assert_eq!(
            providers().verify(&token, NOW).unwrap().subject,
            "XA-42".to_string()
        );
    }

    #[test]
    fn alg_none_and_hmac_are_refused_before_any_key() {
        for alg in ["none", "HS256", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1"}).to_string());
            let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
            let token = format!("{header}.{payload}.");
            assert_eq!(
                providers().verify(&token, NOW),
                Err(AuthError::Algorithm(alg.into()))
            );
        }
    }

    #[test]
    fn es256_header_on_an_ed25519_key_is_refused() {
        let token = sign_eddsa(&ed_key(), "k1", &claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": "k1"}).to_string());
        parts[0] = &header;
        assert_eq!(
            providers().verify(&parts.join("."), NOW),
            Err(AuthError::AlgorithmMismatch)
        );
    }

    #[test]
    fn skew_is_tolerated_on_both_sides_and_no_further() {
        let p = providers();
        let token = sign_eddsa(&ed_key(), "k1", &claims());
        assert!(p.verify(&token, Timestamp(NOW.0 + 659)).is_ok());
        assert_eq!(
            p.verify(&token, Timestamp(NOW.0 + 660)),
            Err(AuthError::Expired(Seconds(60)))
        );
        assert!(p.verify(&token, Timestamp(NOW.0 - 60)).is_ok());
        assert_eq!(
            p.verify(&token, Timestamp(NOW.0 - 61)),
            Err(AuthError::NotYetValid)
        );
    }

    #[test]
    fn jwks_with_private_keys_or_foreign_types_are_refused() {
        let private =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "a", "x": "AA", "d": "AA"}]});
        assert!(matches!(
            parse_jwks(private.to_string().as_bytes()),
            Err(JwksError::Key { .. })
        ));
        let rsa = json!({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]});
        assert!(matches!(
            parse_jwks(rsa.to_string().as_bytes()),
            Err(JwksError::Key { .. })
        ));
        assert_eq!(parse_jwks(br#"{"keys": []}"#).err(), Some(JwksError::Empty));
    }
}
