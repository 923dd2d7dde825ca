//! Request batches: one row per submission of the web application's request form, so its
//! result page has a stable URL and reads the same after a reload. A batch holds the IDs
//! of the requests it created and the contacts it did not ask, as given, each with a
//! reason code (the web application's catalogue says it in words) — pseudonyms and IDs,
//! never identity data.

use crate::{Store, StoreError};
use consentry_core::ids::{RequestId, TenantId};

/// A batch's ID: `bat_` and the same random suffix as every other ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchId(String);

impl BatchId {
    /// The ID `bat_{suffix}`; `None` unless the suffix is 8 to 64 ASCII letters, digits
    /// or `_`.
    pub fn from_suffix(suffix: &str) -> Option<BatchId> {
        BatchId::parse(&format!("bat_{suffix}"))
    }

    /// Parses `bat_…` as written in a URL.
    pub fn parse(s: &str) -> Option<BatchId> {
        let suffix = s.strip_prefix("bat_")?;
        ((8..=64).contains(&suffix.len())
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| BatchId(s.to_owned()))
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact a batch did not ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The contact as given (a pseudonym, or what was typed if it is none).
    pub contact: String,
    /// Why, as a stable code (`crate` callers map it to a text).
    pub reason: String,
    /// Whether the contact was to be asked when the preview was shown and its state
    /// changed before the sending.
    pub changed: bool,
}

/// A batch, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// Its ID.
    pub id: BatchId,
    /// The sender.
    pub tenant: TenantId,
    /// Sent at (Unix ms).
    pub created_at: i64,
    /// The purpose asked for.
    pub purpose: String,
    /// The notice's version label.
    pub notice_version: Option<String>,
    /// The e-mails' language.
    pub language: String,
    /// The requests created, in order.
    pub created: Vec<RequestId>,
    /// The contacts not asked.
    pub skipped: Vec<Skipped>,
}

type Tuple = (
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
);

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn row(t: Tuple) -> Result<BatchRow, StoreError> {
    let created: Vec<String> = serde_json::from_str(&t.6).map_err(corrupt)?;
    let skipped: Vec<(String, String, bool)> = serde_json::from_str(&t.7).map_err(corrupt)?;
    Ok(BatchRow {
        id: BatchId::parse(&t.0).ok_or_else(|| corrupt("batch id"))?,
        tenant: TenantId::parse(&t.1).map_err(corrupt)?,
        created_at: t.2,
        purpose: t.3,
        notice_version: t.4,
        language: t.5,
        created: created
            .iter()
            .map(|r| RequestId::parse(r).map_err(corrupt))
            .collect::<Result<_, _>>()?,
        skipped: skipped
            .into_iter()
            .map(|(contact, reason, changed)| Skipped {
                contact,
                reason,
                changed,
            })
            .collect(),
    })
}

const COLUMNS: &str =
    "id, tenant_id, created_at, purpose, notice_version, language, created, skipped";

impl Store {
    /// Stores a batch (after its requests were created).
    pub async fn insert_batch(&self, b: &BatchRow) -> Result<(), StoreError> {
        let created: Vec<&str> = b.created.iter().map(RequestId::as_str).collect();
        let skipped: Vec<(&str, &str, bool)> = b
            .skipped
            .iter()
            .map(|s| (s.contact.as_str(), s.reason.as_str(), s.changed))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO request_batches ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(b.id.as_str())
        .bind(b.tenant.as_str())
        .bind(b.created_at)
        .bind(&b.purpose)
        .bind(b.notice_version.as_deref())
        .bind(&b.language)
        .bind(serde_json::to_string(&created).map_err(corrupt)?)
        .bind(serde_json::to_string(&skipped).map_err(corrupt)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A batch of `tenant`'s, if any.
    pub async fn batch(
        &self,
        tenant: &TenantId,
        id: &BatchId,
    ) -> Result<Option<BatchRow>, StoreError> {
        let t: Option<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM request_batches WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        t.map(row).transpose()
    }

    /// `tenant`'s latest batches, newest first.
    pub async fn batches(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<BatchRow>, StoreError> {
        let rows: Vec<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM request_batches WHERE tenant_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_bat_and_a_plain_suffix() {
        let id = BatchId::from_suffix("0193a2b4c5d6e7f8a9b0c1d2e3f4a5b6").unwrap();
        assert_eq!(BatchId::parse(id.as_str()), Some(id));
        for bad in [
            "bat_",
            "bat_short",
            "req_0193a2b4c5d6e7f8",
            "bat_../../x0000",
            "bat_a b00000000",
        ] {
            assert!(BatchId::parse(bad).is_none(), "{bad}");
        }
    }
}
