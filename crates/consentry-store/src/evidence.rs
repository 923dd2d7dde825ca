//! Evidence files given with manual consents: kept sealed under the subject's data key,
//! beside the keyed commitment the proof carries.
//!
//! A proof commits to its evidence file (HMAC under the subject's commitment key); the
//! file itself is stored here as the vault sealed it, so that the sender can produce it
//! later and anyone holding the proof can check it against the commitment. Nothing here
//! is readable without the subject's key: erasing the contact destroys the key, and the
//! erasure's transaction deletes these rows too (see `events::erase_in_tx`).
//!
//! A row is written before its proof is appended, and only while the contact is not
//! erased; a row whose proof was never appended is deleted by the caller, and could not
//! be reached anyway (downloads look the proof up first).

use crate::{Store, StoreError};
use consentry_core::ids::{ProofId, SubjectId, TenantId};

/// An evidence file to store, already sealed.
#[derive(Clone)]
pub struct NewEvidence {
    /// The proof it belongs to.
    pub proof: ProofId,
    /// The sender.
    pub tenant: TenantId,
    /// The contact.
    pub subject: SubjectId,
    /// The media type the uploader gave.
    pub media_type: String,
    /// The file's size in bytes (before sealing).
    pub size: u64,
    /// The keyed commitment to the file's bytes, as the proof carries it.
    pub commitment: String,
    /// The file sealed under the subject's data key.
    pub sealed: Vec<u8>,
    /// Stored at, Unix milliseconds.
    pub created_at: i64,
}

impl std::fmt::Debug for NewEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEvidence")
            .field("proof", &self.proof)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A stored evidence file (still sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// The proof it belongs to.
    pub proof: ProofId,
    /// The contact.
    pub subject: SubjectId,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The keyed commitment the proof carries.
    pub commitment: String,
    /// The sealed file.
    pub sealed: Vec<u8>,
    /// Stored at, Unix milliseconds.
    pub created_at: i64,
}

impl std::fmt::Debug for EvidenceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceRow")
            .field("proof", &self.proof)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// An evidence row as read: proof, subject, media type, size, commitment, sealed file,
/// stored at.
type EvidenceTuple = (String, String, String, i64, String, Vec<u8>, i64);

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// Stores an evidence file, if its contact exists in the tenant's book and is not
    /// erased; returns whether it was stored.
    pub async fn insert_evidence(&self, e: &NewEvidence) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO evidence_files (proof_id, tenant_id, subject_id, media_type, size, commitment, sealed, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM contacts \
             WHERE tenant_id = $2 AND id = $3 AND wrapped_key IS NOT NULL)",
        )
        .bind(e.proof.as_str())
        .bind(e.tenant.as_str())
        .bind(e.subject.as_str())
        .bind(e.media_type.as_str())
        .bind(crate::to_i64(e.size)?)
        .bind(e.commitment.as_str())
        .bind(e.sealed.clone())
        .bind(e.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the evidence file of a proof that was not appended after all.
    pub async fn delete_evidence(
        &self,
        tenant: &TenantId,
        proof: &ProofId,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM evidence_files WHERE tenant_id = $1 AND proof_id = $2")
            .bind(tenant.as_str())
            .bind(proof.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The evidence file of a tenant's proof, if it has one (and its proof exists).
    pub async fn evidence(
        &self,
        tenant: &TenantId,
        proof: &ProofId,
    ) -> Result<Option<EvidenceRow>, StoreError> {
        let row: Option<EvidenceTuple> = sqlx::query_as(
            "SELECT f.proof_id, f.subject_id, f.media_type, f.size, f.commitment, f.sealed, f.created_at \
             FROM evidence_files f JOIN proofs p ON p.id = f.proof_id AND p.tenant_id = f.tenant_id \
             WHERE f.tenant_id = $1 AND f.proof_id = $2",
        )
        .bind(tenant.as_str())
        .bind(proof.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(
            |(proof, subject, media_type, size, commitment, sealed, created_at)| {
                Ok(EvidenceRow {
                    proof: ProofId::parse(&proof).map_err(corrupt)?,
                    subject: SubjectId::parse(&subject).map_err(corrupt)?,
                    media_type,
                    size: crate::to_u64(size)?,
                    commitment,
                    sealed,
                    created_at,
                })
            },
        )
        .transpose()
    }

    /// The IDs of a subject's proofs that have an evidence file.
    pub async fn evidence_proofs(
        &self,
        tenant: &TenantId,
        subject: &SubjectId,
    ) -> Result<Vec<ProofId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT proof_id FROM evidence_files WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(tenant.as_str())
        .bind(subject.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(p,)| ProofId::parse(&p).map_err(corrupt))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        EntryRows, Erasure, EventEffect, EventRow, NewContact, NewEntry, ProofRow, StatusRow, TxAsk,
    };
    use consentry_core::ids::EventId;
    use consentry_core::merkle::leaf_hash;

    #[tokio::test]
    async fn evidence_is_stored_for_live_contacts_and_deleted_with_the_erasure() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let t = TenantId::parse("ten_a1").unwrap();
        let other = TenantId::parse("ten_b2").unwrap();
        store.create_tenant(&t, "Acme", 1).await.unwrap();
        store.create_tenant(&other, "Other", 1).await.unwrap();
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
        let proof = ProofId::parse("prf_1").unwrap();
        let ev = |p: &ProofId, tenant: &TenantId, subject: &SubjectId| NewEvidence {
            proof: p.clone(),
            tenant: tenant.clone(),
            subject: subject.clone(),
            media_type: "application/pdf".into(),
            size: 5,
            commitment: "c0ffee".into(),
            sealed: b"sealed bytes".to_vec(),
            created_at: 2,
        };
        assert!(store.insert_evidence(&ev(&proof, &t, &s)).await.unwrap());
        // Unknown contact, or a contact of another tenant: nothing stored.
        let p2 = ProofId::parse("prf_2").unwrap();
        assert!(
            !store
                .insert_evidence(&ev(&p2, &t, &SubjectId::parse("sub_none").unwrap()))
                .await
                .unwrap()
        );
        assert!(!store.insert_evidence(&ev(&p2, &other, &s)).await.unwrap());
        // Not reachable before its proof exists.
        assert!(store.evidence(&t, &proof).await.unwrap().is_none());
        let entry = b"{\"proof\":1}".to_vec();
        store
            .append_reading(TxAsk::default(), |_, _| {
                Ok((
                    vec![NewEntry {
                        leaf: leaf_hash(&entry),
                        entry: entry.clone(),
                        rows: EntryRows::Proof {
                            proof: ProofRow {
                                id: proof.clone(),
                                tenant: t.clone(),
                                subject: s.clone(),
                                purpose: "newsletter".into(),
                                decision: consentry_core::proof::Decision::Granted,
                                recorded_at: 2,
                            },
                            status: StatusRow {
                                tenant: t.clone(),
                                subject: s.clone(),
                                purpose: "newsletter".into(),
                                status: consentry_core::event::ConsentState::Granted,
                                proof_id: Some(proof.clone()),
                                log_index: None,
                                updated_at: 2,
                                valid_until: None,
                            },
                            answer: None,
                        },
                    }],
                    (),
                ))
            })
            .await
            .unwrap();
        let row = store.evidence(&t, &proof).await.unwrap().unwrap();
        assert_eq!(
            (row.sealed.as_slice(), row.size, row.media_type.as_str()),
            (&b"sealed bytes"[..], 5, "application/pdf")
        );
        assert!(store.evidence(&other, &proof).await.unwrap().is_none());
        assert_eq!(
            store.evidence_proofs(&t, &s).await.unwrap(),
            vec![proof.clone()]
        );

        // The erasure deletes the file in its own transaction.
        let erased = b"{\"event\":2}".to_vec();
        store
            .append_reading(TxAsk::default(), |first, _| {
                Ok((
                    vec![NewEntry {
                        leaf: leaf_hash(&erased),
                        entry: erased.clone(),
                        rows: EntryRows::Event {
                            event: EventRow {
                                id: EventId::parse("evt_1").unwrap(),
                                tenant: t.clone(),
                                subject: s.clone(),
                                kind: "data.erased".into(),
                                purpose: None,
                                recorded_at: 3,
                            },
                            effect: Some(EventEffect::Erase(Erasure {
                                tenant: t.clone(),
                                subject: s.clone(),
                                tombstone: [9; 32],
                                erased_at: 3,
                            })),
                        },
                    }],
                    first,
                ))
            })
            .await
            .unwrap();
        assert!(store.evidence(&t, &proof).await.unwrap().is_none());
        assert!(store.evidence_proofs(&t, &s).await.unwrap().is_empty());
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evidence_files")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        // And an erased contact takes no new file.
        assert!(!store.insert_evidence(&ev(&p2, &t, &s)).await.unwrap());
    }
}
