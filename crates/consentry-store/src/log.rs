//! The tiled log in the database: batched, durable appends and the reads proofs need.

use crate::events::{Erasure, EventRow};
use crate::rows::ContactRow;
use crate::rows::{ProofRow, StatusRow};
use crate::{Store, StoreError, to_i64, to_u64};
use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::merkle::{self, Hash, MerkleError};
use consentry_core::tiles::{TileEdge, TileId, TileSet, tile_bytes, tiles_for_subtrees};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::Mutex;

/// One entry to append, with the rows it stands for.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The entry bytes (canonical JSON).
    pub entry: Vec<u8>,
    /// Its leaf hash, `SHA-256(0x00 ‖ entry)`.
    pub leaf: Hash,
    /// The proof index row, if the entry is a proof.
    pub proof: Option<ProofRow>,
    /// The consent status it sets, if any.
    pub status: Option<StatusRow>,
    /// The event index row, if the entry is an event.
    pub event: Option<EventRow>,
    /// The contact it erases, if it is a `data.erased` event.
    pub erasure: Option<Erasure>,
    /// The new sealed identity it writes, if it is a `data.amended` event: the change and
    /// its log entry commit together.
    pub amendment: Option<Amendment>,
}

/// A contact's identity replaced with its `data.amended` entry, in the same transaction.
#[derive(Clone)]
pub struct Amendment {
    /// The sender.
    pub tenant: TenantId,
    /// The contact.
    pub subject: SubjectId,
    /// The new identity, sealed under the subject's key.
    pub sealed_identity: Vec<u8>,
}

impl std::fmt::Debug for Amendment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amendment")
            .field("tenant", &self.tenant)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// What an append transaction read before its entries were built: the contacts the
/// entries are about, and the consent status of the (tenant, subject, purpose) triples
/// asked for, both as of the moment the log lock was taken.
#[derive(Debug, Default)]
pub struct TxReads {
    /// Contacts by pseudonym (any tenant: the builder checks the owner).
    pub contacts: HashMap<SubjectId, (TenantId, ContactRow)>,
    /// Consent status rows by (tenant, subject, purpose); absent: nothing recorded.
    pub statuses: HashMap<(TenantId, SubjectId, String), StatusRow>,
}

/// What a committed append produced.
#[derive(Debug)]
pub struct AppendOutcome<T> {
    /// Index of the first entry appended.
    pub first_index: u64,
    /// Log size after the append.
    pub size: u64,
    /// Root after the append.
    pub root: Hash,
    /// What the builder returned alongside the entries.
    pub built: T,
}

/// A contact's sealed identity replaced (a `data.amended` entry), unless erased.
pub(crate) const AMEND_IDENTITY: &str = "UPDATE contacts SET identity = $1 WHERE tenant_id = $2 AND id = $3 AND wrapped_key IS NOT NULL";

/// Rows per multi-row INSERT, well under both databases' bind-parameter limits.
pub(crate) const CHUNK: usize = 200;

/// The right edge of the log as this process last committed it; reused when the head has
/// not moved since (the common case: one writer), reloaded from the tiles otherwise.
#[derive(Debug, Default, Clone)]
pub(crate) struct EdgeCache(Arc<Mutex<Option<TileEdge>>>);

/// `($1, $2), ($3, $4), …`: the VALUES list of a multi-row INSERT of `rows` rows of
/// `cols` columns, in the placeholder syntax both backends accept.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn hash_from(bytes: &[u8]) -> Result<Hash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt("a stored hash is not 32 bytes"))?;
    Ok(Hash(arr))
}

impl Store {
    /// Appends a batch in one transaction. `build` is handed the index of the first new
    /// entry (the log size under the lock) and returns the entries in order; they are
    /// durable when this returns `Ok`. On any error nothing is written. (Through sqlx on
    /// both backends, as a request's answer is appended; [`Store::append_reading`] runs
    /// on SQLite's own append connection.)
    pub async fn append<T, F>(&self, build: F) -> Result<AppendOutcome<T>, StoreError>
    where
        F: FnOnce(u64) -> Result<(Vec<NewEntry>, T), String>,
    {
        let mut cached = self.edge.0.lock().await;
        let _turn = self.write_turn().await;
        let result = self.append_locked(&mut cached, build).await;
        if result.is_err() {
            *cached = None;
        }
        result
    }

    /// Like [`Store::append`], but first reads, in the same transaction, the contacts the
    /// entries are about (by pseudonym: a contact erased or unknown at commit time is
    /// seen) and the consent status of each `(tenant, subject, purpose)` in `statuses`,
    /// and hands them to `build`: a decision taken
    /// on them by `build` (a reveal allowed or refused) sees every decision committed
    /// before its own entry, and none after. A revocation acknowledged to its sender is
    /// therefore seen by every reveal appended after it.
    ///
    /// When an entry erases a contact, the SQLite write-ahead log is marked for
    /// truncation ([`Store::flush_erasures`]), so that the erased bytes leave it too.
    pub async fn append_reading<T, F>(
        &self,
        subjects: &[SubjectId],
        statuses: &[(TenantId, SubjectId, String)],
        build: F,
    ) -> Result<AppendOutcome<T>, StoreError>
    where
        F: FnOnce(u64, &TxReads) -> Result<(Vec<NewEntry>, T), String>,
    {
        let mut cached = self.edge.0.lock().await;
        let _turn = self.write_turn().await;
        if let Some(writer) = &self.sqlite_writer {
            let result = blocking(|| writer.append(cached.take(), subjects, statuses, build));
            return match result {
                Ok((out, edge, erased)) => {
                    if erased {
                        self.note_erasure();
                    }
                    *cached = Some(edge);
                    Ok(out)
                }
                Err(e) => {
                    *cached = None;
                    Err(e)
                }
            };
        }
        let result = async {
            let mut tx = self.pool.begin().await?;
            // Take the log's write lock before reading: on SQLite a transaction that reads
            // first and writes later fails (SQLITE_BUSY_SNAPSHOT) if anyone committed in
            // between; locking first makes it a writer from the start.
            sqlx::query("UPDATE log_head SET size = size WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            let reads = TxReads {
                contacts: crate::rows::contacts_in_tx(&mut tx, subjects).await?,
                statuses: crate::rows::statuses_in_tx(&mut tx, statuses).await?,
            };
            let (out, edge, erased) =
                append_in_tx(&mut tx, cached.take(), |first| build(first, &reads)).await?;
            tx.commit().await?;
            if erased {
                self.note_erasure();
            }
            Ok::<_, StoreError>((out, edge))
        }
        .await;
        match result {
            Ok((out, edge)) => {
                *cached = Some(edge);
                Ok(out)
            }
            Err(e) => {
                *cached = None;
                Err(e)
            }
        }
    }

    async fn append_locked<T, F>(
        &self,
        cached: &mut Option<TileEdge>,
        build: F,
    ) -> Result<AppendOutcome<T>, StoreError>
    where
        F: FnOnce(u64) -> Result<(Vec<NewEntry>, T), String>,
    {
        let mut tx = self.pool.begin().await?;
        let (out, edge, erased) = append_in_tx(&mut tx, cached.take(), build).await?;
        tx.commit().await?;
        if erased {
            self.note_erasure();
        }
        *cached = Some(edge);
        Ok(out)
    }

    pub(crate) async fn edge_lock(&self) -> tokio::sync::MutexGuard<'_, Option<TileEdge>> {
        self.edge.0.lock().await
    }
}

/// Runs `f`, which blocks for a short while (an SQLite transaction), without stalling the
/// other tasks of a multi-threaded runtime: their worker is handed to another thread
/// meanwhile. On a current-thread runtime (tests) it simply runs.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Appends inside an open transaction (the caller commits); returns the new edge, to be
/// cached only once the transaction commits, and whether an entry erased a contact (the
/// caller then calls [`Store::note_erasure`] once committed).
pub(crate) async fn append_in_tx<T, F>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cached: Option<TileEdge>,
    build: F,
) -> Result<(AppendOutcome<T>, TileEdge, bool), StoreError>
where
    F: FnOnce(u64) -> Result<(Vec<NewEntry>, T), String>,
{
    {
        // Taking the head row for update serialises appends across processes (a row lock
        // on PostgreSQL, the write lock on SQLite) before the size is read.
        let (size, _root): (i64, Vec<u8>) =
            sqlx::query_as("UPDATE log_head SET size = size WHERE id = 1 RETURNING size, root")
                .fetch_one(&mut **tx)
                .await?;
        let size = to_u64(size)?;
        let mut edge = match cached {
            Some(e) if e.size() == size => e,
            _ => {
                let wanted: BTreeSet<TileId> = TileEdge::tiles_to_load(size)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                let set = load_tiles(tx, &wanted).await?;
                TileEdge::from_tiles(size, &set).map_err(corrupt)?
            }
        };
        let (entries, built) = build(size).map_err(StoreError::Build)?;
        let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf).collect();
        let changed = edge.append(&leaves);
        let root = edge.root().map_err(corrupt)?;
        let new_size = edge.size();

        let Rows {
            proofs,
            statuses,
            tiles,
            events,
        } = Rows::of(size, &entries, &changed);
        // On SQLite, proofs carry their chain link (migration 0010 there); PostgreSQL
        // finds a subject's proofs through `proofs_by_subject`.
        let chained = tx.backend_name() == "SQLite";
        for (n, chunk) in entries.chunks(CHUNK).enumerate() {
            let base = size + (n * CHUNK) as u64;
            let sql = insert_entries_sql(chunk.len());
            let mut q = sqlx::query(&sql);
            for (i, e) in chunk.iter().enumerate() {
                q = q.bind(to_i64(base + i as u64)?).bind(e.entry.clone());
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in proofs.chunks(CHUNK) {
            let sql = insert_proofs_sql(chunk.len(), chained);
            let mut q = sqlx::query(&sql);
            for (index, p, prev) in chunk {
                q = q
                    .bind(p.id.as_str())
                    .bind(p.tenant.as_str())
                    .bind(p.subject.as_str())
                    .bind(p.purpose.as_str())
                    .bind(p.decision.as_str())
                    .bind(to_i64(*index)?)
                    .bind(p.recorded_at);
                if chained {
                    q = q.bind(prev.map(to_i64).transpose()?);
                }
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in statuses.chunks(CHUNK) {
            let sql = upsert_statuses_sql(chunk.len());
            let mut q = sqlx::query(&sql);
            for (index, s) in chunk {
                q = q
                    .bind(s.tenant.as_str())
                    .bind(s.subject.as_str())
                    .bind(s.purpose.as_str())
                    .bind(s.status.as_str())
                    .bind(s.proof_id.as_ref().map(|p| p.as_str().to_owned()))
                    .bind(to_i64(*index)?)
                    .bind(s.updated_at)
                    .bind(s.valid_until);
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in tiles.chunks(CHUNK) {
            let sql = upsert_tiles_sql(chunk.len());
            let mut q = sqlx::query(&sql);
            for (id, bytes) in chunk {
                q = q
                    .bind(i32::from(id.level))
                    .bind(to_i64(id.index)?)
                    .bind(bytes.clone());
            }
            q.execute(&mut **tx).await?;
        }

        crate::events::insert_in_tx(tx, &events).await?;
        let mut erased = false;
        for erasure in entries.iter().filter_map(|e| e.erasure.as_ref()) {
            crate::events::erase_in_tx(tx, erasure).await?;
            erased = true;
        }
        for a in entries.iter().filter_map(|e| e.amendment.as_ref()) {
            sqlx::query(AMEND_IDENTITY)
                .bind(a.sealed_identity.clone())
                .bind(a.tenant.as_str())
                .bind(a.subject.as_str())
                .execute(&mut **tx)
                .await?;
        }

        sqlx::query("UPDATE log_head SET size = $1, root = $2 WHERE id = 1")
            .bind(to_i64(new_size)?)
            .bind(root.0.to_vec())
            .execute(&mut **tx)
            .await?;
        Ok((
            AppendOutcome {
                first_index: size,
                size: new_size,
                root,
                built,
            },
            edge,
            erased,
        ))
    }
}

impl Store {
    /// The durable log's size and root.
    pub async fn log_head(&self) -> Result<(u64, Hash), StoreError> {
        let (size, root): (i64, Vec<u8>) =
            sqlx::query_as("SELECT size, root FROM log_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok((to_u64(size)?, hash_from(&root)?))
    }

    /// The entry at `index`.
    pub async fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT entry FROM log_entries WHERE idx = $1")
                .bind(to_i64(index)?)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(e,)| e))
    }

    /// The stored tiles among `ids`.
    pub async fn tiles(&self, ids: &BTreeSet<TileId>) -> Result<TileSet, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_tiles(&mut conn, ids).await
    }

    /// Root, inclusion proof and leaf hash for `index` in the tree of `size` leaves, read
    /// from the stored tiles. `size` must not exceed the durable size.
    pub async fn inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Result<(Hash, Vec<Hash>, Hash), MerkleError>, StoreError> {
        let (durable, _) = self.log_head().await?;
        if size > durable {
            return Ok(Err(MerkleError::SizeBeyondLog {
                size,
                available: durable,
            }));
        }
        let needed = match merkle::needed_subtrees_for_inclusion(index, size) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let mut ids = tiles_for_subtrees(&needed);
        ids.extend(tiles_for_subtrees(&[(0, index)]));
        let set = self.tiles(&ids).await?;
        let root = merkle::tree_root(&set, size).map_err(corrupt)?;
        let path = merkle::inclusion_proof(&set, index, size).map_err(corrupt)?;
        let leaf = merkle::SubtreeReader::subtree(&set, 0, index).map_err(corrupt)?;
        Ok(Ok((root, path, leaf)))
    }

    /// Consistency proof between two sizes, with both roots, from the stored tiles.
    pub async fn consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Result<(Hash, Hash, Vec<Hash>), MerkleError>, StoreError> {
        let (durable, _) = self.log_head().await?;
        if new > durable {
            return Ok(Err(MerkleError::SizeBeyondLog {
                size: new,
                available: durable,
            }));
        }
        let needed = match merkle::needed_subtrees_for_consistency(old, new) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let set = self.tiles(&tiles_for_subtrees(&needed)).await?;
        let old_root = merkle::tree_root(&set, old).map_err(corrupt)?;
        let new_root = merkle::tree_root(&set, new).map_err(corrupt)?;
        let proof = merkle::consistency_proof(&set, old, new).map_err(corrupt)?;
        Ok(Ok((old_root, new_root, proof)))
    }

    /// Records a signed checkpoint (idempotent per size).
    pub async fn save_checkpoint(
        &self,
        size: u64,
        root: &Hash,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
        )
        .bind(to_i64(size)?)
        .bind(root.0.to_vec())
        .bind(note)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest signed checkpoint: size and note text.
    pub async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(s, n)| Ok((to_u64(s)?, n))).transpose()
    }
}

async fn load_tiles(
    conn: &mut sqlx::AnyConnection,
    ids: &BTreeSet<TileId>,
) -> Result<TileSet, StoreError> {
    let mut set = TileSet::new();
    let ids: Vec<&TileId> = ids.iter().collect();
    for chunk in ids.chunks(CHUNK) {
        let conds: Vec<String> = (0..chunk.len())
            .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT level, idx, hashes FROM log_tiles WHERE {}",
            conds.join(" OR ")
        );
        let mut q = sqlx::query_as::<_, (i32, i64, Vec<u8>)>(&sql);
        for id in chunk {
            q = q.bind(i32::from(id.level)).bind(to_i64(id.index)?);
        }
        for (level, idx, hashes) in q.fetch_all(&mut *conn).await? {
            let id = TileId {
                level: u8::try_from(level).map_err(corrupt)?,
                index: to_u64(idx)?,
            };
            set.insert_bytes(id, &hashes).map_err(corrupt)?;
        }
    }
    Ok(set)
}

/// A batch's proof rows with their log index and the index of the previous proof of the
/// same (tenant, subject, purpose) within the batch; `None` for the first of its triple
/// in the batch, whose predecessor is the chain's stored head (`consent_status.log_index`:
/// only proofs set it, and never lower it), read by the SQLite insert before the batch's
/// statuses move it.
fn chained_proofs(first: u64, entries: &[NewEntry]) -> Vec<(u64, &ProofRow, Option<u64>)> {
    let mut last: HashMap<(&str, &str, &str), u64> = HashMap::new();
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.proof.as_ref().map(|p| (first + i as u64, p)))
        .map(|(index, p)| {
            let key = (p.tenant.as_str(), p.subject.as_str(), p.purpose.as_str());
            (index, p, last.insert(key, index))
        })
        .collect()
}

/// The rows a batch of entries writes besides the entries themselves, planned from the
/// entries alone (pure), for either backend's writer.
pub(crate) struct Rows<'a> {
    /// Proof index rows: log index, row, previous proof of the same triple in the batch.
    pub(crate) proofs: Vec<(u64, &'a ProofRow, Option<u64>)>,
    /// One status upsert per (tenant, subject, purpose), the batch's last.
    pub(crate) statuses: Vec<(u64, &'a StatusRow)>,
    /// Every tile the batch changed, as stored bytes.
    pub(crate) tiles: Vec<(TileId, Vec<u8>)>,
    /// Event index rows.
    pub(crate) events: Vec<(u64, &'a EventRow)>,
}

impl<'a> Rows<'a> {
    pub(crate) fn of(
        first: u64,
        entries: &'a [NewEntry],
        changed: &BTreeMap<TileId, Vec<Hash>>,
    ) -> Rows<'a> {
        // One upsert per (tenant, subject, purpose): the batch's last entry wins, and an
        // older entry never overwrites a newer status.
        let mut latest: BTreeMap<(&str, &str, &str), (u64, &StatusRow)> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(s) = &e.status {
                let index = s.log_index.unwrap_or(first + i as u64);
                latest.insert(
                    (s.tenant.as_str(), s.subject.as_str(), s.purpose.as_str()),
                    (index, s),
                );
            }
        }
        Rows {
            proofs: chained_proofs(first, entries),
            statuses: latest.into_values().collect(),
            tiles: changed.iter().map(|(id, h)| (*id, tile_bytes(h))).collect(),
            events: entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.event.as_ref().map(|v| (first + i as u64, v)))
                .collect(),
        }
    }
}

/// `rows` log entries: `(idx, entry)` each.
pub(crate) fn insert_entries_sql(rows: usize) -> String {
    format!(
        "INSERT INTO log_entries (idx, entry) VALUES {}",
        placeholders(rows, 2)
    )
}

/// `rows` proof index rows: `(id, tenant_id, subject_id, purpose, decision, log_index,
/// recorded_at)` each, and with `chained` (SQLite) an eighth, `prev_index`: the batch's own
/// predecessor, or `NULL` to take the chain's stored head (`consent_status.log_index`),
/// which must then be read before the batch's status upserts move it.
pub(crate) fn insert_proofs_sql(rows: usize, chained: bool) -> String {
    const COLUMNS: &str = "id, tenant_id, subject_id, purpose, decision, log_index, recorded_at";
    if !chained {
        return format!(
            "INSERT INTO proofs ({COLUMNS}) VALUES {}",
            placeholders(rows, 7)
        );
    }
    // SQLite names the columns of a VALUES list column1, column2…
    format!(
        "INSERT INTO proofs ({COLUMNS}, prev_index) \
         SELECT column1, column2, column3, column4, column5, column6, column7, \
         COALESCE(column8, (SELECT cs.log_index FROM consent_status cs \
         WHERE cs.tenant_id = column2 AND cs.subject_id = column3 AND cs.purpose = column4)) \
         FROM (VALUES {})",
        placeholders(rows, 8)
    )
}

/// `rows` consent status upserts: `(tenant_id, subject_id, purpose, status, proof_id,
/// log_index, updated_at, valid_until)` each; an older entry never overwrites a newer one.
pub(crate) fn upsert_statuses_sql(rows: usize) -> String {
    format!(
        "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, proof_id, log_index, updated_at, valid_until) \
         VALUES {} ON CONFLICT (tenant_id, subject_id, purpose) DO UPDATE SET status = excluded.status, \
         proof_id = excluded.proof_id, log_index = excluded.log_index, updated_at = excluded.updated_at, \
         valid_until = excluded.valid_until \
         WHERE consent_status.log_index IS NULL OR consent_status.log_index < excluded.log_index",
        placeholders(rows, 8)
    )
}

/// `rows` tiles: `(level, idx, hashes)` each, replacing a partial tile's older bytes.
pub(crate) fn upsert_tiles_sql(rows: usize) -> String {
    format!(
        "INSERT INTO log_tiles (level, idx, hashes) VALUES {} \
         ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
        placeholders(rows, 3)
    )
}
