//! `consentry serve`: runs the service until SIGINT or SIGTERM.

use crate::config::{self, ServeArgs};
use anyhow::Context as _;
use std::sync::Arc;

/// Runs the service.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let (cfg, format) = config::server(args)?;
    init_tracing(&format);
    let master = std::env::var("CONSENTRY_MASTER_KEY").ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot watch SIGTERM");
                        return std::future::pending().await;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            }
        };
        consentry_server::service::serve(
            cfg,
            Arc::new(consentry_ledger::clock::SystemClock),
            master,
            shutdown,
            |addr| {
                // A line scripts and tests can wait for.
                println!("consentry listening on http://{addr}");
            },
        )
        .await
        .context("consentry serve")
    })
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
