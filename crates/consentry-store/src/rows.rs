//! Tenants, API keys, contacts, consent status and proofs.

use crate::{Store, StoreError, to_u64};
use consentry_core::event::ConsentState;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::proof::Decision;
use consentry_core::proof::RecipientCategory;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A tenant (a sender company).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    /// Its ID.
    pub id: TenantId,
    /// Its display name.
    pub name: String,
    /// Its contact for recipients (an e-mail address or an https URL of the
    /// organisation, checked when set), shown on its e-mails and answer pages.
    pub contact: Option<String>,
}

/// What an API key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// The key's public ID (never the key).
    pub key_id: String,
    /// The tenant it acts for.
    pub tenant: TenantRow,
}

/// A contact to insert. Identity data arrives already encrypted.
#[derive(Clone)]
pub struct NewContact {
    /// Pseudonym.
    pub id: SubjectId,
    /// Owner.
    pub tenant: TenantId,
    /// Keyed blind index of the normalised e-mail address.
    pub email_index: [u8; 32],
    /// The subject key, wrapped by the tenant key.
    pub wrapped_key: Vec<u8>,
    /// The sealed identity record.
    pub identity: Vec<u8>,
    /// Keyed commitment to the normalised address, as proofs carry it.
    pub address_commitment: String,
    /// Recipient category.
    pub category: RecipientCategory,
    /// Non-identifying attributes, JSON object text.
    pub attributes: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

impl std::fmt::Debug for NewContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewContact")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// The outcome of inserting a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactInsert {
    /// Stored.
    Inserted,
    /// The tenant already has a contact with this e-mail address.
    Duplicate(SubjectId),
}

/// A stored contact (identity still encrypted). Comparable, so that a decision taken on
/// a row read earlier can be checked against the row as the append transaction reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct ContactRow {
    /// Pseudonym.
    pub id: SubjectId,
    /// Keyed commitment to the normalised address.
    pub address_commitment: String,
    /// Recipient category.
    pub category: RecipientCategory,
    /// Non-identifying attributes, JSON object text.
    pub attributes: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Wrapped subject key; `None` once erased.
    pub wrapped_key: Option<Vec<u8>>,
    /// Sealed identity; `None` once erased.
    pub identity: Option<Vec<u8>>,
}

impl std::fmt::Debug for ContactRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactRow")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The consent state of one subject for one purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// Owner.
    pub tenant: TenantId,
    /// Subject.
    pub subject: SubjectId,
    /// Purpose key.
    pub purpose: String,
    /// The state stored (a grant past its `valid_until` is still stored granted: see
    /// [`ConsentState::of_book`]).
    pub status: ConsentState,
    /// The proof that set it, if any.
    pub proof_id: Option<ProofId>,
    /// That proof's log index.
    pub log_index: Option<u64>,
    /// When it was set, Unix milliseconds.
    pub updated_at: i64,
    /// When a granted consent lapses, Unix milliseconds.
    pub valid_until: Option<i64>,
}

/// A proof's index row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRow {
    /// Proof ID.
    pub id: ProofId,
    /// Owner.
    pub tenant: TenantId,
    /// Subject.
    pub subject: SubjectId,
    /// Purpose.
    pub purpose: String,
    /// Decision.
    pub decision: Decision,
    /// Recorded at, Unix milliseconds.
    pub recorded_at: i64,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) type ContactTuple = (
    String,
    String,
    String,
    String,
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

pub(crate) fn contact_from(t: ContactTuple) -> Result<ContactRow, StoreError> {
    Ok(ContactRow {
        id: SubjectId::parse(&t.0).map_err(corrupt)?,
        address_commitment: t.1,
        category: RecipientCategory::from_book(&t.2),
        attributes: t.3,
        created_at: t.4,
        wrapped_key: t.5,
        identity: t.6,
    })
}

/// The contacts with these pseudonyms (any tenant), read on `conn` (inside a
/// transaction, or not).
pub(crate) async fn contacts_in_tx(
    conn: &mut sqlx::AnyConnection,
    ids: &[SubjectId],
) -> Result<std::collections::HashMap<SubjectId, (TenantId, ContactRow)>, StoreError> {
    let mut out = std::collections::HashMap::new();
    let mut unique: Vec<&SubjectId> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    // SQLite: one statement text whatever the batch (the IDs as a JSON array), so that it
    // stays prepared; PostgreSQL: an IN list per chunk.
    let sqlite = conn.backend_name() == "SQLite";
    let chunks: Vec<&[&SubjectId]> = if sqlite {
        vec![&unique[..]]
    } else {
        unique.chunks(200).collect()
    };
    for chunk in chunks {
        let sql = if sqlite {
            SQLITE_CONTACTS_BY_ID.to_owned()
        } else {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            format!(
                "SELECT tenant_id, {CONTACT_COLUMNS} FROM contacts WHERE id IN ({})",
                placeholders.join(", ")
            )
        };
        let mut q = sqlx::query_as::<
            _,
            (
                String,
                String,
                String,
                String,
                String,
                i64,
                Option<Vec<u8>>,
                Option<Vec<u8>>,
            ),
        >(&sql);
        if sqlite {
            let ids =
                serde_json::Value::from(chunk.iter().map(|id| id.as_str()).collect::<Vec<_>>());
            q = q.bind(ids.to_string());
        } else {
            for id in chunk {
                q = q.bind(id.as_str());
            }
        }
        for (tenant, id, commitment, category, attributes, created_at, wrapped, identity) in
            q.fetch_all(&mut *conn).await?
        {
            let row = contact_from((
                id, commitment, category, attributes, created_at, wrapped, identity,
            ))?;
            out.insert(
                row.id.clone(),
                (TenantId::parse(&tenant).map_err(corrupt)?, row),
            );
        }
    }
    Ok(out)
}

pub(crate) type StatusTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

pub(crate) fn status_from(tenant: &TenantId, t: StatusTuple) -> Result<StatusRow, StoreError> {
    let (subject, purpose, status, proof_id, log_index, updated_at, valid_until) = t;
    Ok(StatusRow {
        tenant: tenant.clone(),
        subject: SubjectId::parse(&subject).map_err(corrupt)?,
        purpose,
        status: ConsentState::parse(&status)
            .ok_or_else(|| corrupt(format!("consent status {status:?}")))?,
        proof_id: proof_id
            .map(|p| ProofId::parse(&p))
            .transpose()
            .map_err(corrupt)?,
        log_index: log_index.map(to_u64).transpose()?,
        updated_at,
        valid_until,
    })
}

/// The consent status of each `(tenant, subject, purpose)` that has one, read inside a
/// transaction.
pub(crate) async fn statuses_in_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    wanted: &[(TenantId, SubjectId, String)],
) -> Result<HashMap<(TenantId, SubjectId, String), StatusRow>, StoreError> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let keys: HashSet<(&TenantId, &SubjectId, &str)> =
        wanted.iter().map(|(t, s, p)| (t, s, p.as_str())).collect();
    let mut by_tenant: BTreeMap<&TenantId, BTreeSet<&SubjectId>> = BTreeMap::new();
    for (t, s, _) in wanted {
        by_tenant.entry(t).or_default().insert(s);
    }
    for (tenant, subjects) in by_tenant {
        let subjects: Vec<&SubjectId> = subjects.into_iter().collect();
        for chunk in subjects.chunks(200) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT subject_id, purpose, status, proof_id, log_index, updated_at, valid_until \
                 FROM consent_status WHERE tenant_id = $1 AND subject_id IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<_, StatusTuple>(&sql).bind(tenant.as_str());
            for s in chunk {
                q = q.bind(s.as_str());
            }
            for t in q.fetch_all(&mut **tx).await? {
                let row = status_from(tenant, t)?;
                if keys.contains(&(tenant, &row.subject, row.purpose.as_str())) {
                    out.insert(
                        (tenant.clone(), row.subject.clone(), row.purpose.clone()),
                        row,
                    );
                }
            }
        }
    }
    Ok(out)
}

const CONTACT_COLUMNS: &str =
    "id, address_commitment, category, attributes, created_at, wrapped_key, identity";

/// SQLite: contacts (with their tenant) by pseudonym, the pseudonyms as a JSON array.
pub(crate) const SQLITE_CONTACTS_BY_ID: &str = "SELECT tenant_id, id, address_commitment, category, \
     attributes, created_at, wrapped_key, identity FROM contacts WHERE id IN (SELECT value FROM json_each($1))";

impl Store {
    /// The contacts with these pseudonyms (any tenant), as committed now, outside any
    /// append: what the sequencer decides and seals a batch on ahead of its transaction,
    /// which reads them again and keeps that work only if nothing changed.
    pub async fn contacts_by_id(
        &self,
        ids: &[SubjectId],
    ) -> Result<std::collections::HashMap<SubjectId, (TenantId, ContactRow)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        contacts_in_tx(&mut conn, ids).await
    }

    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        id: &TenantId,
        name: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.as_str())
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A tenant by ID.
    pub async fn tenant(&self, id: &TenantId) -> Result<Option<TenantRow>, StoreError> {
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, contact FROM tenants WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(id, name, contact)| {
            Ok(TenantRow {
                id: TenantId::parse(&id).map_err(corrupt)?,
                name,
                contact,
            })
        })
        .transpose()
    }

    /// Sets (or, with `None`, removes) a tenant's contact for recipients; the caller has
    /// checked it. `false` if there is no such tenant.
    pub async fn set_tenant_contact(
        &self,
        id: &TenantId,
        contact: Option<&str>,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE tenants SET contact = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(contact)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores an API key's hash for a tenant.
    pub async fn add_api_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        key_hash: &[u8; 32],
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO api_keys (key_hash, id, tenant_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key_hash.to_vec())
        .bind(key_id)
        .bind(tenant.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live (unrevoked) key with this hash, and its tenant.
    pub async fn api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyRow>, StoreError> {
        let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT k.id, t.id, t.name, t.contact FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(key_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(key_id, tid, name, contact)| {
            Ok(ApiKeyRow {
                key_id,
                tenant: TenantRow {
                    id: TenantId::parse(&tid).map_err(corrupt)?,
                    name,
                    contact,
                },
            })
        })
        .transpose()
    }

    /// Inserts a contact, or reports the tenant's existing contact with the same address.
    pub async fn insert_contact(&self, c: &NewContact) -> Result<ContactInsert, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO contacts (id, tenant_id, email_index, wrapped_key, identity, address_commitment, \
             category, attributes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant_id, email_index) DO NOTHING",
        )
        .bind(c.id.as_str())
        .bind(c.tenant.as_str())
        .bind(c.email_index.to_vec())
        .bind(c.wrapped_key.clone())
        .bind(c.identity.clone())
        .bind(c.address_commitment.as_str())
        .bind(c.category.as_str())
        .bind(c.attributes.as_str())
        .bind(c.created_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(ContactInsert::Inserted);
        }
        let existing: (String,) =
            sqlx::query_as("SELECT id FROM contacts WHERE tenant_id = $1 AND email_index = $2")
                .bind(c.tenant.as_str())
                .bind(c.email_index.to_vec())
                .fetch_one(&self.pool)
                .await?;
        Ok(ContactInsert::Duplicate(
            SubjectId::parse(&existing.0).map_err(corrupt)?,
        ))
    }

    /// A tenant's contact by pseudonym.
    pub async fn contact(
        &self,
        tenant: &TenantId,
        id: &SubjectId,
    ) -> Result<Option<ContactRow>, StoreError> {
        let row: Option<ContactTuple> = sqlx::query_as(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(contact_from).transpose()
    }

    /// A page of a tenant's contacts in pseudonym order, after `after`, optionally only
    /// those whose consent for `purpose` has `status` (`none` = no record).
    pub async fn list_contacts(
        &self,
        tenant: &TenantId,
        after: Option<&SubjectId>,
        limit: u32,
        filter: Option<(&str, &str)>,
    ) -> Result<Vec<ContactRow>, StoreError> {
        let after = after.map(|a| a.as_str().to_owned()).unwrap_or_default();
        let cols = "c.id, c.address_commitment, c.category, c.attributes, c.created_at, c.wrapped_key, c.identity";
        let rows: Vec<ContactTuple> = match filter {
            None => {
                sqlx::query_as(&format!(
                    "SELECT {cols} FROM contacts c WHERE c.tenant_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
                ))
                .bind(tenant.as_str())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some((purpose, "none")) => {
                sqlx::query_as(&format!(
                    "SELECT {cols} FROM contacts c WHERE c.tenant_id = $1 AND c.id > $2 AND NOT EXISTS \
                     (SELECT 1 FROM consent_status s WHERE s.tenant_id = c.tenant_id AND s.subject_id = c.id \
                     AND s.purpose = $3) ORDER BY c.id LIMIT $4"
                ))
                .bind(tenant.as_str())
                .bind(after)
                .bind(purpose)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some((purpose, status)) => {
                sqlx::query_as(&format!(
                    "SELECT {cols} FROM contacts c JOIN consent_status s ON s.tenant_id = c.tenant_id \
                     AND s.subject_id = c.id WHERE c.tenant_id = $1 AND c.id > $2 AND s.purpose = $3 \
                     AND s.status = $4 ORDER BY c.id LIMIT $5"
                ))
                .bind(tenant.as_str())
                .bind(after)
                .bind(purpose)
                .bind(status)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(contact_from).collect()
    }

    /// Every consent status of the given subjects of a tenant.
    pub async fn statuses(
        &self,
        tenant: &TenantId,
        subjects: &[SubjectId],
    ) -> Result<Vec<StatusRow>, StoreError> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> =
            (0..subjects.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT subject_id, purpose, status, proof_id, log_index, updated_at, valid_until FROM consent_status \
             WHERE tenant_id = $1 AND subject_id IN ({}) ORDER BY subject_id, purpose",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, StatusTuple>(&sql).bind(tenant.as_str());
        for s in subjects {
            q = q.bind(s.as_str());
        }
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|t| status_from(tenant, t))
            .collect()
    }

    /// A tenant's proof: its log index and its entry bytes (the canonical sealed proof).
    pub async fn proof(
        &self,
        tenant: &TenantId,
        id: &ProofId,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT p.log_index, e.entry FROM proofs p JOIN log_entries e ON e.idx = p.log_index \
             WHERE p.tenant_id = $1 AND p.id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(i, e)| Ok((to_u64(i)?, e))).transpose()
    }
}
