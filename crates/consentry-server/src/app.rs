//! The application state, the router, and running the service until a signal.

use crate::auth::KEY_CACHE_MS;
use crate::config::ServerConfig;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use consentry_core::ids::TenantId;
use consentry_ledger::clock::Clock;
use consentry_ledger::keys::Keys;
use consentry_ledger::metrics::{Metrics, ResponseLabels};
use consentry_ledger::{Ledger, LedgerSettings};
use consentry_store::{ApiKeyRow, Store};
use consentry_vault::TenantKeys;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Verified API keys by hash, with when they were verified.
type KeyCache = HashMap<[u8; 32], (i64, ApiKeyRow)>;

/// Tenant keys by tenant, and the master key ring generation they were derived from.
type TenantKeyCache = (u64, HashMap<TenantId, Arc<TenantKeys>>);

/// What every handler can reach: one shared [`Shared`] behind an `Arc`, so that the
/// clone axum makes for each extractor is one reference count, whatever the state holds.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state's contents.
pub struct Shared {
    /// Storage.
    pub store: Store,
    /// Keys.
    pub keys: Arc<Keys>,
    /// The log origin.
    pub origin: Arc<str>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub config: Arc<ServerConfig>,
    /// The one way into the log: every consent, reveal, amendment and erasure.
    pub ledger: Ledger,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the mail loop when requests are queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Anchoring (certificates come from its anchors).
    pub anchoring: consentry_ledger::anchoring::Anchoring,
    /// The self-service portal's sign-in limiter and mail transport.
    pub portal: Arc<crate::portal::Portal>,
    /// The web application's sign-in limiter.
    pub web_limiter: Arc<crate::limiter::Limiter>,
    key_cache: Mutex<KeyCache>,
    /// Tenant keys by tenant, for the master key ring of the generation noted.
    tenant_keys: Mutex<TenantKeyCache>,
}

impl AppState {
    /// Builds the state around a running ledger; `portal` is the portal's sign-in
    /// limiter and mail transport.
    pub fn new(
        ledger: Ledger,
        config: Arc<ServerConfig>,
        portal: crate::portal::Portal,
    ) -> AppState {
        AppState(Arc::new(Shared {
            anchoring: ledger.anchoring().clone(),
            origin: ledger.origin().into(),
            store: ledger.store().clone(),
            keys: ledger.keys().clone(),
            clock: ledger.clock().clone(),
            config,
            metrics: ledger.metrics().clone(),
            ledger,
            mail_wake: Arc::default(),
            portal: Arc::new(portal),
            web_limiter: Arc::new(crate::limiter::Limiter::new(crate::web::session::WINDOW_MS)),
            key_cache: Mutex::default(),
            tenant_keys: Mutex::default(),
        }))
    }

    pub(crate) fn cached_key(&self, hash: &[u8; 32], now: i64) -> Option<ApiKeyRow> {
        let cache = self.key_cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|(at, _)| now - at < KEY_CACHE_MS)
            .map(|(_, row)| row.clone())
    }

    pub(crate) fn cache_key(&self, hash: [u8; 32], row: ApiKeyRow, now: i64) {
        if let Ok(mut cache) = self.key_cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (now, row));
        }
    }

    /// The vault keys of a tenant (derived once per master key ring, then cached).
    pub fn tenant_keys(&self, tenant: &TenantId) -> Arc<TenantKeys> {
        let generation = self.keys.master.generation();
        if let Ok(mut cache) = self.tenant_keys.lock() {
            if cache.0 != generation {
                *cache = (generation, HashMap::new());
            }
            return cache
                .1
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(self.keys.master.tenant_keys(tenant)))
                .clone();
        }
        Arc::new(self.keys.master.tenant_keys(tenant))
    }
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
    crate::routes::routes()
        .into_router()
        .fallback(crate::routes::not_found)
        .layer(axum::middleware::from_fn(crate::rejections::uniform))
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
    /// Mail could not be set up.
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
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
    let metrics = Arc::new(Metrics::new());
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
        },
    )
    .await?;
    let (mail_stop_tx, stop_rx_mail) = tokio::sync::watch::channel(false);
    let (transport, from) = crate::mail::Transport::from_config(&config)?;
    let state = AppState::new(
        ledger,
        config.clone(),
        crate::portal::Portal::new(Some((transport.clone(), from.clone()))),
    );
    let mailer = tokio::spawn(crate::mail::run(
        state.clone(),
        transport,
        from,
        state.mail_wake.clone(),
        stop_rx_mail,
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
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
    // The mail loop holds a copy of the state, and with it a ledger handle: stop it
    // first, so that every handle is dropped and the group commit drains and ends.
    let _ = mail_stop_tx.send(true);
    if let Err(e) = mailer.await {
        tracing::error!(error = %e, "mail task failed");
    }
    // Only now that every acknowledged entry is committed, the last checkpoint.
    running.stop().await;
    store.close().await;
    tracing::info!("consentry stopped");
    Ok(())
}
