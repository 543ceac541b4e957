//! Every route of the public API, in one table. The router is built from
//! it and `/openapi.json` is written from it, so a route cannot exist
//! undocumented (`tests/public_api.rs` requests every entry and checks the
//! document names them all).

use super::page::CITIZEN_PAGE;
use serde_json::{Map, Value, json};

/// What an endpoint is, for the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Pass,
    PassPng,
    PassSvg,
    LoginOptions,
    DeviceChallenge,
    Device,
    TrustList,
    StatusList,
    Healthz,
    Readyz,
    OpenApi,
    /// A file of the citizen page (index 0 is `/`).
    Page(usize),
    VerifyRedirect,
    VerifyIndex,
    VerifyFile,
    DemoCitizens,
    DemoToken,
    DemoJwks,
}

/// One route.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: Id,
    pub method: &'static str,
    /// The path as the router writes it.
    pub route: &'static str,
    /// The path as OpenAPI writes it.
    pub doc_path: &'static str,
    pub summary: &'static str,
    /// Behind the overload limits (everything but the operators' probes).
    pub limited: bool,
    /// Mounted only by `sealpass-issuer demo`.
    pub demo_only: bool,
}

const fn endpoint(
    id: Id,
    method: &'static str,
    route: &'static str,
    summary: &'static str,
) -> Endpoint {
    Endpoint {
        id,
        method,
        route,
        doc_path: route,
        summary,
        limited: true,
        demo_only: false,
    }
}

/// Every route, page files included.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all = vec![
        endpoint(
            Id::Pass,
            "get",
            "/api/v1/pass",
            "The logged-in citizen's current pass (JSON)",
        ),
        endpoint(
            Id::PassPng,
            "get",
            "/api/v1/pass.png",
            "The current pass as a QR code (PNG)",
        ),
        endpoint(
            Id::PassSvg,
            "get",
            "/api/v1/pass.svg",
            "The current pass as a QR code (SVG)",
        ),
        endpoint(
            Id::LoginOptions,
            "get",
            "/api/v1/login-options",
            "How citizens log in here (for the citizen page)",
        ),
        endpoint(
            Id::DeviceChallenge,
            "post",
            "/api/v1/device/challenge",
            "A fresh challenge for binding this phone's key (docs/public-api.md, \"Device binding\")",
        ),
        endpoint(
            Id::Device,
            "put",
            "/api/v1/device",
            "Bind this phone's public key to the logged-in citizen, proven by its signature over the binding message",
        ),
        endpoint(
            Id::TrustList,
            "get",
            "/trust-list.cbor",
            "The trust list, exactly as the custodians signed it",
        ),
        Endpoint {
            doc_path: "/status/{issuer}.cbor",
            ..endpoint(
                Id::StatusList,
                "get",
                "/status/{file}",
                "An issuer's status list, exactly as signed",
            )
        },
        Endpoint {
            limited: false,
            ..endpoint(
                Id::Healthz,
                "get",
                "/healthz",
                "Liveness: the process answers",
            )
        },
        Endpoint {
            limited: false,
            ..endpoint(
                Id::Readyz,
                "get",
                "/readyz",
                "Readiness: the store answers too",
            )
        },
        endpoint(Id::OpenApi, "get", "/openapi.json", "This document"),
        endpoint(
            Id::VerifyRedirect,
            "get",
            "/verify",
            "Redirects to /verify/",
        ),
        endpoint(
            Id::VerifyIndex,
            "get",
            "/verify/",
            "The offline web verifier for checkpoint staff",
        ),
        Endpoint {
            doc_path: "/verify/{file}",
            ..endpoint(
                Id::VerifyFile,
                "get",
                "/verify/{*file}",
                "A file of the offline web verifier, and roots.cbor",
            )
        },
        Endpoint {
            demo_only: true,
            ..endpoint(
                Id::DemoCitizens,
                "get",
                "/demo/idp/citizens",
                "DEMO ONLY: the demo citizens one can log in as",
            )
        },
        Endpoint {
            demo_only: true,
            ..endpoint(
                Id::DemoToken,
                "post",
                "/demo/idp/token",
                "DEMO ONLY: an identity token for a demo citizen",
            )
        },
        Endpoint {
            demo_only: true,
            ..endpoint(
                Id::DemoJwks,
                "get",
                "/demo/idp/jwks.json",
                "DEMO ONLY: the demo identity provider's public key",
            )
        },
    ];
    for (index, (path, _, _)) in CITIZEN_PAGE.iter().enumerate() {
        all.push(endpoint(
            Id::Page(index),
            "get",
            path,
            if index == 0 {
                "The citizen page"
            } else {
                "A file of the citizen page"
            },
        ));
    }
    all
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn responses(id: Id) -> Value {
    let busy = error_response(
        "Busy (over the concurrency limit) or timed out: retry after Retry-After seconds",
    );
    let limited =
        error_response("This client sent too many requests: retry after Retry-After seconds");
    let ok = |description: &str, content_type: &str, schema: Value| {
        json!({"description": description, "headers": {"ETag": {"schema": {"type": "string"}}},
               "content": {content_type: {"schema": schema}}})
    };
    let binary = json!({"type": "string", "format": "binary"});
    let mut r = Map::new();
    match id {
        Id::Pass | Id::PassPng | Id::PassSvg => {
            let (content_type, schema) = match id {
                Id::Pass => (
                    "application/json",
                    json!({"$ref": "#/components/schemas/Pass"}),
                ),
                Id::PassPng => ("image/png", binary),
                _ => ("image/svg+xml", json!({"type": "string"})),
            };
            r.insert(
                "200".into(),
                ok(
                    "The current pass; Cache-Control: private, no-cache",
                    content_type,
                    schema,
                ),
            );
            r.insert(
                "304".into(),
                json!({"description": "Not modified: If-None-Match named the current pass"}),
            );
            r.insert("401".into(), error_response("No identity token, or one that is refused: missing_token, invalid_token, token_expired, token_not_yet_valid, wrong_audience"));
            r.insert(
                "404".into(),
                error_response("unknown_subject (not registered) or pass_not_ready (retry later)"),
            );
        }
        Id::TrustList | Id::StatusList => {
            r.insert(
                "200".into(),
                ok(
                    "The signed list (COSE); Cache-Control: public",
                    "application/cbor",
                    binary,
                ),
            );
            r.insert("304".into(), json!({"description": "Not modified"}));
            r.insert("404".into(), error_response("Not published yet"));
        }
        Id::LoginOptions => {
            r.insert("200".into(), json!({"description": "demo (bool), login_url (string or null) and device_binding (bool: whether this issuer binds devices)", "content": {"application/json": {"schema": {"type": "object"}}}}));
        }
        Id::DeviceChallenge | Id::Device => {
            let description = if id == Id::Device {
                "{\"bound\": true, \"changed\", \"replaced\", \"key_type\", \"message\"}; Cache-Control: no-store"
            } else {
                "{\"challenge\" (base64url), \"subject\", \"expires_at\"}; Cache-Control: no-store"
            };
            r.insert("200".into(), json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}));
            if id == Id::Device {
                r.insert("400".into(), error_response("malformed_request, bad_base64, bad_challenge, challenge_expired, unknown_key_type, bad_device_key_length, device_key_not_on_curve, device_key_small_order, bad_signature_length, bad_device_signature"));
                r.insert(
                    "409".into(),
                    error_response("challenge_used, identity_conflict"),
                );
            } else {
                r.insert("409".into(), error_response("identity_conflict"));
            }
            r.insert(
                "401".into(),
                error_response("No identity token, or one that is refused"),
            );
            r.insert(
                "403".into(),
                error_response("binding_disabled: this issuer does not bind devices"),
            );
            r.insert("404".into(), error_response("unknown_subject"));
        }
        Id::Healthz => {
            r.insert("200".into(), json!({"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}));
        }
        Id::Readyz => {
            r.insert("200".into(), json!({"description": "Ready", "content": {"application/json": {"schema": {"type": "object"}}}}));
            r.insert(
                "503".into(),
                json!({"description": "Not ready: the store does not answer"}),
            );
        }
        Id::OpenApi => {
            r.insert("200".into(), json!({"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}));
        }
        Id::VerifyRedirect => {
            r.insert("308".into(), json!({"description": "To /verify/"}));
        }
        Id::VerifyIndex | Id::VerifyFile | Id::Page(_) => {
            r.insert(
                "200".into(),
                json!({"description": "The file; Cache-Control: no-cache"}),
            );
            r.insert("304".into(), json!({"description": "Not modified"}));
            r.insert(
                "404".into(),
                json!({"description": "No such file (or the web verifier is not installed)"}),
            );
        }
        Id::DemoCitizens | Id::DemoJwks => {
            r.insert("200".into(), json!({"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}));
        }
        Id::DemoToken => {
            r.insert("200".into(), json!({"description": "{\"id_token\": \"...\"}", "content": {"application/json": {"schema": {"type": "object"}}}}));
            r.insert("404".into(), error_response("No such demo citizen"));
        }
    }
    r.insert("429".into(), limited);
    r.insert("503".into(), busy);
    Value::Object(r)
}

/// The OpenAPI 3.1 document of the routes mounted (`demo`: with the demo
/// identity provider's).
pub fn openapi(demo: bool) -> Value {
    let mut paths = Map::new();
    for e in endpoints().iter().filter(|e| demo || !e.demo_only) {
        let mut operation = json!({
            "summary": e.summary,
            "operationId": format!("{}{}", e.method, e.doc_path.replace(['/', '.', '{', '}', '-'], "_")),
            "responses": responses(e.id),
        });
        if matches!(e.id, Id::DeviceChallenge | Id::Device) {
            operation["security"] = json!([{"identityToken": []}]);
        }
        if e.id == Id::Device {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                "properties": {"challenge": {"type": "string"}, "key_type": {"type": "string", "enum": ["Ed25519", "P-256"]},
                               "public_key": {"type": "string", "description": "base64url: Ed25519 32 bytes, P-256 65 (or 33) bytes, WebCrypto exportKey('raw')"},
                               "signature": {"type": "string", "description": "base64url, 64 bytes, over the binding message"}},
                "required": ["challenge", "key_type", "public_key", "signature"]}}}});
        }
        if matches!(e.id, Id::Pass | Id::PassPng | Id::PassSvg) {
            operation["security"] = json!([{"identityToken": []}]);
            operation["parameters"] = json!([{"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}}]);
        }
        if let Some(name) = e
            .doc_path
            .split('{')
            .nth(1)
            .and_then(|rest| rest.split('}').next())
        {
            let parameters = operation
                .as_object_mut()
                .expect("an object")
                .entry("parameters")
                .or_insert_with(|| json!([]));
            parameters.as_array_mut().expect("an array").push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if e.id == Id::DemoToken {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"login": {"type": "string"}}, "required": ["login"]}}}});
        }
        paths
            .entry(e.doc_path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(e.method.into(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "sealpass issuer: public API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Citizens download their signed passes; verifiers download the signed trust and status lists. Holds no signing key. docs/public-api.md."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "identityToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA or ES256) from the city's identity provider"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "description": "a stable code"},
                    "message": {"type": "string", "description": "what to do, for people"},
                    "retry_after_seconds": {"type": "integer"}}},
                "Pass": {"type": "object", "required": ["pass", "colour", "masked_name", "masked_id", "issuer", "issued_at", "valid_until", "next_pass_at", "version"], "properties": {
                    "pass": {"type": "string", "description": "the QR text, SP1:..."},
                    "colour": {"type": "string", "enum": ["green", "yellow", "red"]},
                    "masked_name": {"type": "string"},
                    "masked_id": {"type": "string"},
                    "issuer": {"type": "string"},
                    "issued_at": {"type": "integer", "description": "Unix seconds"},
                    "valid_until": {"type": "integer", "description": "Unix seconds"},
                    "next_pass_at": {"type": "integer", "description": "Unix seconds: the signer renews the pass then; fetch again after it"},
                    "version": {"type": "string", "description": "the ETag's value"},
                    "holder_bound": {"type": "boolean", "description": "the pass carries a device key (cnf): show it only as a live code signed by that key"},
                    "holder_key_type": {"type": ["string", "null"], "enum": ["Ed25519", "P-256", null]},
                    "holder_key": {"type": ["string", "null"], "description": "base64url of the bound key as the pass carries it: Ed25519 32 bytes, P-256 33 bytes compressed"}}}
            }
        }
    })
}
