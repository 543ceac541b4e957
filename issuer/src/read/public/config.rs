//! The public API's configuration file (TOML). Flags and environment
//! variables override it; it overrides the defaults. Unknown keys are
//! refused, so a typo (or a wish like `demo = true`) stops the service
//! instead of being ignored. docs/public-api.md has a complete example.
//!
//! ```toml
//! listen = "0.0.0.0:8080"
//! login_url = "https://sso.city.example/authorize?client_id=sealpass&redirect_uri=https://pass.city.example/"
//!
//! [limits]
//! max_in_flight = 256
//! per_client_rate = 10.0
//!
//! [[identity_provider]]
//! issuer = "https://sso.city.example"
//! audience = "sealpass"
//! jwks_file = "sso-jwks.json"   # relative to this file
//! subject_template = "XA-{sub}"
//! ```

use super::auth::{IdentityProvider, parse_jwks};
use crate::read::overload::Limits;
use sealpass_core::{Seconds, parse_duration};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid configuration: {reason}")]
    Invalid { path: String, reason: String },
    #[error("identity provider {issuer:?}: {reason}")]
    Provider { issuer: String, reason: String },
}

/// The file, as written. Every field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    /// Where `/metrics` is served (the operators' listener); none: not served.
    pub metrics_listen: Option<String>,
    pub login_url: Option<String>,
    pub verifier_app: Option<PathBuf>,
    pub roots: Option<PathBuf>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub passes: FilePasses,
    #[serde(default)]
    pub identity_provider: Vec<FileProvider>,
    #[serde(default)]
    pub device_binding: FileDeviceBinding,
    /// The directory relative paths are taken from (the file's).
    #[serde(skip)]
    pub base: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_connections: Option<usize>,
    pub idle_timeout: Option<String>,
    pub first_request_timeout: Option<String>,
    pub header_read_timeout: Option<String>,
    pub max_connections_per_client: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub max_queue_delay: Option<String>,
    pub retry_after: Option<String>,
    pub per_client_rate: Option<f64>,
    pub per_client_burst: Option<u32>,
    pub tracked_clients: Option<usize>,
    pub request_timeout: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub client_ip_header: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePasses {
    pub cache_entries: Option<usize>,
    pub recheck_unchanged: Option<String>,
    /// Verified identity tokens remembered until they expire (0: none).
    pub token_cache_entries: Option<usize>,
    pub recheck: Option<String>,
}

/// `[device_binding]`: off unless `enabled = true` (docs/issuer.md,
/// "Rollout": every verifier must understand live codes first).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDeviceBinding {
    pub enabled: Option<bool>,
    pub max_new_devices_per_day: Option<u32>,
    pub challenge_lifetime: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProvider {
    pub issuer: String,
    pub audience: String,
    pub jwks_file: PathBuf,
    #[serde(default = "default_template")]
    pub subject_template: String,
    pub clock_skew: Option<String>,
}

fn default_template() -> String {
    "{sub}".into()
}

/// Default tolerance for identity tokens' times.
pub const DEFAULT_TOKEN_SKEW: Seconds = Seconds(60);

/// A duration that may be below a second: `500us`, `20ms`, or as [`duration`].
pub fn fine_duration(text: &str, what: &str) -> Result<Duration, String> {
    let text = text.trim();
    let below_second = [
        ("us", Duration::from_micros as fn(u64) -> Duration),
        ("µs", Duration::from_micros),
        ("ms", Duration::from_millis),
    ]
    .into_iter()
    .find_map(|(suffix, unit)| text.strip_suffix(suffix).map(|n| (n, unit)));
    match below_second {
        Some((n, unit)) => n
            .trim()
            .parse::<u64>()
            .map(unit)
            .map_err(|_| format!("{what}: {text:?} is not a duration (e.g. 500us, 20ms, 2s)")),
        None => duration(text, what).map(|s| Duration::from_secs(s.0)),
    }
}

pub fn duration(text: &str, what: &str) -> Result<Seconds, String> {
    parse_duration(text)
        .ok_or_else(|| format!("{what}: {text:?} is not a duration (e.g. 2s, 90s, 5m)"))
}

impl FileConfig {
    /// Read and check a configuration file.
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = FileConfig::parse(&text).map_err(|reason| ConfigError::Invalid {
            path: path.display().to_string(),
            reason,
        })?;
        config.base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// `path` relative to the file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }

    /// The limits: the file's values over the defaults.
    pub fn limits(&self) -> Result<Limits, String> {
        let d = Limits::default();
        let l = &self.limits;
        Ok(Limits {
            max_connections: l.max_connections.unwrap_or(d.max_connections),
            idle_timeout: match &l.idle_timeout {
                Some(t) => fine_duration(t, "limits.idle_timeout")?,
                None => d.idle_timeout,
            },
            first_request_timeout: match &l.first_request_timeout {
                Some(t) => fine_duration(t, "limits.first_request_timeout")?,
                None => d.first_request_timeout,
            },
            header_read_timeout: match &l.header_read_timeout {
                Some(t) => fine_duration(t, "limits.header_read_timeout")?,
                None => d.header_read_timeout,
            },
            max_connections_per_client: l
                .max_connections_per_client
                .unwrap_or(d.max_connections_per_client),
            max_in_flight: l.max_in_flight.unwrap_or(d.max_in_flight),
            max_queue_delay: match &l.max_queue_delay {
                Some(t) => fine_duration(t, "limits.max_queue_delay")?,
                None => d.max_queue_delay,
            },
            retry_after: match &l.retry_after {
                Some(t) => duration(t, "limits.retry_after")?.0,
                None => d.retry_after,
            },
            per_client_rate: l.per_client_rate.unwrap_or(d.per_client_rate),
            per_client_burst: l.per_client_burst.unwrap_or(d.per_client_burst),
            tracked_clients: l.tracked_clients.unwrap_or(d.tracked_clients),
            request_timeout: match &l.request_timeout {
                Some(t) => Duration::from_secs(duration(t, "limits.request_timeout")?.0),
                None => d.request_timeout,
            },
            max_body_bytes: l.max_body_bytes.unwrap_or(d.max_body_bytes),
            client_ip_header: l.client_ip_header.clone().or(d.client_ip_header),
        })
    }

    /// The identity providers, their key sets read.
    pub fn providers(&self) -> Result<Vec<IdentityProvider>, ConfigError> {
        let providers = self
            .identity_provider
            .iter()
            .map(|p| {
                let fail = |reason: String| ConfigError::Provider {
                    issuer: p.issuer.clone(),
                    reason,
                };
                if p.subject_template.matches("{sub}").count() != 1 {
                    return Err(fail("subject_template must contain {sub} once".into()));
                }
                let path = self.resolve(&p.jwks_file);
                let jwks = std::fs::read(&path)
                    .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
                let keys =
                    parse_jwks(&jwks).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                let skew = match &p.clock_skew {
                    Some(t) => duration(t, "clock_skew").map_err(fail)?,
                    None => DEFAULT_TOKEN_SKEW,
                };
                Ok(IdentityProvider {
                    issuer: p.issuer.clone(),
                    audience: p.audience.clone(),
                    keys,
                    subject_template: p.subject_template.clone(),
                    skew,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in providers.iter().enumerate() {
            for b in &providers[i + 1..] {
                if let Some(example) = overlap(&a.subject_template, &b.subject_template) {
                    return Err(ConfigError::Provider {
                        issuer: b.issuer.clone(),
                        reason: format!(
                            "its subject_template {:?} can make the same subject as {:?} of identity provider {:?} ({example:?}): a citizen of one could log in as a citizen of the other. Give each provider a prefix or suffix that no other provider's begins or ends with (XA-{{sub}}, MP-{{sub}})",
                            b.subject_template, a.subject_template, a.issuer
                        ),
                    });
                }
            }
        }
        Ok(providers)
    }
}

/// A subject both templates (each `prefix{sub}suffix`) can make, if any.
/// For any non-empty `sub`s they meet exactly when one prefix begins the
/// other and one suffix ends the other: then the longer prefix, a
/// character, and the longer suffix is made by both.
pub fn overlap(a: &str, b: &str) -> Option<String> {
    let (pa, sa) = a.split_once("{sub}")?;
    let (pb, sb) = b.split_once("{sub}")?;
    let prefixes = pa.starts_with(pb) || pb.starts_with(pa);
    let suffixes = sa.ends_with(sb) || sb.ends_with(sa);
    (prefixes && suffixes).then(|| {
        let prefix = if pa.len() >= pb.len() { pa } else { pb };
        let suffix = if sa.len() >= sb.len() { sa } else { sb };
        format!("{prefix}1{suffix}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        for text in [
            "demo = true",
            "[limits]\nmax_inflight = 3",
            "[[identity_provider]]\nissuer = \"a\"\naudience = \"b\"\njwks_file = \"c\"\ndemo = true",
        ] {
            let e = FileConfig::parse(text).unwrap_err();
            assert!(e.contains("unknown field"), "{text}: {e}");
        }
    }

    #[test]
    fn file_limits_override_defaults() {
        let config = FileConfig::parse(
            "[limits]\nmax_in_flight = 8\nrequest_timeout = \"3s\"\nmax_queue_delay = \"50ms\"\n\
             max_connections = 32\nidle_timeout = \"1500ms\"",
        )
        .unwrap();
        let limits = config.limits().unwrap();
        assert_eq!(limits.max_in_flight, 8);
        assert_eq!(limits.max_connections, 32);
        assert_eq!(limits.idle_timeout, Duration::from_millis(1500));
        assert_eq!(limits.request_timeout, Duration::from_secs(3));
        assert_eq!(limits.max_queue_delay, Duration::from_millis(50));
        assert_eq!(limits.per_client_burst, Limits::default().per_client_burst);
    }

    #[test]
    fn fine_durations_take_microseconds_milliseconds_and_seconds() {
        assert_eq!(fine_duration("500us", "x"), Ok(Duration::from_micros(500)));
        assert_eq!(fine_duration("500µs", "x"), Ok(Duration::from_micros(500)));
        assert_eq!(fine_duration("2s", "x"), Ok(Duration::from_secs(2)));
        assert!(fine_duration("halfms", "x").is_err());
    }
}
