//! Figures for the web application's dashboard: consent status counts per purpose, the
//! number of contacts, proofs per time bucket, the latest signed checkpoint and the latest
//! anchors.
//!
//! Every query is an aggregate the database computes, so the page costs the same few
//! round trips at 100 contacts or 100,000: the status counts are a scan of the index
//! `consent_status_by_purpose` (tenant, purpose, status) with no table reads; only granted
//! consents are read to find those past their validity. Proofs are counted per bucket of
//! a caller-chosen width since an instant, not per calendar day: a day in a time zone is
//! not a fixed span of UTC (summer time, half-hour offsets), so the caller picks buckets
//! that divide every offset (15 minutes) and adds them up into local days.

use crate::anchors::AnchorRow;
use crate::{Store, StoreError, to_u64};
use consentry_core::ids::TenantId;
use std::collections::BTreeMap;

/// How a tenant's contacts stand for one purpose (from their consent status rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurposeCounts {
    /// The purpose.
    pub purpose: String,
    /// Granted and still valid (no end, or an end after `now`).
    pub granted: u64,
    /// Refused.
    pub refused: u64,
    /// Revoked.
    pub revoked: u64,
    /// A request is awaiting the recipient's answer.
    pub pending: u64,
    /// Granted, but its validity ended at or before `now`.
    pub expired: u64,
    /// A request lapsed unanswered (the stored status `expired`, with no proof).
    pub lapsed: u64,
    /// Any other stored status.
    pub other: u64,
}

impl PurposeCounts {
    /// Contacts with a status row for this purpose.
    pub fn recorded(&self) -> u64 {
        self.granted
            + self.refused
            + self.revoked
            + self.pending
            + self.expired
            + self.lapsed
            + self.other
    }
}

/// Proofs recorded in one bucket, by decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketCounts {
    /// `granted` proofs.
    pub granted: u64,
    /// `refused` proofs.
    pub refused: u64,
    /// `revoked` proofs.
    pub revoked: u64,
}

impl Store {
    /// The consent status counts of a tenant's contacts, per purpose (purposes with at
    /// least one status row), by purpose name. `now` (ms) decides which granted consents
    /// have expired.
    pub async fn consent_counts(
        &self,
        tenant: &TenantId,
        now: i64,
    ) -> Result<Vec<PurposeCounts>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT purpose, status, COUNT(*) FROM consent_status WHERE tenant_id = $1 \
             GROUP BY purpose, status",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        let expired: Vec<(String, i64)> = sqlx::query_as(
            "SELECT purpose, COUNT(*) FROM consent_status WHERE tenant_id = $1 AND status = 'granted' \
             AND valid_until <= $2 GROUP BY purpose",
        )
        .bind(tenant.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, PurposeCounts> = BTreeMap::new();
        for (purpose, status, n) in rows {
            let n = to_u64(n)?;
            let c = out.entry(purpose.clone()).or_insert_with(|| PurposeCounts {
                purpose,
                ..PurposeCounts::default()
            });
            match status.as_str() {
                "granted" => c.granted += n,
                "refused" => c.refused += n,
                "revoked" => c.revoked += n,
                "pending" => c.pending += n,
                "expired" => c.lapsed += n,
                _ => c.other += n,
            }
        }
        for (purpose, n) in expired {
            let n = to_u64(n)?;
            if let Some(c) = out.get_mut(&purpose) {
                let n = n.min(c.granted);
                c.granted -= n;
                c.expired += n;
            }
        }
        Ok(out.into_values().collect())
    }

    /// How many contacts a tenant has (erased ones included: their pseudonym stays).
    pub async fn contact_count(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.pool)
            .await?;
        to_u64(n)
    }

    /// A tenant's proofs recorded at or after `since` (ms), counted per bucket of
    /// `bucket_ms` milliseconds from `since` (bucket 0 starts at `since`) and per decision.
    /// Buckets with no proof are left out.
    pub async fn proof_buckets(
        &self,
        tenant: &TenantId,
        since: i64,
        bucket_ms: i64,
    ) -> Result<BTreeMap<u64, BucketCounts>, StoreError> {
        if bucket_ms <= 0 {
            return Err(StoreError::Corrupt(
                "a bucket must last at least 1 ms".into(),
            ));
        }
        // recorded_at >= since, so the division is of non-negative integers: both SQLite
        // and PostgreSQL truncate it the same way.
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT (recorded_at - $2) / $3 AS bucket, decision, COUNT(*) FROM proofs \
             WHERE tenant_id = $1 AND recorded_at >= $2 GROUP BY 1, 2",
        )
        .bind(tenant.as_str())
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<u64, BucketCounts> = BTreeMap::new();
        for (bucket, decision, n) in rows {
            let c = out.entry(to_u64(bucket)?).or_default();
            let n = to_u64(n)?;
            match decision.as_str() {
                "granted" => c.granted += n,
                "refused" => c.refused += n,
                "revoked" => c.revoked += n,
                _ => {}
            }
        }
        Ok(out)
    }

    /// The latest signed checkpoint's tree size and when it was signed (ms).
    pub async fn latest_checkpoint_time(&self) -> Result<Option<(u64, i64)>, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT size, created_at FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(s, t)| Ok((to_u64(s)?, t))).transpose()
    }

    /// The completed anchors of the largest anchored checkpoint (one per backend kind),
    /// oldest first; empty before the first anchor.
    pub async fn latest_anchors(&self) -> Result<Vec<AnchorRow>, StoreError> {
        let size: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT MAX(size) FROM anchors WHERE state = 'anchored'")
                .fetch_optional(&self.pool)
                .await?;
        let Some(size) = size.and_then(|(s,)| s) else {
            return Ok(Vec::new());
        };
        Ok(self
            .anchors_of(to_u64(size)?)
            .await?
            .into_iter()
            .filter(|a| a.state == crate::AnchorState::Anchored)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;
    use std::time::Instant;

    async fn sqlite() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        (Store::open(&url).await.unwrap(), dir)
    }

    /// A fresh schema on the test PostgreSQL (`CONSENTRY_TEST_DATABASE_URL`).
    async fn postgres() -> Store {
        use sqlx::Executor as _;
        let base = std::env::var("CONSENTRY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("t_{:016x}", rand::thread_rng().r#gen::<u64>());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&base).await.unwrap();
        admin
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .unwrap();
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Store::open(&format!("{base}{sep}options=-c%20search_path%3D{schema}"))
            .await
            .unwrap()
    }

    async fn exec(store: &Store, sql: &str) {
        sqlx::query(sql).execute(&store.pool).await.unwrap();
    }

    const DAY: i64 = 86_400_000;

    /// A few rows of every kind, and what the queries make of them.
    async fn counts_story(store: Store) {
        let t = TenantId::parse("ten_a1").unwrap();
        let other = TenantId::parse("ten_b2").unwrap();
        store.create_tenant(&t, "Acme", 1).await.unwrap();
        store.create_tenant(&other, "Other", 1).await.unwrap();
        let now = 100 * DAY;
        for (i, tenant) in [(1, &t), (2, &t), (3, &t), (4, &t), (5, &other)] {
            exec(
                &store,
                &format!(
                    "INSERT INTO contacts (id, tenant_id, email_index, address_commitment, category, attributes, created_at) \
                     VALUES ('sub_{i}', '{}', 'e{i}', 'c', 'private', '{{}}', 1)",
                    tenant.as_str()
                ),
            )
            .await;
        }
        for (sub, purpose, status, until) in [
            (1, "news", "granted", "NULL".to_owned()),
            (2, "news", "granted", (now + 1).to_string()),
            (3, "news", "granted", now.to_string()),
            (4, "news", "refused", "NULL".to_owned()),
            (1, "ads", "revoked", "NULL".to_owned()),
            (2, "ads", "pending", "NULL".to_owned()),
            (3, "ads", "expired", "NULL".to_owned()),
        ] {
            exec(
                &store,
                &format!(
                    "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, updated_at, valid_until) \
                     VALUES ('ten_a1', 'sub_{sub}', '{purpose}', '{status}', 1, {until})"
                ),
            )
            .await;
        }
        exec(
            &store,
            "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, updated_at) \
             VALUES ('ten_b2', 'sub_5', 'news', 'granted', 1)",
        )
        .await;
        let counts = store.consent_counts(&t, now).await.unwrap();
        assert_eq!(
            counts,
            vec![
                PurposeCounts {
                    purpose: "ads".into(),
                    revoked: 1,
                    pending: 1,
                    lapsed: 1,
                    ..Default::default()
                },
                PurposeCounts {
                    purpose: "news".into(),
                    granted: 2,
                    refused: 1,
                    expired: 1,
                    ..Default::default()
                },
            ]
        );
        assert_eq!(counts[1].recorded(), 4);
        assert_eq!(store.contact_count(&t).await.unwrap(), 4);
        assert_eq!(store.contact_count(&other).await.unwrap(), 1);

        // Proofs: two before the window, then some in buckets 0, 1 and 3 of a day each.
        let since = now - 4 * DAY;
        for (n, (at, decision, tenant)) in [
            (since - 1, "granted", "ten_a1"),
            (since - DAY, "refused", "ten_a1"),
            (since, "granted", "ten_a1"),
            (since + DAY - 1, "refused", "ten_a1"),
            (since + DAY, "granted", "ten_a1"),
            (since + DAY + 5, "revoked", "ten_a1"),
            (since + 3 * DAY, "granted", "ten_a1"),
            (since + 3 * DAY, "granted", "ten_b2"),
        ]
        .into_iter()
        .enumerate()
        {
            exec(
                &store,
                &format!(
                    "INSERT INTO proofs (id, tenant_id, subject_id, purpose, decision, log_index, recorded_at) \
                     VALUES ('prf_{n}', '{tenant}', 'sub_1', 'news', '{decision}', {n}, {at})"
                ),
            )
            .await;
        }
        let buckets = store.proof_buckets(&t, since, DAY).await.unwrap();
        let b = |g, r, v| BucketCounts {
            granted: g,
            refused: r,
            revoked: v,
        };
        assert_eq!(
            buckets.into_iter().collect::<Vec<_>>(),
            vec![(0, b(1, 1, 0)), (1, b(1, 0, 1)), (3, b(1, 0, 0))]
        );
        assert!(store.proof_buckets(&t, since, 0).await.is_err());

        assert_eq!(store.latest_checkpoint_time().await.unwrap(), None);
        exec(
            &store,
            "INSERT INTO checkpoints (size, root, note, created_at) VALUES (3, 'r', 'n3', 30), (7, 'r', 'n7', 70)",
        )
        .await;
        assert_eq!(store.latest_checkpoint_time().await.unwrap(), Some((7, 70)));

        assert_eq!(store.latest_anchors().await.unwrap(), vec![]);
        exec(
            &store,
            "INSERT INTO anchors (id, size, note, kind, state, intent, anchor, detail, attempts, next_at, created_at, updated_at) VALUES \
             ('a1', 3, 'n3', 'evm', 'anchored', '', '{}', NULL, 0, 0, 31, 32), \
             ('a2', 7, 'n7', 'evm', 'anchored', '', '{}', NULL, 0, 0, 71, 72), \
             ('a3', 7, 'n7', 'rfc3161', 'anchored', '', '{}', NULL, 0, 0, 73, 74), \
             ('a4', 7, 'n7', 'evm', 'invalid', '', '{}', NULL, 0, 0, 70, 70), \
             ('a5', 9, 'n9', 'evm', 'prepared', '', NULL, NULL, 0, 0, 90, 90)",
        )
        .await;
        let latest = store.latest_anchors().await.unwrap();
        assert_eq!(
            latest.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["a2", "a3"]
        );
    }

    #[tokio::test]
    async fn dashboard_figures_sqlite() {
        let (store, _dir) = sqlite().await;
        counts_story(store).await;
    }

    #[tokio::test]
    async fn dashboard_figures_postgres() {
        counts_story(postgres().await).await;
    }

    /// Times the dashboard's queries on 100,000 contacts, 100,000 status rows and 100,000
    /// proofs (spread over a year, so about 8,200 fall in the last 30 days, then all in
    /// them). Prints the figures; asserts only the counts.
    // Measuring wall time is the point here.
    #[allow(clippy::disallowed_methods)]
    async fn timings(store: Store, label: &str) {
        const N: i64 = 100_000;
        let t = TenantId::parse("ten_a1").unwrap();
        store.create_tenant(&t, "Acme", 1).await.unwrap();
        let now = 400 * DAY;
        let mut tx = store.pool.begin().await.unwrap();
        let mut rng = rand::thread_rng();
        for chunk in 0..N / 500 {
            let mut contacts = Vec::new();
            let mut statuses = Vec::new();
            let mut proofs = Vec::new();
            for k in 0..500 {
                let i = chunk * 500 + k;
                contacts.push(format!(
                    "('sub_{i:08}', 'ten_a1', '{i:064x}', 'c', 'private', '{{}}', 1)"
                ));
                let (status, until) = match i % 10 {
                    0..=4 => ("granted", "NULL".to_owned()),
                    5 => ("granted", (now - 1).to_string()),
                    6 | 7 => ("refused", "NULL".to_owned()),
                    8 => ("revoked", "NULL".to_owned()),
                    _ => ("pending", "NULL".to_owned()),
                };
                let purpose = if i % 3 == 0 { "ads" } else { "news" };
                statuses.push(format!(
                    "('ten_a1', 'sub_{i:08}', '{purpose}', '{status}', 1, {until})"
                ));
                let decision = ["granted", "refused", "revoked"][(i % 3) as usize];
                let at = now - rng.gen_range(0..365 * DAY);
                proofs.push(format!(
                    "('prf_{i:08}', 'ten_a1', 'sub_{i:08}', '{purpose}', '{decision}', {i}, {at})"
                ));
            }
            sqlx::query(&format!(
                "INSERT INTO contacts (id, tenant_id, email_index, address_commitment, category, attributes, created_at) VALUES {}",
                contacts.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(&format!(
                "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, updated_at, valid_until) VALUES {}",
                statuses.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(&format!(
                "INSERT INTO proofs (id, tenant_id, subject_id, purpose, decision, log_index, recorded_at) VALUES {}",
                proofs.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        if store.backend() == crate::Backend::Postgres {
            exec(&store, "ANALYZE").await;
        }
        let since = now - 30 * DAY;
        let bucket = 15 * 60 * 1000;
        let mut report = Vec::new();
        for run in 0..3 {
            let a = Instant::now();
            let counts = store.consent_counts(&t, now).await.unwrap();
            let counts_ms = a.elapsed().as_secs_f64() * 1e3;
            let a = Instant::now();
            let total = store.contact_count(&t).await.unwrap();
            let contacts_ms = a.elapsed().as_secs_f64() * 1e3;
            let a = Instant::now();
            let buckets = store.proof_buckets(&t, since, bucket).await.unwrap();
            let chart_ms = a.elapsed().as_secs_f64() * 1e3;
            let a = Instant::now();
            store.latest_checkpoint_time().await.unwrap();
            store.latest_anchors().await.unwrap();
            store.log_head().await.unwrap();
            let log_ms = a.elapsed().as_secs_f64() * 1e3;
            assert_eq!(total, N as u64);
            assert_eq!(
                counts.iter().map(PurposeCounts::recorded).sum::<u64>(),
                N as u64
            );
            assert_eq!(counts.iter().map(|c| c.expired).sum::<u64>(), N as u64 / 10);
            let in_window: u64 = buckets
                .values()
                .map(|b| b.granted + b.refused + b.revoked)
                .sum();
            report.push(format!(
                "{label} run {run}: status counts {counts_ms:.1} ms, contact count {contacts_ms:.1} ms, \
                 proofs per 15 min over 30 days ({in_window} of {N} proofs in the window) {chart_ms:.1} ms, \
                 log/checkpoint/anchors {log_ms:.1} ms"
            ));
        }
        // The worst case for the chart: every proof in the last 30 days.
        exec(
            &store,
            &format!("UPDATE proofs SET recorded_at = {now} - (log_index * 25920)"),
        )
        .await;
        let a = Instant::now();
        let buckets = store.proof_buckets(&t, since, bucket).await.unwrap();
        let chart_ms = a.elapsed().as_secs_f64() * 1e3;
        let in_window: u64 = buckets
            .values()
            .map(|b| b.granted + b.refused + b.revoked)
            .sum();
        assert_eq!(in_window, N as u64);
        report.push(format!(
            "{label}: proofs per 15 min with all {N} proofs in the last 30 days: {chart_ms:.1} ms"
        ));
        for line in report {
            println!("{line}");
        }
    }

    #[tokio::test]
    async fn dashboard_query_timings_at_100k_sqlite() {
        let (store, _dir) = sqlite().await;
        timings(store, "SQLite").await;
    }

    #[tokio::test]
    async fn dashboard_query_timings_at_100k_postgres() {
        timings(postgres().await, "PostgreSQL").await;
    }
}
