//! Consentry's storage: tenants and API keys, contacts (identity only as ciphertext),
//! consent status, proofs, and the tiled RFC 9162 log — on SQLite or PostgreSQL.
//!
//! One implementation serves both databases through sqlx's `Any` driver: the SQL is the
//! subset both accept (`INSERT … ON CONFLICT`, `RETURNING`), the schema lives in one
//! migration folder per backend, embedded and applied at start; a database written by a
//! newer Consentry is refused. The backend is chosen from the URL scheme; any other scheme
//! is an error.
//!
//! The log is appended in batches ([`Store::append_reading`], whose one caller is the
//! ledger's group commit): one transaction takes the head row's lock, reads the size and
//! what the caller asks for, lets the caller build (and seal) entries for the indices it
//! is handed, writes the entries, the changed tiles, the rows the entries stand for, and
//! the new head, and commits. Indices are therefore gap-free and unique even with several
//! processes on one PostgreSQL database, and an entry is durable before anyone is told
//! its index.

mod anchors;
mod batches;
mod book;
mod catalog;
mod dashboard;
mod events;
mod evidence;
mod export;
mod keyring;
mod log;
mod maintenance;
mod portal;
mod requests;
mod rows;
mod sealed_pdfs;
mod sqlite_writer;
mod staff;
mod webhooks;

pub use anchors::{AnchorRow, AnchorState, AnchoredCheckpoint};
pub use batches::{BatchId, BatchRow, Skipped};
pub use book::{BookCursor, BookFilter, BookOrder, BookPage, SPARSE_MAX};
pub use catalog::{NoticeRow, PurposeRow};
pub use dashboard::{BucketCounts, PurposeCounts};
pub use events::{Erasure, EventRow, StoredEvent};
pub use evidence::{EvidenceRow, NewEvidence};
pub use export::ExportContact;
pub use keyring::{
    KeyedForm, KeyedInsert, RetireOutcome, RewrapRow, Rewrapped, VaultKeyRow, VaultKeyState,
};
pub use log::{
    Amendment, AppendOutcome, EntryRows, EventEffect, NewEntry, RequestAnswer, RequestState, TxAsk,
    TxReads,
};
pub use maintenance::{
    AnchoredNote, EvidenceScanRow, LogCounts, Orphan, Snapshot, StoredCheckpoint, VaultScanRow,
};
pub use portal::{LoginState, PortalSession, PortalSubjects, SubjectProof};
pub use requests::{CANCELLED_UNSENT, NewRequest, RequestRow};
pub use rows::*;
pub use sealed_pdfs::{PdfDocument, PdfKey, SealedPdf};
pub use staff::{ResetState, StaffSessionRow, UserRow};
pub use webhooks::{Delivery, Webhook};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor as _};
use std::time::Duration;

/// A storage failure. Never means "not found": lookups return `Option`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL's scheme is neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL scheme in {0:?}: use sqlite://PATH or postgres://…")]
    UnknownScheme(String),
    /// The database holds migrations this binary does not know: it was written by a newer
    /// Consentry.
    #[error("the database schema is newer than this binary or was altered: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The SQLite append connection failed.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The disk (or the PostgreSQL server's) is full: the transaction was rolled back and
    /// nothing was written. Not a fault of the data: the same call succeeds once space
    /// returns, and the service answers 503 meanwhile.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// Stored data breaks an invariant (a tile or hash of the wrong length, a gap).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The caller's entry builder refused the batch (its own typed error, boxed: the
    /// store does not know the ledger's types).
    #[error("entries could not be built: {0}")]
    Build(#[source] BuildFailure),
    /// The store was called with arguments that cannot go together (a caller's bug).
    #[error("inconsistent store call: {0}")]
    Misuse(String),
    /// Master key versions do not allow the operation (a rotation under way, a key of
    /// another version, the current version not held by this process).
    #[error("master key versions: {0}")]
    Keyring(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if storage_full_sqlx(&e) {
            StoreError::StorageFull(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        let full = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull
        );
        if full {
            StoreError::StorageFull(e.to_string())
        } else {
            StoreError::Sqlite(e)
        }
    }
}

/// Whether `e` says the storage is full: SQLite's `SQLITE_FULL` (result code 13, which
/// SQLite also reports for a write that failed with `ENOSPC`), PostgreSQL's `disk_full`
/// (SQLSTATE 53100), or an I/O error `ENOSPC`.
fn storage_full_sqlx(e: &sqlx::Error) -> bool {
    const ENOSPC: i32 = 28;
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("13") | Some("53100")),
        sqlx::Error::Io(io) => io.raw_os_error() == Some(ENOSPC),
        _ => false,
    }
}

/// Why an entry builder refused a batch, as the builder's own error.
pub type BuildFailure = Box<dyn std::error::Error + Send + Sync>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The storage handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    edge: log::EdgeCache,
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Set when a contact was erased and the SQLite write-ahead log may still hold its
    /// old pages; cleared once the log is truncated.
    shred_pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// SQLite files: the connection log appends run on ([`sqlite_writer`]).
    sqlite_writer: Option<std::sync::Arc<sqlite_writer::Writer>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating an SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnknownScheme(url.chars().take(20).collect()));
        };
        let (url, max) = match backend {
            Backend::Sqlite => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else {
                    format!("{url}{sep}mode=rwc")
                };
                (url, 8)
            }
            Backend::Postgres => (url.to_owned(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; synchronous=FULL fsyncs
                        // every commit so an acknowledged write survives power loss too.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        // WAL checkpoints run from `Store::checkpoint_wal` (the service's
                        // publisher, every second), not inside a commit of the sequencer.
                        conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Deleted and overwritten content is zeroed, in the pages and in
                        // the pages freed: an erased contact's wrapped key and blind index
                        // must not survive in the file's free space.
                        conn.execute("PRAGMA secure_delete = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let sqlite_writer = match backend {
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
                let path = options.get_filename();
                if path.as_os_str() == ":memory:" {
                    None
                } else {
                    Some(std::sync::Arc::new(sqlite_writer::Writer::open(path)?))
                }
            }
            Backend::Postgres => None,
        };
        Ok(Store {
            pool,
            backend,
            edge: log::EdgeCache::default(),
            writer: Default::default(),
            shred_pending: Default::default(),
            sqlite_writer,
        })
    }

    /// On SQLite, the process's turn to write. SQLite has one writer at a time, and a
    /// writer that finds the lock taken sleeps in its busy handler for up to 100 ms a
    /// retry: behind a sequencer committing back to back, the checkpoint publisher or a
    /// contact insert could starve for seconds. Writers of this process queue here in FIFO
    /// order instead. PostgreSQL locks rows, so it needs no turn.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Copies the SQLite write-ahead log into the database file, as far as readers allow
    /// (`PRAGMA wal_checkpoint(PASSIVE)`: it never blocks writers). Automatic checkpoints
    /// are off, so that their fsyncs do not land inside a commit on the hot path; the
    /// service calls this every second. A no-op on PostgreSQL.
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            if self
                .shred_pending
                .load(std::sync::atomic::Ordering::Acquire)
            {
                self.flush_erasures().await?;
            } else {
                sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub(crate) fn note_erasure(&self) {
        if self.backend == Backend::Sqlite {
            self.shred_pending
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// After an erasure, on SQLite: copies the write-ahead log into the database file and
    /// truncates it to zero bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), so that the erased
    /// contact's old pages are gone from the log file too (`secure_delete` has zeroed them
    /// in the database file). Returns whether that is done: `false` when readers still
    /// used the log (within a short wait), in which case the service's every-second
    /// checkpoint tries again until it succeeds. A no-op returning `true` on PostgreSQL
    /// and when no erasure is pending.
    pub async fn flush_erasures(&self) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering;
        if self.backend != Backend::Sqlite || !self.shred_pending.load(Ordering::Acquire) {
            return Ok(true);
        }
        // Our own writers wait for their turn; other connections' readers get a short
        // busy wait, so that the sequencer is never held up for long.
        let _turn = self.write_turn().await;
        let mut conn = self.pool.acquire().await?;
        conn.execute("PRAGMA busy_timeout = 250").await?;
        let result: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await;
        conn.execute("PRAGMA busy_timeout = 10000").await?;
        let (busy, wal_frames, _) = result?;
        let done = busy == 0 && wal_frames == 0;
        if done {
            self.shred_pending.store(false, Ordering::Release);
        } else {
            tracing::info!(
                busy,
                wal_frames,
                "erasure: the write-ahead log is still in use; truncating it later"
            );
        }
        Ok(done)
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.map(|(v,)| v))
    }

    /// Sets `key` to `value` only if it has no value yet; returns the value now stored.
    pub async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        self.meta(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("meta {key} vanished")))
    }
}

pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{v} does not fit a BIGINT")))
}

pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative count {v}")))
}
