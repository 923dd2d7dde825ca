//! Events about subjects' identity data: their index rows, the erasure of a contact's
//! vault record, and the reads of a subject's access history.
//!
//! An event's sealed document is its log entry; the `events` table only indexes it (by ID,
//! and by tenant, subject and log index for the history), so every read joins the entry
//! and hands back the exact bytes the log commits to.

use crate::{Store, StoreError, to_i64, to_u64};
use consentry_core::ids::{EventId, SubjectId, TenantId};

/// An event's index row, written with its log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Event ID.
    pub id: EventId,
    /// Owner.
    pub tenant: TenantId,
    /// Subject.
    pub subject: SubjectId,
    /// The event's `type` (`data.access`, …).
    pub kind: String,
    /// The purpose, if the event has one.
    pub purpose: Option<String>,
    /// Recorded at, Unix milliseconds.
    pub recorded_at: i64,
}

/// The crypto-shredding of one contact, written with its `data.erased` entry: the wrapped
/// subject key, the sealed identity and the sealed evidence files are deleted, the blind
/// index is replaced by a value that matches no address, and the non-identifying
/// attributes are emptied.
#[derive(Clone)]
pub struct Erasure {
    /// Owner.
    pub tenant: TenantId,
    /// The contact.
    pub subject: SubjectId,
    /// Random bytes to put in place of the blind index (the column is NOT NULL and unique
    /// per tenant).
    pub tombstone: [u8; 32],
    /// When, Unix milliseconds.
    pub erased_at: i64,
}

impl std::fmt::Debug for Erasure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Erasure")
            .field("tenant", &self.tenant)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A stored event: its log index and entry bytes (the canonical sealed event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its log index.
    pub log_index: u64,
    /// The log entry.
    pub entry: Vec<u8>,
}

fn stored((i, e): (i64, Vec<u8>)) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        log_index: to_u64(i)?,
        entry: e,
    })
}

/// One event index row.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events \
     (id, tenant_id, subject_id, type, purpose, log_index, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// Crypto-shreds a live contact: its wrapped key and sealed identity go, its blind index
/// becomes a random tombstone.
pub(crate) const ERASE_CONTACT: &str = "UPDATE contacts SET wrapped_key = NULL, identity = NULL, \
     email_index = $1, attributes = '{}', erased_at = $2 WHERE tenant_id = $3 AND id = $4 AND wrapped_key IS NOT NULL";
/// An erased contact's pending requests, cancelled with the erasure: their links answer
/// nothing any more and an e-mail not sent yet is not sent. Binds: erased at, the
/// unsent-mail error, tenant, contact.
pub(crate) const CANCEL_REQUESTS: &str = "UPDATE consent_requests SET status = 'cancelled', answered_at = $1, \
     mail_error = CASE WHEN mail_status = 'queued' THEN $2 ELSE mail_error END, \
     mail_status = CASE WHEN mail_status = 'queued' THEN 'failed' ELSE mail_status END \
     WHERE tenant_id = $3 AND subject_id = $4 AND status = 'pending'";
/// An erased contact's evidence files, sealed under the key just destroyed.
pub(crate) const DELETE_EVIDENCE: &str =
    "DELETE FROM evidence_files WHERE tenant_id = $1 AND subject_id = $2";

/// Inserts the index rows of a batch's events (`(log index, row)`), in one statement per
/// chunk.
pub(crate) async fn insert_in_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[(u64, &EventRow)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(crate::log::CHUNK) {
        let values = crate::log::placeholders(chunk.len(), 7);
        let sql = format!(
            "INSERT INTO events (id, tenant_id, subject_id, type, purpose, log_index, recorded_at) VALUES {values}"
        );
        let mut q = sqlx::query(&sql);
        for (index, e) in chunk {
            q = q
                .bind(e.id.as_str())
                .bind(e.tenant.as_str())
                .bind(e.subject.as_str())
                .bind(e.kind.as_str())
                .bind(e.purpose.clone())
                .bind(to_i64(*index)?)
                .bind(e.recorded_at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Shreds a contact's vault record inside the append transaction. The caller has read
/// the row in the same transaction and knows it is not erased yet.
pub(crate) async fn erase_in_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &Erasure,
) -> Result<(), StoreError> {
    let done = sqlx::query(ERASE_CONTACT)
        .bind(e.tombstone.to_vec())
        .bind(e.erased_at)
        .bind(e.tenant.as_str())
        .bind(e.subject.as_str())
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Corrupt(format!(
            "erasing {}: the contact changed within its own transaction",
            e.subject
        )));
    }
    // Evidence files are sealed under the key just destroyed: delete them too, so that no
    // ciphertext of the person outlives the erasure.
    sqlx::query(DELETE_EVIDENCE)
        .bind(e.tenant.as_str())
        .bind(e.subject.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query(CANCEL_REQUESTS)
        .bind(e.erased_at)
        .bind(crate::CANCELLED_UNSENT)
        .bind(e.tenant.as_str())
        .bind(e.subject.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// A tenant's event by ID.
    pub async fn event(
        &self,
        tenant: &TenantId,
        id: &EventId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT v.log_index, e.entry FROM events v JOIN log_entries e ON e.idx = v.log_index \
             WHERE v.tenant_id = $1 AND v.id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(stored).transpose()
    }

    /// A page of a subject's events, newest first: those with a log index below `before`
    /// (all when `None`), at most `limit`.
    pub async fn subject_events(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let before = match before {
            Some(b) => to_i64(b)?,
            None => i64::MAX,
        };
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT v.log_index, e.entry FROM events v JOIN log_entries e ON e.idx = v.log_index \
             WHERE v.tenant_id = $1 AND v.subject_id = $2 AND v.log_index < $3 \
             ORDER BY v.log_index DESC LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(stored).collect()
    }

    /// The `data.erased` event of a subject, if it was erased through the log.
    pub async fn erasure_event(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT v.log_index, e.entry FROM events v JOIN log_entries e ON e.idx = v.log_index \
             WHERE v.tenant_id = $1 AND v.subject_id = $2 AND v.type = 'data.erased' \
             ORDER BY v.log_index LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(stored).transpose()
    }
}
