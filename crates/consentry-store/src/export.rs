//! Bulk reads for CSV import and export: which of many e-mail blind indexes a tenant
//! already holds, the purposes a tenant has consent records for, and pages of the
//! pseudonymous contact columns (never the sealed identity or the wrapped key).
//!
//! They are shaped for paging so that a book of 100,000 contacts is never loaded at
//! once: the caller walks pages in pseudonym order, bounded above so that the pages it
//! reads agree with a header it wrote first.

use crate::{Store, StoreError};
use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::proof::RecipientCategory;

/// How many blind indexes one lookup query binds (well under SQLite's and PostgreSQL's
/// bind-parameter limits).
const LOOKUP_CHUNK: usize = 500;

/// The pseudonymous columns of a contact, as an export lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContact {
    /// Pseudonym.
    pub id: SubjectId,
    /// Recipient category.
    pub category: RecipientCategory,
    /// Non-identifying attributes, JSON object text.
    pub attributes: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Whether the contact's identity was crypto-shredded.
    pub erased: bool,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// The tenant's contacts among the given e-mail blind indexes: each index found, with
    /// its contact's pseudonym. Indexes not in the book are absent from the answer.
    pub async fn contacts_by_email_index(
        &self,
        tenant: &TenantId,
        indexes: &[[u8; 32]],
    ) -> Result<Vec<([u8; 32], SubjectId)>, StoreError> {
        let mut found = Vec::new();
        for chunk in indexes.chunks(LOOKUP_CHUNK) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT email_index, id FROM contacts WHERE tenant_id = $1 AND email_index IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<_, (Vec<u8>, String)>(&sql).bind(tenant.as_str());
            for ix in chunk {
                q = q.bind(ix.to_vec());
            }
            for (ix, id) in q.fetch_all(&self.pool).await? {
                let ix = <[u8; 32]>::try_from(ix.as_slice())
                    .map_err(|_| corrupt("an e-mail blind index is not 32 bytes"))?;
                found.push((ix, SubjectId::parse(&id).map_err(corrupt)?));
            }
        }
        Ok(found)
    }

    /// Every purpose the tenant has a consent record for, sorted.
    pub async fn consent_purposes(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT purpose FROM consent_status WHERE tenant_id = $1 ORDER BY purpose",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// A page of the tenant's contacts in pseudonym order: those after `after` and, if
    /// `until` is given, not after `until`.
    pub async fn export_contacts(
        &self,
        tenant: &TenantId,
        after: Option<&SubjectId>,
        until: Option<&SubjectId>,
        limit: u32,
    ) -> Result<Vec<ExportContact>, StoreError> {
        let after = after.map(|a| a.as_str().to_owned()).unwrap_or_default();
        let cols = "id, category, attributes, created_at, \
                    CAST(CASE WHEN wrapped_key IS NULL THEN 1 ELSE 0 END AS BIGINT)";
        let bounded = format!(
            "SELECT {cols} FROM contacts WHERE tenant_id = $1 AND id > $2 AND id <= $3 \
             ORDER BY id LIMIT $4"
        );
        let open = format!(
            "SELECT {cols} FROM contacts WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let q = match until {
            Some(until) => sqlx::query_as::<_, (String, String, String, i64, i64)>(&bounded)
                .bind(tenant.as_str())
                .bind(after)
                .bind(until.as_str().to_owned())
                .bind(i64::from(limit)),
            None => sqlx::query_as::<_, (String, String, String, i64, i64)>(&open)
                .bind(tenant.as_str())
                .bind(after)
                .bind(i64::from(limit)),
        };
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, category, attributes, created_at, erased)| {
                Ok(ExportContact {
                    id: SubjectId::parse(&id).map_err(corrupt)?,
                    category: RecipientCategory::from_book(&category),
                    attributes,
                    created_at,
                    erased: erased != 0,
                })
            })
            .collect()
    }
}
