//! `public`: the public API (passes, lists, the citizen page, the web
//! verifier). Holds no key; run as many as the load needs, behind a load
//! balancer, over the same store.

use super::{Global, now, open_store};
use anyhow::{Context as _, Result, bail};
use clap::Args;
use sealpass_issuer::read::overload::{ClientAddr, Limits};
use sealpass_issuer::read::public::auth::IdentityProviders;
use sealpass_issuer::read::public::binding::DeviceBindingSettings;
use sealpass_issuer::read::public::config::{FileConfig, duration, fine_duration};
use sealpass_issuer::read::public::page::VerifierApp;
use sealpass_issuer::read::public::{PublicSettings, PublicState, app, operator_router};
use sealpass_issuer::shared::clock::system_clock;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Flags and environment variables; each overrides the config file, which
/// overrides the defaults (docs/public-api.md, "Configuration").
#[derive(Args)]
pub struct PublicArgs {
    /// A TOML configuration file: limits, identity providers, login URL
    #[arg(long, env = "SEALPASS_PUBLIC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080] (port 0: any free
    /// port; the address is printed)
    #[arg(long, env = "SEALPASS_PUBLIC_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Serve /metrics (Prometheus) on this address, apart from the public
    /// listener; keep it private (loopback, or a network only Prometheus
    /// reaches) [default: not served]
    #[arg(long, env = "SEALPASS_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    #[command(flatten)]
    limits: LimitArgs,
    /// The offline web verifier's built files (verifier/web/dist), served
    /// at /verify/
    #[arg(long, env = "SEALPASS_VERIFIER_APP", value_name = "DIR")]
    verifier_app: Option<PathBuf>,
    /// The key ceremony's root-set file, served as /verify/roots.cbor
    #[arg(long, env = "SEALPASS_ROOTS", value_name = "FILE")]
    roots: Option<PathBuf>,
    /// Bind citizens' phones to their passes (live codes, issue 18). Turn
    /// it on only once every verifier in the city understands live codes
    /// (docs/issuer.md, "Rollout") [default: off, or the config file's
    /// device_binding.enabled]
    #[arg(long, env = "SEALPASS_DEVICE_BINDING", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    device_binding: Option<bool>,
}

/// The overload limits (defaults measured: docs/performance.md).
#[derive(Args, Default)]
pub struct LimitArgs {
    /// Connections in service at once; the door refuses more at once with
    /// 503 (a connection idle for 100 ms gives its place up); 0 no cap
    /// [default: 0]
    #[arg(long, env = "SEALPASS_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Close a kept-alive connection idle this long after an answer,
    /// giving its place back; 0 never [default: 60s]
    #[arg(long, env = "SEALPASS_IDLE_TIMEOUT", value_name = "DURATION")]
    pub idle_timeout: Option<String>,
    /// Close a new connection that sends nothing this long [default: 10s]
    #[arg(long, env = "SEALPASS_FIRST_REQUEST_TIMEOUT", value_name = "DURATION")]
    pub first_request_timeout: Option<String>,
    /// Close a connection whose request head has not arrived whole this
    /// long after its first bytes; 0 never [default: 10s]
    #[arg(long, env = "SEALPASS_HEADER_READ_TIMEOUT", value_name = "DURATION")]
    pub header_read_timeout: Option<String>,
    /// Connections open at once from one client address (IPv6: its /64);
    /// more are closed at once. Off behind a proxy (client_ip_header); 0
    /// no cap (load tests from one address) [default: 512]
    #[arg(long, env = "SEALPASS_MAX_CONNECTIONS_PER_CLIENT", value_name = "N")]
    pub max_connections_per_client: Option<usize>,
    /// Requests worked on at once; more are answered 503 at once [default: 256]
    #[arg(long, env = "SEALPASS_MAX_IN_FLIGHT", value_name = "N")]
    pub max_in_flight: Option<usize>,
    /// Queue-delay target: when every request of a whole 100 ms waited
    /// longer than this to be read, a share of the late ones is answered
    /// 503 at once; 0 never [default: 5ms]
    #[arg(long, env = "SEALPASS_MAX_QUEUE_DELAY", value_name = "DURATION")]
    pub max_queue_delay: Option<String>,
    /// Sustained requests per second from one client address [default: 10]
    #[arg(long, env = "SEALPASS_CLIENT_RATE", value_name = "PER_SECOND")]
    pub client_rate: Option<f64>,
    /// Requests one client address may send in a burst [default: 40]
    #[arg(long, env = "SEALPASS_CLIENT_BURST", value_name = "N")]
    pub client_burst: Option<u32>,
    /// Longest time a request is worked on before 503 [default: 10s]
    #[arg(long, env = "SEALPASS_REQUEST_TIMEOUT", value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Retry-After of a refused request, before jitter [default: 2s]
    #[arg(long, env = "SEALPASS_RETRY_AFTER", value_name = "DURATION")]
    pub retry_after: Option<String>,
}

impl LimitArgs {
    /// The flags over `base`.
    pub fn apply(&self, mut base: Limits) -> Result<Limits> {
        if let Some(n) = self.max_connections {
            base.max_connections = n;
        }
        if let Some(t) = &self.idle_timeout {
            base.idle_timeout = if t.trim() == "0" {
                Duration::ZERO
            } else {
                fine_duration(t, "--idle-timeout").map_err(anyhow::Error::msg)?
            };
        }
        if let Some(t) = &self.first_request_timeout {
            base.first_request_timeout =
                fine_duration(t, "--first-request-timeout").map_err(anyhow::Error::msg)?;
        }
        if let Some(t) = &self.header_read_timeout {
            base.header_read_timeout = if t.trim() == "0" {
                Duration::ZERO
            } else {
                fine_duration(t, "--header-read-timeout").map_err(anyhow::Error::msg)?
            };
        }
        if let Some(n) = self.max_connections_per_client {
            base.max_connections_per_client = n;
        }
        if let Some(n) = self.max_in_flight {
            base.max_in_flight = n;
        }
        if let Some(t) = &self.max_queue_delay {
            base.max_queue_delay = if t.trim() == "0" {
                std::time::Duration::ZERO
            } else {
                fine_duration(t, "--max-queue-delay").map_err(anyhow::Error::msg)?
            };
        }
        if let Some(rate) = self.client_rate {
            if rate.is_nan() || rate <= 0.0 {
                bail!("--client-rate must be above 0");
            }
            base.per_client_rate = rate;
        }
        if let Some(burst) = self.client_burst {
            base.per_client_burst = burst;
        }
        if let Some(t) = &self.request_timeout {
            base.request_timeout = Duration::from_secs(
                duration(t, "--request-timeout")
                    .map_err(anyhow::Error::msg)?
                    .0,
            );
        }
        if let Some(t) = &self.retry_after {
            base.retry_after = duration(t, "--retry-after").map_err(anyhow::Error::msg)?.0;
        }
        Ok(base)
    }
}

pub async fn run(args: PublicArgs, global: &Global) -> Result<ExitCode> {
    let file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let limits = args
        .limits
        .apply(file.limits().map_err(anyhow::Error::msg)?)?;
    let providers = file.providers()?;
    if providers.is_empty() {
        tracing::warn!(
            "no identity provider is configured: citizens cannot download passes (lists and pages are served)"
        );
    }
    let listen: SocketAddr = match (args.listen, &file.listen) {
        (Some(listen), _) => listen,
        (None, Some(text)) => text
            .parse()
            .with_context(|| format!("listen = {text:?} in the config file is not an address"))?,
        (None, None) => "127.0.0.1:8080".parse().expect("a valid address"),
    };
    let roots = match args
        .roots
        .clone()
        .or_else(|| file.roots.as_ref().map(|p| file.resolve(p)))
    {
        Some(path) => {
            Some(std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let verifier_app = match args
        .verifier_app
        .clone()
        .or_else(|| file.verifier_app.as_ref().map(|p| file.resolve(p)))
    {
        Some(dir) => VerifierApp::load(&dir, roots)?,
        None => VerifierApp::default(),
    };
    let mut settings = PublicSettings {
        providers: IdentityProviders::new(providers),
        limits,
        login_url: file.login_url.clone(),
        verifier_app,
        ..PublicSettings::default()
    };
    if let Some(n) = file.passes.cache_entries {
        settings.pass_cache_entries = n;
    }
    if let Some(t) = &file.passes.recheck_unchanged {
        settings.pass_recheck_unchanged = Duration::from_secs(
            duration(t, "passes.recheck_unchanged")
                .map_err(anyhow::Error::msg)?
                .0,
        );
    }
    if let Some(n) = file.passes.token_cache_entries {
        settings.token_cache_entries = n;
    }
    if let Some(t) = &file.passes.recheck {
        settings.pass_recheck =
            Duration::from_secs(duration(t, "passes.recheck").map_err(anyhow::Error::msg)?.0);
    }
    let metrics_listen: Option<SocketAddr> = match (args.metrics_listen, &file.metrics_listen) {
        (Some(listen), _) => Some(listen),
        (None, Some(text)) => Some(text.parse().with_context(|| {
            format!("metrics_listen = {text:?} in the config file is not an address")
        })?),
        (None, None) => None,
    };
    let store = open_store(global).await?;
    if args.device_binding.or(file.device_binding.enabled) == Some(true) {
        let mut binding = DeviceBindingSettings::new(store.device_binder(now()).await?);
        if let Some(n) = file.device_binding.max_new_devices_per_day {
            if n == 0 {
                bail!("device_binding.max_new_devices_per_day must be at least 1");
            }
            binding.max_new_devices_per_day = n;
        }
        if let Some(t) = &file.device_binding.challenge_lifetime {
            binding.challenge_lifetime =
                duration(t, "device_binding.challenge_lifetime").map_err(anyhow::Error::msg)?;
        }
        tracing::info!(
            max_new_devices_per_day = binding.max_new_devices_per_day,
            "device binding is on"
        );
        settings.device_binding = Some(binding);
    }
    let state = PublicState::new(store.reader(), settings, system_clock(), None);
    let operators = match metrics_listen {
        Some(listen) => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen} for /metrics"))?;
            let address = listener.local_addr()?;
            println!("metrics on http://{address}/metrics");
            tracing::info!(%address, "metrics listening");
            Some(listener)
        }
        None => {
            tracing::info!("/metrics is not served: set --metrics-listen to serve it");
            None
        }
    };
    let listener = sealpass_issuer::read::overload::door::bind(listen)
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    println!("public API listening on http://{address}");
    tracing::info!(%address, backend = store.kind().name(), "public API listening");
    if let Some(listener) = operators {
        let router = operator_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
    serve(listener, state).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Longest a shutdown waits for requests in flight.
pub const DRAIN: Duration = Duration::from_secs(20);

/// Serve until Ctrl-C or SIGTERM, then stop accepting and let requests in
/// flight finish (at most [`DRAIN`]).
pub async fn serve(listener: tokio::net::TcpListener, state: PublicState) -> Result<()> {
    let door = state.open_door(listener).context("cannot open the door")?;
    let service = app(state).into_make_service_with_connect_info::<ClientAddr>();
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(door, service).with_graceful_shutdown(async move {
        super::serve::shutdown().await;
        let _ = stopping_tx.send(true);
    });
    let mut stopping = stopping_rx;
    let drain_deadline = async move {
        let _ = stopping.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::select! {
        result = server => result.context("the server failed")?,
        () = drain_deadline => tracing::warn!("requests still in flight after {DRAIN:?}; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}
