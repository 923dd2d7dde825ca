//! Webhook configuration and the delivery queue.

use crate::{Store, StoreError};
use consentry_core::ids::TenantId;

/// A tenant's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Where events are POSTed.
    pub url: String,
    /// Secret version (bumped on every change, so the derived secret rotates).
    pub version: i64,
}

/// A queued delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Delivery ID.
    pub id: String,
    /// The tenant.
    pub tenant: TenantId,
    /// The event JSON (no personal data).
    pub event: String,
    /// Attempts so far.
    pub attempts: i64,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// Sets (or replaces) a tenant's webhook; returns it with its new secret version.
    pub async fn set_webhook(
        &self,
        tenant: &TenantId,
        url: &str,
        now: i64,
    ) -> Result<Webhook, StoreError> {
        let _turn = self.write_turn().await;
        let (version,): (i64,) = sqlx::query_as(
            "INSERT INTO tenant_webhooks (tenant_id, url, version, created_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, version = tenant_webhooks.version + 1, \
             created_at = excluded.created_at RETURNING version",
        )
        .bind(tenant.as_str())
        .bind(url)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(Webhook {
            url: url.to_owned(),
            version,
        })
    }

    /// A tenant's webhook, if any.
    pub async fn webhook(&self, tenant: &TenantId) -> Result<Option<Webhook>, StoreError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT url, version FROM tenant_webhooks WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(url, version)| Webhook { url, version }))
    }

    /// Removes a tenant's webhook; queued deliveries are dropped. Returns whether one existed.
    pub async fn delete_webhook(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'queued'")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM tenant_webhooks WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deliveries due now.
    pub async fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT id, tenant_id, event, attempts FROM webhook_deliveries WHERE status = 'queued' AND next_at <= $1 \
             ORDER BY next_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, t, event, attempts)| {
                Ok(Delivery {
                    id,
                    tenant: TenantId::parse(&t).map_err(corrupt)?,
                    event,
                    attempts,
                })
            })
            .collect()
    }

    /// Tenants with deliveries due now (at most `limit`): the delivery workers run one
    /// lane per tenant, so that one tenant's slow endpoint delays only its own events.
    pub async fn tenants_with_due_deliveries(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tenant_id FROM webhook_deliveries WHERE status = 'queued' AND next_at <= $1 \
             ORDER BY tenant_id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(t,)| TenantId::parse(&t).map_err(corrupt))
            .collect()
    }

    /// One tenant's deliveries due now, oldest first.
    pub async fn due_deliveries_of(
        &self,
        tenant: &TenantId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT id, attempts, event FROM webhook_deliveries WHERE status = 'queued' AND next_at <= $1 \
             AND tenant_id = $2 ORDER BY next_at, id LIMIT $3",
        )
        .bind(now)
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, attempts, event)| Delivery {
                id,
                tenant: tenant.clone(),
                event,
                attempts,
            })
            .collect())
    }

    /// Records an attempt: delivered, retry at `next`, or failed for good (`next` None).
    pub async fn delivery_attempted(
        &self,
        id: &str,
        outcome: Result<(), (Option<i64>, &str)>,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let q = match outcome {
            Ok(()) => sqlx::query("UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_error = NULL WHERE id = $1").bind(id),
            Err((Some(next), e)) => sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = $2, last_error = $3 WHERE id = $1")
                .bind(id)
                .bind(next)
                .bind(e.to_owned()),
            Err((None, e)) => sqlx::query("UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1")
                .bind(id)
                .bind(e.to_owned()),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    /// Delivery states of a tenant, newest first (for the API and tests).
    pub async fn deliveries(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<(String, String, i64, Option<String>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, status, attempts, last_error FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Queues `event` for `tenant` inside an open transaction, if the tenant has a webhook.
pub(crate) async fn enqueue_in_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
    event: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(crate::log::ENQUEUE_WEBHOOK)
        .bind(id)
        .bind(event)
        .bind(now)
        .bind(tenant.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
