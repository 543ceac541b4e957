//! Checkpoint policies: what a genuine, current pass must also show to be
//! admitted at one kind of place.
//!
//! Built-in profiles ([`CheckpointPolicy::builtin`]):
//!
//! | name       | colours        | last test        | doses | live code |
//! |------------|----------------|------------------|-------|-----------|
//! | `subway`   | green          | -                | -     | -         |
//! | `office`   | green          | negative, ≤ 48 h | -     | -         |
//! | `hospital` | green          | negative, ≤ 24 h | ≥ 2   | -         |
//! | `outdoor`  | green, yellow  | -                | -     | -         |
//!
//! No built-in profile requires a live code (docs/trust.md, "Live codes"):
//! a checkpoint that updates its verifier must not turn away anyone it
//! admitted the day before, when no pass is bound yet, and people without a
//! smartphone carry a printed pass. Where a checkpoint admits a plain pass,
//! the verdict says it is not holder-bound ([`crate::HolderBinding`]) and
//! the worker compares the masked id with an identity card. A checkpoint
//! that refuses paper says so in its definition, once the city binds passes:
//! `require-live-code = yes`. A bound pass is refused outside a live code
//! under every policy.
//!
//! A policy can also be written down, one `key = value` per line or separated
//! by `;`, `#` starting a comment:
//!
//! ```text
//! name = canteen
//! colours = green, yellow
//! max-test-age = 72h      # s, m, h or d
//! min-doses = 1
//! require-live-code = yes  # yes or no (the default)
//! ```
//!
//! A pass whose issuer's status list the checkpoint does not hold is never
//! admitted ("could not check revocation"), unless the policy says so with
//! `danger-accept-unchecked-revocation = yes`: a revoked pass would then be
//! admitted. No built-in profile says it.

use crate::claims::{Colour, HealthStatus, TestResult};
use crate::error::PolicyError;
use crate::time::{Seconds, Timestamp};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub name: String,
    /// Colours admitted; never empty.
    pub colours: Vec<Colour>,
    /// If set, a negative test no older than this is required.
    pub max_test_age: Option<Seconds>,
    /// If set, at least this many vaccination doses are required.
    pub min_doses: Option<u8>,
    /// Admit a pass whose issuer's status list is not held, without a
    /// revocation check. Never in a built-in profile: a revoked pass would
    /// be admitted. Written `danger-accept-unchecked-revocation = yes`.
    pub danger_accept_unchecked_revocation: bool,
    /// Admit only live codes (`SP2:`): a plain pass, printed or copied, is
    /// refused (`policy_live_code_required`). Written `require-live-code = yes`.
    pub require_live_code: bool,
}

/// One rule a policy checked on an admitted pass, with what the pass
/// showed ([`CheckpointPolicy::checks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyCheck {
    /// The pass's colour, one the policy admits.
    Colour(Colour),
    /// A test no older than `max`: taken `age` ago, with this result.
    Test {
        max: Seconds,
        age: Seconds,
        result: TestResult,
    },
    /// At least `min` doses: the pass shows `doses`.
    Doses { min: u8, doses: u8 },
}

impl fmt::Display for PolicyCheck {
    /// `green`, `test ≤ 48 h: 20 h ago, negative`, `doses ≥ 2: 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyCheck::Colour(colour) => f.write_str(colour.name()),
            PolicyCheck::Test { max, age, result } => {
                write!(f, "test ≤ {max}: {age} ago, {}", result.name())
            }
            PolicyCheck::Doses { min, doses } => write!(f, "doses ≥ {min}: {doses}"),
        }
    }
}

/// The names of the built-in profiles, in the order they are documented.
pub const BUILTIN_PROFILES: [&str; 4] = ["subway", "office", "hospital", "outdoor"];

impl Default for CheckpointPolicy {
    /// `subway`: green only.
    fn default() -> Self {
        CheckpointPolicy::builtin("subway").expect("subway is built in")
    }
}

impl CheckpointPolicy {
    pub fn builtin(name: &str) -> Option<CheckpointPolicy> {
        let (colours, max_test_age, min_doses) = match name {
            "subway" => (vec![Colour::Green], None, None),
            "office" => (vec![Colour::Green], Some(Seconds::hours(48)), None),
            "hospital" => (vec![Colour::Green], Some(Seconds::hours(24)), Some(2)),
            "outdoor" => (vec![Colour::Green, Colour::Yellow], None, None),
            _ => return None,
        };
        Some(CheckpointPolicy {
            name: name.to_owned(),
            colours,
            max_test_age,
            min_doses,
            danger_accept_unchecked_revocation: false,
            require_live_code: false,
        })
    }

    /// Admit or refuse a health status at `now`.
    pub fn check(&self, health: &HealthStatus, now: Timestamp) -> Result<(), PolicyError> {
        if !self.colours.contains(&health.colour) {
            return Err(PolicyError::ColourNotAllowed {
                colour: health.colour,
            });
        }
        if let Some(max) = self.max_test_age {
            let test = health.last_test.ok_or(PolicyError::NoTest { max })?;
            if test.result == TestResult::Positive {
                return Err(PolicyError::TestPositive);
            }
            let age = now.since(test.taken_at);
            if age > max {
                return Err(PolicyError::TestTooOld { age, max });
            }
        }
        if let Some(need) = self.min_doses {
            if health.vaccination.doses < need {
                return Err(PolicyError::TooFewDoses {
                    have: health.vaccination.doses,
                    need,
                });
            }
        }
        Ok(())
    }

    /// What this policy checked on `health` when it admits it at `now`
    /// ([`CheckpointPolicy::check`] passed): each rule with what the pass
    /// showed, for the worker at the gate, e.g. "green, test ≤ 48 h: 20 h
    /// ago, negative". From the pass alone: no lookup.
    pub fn checks(&self, health: &HealthStatus, now: Timestamp) -> Vec<PolicyCheck> {
        let mut checks = vec![PolicyCheck::Colour(health.colour)];
        if let (Some(max), Some(test)) = (self.max_test_age, health.last_test) {
            checks.push(PolicyCheck::Test {
                max,
                age: now.since(test.taken_at),
                result: test.result,
            });
        }
        if let Some(min) = self.min_doses {
            checks.push(PolicyCheck::Doses {
                min,
                doses: health.vaccination.doses,
            });
        }
        checks
    }

    /// The policy written down in the format [`FromStr`] reads.
    pub fn to_definition(&self) -> String {
        let colours: Vec<_> = self.colours.iter().map(|c| c.name()).collect();
        let mut text = format!("name = {}\ncolours = {}\n", self.name, colours.join(", "));
        if let Some(max) = self.max_test_age {
            text.push_str(&format!("max-test-age = {}s\n", max.0));
        }
        if let Some(doses) = self.min_doses {
            text.push_str(&format!("min-doses = {doses}\n"));
        }
        if self.require_live_code {
            text.push_str(&format!("{REQUIRE_LIVE_CODE} = yes\n"));
        }
        if self.danger_accept_unchecked_revocation {
            text.push_str(&format!("{DANGER_UNCHECKED} = yes\n"));
        }
        text
    }
}

/// Why a policy definition could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyParseError {
    #[error("line {line}: expected `key = value`")]
    NotKeyValue { line: usize },
    #[error(
        "line {line}: unknown key `{key}` (known: name, colours, max-test-age, min-doses, require-live-code, danger-accept-unchecked-revocation)"
    )]
    UnknownKey { line: usize, key: String },
    #[error("line {line}: `{key}` is given twice")]
    Repeated { line: usize, key: String },
    #[error("line {line}: unknown colour `{value}` (green, yellow or red)")]
    UnknownColour { line: usize, value: String },
    #[error("line {line}: `{value}` is not a duration such as 48h, 90m, 2d or 3600s")]
    BadDuration { line: usize, value: String },
    #[error("line {line}: `{value}` is not a number of doses (0-255)")]
    BadDoses { line: usize, value: String },
    #[error("the policy admits no colour: add `colours = green`")]
    NoColours,
    #[error("line {line}: `{value}` is not yes or no")]
    BadSwitch { line: usize, value: String },
}

/// The policy key that admits passes without a revocation check.
const DANGER_UNCHECKED: &str = "danger-accept-unchecked-revocation";
/// The policy key that admits live codes only.
const REQUIRE_LIVE_CODE: &str = "require-live-code";

fn switch(line: usize, value: &str) -> Result<bool, PolicyParseError> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(PolicyParseError::BadSwitch {
            line,
            value: value.into(),
        }),
    }
}

impl FromStr for CheckpointPolicy {
    type Err = PolicyParseError;

    fn from_str(definition: &str) -> Result<Self, Self::Err> {
        let mut policy = CheckpointPolicy {
            name: "custom".into(),
            colours: Vec::new(),
            max_test_age: None,
            min_doses: None,
            danger_accept_unchecked_revocation: false,
            require_live_code: false,
        };
        let mut seen: Vec<String> = Vec::new();
        let statements = definition.lines().enumerate().flat_map(|(n, line)| {
            let line_without_comment = line.split('#').next().unwrap_or_default();
            line_without_comment
                .split(';')
                .map(move |s| (n + 1, s.trim()))
        });
        for (line, statement) in statements.filter(|(_, s)| !s.is_empty()) {
            let (key, value) = statement
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or(PolicyParseError::NotKeyValue { line })?;
            if seen.iter().any(|k| k == key) {
                return Err(PolicyParseError::Repeated {
                    line,
                    key: key.into(),
                });
            }
            seen.push(key.into());
            match key {
                "name" => policy.name = value.into(),
                "colours" | "colors" => {
                    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let colour = Colour::from_name(name).ok_or_else(|| {
                            PolicyParseError::UnknownColour {
                                line,
                                value: name.into(),
                            }
                        })?;
                        if !policy.colours.contains(&colour) {
                            policy.colours.push(colour);
                        }
                    }
                }
                "max-test-age" => {
                    policy.max_test_age = Some(parse_duration(value).ok_or_else(|| {
                        PolicyParseError::BadDuration {
                            line,
                            value: value.into(),
                        }
                    })?)
                }
                "min-doses" => {
                    policy.min_doses =
                        Some(value.parse().map_err(|_| PolicyParseError::BadDoses {
                            line,
                            value: value.into(),
                        })?)
                }
                DANGER_UNCHECKED => {
                    policy.danger_accept_unchecked_revocation = switch(line, value)?
                }
                REQUIRE_LIVE_CODE => policy.require_live_code = switch(line, value)?,
                _ => {
                    return Err(PolicyParseError::UnknownKey {
                        line,
                        key: key.into(),
                    });
                }
            }
        }
        if policy.colours.is_empty() {
            return Err(PolicyParseError::NoColours);
        }
        Ok(policy)
    }
}

/// `48h`, `90m`, `2d`, `3600s` (or a bare number of seconds).
pub fn parse_duration(text: &str) -> Option<Seconds> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale).map(Seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{TestRecord, Vaccination};

    fn health(colour: Colour, test_age_hours: Option<u64>, doses: u8) -> (HealthStatus, Timestamp) {
        let now = Timestamp(1_795_237_200);
        let status = HealthStatus {
            colour,
            masked_name: "张*明".into(),
            masked_id: "6101**********1234".into(),
            vaccination: Vaccination {
                doses,
                last_dose: None,
            },
            last_test: test_age_hours.map(|h| TestRecord {
                taken_at: now.minus(Seconds::hours(h)),
                result: TestResult::Negative,
            }),
        };
        (status, now)
    }

    #[test]
    fn an_admitted_pass_says_what_the_policy_checked() {
        let (pass, now) = health(Colour::Green, Some(20), 3);
        let said = |name: &str| {
            let policy = CheckpointPolicy::builtin(name).unwrap();
            assert_eq!(policy.check(&pass, now), Ok(()));
            let checks: Vec<String> = policy
                .checks(&pass, now)
                .iter()
                .map(|c| c.to_string())
                .collect();
            checks.join(", ")
        };
        assert_eq!(said("subway"), "green");
        assert_eq!(said("office"), "green, test ≤ 2 d: 20 h ago, negative");
        assert_eq!(
            said("hospital"),
            "green, test ≤ 1 d: 20 h ago, negative, doses ≥ 2: 3"
        );
    }

    #[test]
    fn builtin_profiles_decide_as_documented() {
        let office = CheckpointPolicy::builtin("office").unwrap();
        let (ok, now) = health(Colour::Green, Some(47), 0);
        assert_eq!(office.check(&ok, now), Ok(()));
        let (old, now) = health(Colour::Green, Some(61), 0);
        assert_eq!(
            office.check(&old, now).unwrap_err().to_string(),
            "policy: last test 2 d 13 h ago, over 2 d"
        );
        let (none, now) = health(Colour::Green, None, 3);
        assert!(matches!(
            office.check(&none, now),
            Err(PolicyError::NoTest { .. })
        ));
        let (yellow, now) = health(Colour::Yellow, None, 3);
        assert_eq!(
            CheckpointPolicy::default().check(&yellow, now),
            Err(PolicyError::ColourNotAllowed {
                colour: Colour::Yellow
            })
        );
        assert_eq!(
            CheckpointPolicy::builtin("outdoor")
                .unwrap()
                .check(&yellow, now),
            Ok(())
        );
        let (one_dose, now) = health(Colour::Green, Some(1), 1);
        assert_eq!(
            CheckpointPolicy::builtin("hospital")
                .unwrap()
                .check(&one_dose, now),
            Err(PolicyError::TooFewDoses { have: 1, need: 2 })
        );
        for name in BUILTIN_PROFILES {
            let policy = CheckpointPolicy::builtin(name).unwrap();
            assert_eq!(policy.to_definition().parse(), Ok(policy));
        }
    }

    #[test]
    fn definitions_parse_and_explain_mistakes() {
        let policy: CheckpointPolicy =
            "name = canteen; colours = green, yellow # comment\nmax-test-age = 72h\nmin-doses = 1"
                .parse()
                .unwrap();
        assert_eq!(policy.colours, vec![Colour::Green, Colour::Yellow]);
        assert_eq!(policy.max_test_age, Some(Seconds::hours(72)));
        assert_eq!(policy.min_doses, Some(1));
        assert_eq!(
            "colours = blue".parse::<CheckpointPolicy>(),
            Err(PolicyParseError::UnknownColour {
                line: 1,
                value: "blue".into()
            })
        );
        assert_eq!(
            "name = x".parse::<CheckpointPolicy>(),
            Err(PolicyParseError::NoColours)
        );
        assert!(matches!(
            "colours = green\nmax-test-age = soon".parse::<CheckpointPolicy>(),
            Err(PolicyParseError::BadDuration { line: 2, .. })
        ));
        assert!(matches!(
            "colour = green".parse::<CheckpointPolicy>(),
            Err(PolicyParseError::UnknownKey { .. })
        ));
    }

    #[test]
    fn accepting_unchecked_revocation_is_spelled_out_and_never_built_in() {
        for name in BUILTIN_PROFILES {
            assert!(
                !CheckpointPolicy::builtin(name)
                    .unwrap()
                    .danger_accept_unchecked_revocation
            );
        }
        let policy: CheckpointPolicy = "colours = green\ndanger-accept-unchecked-revocation = yes"
            .parse()
            .unwrap();
        assert!(policy.danger_accept_unchecked_revocation);
        assert_eq!(policy.to_definition().parse(), Ok(policy));
        assert_eq!(
            "colours = green; danger-accept-unchecked-revocation = maybe"
                .parse::<CheckpointPolicy>(),
            Err(PolicyParseError::BadSwitch {
                line: 1,
                value: "maybe".into()
            })
        );
    }

    #[test]
    fn requiring_a_live_code_is_written_down_and_read_back() {
        for name in BUILTIN_PROFILES {
            assert!(!CheckpointPolicy::builtin(name).unwrap().require_live_code);
        }
        let policy: CheckpointPolicy = "name = tower; colours = green\nrequire-live-code = yes"
            .parse()
            .unwrap();
        assert!(policy.require_live_code);
        assert!(policy.to_definition().contains("require-live-code = yes"));
        assert_eq!(policy.to_definition().parse(), Ok(policy));
        let no: CheckpointPolicy = "colours = green; require-live-code = no".parse().unwrap();
        assert!(!no.require_live_code);
        assert!(matches!(
            "colours = green; require-live-code = 1".parse::<CheckpointPolicy>(),
            Err(PolicyParseError::BadSwitch { line: 1, .. })
        ));
    }
}
