//! A transparency-log witness, after C2SP `tlog-witness` v1.0.0.
//!
//! A witness follows a list of logs, each known by its verifier key. A log sends it each
//! new checkpoint with a consistency proof from the last one the witness cosigned; the
//! witness checks the log's signature and the proof, and answers with its own Ed25519
//! `cosignature/v1` — only if the checkpoint is consistent with everything it cosigned
//! before. Verifiers that require the cosignatures of enough independent witnesses (see
//! `consentry_core::witness_policy`) cannot be shown a fork of the log unless those
//! witnesses all lie.
//!
//! The crate is split the usual way: [`decide`] is the pure rule, [`store`] the SQLite
//! state (check and update in one transaction, durable before the answer), [`witness`]
//! the request from bytes to cosignature, [`http`] the routes and the one place statuses
//! are decided. [`key_file`], [`limiter`], [`metrics`] and [`clock`] are what a server
//! needs around them. The binary (`consentry witness`) reads flags and starts it.
#![deny(missing_docs)]

pub mod clock;
pub mod decide;
pub mod http;
pub mod key_file;
pub mod limiter;
pub mod metrics;
pub mod store;
pub mod witness;

pub use witness::{AddError, LogList, Witness};
