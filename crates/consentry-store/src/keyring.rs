//! Master key versions, and the contact rows that move between them.
//!
//! The database is where a deployment's processes agree on which master key is which:
//! the `vault_keys` table names each version by its check value (never the key), and
//! says which one is `current` (new rows), which is `next` (announced: every service
//! loads it before it becomes current), which is `previous` (rows still being re-wrapped
//! away from it) and which are `retired`. Each contact records its `key_version`: its
//! wrapped key and its e-mail blind index are both under that version, so a row is
//! either old or new, never half of each.
//!
//! Three rules keep de-duplication right while two versions coexist:
//!
//! - a new contact is written under the version the **database** says is current, in the
//!   insert statement itself ([`Store::insert_contact_keyed`] is handed the row's form
//!   under every version its process holds and the statement picks one), so all the
//!   inserts of a moment use one version and the unique `(tenant, email_index)`
//!   constraint catches two inserts of one address;
//! - the same statement refuses an address whose blind index under **any** held version
//!   is already in the book;
//! - on PostgreSQL the insert takes a share lock on the current version's row, and
//!   switching versions updates that row, so no insert straddles the switch: one that
//!   read the old version commits before the switch does, and the rows it wrote are then
//!   seen (and re-wrapped) like any other.
//!
//! Re-wrapping goes in batches, each its own transaction, each row updated only if it is
//! still exactly what was read (compare-and-set on the version, the wrapped key and the
//! sealed identity), so a crash loses at most the batch in flight and a concurrent
//! amendment or erasure is never overwritten.

use crate::{Backend, NewContact, Store, StoreError, to_u64};
use consentry_core::ids::{SubjectId, TenantId};

/// Where a master key version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultKeyState {
    /// New rows are written under it.
    Current,
    /// Announced: services load it, nothing is written under it yet.
    Next,
    /// Rows are being re-wrapped away from it.
    Previous,
    /// No row uses it any more; its key can be destroyed.
    Retired,
}

impl VaultKeyState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VaultKeyState::Current => "current",
            VaultKeyState::Next => "next",
            VaultKeyState::Previous => "previous",
            VaultKeyState::Retired => "retired",
        }
    }

    fn parse(s: &str) -> Result<VaultKeyState, StoreError> {
        Ok(match s {
            "current" => VaultKeyState::Current,
            "next" => VaultKeyState::Next,
            "previous" => VaultKeyState::Previous,
            "retired" => VaultKeyState::Retired,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown master key state {other:?}"
                )));
            }
        })
    }
}

/// A master key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKeyRow {
    /// 1, 2, …
    pub version: u32,
    /// The key's check value (it names the key, it does not reveal it).
    pub key_check: [u8; 32],
    /// Where it stands.
    pub state: VaultKeyState,
    /// When it was registered, Unix milliseconds.
    pub created_at: i64,
    /// When it was retired, Unix milliseconds.
    pub retired_at: Option<i64>,
}

/// A new contact's wrapped key and blind index under one master key version.
#[derive(Clone)]
pub struct KeyedForm {
    /// The version.
    pub version: u32,
    /// The e-mail blind index under that version.
    pub email_index: [u8; 32],
    /// The subject key wrapped under that version.
    pub wrapped_key: Vec<u8>,
}

impl std::fmt::Debug for KeyedForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyedForm(v{})", self.version)
    }
}

/// The outcome of [`Store::insert_contact_keyed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyedInsert {
    /// Stored under this master key version.
    Inserted(u32),
    /// The tenant already has a contact with this address (under some version).
    Duplicate(SubjectId),
}

/// A contact row to re-wrap, as read.
#[derive(Clone)]
pub struct RewrapRow {
    /// Owner.
    pub tenant: TenantId,
    /// Pseudonym.
    pub id: SubjectId,
    /// Wrapped subject key; `None` once erased.
    pub wrapped_key: Option<Vec<u8>>,
    /// Sealed identity; `None` once erased.
    pub identity: Option<Vec<u8>>,
}

impl std::fmt::Debug for RewrapRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewrapRow")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A re-wrapped row: the row as read (for the compare-and-set) and its new form.
#[derive(Clone)]
pub struct Rewrapped {
    /// The row as read.
    pub read: RewrapRow,
    /// The subject key wrapped under the new version, and the blind index under it (the
    /// old index is kept when the identity could not be read: an erased row's tombstone).
    pub wrapped_key: Option<Vec<u8>>,
    /// The e-mail blind index under the new version, if it could be computed.
    pub email_index: Option<[u8; 32]>,
}

impl std::fmt::Debug for Rewrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rewrapped")
            .field("id", &self.read.id)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`Store::retire_vault_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetireOutcome {
    /// Retired: no row uses it.
    Retired,
    /// Refused: these many contacts are still under it.
    StillInUse(u64),
    /// Refused: it is not the previous version (nothing to retire, or it is current).
    NotPrevious(Option<VaultKeyState>),
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn keyring(e: impl Into<String>) -> StoreError {
    StoreError::Keyring(e.into())
}

fn version_of(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(format!("master key version {v} out of range")))
}

type KeyTuple = (i64, Vec<u8>, String, i64, Option<i64>);
type RewrapTuple = (String, String, Option<Vec<u8>>, Option<Vec<u8>>);

fn key_from(t: KeyTuple) -> Result<VaultKeyRow, StoreError> {
    Ok(VaultKeyRow {
        version: version_of(t.0)?,
        key_check: <[u8; 32]>::try_from(t.1.as_slice())
            .map_err(|_| corrupt("a master key check value is not 32 bytes"))?,
        state: VaultKeyState::parse(&t.2)?,
        created_at: t.3,
        retired_at: t.4,
    })
}

/// The statement of [`Store::insert_contact_keyed`] for a row with `forms` keyed forms:
/// `$1..$7` the row, then per form its version, blind index and wrapped key (bound by
/// [`bind_keyed_insert`]). It returns the version the row was stored under, or no row if
/// the book already holds one of the blind indexes (or no form is under the current
/// version).
pub(crate) fn keyed_insert_sql(backend: Backend, forms: usize) -> String {
    let p = |i: usize, k: usize| format!("${}", 8 + 3 * i + k);
    let case = |k: usize| {
        let arms: Vec<String> = (0..forms)
            .map(|i| format!("WHEN {} THEN {}", p(i, 0), p(i, k)))
            .collect();
        format!("CASE v.version {} END", arms.join(" "))
    };
    let versions: Vec<String> = (0..forms).map(|i| p(i, 0)).collect();
    let indexes: Vec<String> = (0..forms).map(|i| p(i, 1)).collect();
    // PostgreSQL: share-lock the current version's row; switching versions updates it,
    // so it waits for this insert, and this insert for it (see the module docs).
    let lock = match backend {
        Backend::Postgres => "FOR SHARE OF v",
        Backend::Sqlite => "",
    };
    format!(
        "INSERT INTO contacts (id, tenant_id, email_index, wrapped_key, identity, \
         address_commitment, category, attributes, created_at, key_version) \
         SELECT $1, $2, {}, {}, $3, $4, $5, $6, $7, v.version FROM vault_keys v \
         WHERE v.state = 'current' AND v.version IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = $2 AND c.email_index IN ({})) \
         {lock} ON CONFLICT (tenant_id, email_index) DO NOTHING RETURNING key_version",
        case(1),
        case(2),
        versions.join(", "),
        indexes.join(", "),
    )
}

/// Binds a row and its keyed forms to the statement of [`keyed_insert_sql`].
pub(crate) fn bind_keyed_insert<'q>(
    q: sqlx::query::QueryAs<'q, sqlx::Any, (i64,), sqlx::any::AnyArguments<'q>>,
    c: &'q NewContact,
    forms: &'q [KeyedForm],
) -> sqlx::query::QueryAs<'q, sqlx::Any, (i64,), sqlx::any::AnyArguments<'q>> {
    let mut q = q
        .bind(c.id.as_str())
        .bind(c.tenant.as_str())
        .bind(c.identity.clone())
        .bind(c.address_commitment.as_str())
        .bind(c.category.as_str())
        .bind(c.attributes.as_str())
        .bind(c.created_at);
    for f in forms {
        q = q
            .bind(i64::from(f.version))
            .bind(f.email_index.to_vec())
            .bind(f.wrapped_key.clone());
    }
    q
}

impl Store {
    /// Every master key version, oldest first.
    pub async fn vault_keys(&self) -> Result<Vec<VaultKeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = sqlx::query_as(
            "SELECT version, key_check, state, created_at, retired_at FROM vault_keys ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(key_from).collect()
    }

    /// On a database that has no master key version yet, records the key with check value
    /// `check` as version 1, current (the key every existing row was written under).
    /// Returns every version, as after [`Store::vault_keys`].
    pub async fn adopt_vault_key(
        &self,
        check: &[u8; 32],
        now: i64,
    ) -> Result<Vec<VaultKeyRow>, StoreError> {
        {
            let _turn = self.write_turn().await;
            sqlx::query(
                "INSERT INTO vault_keys (version, key_check, state, created_at) \
                 SELECT 1, $1, 'current', $2 WHERE NOT EXISTS (SELECT 1 FROM vault_keys) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(check.to_vec())
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        self.vault_keys().await
    }

    /// Announces a new master key, named by `check`, as the next version. Refused while a
    /// rotation is under way (a next or previous version exists) or if this key was
    /// already used. Returns its version.
    pub async fn announce_vault_key(&self, check: &[u8; 32], now: i64) -> Result<u32, StoreError> {
        // One statement, checks included: on SQLite a transaction that read before it
        // writes can be refused outright when another process wrote meanwhile.
        let done = {
            let _turn = self.write_turn().await;
            sqlx::query(
                "INSERT INTO vault_keys (version, key_check, state, created_at) \
                 SELECT m.v, $1, 'next', $2 FROM (SELECT COALESCE(MAX(version), 0) + 1 AS v FROM vault_keys) m \
                 WHERE EXISTS (SELECT 1 FROM vault_keys WHERE state = 'current') \
                 AND NOT EXISTS (SELECT 1 FROM vault_keys WHERE state IN ('next', 'previous') OR key_check = $1)",
            )
            .bind(check.to_vec())
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected()
        };
        let keys = self.vault_keys().await?;
        if done == 1
            && let Some(k) = keys
                .iter()
                .find(|k| &k.key_check == check && k.state == VaultKeyState::Next)
        {
            return Ok(k.version);
        }
        if let Some(k) = keys.iter().find(|k| &k.key_check == check) {
            return Err(keyring(format!(
                "this key is already master key version {} ({}); a rotation needs a key never used before",
                k.version,
                k.state.as_str()
            )));
        }
        if let Some(k) = keys
            .iter()
            .find(|k| matches!(k.state, VaultKeyState::Next | VaultKeyState::Previous))
        {
            return Err(keyring(format!(
                "a rotation is under way (version {} is {})",
                k.version,
                k.state.as_str()
            )));
        }
        Err(keyring("no current master key version is recorded"))
    }

    /// Makes the next version `version` current, and the current one previous. Idempotent:
    /// if `version` is already current, nothing changes.
    pub async fn switch_vault_key(&self, version: u32) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // Updating the current row first takes its lock (on PostgreSQL, the lock every
        // contact insert shares): inserts that read the old version finish first.
        sqlx::query(
            "UPDATE vault_keys SET state = 'previous' WHERE state = 'current' AND version <> $1",
        )
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await?;
        let state: Option<(String,)> =
            sqlx::query_as("SELECT state FROM vault_keys WHERE version = $1")
                .bind(i64::from(version))
                .fetch_optional(&mut *tx)
                .await?;
        match state.as_ref().map(|(s,)| s.as_str()) {
            Some("next") => {
                sqlx::query("UPDATE vault_keys SET state = 'current' WHERE version = $1")
                    .bind(i64::from(version))
                    .execute(&mut *tx)
                    .await?;
            }
            Some("current") => {}
            other => {
                return Err(keyring(format!(
                    "master key version {version} is {} and cannot become current",
                    other.unwrap_or("unknown")
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Retires the previous version `version` if no contact is under it any more.
    pub async fn retire_vault_key(
        &self,
        version: u32,
        now: i64,
    ) -> Result<RetireOutcome, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // The update first: it takes the row's lock, and SQLite's write lock.
        let done = sqlx::query(
            "UPDATE vault_keys SET state = 'retired', retired_at = $1 WHERE version = $2 AND state = 'previous'",
        )
        .bind(now)
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            let state: Option<(String,)> =
                sqlx::query_as("SELECT state FROM vault_keys WHERE version = $1")
                    .bind(i64::from(version))
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.rollback().await?;
            let state = state.map(|(s,)| VaultKeyState::parse(&s)).transpose()?;
            return Ok(RetireOutcome::NotPrevious(state));
        }
        let (left,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM contacts WHERE key_version = $1")
                .bind(i64::from(version))
                .fetch_one(&mut *tx)
                .await?;
        if left > 0 {
            tx.rollback().await?;
            return Ok(RetireOutcome::StillInUse(to_u64(left)?));
        }
        tx.commit().await?;
        Ok(RetireOutcome::Retired)
    }

    /// How many contacts are under each master key version, by version.
    pub async fn contacts_by_key_version(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT key_version, COUNT(*) FROM contacts GROUP BY key_version ORDER BY key_version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(v, n)| Ok((version_of(v)?, to_u64(n)?)))
            .collect()
    }

    /// Up to `limit` contacts under master key `version`, in pseudonym order after `after`.
    pub async fn contacts_to_rewrap(
        &self,
        version: u32,
        after: Option<&SubjectId>,
        limit: u32,
    ) -> Result<Vec<RewrapRow>, StoreError> {
        let rows: Vec<RewrapTuple> = sqlx::query_as(
            "SELECT tenant_id, id, wrapped_key, identity FROM contacts \
             WHERE key_version = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(i64::from(version))
        .bind(after.map(|a| a.as_str().to_owned()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant, id, wrapped_key, identity)| {
                Ok(RewrapRow {
                    tenant: TenantId::parse(&tenant).map_err(corrupt)?,
                    id: SubjectId::parse(&id).map_err(corrupt)?,
                    wrapped_key,
                    identity,
                })
            })
            .collect()
    }

    /// Moves a batch of contacts from master key version `from` to `to` in one
    /// transaction. Each row changes only if it is still exactly as read; the others are
    /// left for a later batch. Returns how many rows moved.
    ///
    /// A blind index that another contact of the tenant already holds makes the whole
    /// batch fail (the unique constraint): the caller retries that batch row by row to
    /// find the one at fault.
    pub async fn rewrap_contacts(
        &self,
        from: u32,
        to: u32,
        batch: &[Rewrapped],
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut moved = 0;
        for r in batch {
            let done = match (&r.read.wrapped_key, &r.wrapped_key) {
                (Some(old), Some(new)) => {
                    // A new blind index, or (an identity that could not be read) the old
                    // one kept; the identity compared as read, absent included.
                    sqlx::query(
                        "UPDATE contacts SET wrapped_key = $1, email_index = COALESCE($2, email_index), \
                         key_version = $3 WHERE id = $4 AND tenant_id = $5 AND key_version = $6 \
                         AND wrapped_key = $7 AND (identity = $8 OR (identity IS NULL AND $8 IS NULL))",
                    )
                    .bind(new.clone())
                    .bind(r.email_index.map(|ix| ix.to_vec()))
                    .bind(i64::from(to))
                    .bind(r.read.id.as_str())
                    .bind(r.read.tenant.as_str())
                    .bind(i64::from(from))
                    .bind(old.clone())
                    .bind(r.read.identity.clone())
                    .execute(&mut *tx)
                    .await?
                }
                // Erased: nothing is wrapped, the tombstone index stays as it is.
                (None, _) => {
                    sqlx::query(
                        "UPDATE contacts SET key_version = $1 WHERE id = $2 AND tenant_id = $3 \
                         AND key_version = $4 AND wrapped_key IS NULL",
                    )
                    .bind(i64::from(to))
                    .bind(r.read.id.as_str())
                    .bind(r.read.tenant.as_str())
                    .bind(i64::from(from))
                    .execute(&mut *tx)
                    .await?
                }
                (Some(_), None) => {
                    return Err(StoreError::Misuse(format!(
                        "contact {} has a wrapped key but no re-wrapped form",
                        r.read.id
                    )));
                }
            };
            moved += done.rows_affected();
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Inserts a contact under the master key version the database says is current,
    /// choosing among `forms` (the row's wrapped key and blind index under each version
    /// the caller holds) in the statement itself, unless the tenant already has a contact
    /// whose blind index is any of the forms' (under any version). `c.email_index` and
    /// `c.wrapped_key` are not used: the forms carry them.
    ///
    /// # Errors
    ///
    /// [`StoreError::Keyring`] if the current version is not among the forms' (this
    /// process does not hold the current master key: it must reload its keys).
    pub async fn insert_contact_keyed(
        &self,
        c: &NewContact,
        forms: &[KeyedForm],
    ) -> Result<KeyedInsert, StoreError> {
        if forms.is_empty() {
            return Err(StoreError::Misuse(
                "a contact needs at least one keyed form".into(),
            ));
        }
        let sql = keyed_insert_sql(self.backend, forms.len());
        // Twice at most: on PostgreSQL, an insert that began just before a switch sees
        // no current version among the ones it knew when it locks; the next one does.
        for _ in 0..2 {
            let inserted: Option<(i64,)> = {
                let _turn = self.write_turn().await;
                bind_keyed_insert(sqlx::query_as(&sql), c, forms)
                    .fetch_optional(&self.pool)
                    .await?
            };
            if let Some((v,)) = inserted {
                return Ok(KeyedInsert::Inserted(version_of(v)?));
            }
            if let Some(existing) = self
                .contact_by_any_index(&c.tenant, forms.iter().map(|f| f.email_index))
                .await?
            {
                return Ok(KeyedInsert::Duplicate(existing));
            }
        }
        let held: Vec<u32> = forms.iter().map(|f| f.version).collect();
        let current = self
            .vault_keys()
            .await?
            .into_iter()
            .find(|k| k.state == crate::VaultKeyState::Current)
            .map(|k| k.version);
        Err(keyring(match current {
            Some(v) => format!(
                "the current master key is version {v}, this process holds versions {held:?}: reload the keys"
            ),
            None => "no current master key version is recorded".to_owned(),
        }))
    }

    /// The tenant's contact whose blind index is any of `indexes`, if any.
    async fn contact_by_any_index(
        &self,
        tenant: &TenantId,
        indexes: impl Iterator<Item = [u8; 32]>,
    ) -> Result<Option<SubjectId>, StoreError> {
        let indexes: Vec<[u8; 32]> = indexes.collect();
        let placeholders: Vec<String> = (0..indexes.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id FROM contacts WHERE tenant_id = $1 AND email_index IN ({}) ORDER BY id LIMIT 1",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String,)>(&sql).bind(tenant.as_str());
        for ix in &indexes {
            q = q.bind(ix.to_vec());
        }
        q.fetch_optional(&self.pool)
            .await?
            .map(|(id,)| SubjectId::parse(&id).map_err(corrupt))
            .transpose()
    }

    /// The master key version of a contact (any tenant), if it exists.
    pub async fn contact_key_version(&self, id: &SubjectId) -> Result<Option<u32>, StoreError> {
        let v: Option<(i64,)> = sqlx::query_as("SELECT key_version FROM contacts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        v.map(|(v,)| version_of(v)).transpose()
    }
}
