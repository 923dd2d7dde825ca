//! Sealed PDFs, made once and kept (see the migration `0011_sealed_pdfs.sql`).
//!
//! The first download of a document's PDF in a language seals it; every later download
//! serves the same bytes. Two downloads racing both seal, and the first row written wins:
//! both get that row's bytes. A PDF sealed while the time-stamping authority was down
//! (PAdES B-B) is listed by [`Store::unstamped_pdfs`] until [`Store::stamp_pdf`] replaces
//! it with its B-T form.

use crate::{Store, StoreError};
use consentry_core::ids::TenantId;

/// Which document a PDF reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PdfDocument {
    /// A sealed proof.
    Proof,
    /// A certificate of a proof.
    Certificate,
}

impl PdfDocument {
    fn as_str(self) -> &'static str {
        match self {
            PdfDocument::Proof => "proof",
            PdfDocument::Certificate => "certificate",
        }
    }

    fn parse(s: &str) -> Result<PdfDocument, StoreError> {
        match s {
            "proof" => Ok(PdfDocument::Proof),
            "certificate" => Ok(PdfDocument::Certificate),
            other => Err(StoreError::Corrupt(format!(
                "sealed PDF of unknown kind {other:?}"
            ))),
        }
    }
}

/// What names a sealed PDF: the document it reads (its SHA-256) and the language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PdfKey {
    /// Which document.
    pub document: PdfDocument,
    /// SHA-256 of the JSON document's exact bytes.
    pub document_hash: [u8; 32],
    /// The page's language tag (`fr`, `en`).
    pub language: String,
}

/// A kept sealed PDF.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedPdf {
    /// Its key.
    pub key: PdfKey,
    /// The file.
    pub pdf: Vec<u8>,
    /// Whether its seal carries a signature time-stamp (PAdES B-T).
    pub stamped: bool,
}

impl std::fmt::Debug for SealedPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedPdf")
            .field("key", &self.key)
            .field("bytes", &self.pdf.len())
            .field("stamped", &self.stamped)
            .finish()
    }
}

type Row = (Vec<u8>, String, String, Vec<u8>, Option<i64>);

fn row_to_pdf((hash, language, kind, pdf, stamped_at): Row) -> Result<SealedPdf, StoreError> {
    let document_hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("sealed PDF document hash is not 32 bytes".into()))?;
    Ok(SealedPdf {
        key: PdfKey {
            document: PdfDocument::parse(&kind)?,
            document_hash,
            language,
        },
        pdf,
        stamped: stamped_at.is_some(),
    })
}

impl Store {
    /// The kept PDF of `key`, if it was sealed before.
    pub async fn sealed_pdf(&self, key: &PdfKey) -> Result<Option<SealedPdf>, StoreError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT document_hash, language, kind, pdf, stamped_at FROM sealed_pdfs \
             WHERE document_hash = $1 AND language = $2 AND kind = $3",
        )
        .bind(key.document_hash.as_slice())
        .bind(key.language.as_str())
        .bind(key.document.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(row_to_pdf).transpose()
    }

    /// Keeps a PDF just sealed for `tenant`, unless one was kept for `key` meanwhile;
    /// returns the kept one either way (so every download serves the same bytes).
    pub async fn keep_sealed_pdf(
        &self,
        tenant: &TenantId,
        key: &PdfKey,
        pdf: &[u8],
        stamped: bool,
        now_ms: i64,
    ) -> Result<SealedPdf, StoreError> {
        {
            let _turn = self.write_turn().await;
            sqlx::query(
                "INSERT INTO sealed_pdfs (document_hash, language, kind, tenant_id, pdf, created_at, stamped_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(key.document_hash.as_slice())
            .bind(key.language.as_str())
            .bind(key.document.as_str())
            .bind(tenant.as_str())
            .bind(pdf)
            .bind(now_ms)
            .bind(stamped.then_some(now_ms))
            .execute(&self.pool)
            .await?;
        }
        self.sealed_pdf(key).await?.ok_or_else(|| {
            StoreError::Corrupt("the sealed PDF just kept cannot be read back".into())
        })
    }

    /// Up to `limit` kept PDFs still sealed B-B, oldest first.
    pub async fn unstamped_pdfs(&self, limit: u32) -> Result<Vec<SealedPdf>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT document_hash, language, kind, pdf, stamped_at FROM sealed_pdfs \
             WHERE stamped_at IS NULL ORDER BY created_at LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row_to_pdf).collect()
    }

    /// Replaces a B-B PDF with its B-T form; false if it was upgraded meanwhile.
    pub async fn stamp_pdf(
        &self,
        key: &PdfKey,
        pdf: &[u8],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE sealed_pdfs SET pdf = $1, stamped_at = $2 \
             WHERE document_hash = $3 AND language = $4 AND kind = $5 AND stamped_at IS NULL",
        )
        .bind(pdf)
        .bind(now_ms)
        .bind(key.document_hash.as_slice())
        .bind(key.language.as_str())
        .bind(key.document.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_first_pdf_kept_wins_and_upgrades_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let t = TenantId::parse("ten_a1").unwrap();
        let key = PdfKey {
            document: PdfDocument::Proof,
            document_hash: [3; 32],
            language: "fr".into(),
        };
        assert!(store.sealed_pdf(&key).await.unwrap().is_none());
        let kept = store
            .keep_sealed_pdf(&t, &key, b"first", false, 1)
            .await
            .unwrap();
        assert_eq!(kept.pdf, b"first");
        let again = store
            .keep_sealed_pdf(&t, &key, b"second", true, 2)
            .await
            .unwrap();
        assert_eq!(
            (again.pdf.as_slice(), again.stamped),
            (&b"first"[..], false)
        );
        let other = PdfKey {
            language: "en".into(),
            ..key.clone()
        };
        store
            .keep_sealed_pdf(&t, &other, b"en", true, 3)
            .await
            .unwrap();
        let todo = store.unstamped_pdfs(10).await.unwrap();
        assert_eq!(todo.len(), 1);
        assert_eq!(todo[0].key, key);
        assert!(store.stamp_pdf(&key, b"stamped", 4).await.unwrap());
        assert!(!store.stamp_pdf(&key, b"again", 5).await.unwrap());
        let read = store.sealed_pdf(&key).await.unwrap().unwrap();
        assert_eq!((read.pdf.as_slice(), read.stamped), (&b"stamped"[..], true));
        assert!(store.unstamped_pdfs(10).await.unwrap().is_empty());
    }
}
