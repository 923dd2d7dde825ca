//! Anchors date a checkpoint: an EVM transaction whose calldata is the checkpoint body,
//! or an RFC 3161 time-stamp token over SHA-256 of that body. Both sit behind [`Anchor`].
//!
//! Anchoring talks to the outside world and may be interrupted anywhere, so it is split
//! in steps the caller persists between: [`Anchor::prepare`] makes an *intent* (for EVM,
//! the signed raw transaction; for RFC 3161, the request with its nonce) with no side
//! effect outside; the caller stores it; [`Anchor::advance`] then moves it forward and is
//! idempotent (re-sending the same signed transaction cannot anchor twice), so after a
//! crash the stored intent is simply advanced again.

pub mod evm;
pub mod rfc3161;

pub use consentry_core::anchor::AnchorKind;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`Anchor`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The anchor object a certificate carries (`kind` plus the backend's members).
pub type AnchorObject = serde_json::Map<String, serde_json::Value>;

/// Where an intent stands after [`Anchor::advance`].
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Done: the anchor object for certificates.
    Anchored(AnchorObject),
    /// Under way (e.g. waiting for confirmations): advance again later.
    Waiting(String),
    /// This intent can never complete (its transaction was replaced, or its nonce taken
    /// by another): prepare a new one. The string says why.
    Restart(String),
}

/// Whether a finished anchor still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// Still valid (EVM: the block is still canonical).
    Valid,
    /// No longer valid (EVM: the block was reorganised away): anchor again.
    Invalid(String),
}

/// Why an anchoring step failed.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The node or TSA could not be reached or answered with a server error: retry later.
    #[error("anchor endpoint unreachable: {0}")]
    Unreachable(String),
    /// The endpoint refused for a reason the operator must fix (e.g. insufficient funds,
    /// a TSA that refuses the request): retried, but reported loudly.
    #[error("anchor refused: {0}")]
    Refused(String),
    /// The endpoint answered something that does not check out (a TSA token over another
    /// imprint, a bad signature, a receipt that does not match): never stored.
    #[error("anchor answer invalid: {0}")]
    Invalid(String),
    /// The anchor is misconfigured (bad key file, bad CA file, bad URL).
    #[error("anchor configuration: {0}")]
    Config(String),
}

/// An anchoring backend.
pub trait Anchor: Send + Sync {
    /// The kind of the anchor objects it makes.
    fn kind(&self) -> AnchorKind;

    /// What verifiers may pin, for `/.well-known/consentry.json` (e.g. the chain ID and
    /// the anchoring address, the TSA URL). Never secrets.
    fn public_info(&self) -> serde_json::Value {
        serde_json::json!({ "kind": self.kind().as_str() })
    }

    /// Makes an intent to anchor `body` (the checkpoint body text). No external side
    /// effect: the caller persists the intent before calling [`Anchor::advance`].
    fn prepare<'a>(
        &'a self,
        body: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, AnchorError>>;

    /// Moves `intent` forward. Idempotent: calling it again after a crash, with the
    /// same intent, never anchors twice.
    fn advance<'a>(
        &'a self,
        body: &'a str,
        intent: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<Progress, AnchorError>>;

    /// Checks that a finished anchor still holds (EVM: its block is still canonical).
    fn recheck<'a>(
        &'a self,
        anchor: &'a AnchorObject,
    ) -> BoxFuture<'a, Result<Recheck, AnchorError>>;
}
