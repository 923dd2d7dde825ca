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
use crate::keys::Keys;
use crate::metrics::Metrics;
use consentry_core::ids::{ProofId, RequestId, SubjectId, TenantId};
use consentry_core::keys::SealKey;
use consentry_core::proof::{
    Decision, Method, Notice, PROOF_TYPE, ProofBody, Recipient, SealedProof,
};
use consentry_core::time::Timestamp;
use consentry_store::{ContactRow, NewEntry, ProofRow, StatusRow, Store};
use consentry_vault::WrappedKey;
use std::collections::HashMap;
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
    /// Address commitment and category; `None` to take them from the contact row read
    /// in the append transaction.
    pub recipient: Option<Recipient>,
    /// Notice shown.
    pub notice: Option<Notice>,
    /// Evidence, as a commitment or as the sender's text (committed in the transaction).
    pub evidence: Option<Evidence>,
    /// Delegated request answered.
    pub request: Option<RequestId>,
    /// Validity of a granted consent, in days.
    pub valid_days: Option<u32>,
}

/// Evidence the sender holds about a decision.
#[derive(Clone)]
pub enum Evidence {
    /// Already a keyed commitment (hex).
    Commitment(String),
    /// The sender's text, to commit to under the subject's key.
    Text(String),
}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::Commitment(c) => write!(f, "Commitment({c})"),
            Evidence::Text(_) => f.write_str("Text(<redacted>)"),
        }
    }
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
    /// No such contact in the tenant's book.
    #[error("no such contact")]
    UnknownContact,
    /// The contact's data was erased.
    #[error("the contact's data was erased")]
    Erased,
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

/// Batches at least this large mean concurrent clients: wait [`GATHER_WINDOW`] for more.
const GATHER_THRESHOLD: usize = 8;
/// How long a batch waits for the clients just answered to come back.
const GATHER_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

fn drain(rx: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, max: usize) {
    while jobs.len() < max {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
}

impl Sequencer {
    /// Starts the sequencer task. It ends when every handle is dropped and the queue is
    /// drained.
    pub fn start(
        store: Store,
        keys: Arc<Keys>,
        origin: String,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        max_batch: usize,
    ) -> (Sequencer, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(max_batch * 8);
        let task = tokio::spawn(async move {
            let mut last_batch = 0usize;
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                drain(&mut rx, &mut jobs, max_batch);
                // Commit delay: under concurrency (the last batch was not tiny), the clients
                // answered by the last commit are already sending their next request; a
                // short wait lets them join this batch instead of the next one, so each
                // fsync carries about twice as many proofs. A lone client pays nothing.
                if last_batch >= GATHER_THRESHOLD && jobs.len() < max_batch {
                    tokio::time::sleep(GATHER_WINDOW).await;
                    drain(&mut rx, &mut jobs, max_batch);
                }
                last_batch = jobs.len();
                commit(&store, &keys, &origin, clock.as_ref(), &metrics, jobs).await;
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

/// Batches at least this large are sealed on two threads: sealing (Ed25519 and two RFC
/// 8785 passes, ~45 µs a proof) runs inside the append transaction, so halving it
/// shortens every request's wait.
const PARALLEL_SEAL: usize = 16;

/// Seals `drafts` with indices from `first`, in order.
fn seal_all(
    drafts: &[&ProofDraft],
    first: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<Vec<(NewEntry, Sealed)>, String> {
    let one = |(i, d): (usize, &&ProofDraft)| seal_draft(d, first + i as u64, now, seal, origin);
    if drafts.len() < PARALLEL_SEAL {
        return drafts.iter().enumerate().map(one).collect();
    }
    let mid = drafts.len() / 2;
    let (left, right) = std::thread::scope(|scope| {
        let right = scope.spawn(|| {
            drafts[mid..]
                .iter()
                .enumerate()
                .map(|(i, d)| one((mid + i, d)))
                .collect::<Result<Vec<_>, _>>()
        });
        let left = drafts[..mid]
            .iter()
            .enumerate()
            .map(one)
            .collect::<Result<Vec<_>, _>>();
        (left, right.join())
    });
    let mut all = left?;
    all.extend(right.map_err(|_| "a sealing thread panicked".to_owned())??);
    Ok(all)
}

/// Completes a draft from its contact row (read in the append transaction): the
/// recipient's commitment and category, and the evidence commitment under the subject's
/// key. An unknown contact, or one of another tenant, is refused; so is an erased one.
fn resolve(
    d: &ProofDraft,
    contacts: &HashMap<SubjectId, (TenantId, ContactRow)>,
    keys: &Keys,
) -> Result<ProofDraft, SubmitError> {
    if d.recipient.is_some() && !matches!(d.evidence, Some(Evidence::Text(_))) {
        return Ok(d.clone());
    }
    let (_, row) = contacts
        .get(&d.subject)
        .filter(|(t, _)| *t == d.tenant)
        .ok_or(SubmitError::UnknownContact)?;
    let wrapped = row.wrapped_key.clone().ok_or(SubmitError::Erased)?;
    let evidence = match &d.evidence {
        Some(Evidence::Text(text)) => {
            let key = keys
                .master
                .tenant_keys(&d.tenant)
                .unwrap_subject_key(&d.subject, &WrappedKey::from_bytes(wrapped))
                .map_err(|e| SubmitError::Append(e.to_string()))?;
            Some(Evidence::Commitment(
                key.commitment("evidence", text.as_bytes()),
            ))
        }
        other => other.clone(),
    };
    Ok(ProofDraft {
        recipient: Some(d.recipient.clone().unwrap_or_else(|| Recipient {
            address_commitment: row.address_commitment.clone(),
            category: crate::routes::consents::category(&row.category),
        })),
        evidence,
        ..d.clone()
    })
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
        recipient: d
            .recipient
            .clone()
            .ok_or("unresolved draft: no recipient")?,
        notice: d.notice.clone(),
        evidence: match &d.evidence {
            None => None,
            Some(Evidence::Commitment(c)) => Some(c.clone()),
            Some(Evidence::Text(_)) => {
                return Err("unresolved draft: evidence not committed".into());
            }
        },
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
        event: None,
        erasure: None,
    };
    Ok((new_entry, Sealed { proof, entry }))
}

#[allow(clippy::disallowed_methods)] // Instant::now times the batch for a metric only
async fn commit(
    store: &Store,
    keys: &Keys,
    origin: &str,
    clock: &dyn Clock,
    metrics: &Metrics,
    jobs: Vec<Job>,
) {
    let started = std::time::Instant::now();
    let now = clock.now_ms();
    let drafts: Vec<&ProofDraft> = jobs.iter().map(|j| &j.draft).collect();
    let subjects: Vec<SubjectId> = drafts
        .iter()
        .filter(|d| d.recipient.is_none())
        .map(|d| d.subject.clone())
        .collect();
    let result = store
        .append_for_contacts(&subjects, |first_index, contacts| {
            // Resolve every draft, give the accepted ones consecutive indices, then seal.
            let resolved: Vec<Result<ProofDraft, SubmitError>> =
                drafts.iter().map(|d| resolve(d, contacts, keys)).collect();
            let accepted: Vec<&ProofDraft> =
                resolved.iter().filter_map(|r| r.as_ref().ok()).collect();
            let sealed = seal_all(&accepted, first_index, now, &keys.seal, origin)?;
            let mut sealed = sealed.into_iter();
            let mut entries = Vec::with_capacity(accepted.len());
            let mut outcomes = Vec::with_capacity(drafts.len());
            for r in resolved {
                match r {
                    Err(e) => outcomes.push(Err(e)),
                    Ok(_) => {
                        let (entry, proof) = sealed.next().ok_or("sealing lost a proof")?;
                        entries.push(entry);
                        outcomes.push(Ok(proof));
                    }
                }
            }
            Ok((entries, outcomes))
        })
        .await;
    match result {
        Ok(out) => {
            metrics.append_batches.inc();
            let appended = out.size - out.first_index;
            metrics.proofs_appended.inc_by(appended);
            metrics.batch_size.observe(appended as f64);
            metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics
                .log_size
                .set(i64::try_from(out.size).unwrap_or(i64::MAX));
            for (job, outcome) in jobs.into_iter().zip(out.built) {
                let _ = job.reply.send(outcome);
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
