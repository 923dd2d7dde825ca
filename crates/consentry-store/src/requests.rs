//! Delegated consent requests: creation (with the book's `pending` status), the e-mail
//! queue, expiry, and the recipient's answer — claimed and appended to the log in one
//! transaction, so a link answers exactly once and an answer is never half-recorded.

use crate::log::{AppendOutcome, NewEntry, append_in_tx};
use crate::{Store, StoreError};
use consentry_core::ids::{ProofId, RequestId, SubjectId, TenantId};

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Its ID.
    pub id: RequestId,
    /// The sender.
    pub tenant: TenantId,
    /// The recipient.
    pub subject: SubjectId,
    /// Purpose key.
    pub purpose: String,
    /// SHA-256 of the link token.
    pub token_hash: [u8; 32],
    /// The notice text shown to the recipient.
    pub notice_text: String,
    /// Its SHA-256, lowercase hex.
    pub notice_sha256: String,
    /// Its version label.
    pub notice_version: Option<String>,
    /// Where it is published.
    pub notice_url: Option<String>,
    /// `fr` or `en`: the e-mail's and page's language.
    pub language: String,
    /// Validity of a granted consent, in days.
    pub valid_days: Option<u32>,
    /// Created at (Unix ms).
    pub created_at: i64,
    /// The response window closes at (Unix ms).
    pub expires_at: i64,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    /// Its ID.
    pub id: RequestId,
    /// The sender.
    pub tenant: TenantId,
    /// The recipient.
    pub subject: SubjectId,
    /// Purpose key.
    pub purpose: String,
    /// The notice text.
    pub notice_text: String,
    /// Its SHA-256.
    pub notice_sha256: String,
    /// Its version.
    pub notice_version: Option<String>,
    /// Its URL.
    pub notice_url: Option<String>,
    /// Language.
    pub language: String,
    /// Validity in days of a granted consent.
    pub valid_days: Option<u32>,
    /// `pending`, `granted`, `refused`, `expired` or `cancelled`.
    pub status: String,
    /// Created at (Unix ms).
    pub created_at: i64,
    /// Window closes at (Unix ms).
    pub expires_at: i64,
    /// Answered at (Unix ms).
    pub answered_at: Option<i64>,
    /// The proof the answer produced.
    pub proof_id: Option<ProofId>,
    /// `queued`, `sent` or `failed`.
    pub mail_status: String,
    /// Delivery attempts so far.
    pub mail_attempts: i64,
    /// Last delivery error (never personal data).
    pub mail_error: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, subject_id, purpose, notice_text, notice_sha256, notice_version, notice_url, \
    language, valid_days, status, created_at, expires_at, answered_at, proof_id, mail_status, mail_attempts, mail_error";

#[derive(sqlx::FromRow)]
struct Tuple {
    id: String,
    tenant_id: String,
    subject_id: String,
    purpose: String,
    notice_text: String,
    notice_sha256: String,
    notice_version: Option<String>,
    notice_url: Option<String>,
    language: String,
    valid_days: Option<i64>,
    status: String,
    created_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
    proof_id: Option<String>,
    mail_status: String,
    mail_attempts: i64,
    mail_error: Option<String>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn row(t: Tuple) -> Result<RequestRow, StoreError> {
    Ok(RequestRow {
        id: RequestId::parse(&t.id).map_err(corrupt)?,
        tenant: TenantId::parse(&t.tenant_id).map_err(corrupt)?,
        subject: SubjectId::parse(&t.subject_id).map_err(corrupt)?,
        purpose: t.purpose,
        notice_text: t.notice_text,
        notice_sha256: t.notice_sha256,
        notice_version: t.notice_version,
        notice_url: t.notice_url,
        language: t.language,
        valid_days: t
            .valid_days
            .map(|d| u32::try_from(d).map_err(corrupt))
            .transpose()?,
        status: t.status,
        created_at: t.created_at,
        expires_at: t.expires_at,
        answered_at: t.answered_at,
        proof_id: t
            .proof_id
            .map(|p| ProofId::parse(&p))
            .transpose()
            .map_err(corrupt)?,
        mail_status: t.mail_status,
        mail_attempts: t.mail_attempts,
        mail_error: t.mail_error,
    })
}

/// The outcome of answering through a link.
#[derive(Debug)]
pub enum Answer<T> {
    /// Recorded; the request as it was and the append.
    Recorded(Box<RequestRow>, AppendOutcome<T>),
    /// The link is unknown, already answered, expired or cancelled: nothing changed.
    NotPending(Option<Box<RequestRow>>),
}

impl Store {
    /// Stores requests, and marks each (subject, purpose) `pending` in the book unless a
    /// decision is already recorded there.
    pub async fn insert_requests(&self, reqs: &[NewRequest]) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for r in reqs {
            sqlx::query(
                "INSERT INTO consent_requests (id, tenant_id, subject_id, purpose, token_hash, notice_text, notice_sha256, \
                 notice_version, notice_url, language, valid_days, status, created_at, expires_at, mail_status, \
                 mail_attempts, mail_next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, \
                 'queued', 0, $14)",
            )
            .bind(r.id.as_str())
            .bind(r.tenant.as_str())
            .bind(r.subject.as_str())
            .bind(r.purpose.as_str())
            .bind(r.token_hash.to_vec())
            .bind(r.notice_text.as_str())
            .bind(r.notice_sha256.as_str())
            .bind(r.notice_version.clone())
            .bind(r.notice_url.clone())
            .bind(r.language.as_str())
            .bind(r.valid_days.map(i64::from))
            .bind(r.created_at)
            .bind(r.expires_at)
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO consent_status (tenant_id, subject_id, purpose, status, updated_at) VALUES ($1, $2, $3, 'pending', $4) \
                 ON CONFLICT (tenant_id, subject_id, purpose) DO UPDATE SET status = 'pending', updated_at = excluded.updated_at \
                 WHERE consent_status.proof_id IS NULL",
            )
            .bind(r.tenant.as_str())
            .bind(r.subject.as_str())
            .bind(r.purpose.as_str())
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A tenant's request.
    pub async fn request(
        &self,
        tenant: &TenantId,
        id: &RequestId,
    ) -> Result<Option<RequestRow>, StoreError> {
        let t: Option<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        t.map(row).transpose()
    }

    /// The request a link token opens.
    pub async fn request_by_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<RequestRow>, StoreError> {
        let t: Option<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE token_hash = $1"
        ))
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        t.map(row).transpose()
    }

    /// Requests whose e-mail is due (queued, next attempt passed).
    pub async fn due_mail(&self, now: i64, limit: u32) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE mail_status = 'queued' AND mail_next_at <= $1 \
             ORDER BY mail_next_at LIMIT $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    /// Records a delivery: `Ok` sent; `Err((next_at, error))` retry at `next_at`, or give up
    /// when `next_at` is `None`.
    pub async fn mail_attempted(
        &self,
        id: &RequestId,
        outcome: Result<(), (Option<i64>, &str)>,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let q = match outcome {
            Ok(()) => sqlx::query(
                "UPDATE consent_requests SET mail_status = 'sent', mail_attempts = mail_attempts + 1, mail_error = NULL WHERE id = $1",
            )
            .bind(id.as_str()),
            Err((Some(next), error)) => sqlx::query(
                "UPDATE consent_requests SET mail_attempts = mail_attempts + 1, mail_next_at = $2, mail_error = $3 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(next)
            .bind(error.to_owned()),
            Err((None, error)) => sqlx::query(
                "UPDATE consent_requests SET mail_status = 'failed', mail_attempts = mail_attempts + 1, mail_error = $2 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(error.to_owned()),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every pending request whose window has passed: the request becomes
    /// `expired`, and a book entry still `pending` without any decision becomes `expired`.
    ///
    /// `webhook` makes the `(delivery ID, JSON)` event queued for each expired request.
    pub async fn expire_requests(
        &self,
        now: i64,
        mut webhook: impl FnMut(&str, &str, &str, &str) -> (String, String),
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let expired: Vec<(String, String, String, String)> = sqlx::query_as(
            "UPDATE consent_requests SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1 \
             RETURNING id, tenant_id, subject_id, purpose",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for (id, tenant, subject, purpose) in &expired {
            let (delivery_id, event) = webhook(id, tenant, subject, purpose);
            let tenant_id = TenantId::parse(tenant).map_err(corrupt)?;
            crate::webhooks::enqueue_in_tx(&mut tx, &tenant_id, &delivery_id, &event, now).await?;
            sqlx::query(
                "UPDATE consent_status SET status = 'expired', updated_at = $4 WHERE tenant_id = $1 AND subject_id = $2 \
                 AND purpose = $3 AND status = 'pending' AND proof_id IS NULL AND NOT EXISTS (SELECT 1 FROM consent_requests r \
                 WHERE r.tenant_id = $1 AND r.subject_id = $2 AND r.purpose = $3 AND r.status = 'pending')",
            )
            .bind(tenant.as_str())
            .bind(subject.as_str())
            .bind(purpose.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(expired.len() as u64)
    }

    /// Answers the request behind `token_hash` with `decision`, if it is still pending and
    /// its window open: in one transaction, claims it, appends the entries `build` makes
    /// (handed the first log index and the request), and links the proof.
    ///
    /// `webhook` is an event `(delivery ID, JSON)` queued in the same transaction for the
    /// tenant's webhook, if it has one: the sender hears of every answer recorded, and of
    /// no answer that was not.
    pub async fn answer_request<T, F>(
        &self,
        token_hash: &[u8; 32],
        decision: &str,
        proof_id: &ProofId,
        now: i64,
        webhook: impl FnOnce(&RequestRow, u64) -> (String, String),
        build: F,
    ) -> Result<Answer<T>, StoreError>
    where
        F: FnOnce(u64, &RequestRow) -> Result<(Vec<NewEntry>, T), String>,
    {
        let mut cached = self.edge_lock().await;
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let claimed: Option<(String,)> = sqlx::query_as(
            "UPDATE consent_requests SET status = $1, answered_at = $2, proof_id = $3 \
             WHERE token_hash = $4 AND status = 'pending' AND expires_at > $2 RETURNING id",
        )
        .bind(decision)
        .bind(now)
        .bind(proof_id.as_str())
        .bind(token_hash.to_vec())
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            tx.rollback().await?;
            return Ok(Answer::NotPending(
                self.request_by_token(token_hash).await?.map(Box::new),
            ));
        }
        let t: Tuple = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE token_hash = $1"
        ))
        .bind(token_hash.to_vec())
        .fetch_one(&mut *tx)
        .await?;
        let request = row(t)?;
        let result = append_in_tx(&mut tx, cached.take(), |first| build(first, &request)).await;
        match result {
            Ok((out, edge, erased)) => {
                let (delivery_id, event) = webhook(&request, out.first_index);
                crate::webhooks::enqueue_in_tx(&mut tx, &request.tenant, &delivery_id, &event, now)
                    .await?;
                tx.commit().await?;
                if erased {
                    self.note_erasure();
                }
                *cached = Some(edge);
                Ok(Answer::Recorded(Box::new(request), out))
            }
            Err(e) => {
                *cached = None;
                Err(e)
            }
        }
    }
}
