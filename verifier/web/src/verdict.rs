//! One verdict per pass, as JSON with exactly the field names, order and
//! codes of `sealpass-verifier --json` (docs/verifier.md): the page renders
//! this object, and `tests/same_as_cli.rs` holds it to the command line's
//! golden files.

use sealpass_core::{Phase, Timestamp, VerifiedPass, VerifyError};
use serde::Serialize;

/// Where a pass came from: the camera (and which code in the frame, from
/// 0), or typed into the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Camera { symbol: usize },
    Typed,
}

/// The `--json` object of one verdict. Fields that do not apply are `null`,
/// except `symbol`, present only for the camera (as for `scan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<usize>,
    /// `valid`, `not_valid` or `undecided`.
    pub verdict: &'static str,
    pub valid: bool,
    pub code: &'static str,
    pub phase: Option<&'static str>,
    pub reason: Option<String>,
    pub colour: Option<&'static str>,
    pub masked_name: Option<String>,
    pub masked_id: Option<String>,
    pub issuer: Option<String>,
    pub kid: Option<String>,
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
    pub valid_for_seconds: Option<u64>,
    pub revocation_checked: Option<bool>,
    pub policy: String,
}

impl Verdict {
    /// The core's answer on one pass at `now`.
    pub fn from_result(
        result: Result<VerifiedPass, VerifyError>,
        origin: Origin,
        policy: &str,
        now: Timestamp,
    ) -> Verdict {
        match result {
            Ok(pass) => {
                let claims = pass.claims();
                Verdict {
                    verdict: "valid",
                    valid: true,
                    code: "valid",
                    colour: Some(claims.health.colour.name()),
                    masked_name: Some(claims.health.masked_name.clone()),
                    masked_id: Some(claims.health.masked_id.clone()),
                    issuer: Some(claims.issuer.clone()),
                    kid: Some(pass.kid().to_hex()),
                    issued_at: Some(claims.issued_at.0),
                    expires_at: Some(claims.expires_at.0),
                    valid_for_seconds: Some(pass.valid_for(now).0),
                    revocation_checked: Some(pass.revocation_checked()),
                    ..Verdict::empty(origin, policy)
                }
            }
            Err(e) => {
                let outcome = if e.is_undecided() {
                    "undecided"
                } else {
                    "not_valid"
                };
                Verdict::refused(outcome, e.code(), e.phase(), e.to_string(), origin, policy)
            }
        }
    }

    /// Nothing can be decided on this phone (no trust list, clock set back…):
    /// the command line's `setup` phase.
    pub fn setup(code: &'static str, reason: String, origin: Origin, policy: &str) -> Verdict {
        Verdict {
            verdict: "undecided",
            code,
            phase: Some("setup"),
            reason: Some(reason),
            ..Verdict::empty(origin, policy)
        }
    }

    fn refused(
        outcome: &'static str,
        code: &'static str,
        phase: Phase,
        reason: String,
        origin: Origin,
        policy: &str,
    ) -> Verdict {
        Verdict {
            verdict: outcome,
            code,
            phase: Some(phase.name()),
            reason: Some(reason),
            ..Verdict::empty(origin, policy)
        }
    }

    fn empty(origin: Origin, policy: &str) -> Verdict {
        let (source, symbol) = match origin {
            Origin::Camera { symbol } => ("camera", Some(symbol)),
            Origin::Typed => ("typed", None),
        };
        Verdict {
            source,
            symbol,
            verdict: "undecided",
            valid: false,
            code: "",
            phase: None,
            reason: None,
            colour: None,
            masked_name: None,
            masked_id: None,
            issuer: None,
            kid: None,
            issued_at: None,
            expires_at: None,
            valid_for_seconds: None,
            revocation_checked: None,
            policy: policy.to_owned(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a verdict serialises")
    }
}
