//! Tenant authorisation, in the handler's signature: a handler that takes [`TenantAuth`]
//! cannot run without a valid API key, and every query it makes is scoped to that tenant.
//!
//! API keys are 256-bit random tokens (`csk_` + 64 hex digits). Only their SHA-256 is
//! stored — a fast hash suffices for secrets of that entropy. Successful lookups are
//! cached for a few seconds so that each request does not cost a database read.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use consentry_store::{ApiKeyRow, TenantRow};
use sha2::{Digest, Sha256};

/// How long a verified key stays cached (revocation takes at most this long).
pub const KEY_CACHE_MS: i64 = 10_000;

/// The caller's tenant, from a valid API key.
#[derive(Debug, Clone)]
pub struct TenantAuth {
    /// The tenant.
    pub tenant: TenantRow,
    /// The key's public ID (recorded as the actor of accesses).
    pub key_id: String,
}

/// The hash under which a key is stored.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A new API key and its public ID.
pub fn new_api_key(now_ms: i64) -> (String, String) {
    (
        format!(
            "csk_{}",
            hex::encode(consentry_ledger::random::bytes::<32>())
        ),
        format!("key_{}", consentry_ledger::random::id_suffix(now_ms)),
    )
}

impl FromRequestParts<AppState> for TenantAuth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<TenantAuth, Problem> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with("csk_") && k.len() == 68)
            .ok_or_else(Problem::unauthorized)?;
        let hash = key_hash(key);
        let now = state.clock.now_ms();
        if let Some(row) = state.cached_key(&hash, now) {
            return Ok(TenantAuth {
                tenant: row.tenant,
                key_id: row.key_id,
            });
        }
        let row: ApiKeyRow = state
            .store
            .api_key(&hash)
            .await?
            .ok_or_else(Problem::unauthorized)?;
        state.cache_key(hash, row.clone(), now);
        Ok(TenantAuth {
            tenant: row.tenant,
            key_id: row.key_id,
        })
    }
}

/// The operator, from the admin token (`--admin-token`). Admin routes act on the whole
/// service (e.g. anchoring now), so they take neither a tenant's key nor any default:
/// with no token configured they are refused.
#[derive(Debug, Clone, Copy)]
pub struct OperatorAuth;

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<OperatorAuth, Problem> {
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(Problem::unauthorized)?;
        let Some(expected) = state.config.admin_token.as_deref() else {
            return Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "admin-disabled",
                "Admin routes disabled",
                "this service has no admin token configured (--admin-token / CONSENTRY_ADMIN_TOKEN)",
            ));
        };
        // Comparing digests: equal-length inputs, and no early exit on a shared prefix of
        // the token itself.
        if key_hash(given) != key_hash(expected) {
            return Err(Problem::unauthorized());
        }
        Ok(OperatorAuth)
    }
}
