//! Group commit: proofs and events from many requests sealed and appended in one
//! transaction, with the sealing done ahead of it.
//!
//! On these machines one fsync'd commit costs a millisecond or more, so one commit per
//! request would cap throughput at a few hundred entries per second. Instead each request
//! hands its draft — a consent proof, or an event about a subject's identity data (a
//! reveal, an erasure) — to the sequencer and waits. Two tasks form a pipeline:
//!
//! - the **preparer** takes the drafts queued (a *chunk*, up to `max_batch`) and, for a
//!   chunk of proofs, reads their contacts as committed now, decides each draft, gives the
//!   accepted ones the log indices they are expected at (the size the writer last
//!   committed plus the entries of the chunks sent since) and seals them — Ed25519 and
//!   canonical JSON, most of an entry's CPU — while the writer commits earlier chunks;
//! - the **writer** takes every chunk prepared meanwhile into one transaction which, under
//!   the log lock, reads the log size and the contacts (and consent states) again, keeps
//!   each prepared chunk whose expected index and contacts are exactly what it finds, and
//!   decides and seals in the transaction any other chunk (another process appended
//!   first, a contact changed in between, or a chunk with events): as before pipelining,
//!   a decision always stands on what the committing transaction read. It then writes
//!   entries, tiles and the rows they stand for, and commits.
//!
//! Only after the commit is each request answered, so an acknowledged proof or event is
//! durable. If the transaction fails, every request in it gets an error and nothing was
//! written.
//!
//! Decisions are taken in queue order, each on the state the committing transaction read
//! plus what earlier drafts of the same chunk changed; a chunk with events (decided on
//! consent states and on each other) is committed alone, and chunks after it see its
//! effects. So a reveal queued after a revocation (in an earlier batch, or earlier in the
//! same one) is refused, and one queued after an erasure finds the contact erased:
//! "a revoked consent stops reveals at once" holds under any concurrency, on one process
//! or several sharing a PostgreSQL database (the log lock orders their batches too).
//! Entries are stamped with the time their chunk left the queue, so `recorded_at` never
//! decreases along the log written by one process.

use crate::clock::Clock;
use crate::commands::{AmendOutcome, EraseOutcome, RevealOutcome};
use crate::keys::Keys;
use crate::metrics::Metrics;
use consentry_core::consent::RequestStatus;
use consentry_core::event::{ConsentState, EventBody, EventType, IDENTITY_FIELDS, SealedEvent};
use consentry_core::ids::{EventId, ProofId, RequestId, SubjectId, TenantId};
use consentry_core::keys::SealKey;
use consentry_core::proof::{
    Decision, Method, Notice, PROOF_TYPE, ProofBody, Recipient, SealedProof,
};
use consentry_core::time::Timestamp;
use consentry_store::{
    Amendment, ContactRow, EntryRows, Erasure, EventEffect, EventRow, NewEntry, ProofRow,
    RequestAnswer, StatusRow, Store, StoreError, TxAsk, TxReads,
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
    /// Delegated request answered. The request is claimed in the append transaction,
    /// only if it is then still pending, its window open and (with `link`) the link the
    /// answer came through still its current one; else [`SubmitError::NotPending`].
    pub request: Option<RequestId>,
    /// SHA-256 of the link token a delegated answer came through.
    pub link: Option<[u8; 32]>,
    /// Validity of a granted consent, in days (counted from `given_at` when stated).
    pub valid_days: Option<u32>,
    /// When the person gave the decision, as the sender states it (checked by the caller
    /// with [`consentry_core::consent::given_at`]); the proof's `given_at`.
    pub given_at: Option<Timestamp>,
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
    /// Open `proof`'s commitments for a dispute: a `data.disclosed` event naming the proof,
    /// its purpose, the `fields` disclosed and the `ground`, with the subject's vault
    /// record read in the same transaction (the caller builds the disclosure from it).
    Disclose {
        /// The proof's purpose.
        purpose: String,
        /// The proof opened.
        proof: ProofId,
        /// Why.
        ground: consentry_core::disclosure::Ground,
        /// What is disclosed (`email`, and `evidence` when the evidence is).
        fields: Vec<String>,
    },
    /// Replace the subject's sealed identity with `new`, with a `data.amended` event
    /// naming the `fields` changed — only if the identity is still `read` when the entry
    /// is appended (else [`AmendOutcome::Changed`], nothing written), so that no
    /// concurrent change is lost. The new identity and its entry commit together.
    Amend {
        /// The fields changed (names from [`IDENTITY_FIELDS`]).
        fields: Vec<String>,
        /// The sealed identity the change was made on.
        read: Vec<u8>,
        /// The new sealed identity.
        new: Vec<u8>,
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
            Action::Disclose {
                purpose,
                proof,
                ground,
                fields,
            } => f
                .debug_struct("Disclose")
                .field("purpose", purpose)
                .field("proof", proof)
                .field("ground", ground)
                .field("fields", fields)
                .finish(),
            Action::Amend { fields, .. } => f
                .debug_struct("Amend")
                .field("fields", fields)
                .finish_non_exhaustive(),
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

/// What became of an event draft: the outcome of the command it stands for.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per event, moved once through its reply channel: boxing would only add an allocation"
)]
pub enum EventOutcome {
    /// A reveal, an evidence read or a disclosure.
    Reveal(RevealOutcome),
    /// An erasure.
    Erase(EraseOutcome),
    /// An amendment.
    Amend(AmendOutcome),
}

/// Why a proof or event was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The append transaction failed; nothing was written.
    #[error("the log append failed: {0}")]
    Append(String),
    /// The append transaction failed because the storage is full; nothing was written,
    /// and the same draft can be submitted again once space returns.
    #[error("the log append failed: the storage is full")]
    StorageFull,
    /// The service is shutting down.
    #[error("the service is shutting down")]
    Closed,
    /// No such contact in the tenant's book.
    #[error("no such contact")]
    UnknownContact,
    /// The contact's data was erased.
    #[error("the contact's data was erased")]
    Erased,
    /// The delegated request answered is no longer pending (answered, expired, cancelled,
    /// or its link replaced): nothing was written.
    #[error("the request is not pending")]
    NotPending,
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

/// PostgreSQL: batches at least this large mean concurrent clients, and a transaction
/// with fewer than three quarters of the last one's drafts waits up to
/// [`GATHER_WINDOW`] for more. Its commit has a larger fixed cost than SQLite's (round
/// trips to the server), which larger batches amortise; on SQLite, whose writer is the
/// bottleneck, waiting only idles it (docs/benchmarks.md).
const GATHER_THRESHOLD: usize = 8;
/// How long a PostgreSQL transaction waits for the clients just answered to come back.
const GATHER_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

/// Chunks prepared ahead of the writer, at most: the preparer waits beyond that, so a
/// slow disk slows the queue rather than piling up sealed work.
const CHUNKS_AHEAD: usize = 4;

fn drain(rx: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, max: usize) {
    while jobs.len() < max {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
}

impl Sequencer {
    /// Starts the sequencer: a task that takes drafts from the queue in chunks and
    /// decides and seals chunks of proofs ahead of their transaction, and a writer task
    /// that commits them (see [`write`]). It ends when every handle is dropped and the
    /// queue is drained; the handle returned ends after the last commit.
    pub fn start(
        store: Store,
        keys: Arc<Keys>,
        origin: String,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        max_batch: usize,
    ) -> (Sequencer, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(max_batch * 8);
        let (chunks_tx, chunks_rx) = mpsc::channel::<Chunk>(CHUNKS_AHEAD);
        let ctx = Arc::new(Context {
            store,
            keys,
            origin,
            clock,
            metrics,
            max_batch,
            expected: std::sync::Mutex::new(Expected::default()),
        });
        let writer = tokio::spawn(writer(ctx.clone(), chunks_rx));
        let task = tokio::spawn(async move {
            let mut seq = 0u64;
            let mut in_flight = std::collections::VecDeque::new();
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                drain(&mut rx, &mut jobs, max_batch);
                seq += 1;
                let now = ctx.clock.now_ms();
                // Chunks of proofs are decided and sealed ahead; chunks with events or
                // delegated answers (decided on consent states and requests, read only
                // under the log lock) are decided in their transaction.
                let prepared = if jobs.iter().all(|j| {
                    matches!(j, Job::Proof { draft, .. } if draft.request.is_none() || draft.method != Method::Delegated)
                }) {
                    let first_index = ctx.expected_first(&mut in_flight).await;
                    prepare(&ctx, &jobs, first_index, now).await
                } else {
                    None
                };
                let entries = prepared
                    .as_ref()
                    .map_or(jobs.len(), |p| p.built.entries.len());
                in_flight.push_back((seq, entries as u64));
                let chunk = Chunk {
                    seq,
                    now,
                    jobs,
                    prepared,
                };
                if chunks_tx.send(chunk).await.is_err() {
                    tracing::error!("the log writer stopped; refusing new drafts");
                    break;
                }
            }
            drop(chunks_tx);
            if let Err(e) = writer.await {
                tracing::error!(error = %e, "the log writer failed");
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
        effect: Option<EventEffect>,
        then: Then,
    },
}

/// What an event's reply holds besides its sealed entry.
enum Then {
    Revealed(ProofId, VaultRecord),
    Denied(ConsentState, Option<ProofId>),
    Erased,
    Amended,
}

/// A sealed entry and what its job is answered with.
enum Built {
    Proof(Sealed),
    Event(SealedEntry),
}

/// Seals `planned` with indices from `first`, in order.
/// Why a batch's entries could not be built. Never the input's fault — a draft the
/// rules refuse is answered with its [`SubmitError`] and the rest of the batch goes on —
/// but a broken invariant or key: the batch's transaction is abandoned and every draft
/// in it answered with [`SubmitError::Append`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A body could not be made canonical (RFC 8785) to be sealed or logged.
    #[error("canonical form: {0}")]
    Canonical(#[from] consentry_core::canonical::CanonicalError),
    /// The clock gave a time outside what a timestamp can hold.
    #[error("time: {0}")]
    Time(#[from] consentry_core::time::TimeError),
    /// A proof draft reached sealing without its recipient resolved.
    #[error("unresolved draft: no recipient")]
    NoRecipient,
    /// A delegated answer that revokes (an answer accepts or refuses).
    #[error("a delegated answer accepts or refuses")]
    RevocationAsAnswer,
    /// A proof draft reached sealing with its evidence not committed.
    #[error("unresolved draft: evidence not committed")]
    EvidenceNotCommitted,
    /// A proof's answer paired with an event's, or the reverse.
    #[error("sealing paired a proof with an event")]
    Mismatched,
    /// Fewer sealed entries than accepted drafts.
    #[error("sealing lost an entry")]
    LostEntry,
    /// A sealing thread panicked.
    #[error("a sealing thread panicked")]
    SealingPanicked,
}

fn seal_all(
    planned: &[&Planned],
    first: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<Vec<(NewEntry, Built)>, BuildError> {
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
    all.extend(right.map_err(|_| BuildError::SealingPanicked)??);
    Ok(all)
}

fn seal_planned(
    p: &Planned,
    log_index: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<(NewEntry, Built), BuildError> {
    match p {
        Planned::Proof(d, until) => {
            let (entry, sealed) = seal_proof(d, *until, log_index, now, seal, origin)?;
            Ok((entry, Built::Proof(sealed)))
        }
        Planned::Event { body, effect, .. } => {
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
            let event = body.seal(seal)?;
            let entry = event.entry_bytes()?;
            Ok((
                NewEntry {
                    leaf: consentry_core::merkle::leaf_hash(&entry),
                    entry: entry.clone(),
                    rows: EntryRows::Event {
                        event: row,
                        effect: effect.clone(),
                    },
                },
                Built::Event(SealedEntry { event, entry }),
            ))
        }
    }
}

/// A book entry as the batch sees it: read in the transaction, or set by an earlier
/// proof of the same batch.
#[derive(Clone)]
struct BookEntry {
    status: ConsentState,
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
    /// Identities replaced by earlier drafts of the batch: what later drafts read.
    amended: HashMap<(TenantId, SubjectId), Vec<u8>>,
    /// Requests answered by earlier drafts of the batch.
    claimed: HashSet<RequestId>,
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

    /// The subject's sealed identity as this draft sees it: as an earlier draft of the
    /// batch amended it, else as the transaction read it.
    fn identity<'r>(
        &'r self,
        tenant: &TenantId,
        subject: &SubjectId,
        row: &'r ContactRow,
    ) -> Option<&'r Vec<u8>> {
        self.amended
            .get(&(tenant.clone(), subject.clone()))
            .or(row.identity.as_ref())
    }

    /// The subject's vault record as this batch sees it (an amendment earlier in the batch
    /// included); `Erased` when the key or the identity is gone.
    fn vault_record(&self, d: &EventDraft, row: &ContactRow) -> Result<VaultRecord, SubmitError> {
        let identity = self.identity(&d.tenant, &d.subject, row);
        let (Some(w), Some(i)) = (&row.wrapped_key, identity) else {
            return Err(SubmitError::Erased);
        };
        Ok(VaultRecord {
            wrapped_key: w.clone(),
            identity: i.clone(),
        })
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
        if let (Some(request), Method::Delegated) = (&d.request, d.method) {
            // A delegated answer claims its request: still pending, its window open at
            // the answer's time, its link the current one, and not answered earlier in
            // this batch.
            let open = self.reads.requests.get(request).is_some_and(|r| {
                r.tenant == d.tenant
                    && r.status == RequestStatus::Pending
                    && r.expires_at > self.now
                    && d.link.is_none_or(|link| link == r.token_hash)
            });
            if !open || self.claimed.contains(request) {
                return Err(SubmitError::NotPending);
            }
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
                    category: row.category,
                })),
                evidence,
                ..d.clone()
            }
        };
        if let (Some(request), Method::Delegated) = (&d.request, d.method) {
            self.claimed.insert(request.clone());
        }
        self.book.insert(
            (d.tenant.clone(), d.subject.clone(), d.purpose.clone()),
            BookEntry {
                status: d.decision.into(),
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
            ground: None,
            recorded_at,
            log_index: 0,
        };
        match &d.action {
            Action::Erase if erased => Ok(Err(EventOutcome::Erase(EraseOutcome::AlreadyErased))),
            Action::Erase => {
                self.erased.insert((d.tenant.clone(), d.subject.clone()));
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        fields: IDENTITY_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
                        ..body(EventType::Erased)
                    },
                    effect: Some(EventEffect::Erase(Erasure {
                        tenant: d.tenant.clone(),
                        subject: d.subject.clone(),
                        tombstone: crate::random::bytes::<32>(),
                        erased_at: self.now,
                    })),
                    then: Then::Erased,
                }))
            }
            Action::ReadEvidence { .. } if erased => Err(SubmitError::Erased),
            Action::ReadEvidence { purpose, proof } => {
                let key = (d.tenant.clone(), d.subject.clone(), purpose.clone());
                let state = self
                    .book
                    .get(&key)
                    .map(|e| ConsentState::of_book(e.status, e.valid_until, self.now))
                    .or_else(|| {
                        self.reads
                            .statuses
                            .get(&key)
                            .map(|s| ConsentState::of_book(s.status, s.valid_until, self.now))
                    })
                    .unwrap_or(ConsentState::None);
                let vault = self.vault_record(d, row)?;
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        purpose: Some(purpose.clone()),
                        fields: vec!["evidence".to_owned()],
                        proof: Some(proof.clone()),
                        consent: Some(state),
                        ..body(EventType::Access)
                    },
                    effect: None,
                    then: Then::Revealed(proof.clone(), vault),
                }))
            }
            Action::Disclose { .. } if erased => Err(SubmitError::Erased),
            Action::Disclose {
                purpose,
                proof,
                ground,
                fields,
            } => {
                let vault = self.vault_record(d, row)?;
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        purpose: Some(purpose.clone()),
                        fields: fields.clone(),
                        proof: Some(proof.clone()),
                        ground: Some(*ground),
                        ..body(EventType::Disclosed)
                    },
                    effect: None,
                    then: Then::Revealed(proof.clone(), vault),
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
                            status: s.status,
                            proof: s.proof_id.clone(),
                            valid_until: s.valid_until,
                        })
                });
                let (state, proof) = match entry {
                    Some(e) => (
                        ConsentState::of_book(e.status, e.valid_until, self.now),
                        e.proof,
                    ),
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
                let (kind, consent, then) = match (
                    state,
                    proof.clone(),
                    &row.wrapped_key,
                    self.identity(&d.tenant, &d.subject, row),
                ) {
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
                    (other, p, _, _) => (EventType::AccessDenied, other, Then::Denied(other, p)),
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
                    effect: None,
                    then,
                }))
            }
            Action::Amend { .. } if erased => Err(SubmitError::Erased),
            Action::Amend { fields, read, new } => {
                if self.identity(&d.tenant, &d.subject, row) != Some(read) {
                    return Ok(Err(EventOutcome::Amend(AmendOutcome::Changed)));
                }
                self.amended
                    .insert((d.tenant.clone(), d.subject.clone()), new.clone());
                Ok(Ok(Planned::Event {
                    body: EventBody {
                        fields: fields.clone(),
                        ..body(EventType::Amended)
                    },
                    effect: Some(EventEffect::Amend(Amendment {
                        tenant: d.tenant.clone(),
                        subject: d.subject.clone(),
                        sealed_identity: new.clone(),
                    })),
                    then: Then::Amended,
                }))
            }
        }
    }
}

/// When a granted consent of `d` recorded at `now` lapses, in Unix milliseconds: the
/// instant given, or `valid_days` after the date it was given (`given_at`, else `now`).
fn valid_until(d: &ProofDraft, until: Option<Timestamp>, now: i64) -> Option<i64> {
    match (d.decision, until, d.valid_days) {
        (Decision::Granted, Some(t), _) => Some(t.unix_millis()),
        (Decision::Granted, None, Some(days)) => Some(consentry_core::consent::lapses_at(
            consentry_core::consent::validity_start(d.given_at.map(|t| t.unix_millis()), now),
            days,
        )),
        _ => None,
    }
}

/// Stamps, indexes and seals one draft: the log entry with the rows it stands for, and
/// the sealed proof.
fn seal_proof(
    d: &ProofDraft,
    until: Option<Timestamp>,
    log_index: u64,
    now: i64,
    seal: &SealKey,
    origin: &str,
) -> Result<(NewEntry, Sealed), BuildError> {
    let recorded_at = Timestamp::from_unix_millis(now)?;
    let valid_until = valid_until(d, until, now)
        .map(Timestamp::from_unix_millis)
        .transpose()?;
    let body = ProofBody {
        kind: PROOF_TYPE.to_owned(),
        log: origin.to_owned(),
        id: d.id.clone(),
        tenant: d.tenant.clone(),
        subject: d.subject.clone(),
        purpose: d.purpose.clone(),
        decision: d.decision,
        method: d.method,
        recipient: d.recipient.clone().ok_or(BuildError::NoRecipient)?,
        notice: d.notice.clone(),
        evidence: match &d.evidence {
            None => None,
            Some(Evidence::Commitment(c)) => Some(c.clone()),
            Some(Evidence::Text(_)) => {
                return Err(BuildError::EvidenceNotCommitted);
            }
        },
        request: d.request.clone(),
        valid_until,
        given_at: d.given_at,
        recorded_at,
        log_index,
    };
    let proof = body.seal(seal)?;
    let entry = proof.entry_bytes()?;
    let answer = match &d.request {
        Some(request) if d.method == Method::Delegated => Some(RequestAnswer {
            request: request.clone(),
            status: RequestStatus::answered_with(d.decision)
                .ok_or(BuildError::RevocationAsAnswer)?,
            answered_at: now,
            webhook: crate::webhook::event(
                now,
                "consent_request.answered",
                serde_json::json!({
                    "request_id": request.as_str(),
                    "contact_id": d.subject.as_str(),
                    "purpose": d.purpose,
                    "status": d.decision.as_str(),
                    "proof_id": d.id.as_str(),
                    "log_index": log_index,
                }),
            ),
        }),
        _ => None,
    };
    let new_entry = NewEntry {
        leaf: consentry_core::merkle::leaf_hash(&entry),
        entry: entry.clone(),
        rows: EntryRows::Proof {
            proof: ProofRow {
                id: d.id.clone(),
                tenant: d.tenant.clone(),
                subject: d.subject.clone(),
                purpose: d.purpose.clone(),
                decision: d.decision,
                recorded_at: now,
            },
            status: StatusRow {
                tenant: d.tenant.clone(),
                subject: d.subject.clone(),
                purpose: d.purpose.clone(),
                status: d.decision.into(),
                proof_id: Some(d.id.clone()),
                log_index: Some(log_index),
                updated_at: now,
                valid_until: valid_until.map(|t| t.unix_millis()),
            },
            answer,
        },
    };
    Ok((new_entry, Sealed { proof, entry }))
}

/// A job's answer, before it is sent.
enum Answer {
    Proof(Result<Sealed, SubmitError>),
    Event(Result<EventOutcome, SubmitError>),
}

/// What the preparer and the writer share.
struct Context {
    store: Store,
    keys: Arc<Keys>,
    origin: String,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    max_batch: usize,
    expected: std::sync::Mutex<Expected>,
}

/// The log size after the writer's last transaction, and the last chunk it took: with the
/// entries of the chunks sent since, where the next chunk's entries should start.
#[derive(Debug, Default)]
struct Expected {
    /// `None` until the first transaction (or read of the head).
    committed: Option<u64>,
    /// Sequence number of the last chunk the writer took (committed or failed).
    through: u64,
}

impl Context {
    /// The index the next chunk's first entry is expected at: the size the writer last
    /// saw, plus the entries of every chunk sent to it and not yet taken. A guess — another
    /// process may append, a prepared chunk may be decided again — checked in the
    /// transaction.
    async fn expected_first(&self, in_flight: &mut std::collections::VecDeque<(u64, u64)>) -> u64 {
        let seen = match self.expected.lock() {
            Ok(e) => (e.committed, e.through),
            Err(_) => (None, 0),
        };
        let (committed, through) = seen;
        while in_flight.front().is_some_and(|(seq, _)| *seq <= through) {
            in_flight.pop_front();
        }
        let base = match committed {
            Some(size) => size,
            // Nothing committed by this process yet: the durable head (a wrong guess only
            // costs sealing again in the transaction).
            None => self.store.log_head().await.map_or(0, |(size, _)| size),
        };
        base + in_flight.iter().map(|(_, n)| n).sum::<u64>()
    }
}

/// A run of drafts taken from the queue together, in queue order.
struct Chunk {
    /// Position in the queue's order of chunks.
    seq: u64,
    /// When it left the queue, Unix milliseconds: its entries' time, wherever sealed.
    now: i64,
    jobs: Vec<Job>,
    /// The entries decided and sealed ahead of the transaction (chunks of proofs only).
    prepared: Option<Prepared>,
}

/// A chunk decided and sealed before its transaction, on the contacts as they were read
/// then and with the log index expected then. The transaction keeps it only if it finds
/// the log at that index and the same contacts; else it decides and seals it again.
struct Prepared {
    first: u64,
    subjects: Vec<SubjectId>,
    contacts: HashMap<SubjectId, (TenantId, ContactRow)>,
    built: BuiltChunk,
}

/// Entries in log order, and each job's answer in queue order.
struct BuiltChunk {
    entries: Vec<NewEntry>,
    answers: Vec<Answer>,
    events: u64,
}

/// What `jobs` are decided on: contacts, consent states and delegated requests.
#[derive(Default)]
struct Needed {
    subjects: Vec<SubjectId>,
    statuses: Vec<(TenantId, SubjectId, String)>,
    requests: Vec<RequestId>,
}

/// The contacts, consent states and requests `jobs` are decided on.
fn reads_needed(jobs: &[Job]) -> Needed {
    let mut needed = Needed::default();
    let Needed {
        subjects,
        statuses,
        requests,
    } = &mut needed;
    for job in jobs {
        match job {
            Job::Proof { draft: d, .. } => {
                if d.recipient.is_none() || matches!(d.evidence, Some(Evidence::Text(_))) {
                    subjects.push(d.subject.clone());
                }
                if let (Some(r), Method::Delegated) = (&d.request, d.method) {
                    requests.push(r.clone());
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
    needed
}

/// Decides and seals a chunk of proofs ahead of its transaction, on the contacts as
/// committed now. `None` when that cannot be done (the read failed): the transaction then
/// does it all.
async fn prepare(ctx: &Context, jobs: &[Job], first: u64, now: i64) -> Option<Prepared> {
    let subjects = reads_needed(jobs).subjects;
    let contacts = if subjects.is_empty() {
        HashMap::new()
    } else {
        match ctx.store.contacts_by_id(&subjects).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "reading a batch's contacts ahead failed; deciding it in the transaction");
                return None;
            }
        }
    };
    let reads = TxReads {
        contacts,
        ..TxReads::default()
    };
    match build(jobs, &reads, first, now, &ctx.keys, &ctx.origin) {
        Ok(built) => Some(Prepared {
            first,
            subjects,
            contacts: reads.contacts,
            built,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "sealing a batch ahead failed; deciding it in the transaction");
            None
        }
    }
}

/// Decides `jobs` in queue order on `reads` (and on what earlier jobs of the same chunk
/// changed), gives the accepted ones consecutive indices from `first`, and seals them.
fn build(
    jobs: &[Job],
    reads: &TxReads,
    first: u64,
    now: i64,
    keys: &Keys,
    origin: &str,
) -> Result<BuiltChunk, BuildError> {
    let mut batch = Batch {
        reads,
        keys,
        origin,
        now,
        book: HashMap::new(),
        erased: HashSet::new(),
        amended: HashMap::new(),
        claimed: HashSet::new(),
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
    let sealed = seal_all(&accepted, first, now, &keys.seal, origin)?;
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
                let (entry, built) = sealed.next().ok_or(BuildError::LostEntry)?;
                entries.push(entry);
                match (built, planned) {
                    (Built::Proof(p), _) => Answer::Proof(Ok(p)),
                    (Built::Event(event), Planned::Event { then, .. }) => {
                        events += 1;
                        Answer::Event(Ok(match then {
                            Then::Revealed(proof, vault) => {
                                EventOutcome::Reveal(RevealOutcome::Revealed {
                                    event,
                                    proof,
                                    vault,
                                })
                            }
                            Then::Denied(consent, proof) => {
                                EventOutcome::Reveal(RevealOutcome::Denied {
                                    event,
                                    consent,
                                    proof,
                                })
                            }
                            Then::Erased => EventOutcome::Erase(EraseOutcome::Erased {
                                event: Box::new(event),
                            }),
                            Then::Amended => EventOutcome::Amend(AmendOutcome::Amended {
                                event: Box::new(event),
                            }),
                        }))
                    }
                    (Built::Event(_), Planned::Proof(..)) => {
                        return Err(BuildError::Mismatched);
                    }
                }
            }
            (Job::Proof { .. }, Ok(Err(_))) => {
                return Err(BuildError::Mismatched);
            }
        };
        answers.push(answer);
    }
    Ok(BuiltChunk {
        entries,
        answers,
        events,
    })
}

/// The writer: commits chunks in queue order, one transaction at a time. A transaction
/// takes every chunk waiting of the same kind (up to `max_batch` drafts), so that each
/// fsync carries what arrived while the last one ran: prepared chunks side by side, or
/// chunks with events (decided on consent states, and on each other) joined into one
/// chunk decided in the transaction.
async fn writer(ctx: Arc<Context>, mut chunks: mpsc::Receiver<Chunk>) {
    let mut held: Option<Chunk> = None;
    let mut last_batch = 0usize;
    let gathers = ctx.store.backend() == consentry_store::Backend::Postgres;
    loop {
        let first = match held.take() {
            Some(c) => c,
            None => match chunks.recv().await {
                Some(c) => c,
                None => break,
            },
        };
        let prepared = first.prepared.is_some();
        let mut drafts = first.jobs.len();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + GATHER_WINDOW;
        loop {
            let next = match chunks.try_recv() {
                Err(mpsc::error::TryRecvError::Empty)
                    if gathers && last_batch >= GATHER_THRESHOLD && drafts * 4 < last_batch * 3 =>
                {
                    tokio::time::timeout_at(deadline, chunks.recv())
                        .await
                        .ok()
                        .flatten()
                        .ok_or(mpsc::error::TryRecvError::Empty)
                }
                other => other,
            };
            match next {
                Ok(c)
                    if c.prepared.is_some() == prepared
                        && drafts + c.jobs.len() <= ctx.max_batch =>
                {
                    drafts += c.jobs.len();
                    if prepared {
                        batch.push(c);
                    } else if let Some(open) = batch.first_mut() {
                        // Chunks decided in the transaction are decided as one, in
                        // queue order, so that each draft sees what earlier ones did.
                        open.jobs.extend(c.jobs);
                        open.seq = c.seq;
                    }
                }
                Ok(c) => {
                    held = Some(c);
                    break;
                }
                Err(_) => break,
            }
        }
        last_batch = drafts;
        write(&ctx, batch).await;
    }
}

/// Commits `chunks` in one transaction: under the log lock, reads the contacts (and the
/// consent states events need) every chunk depends on; keeps each prepared chunk whose
/// expected index and contacts are what the transaction finds, and decides and seals
/// the others there (as every chunk was before preparing ahead existed). Answers each
/// draft once the transaction committed, or with the error if it failed: nothing is
/// then written.
#[allow(clippy::disallowed_methods)] // Instant::now times the batch for a metric only
async fn write(ctx: &Context, chunks: Vec<Chunk>) {
    let started = std::time::Instant::now();
    let through = chunks.last().map_or(0, |c| c.seq);
    let mut needed = Needed::default();
    let mut jobs = Vec::with_capacity(chunks.len());
    let mut prepared = Vec::with_capacity(chunks.len());
    for c in chunks {
        let n = reads_needed(&c.jobs);
        needed.subjects.extend(n.subjects);
        needed.statuses.extend(n.statuses);
        needed.requests.extend(n.requests);
        jobs.push(c.jobs);
        prepared.push((c.now, c.prepared));
    }
    let (keys, origin) = (&ctx.keys, ctx.origin.as_str());
    let result = ctx
        .store
        .append_reading(
            TxAsk {
                subjects: &needed.subjects,
                statuses: &needed.statuses,
                requests: &needed.requests,
            },
            |first_index, reads| {
                let mut at = first_index;
                let mut entries = Vec::new();
                let mut answers = Vec::with_capacity(jobs.len());
                let (mut events, mut resealed) = (0u64, 0u64);
                for (chunk, (now, ahead)) in jobs.iter().zip(prepared) {
                    let built = match ahead {
                        Some(p)
                            if p.first == at
                                && p.subjects
                                    .iter()
                                    .all(|s| p.contacts.get(s) == reads.contacts.get(s)) =>
                        {
                            p.built
                        }
                        ahead => {
                            if ahead.is_some() {
                                resealed += chunk.len() as u64;
                            }
                            build(chunk, reads, at, now, keys, origin)?
                        }
                    };
                    at += built.entries.len() as u64;
                    entries.extend(built.entries);
                    answers.push(built.answers);
                    events += built.events;
                }
                Ok((entries, (answers, events, resealed)))
            },
        )
        .await;
    if let Ok(mut e) = ctx.expected.lock() {
        e.through = through;
        if let Ok(out) = &result {
            e.committed = Some(out.size);
        }
    }
    let metrics = &ctx.metrics;
    match result {
        Ok(out) => {
            let (answers, events, resealed) = out.built;
            metrics.append_batches.inc();
            metrics.append_resealed.inc_by(resealed);
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
            for (job, answer) in jobs
                .into_iter()
                .flatten()
                .zip(answers.into_iter().flatten())
            {
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
            let drafts: usize = jobs.iter().map(Vec::len).sum();
            tracing::error!(error = %e, batch = drafts, "log append failed; nothing written");
            let err = match e {
                StoreError::StorageFull(_) => SubmitError::StorageFull,
                other => SubmitError::Append(other.to_string()),
            };
            for job in jobs.into_iter().flatten() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_core::proof::{RecipientCategory, verify_seal};
    use consentry_store::NewContact;

    struct Fixture {
        _dir: tempfile::TempDir,
        ctx: Context,
        tenant: TenantId,
        subject: SubjectId,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let keys = crate::keys::load(dir.path(), crate::keys::default_origin, None).unwrap();
        let tenant = TenantId::parse("ten_acme").unwrap();
        let subject = SubjectId::parse("sub_alice").unwrap();
        store.create_tenant(&tenant, "ACME", 1).await.unwrap();
        store
            .insert_contact(&NewContact {
                id: subject.clone(),
                tenant: tenant.clone(),
                email_index: [1; 32],
                wrapped_key: vec![7; 73],
                identity: vec![8; 40],
                address_commitment: "ac".into(),
                category: RecipientCategory::Private,
                attributes: "{}".into(),
                created_at: 1,
            })
            .await
            .unwrap();
        let ctx = Context {
            store,
            origin: keys.log.origin().to_owned(),
            keys: Arc::new(keys),
            clock: Arc::new(crate::clock::SystemClock),
            metrics: Arc::new(Metrics::new()),
            max_batch: 64,
            expected: std::sync::Mutex::new(Expected::default()),
        };
        Fixture {
            _dir: dir,
            ctx,
            tenant,
            subject,
        }
    }

    fn proof_job(f: &Fixture, n: u32) -> (Job, oneshot::Receiver<Result<Sealed, SubmitError>>) {
        let (reply, answer) = oneshot::channel();
        let draft = ProofDraft {
            id: ProofId::from_suffix(&format!("p{n}")).unwrap(),
            tenant: f.tenant.clone(),
            subject: f.subject.clone(),
            purpose: "newsletter".into(),
            decision: Decision::Granted,
            method: Method::Manual,
            recipient: None,
            notice: None,
            evidence: None,
            request: None,
            link: None,
            valid_days: None,
            given_at: None,
        };
        let job = Job::Proof {
            draft,
            valid_until: None,
            reply,
        };
        (job, answer)
    }

    fn event_job(f: &Fixture, n: u32, action: Action) -> (Job, EventReply) {
        let (reply, answer) = oneshot::channel();
        let draft = EventDraft {
            id: EventId::from_suffix(&format!("e{n}")).unwrap(),
            tenant: f.tenant.clone(),
            subject: f.subject.clone(),
            actor: "key_1".into(),
            action,
        };
        (Job::Event { draft, reply }, answer)
    }

    /// Prepares a one-proof chunk at `first`, lets `meanwhile` change the database, then
    /// commits the chunk: the answer, and the proof as stored.
    async fn prepared_then_written(
        f: &Fixture,
        n: u32,
        first: u64,
        meanwhile: impl std::future::Future<Output = ()>,
    ) -> Result<Sealed, SubmitError> {
        let (job, answer) = proof_job(f, n);
        let jobs = vec![job];
        let now = 1_700_000_000_000 + i64::from(n);
        let prepared = prepare(&f.ctx, &jobs, first, now).await;
        assert!(prepared.is_some(), "a chunk of proofs is prepared ahead");
        meanwhile.await;
        let chunk = Chunk {
            seq: u64::from(n),
            now,
            jobs,
            prepared,
        };
        write(&f.ctx, vec![chunk]).await;
        let sealed = answer.await.unwrap()?;
        let stored = f
            .ctx
            .store
            .proof(&f.tenant, &sealed.proof.body.id)
            .await
            .unwrap()
            .expect("an acknowledged proof is stored");
        assert_eq!(stored, (sealed.proof.body.log_index, sealed.entry.clone()));
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&sealed.entry).unwrap();
        assert_eq!(
            verify_seal(&object, &sealed.proof.seal).unwrap(),
            f.ctx.keys.seal.public(),
            "the stored entry carries a valid seal"
        );
        Ok(sealed)
    }

    fn resealed(f: &Fixture) -> u64 {
        f.ctx.metrics.append_resealed.get()
    }

    #[tokio::test]
    async fn prepared_chunks_are_kept_only_if_the_transaction_finds_what_they_were_sealed_on() {
        let f = fixture().await;

        // Prepared at the right index, on the contact as it stays: kept as sealed.
        let p = prepared_then_written(&f, 1, 0, async {}).await.unwrap();
        assert_eq!(p.proof.body.log_index, 0);
        assert_eq!(p.proof.body.recorded_at.unix_millis(), 1_700_000_000_001);
        assert_eq!(resealed(&f), 0);

        // Another writer appends between preparing and writing: the chunk's expected
        // index is taken, so it is sealed again at the index it gets.
        let other = async {
            let (job, answer) = proof_job(&f, 2);
            write(
                &f.ctx,
                vec![Chunk {
                    seq: 2,
                    now: 1_700_000_000_002,
                    jobs: vec![job],
                    prepared: None,
                }],
            )
            .await;
            assert_eq!(answer.await.unwrap().unwrap().proof.body.log_index, 1);
        };
        let p = prepared_then_written(&f, 3, 1, other).await.unwrap();
        assert_eq!(p.proof.body.log_index, 2, "sealed again at its real index");
        assert_eq!(resealed(&f), 1);

        // The contact's category changes (no log entry) after the chunk was sealed on
        // the old one: the proof records the category at commit time.
        let before = prepared_then_written(&f, 4, 3, async {}).await.unwrap();
        assert_eq!(
            before.proof.body.recipient.category,
            RecipientCategory::Private
        );
        let change = async {
            assert!(
                f.ctx
                    .store
                    .update_contact_profile(
                        &f.tenant,
                        &f.subject,
                        RecipientCategory::Professional,
                        "{}"
                    )
                    .await
                    .unwrap()
            );
        };
        let p = prepared_then_written(&f, 5, 4, change).await.unwrap();
        assert_eq!(p.proof.body.log_index, 4);
        assert_eq!(
            p.proof.body.recipient.category,
            RecipientCategory::Professional
        );
        assert_eq!(resealed(&f), 2);

        // The contact is erased after the chunk was sealed: the proof is refused and
        // nothing of it is written.
        let erase = async {
            let (job, answer) = event_job(&f, 1, Action::Erase);
            write(
                &f.ctx,
                vec![Chunk {
                    seq: 6,
                    now: 1_700_000_000_006,
                    jobs: vec![job],
                    prepared: None,
                }],
            )
            .await;
            assert!(matches!(
                answer.await.unwrap(),
                Ok(EventOutcome::Erase(EraseOutcome::Erased { .. }))
            ));
        };
        let refused = prepared_then_written(&f, 7, 5, erase).await;
        assert!(matches!(refused, Err(SubmitError::Erased)), "{refused:?}");
        assert_eq!(
            f.ctx.store.log_head().await.unwrap().0,
            6,
            "only the erasure"
        );
        assert_eq!(resealed(&f), 3);
    }

    #[tokio::test]
    async fn waiting_chunks_with_events_are_decided_as_one_in_queue_order() {
        let f = fixture().await;
        let (erase, erased) = event_job(&f, 1, Action::Erase);
        let (reveal, revealed) = event_job(
            &f,
            2,
            Action::Reveal {
                purpose: "newsletter".into(),
                fields: vec!["email".into()],
                reason: None,
            },
        );
        let (queue, chunks) = mpsc::channel(CHUNKS_AHEAD);
        for (seq, job) in [(1, erase), (2, reveal)] {
            let chunk = Chunk {
                seq,
                now: 1_700_000_000_000,
                jobs: vec![job],
                prepared: None,
            };
            assert!(queue.send(chunk).await.is_ok());
        }
        drop(queue);
        let ctx = Arc::new(f.ctx);
        writer(ctx.clone(), chunks).await;
        assert!(matches!(
            erased.await.unwrap(),
            Ok(EventOutcome::Erase(EraseOutcome::Erased { .. }))
        ));
        // The reveal, queued after the erasure, finds the contact erased although both
        // were decided on what one transaction read before either.
        assert!(matches!(revealed.await.unwrap(), Err(SubmitError::Erased)));
        assert_eq!(ctx.metrics.append_batches.get(), 1, "one transaction");
    }

    /// Commits `jobs` as one chunk decided in the transaction, at `now`.
    async fn decided_in_tx(f: &Fixture, seq: u64, jobs: Vec<Job>) {
        let chunk = Chunk {
            seq,
            now: NOW,
            jobs,
            prepared: None,
        };
        write(&f.ctx, vec![chunk]).await;
    }

    const NOW: i64 = 1_700_000_000_000;

    #[tokio::test]
    async fn amendments_see_earlier_ones_of_their_batch_and_reveals_read_the_new_identity() {
        let f = fixture().await;
        let (grant, granted) = proof_job(&f, 1);
        let amend = |n, read: u8, new: u8| {
            event_job(
                &f,
                n,
                Action::Amend {
                    fields: vec!["name".into()],
                    read: vec![read; 40],
                    new: vec![new; 40],
                },
            )
        };
        // Both amendments were made on the identity as first read (8…): the second one
        // comes too late and changes nothing.
        let (first, first_done) = amend(2, 8, 9);
        let (second, second_done) = amend(3, 8, 10);
        let (reveal, revealed) = event_job(
            &f,
            4,
            Action::Reveal {
                purpose: "newsletter".into(),
                fields: vec!["name".into()],
                reason: None,
            },
        );
        decided_in_tx(&f, 1, vec![grant, first, second, reveal]).await;
        assert!(granted.await.unwrap().is_ok());
        let Ok(EventOutcome::Amend(AmendOutcome::Amended { event })) = first_done.await.unwrap()
        else {
            panic!("the first amendment is recorded");
        };
        assert_eq!(event.event.body.kind, EventType::Amended);
        assert_eq!(event.event.body.fields, vec!["name".to_owned()]);
        assert!(matches!(
            second_done.await.unwrap(),
            Ok(EventOutcome::Amend(AmendOutcome::Changed))
        ));
        let Ok(EventOutcome::Reveal(RevealOutcome::Revealed { vault, .. })) =
            revealed.await.unwrap()
        else {
            panic!("the reveal is allowed");
        };
        assert_eq!(
            vault.identity,
            vec![9; 40],
            "the reveal reads the amended identity"
        );
        let row = f
            .ctx
            .store
            .contact(&f.tenant, &f.subject)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.identity, Some(vec![9; 40]));
        // Grant, amendment, access: the refused amendment wrote nothing.
        assert_eq!(f.ctx.store.log_head().await.unwrap().0, 3);
    }

    /// A pending request for the fixture's contact, on link `token`, open until `until`.
    async fn request(f: &Fixture, id: &str, token: u8, until: i64) -> RequestId {
        let id = RequestId::parse(id).unwrap();
        f.ctx
            .store
            .insert_requests(&[consentry_store::NewRequest {
                id: id.clone(),
                tenant: f.tenant.clone(),
                subject: f.subject.clone(),
                purpose: "newsletter".into(),
                token_hash: [token; 32],
                notice_text: "notice".into(),
                notice_sha256: "00".into(),
                notice_version: Some("1".into()),
                notice_url: None,
                language: "fr".into(),
                valid_days: None,
                created_at: 1,
                expires_at: until,
            }])
            .await
            .unwrap();
        id
    }

    fn answer_job(
        f: &Fixture,
        n: u32,
        request: &RequestId,
        link: u8,
    ) -> (Job, oneshot::Receiver<Result<Sealed, SubmitError>>) {
        let (job, reply) = proof_job(f, n);
        let Job::Proof {
            draft,
            valid_until,
            reply: r,
        } = job
        else {
            unreachable!()
        };
        let draft = ProofDraft {
            method: Method::Delegated,
            request: Some(request.clone()),
            link: Some([link; 32]),
            ..draft
        };
        (
            Job::Proof {
                draft,
                valid_until,
                reply: r,
            },
            reply,
        )
    }

    #[tokio::test]
    async fn a_delegated_answer_claims_its_request_once_on_its_current_link_while_open() {
        let f = fixture().await;
        f.ctx
            .store
            .set_webhook(&f.tenant, "https://hooks.example/consentry", 1)
            .await
            .unwrap();
        let open = request(&f, "req_open", 1, NOW + 1_000).await;
        let lapsed = request(&f, "req_lapsed", 2, NOW).await;
        let other = RequestId::parse("req_other").unwrap();
        let (answer, answered) = answer_job(&f, 1, &open, 1);
        let (again, twice) = answer_job(&f, 2, &open, 1);
        let (late, too_late) = answer_job(&f, 3, &lapsed, 2);
        let (unknown, nowhere) = answer_job(&f, 4, &other, 3);
        decided_in_tx(&f, 1, vec![answer, again, late, unknown]).await;
        let sealed = answered.await.unwrap().unwrap();
        assert_eq!(sealed.proof.body.request.as_ref(), Some(&open));
        assert_eq!(sealed.proof.body.recipient.address_commitment, "ac");
        assert!(matches!(twice.await.unwrap(), Err(SubmitError::NotPending)));
        assert!(matches!(
            too_late.await.unwrap(),
            Err(SubmitError::NotPending)
        ));
        assert!(matches!(
            nowhere.await.unwrap(),
            Err(SubmitError::NotPending)
        ));
        let row = f
            .ctx
            .store
            .request(&f.tenant, &open)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.status.as_str(), row.answered_at, row.proof_id.as_ref()),
            ("granted", Some(NOW), Some(&sealed.proof.body.id))
        );
        // The webhook event committed with the proof, and only for it.
        assert_eq!(
            f.ctx.store.deliveries(&f.tenant, 10).await.unwrap().len(),
            1
        );
        assert_eq!(f.ctx.store.log_head().await.unwrap().0, 1);

        // A link replaced by a resend no longer answers; an erased contact's never does.
        let resent = request(&f, "req_resent", 4, NOW + 1_000).await;
        let (stale, stale_done) = answer_job(&f, 5, &resent, 5);
        decided_in_tx(&f, 2, vec![stale]).await;
        assert!(matches!(
            stale_done.await.unwrap(),
            Err(SubmitError::NotPending)
        ));
        let (erase, erased) = event_job(&f, 6, Action::Erase);
        let (after, after_done) = answer_job(&f, 7, &resent, 4);
        decided_in_tx(&f, 3, vec![erase, after]).await;
        assert!(matches!(
            erased.await.unwrap(),
            Ok(EventOutcome::Erase(EraseOutcome::Erased { .. }))
        ));
        assert!(matches!(
            after_done.await.unwrap(),
            Err(SubmitError::Erased)
        ));
        let row = f
            .ctx
            .store
            .request(&f.tenant, &resent)
            .await
            .unwrap()
            .unwrap();
        // The erasure cancelled it; the refused answer wrote nothing.
        assert_eq!((row.status.as_str(), row.proof_id), ("cancelled", None));
    }
}
