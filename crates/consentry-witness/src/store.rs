//! The witness's state in SQLite: per log, the latest cosigned checkpoint, every size it
//! cosigned (with its root), and the evidence it kept.
//!
//! Everything a request reads and writes happens in one `BEGIN IMMEDIATE` transaction
//! (see [`Store::transact`]), so two requests can never both check against the same old
//! state and both be cosigned; with `synchronous = FULL` a commit is on disk before the
//! witness answers, so a witness killed at any point never forgets what it acknowledged.
//! The schema is versioned with `PRAGMA user_version`; a newer database is refused.

use crate::decide::{EvidenceKind, Latest};
use consentry_core::merkle::Hash;
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use std::path::Path;

/// The schema version this build writes.
const SCHEMA_VERSION: i64 = 1;

/// Migrations, in order; entry `i` takes the database from version `i` to `i + 1`.
/// Append only: a shipped migration is never edited.
const MIGRATIONS: &[&str] = &["
CREATE TABLE latest (
    origin      TEXT PRIMARY KEY NOT NULL,
    size        INTEGER NOT NULL,
    root        BLOB NOT NULL,
    note        TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;
CREATE TABLE cosigned (
    origin TEXT NOT NULL,
    size   INTEGER NOT NULL,
    root   BLOB NOT NULL,
    note   TEXT NOT NULL,
    PRIMARY KEY (origin, size)
) STRICT;
CREATE TABLE evidence (
    id               INTEGER PRIMARY KEY,
    origin           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    cosigned_note    TEXT NOT NULL,
    conflicting_note TEXT NOT NULL,
    old_size         INTEGER NOT NULL,
    proof            TEXT NOT NULL,
    received_ms      INTEGER NOT NULL,
    UNIQUE (origin, kind, conflicting_note)
) STRICT;
"];

/// A storage failure. Never read as "no state": the request fails instead.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("witness database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer version of the witness.
    #[error(
        "the witness database has schema version {0}, newer than this build's {SCHEMA_VERSION}"
    )]
    TooNew(i64),
    /// A stored value is not what this build writes (a size above 2^63, a root of the
    /// wrong length, an unknown evidence kind).
    #[error("corrupt witness database: {0}")]
    Corrupt(&'static str),
}

/// A kept piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// Its number, increasing.
    pub id: i64,
    /// The log's origin.
    pub origin: String,
    /// `split_view`, `bad_proof` or `rollback`.
    pub kind: &'static str,
    /// Whether the two signed checkpoints prove misbehaviour on their own.
    pub conclusive: bool,
    /// The checkpoint the witness had cosigned (the log's signed note).
    pub cosigned_checkpoint: String,
    /// The conflicting checkpoint, as the log signed it.
    pub conflicting_checkpoint: String,
    /// The old size of the refused request.
    pub old_size: u64,
    /// Its consistency proof lines (base64).
    pub proof: Vec<String>,
    /// When it was received (Unix milliseconds).
    pub received_ms: i64,
}

/// A checkpoint to record as cosigned.
#[derive(Debug)]
pub struct CosignedRow<'a> {
    /// The log's origin.
    pub origin: &'a str,
    /// Size.
    pub size: u64,
    /// Root.
    pub root: &'a Hash,
    /// The log's signed note (only the verified log signatures).
    pub note: &'a str,
    /// The witness's cosignature line on it.
    pub cosignature: &'a str,
    /// Now, in Unix milliseconds.
    pub now_ms: i64,
}

/// A refusal to keep as evidence.
#[derive(Debug)]
pub struct EvidenceRow<'a> {
    /// The log's origin.
    pub origin: &'a str,
    /// What it proves.
    pub kind: EvidenceKind,
    /// The cosigned size it conflicts with.
    pub against_size: u64,
    /// The refused, validly signed note.
    pub conflicting_note: &'a str,
    /// The request's old size.
    pub old_size: u64,
    /// The request's proof lines.
    pub proof: &'a [Hash],
    /// Now, in Unix milliseconds.
    pub now_ms: i64,
}

/// The witness database (one connection; requests take turns on it).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("size above 2^63"))
}

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("negative size"))
}

fn to_hash(b: Vec<u8>) -> Result<Hash, StoreError> {
    <[u8; 32]>::try_from(b)
        .map(Hash)
        .map_err(|_| StoreError::Corrupt("root is not 32 bytes"))
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Store::init(conn)
    }

    /// An in-memory database, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL with FULL: each commit's WAL frames are fsynced before COMMIT returns.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(sql)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )?;
        }
        tx.commit()?;
        Ok(Store { conn })
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed (durably) if `f` returns
    /// `Ok` and rolled back otherwise.
    pub fn transact<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&Tx(&tx))?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// The latest cosigned note of the log whose origin hashes to `origin_sha256`, with the
    /// witness's cosignature appended (the monitoring endpoint's answer).
    pub fn latest_cosigned_note(
        &self,
        origin_sha256: &[u8; 32],
    ) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT origin, note, cosignature FROM latest")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (origin, note, cosig) = row?;
            if Hash::digest(origin.as_bytes()).0 == *origin_sha256 {
                return Ok(Some(format!("{note}{cosig}")));
            }
        }
        Ok(None)
    }

    /// Evidence with an ID above `after`, oldest first, at most `limit`.
    pub fn evidence(&self, after: i64, limit: u32) -> Result<Vec<Evidence>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, origin, kind, cosigned_note, conflicting_note, old_size, proof, received_ms
             FROM evidence WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, origin, kind, cosigned, conflicting, old, proof, received_ms) = row?;
            let kind =
                EvidenceKind::parse(&kind).ok_or(StoreError::Corrupt("unknown evidence kind"))?;
            out.push(Evidence {
                id,
                origin,
                kind: kind.as_str(),
                conclusive: kind.conclusive(),
                cosigned_checkpoint: cosigned,
                conflicting_checkpoint: conflicting,
                old_size: to_u64(old)?,
                proof: proof.split_terminator('\n').map(str::to_owned).collect(),
                received_ms,
            });
        }
        Ok(out)
    }
}

/// The open transaction handed to [`Store::transact`]'s closure.
pub struct Tx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx<'_> {
    /// The latest cosigned checkpoint of a log.
    pub fn latest(&self, origin: &str) -> Result<Option<Latest>, StoreError> {
        let row = self
            .0
            .prepare_cached("SELECT size, root FROM latest WHERE origin = ?1")?
            .query_row([origin], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        row.map(|(size, root)| {
            Ok(Latest {
                size: to_u64(size)?,
                root: to_hash(root)?,
            })
        })
        .transpose()
    }

    /// The root and note the witness cosigned at `size`, if it ever cosigned that size.
    pub fn cosigned_at(
        &self,
        origin: &str,
        size: u64,
    ) -> Result<Option<(Hash, String)>, StoreError> {
        let row = self
            .0
            .prepare_cached("SELECT root, note FROM cosigned WHERE origin = ?1 AND size = ?2")?
            .query_row(params![origin, to_i64(size)?], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        row.map(|(root, note)| Ok((to_hash(root)?, note)))
            .transpose()
    }

    /// Records a cosigned checkpoint as the log's latest.
    pub fn record_cosigned(&self, row: &CosignedRow<'_>) -> Result<(), StoreError> {
        let size = to_i64(row.size)?;
        self.0
            .prepare_cached(
                "INSERT INTO latest (origin, size, root, note, cosignature, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,
                   note = excluded.note, cosignature = excluded.cosignature,
                   updated_ms = excluded.updated_ms",
            )?
            .execute(params![
                row.origin,
                size,
                row.root.0.as_slice(),
                row.note,
                row.cosignature,
                row.now_ms
            ])?;
        self.0
            .prepare_cached(
                "INSERT INTO cosigned (origin, size, root, note) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (origin, size) DO NOTHING",
            )?
            .execute(params![row.origin, size, row.root.0.as_slice(), row.note])?;
        Ok(())
    }

    /// Keeps a refused checkpoint as evidence beside the cosigned one it conflicts with.
    /// Returns `false` if the same evidence was already kept.
    pub fn record_evidence(&self, row: &EvidenceRow<'_>) -> Result<bool, StoreError> {
        let Some((_, cosigned_note)) = self.cosigned_at(row.origin, row.against_size)? else {
            // Nothing cosigned to hold it against (size 0 was never cosigned).
            return Ok(false);
        };
        let proof: String = row
            .proof
            .iter()
            .map(|h| format!("{}\n", h.to_base64()))
            .collect();
        let n = self
            .0
            .prepare_cached(
                "INSERT INTO evidence (origin, kind, cosigned_note, conflicting_note, old_size, proof, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (origin, kind, conflicting_note) DO NOTHING",
            )?
            .execute(params![
                row.origin,
                row.kind.as_str(),
                cosigned_note,
                row.conflicting_note,
                to_i64(row.old_size)?,
                proof,
                row.now_ms
            ])?;
        Ok(n == 1)
    }
}
