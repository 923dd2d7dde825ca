//! The tiled log in the database: batched, durable appends and the reads proofs need.

use crate::BuildFailure;
use crate::events::{Erasure, EventRow};
use crate::rows::ContactRow;
use crate::rows::{ProofRow, StatusRow};
use crate::{Store, StoreError, to_i64, to_u64};
use consentry_core::consent::RequestStatus;
use consentry_core::ids::{RequestId, SubjectId, TenantId};
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
    /// What the entry writes besides itself, in the same transaction.
    pub rows: EntryRows,
}

/// What an entry stands for in the database: the rows written with it, in its append
/// transaction, so that the book never says what the log does not (and the reverse).
#[derive(Debug, Clone)]
pub enum EntryRows {
    /// A consent proof.
    Proof {
        /// Its index row.
        proof: ProofRow,
        /// The consent status it sets.
        status: StatusRow,
        /// The delegated request it answers, closed in the same transaction.
        answer: Option<RequestAnswer>,
    },
    /// An event about a subject's identity data.
    Event {
        /// Its index row.
        event: EventRow,
        /// What it does to the subject's vault record, if anything.
        effect: Option<EventEffect>,
    },
}

/// What an event does to a subject's vault record, with its entry.
#[derive(Debug, Clone)]
pub enum EventEffect {
    /// Crypto-shreds the record (a `data.erased` event).
    Erase(Erasure),
    /// Replaces the sealed identity (a `data.amended` event).
    Amend(Amendment),
}

/// A delegated request answered by a proof: its row closed with the answer, and the
/// sender's webhook event queued (if the tenant has a webhook), in the proof's
/// transaction — the sender hears of every answer recorded and of no other.
#[derive(Debug, Clone)]
pub struct RequestAnswer {
    /// The request.
    pub request: RequestId,
    /// The answer: `Granted` or `Refused`.
    pub status: RequestStatus,
    /// When, Unix milliseconds.
    pub answered_at: i64,
    /// The webhook event: delivery ID and JSON body.
    pub webhook: (String, String),
}

impl NewEntry {
    /// The proof index row, if the entry is a proof.
    pub fn proof(&self) -> Option<&ProofRow> {
        match &self.rows {
            EntryRows::Proof { proof, .. } => Some(proof),
            EntryRows::Event { .. } => None,
        }
    }

    /// The consent status the entry sets, if any.
    pub fn status(&self) -> Option<&StatusRow> {
        match &self.rows {
            EntryRows::Proof { status, .. } => Some(status),
            EntryRows::Event { .. } => None,
        }
    }

    /// The event index row, if the entry is an event.
    pub fn event(&self) -> Option<&EventRow> {
        match &self.rows {
            EntryRows::Event { event, .. } => Some(event),
            EntryRows::Proof { .. } => None,
        }
    }

    /// The contact the entry erases, if it is a `data.erased` event.
    pub fn erasure(&self) -> Option<&Erasure> {
        match &self.rows {
            EntryRows::Event {
                effect: Some(EventEffect::Erase(e)),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// The new identity the entry writes, if it is a `data.amended` event.
    pub fn amendment(&self) -> Option<&Amendment> {
        match &self.rows {
            EntryRows::Event {
                effect: Some(EventEffect::Amend(a)),
                ..
            } => Some(a),
            _ => None,
        }
    }

    /// The delegated request the entry answers, if any.
    pub fn answer(&self) -> Option<&RequestAnswer> {
        match &self.rows {
            EntryRows::Proof { answer, .. } => answer.as_ref(),
            EntryRows::Event { .. } => None,
        }
    }
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

/// What an append transaction reads, under the log lock, before its entries are built.
#[derive(Debug, Default, Clone, Copy)]
pub struct TxAsk<'a> {
    /// The contacts the entries are about.
    pub subjects: &'a [SubjectId],
    /// The (tenant, subject, purpose) triples whose consent status decides an entry.
    pub statuses: &'a [(TenantId, SubjectId, String)],
    /// The delegated requests entries answer.
    pub requests: &'a [RequestId],
}

/// What an append transaction read before its entries were built: the contacts the
/// entries are about, the consent status of the (tenant, subject, purpose) triples
/// asked for, and the state of the requests asked for, all as of the moment the log
/// lock was taken.
#[derive(Debug, Default)]
pub struct TxReads {
    /// Contacts by pseudonym (any tenant: the builder checks the owner).
    pub contacts: HashMap<SubjectId, (TenantId, ContactRow)>,
    /// Consent status rows by (tenant, subject, purpose); absent: nothing recorded.
    pub statuses: HashMap<(TenantId, SubjectId, String), StatusRow>,
    /// Delegated requests by ID (any tenant: the builder checks the owner).
    pub requests: HashMap<RequestId, RequestState>,
}

/// A delegated request's state as an answer is decided on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    /// The sender.
    pub tenant: TenantId,
    /// Where it stands.
    pub status: RequestStatus,
    /// SHA-256 of the current link token (a resend replaces it).
    pub token_hash: [u8; 32],
    /// Window closes at (Unix ms).
    pub expires_at: i64,
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

/// A delegated request closed by its answer; only a pending one (the decision was taken
/// under the log lock on its state: anything else is a bug, and the transaction fails).
pub(crate) const ANSWER_REQUEST: &str = "UPDATE consent_requests SET status = $1, answered_at = $2, proof_id = $3 \
     WHERE id = $4 AND status = 'pending'";

/// A webhook event queued for a tenant, if it has a webhook.
pub(crate) const ENQUEUE_WEBHOOK: &str = "INSERT INTO webhook_deliveries (id, tenant_id, event, status, attempts, next_at, created_at) \
     SELECT $1, tenant_id, $2, 'queued', 0, $3, $3 FROM tenant_webhooks WHERE tenant_id = $4";

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
    /// The one append: in one transaction, takes the log lock, reads what `ask` names —
    /// the contacts the entries are about (by pseudonym: a contact erased or unknown at
    /// commit time is seen), the consent status of each `(tenant, subject, purpose)`, the
    /// state of each delegated request — and hands it to `build` with the index of the
    /// first new entry; writes the entries it returns, in order, with their rows
    /// ([`EntryRows`]) and the tiles, and commits. They are durable when this returns
    /// `Ok`; on any error nothing is written. A decision taken
    /// on them by `build` (a reveal allowed or refused) sees every decision committed
    /// before its own entry, and none after. A revocation acknowledged to its sender is
    /// therefore seen by every reveal appended after it.
    ///
    /// When an entry erases a contact, the SQLite write-ahead log is marked for
    /// truncation ([`Store::flush_erasures`]), so that the erased bytes leave it too.
    ///
    /// On SQLite it runs on the append connection (`sqlite_writer.rs`); on
    /// PostgreSQL through sqlx. Both drivers plan the same rows (`log::Rows`) with the same
    /// statements. The ledger's group commit is its one caller outside tests.
    pub async fn append_reading<T, F>(
        &self,
        ask: TxAsk<'_>,
        build: F,
    ) -> Result<AppendOutcome<T>, StoreError>
    where
        F: FnOnce(u64, &TxReads) -> Result<(Vec<NewEntry>, T), BuildFailure>,
    {
        let mut cached = self.edge.0.lock().await;
        let _turn = self.write_turn().await;
        if let Some(writer) = &self.sqlite_writer {
            let result = blocking(|| writer.append(cached.take(), ask, build));
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
                contacts: crate::rows::contacts_in_tx(&mut tx, ask.subjects).await?,
                statuses: crate::rows::statuses_in_tx(&mut tx, ask.statuses).await?,
                requests: crate::requests::states_in_tx(&mut tx, ask.requests).await?,
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
    F: FnOnce(u64) -> Result<(Vec<NewEntry>, T), BuildFailure>,
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
        for (p, a) in entries
            .iter()
            .filter_map(|e| Some((e.proof()?, e.answer()?)))
        {
            let done = sqlx::query(ANSWER_REQUEST)
                .bind(a.status.as_str())
                .bind(a.answered_at)
                .bind(p.id.as_str())
                .bind(a.request.as_str())
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if done != 1 {
                return Err(corrupt(format!(
                    "answering {}: the request changed under the log lock",
                    a.request
                )));
            }
            sqlx::query(ENQUEUE_WEBHOOK)
                .bind(a.webhook.0.as_str())
                .bind(a.webhook.1.as_str())
                .bind(a.answered_at)
                .bind(p.tenant.as_str())
                .execute(&mut **tx)
                .await?;
        }
        let mut erased = false;
        for erasure in entries.iter().filter_map(NewEntry::erasure) {
            crate::events::erase_in_tx(tx, erasure).await?;
            erased = true;
        }
        for a in entries.iter().filter_map(NewEntry::amendment) {
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

    /// The entries at indices `start..end`, in order (fewer when the log is shorter): an
    /// entry bundle of the C2SP tlog-tiles API.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
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

    /// Replaces a checkpoint's note by the same note with witness cosignature lines
    /// appended (`cosignatures` valid ones in all), unless it already carries as many.
    /// The caller checked that `note` has the stored note's body and log signature.
    pub async fn cosign_checkpoint(
        &self,
        size: u64,
        note: &str,
        cosignatures: usize,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let count = i64::try_from(cosignatures).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query(
            "UPDATE checkpoints SET note = $1, cosignatures = $2 WHERE size = $3 AND cosignatures < $2",
        )
        .bind(note)
        .bind(count)
        .bind(to_i64(size)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The latest checkpoint with at least `quorum` witness cosignatures: size and note.
    pub async fn latest_witnessed_checkpoint(
        &self,
        quorum: usize,
    ) -> Result<Option<(u64, String)>, StoreError> {
        let quorum = i64::try_from(quorum).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT size, note FROM checkpoints WHERE cosignatures >= $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(quorum)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(s, n)| Ok((to_u64(s)?, n))).transpose()
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
        .filter_map(|(i, e)| e.proof().map(|p| (first + i as u64, p)))
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
            if let Some(s) = e.status() {
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
                .filter_map(|(i, e)| e.event().map(|v| (first + i as u64, v)))
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
