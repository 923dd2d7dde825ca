//! Group commit: proofs and events from many requests sealed and appended in one
//! transaction.
//!
//! On these machines one fsync'd commit costs milliseconds, so one commit per request
//! would cap throughput at a few hundred entries per second. Instead each request hands
//! its draft — a consent proof, or an event about a subject's identity data (a reveal, an
//! erasure) — to the sequencer and waits; the sequencer takes every draft queued while the
//! previous transaction was committing (up to `max_batch`), and in one transaction: learns
//! the next log index under the log lock, reads the contacts and consent states the
//! drafts depend on, decides each one in queue order, stamps and seals each entry with its
//! index, and writes entries, tiles and the rows they stand for. Only after the commit is
//! each request answered, so an acknowledged proof or event is durable. If the
//! transaction fails, every request in it gets an error and nothing was written.
//!
//! Decisions are taken inside the transaction, on what it read, and in log order within
//! the batch: a reveal queued after a revocation (in an earlier batch, or earlier in the
//! same one) is refused, and one queued after an erasure finds the contact erased. So
//! "a revoked consent stops reveals at once" holds under any concurrency, on one process
//! or several sharing a PostgreSQL database (the log lock orders their batches too).

use crate::clock::Clock;
use crate::keys::Keys;
use crate::metrics::Metrics;
use consentry_core::event::{ConsentState, EventBody, EventType, IDENTITY_FIELDS, SealedEvent};
use consentry_core::ids::{EventId, ProofId, RequestId, SubjectId, TenantId};
use consentry_core::keys::SealKey;
use consentry_core::proof::{
    Decision, Method, Notice, PROOF_TYPE, ProofBody, Recipient, SealedProof,
};
use consentry_core::time::Timestamp;
use consentry_store::{
    ContactRow, Erasure, EventRow, NewEntry, ProofRow, StatusRow, Store, TxReads,
};
use consentry_vault::WrappedKey;
use std::collections::{HashMap, HashSet};
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

/// An event waiting for its log index and seal. What it becomes (an access, a refusal,
/// an erasure, nothing) is decided in the append transaction.
#[derive(Debug, Clone)]
pub struct EventDraft {
    /// The event's ID.
    pub id: EventId,
    /// The sender whose book holds the subject.
    pub tenant: TenantId,
    /// The subject.
    pub subject: SubjectId,
    /// Who acts: an API key ID, or `portal`.
    pub actor: String,
    /// What is asked.
    pub action: Action,
}

/// What an event draft asks for.
#[derive(Clone)]
pub enum Action {
    /// Reveal `fields` for `purpose`: a `data.access` event if a granted, unexpired,
    /// unrevoked consent for the purpose exists when the entry is appended, else a
    /// `data.access_denied` event.
    Reveal {
        /// Purpose key.
        purpose: String,
        /// Field names, each one of [`IDENTITY_FIELDS`].
        fields: Vec<String>,
        /// The actor's reason, committed to under the subject's key, never stored.
        reason: Option<String>,
    },
    /// Crypto-shred the subject's vault record, with a `data.erased` event.
    Erase,
    /// Open the evidence file kept with `proof` (a decision about `purpose`): a
    /// `data.access` event naming the field `evidence` and that proof, whatever the
    /// consent's state (the sender reads its own record of the decision, a refusal as much
    /// as a grant), with the subject's vault record read in the same transaction.
    ReadEvidence {
        /// The proof's purpose.
        purpose: String,
        /// The proof the file belongs to.
        proof: ProofId,
    },
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Reveal {
                purpose,
                fields,
                reason,
            } => f
                .debug_struct("Reveal")
                .field("purpose", purpose)
                .field("fields", fields)
                .field("reason", &reason.as_ref().map(|_| "<redacted>"))
                .finish(),
            Action::Erase => f.write_str("Erase"),
            Action::ReadEvidence { purpose, proof } => f
                .debug_struct("ReadEvidence")
                .field("purpose", purpose)
                .field("proof", proof)
                .finish(),
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

/// A sealed, durable event.
#[derive(Debug, Clone)]
pub struct SealedEntry {
    /// The event.
    pub event: SealedEvent,
    /// Its canonical bytes (the log entry), exactly as served.
    pub entry: Vec<u8>,
}

/// A subject's vault record as read in the append transaction: still encrypted.
#[derive(Clone)]
pub struct VaultRecord {
    /// The wrapped subject key.
    pub wrapped_key: Vec<u8>,
    /// The sealed identity.
    pub identity: Vec<u8>,
}

impl std::fmt::Debug for VaultRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultRecord(<sealed>)")
    }
}

/// What became of an event draft.
#[derive(Debug, Clone)]
pub enum EventOutcome {
    /// A reveal allowed: its `data.access` event is durable; the record to open.
    Revealed {
        /// The event.
        event: SealedEntry,
        /// The granting proof relied on.
        proof: ProofId,
        /// The subject's vault record, read in the same transaction.
        vault: VaultRecord,
    },
    /// A reveal refused: its `data.access_denied` event is durable.
    Denied {
        /// The event.
        event: SealedEntry,
        /// The consent state found.
        consent: ConsentState,
        /// The proof that set that state, if any.
        proof: Option<ProofId>,
    },
    /// The erasure is done: its `data.erased` event is durable.
    Erased {
        /// The event.
        event: SealedEntry,
    },
    /// The subject was erased before: nothing was appended.
    AlreadyErased,
}

/// Why a proof or event was not recorded.
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

/// The reply of a queued event, to await.
pub type EventReply = oneshot::Receiver<Result<EventOutcome, SubmitError>>;

enum Job {
    Proof {
        draft: ProofDraft,
        valid_until: Option<Timestamp>,
        reply: oneshot::Sender<Result<Sealed, SubmitError>>,
    },
    Event {
        draft: EventDraft,
        reply: oneshot::Sender<Result<EventOutcome, SubmitError>>,
    },
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
                // fsync carries about twice as many entries. A lone client pays nothing.
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
        self.submit_until(draft, None).await
    }

    /// Like [`Sequencer::submit`], with the end of a granted consent's validity given as
    /// an instant rather than as `valid_days` (which must then be `None`).
    pub async fn submit_until(
        &self,
        draft: ProofDraft,
        valid_until: Option<Timestamp>,
    ) -> Result<Sealed, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Proof {
                draft,
                valid_until,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Closed)?;
        answer.await.map_err(|_| SubmitError::Closed)?
    }

    /// Submits an event draft and waits until it is decided (and its entry, if any, is
    /// durable).
    pub async fn submit_event(&self, draft: EventDraft) -> Result<EventOutcome, SubmitError> {
        self.enqueue_event(draft)
            .await?
            .await
            .map_err(|_| SubmitError::Closed)?
    }

    /// Queues an event draft and returns at once with its reply, so that a caller with
    /// many drafts (a batch reveal) fills the sequencer's batches. Drafts are decided in
    /// the order they are queued.
    pub async fn enqueue_event(&self, draft: EventDraft) -> Result<EventReply, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Event { draft, reply })
            .await
            .map_err(|_| SubmitError::Closed)?;
        Ok(answer)
    }
}

/// Batches at least this large are sealed on two threads: sealing (Ed25519 and two RFC
/// 8785 passes, ~45 µs an entry) runs inside the append transaction, so halving it
/// shortens every request's wait.
const PARALLEL_SEAL: usize = 16;

/// An entry decided in the transaction, waiting for its index and seal.
enum Planned {
    Proof(ProofDraft, Option<Timestamp>),
    Event {
        body: EventBody,
        erasure: Option<Erasure>,
        then: Then,
    },
}

/// What an event's reply holds besides its sealed entry.
enum Then {
    Revealed(ProofId, VaultRecord),
    Denied(ConsentState, Option<ProofId>),
    Erased,
}

/// A sealed entry and what its job is answered with.
enum Built {
    Proof(Sealed),
    Event(SealedEntry),
}

/// Seals `planned` with indices from `first`, in order.
fn seal_all(
    planned: &[&Planned],
    first: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<Vec<(NewEntry, Built)>, String> {
    let one = |(i, p): (usize, &&Planned)| seal_planned(p, first + i as u64, now, seal, origin);
    if planned.len() < PARALLEL_SEAL {
        return planned.iter().enumerate().map(one).collect();
    }
    let mid = planned.len() / 2;
    let (left, right) = std::thread::scope(|scope| {
        let right = scope.spawn(|| {
            planned[mid..]
                .iter()
                .enumerate()
                .map(|(i, p)| one((mid + i, p)))
                .collect::<Result<Vec<_>, _>>()
        });
        let left = planned[..mid]
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

fn seal_planned(
    p: &Planned,
    log_index: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<(NewEntry, Built), String> {
    match p {
        Planned::Proof(d, until) => {
            let (entry, sealed) = seal_proof(d, *until, log_index, now, seal, origin)?;
            Ok((entry, Built::Proof(sealed)))
        }
        Planned::Event { body, erasure, .. } => {
            let body = EventBody {
                log_index,
                ..body.clone()
            };
            let row = EventRow {
                id: body.id.clone(),
                tenant: body.tenant.clone(),
                subject: body.subject.clone(),
                kind: body.kind.as_str().to_owned(),
                purpose: body.purpose.clone(),
                recorded_at: now,
            };
            let event = body.seal(seal).map_err(|e| e.to_string())?;
            let entry = event.entry_bytes().map_err(|e| e.to_string())?;
            Ok((
                NewEntry {
                    leaf: consentry_core::merkle::leaf_hash(&entry),
                    entry: entry.clone(),
                    proof: None,
                    status: None,
                    event: Some(row),
                    erasure: erasure.clone(),
                    amendment: None,
                },
                Built::Event(SealedEntry { event, entry }),
            ))
        }
    }
}

/// The consent state a book entry stands for at `now`: what the contact view shows, and
/// what a reveal is decided on. Only [`ConsentState::Granted`] allows a reveal.
pub fn consent_state(status: &str, valid_until: Option<i64>, now: i64) -> ConsentState {
    match status {
        "granted" if valid_until.is_some_and(|v| v <= now) => ConsentState::Expired,
        "granted" => ConsentState::Granted,
        "refused" => ConsentState::Refused,
        "revoked" => ConsentState::Revoked,
        "pending" => ConsentState::Pending,
        "expired" => ConsentState::Expired,
        // A state this build does not know never allows a reveal.
        _ => ConsentState::None,
    }
}

/// A book entry as the batch sees it: read in the transaction, or set by an earlier
/// proof of the same batch.
#[derive(Clone)]
struct BookEntry {
    status: String,
    proof: Option<ProofId>,
    valid_until: Option<i64>,
}

type BookKey = (TenantId, SubjectId, String);

/// Decides a batch's drafts in queue order, on what the transaction read and on what
/// earlier drafts of the same batch changed.
struct Batch<'a> {
    reads: &'a TxReads,
    keys: &'a Keys,
    origin: &'a str,
    now: i64,
    book: HashMap<BookKey, BookEntry>,
    erased: HashSet<(TenantId, SubjectId)>,
}

impl Batch<'_> {
    /// The contact row of `subject` in `tenant`'s book, if it has one.
    fn contact(&self, tenant: &TenantId, subject: &SubjectId) -> Option<&ContactRow> {
        self.reads
            .contacts
            .get(subject)
            .filter(|(t, _)| t == tenant)
            .map(|(_, row)| row)
    }

    fn is_erased(&self, tenant: &TenantId, subject: &SubjectId, row: &ContactRow) -> bool {
        row.wrapped_key.is_none() || self.erased.contains(&(tenant.clone(), subject.clone()))
    }

    /// Completes a proof draft from its contact row: the recipient's commitment and
    /// category, and the evidence commitment under the subject's key. An unknown
    /// contact, or one of another tenant, is refused; so is an erased one.
    fn proof(&mut self, d: &ProofDraft, until: Option<Timestamp>) -> Result<Planned, SubmitError> {
        if self.erased.contains(&(d.tenant.clone(), d.subject.clone())) {
            return Err(SubmitError::Erased);
        }
        let resolved = if d.recipient.is_some() && !matches!(d.evidence, Some(Evidence::Text(_))) {
            d.clone()
        } else {
            let row = self
                .contact(&d.tenant, &d.subject)
                .ok_or(SubmitError::UnknownContact)?;
            let wrapped = row.wrapped_key.clone().ok_or(SubmitError::Erased)?;
            let evidence = match &d.evidence {
                Some(Evidence::Text(text)) => {
                    let key = self
                        .keys
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
            ProofDraft {
                recipient: Some(d.recipient.clone().unwrap_or_else(|| Recipient {
                    address_commitment: row.address_commitment.clone(),
                    category: crate::routes::consents::category(&row.category),
                })),
                evidence,
                ..d.clone()
            }
        };
        self.book.insert(
            (d.tenant.clone(), d.subject.clone(), d.purpose.clone()),
            BookEntry {
                status: d.decision.as_str().to_owned(),
                proof: Some(d.id.clone()),
                valid_until: valid_until(d, until, self.now),
            },
        );
        Ok(Planned::Proof(resolved, until))
    }

    /// Decides an event draft. `Ok(Err(outcome))`: answered without an entry.
    fn event(&mut self, d: &EventDraft) -> Result<Result<Planned, EventOutcome>, SubmitError> {
        let row = self
            .contact(&d.tenant, &d.subject)
            .ok_or(SubmitError::UnknownContact)?;
        let erased = self.is_erased(&d.tenant, &d.subject, row);
        let recorded_at = Timestamp::from_unix_millis(self.now)
            .map_err(|e| SubmitError::Append(e.to_string()))?;
        let body = |kind| EventBody {
            kind,
            log: self.origin.to_owned(),
            id: d.id.clone(),
            tenant: d.tenant.clone(),
            subject: d.subject.clone(),
            actor: d.actor.clone(),
            purpose: None,
            fields: Vec::new(),
            proof: None,
            consent: None,
            reason_commitment: None,
            recorded_at,
            log_index: 0,
        };
        match &d.action {
            Action::Erase if erased => Ok(Err(EventOutcome::AlreadyErased)),
            Action::Erase => {
                self.erased.insert((d.tenant.clone(), d.subject.clone()));
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        fields: IDENTITY_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
                        ..body(EventType::Erased)
                    },
                    erasure: Some(Erasure {
                        tenant: d.tenant.clone(),
                        subject: d.subject.clone(),
                        tombstone: crate::random::bytes::<32>(),
                        erased_at: self.now,
                    }),
                    then: Then::Erased,
                }))
            }
            Action::ReadEvidence { .. } if erased => Err(SubmitError::Erased),
            Action::ReadEvidence { purpose, proof } => {
                let key = (d.tenant.clone(), d.subject.clone(), purpose.clone());
                let state = self
                    .book
                    .get(&key)
                    .map(|e| consent_state(&e.status, e.valid_until, self.now))
                    .or_else(|| {
                        self.reads
                            .statuses
                            .get(&key)
                            .map(|s| consent_state(&s.status, s.valid_until, self.now))
                    })
                    .unwrap_or(ConsentState::None);
                let (Some(w), Some(i)) = (&row.wrapped_key, &row.identity) else {
                    return Err(SubmitError::Erased);
                };
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        purpose: Some(purpose.clone()),
                        fields: vec!["evidence".to_owned()],
                        proof: Some(proof.clone()),
                        consent: Some(state),
                        ..body(EventType::Access)
                    },
                    erasure: None,
                    then: Then::Revealed(
                        proof.clone(),
                        VaultRecord {
                            wrapped_key: w.clone(),
                            identity: i.clone(),
                        },
                    ),
                }))
            }
            Action::Reveal { .. } if erased => Err(SubmitError::Erased),
            Action::Reveal {
                purpose,
                fields,
                reason,
            } => {
                let key = (d.tenant.clone(), d.subject.clone(), purpose.clone());
                let entry = self.book.get(&key).cloned().or_else(|| {
                    self.reads
                        .statuses
                        .get(&key)
                        .map(|s: &StatusRow| BookEntry {
                            status: s.status.clone(),
                            proof: s.proof_id.clone(),
                            valid_until: s.valid_until,
                        })
                });
                let (state, proof) = match entry {
                    Some(e) => (consent_state(&e.status, e.valid_until, self.now), e.proof),
                    None => (ConsentState::None, None),
                };
                let reason_commitment = match (reason, &row.wrapped_key) {
                    (Some(text), Some(wrapped)) => {
                        let key = self
                            .keys
                            .master
                            .tenant_keys(&d.tenant)
                            .unwrap_subject_key(
                                &d.subject,
                                &WrappedKey::from_bytes(wrapped.clone()),
                            )
                            .map_err(|e| SubmitError::Append(e.to_string()))?;
                        Some(key.commitment("reason", text.as_bytes()))
                    }
                    _ => None,
                };
                let (kind, consent, then) =
                    match (state, proof.clone(), &row.wrapped_key, &row.identity) {
                        (ConsentState::Granted, Some(p), Some(w), Some(i)) => (
                            EventType::Access,
                            ConsentState::Granted,
                            Then::Revealed(
                                p,
                                VaultRecord {
                                    wrapped_key: w.clone(),
                                    identity: i.clone(),
                                },
                            ),
                        ),
                        // A grant with no proof behind it relies on nothing: refused.
                        (ConsentState::Granted, None, _, _) => (
                            EventType::AccessDenied,
                            ConsentState::None,
                            Then::Denied(ConsentState::None, None),
                        ),
                        (ConsentState::Granted, Some(_), _, _) => {
                            return Err(SubmitError::Erased);
                        }
                        (other, p, _, _) => {
                            (EventType::AccessDenied, other, Then::Denied(other, p))
                        }
                    };
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        purpose: Some(purpose.clone()),
                        fields: fields.clone(),
                        proof,
                        consent: Some(consent),
                        reason_commitment,
                        ..body(kind)
                    },
                    erasure: None,
                    then,
                }))
            }
        }
    }
}

/// When a granted consent of `d` recorded at `now` lapses, in Unix milliseconds: the
/// instant given, or `valid_days` after `now`.
fn valid_until(d: &ProofDraft, until: Option<Timestamp>, now: i64) -> Option<i64> {
    match (d.decision, until, d.valid_days) {
        (Decision::Granted, Some(t), _) => Some(t.unix_millis()),
        (Decision::Granted, None, Some(days)) => Some(now + i64::from(days) * DAY_MS),
        _ => None,
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
    seal_proof(d, None, log_index, now, seal, origin)
}

fn seal_proof(
    d: &ProofDraft,
    until: Option<Timestamp>,
    log_index: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<(NewEntry, Sealed), String> {
    let recorded_at = Timestamp::from_unix_millis(now).map_err(|e| e.to_string())?;
    let valid_until = valid_until(d, until, now)
        .map(Timestamp::from_unix_millis)
        .transpose()
        .map_err(|e| e.to_string())?;
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
        amendment: None,
    };
    Ok((new_entry, Sealed { proof, entry }))
}

/// A job's answer, before it is sent.
enum Answer {
    Proof(Result<Sealed, SubmitError>),
    Event(Result<EventOutcome, SubmitError>),
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
    let mut subjects: Vec<SubjectId> = Vec::new();
    let mut statuses: Vec<(TenantId, SubjectId, String)> = Vec::new();
    for job in &jobs {
        match job {
            Job::Proof { draft: d, .. } => {
                if d.recipient.is_none() || matches!(d.evidence, Some(Evidence::Text(_))) {
                    subjects.push(d.subject.clone());
                }
            }
            Job::Event { draft: d, .. } => {
                subjects.push(d.subject.clone());
                if let Action::Reveal { purpose, .. } | Action::ReadEvidence { purpose, .. } =
                    &d.action
                {
                    statuses.push((d.tenant.clone(), d.subject.clone(), purpose.clone()));
                }
            }
        }
    }
    let result = store
        .append_reading(&subjects, &statuses, |first_index, reads| {
            // Decide every draft in queue order, give the accepted ones consecutive
            // indices, then seal.
            let mut batch = Batch {
                reads,
                keys,
                origin,
                now,
                book: HashMap::new(),
                erased: HashSet::new(),
            };
            let decided: Vec<Result<Result<Planned, EventOutcome>, SubmitError>> = jobs
                .iter()
                .map(|job| match job {
                    Job::Proof {
                        draft, valid_until, ..
                    } => batch.proof(draft, *valid_until).map(Ok),
                    Job::Event { draft, .. } => batch.event(draft),
                })
                .collect();
            let accepted: Vec<&Planned> = decided
                .iter()
                .filter_map(|r| r.as_ref().ok().and_then(|p| p.as_ref().ok()))
                .collect();
            let sealed = seal_all(&accepted, first_index, now, &keys.seal, origin)?;
            let mut sealed = sealed.into_iter();
            let mut entries = Vec::with_capacity(accepted.len());
            let mut answers = Vec::with_capacity(jobs.len());
            let mut events = 0u64;
            for (job, d) in jobs.iter().zip(decided) {
                let answer = match (job, d) {
                    (Job::Proof { .. }, Err(e)) => Answer::Proof(Err(e)),
                    (Job::Event { .. }, Err(e)) => Answer::Event(Err(e)),
                    (Job::Event { .. }, Ok(Err(outcome))) => Answer::Event(Ok(outcome)),
                    (_, Ok(Ok(planned))) => {
                        let (entry, built) = sealed.next().ok_or("sealing lost an entry")?;
                        entries.push(entry);
                        match (built, planned) {
                            (Built::Proof(p), _) => Answer::Proof(Ok(p)),
                            (Built::Event(event), Planned::Event { then, .. }) => {
                                events += 1;
                                Answer::Event(Ok(match then {
                                    Then::Revealed(proof, vault) => EventOutcome::Revealed {
                                        event,
                                        proof,
                                        vault,
                                    },
                                    Then::Denied(consent, proof) => EventOutcome::Denied {
                                        event,
                                        consent,
                                        proof,
                                    },
                                    Then::Erased => EventOutcome::Erased { event },
                                }))
                            }
                            (Built::Event(_), Planned::Proof(..)) => {
                                return Err("sealing mixed up a proof and an event".into());
                            }
                        }
                    }
                    (Job::Proof { .. }, Ok(Err(_))) => {
                        return Err("a proof was decided as an event".into());
                    }
                };
                answers.push(answer);
            }
            Ok((entries, (answers, events)))
        })
        .await;
    match result {
        Ok(out) => {
            let (answers, events) = out.built;
            metrics.append_batches.inc();
            let appended = out.size - out.first_index;
            metrics.proofs_appended.inc_by(appended - events);
            metrics.events_appended.inc_by(events);
            metrics.batch_size.observe(appended as f64);
            metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics
                .log_size
                .set(i64::try_from(out.size).unwrap_or(i64::MAX));
            for (job, answer) in jobs.into_iter().zip(answers) {
                match (job, answer) {
                    (Job::Proof { reply, .. }, Answer::Proof(a)) => {
                        let _ = reply.send(a);
                    }
                    (Job::Event { reply, .. }, Answer::Event(a)) => {
                        let _ = reply.send(a);
                    }
                    // Answers are built from the jobs in order: never reached.
                    (Job::Proof { reply, .. }, Answer::Event(_)) => {
                        let _ = reply.send(Err(SubmitError::Append("answer mismatch".into())));
                    }
                    (Job::Event { reply, .. }, Answer::Proof(_)) => {
                        let _ = reply.send(Err(SubmitError::Append("answer mismatch".into())));
                    }
                }
            }
        }
        Err(e) => {
            metrics.append_failures.inc();
            tracing::error!(error = %e, batch = jobs.len(), "log append failed; nothing written");
            let err = SubmitError::Append(e.to_string());
            for job in jobs {
                match job {
                    Job::Proof { reply, .. } => {
                        let _ = reply.send(Err(err.clone()));
                    }
                    Job::Event { reply, .. } => {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
            }
        }
    }
}
