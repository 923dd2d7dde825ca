//! Group commit: proofs from many requests sealed and appended in one transaction.
//!
//! On these machines one fsync'd commit costs milliseconds, so one commit per request
//! would cap throughput at a few hundred proofs per second. Instead each request hands
//! its draft to the sequencer and waits; the sequencer takes every draft queued while the
//! previous transaction was committing (up to `max_batch`), and in one transaction:
//! learns the next log index under the log lock, stamps and seals each proof with its
//! index, and writes entries, tiles, proof rows and consent status. Only after the commit
//! is each request answered, so an acknowledged proof is durable. If the transaction
//! fails, every request in it gets an error and nothing was written.

use crate::clock::Clock;
use crate::metrics::Metrics;
use consentry_core::ids::{ProofId, RequestId, SubjectId, TenantId};
use consentry_core::keys::SealKey;
use consentry_core::proof::{
    Decision, Method, Notice, PROOF_TYPE, ProofBody, Recipient, SealedProof,
};
use consentry_core::time::Timestamp;
use consentry_store::{NewEntry, ProofRow, StatusRow, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A proof waiting for its log index and seal.
#[derive(Debug, Clone)]
pub struct ProofDraft {
    /// The proof's ID.
    pub id: ProofId,
    /// The sender.
    pub tenant: TenantId,
    /// The subject.
    pub subject: SubjectId,
    /// Purpose key.
    pub purpose: String,
    /// Decision.
    pub decision: Decision,
    /// How it was collected.
    pub method: Method,
    /// Address commitment and category.
    pub recipient: Recipient,
    /// Notice shown.
    pub notice: Option<Notice>,
    /// Evidence commitment.
    pub evidence: Option<String>,
    /// Delegated request answered.
    pub request: Option<RequestId>,
    /// Validity of a granted consent, in days.
    pub valid_days: Option<u32>,
}

/// A sealed, durable proof.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The proof.
    pub proof: SealedProof,
    /// Its canonical bytes (the log entry), exactly as served.
    pub entry: Vec<u8>,
}

/// Why a proof was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The append transaction failed; nothing was written.
    #[error("the log append failed: {0}")]
    Append(String),
    /// The service is shutting down.
    #[error("the service is shutting down")]
    Closed,
}

struct Job {
    draft: ProofDraft,
    reply: oneshot::Sender<Result<Sealed, SubmitError>>,
}

/// The handle requests submit drafts through.
#[derive(Clone, Debug)]
pub struct Sequencer {
    tx: mpsc::Sender<Job>,
}

const DAY_MS: i64 = 86_400_000;

impl Sequencer {
    /// Starts the sequencer task. It ends when every handle is dropped and the queue is
    /// drained.
    pub fn start(
        store: Store,
        seal: Arc<SealKey>,
        origin: String,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        max_batch: usize,
    ) -> (Sequencer, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(max_batch * 8);
        let task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < max_batch {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                commit(&store, &seal, &origin, clock.as_ref(), &metrics, jobs).await;
            }
        });
        (Sequencer { tx }, task)
    }

    /// Submits a draft and waits until its proof is durable.
    pub async fn submit(&self, draft: ProofDraft) -> Result<Sealed, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { draft, reply })
            .await
            .map_err(|_| SubmitError::Closed)?;
        answer.await.map_err(|_| SubmitError::Closed)?
    }
}

/// Stamps, indexes and seals one draft: the log entry with the rows it stands for, and
/// the sealed proof. Used by the sequencer and by the answer-by-link path alike.
pub fn seal_draft(
    d: &ProofDraft,
    log_index: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<(NewEntry, Sealed), String> {
    let recorded_at = Timestamp::from_unix_millis(now).map_err(|e| e.to_string())?;
    let valid_until = match (d.decision, d.valid_days) {
        (Decision::Granted, Some(days)) => Some(
            Timestamp::from_unix_millis(now + i64::from(days) * DAY_MS)
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let body = ProofBody {
        kind: PROOF_TYPE.to_owned(),
        log: origin.to_owned(),
        id: d.id.clone(),
        tenant: d.tenant.clone(),
        subject: d.subject.clone(),
        purpose: d.purpose.clone(),
        decision: d.decision,
        method: d.method,
        recipient: d.recipient.clone(),
        notice: d.notice.clone(),
        evidence: d.evidence.clone(),
        request: d.request.clone(),
        valid_until,
        recorded_at,
        log_index,
    };
    let proof = body.seal(seal).map_err(|e| e.to_string())?;
    let entry = proof.entry_bytes().map_err(|e| e.to_string())?;
    let new_entry = NewEntry {
        leaf: consentry_core::merkle::leaf_hash(&entry),
        entry: entry.clone(),
        proof: Some(ProofRow {
            id: d.id.clone(),
            tenant: d.tenant.clone(),
            subject: d.subject.clone(),
            purpose: d.purpose.clone(),
            decision: d.decision.as_str().to_owned(),
            recorded_at: now,
        }),
        status: Some(StatusRow {
            tenant: d.tenant.clone(),
            subject: d.subject.clone(),
            purpose: d.purpose.clone(),
            status: d.decision.as_str().to_owned(),
            proof_id: Some(d.id.clone()),
            log_index: Some(log_index),
            updated_at: now,
            valid_until: valid_until.map(|t| t.unix_millis()),
        }),
    };
    Ok((new_entry, Sealed { proof, entry }))
}

#[allow(clippy::disallowed_methods)] // Instant::now times the batch for a metric only
async fn commit(
    store: &Store,
    seal: &SealKey,
    origin: &str,
    clock: &dyn Clock,
    metrics: &Metrics,
    jobs: Vec<Job>,
) {
    let started = std::time::Instant::now();
    let now = clock.now_ms();
    let drafts: Vec<&ProofDraft> = jobs.iter().map(|j| &j.draft).collect();
    let result = store
        .append(|first_index| {
            let mut entries = Vec::with_capacity(drafts.len());
            let mut sealed = Vec::with_capacity(drafts.len());
            for (i, d) in drafts.iter().enumerate() {
                let (entry, proof) = seal_draft(d, first_index + i as u64, now, seal, origin)?;
                entries.push(entry);
                sealed.push(proof);
            }
            Ok((entries, sealed))
        })
        .await;
    match result {
        Ok(out) => {
            metrics.append_batches.inc();
            metrics.proofs_appended.inc_by(jobs.len() as u64);
            metrics.batch_size.observe(jobs.len() as f64);
            metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics
                .log_size
                .set(i64::try_from(out.size).unwrap_or(i64::MAX));
            for (job, sealed) in jobs.into_iter().zip(out.built) {
                let _ = job.reply.send(Ok(sealed));
            }
        }
        Err(e) => {
            metrics.append_failures.inc();
            tracing::error!(error = %e, batch = jobs.len(), "log append failed; nothing written");
            let err = SubmitError::Append(e.to_string());
            for job in jobs {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
    }
}
