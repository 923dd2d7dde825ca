//! A sender's catalogue: the purposes they ask consent for and the notice texts they show.
//!
//! Purposes are named as in proofs (`newsletter`), with a description and a default
//! validity in days for granted consents. Notices are versioned per purpose and language:
//! a version is never edited, a change is a new version (numbered from 1, assigned in the
//! inserting transaction and protected by a unique key, so two admins saving at once get
//! two versions, not one overwritten). The SHA-256 of the exact text is stored with it; a
//! request that shows it records that hash in the proof.

use crate::{Store, StoreError};
use consentry_core::ids::{NoticeId, TenantId};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// A purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeRow {
    /// Its name, as proofs carry it.
    pub name: String,
    /// What it is for, in French, as the person asked reads it (may be empty when
    /// `description_en` is not).
    pub description: String,
    /// What it is for, in English (may be empty when `description` is not).
    pub description_en: String,
    /// Default validity of a granted consent, in days (`None`: no end).
    pub valid_days: Option<u32>,
    /// Created, Unix milliseconds.
    pub created_at: i64,
    /// Last changed, Unix milliseconds.
    pub updated_at: i64,
}

impl PurposeRow {
    /// The description a recipient reading `language` (`fr` or `en`) is shown: theirs,
    /// else the other language's, else `None` (the caller shows the purpose's name).
    pub fn description_for(&self, language: &str) -> Option<&str> {
        let (mine, other) = if language == "en" {
            (&self.description_en, &self.description)
        } else {
            (&self.description, &self.description_en)
        };
        [mine, other]
            .into_iter()
            .map(|d| d.trim())
            .find(|d| !d.is_empty())
    }
}

/// One version of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// Its ID.
    pub id: NoticeId,
    /// The purpose it explains.
    pub purpose: String,
    /// `fr` or `en`.
    pub language: String,
    /// 1, 2, …
    pub version: u32,
    /// The exact text.
    pub body: String,
    /// SHA-256 of the text's UTF-8 bytes, lowercase hex.
    pub sha256: String,
    /// Created, Unix milliseconds.
    pub created_at: i64,
}

type NoticeTuple = (String, String, String, i64, String, String, i64);

fn notice(t: NoticeTuple) -> Result<NoticeRow, StoreError> {
    let (id, purpose, language, version, body, sha256, created_at) = t;
    Ok(NoticeRow {
        id: NoticeId::parse(&id).map_err(corrupt)?,
        purpose,
        language,
        version: u32::try_from(version).map_err(corrupt)?,
        body,
        sha256,
        created_at,
    })
}

const NOTICE_COLUMNS: &str = "id, purpose, language, version, body, sha256, created_at";

fn days(v: Option<i64>) -> Result<Option<u32>, StoreError> {
    v.map(|d| u32::try_from(d).map_err(corrupt)).transpose()
}

impl Store {
    /// Creates or updates a purpose (its descriptions, French and English, and default
    /// validity).
    pub async fn upsert_purpose(
        &self,
        tenant: &TenantId,
        name: &str,
        description: &str,
        description_en: &str,
        valid_days: Option<u32>,
        now: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO purposes (tenant_id, name, description, description_en, valid_days, created_at, updated_at) \
             VALUES ($1, $2, $3, $6, $4, $5, $5) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET description = excluded.description, \
             description_en = excluded.description_en, \
             valid_days = excluded.valid_days, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(name)
        .bind(description)
        .bind(valid_days.map(i64::from))
        .bind(now)
        .bind(description_en)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A tenant's purposes, by name.
    pub async fn purposes(&self, tenant: &TenantId) -> Result<Vec<PurposeRow>, StoreError> {
        type Row = (String, String, String, Option<i64>, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT name, description, description_en, valid_days, created_at, updated_at FROM purposes \
             WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(name, description, description_en, valid_days, created_at, updated_at)| {
                    Ok(PurposeRow {
                        name,
                        description,
                        description_en,
                        valid_days: days(valid_days)?,
                        created_at,
                        updated_at,
                    })
                },
            )
            .collect()
    }

    /// One purpose.
    pub async fn purpose(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<PurposeRow>, StoreError> {
        Ok(self
            .purposes(tenant)
            .await?
            .into_iter()
            .find(|p| p.name == name))
    }

    /// The purposes a tenant uses without having defined them: named by a consent record
    /// or a request (the API takes any purpose name) but absent from its catalogue.
    pub async fn undefined_purposes(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT purpose FROM consent_status WHERE tenant_id = $1 \
             UNION SELECT purpose FROM consent_requests WHERE tenant_id = $1 \
             EXCEPT SELECT name FROM purposes WHERE tenant_id = $1 ORDER BY 1",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Adds the next version of the notice of `purpose` in `language`, with the SHA-256 of
    /// `body`'s UTF-8 bytes exactly as stored; returns it.
    pub async fn add_notice(
        &self,
        tenant: &TenantId,
        id: &NoticeId,
        purpose: &str,
        language: &str,
        body: &str,
        now: i64,
    ) -> Result<NoticeRow, StoreError> {
        let sha256 = consentry_core::merkle::Hash::digest(body.as_bytes()).to_hex();
        let sha256 = sha256.as_str();
        let _turn = self.write_turn().await;
        // The version is the next free one, computed by the insert itself. Two admins
        // saving at once on PostgreSQL can still compute the same number; the unique key
        // refuses the second, which then takes the following number.
        let mut attempt = 0;
        let version: i64 = loop {
            attempt += 1;
            let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO notices (id, tenant_id, purpose, language, version, body, sha256, created_at) \
                 SELECT $1, $2, $3, $4, COALESCE(MAX(version), 0) + 1, $5, $6, $7 FROM notices \
                 WHERE tenant_id = $2 AND purpose = $3 AND language = $4 RETURNING version",
            )
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(purpose)
            .bind(language)
            .bind(body)
            .bind(sha256)
            .bind(now)
            .fetch_one(&self.pool)
            .await;
            match inserted {
                Ok((v,)) => break v,
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() && attempt < 5 => {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        };
        notice((
            id.to_string(),
            purpose.to_owned(),
            language.to_owned(),
            version,
            body.to_owned(),
            sha256.to_owned(),
            now,
        ))
    }

    /// A tenant's notices (every version), by purpose, language and newest version first;
    /// only those of `purpose` if given.
    pub async fn notices(
        &self,
        tenant: &TenantId,
        purpose: Option<&str>,
    ) -> Result<Vec<NoticeRow>, StoreError> {
        let rows: Vec<NoticeTuple> = sqlx::query_as(&format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE tenant_id = $1 AND ($2 IS NULL OR purpose = $2) \
             ORDER BY purpose, language, version DESC"
        ))
        .bind(tenant.as_str())
        .bind(purpose)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(notice).collect()
    }

    /// One notice version of a tenant.
    pub async fn notice(
        &self,
        tenant: &TenantId,
        id: &NoticeId,
    ) -> Result<Option<NoticeRow>, StoreError> {
        let row: Option<NoticeTuple> = sqlx::query_as(&format!(
            "SELECT {NOTICE_COLUMNS} FROM notices WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(notice).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notices_are_versioned_per_purpose_and_language_and_purposes_upsert() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let t = TenantId::parse("ten_a1").unwrap();
        store.create_tenant(&t, "Acme", 1).await.unwrap();
        store
            .upsert_purpose(&t, "newsletter", "Monthly news", "", Some(365), 2)
            .await
            .unwrap();
        store
            .upsert_purpose(&t, "newsletter", "Nouvelles", "Weekly news", None, 3)
            .await
            .unwrap();
        let p = store.purpose(&t, "newsletter").await.unwrap().unwrap();
        assert_eq!(
            (
                p.description.as_str(),
                p.valid_days,
                p.created_at,
                p.updated_at
            ),
            ("Nouvelles", None, 2, 3)
        );
        assert_eq!(p.description_for("en"), Some("Weekly news"));
        assert_eq!(p.description_for("fr"), Some("Nouvelles"));
        let only_fr = PurposeRow {
            description_en: " ".into(),
            ..p.clone()
        };
        assert_eq!(only_fr.description_for("en"), Some("Nouvelles"));
        let none = PurposeRow {
            description: String::new(),
            ..only_fr
        };
        assert_eq!(none.description_for("fr"), None);
        let id = |s: &str| NoticeId::parse(s).unwrap();
        let a = store
            .add_notice(&t, &id("ntc_1"), "newsletter", "fr", "v1", 4)
            .await
            .unwrap();
        let b = store
            .add_notice(&t, &id("ntc_2"), "newsletter", "fr", "v2", 5)
            .await
            .unwrap();
        let c = store
            .add_notice(&t, &id("ntc_3"), "newsletter", "en", "v1en", 6)
            .await
            .unwrap();
        assert_eq!((a.version, b.version, c.version), (1, 2, 1));
        assert_eq!(
            a.sha256,
            consentry_core::merkle::Hash::digest(b"v1").to_hex(),
            "the hash of the text as stored"
        );
        let all = store.notices(&t, Some("newsletter")).await.unwrap();
        assert_eq!(
            all.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
            ["ntc_3", "ntc_2", "ntc_1"]
        );
        assert_eq!(store.notices(&t, Some("other")).await.unwrap(), vec![]);
        assert_eq!(store.notice(&t, &id("ntc_2")).await.unwrap(), Some(b));
        let other = TenantId::parse("ten_b2").unwrap();
        assert_eq!(store.notice(&other, &id("ntc_2")).await.unwrap(), None);
    }
}
