//! Whole-store reads and copies for the operator's commands: `consentry backup` (an
//! online, consistent copy of the database), `consentry restore` (what a backup's log
//! holds) and `consentry check` (every row scanned in pages).
//!
//! These never write the live database. The scans page through tables by key, so that a
//! check of a large store holds one page in memory at a time and runs beside a live
//! service; what they read is judged by the caller (the `consentry` binary), which holds
//! the keys.

use crate::{Backend, Store, StoreError, to_i64, to_u64};
use std::path::Path;

/// A checkpoint the log signed (table `checkpoints`).
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// The root stored beside the note.
    pub root: Vec<u8>,
    /// The signed note as served (with witness cosignatures, if any).
    pub note: String,
}

/// A checkpoint note handed to an anchor (table `anchors`, any state but `invalid`).
#[derive(Debug, Clone)]
pub struct AnchoredNote {
    /// The anchor's ID.
    pub id: String,
    /// The size the row names.
    pub size: u64,
    /// The note anchored.
    pub note: String,
    /// `prepared` or `anchored`.
    pub state: String,
}

/// Counts of the log tables, to compare with the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCounts {
    /// Rows of `log_entries`.
    pub entries: u64,
    /// The highest entry index, if any.
    pub last_entry: Option<u64>,
    /// Rows of `log_tiles`.
    pub tiles: u64,
}

/// A contact's vault columns, without anything in clear (there is nothing in clear).
#[derive(Clone)]
pub struct VaultScanRow {
    /// Tenant ID.
    pub tenant: String,
    /// Subject ID.
    pub id: String,
    /// The master key version its wrapped key is under.
    pub key_version: i64,
    /// The wrapped subject key (`None` once erased).
    pub wrapped_key: Option<Vec<u8>>,
    /// The sealed identity (`None` once erased).
    pub identity: Option<Vec<u8>>,
    /// Whether the contact was erased.
    pub erased: bool,
}

impl std::fmt::Debug for VaultScanRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultScanRow")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("key_version", &self.key_version)
            .field("erased", &self.erased)
            .finish_non_exhaustive()
    }
}

/// A stored evidence file, still sealed.
#[derive(Clone)]
pub struct EvidenceScanRow {
    /// The proof it is evidence for.
    pub proof_id: String,
    /// Tenant ID.
    pub tenant: String,
    /// Subject ID.
    pub subject: String,
    /// The sealed file.
    pub sealed: Vec<u8>,
    /// Its subject's wrapped key (`None` if the contact is erased or missing).
    pub wrapped_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for EvidenceScanRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceScanRow")
            .field("proof_id", &self.proof_id)
            .finish_non_exhaustive()
    }
}

/// A row that names a row that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// Which reference is broken, e.g. `proofs.log_index -> log_entries`.
    pub rule: &'static str,
    /// The ID (or key) of the row holding the reference: a pseudonym or a number.
    pub row: String,
}

/// The references `consentry check` follows, each as the query listing the rows whose
/// reference points at nothing. Both backends accept them.
const ORPHAN_QUERIES: &[(&str, &str)] = &[
    (
        "api_keys.tenant_id -> tenants",
        "SELECT id FROM api_keys a WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id)",
    ),
    (
        "contacts.tenant_id -> tenants",
        "SELECT id FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = c.tenant_id)",
    ),
    (
        "contacts.key_version -> vault_keys",
        "SELECT id FROM contacts c WHERE EXISTS (SELECT 1 FROM vault_keys) \
         AND NOT EXISTS (SELECT 1 FROM vault_keys v WHERE v.version = c.key_version)",
    ),
    (
        "proofs.log_index -> log_entries",
        "SELECT id FROM proofs p WHERE NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.idx = p.log_index)",
    ),
    (
        "proofs.subject_id -> contacts",
        "SELECT id FROM proofs p WHERE NOT EXISTS \
         (SELECT 1 FROM contacts c WHERE c.id = p.subject_id AND c.tenant_id = p.tenant_id)",
    ),
    (
        "events.log_index -> log_entries",
        "SELECT id FROM events v WHERE NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.idx = v.log_index)",
    ),
    (
        "events.subject_id -> contacts",
        "SELECT id FROM events v WHERE NOT EXISTS \
         (SELECT 1 FROM contacts c WHERE c.id = v.subject_id AND c.tenant_id = v.tenant_id)",
    ),
    (
        "consent_status.proof_id -> proofs",
        "SELECT s.subject_id FROM consent_status s WHERE s.proof_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM proofs p WHERE p.id = s.proof_id)",
    ),
    (
        "consent_status.subject_id -> contacts",
        "SELECT s.subject_id FROM consent_status s WHERE NOT EXISTS \
         (SELECT 1 FROM contacts c WHERE c.id = s.subject_id AND c.tenant_id = s.tenant_id)",
    ),
    (
        "consent_requests.subject_id -> contacts",
        "SELECT id FROM consent_requests r WHERE NOT EXISTS \
         (SELECT 1 FROM contacts c WHERE c.id = r.subject_id AND c.tenant_id = r.tenant_id)",
    ),
    (
        "consent_requests.proof_id -> proofs",
        "SELECT id FROM consent_requests r WHERE r.proof_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM proofs p WHERE p.id = r.proof_id)",
    ),
    (
        "evidence_files.proof_id -> proofs",
        "SELECT proof_id FROM evidence_files f WHERE NOT EXISTS (SELECT 1 FROM proofs p WHERE p.id = f.proof_id)",
    ),
    (
        "users.tenant_id -> tenants",
        "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = u.tenant_id)",
    ),
    (
        "staff_sessions.user_id -> users",
        "SELECT user_id FROM staff_sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)",
    ),
    (
        "staff_password_resets.user_id -> users",
        "SELECT user_id FROM staff_password_resets r WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id)",
    ),
    (
        "webhook_deliveries.tenant_id -> tenants",
        "SELECT id FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = d.tenant_id)",
    ),
];

impl Store {
    /// Writes a consistent copy of the SQLite database to `dest` (which must not exist)
    /// while the service runs: `VACUUM INTO` reads the database in one read transaction
    /// (a snapshot: writers go on in the write-ahead log beside it) and writes a compact
    /// file holding exactly the committed state at its start. Refused on PostgreSQL
    /// ([`StoreError::Misuse`]), whose consistent copy is `pg_dump`'s (see
    /// [`Store::export_snapshot`]).
    pub async fn backup_sqlite(&self, dest: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Misuse(
                "backup_sqlite on a PostgreSQL store".into(),
            ));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Misuse("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// On PostgreSQL, opens a repeatable-read transaction and exports its snapshot, so
    /// that `pg_dump --snapshot=ID` dumps exactly what [`Snapshot`]'s reads see. Keep the
    /// snapshot alive until `pg_dump` has started reading.
    pub async fn export_snapshot(&self) -> Result<Snapshot, StoreError> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Misuse("export_snapshot on SQLite".into()));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let (id,): (String,) = sqlx::query_as("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        Ok(Snapshot { tx, id })
    }

    /// Every signed checkpoint, by size.
    pub async fn all_checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String)> =
            sqlx::query_as("SELECT size, root, note FROM checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(size, root, note)| {
                Ok(StoredCheckpoint {
                    size: to_u64(size)?,
                    root,
                    note,
                })
            })
            .collect()
    }

    /// Every checkpoint note handed to an anchor (rows in state `invalid`, replaced after
    /// a reorg, are left out), by size.
    pub async fn anchored_notes(&self) -> Result<Vec<AnchoredNote>, StoreError> {
        let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT id, size, note, state FROM anchors WHERE state <> 'invalid' ORDER BY size, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, size, note, state)| {
                Ok(AnchoredNote {
                    id,
                    size: to_u64(size)?,
                    note,
                    state,
                })
            })
            .collect()
    }

    /// How many entries and tiles are stored.
    pub async fn log_counts(&self) -> Result<LogCounts, StoreError> {
        let (entries, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(idx) FROM log_entries")
                .fetch_one(&self.pool)
                .await?;
        let (tiles,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM log_tiles")
            .fetch_one(&self.pool)
            .await?;
        Ok(LogCounts {
            entries: to_u64(entries)?,
            last_entry: last.map(to_u64).transpose()?,
            tiles: to_u64(tiles)?,
        })
    }

    /// The entries with index in `start..end`, with their index, in order: a gap shows
    /// as a missing index.
    pub async fn indexed_entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(i, e)| Ok((to_u64(i)?, e))).collect()
    }

    /// A page of contacts' vault columns, after subject ID `after`, by ID.
    pub async fn vault_scan(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<VaultScanRow>, StoreError> {
        type Tuple = (
            String,
            String,
            i64,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<i64>,
        );
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT tenant_id, id, key_version, wrapped_key, identity, erased_at FROM contacts \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(tenant, id, key_version, wrapped_key, identity, erased_at)| VaultScanRow {
                    tenant,
                    id,
                    key_version,
                    wrapped_key,
                    identity,
                    erased: erased_at.is_some(),
                },
            )
            .collect())
    }

    /// A page of evidence files, after proof ID `after`, by proof ID.
    pub async fn evidence_scan(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<EvidenceScanRow>, StoreError> {
        type Tuple = (String, String, String, Vec<u8>, Option<Vec<u8>>);
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT f.proof_id, f.tenant_id, f.subject_id, f.sealed, c.wrapped_key \
             FROM evidence_files f LEFT JOIN contacts c \
             ON c.id = f.subject_id AND c.tenant_id = f.tenant_id \
             WHERE f.proof_id > $1 ORDER BY f.proof_id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(proof_id, tenant, subject, sealed, wrapped_key)| EvidenceScanRow {
                    proof_id,
                    tenant,
                    subject,
                    sealed,
                    wrapped_key,
                },
            )
            .collect())
    }

    /// Rows whose references point at no row, rule by rule (at most `limit` a rule), and
    /// how many references were followed in all.
    pub async fn orphans(&self, limit: u32) -> Result<(Vec<Orphan>, usize), StoreError> {
        let mut out = Vec::new();
        for (rule, sql) in ORPHAN_QUERIES {
            let rows: Vec<(String,)> = sqlx::query_as(&format!("{sql} LIMIT {limit}"))
                .fetch_all(&self.pool)
                .await?;
            out.extend(rows.into_iter().map(|(row,)| Orphan { rule, row }));
        }
        Ok((out, ORPHAN_QUERIES.len()))
    }

    /// Whether the database at `url` holds no Consentry schema yet (no `log_head`
    /// table), read without migrating it: `consentry restore` writes only into an empty
    /// database.
    pub async fn is_blank(url: &str) -> Result<bool, StoreError> {
        sqlx::any::install_default_drivers();
        let sql = if url.starts_with("sqlite:") {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'log_head'"
        } else {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'log_head'"
        };
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        Ok(n == 0)
    }

    /// Records a `meta` value, replacing any (for `consentry restore`'s note of what it
    /// restored).
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A PostgreSQL snapshot exported for `pg_dump --snapshot` (see
/// [`Store::export_snapshot`]); its reads see exactly what the dump holds.
pub struct Snapshot {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The snapshot's ID, for `pg_dump --snapshot`.
    pub id: String,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("id", &self.id).finish()
    }
}

impl Snapshot {
    /// The log's size and root in the snapshot.
    pub async fn log_head(&mut self) -> Result<(u64, Vec<u8>), StoreError> {
        let (size, root): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, root FROM log_head WHERE id = 1")
                .fetch_one(&mut *self.tx)
                .await?;
        Ok((to_u64(size)?, root))
    }

    /// The size of the latest signed checkpoint in the snapshot.
    pub async fn latest_checkpoint(&mut self) -> Result<Option<u64>, StoreError> {
        let (size,): (Option<i64>,) = sqlx::query_as("SELECT MAX(size) FROM checkpoints")
            .fetch_one(&mut *self.tx)
            .await?;
        size.map(to_u64).transpose()
    }

    /// The schema the dump must name (`pg_dump --schema`): the connection's current one.
    pub async fn schema(&mut self) -> Result<String, StoreError> {
        let (s,): (String,) = sqlx::query_as("SELECT current_schema()::text")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(s)
    }

    /// Ends the transaction (and the snapshot).
    pub async fn finish(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_failures() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(matches!(StoreError::from(full), StoreError::StorageFull(_)));
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(StoreError::from(busy), StoreError::Sqlite(_)));
        let enospc = sqlx::Error::Io(std::io::Error::from_raw_os_error(28));
        assert!(matches!(
            StoreError::from(enospc),
            StoreError::StorageFull(_)
        ));
        let other = sqlx::Error::Io(std::io::Error::from_raw_os_error(5));
        assert!(matches!(StoreError::from(other), StoreError::Database(_)));
    }

    #[tokio::test]
    async fn an_sqlite_backup_is_a_database_with_the_same_log_and_a_fresh_store_is_blank() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let blank = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
        assert!(Store::is_blank(&blank).await.unwrap());
        let store = Store::open(&url).await.unwrap();
        assert!(!Store::is_blank(&url).await.unwrap());
        store.set_meta("k", "v1").await.unwrap();
        store.set_meta("k", "v2").await.unwrap();
        let copy = dir.path().join("copy.db");
        store.backup_sqlite(&copy).await.unwrap();
        let copied = Store::open(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap();
        assert_eq!(
            copied.log_head().await.unwrap(),
            store.log_head().await.unwrap()
        );
        assert_eq!(copied.meta("k").await.unwrap().as_deref(), Some("v2"));
        assert_eq!(
            copied.log_counts().await.unwrap(),
            LogCounts {
                entries: 0,
                last_entry: None,
                tiles: 0
            }
        );
        assert!(copied.orphans(10).await.unwrap().0.is_empty());
        // Into a file that exists: refused, the file untouched.
        assert!(store.backup_sqlite(&copy).await.is_err());
    }
}
