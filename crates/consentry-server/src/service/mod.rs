//! The service: every route in one router with its middlewares, and running it until a
//! signal. The only module that sees both the API ([`crate::routes`]) and the web
//! application ([`crate::web`]).

pub mod openapi;
mod rejections;

use crate::config::ServerConfig;
use crate::route_table::Routes;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use consentry_ledger::clock::Clock;
use consentry_ledger::metrics::{Metrics, ResponseLabels};
use consentry_ledger::{Ledger, LedgerSettings};
use consentry_store::Store;
use std::sync::Arc;

/// Every route: the API and public pages, the web application, and the OpenAPI
/// document describing them all.
pub fn routes() -> Routes {
    crate::routes::routes()
        .merge(crate::web::routes())
        .merge(openapi::route())
}

async fn count_responses(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    state
        .metrics
        .responses
        .get_or_create(&ResponseLabels {
            code: res.status().as_u16(),
        })
        .inc();
    res
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    routes()
        .into_router()
        .fallback(rejections::not_found)
        .layer(axum::middleware::from_fn(rejections::uniform))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Why the service could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Storage could not be opened.
    #[error(transparent)]
    Store(#[from] consentry_store::StoreError),
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] consentry_ledger::keys::KeyFileError),
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The ledger could not start (storage, or a log that is not the keys' log).
    #[error(transparent)]
    Ledger(#[from] consentry_ledger::LedgerError),
    /// The PDF seal could not be loaded or made.
    #[error(transparent)]
    PdfSeal(#[from] consentry_ledger::pdf_seal::PdfSealError),
    /// Mail could not be set up.
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    /// The outbound HTTP client could not be built.
    #[error(transparent)]
    Outbound(#[from] consentry_ledger::outbound::OutboundError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the service until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish, drains the sequencer, publishes a last checkpoint and closes storage.
/// `ready` receives the bound address once the socket listens.
pub async fn serve(
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    master_override: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config.database_url).await?;
    let keys = consentry_ledger::keys::load(
        &config.data_dir,
        consentry_ledger::keys::default_origin,
        master_override.as_deref(),
    )?;
    let seal = consentry_ledger::pdf_seal::load_identity(
        config.pdf_seal_files.as_ref(),
        &config.data_dir,
        keys.log.origin(),
        u64::try_from(clock.now_ms() / 1000).unwrap_or(0),
    )?;
    let metrics = Arc::new(Metrics::new());
    // Listen first: the default public URL (the listening address's) must name the port
    // actually bound, which `--listen …:0` leaves to the system.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let mut config = config;
    if config.public_url == format!("http://{}", config.listen) {
        config.public_url = format!("http://{addr}");
    }
    let config = Arc::new(config);
    let (ledger, running) = Ledger::start(
        store.clone(),
        keys,
        clock,
        metrics,
        LedgerSettings {
            max_batch: config.max_batch,
            checkpoint_interval: config.checkpoint_interval,
            anchoring: config.anchoring.clone(),
            pdf_seal: consentry_ledger::pdf_seal::PdfSealSettings {
                identity: Arc::new(seal),
                tsa: config.pdf_tsa.clone(),
                upgrade_interval: config.pdf_upgrade_interval,
            },
            witnesses: config.witnesses.clone(),
        },
    )
    .await?;
    let (mail_stop_tx, stop_rx_mail) = tokio::sync::watch::channel(false);
    let (transport, from) = crate::mail::Transport::from_config(&config)?;
    let outbound = consentry_ledger::outbound::Outbound::new(config.outbound.clone())?;
    let state = AppState::new(
        ledger,
        config.clone(),
        crate::portal::Portal::new(Some((transport.clone(), from.clone()))),
        outbound,
    );
    let mailer = tokio::spawn(crate::workers::run(
        state.clone(),
        transport,
        from,
        state.mail_wake.clone(),
        stop_rx_mail,
    ));
    tracing::info!(%addr, origin = %state.origin, backend = ?store.backend(), "consentry listening");
    ready(addr);
    // The peer's address reaches handlers (the portal's per-IP sign-in limit).
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    tracing::info!("stopped accepting; draining the log sequencer");
    // The workers (expiry, e-mails, webhooks) hold copies of the state, and with them
    // ledger handles: stop them first, so that every handle is dropped and the group
    // commit drains and ends.
    let _ = mail_stop_tx.send(true);
    if let Err(e) = mailer.await {
        tracing::error!(error = %e, "the workers' task failed");
    }
    // Only now that every acknowledged entry is committed, the last checkpoint.
    running.stop().await;
    store.close().await;
    tracing::info!("consentry stopped");
    Ok(())
}
