//! `demo`: the whole system from one command, for development and trying
//! it out (sealpass_issuer::demo). Never for real passes.

use super::public::LimitArgs;
use super::{Global, now};
use anyhow::{Context as _, Result, bail};
use clap::Args;
use sealpass_issuer::demo::idp::{DemoIdentityProvider, pick_citizens};
use sealpass_issuer::demo::{DemoDir, POPULATION_SEED, prepare};
use sealpass_issuer::read::overload::{ClientAddr, Limits};
use sealpass_issuer::read::public::binding::DeviceBindingSettings;
use sealpass_issuer::read::public::page::VerifierApp;
use sealpass_issuer::read::public::{PublicSettings, PublicState, app, operator_router};
use sealpass_issuer::shared::clock::system_clock;
use sealpass_issuer::write::admin_api::{AdminState, admin_router};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The global --store default: the demo refuses any other store.
const DEFAULT_STORE: &str = "sealpass-issuer.db";

/// Where `cargo run` finds the web verifier's build in a source checkout.
const VERIFIER_DIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../verifier/web/dist");

#[derive(Args)]
pub struct DemoArgs {
    /// The demo's directory: store, development keys, admin token (made if
    /// missing; reused if it exists)
    #[arg(long, default_value = "sealpass-demo", value_name = "DIR")]
    data_dir: PathBuf,
    /// The public API and citizen page
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// The admin API
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    admin_listen: SocketAddr,
    /// Synthetic citizens to enrol the first time
    #[arg(long, default_value_t = 3000)]
    citizens: u64,
    /// The web verifier's built files [default: verifier/web/dist of this
    /// source tree, which `cargo xtask demo` builds before it starts the
    /// demo, as `cargo xtask web` does]
    #[arg(long, value_name = "DIR")]
    verifier_app: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: DemoArgs, global: &Global) -> Result<ExitCode> {
    if global.store != DEFAULT_STORE {
        bail!(
            "the demo keeps its own store in {}; --store / SEALPASS_STORE cannot point it elsewhere",
            args.data_dir.display()
        );
    }
    let dir = DemoDir::create(&args.data_dir)?;
    let started = std::time::Instant::now();
    let prepared = prepare(&dir, args.citizens, now()).await?;
    let round = prepared.signer.round(now(), &|_| {}).await?;
    tracing::info!(signed = round.stored, "demo: first signing round");

    let citizens = pick_citizens(POPULATION_SEED, prepared.citizens);
    let demo = DemoIdentityProvider::enable(
        &prepared.store_url,
        &dir,
        prepared.idp_key.clone(),
        citizens.clone(),
    )?;
    let verifier_dir = args
        .verifier_app
        .clone()
        .unwrap_or_else(|| PathBuf::from(VERIFIER_DIST));
    let (verifier_app, verifier_note) =
        match VerifierApp::load(&verifier_dir, Some(prepared.ceremony.roots_cbor.clone())) {
            Ok(app) => (app, None),
            Err(e) => (VerifierApp::default(), Some(e.to_string())),
        };
    // The demo's own verifiers understand live codes: binding is on.
    let settings = PublicSettings {
        limits: args.limits.apply(Limits::default())?,
        verifier_app,
        device_binding: Some(DeviceBindingSettings::new(
            prepared.store.device_binder(now()).await?,
        )),
        ..PublicSettings::default()
    };
    let state = PublicState::new(
        prepared.store.reader(),
        settings,
        system_clock(),
        Some(Arc::new(demo)),
    );

    let public = sealpass_issuer::read::overload::door::bind(args.listen).with_context(|| {
        format!(
            "cannot listen on {} (another demo running? try --listen 127.0.0.1:0)",
            args.listen
        )
    })?;
    let admin = tokio::net::TcpListener::bind(args.admin_listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (try --admin-listen 127.0.0.1:0)",
                args.admin_listen
            )
        })?;
    let public_address = public.local_addr()?;
    let admin_address = admin.local_addr()?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let door = state.open_door(public).context("cannot open the door")?;
    let public_server = axum::serve(
        door,
        app(state.clone()).into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let admin_server = axum::serve(
        admin,
        admin_router(AdminState {
            store: prepared.store.clone(),
            clock: system_clock(),
        })
        .merge(operator_router(state.clone())),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    // The signer runs on a thread and runtime of its own, as `sign daemon`
    // would in a process of its own: its rounds never delay a request.
    let signer_key = prepared.ceremony.key.clone();
    let signer_issuer = prepared.ceremony.issuer.clone();
    let signer_store = prepared.store_url.clone();
    let signer_stop = stop_rx.clone();
    let signer_thread = std::thread::Builder::new()
        .name("sealpass-demo-signer".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the signer's runtime")?;
            runtime.block_on(sign_every_second(
                signer_store,
                signer_key,
                signer_issuer,
                signer_stop,
            ))
        })
        .context("cannot start the signer")?;
    drop(prepared.signer);

    let ceremony = &prepared.ceremony;
    let base = format!("http://{public_address}");
    let roots = ceremony.roots_path.display();
    println!(
        "sealpass demo: DEVELOPMENT ONLY (development keys with a published passphrase, synthetic people)"
    );
    println!(
        "  data dir       {}  (delete it to start afresh)",
        dir.path().display()
    );
    println!(
        "  citizens       {} enrolled{}; trust list {} signed 2 of 3 development custodians ({:.1} s)",
        prepared.citizens,
        if prepared.enrolled_now > 0 {
            " now"
        } else {
            ", reused"
        },
        ceremony.trust_list_sequence,
        started.elapsed().as_secs_f64()
    );
    println!("  citizen page   {base}/");
    match &verifier_note {
        None => println!("  web verifier   {base}/verify/"),
        Some(why) => println!("  web verifier   not served: {why}"),
    }
    println!("  public API     {base}/openapi.json");
    println!(
        "  lists          {base}/trust-list.cbor  {base}/status/{}.cbor",
        ceremony.issuer
    );
    println!(
        "  roots          {roots}  (fingerprint {})",
        hex::encode(Sha256::digest(&ceremony.roots_cbor))
    );
    println!(
        "  admin API      http://{admin_address}/admin/v1/  (token in {})",
        dir.path().join("admin-token.txt").display()
    );
    println!("  metrics        http://{admin_address}/metrics  (Prometheus; admin listener only)");
    for citizen in citizens.iter().take(3) {
        println!(
            "  demo login     {} ({}, {}): pick it on the citizen page",
            citizen.login, citizen.masked_name, citizen.colour
        );
    }
    println!("  checkpoint     sealpass-verifier sync --from {base} --roots {roots}");
    println!("Ctrl-C stops.");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();

    let stop = async move {
        super::serve::shutdown().await;
        let _ = stop_tx.send(true);
    };
    let (public_result, admin_result, ()) = tokio::join!(public_server, admin_server, stop);
    public_result.context("the public API failed")?;
    admin_result.context("the admin API failed")?;
    match signer_thread.join() {
        Ok(result) => result?,
        Err(_) => bail!("the demo signer panicked"),
    }
    prepared.store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The demo's signer: a round every second until `stop`, over its own
/// connection to the demo's store.
async fn sign_every_second(
    store_url: String,
    key: sealpass_issuer::write::signer::IssuerKey,
    issuer: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let store = sealpass_issuer::store::Store::open(&store_url)
        .await
        .context("the signer cannot open the store")?;
    let signer = sealpass_issuer::write::signer::PassSigner::new(
        store.clone(),
        key,
        sealpass_issuer::write::signer::SignerConfig::new(&issuer),
    )
    .map_err(anyhow::Error::msg)?;
    loop {
        match signer.round(now(), &|_| {}).await {
            Ok(report) if report.stored > 0 || report.status_list_signed => {
                tracing::info!(
                    stored = report.stored,
                    status_list = report.status_list_signed,
                    "demo signer round"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "demo signer round failed"),
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    store.close().await;
    Ok(())
}
