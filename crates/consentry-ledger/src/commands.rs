//! The typed commands on a subject and their outcomes: a reveal or an evidence read
//! answers a [`RevealOutcome`], an erasure an [`EraseOutcome`], an amendment an
//! [`AmendOutcome`] — each names only what can become of that command, so an adapter
//! never handles "a reveal answered as an erasure".
//!
//! Underneath, every command is an event draft for the group commit, decided in the
//! append transaction on what that transaction read.

use crate::sequencer::{Action, EventDraft, EventOutcome, EventReply, SealedEntry, VaultRecord};
use crate::{Ledger, SubmitError};
use consentry_core::event::ConsentState;
use consentry_core::ids::{ProofId, SubjectId, TenantId};

/// Who acts, on whose record: what every command on a subject names.
#[derive(Debug, Clone)]
pub struct On {
    /// The sender whose book holds the subject.
    pub tenant: TenantId,
    /// The subject.
    pub subject: SubjectId,
    /// Who acts: an API key ID, a staff user ID, or `portal`.
    pub actor: String,
}

/// What became of a reveal or an evidence read.
#[derive(Debug, Clone)]
pub enum RevealOutcome {
    /// Allowed: its `data.access` event is durable; the record to open.
    Revealed {
        /// The event.
        event: SealedEntry,
        /// The proof relied on (the granting proof, or the proof the evidence is of).
        proof: ProofId,
        /// The subject's vault record, read in the same transaction.
        vault: VaultRecord,
    },
    /// Refused for want of a granted consent: its `data.access_denied` event is durable.
    Denied {
        /// The event.
        event: SealedEntry,
        /// The consent state found.
        consent: ConsentState,
        /// The proof that set that state, if any.
        proof: Option<ProofId>,
    },
}

/// What became of an erasure.
#[derive(Debug, Clone)]
pub enum EraseOutcome {
    /// Done: its `data.erased` event is durable.
    Erased {
        /// The event (boxed: the other variant is empty).
        event: Box<SealedEntry>,
    },
    /// The subject was erased before: nothing was appended.
    AlreadyErased,
}

/// What became of an amendment.
#[derive(Debug, Clone)]
pub enum AmendOutcome {
    /// Done: the new identity and its `data.amended` event are durable.
    Amended {
        /// The event (boxed: the other variant is empty).
        event: Box<SealedEntry>,
    },
    /// The identity changed since the amendment was made on it: nothing was written.
    Changed,
}

/// The engine answered a command with another command's outcome: a bug, reported as
/// such rather than mistaken for an answer.
fn mismatched(command: &'static str) -> SubmitError {
    SubmitError::Append(format!(
        "the engine answered a {command} with another command's outcome"
    ))
}

impl TryFrom<EventOutcome> for RevealOutcome {
    type Error = SubmitError;

    fn try_from(o: EventOutcome) -> Result<RevealOutcome, SubmitError> {
        match o {
            EventOutcome::Reveal(r) => Ok(r),
            _ => Err(mismatched("reveal")),
        }
    }
}

impl TryFrom<EventOutcome> for EraseOutcome {
    type Error = SubmitError;

    fn try_from(o: EventOutcome) -> Result<EraseOutcome, SubmitError> {
        match o {
            EventOutcome::Erase(e) => Ok(e),
            _ => Err(mismatched("erasure")),
        }
    }
}

impl TryFrom<EventOutcome> for AmendOutcome {
    type Error = SubmitError;

    fn try_from(o: EventOutcome) -> Result<AmendOutcome, SubmitError> {
        match o {
            EventOutcome::Amend(a) => Ok(a),
            _ => Err(mismatched("amendment")),
        }
    }
}

/// A disclosure recorded: its `data.disclosed` event is durable; the vault record to
/// build the disclosure from.
#[derive(Debug, Clone)]
pub struct Disclosed {
    /// The event.
    pub event: Box<SealedEntry>,
    /// The subject's vault record, read in the same transaction.
    pub vault: VaultRecord,
}

impl TryFrom<EventOutcome> for Disclosed {
    type Error = SubmitError;

    fn try_from(o: EventOutcome) -> Result<Disclosed, SubmitError> {
        match RevealOutcome::try_from(o) {
            Ok(RevealOutcome::Revealed { event, vault, .. }) => Ok(Disclosed {
                event: Box::new(event),
                vault,
            }),
            _ => Err(mismatched("disclosure")),
        }
    }
}

/// A reveal queued with [`Ledger::enqueue_reveal`]: await [`RevealReply::outcome`].
#[derive(Debug)]
pub struct RevealReply(EventReply);

impl RevealReply {
    /// Waits until the reveal is decided (and its entry durable).
    pub async fn outcome(self) -> Result<RevealOutcome, SubmitError> {
        self.0.await.map_err(|_| SubmitError::Closed)??.try_into()
    }
}

impl Ledger {
    fn draft(&self, on: On, action: Action) -> Result<EventDraft, SubmitError> {
        Ok(EventDraft {
            id: self.new_event_id()?,
            tenant: on.tenant,
            subject: on.subject,
            actor: on.actor,
            action,
        })
    }

    /// Reveals `fields` of the subject's identity for `purpose`: allowed, with a
    /// `data.access` entry, if a granted, unexpired, unrevoked consent for the purpose
    /// stands when the entry is appended; else denied with a `data.access_denied` entry.
    /// The actor's `reason` is committed to under the subject's key, never stored.
    pub async fn reveal(
        &self,
        on: On,
        purpose: String,
        fields: Vec<String>,
        reason: Option<String>,
    ) -> Result<RevealOutcome, SubmitError> {
        let action = Action::Reveal {
            purpose,
            fields,
            reason,
        };
        self.sequencer
            .submit_event(self.draft(on, action)?)
            .await?
            .try_into()
    }

    /// Like [`Ledger::reveal`], queued: returns at once, so that a caller with many (a
    /// batch reveal) fills the group commit's batches. Reveals are decided in the order
    /// they are queued.
    pub async fn enqueue_reveal(
        &self,
        on: On,
        purpose: String,
        fields: Vec<String>,
        reason: Option<String>,
    ) -> Result<RevealReply, SubmitError> {
        let action = Action::Reveal {
            purpose,
            fields,
            reason,
        };
        Ok(RevealReply(
            self.sequencer
                .enqueue_event(self.draft(on, action)?)
                .await?,
        ))
    }

    /// Opens the evidence file kept with `proof` (a decision about `purpose`), with a
    /// `data.access` entry naming the field `evidence` and that proof, whatever the
    /// consent's state (the sender reads its own record of the decision).
    pub async fn read_evidence(
        &self,
        on: On,
        purpose: String,
        proof: ProofId,
    ) -> Result<RevealOutcome, SubmitError> {
        let action = Action::ReadEvidence { purpose, proof };
        self.sequencer
            .submit_event(self.draft(on, action)?)
            .await?
            .try_into()
    }

    /// Opens `proof`'s commitments for a dispute on `ground`: a `data.disclosed` entry
    /// naming the proof, its `purpose` and the `fields` disclosed, durable before the
    /// vault record is handed back (an erased subject cannot be disclosed).
    pub async fn disclose(
        &self,
        on: On,
        purpose: String,
        proof: ProofId,
        ground: consentry_core::disclosure::Ground,
        fields: Vec<String>,
    ) -> Result<Disclosed, SubmitError> {
        let action = Action::Disclose {
            purpose,
            proof,
            ground,
            fields,
        };
        self.sequencer
            .submit_event(self.draft(on, action)?)
            .await?
            .try_into()
    }

    /// Crypto-shreds the subject's vault record, with a `data.erased` entry; cancels the
    /// subject's pending requests in the same transaction.
    pub async fn erase(&self, on: On) -> Result<EraseOutcome, SubmitError> {
        self.sequencer
            .submit_event(self.draft(on, Action::Erase)?)
            .await?
            .try_into()
    }

    /// Replaces the subject's sealed identity `read` with `new`, with a `data.amended`
    /// entry naming `fields`: both commit together, and only if the identity is still
    /// `read` ([`AmendOutcome::Changed`] otherwise, nothing written).
    pub async fn amend(
        &self,
        on: On,
        fields: Vec<String>,
        read: Vec<u8>,
        new: Vec<u8>,
    ) -> Result<AmendOutcome, SubmitError> {
        let action = Action::Amend { fields, read, new };
        self.sequencer
            .submit_event(self.draft(on, action)?)
            .await?
            .try_into()
    }
}
