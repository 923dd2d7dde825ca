//! The self-service portal's rows: one-time sign-in links, the sessions they open, and
//! the reads the portal's pages need (every tenant, a subject's proofs).
//!
//! A sign-in token and a session ID are 256-bit random values that only their holder
//! knows; the database keeps their SHA-256, so a copy of it opens nothing. A link is
//! consumed by one conditional `UPDATE` (unused, unexpired), so two clicks racing each
//! other open at most one session, on either backend. The subjects a sign-in reaches are
//! stored as pseudonym pairs, one `tenant_id subject_id` per line: the portal never
//! stores the address the person typed.

use crate::{Store, StoreError, to_u64};
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::proof::Decision;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The subjects a sign-in reaches: (sender, pseudonym) pairs.
pub type PortalSubjects = Vec<(TenantId, SubjectId)>;

fn encode_subjects(subjects: &[(TenantId, SubjectId)]) -> String {
    subjects
        .iter()
        .map(|(t, s)| format!("{t} {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_subjects(text: &str) -> Result<PortalSubjects, StoreError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (t, s) = l
                .split_once(' ')
                .ok_or_else(|| corrupt("a portal subject line is not a pair"))?;
            Ok((
                TenantId::parse(t).map_err(corrupt)?,
                SubjectId::parse(s).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// A portal session, found by the hash of its ID.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// The subjects it may see and act for.
    pub subjects: PortalSubjects,
    /// The session's synchronizer token, which every form it posts must carry.
    pub csrf: String,
    /// When it ends, Unix milliseconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSession")
            .field("subjects", &self.subjects.len())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What following a sign-in link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// Unused and unexpired.
    Valid,
    /// Used already.
    Used,
    /// Past its expiry.
    Expired,
}

/// A proof of a subject, as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectProof {
    /// Proof ID.
    pub id: ProofId,
    /// Purpose.
    pub purpose: String,
    /// The decision.
    pub decision: Decision,
    /// Its log index.
    pub log_index: u64,
    /// Recorded at, Unix milliseconds.
    pub recorded_at: i64,
}

/// SQLite: a subject's proofs through the per-purpose chains (migration 0010).
const SQLITE_SUBJECT_PROOFS: &str = "WITH RECURSIVE chain (idx) AS ( \
         SELECT log_index FROM consent_status \
         WHERE tenant_id = $1 AND subject_id = $2 AND log_index IS NOT NULL \
         UNION ALL \
         SELECT p.prev_index FROM chain c JOIN proofs p ON p.log_index = c.idx \
         WHERE p.prev_index IS NOT NULL \
     ) \
     SELECT p.id, p.purpose, p.decision, p.log_index, p.recorded_at \
     FROM chain c JOIN proofs p ON p.log_index = c.idx \
     WHERE p.tenant_id = $1 AND p.subject_id = $2 ORDER BY p.log_index";

impl Store {
    /// Every tenant's ID, in order (a sign-in looks the address up in each book).
    pub async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id,)| TenantId::parse(&id).map_err(corrupt))
            .collect()
    }

    /// Stores a sign-in link (by its token's hash) for `subjects`, valid until
    /// `expires_at`; deletes links that expired before `now`.
    pub async fn insert_portal_login(
        &self,
        token_hash: &[u8; 32],
        subjects: &[(TenantId, SubjectId)],
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM portal_logins WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portal_logins (token_hash, subjects, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.to_vec())
        .bind(encode_subjects(subjects))
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The state of a sign-in link, without using it; `None` if there is no such link.
    pub async fn portal_login_state(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<LoginState>, StoreError> {
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT expires_at, used_at FROM portal_logins WHERE token_hash = $1")
                .bind(token_hash.to_vec())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(expires_at, used_at)| match used_at {
            Some(_) => LoginState::Used,
            None if expires_at <= now => LoginState::Expired,
            None => LoginState::Valid,
        }))
    }

    /// Uses a sign-in link and opens a session in the same transaction: the link must be
    /// unused and unexpired, and is marked used. Returns the session's subjects, or why
    /// the link opened nothing (`None`: no such link).
    pub async fn consume_portal_login(
        &self,
        token_hash: &[u8; 32],
        session_hash: &[u8; 32],
        csrf: &str,
        now: i64,
        session_expires_at: i64,
    ) -> Result<Result<PortalSubjects, Option<LoginState>>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query(
            "UPDATE portal_logins SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash.to_vec())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Err(self.portal_login_state(token_hash, now).await?));
        }
        let (text,): (String,) =
            sqlx::query_as("SELECT subjects FROM portal_logins WHERE token_hash = $1")
                .bind(token_hash.to_vec())
                .fetch_one(&mut *tx)
                .await?;
        let subjects = decode_subjects(&text)?;
        sqlx::query("DELETE FROM portal_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, subjects, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash.to_vec())
        .bind(text)
        .bind(csrf)
        .bind(now)
        .bind(session_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(subjects))
    }

    /// The unexpired session whose ID hashes to `id_hash`.
    pub async fn portal_session(
        &self,
        id_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<PortalSession>, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT subjects, csrf, expires_at FROM portal_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(subjects, csrf, expires_at)| {
            Ok(PortalSession {
                subjects: decode_subjects(&subjects)?,
                csrf,
                expires_at,
            })
        })
        .transpose()
    }

    /// Ends a session (logout).
    pub async fn delete_portal_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
            .bind(id_hash.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every proof of a subject, oldest first. PostgreSQL reads them from the
    /// `proofs_by_subject` index; SQLite, which has no such index (each appended proof
    /// would dirty a random page of it: see its migration 0010), walks for each purpose
    /// the chain from its latest proof (the `consent_status` row's `log_index`) back
    /// through each proof's `prev_index`, every step a primary-key lookup.
    pub async fn subject_proofs(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Vec<SubjectProof>, StoreError> {
        let sql = match self.backend {
            crate::Backend::Postgres => {
                "SELECT id, purpose, decision, log_index, recorded_at FROM proofs \
                 WHERE tenant_id = $1 AND subject_id = $2 ORDER BY log_index"
            }
            crate::Backend::Sqlite => SQLITE_SUBJECT_PROOFS,
        };
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(sql)
            .bind(tenant.as_str())
            .bind(subject.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id, purpose, decision, log_index, recorded_at)| {
                Ok(SubjectProof {
                    id: ProofId::parse(&id).map_err(corrupt)?,
                    purpose,
                    decision: Decision::parse(&decision)
                        .ok_or_else(|| StoreError::Corrupt(format!("decision {decision:?}")))?,
                    log_index: to_u64(log_index)?,
                    recorded_at,
                })
            })
            .collect()
    }

    /// A proof of the given subject of a tenant: its log index and entry bytes. `None` if
    /// the proof is another subject's (the portal shows a person only their own).
    pub async fn subject_proof(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
        id: &ProofId,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT p.log_index, e.entry FROM proofs p JOIN log_entries e ON e.idx = p.log_index \
             WHERE p.tenant_id = $1 AND p.subject_id = $2 AND p.id = $3",
        )
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(i, e)| Ok((to_u64(i)?, e))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip_as_pseudonym_lines() {
        let subjects = vec![
            (
                TenantId::parse("ten_acme").unwrap(),
                SubjectId::parse("sub_9f2c1e").unwrap(),
            ),
            (
                TenantId::parse("ten_other").unwrap(),
                SubjectId::parse("sub_0a0b0c").unwrap(),
            ),
        ];
        let text = encode_subjects(&subjects);
        assert_eq!(text, "ten_acme sub_9f2c1e\nten_other sub_0a0b0c");
        assert_eq!(decode_subjects(&text).unwrap(), subjects);
        assert_eq!(decode_subjects("").unwrap(), Vec::new());
        assert!(decode_subjects("ten_acme").is_err());
        assert!(decode_subjects("nope sub_9f2c1e").is_err());
    }
}
