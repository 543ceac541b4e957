//! One verdict per pass: valid, not valid, or could not decide; and its
//! JSON form, whose field names are stable (docs/verifier.md, "`--json`"):
//! the command line's `--json` line and the web verifier's verdict alike,
//! but for where the pass came from (`source`, `line`, `symbol`).

use crate::keyboard;
use sealpass_core::{
    AlreadyScanned, CheckpointPolicy, Colour, HolderBinding, Phase, PolicyCheck, Seconds,
    TestRecord, Timestamp, Vaccination, VerifiedPass, VerifyError,
};
use serde::Serialize;

/// The three answers, ordered from best to worst: several passes exit with
/// the worst one's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Valid,
    NotValid,
    Undecided,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::NotValid => "not_valid",
            Outcome::Undecided => "undecided",
        }
    }

    /// 0 valid, 1 not valid, 2 could not decide.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Valid => 0,
            Outcome::NotValid => 1,
            Outcome::Undecided => 2,
        }
    }
}

/// What a person compares with the ID card, and how long the pass holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassSummary {
    pub colour: Colour,
    pub masked_name: String,
    pub masked_id: String,
    pub issuer: String,
    pub kid: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub valid_for: Seconds,
    pub revocation_checked: bool,
    /// The vaccination line: doses and the last dose's date.
    pub vaccination: Vaccination,
    /// The test line: result and when, with how long ago at `now`.
    pub last_test: Option<TestRecord>,
    pub test_age: Option<Seconds>,
    /// What the checkpoint's policy checked when it admitted the pass.
    pub checked: Vec<PolicyCheck>,
    /// Shown as a live code from the phone it is bound to, or as a plain
    /// pass that anyone holding it can show.
    pub holder: HolderBinding,
    /// A live code: how long ago its phone signed it, by this clock (zero
    /// for a phone's clock a little ahead).
    pub live_code_age: Option<Seconds>,
    /// A live code this checkpoint accepted before, inside its window.
    pub already_scanned: Option<AlreadyScanned>,
}

impl PassSummary {
    /// Only a verified pass is ever summarised: all of it from the pass.
    fn of(pass: &VerifiedPass, policy: &CheckpointPolicy, now: Timestamp) -> PassSummary {
        let claims = pass.claims();
        let health = &claims.health;
        PassSummary {
            colour: claims.health.colour,
            masked_name: claims.health.masked_name.clone(),
            masked_id: claims.health.masked_id.clone(),
            issuer: claims.issuer.clone(),
            kid: pass.kid().to_hex(),
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
            valid_for: pass.valid_for(now),
            revocation_checked: pass.revocation_checked(),
            vaccination: health.vaccination,
            last_test: health.last_test,
            test_age: health.last_test.map(|test| now.since(test.taken_at)),
            checked: policy.checks(health, now),
            holder: pass.holder(),
            live_code_age: match pass.holder() {
                HolderBinding::Live(proof) => Some(now.since(proof.signed_at())),
                HolderBinding::NotBound => None,
            },
            already_scanned: pass.already_scanned(),
        }
    }

    /// How the pass is tied to the person showing it, for the person at
    /// the checkpoint: `live code from the holder's phone, signed 4 s ago`,
    /// or, for a plain pass, what to do instead.
    pub fn holder_line(&self) -> String {
        match (self.holder, self.live_code_age) {
            (HolderBinding::Live(_), Some(age)) => {
                format!("live code from the holder's phone, signed {age} ago")
            }
            _ => "NOT BOUND to a phone: compare the ID number with an identity card".to_owned(),
        }
    }

    /// `ALREADY SCANNED 12 s ago here: look at the person`, for a live
    /// code seen before: a warning, not a refusal (a turnstile re-scans).
    pub fn already_scanned_line(&self) -> Option<String> {
        self.already_scanned
            .map(|seen| format!("ALREADY SCANNED {} ago here: look at the person", seen.ago))
    }

    /// `3 doses, last 2022-01-15`.
    pub fn vaccination_line(&self) -> String {
        let doses = match self.vaccination.doses {
            1 => "1 dose".to_owned(),
            n => format!("{n} doses"),
        };
        match self.vaccination.last_dose {
            Some(date) => format!("{doses}, last {date}"),
            None => doses,
        }
    }

    /// `negative, 20 h ago`, or `none` with no test on the pass.
    pub fn test_line(&self) -> String {
        match (self.last_test, self.test_age) {
            (Some(test), Some(age)) => format!("{}, {age} ago", test.result.name()),
            _ => "none".to_owned(),
        }
    }

    /// `green, test ≤ 2 d: 20 h ago, negative`.
    pub fn checked_line(&self) -> String {
        let checks: Vec<String> = self.checked.iter().map(PolicyCheck::to_string).collect();
        checks.join(", ")
    }
}

/// Why a pass was not accepted, in one sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Stable and machine-readable: the core's `VerifyError::code`, or one
    /// of this binary's own (docs/verifier.md).
    pub code: &'static str,
    /// The core's phase names, plus `input` (nothing to decide on could be
    /// read) and `setup` (this verifier cannot decide anything yet).
    pub phase: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub pass: Option<PassSummary>,
    pub reason: Option<Reason>,
}

impl Verdict {
    /// The verdict on `text`, verified under `policy` at `now`.
    pub fn from_result(
        result: Result<VerifiedPass, VerifyError>,
        text: &str,
        policy: &CheckpointPolicy,
        now: Timestamp,
    ) -> Verdict {
        match result {
            Ok(pass) => Verdict {
                outcome: Outcome::Valid,
                pass: Some(PassSummary::of(&pass, policy, now)),
                reason: None,
            },
            Err(e) => {
                if e.phase() == Phase::Decode {
                    if let Some(hint) = keyboard::layout_hint(text) {
                        return Verdict::undecided("keyboard_layout", "input", hint);
                    }
                }
                let outcome = if e.is_undecided() {
                    Outcome::Undecided
                } else {
                    Outcome::NotValid
                };
                Verdict {
                    outcome,
                    pass: None,
                    reason: Some(Reason {
                        code: e.code(),
                        phase: e.phase().name(),
                        text: e.to_string(),
                    }),
                }
            }
        }
    }

    pub fn undecided(code: &'static str, phase: &'static str, text: String) -> Verdict {
        Verdict {
            outcome: Outcome::Undecided,
            pass: None,
            reason: Some(Reason { code, phase, text }),
        }
    }

    /// Nothing can be decided here, whatever the pass (no trust list, a
    /// clock set back…): the `setup` phase.
    pub fn setup(code: &'static str, text: String) -> Verdict {
        Verdict::undecided(code, "setup", text)
    }
}

/// Where a pass came from, as its JSON names it: `name` is `"argument"`,
/// `"stdin"` or an image's path on the command line, `"typed"` or
/// `"camera"` on a phone; `line` only for lines read, `symbol` only for
/// images and camera frames (`null` when no code could be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    pub name: &'a str,
    pub line: Option<u64>,
    pub symbol: Option<Option<usize>>,
}

/// The `--json` object of one verdict. Field names are stable; fields that
/// do not apply are `null`, except `line` and `symbol`, present only for
/// `listen` and `scan`.
#[derive(Debug, Serialize)]
pub struct JsonVerdict<'a> {
    pub source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Option<usize>>,
    pub verdict: &'static str,
    pub valid: bool,
    pub code: &'a str,
    pub phase: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub colour: Option<&'static str>,
    pub masked_name: Option<&'a str>,
    pub masked_id: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub kid: Option<&'a str>,
    pub issued_at: Option<u64>,
    pub expires_at: Option<u64>,
    pub valid_for_seconds: Option<u64>,
    pub revocation_checked: Option<bool>,
    pub vaccination: Option<VaccinationJson>,
    pub test: Option<TestJson>,
    /// What the policy checked, for a valid pass (else empty).
    pub checked: Vec<CheckJson>,
    /// The same in words (English): `green, test ≤ 2 d: 20 h ago, negative`.
    pub checked_text: Option<String>,
    /// A valid pass: shown as a live code from its bound phone (true), or
    /// as a plain pass (false: compare the masked id with an identity card).
    pub holder_bound: Option<bool>,
    /// A live code: when its phone signed it (Unix seconds, the phone's clock).
    pub live_code_signed_at: Option<u64>,
    /// A live code: how long ago that was by this checkpoint's clock.
    pub live_code_age_seconds: Option<u64>,
    /// A live code this checkpoint accepted before, this long ago: a
    /// warning to look at the person.
    pub already_scanned_seconds_ago: Option<u64>,
    pub policy: &'a str,
}

#[derive(Debug, Serialize)]
pub struct VaccinationJson {
    pub doses: u8,
    /// `YYYY-MM-DD`.
    pub last_dose: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TestJson {
    /// `negative` or `positive`.
    pub result: &'static str,
    pub taken_at: u64,
    pub age_seconds: u64,
}

/// One rule checked, tagged by `rule`: `colour`, `test` or `doses`, with
/// that rule's fields.
#[derive(Debug, Serialize)]
#[serde(tag = "rule", rename_all = "lowercase")]
pub enum CheckJson {
    Colour {
        colour: &'static str,
    },
    Test {
        max_age_seconds: u64,
        age_seconds: u64,
        result: &'static str,
    },
    Doses {
        min_doses: u8,
        doses: u8,
    },
    /// A rule a newer core checks that this form does not name yet.
    Other,
}

impl CheckJson {
    fn of(check: &PolicyCheck) -> CheckJson {
        match *check {
            PolicyCheck::Colour(colour) => CheckJson::Colour {
                colour: colour.name(),
            },
            PolicyCheck::Test { max, age, result } => CheckJson::Test {
                max_age_seconds: max.0,
                age_seconds: age.0,
                result: result.name(),
            },
            PolicyCheck::Doses { min, doses } => CheckJson::Doses {
                min_doses: min,
                doses,
            },
            _ => CheckJson::Other,
        }
    }
}

impl Verdict {
    /// The JSON object (docs/verifier.md, "`--json`"), as text.
    pub fn to_json(&self, source: Source<'_>, policy: &str) -> String {
        serde_json::to_string(&self.json(source, policy)).expect("a verdict serialises")
    }

    /// The JSON object, to serialise inside another.
    pub fn json<'a>(&'a self, source: Source<'a>, policy: &'a str) -> JsonVerdict<'a> {
        let pass = self.pass.as_ref();
        JsonVerdict {
            source: source.name,
            line: source.line,
            symbol: source.symbol,
            verdict: self.outcome.name(),
            valid: self.outcome == Outcome::Valid,
            code: self.reason.as_ref().map_or("valid", |r| r.code),
            phase: self.reason.as_ref().map(|r| r.phase),
            reason: self.reason.as_ref().map(|r| r.text.as_str()),
            colour: pass.map(|p| p.colour.name()),
            masked_name: pass.map(|p| p.masked_name.as_str()),
            masked_id: pass.map(|p| p.masked_id.as_str()),
            issuer: pass.map(|p| p.issuer.as_str()),
            kid: pass.map(|p| p.kid.as_str()),
            issued_at: pass.map(|p| p.issued_at.0),
            expires_at: pass.map(|p| p.expires_at.0),
            valid_for_seconds: pass.map(|p| p.valid_for.0),
            revocation_checked: pass.map(|p| p.revocation_checked),
            vaccination: pass.map(|p| VaccinationJson {
                doses: p.vaccination.doses,
                last_dose: p.vaccination.last_dose.map(|d| d.to_string()),
            }),
            test: pass.and_then(|p| {
                Some(TestJson {
                    result: p.last_test?.result.name(),
                    taken_at: p.last_test?.taken_at.0,
                    age_seconds: p.test_age?.0,
                })
            }),
            checked: pass
                .map(|p| p.checked.iter().map(CheckJson::of).collect())
                .unwrap_or_default(),
            checked_text: pass.map(PassSummary::checked_line),
            holder_bound: pass.map(|p| p.holder.is_holder_bound()),
            live_code_signed_at: pass.and_then(|p| match p.holder {
                HolderBinding::Live(proof) => Some(proof.signed_at().0),
                HolderBinding::NotBound => None,
            }),
            live_code_age_seconds: pass.and_then(|p| Some(p.live_code_age?.0)),
            already_scanned_seconds_ago: pass.and_then(|p| Some(p.already_scanned?.ago.0)),
            policy,
        }
    }
}
