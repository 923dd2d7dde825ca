//! Delegated consent requests: creation (with the book's `pending` status), the e-mail
//! queue, expiry. The recipient's answer is a proof appended through the log (the
//! ledger decides it on [`RequestState`] read under the log lock, and the request is
//! closed with [`crate::EntryRows::Proof`]'s `answer` in the same transaction), so
//! a link answers exactly once and an answer is never half-recorded.

use crate::log::RequestState;
use crate::{Store, StoreError};
use consentry_core::consent::{MailStatus, RequestStatus};
use consentry_core::ids::{ProofId, RequestId, SubjectId, TenantId};
use std::collections::HashSet;

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
    /// Where it stands.
    pub status: RequestStatus,
    /// SHA-256 of the current link token (a resend replaces it).
    pub token_hash: [u8; 32],
    /// Created at (Unix ms).
    pub created_at: i64,
    /// Window closes at (Unix ms).
    pub expires_at: i64,
    /// Answered at, or cancelled at (Unix ms).
    pub answered_at: Option<i64>,
    /// The proof the answer produced.
    pub proof_id: Option<ProofId>,
    /// Where its e-mail stands (`Failed` also when the request was cancelled before its
    /// e-mail left: see `mail_error`).
    pub mail_status: MailStatus,
    /// Delivery attempts so far.
    pub mail_attempts: i64,
    /// Last delivery error (never personal data).
    pub mail_error: Option<String>,
}

/// The delivery error of a request cancelled before its e-mail was sent.
pub const CANCELLED_UNSENT: &str = "not sent: the request was cancelled first";

const COLUMNS: &str = "id, tenant_id, subject_id, purpose, notice_text, notice_sha256, notice_version, notice_url, \
    language, valid_days, status, token_hash, created_at, expires_at, answered_at, proof_id, mail_status, mail_attempts, mail_error";

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
    token_hash: Vec<u8>,
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
        status: RequestStatus::parse(&t.status)
            .ok_or_else(|| corrupt(format!("request status {:?}", t.status)))?,
        token_hash: t
            .token_hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("a token hash is not 32 bytes"))?,
        created_at: t.created_at,
        expires_at: t.expires_at,
        answered_at: t.answered_at,
        proof_id: t
            .proof_id
            .map(|p| ProofId::parse(&p))
            .transpose()
            .map_err(corrupt)?,
        mail_status: MailStatus::parse(&t.mail_status)
            .ok_or_else(|| corrupt(format!("mail status {:?}", t.mail_status)))?,
        mail_attempts: t.mail_attempts,
        mail_error: t.mail_error,
    })
}

/// One request's state, by ID: what an answer is decided on (both append drivers).
pub(crate) const REQUEST_STATE: &str =
    "SELECT tenant_id, status, token_hash, expires_at FROM consent_requests WHERE id = $1";

/// A request's state from its columns.
pub(crate) fn request_state(
    tenant: &str,
    status: String,
    token_hash: &[u8],
    expires_at: i64,
) -> Result<RequestState, StoreError> {
    Ok(RequestState {
        tenant: TenantId::parse(tenant).map_err(corrupt)?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("request status {status:?}")))?,
        token_hash: token_hash
            .try_into()
            .map_err(|_| corrupt("a stored token hash is not 32 bytes"))?,
        expires_at,
    })
}

/// The state of each request in `ids` that exists, in an open transaction (the append's,
/// under the log lock).
pub(crate) async fn states_in_tx(
    conn: &mut sqlx::AnyConnection,
    ids: &[RequestId],
) -> Result<std::collections::HashMap<RequestId, RequestState>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        let found: Option<(String, String, Vec<u8>, i64)> = sqlx::query_as(REQUEST_STATE)
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        if let Some((tenant, status, token_hash, expires_at)) = found {
            out.insert(
                id.clone(),
                request_state(&tenant, status, &token_hash, expires_at)?,
            );
        }
    }
    Ok(out)
}

impl Store {
    /// Stores requests, and marks each (subject, purpose) `pending` in the book unless a
    /// decision is already recorded there.
    pub async fn insert_requests(&self, reqs: &[NewRequest]) -> Result<(), StoreError> {
        self.insert_requests_checked(reqs, None).await.map(|_| ())
    }

    /// Stores new requests as [`Store::insert_requests`] does, except for a contact that
    /// already has a request pending (window open at `now`) for the same purpose — one
    /// stored earlier, by another process, or earlier in `reqs`. The check is made in the
    /// inserting transaction after locking the contact's row, so two senders asking the
    /// same contacts at the same moment ask each of them once, on both databases. Returns
    /// the requests left out.
    pub async fn insert_requests_unless_pending(
        &self,
        reqs: &[NewRequest],
        now: i64,
    ) -> Result<Vec<RequestId>, StoreError> {
        self.insert_requests_checked(reqs, Some(now)).await
    }

    async fn insert_requests_checked(
        &self,
        reqs: &[NewRequest],
        pending_at: Option<i64>,
    ) -> Result<Vec<RequestId>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // Contacts are locked in one order whatever the callers' orders: no deadlock
        // between two such transactions.
        let mut ordered: Vec<&NewRequest> = reqs.iter().collect();
        if pending_at.is_some() {
            ordered.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.id.cmp(&b.id)));
        }
        let mut skipped = Vec::new();
        for r in ordered {
            if let Some(now) = pending_at {
                // A row lock on PostgreSQL (a second transaction waits here until the
                // first commits, then its next statement sees the first's requests); on
                // SQLite the writer's lock is already held.
                sqlx::query("UPDATE contacts SET id = id WHERE tenant_id = $1 AND id = $2")
                    .bind(r.tenant.as_str())
                    .bind(r.subject.as_str())
                    .execute(&mut *tx)
                    .await?;
                let pending: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM consent_requests WHERE tenant_id = $1 AND subject_id = $2 \
                     AND purpose = $3 AND status = 'pending' AND expires_at > $4 LIMIT 1",
                )
                .bind(r.tenant.as_str())
                .bind(r.subject.as_str())
                .bind(r.purpose.as_str())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if pending.is_some() {
                    skipped.push(r.id.clone());
                    continue;
                }
            }
            sqlx::query(
                "INSERT INTO consent_requests (id, tenant_id, subject_id, purpose, token_hash, notice_text, notice_sha256, \
                 notice_version, notice_url, language, valid_days, status, created_at, expires_at, mail_status, \
                 mail_attempts, mail_next_at, response_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, \
                 'queued', 0, $14, $15)",
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
            .bind(r.expires_at - r.created_at)
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
        Ok(skipped)
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

    /// Tenants with e-mails due now (at most `limit`): the mail workers run one lane per
    /// tenant, so that one tenant's slow messages delay only its own.
    pub async fn tenants_with_due_mail(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tenant_id FROM consent_requests WHERE mail_status = 'queued' AND mail_next_at <= $1 \
             ORDER BY tenant_id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(t,)| TenantId::parse(&t).map_err(corrupt))
            .collect()
    }

    /// One tenant's requests whose e-mail is due now, oldest first.
    pub async fn due_mail_of(
        &self,
        tenant: &TenantId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE mail_status = 'queued' AND mail_next_at <= $1 \
             AND tenant_id = $2 ORDER BY mail_next_at, id LIMIT $3"
        ))
        .bind(now)
        .bind(tenant.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    /// Records a delivery of the link whose hash is `token_hash`: `Ok` sent;
    /// `Err((next_at, error))` retry at `next_at`, or give up when `next_at` is `None`.
    /// Only a row still queued with that same link is changed: a request resent (new link)
    /// or cancelled while its e-mail was on its way keeps its new state, and the mail loop
    /// sends the new link at its next round.
    pub async fn mail_attempted(
        &self,
        id: &RequestId,
        token_hash: &[u8; 32],
        outcome: Result<(), (Option<i64>, &str)>,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        const SAME: &str = "WHERE id = $1 AND token_hash = $2 AND mail_status = 'queued'";
        let (sql, next, error) = match outcome {
            Ok(()) => (
                format!(
                    "UPDATE consent_requests SET mail_status = 'sent', mail_attempts = mail_attempts + 1, mail_error = NULL {SAME}"
                ),
                None,
                None,
            ),
            Err((Some(next), error)) => (
                format!(
                    "UPDATE consent_requests SET mail_attempts = mail_attempts + 1, mail_next_at = $3, mail_error = $4 {SAME}"
                ),
                Some(next),
                Some(error),
            ),
            Err((None, error)) => (
                format!(
                    "UPDATE consent_requests SET mail_status = 'failed', mail_attempts = mail_attempts + 1, mail_error = $3 {SAME}"
                ),
                None,
                Some(error),
            ),
        };
        let mut q = sqlx::query(&sql)
            .bind(id.as_str())
            .bind(token_hash.to_vec());
        if let Some(next) = next {
            q = q.bind(next);
        }
        if let Some(error) = error {
            q = q.bind(error.to_owned());
        }
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

    /// A tenant's requests to one contact, newest first.
    pub async fn subject_requests(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM consent_requests WHERE tenant_id = $1 AND subject_id = $2 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    /// Which of `subjects` already have a request for `purpose` waiting for an answer
    /// (pending, window still open at `now`).
    pub async fn pending_request_subjects(
        &self,
        tenant: &TenantId,
        purpose: &str,
        subjects: &[SubjectId],
        now: i64,
    ) -> Result<HashSet<SubjectId>, StoreError> {
        let mut out = HashSet::new();
        for chunk in subjects.chunks(500) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "SELECT DISTINCT subject_id FROM consent_requests WHERE tenant_id = $1 AND purpose = $2 \
                 AND status = 'pending' AND expires_at > $3 AND subject_id IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql)
                .bind(tenant.as_str())
                .bind(purpose)
                .bind(now);
            for s in chunk {
                q = q.bind(s.as_str());
            }
            for (s,) in q.fetch_all(&self.pool).await? {
                out.insert(SubjectId::parse(&s).map_err(corrupt)?);
            }
        }
        Ok(out)
    }

    /// Gives a pending request a new link: the old token stops working at once, the new
    /// one's hash is stored, the e-mail is queued again and the response window starts
    /// over with its original length. `None` (nothing changed) unless the request is the
    /// tenant's, pending, and its window still open at `now`.
    pub async fn resend_request(
        &self,
        tenant: &TenantId,
        id: &RequestId,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<RequestRow>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // The link being replaced is remembered (its hash), so that it can say so.
        sqlx::query(
            "INSERT INTO superseded_links (token_hash, tenant_id, request_id, superseded_at) \
             SELECT token_hash, tenant_id, id, $3 FROM consent_requests \
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $3 \
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE consent_requests SET token_hash = $3, mail_status = 'queued', mail_attempts = 0, \
             mail_next_at = $4, mail_error = NULL, expires_at = $4 + COALESCE(response_ms, expires_at - created_at) \
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $4",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(token_hash.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        self.request(tenant, id).await
    }

    /// Whether a link token's hash is one a resend replaced (see
    /// [`Store::resend_request`]): its request's ID if so.
    pub async fn superseded_link(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(TenantId, RequestId)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, request_id FROM superseded_links WHERE token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(t, r)| {
            Ok((
                TenantId::parse(&t).map_err(corrupt)?,
                RequestId::parse(&r).map_err(corrupt)?,
            ))
        })
        .transpose()
    }

    /// Cancels a pending request (window still open at `now`): it becomes `cancelled`, its
    /// link answers nothing any more, an e-mail not sent yet is not sent (its delivery
    /// shows `failed` with [`CANCELLED_UNSENT`] as the error), and the book
    /// entry it made `pending` returns to what it was before — `expired` if an earlier
    /// request for the same purpose lapsed unanswered, else no entry — unless a decision
    /// was recorded meanwhile or another request is still pending. `None` (nothing
    /// changed) unless the request is the tenant's and pending.
    pub async fn cancel_request(
        &self,
        tenant: &TenantId,
        id: &RequestId,
        now: i64,
    ) -> Result<Option<RequestRow>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let claimed: Option<(String, String)> = sqlx::query_as(
            "UPDATE consent_requests SET status = 'cancelled', answered_at = $3, \
             mail_error = CASE WHEN mail_status = 'queued' THEN $4 ELSE mail_error END, \
             mail_status = CASE WHEN mail_status = 'queued' THEN 'failed' ELSE mail_status END \
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $3 \
             RETURNING subject_id, purpose",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(now)
        .bind(CANCELLED_UNSENT)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((subject, purpose)) = claimed else {
            tx.rollback().await?;
            return Ok(None);
        };
        // Still waiting: another request of the same contact and purpose.
        let others = "NOT EXISTS (SELECT 1 FROM consent_requests r WHERE r.tenant_id = $1 \
             AND r.subject_id = $2 AND r.purpose = $3 AND r.status = 'pending' AND r.expires_at > $4)";
        // Lapsed: an earlier request expired (or is past its window, not yet closed).
        let lapsed = "EXISTS (SELECT 1 FROM consent_requests r WHERE r.tenant_id = $1 \
             AND r.subject_id = $2 AND r.purpose = $3 AND (r.status = 'expired' \
             OR (r.status = 'pending' AND r.expires_at <= $4)))";
        sqlx::query(&format!(
            "UPDATE consent_status SET status = 'expired', updated_at = $4 WHERE tenant_id = $1 \
             AND subject_id = $2 AND purpose = $3 AND status = 'pending' AND proof_id IS NULL \
             AND {others} AND {lapsed}"
        ))
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .bind(purpose.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "DELETE FROM consent_status WHERE tenant_id = $1 AND subject_id = $2 AND purpose = $3 \
             AND status = 'pending' AND proof_id IS NULL AND {others}"
        ))
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .bind(purpose.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.request(tenant, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewContact;

    async fn setup() -> (tempfile::TempDir, Store, TenantId, SubjectId) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let t = TenantId::parse("ten_a1").unwrap();
        store.create_tenant(&t, "Acme", 1).await.unwrap();
        let s = SubjectId::parse("sub_1").unwrap();
        store
            .insert_contact(&NewContact {
                id: s.clone(),
                tenant: t.clone(),
                email_index: [1; 32],
                wrapped_key: vec![7; 73],
                identity: vec![8; 40],
                address_commitment: "ac".into(),
                category: consentry_core::proof::RecipientCategory::Private,
                attributes: "{}".into(),
                created_at: 1,
            })
            .await
            .unwrap();
        (dir, store, t, s)
    }

    fn new(t: &TenantId, s: &SubjectId, id: &str, token: u8, at: i64) -> NewRequest {
        NewRequest {
            id: RequestId::parse(id).unwrap(),
            tenant: t.clone(),
            subject: s.clone(),
            purpose: "newsletter".into(),
            token_hash: [token; 32],
            notice_text: "notice".into(),
            notice_sha256: "00".into(),
            notice_version: Some("1".into()),
            notice_url: None,
            language: "fr".into(),
            valid_days: None,
            created_at: at,
            expires_at: at + 1000,
        }
    }

    async fn book(store: &Store, t: &TenantId, s: &SubjectId) -> Option<&'static str> {
        store
            .statuses(t, std::slice::from_ref(s))
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.purpose == "newsletter")
            .map(|r| r.status.as_str())
    }

    #[tokio::test]
    async fn cancel_restores_the_book_and_resend_replaces_the_link() {
        let (_dir, store, t, s) = setup().await;
        let other = TenantId::parse("ten_b2").unwrap();
        store.create_tenant(&other, "Other", 1).await.unwrap();

        // A first request, cancelled: the book has no entry again.
        store
            .insert_requests(&[new(&t, &s, "req_1", 1, 10)])
            .await
            .unwrap();
        assert_eq!(book(&store, &t, &s).await, Some("pending"));
        let r1 = RequestId::parse("req_1").unwrap();
        assert!(
            store
                .cancel_request(&other, &r1, 20)
                .await
                .unwrap()
                .is_none()
        );
        let c = store.cancel_request(&t, &r1, 20).await.unwrap().unwrap();
        assert_eq!(
            (
                c.status.as_str(),
                c.answered_at,
                c.mail_status.as_str(),
                c.mail_error.as_deref()
            ),
            ("cancelled", Some(20), "failed", Some(CANCELLED_UNSENT))
        );
        assert_eq!(book(&store, &t, &s).await, None);
        assert!(store.cancel_request(&t, &r1, 21).await.unwrap().is_none());
        assert!(store.due_mail(10_000, 10).await.unwrap().is_empty());

        // A second one lapses: expired. A third one, cancelled: back to expired.
        store
            .insert_requests(&[new(&t, &s, "req_2", 2, 30)])
            .await
            .unwrap();
        store
            .expire_requests(2000, |_, _, _, _| ("d1".into(), "{}".into()))
            .await
            .unwrap();
        assert_eq!(book(&store, &t, &s).await, Some("expired"));
        store
            .insert_requests(&[new(&t, &s, "req_3", 3, 3000)])
            .await
            .unwrap();
        assert_eq!(book(&store, &t, &s).await, Some("pending"));
        let r3 = RequestId::parse("req_3").unwrap();
        assert_eq!(
            store
                .pending_request_subjects(&t, "newsletter", std::slice::from_ref(&s), 3001)
                .await
                .unwrap()
                .len(),
            1
        );

        // Resend: new hash, the old one opens nothing, the window starts over.
        let resent = store
            .resend_request(&t, &r3, &[33; 32], 3500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resent.token_hash, [33; 32]);
        assert_eq!(resent.expires_at, 4500);
        assert_eq!(resent.mail_status, MailStatus::Queued);
        assert!(store.request_by_token(&[3; 32]).await.unwrap().is_none());
        assert_eq!(
            store.request_by_token(&[33; 32]).await.unwrap().unwrap().id,
            r3
        );
        assert!(
            store
                .resend_request(&other, &r3, &[34; 32], 3600)
                .await
                .unwrap()
                .is_none()
        );
        // A delivery of the old link, finishing after the resend, changes nothing: the
        // new link stays queued.
        store.mail_attempted(&r3, &[3; 32], Ok(())).await.unwrap();
        let still = store.request(&t, &r3).await.unwrap().unwrap();
        assert_eq!(
            (still.mail_status.as_str(), still.mail_attempts),
            ("queued", 0)
        );
        // A second resend restarts the original 1,000 ms window, not the stretched one.
        let again = store
            .resend_request(&t, &r3, &[36; 32], 4400)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.expires_at, 5400);
        store.mail_attempted(&r3, &[36; 32], Ok(())).await.unwrap();
        let sent = store.request(&t, &r3).await.unwrap().unwrap();
        assert_eq!(sent.mail_status, MailStatus::Sent);

        // Two pending: cancelling one leaves the book pending.
        store
            .insert_requests(&[new(&t, &s, "req_4", 4, 3600)])
            .await
            .unwrap();
        store
            .cancel_request(&t, &RequestId::parse("req_4").unwrap(), 3700)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(book(&store, &t, &s).await, Some("pending"));
        store.cancel_request(&t, &r3, 4500).await.unwrap().unwrap();
        assert_eq!(book(&store, &t, &s).await, Some("expired"));
        assert!(
            store
                .pending_request_subjects(&t, "newsletter", std::slice::from_ref(&s), 4501)
                .await
                .unwrap()
                .is_empty()
        );
        let all = store.subject_requests(&t, &s).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["req_4", "req_3", "req_2", "req_1"]);
        // A closed request cannot be resent.
        assert!(
            store
                .resend_request(&t, &r3, &[35; 32], 4600)
                .await
                .unwrap()
                .is_none()
        );
    }
}
