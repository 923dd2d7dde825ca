//! The application state every handler reaches: storage, keys, the ledger, limiters and
//! caches, behind one `Arc`.

use crate::auth::KEY_CACHE_MS;
use crate::config::ServerConfig;
use consentry_core::ids::TenantId;
use consentry_ledger::Ledger;
use consentry_ledger::clock::Clock;
use consentry_ledger::keys::Keys;
use consentry_ledger::metrics::Metrics;
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
    /// The one client for outbound requests a tenant aims (webhooks).
    pub outbound: consentry_ledger::outbound::Outbound,
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
    /// limiter and mail transport, `outbound` the client of webhook deliveries.
    pub fn new(
        ledger: Ledger,
        config: Arc<ServerConfig>,
        portal: crate::portal::Portal,
        outbound: consentry_ledger::outbound::Outbound,
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
            outbound,
            portal: Arc::new(portal),
            web_limiter: Arc::new(crate::limiter::Limiter::new(
                crate::session::SIGN_IN_WINDOW_MS,
            )),
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
