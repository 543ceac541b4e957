//! The issuer's parsers of what a phone sends: the `Accept-Encoding`
//! header (`read::public::accept_encoding::choose`), a JSON Web Key Set
//! (`parse_jwks`, read from a provider's configuration) and an identity
//! token (`IdentityProviders::verify`, a JWS in compact form) from
//! arbitrary bytes. None may panic; a token made of fuzz bytes never
//! verifies against the provider's key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpass_core::testkit;
use sealpass_issuer::read::public::accept_encoding::{Coding, choose};
use sealpass_issuer::read::public::auth::{
    IdentityProvider, IdentityProviders, ed25519_jwk, parse_jwks,
};
use sealpass_core::Seconds;
use std::sync::LazyLock;

static PROVIDERS: LazyLock<IdentityProviders> = LazyLock::new(|| {
    let key = testkit::key("fuzz identity provider");
    let jwks = serde_json::json!({ "keys": [ed25519_jwk(&key.verifying_key(), "k1")] });
    let keys = parse_jwks(jwks.to_string().as_bytes()).expect("a valid JWKS");
    IdentityProviders::new(vec![IdentityProvider {
        issuer: "https://sso.example".into(),
        audience: "sealpass".into(),
        keys,
        subject_template: "XA-{sub}".into(),
        skew: Seconds(60),
    }])
});

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = http::HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::ACCEPT_ENCODING, value);
        let _ = choose(&headers, &[Coding::Brotli, Coding::Gzip]);
    }
    if let Ok(keys) = parse_jwks(data) {
        assert!(!keys.is_empty(), "a parsed key set holds a signing key");
    }
    let token = String::from_utf8_lossy(data);
    if let Ok(citizen) = PROVIDERS.verify(&token, testkit::NOW) {
        panic!("fuzz bytes verified as {:?}", citizen.subject);
    }
});
