//! `serve`: the admin ingestion API.

use super::{Global, open_store};
use anyhow::{Context as _, Result};
use clap::Args;
use sealpass_issuer::shared::clock::system_clock;
use sealpass_issuer::write::admin_api::{AdminState, admin_router};
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed)
    #[arg(
        long,
        env = "SEALPASS_ADMIN_LISTEN",
        default_value = "127.0.0.1:8081",
        value_name = "ADDR"
    )]
    listen: SocketAddr,
}

pub async fn run(args: ServeArgs, global: &Global) -> Result<ExitCode> {
    let store = open_store(global).await?;
    let app = admin_router(AdminState {
        store: store.clone(),
        clock: system_clock(),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    println!("admin API listening on http://{address}");
    tracing::info!(%address, backend = store.kind().name(), "admin API listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server failed")?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM: stop accepting, finish requests in flight.
pub async fn shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
