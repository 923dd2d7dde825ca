//! Consentry's core: the formats other programs read and the maths that makes them
//! verifiable, with no I/O, no async and no clock, so the same code runs in the server,
//! in the `consentry verify` command and, compiled to WebAssembly, in a browser.
//!
//! - [`canonical`]: RFC 8785 canonical JSON, the bytes every hash and signature covers;
//! - [`merkle`]: RFC 9162 tree hashing, proofs and their verification, an incremental log;
//! - [`keys`]: the Ed25519 seal and log keys;
//! - [`checkpoint`]: C2SP tlog-checkpoint bodies in C2SP signed notes;
//! - [`proof`] and [`certificate`]: the `consentry.proof/v1` and
//!   `consentry.certificate/v1` documents;
//! - [`event`]: the sealed `data.*` event documents (reveals, refusals, erasures);
//! - [`history`]: the `consentry.anchors/v1` chain of anchored checkpoints;
//! - [`tlog_proof`]: the C2SP `tlog-proof@v1` export of a certificate's inclusion part;
//! - [`anchor`]: offline checks of EVM and RFC 3161 anchors;
//! - [`verify`]: checking any of these documents and reporting each check;
//! - [`fuzz`]: the bodies of the cargo-fuzz targets, shared with the corpus replay;
//! - [`monitor`]: a page's check that the log it is shown extends the one it saw before
//!   and holds the person's entries;
//! - [`cosignature`], [`witness_policy`] and [`witness_protocol`]: C2SP witness
//!   cosignatures (`cosignature/v1`), the verifier's witness policy (`tlog-policy`) and the
//!   `tlog-witness` request body.
#![deny(missing_docs)]

pub mod anchor;
pub mod canonical;
pub mod certificate;
pub mod checkpoint;
pub mod consent;
pub mod cosignature;
pub mod disclosure;
pub mod event;
pub mod fuzz;
pub mod history;
pub mod ids;
pub mod keys;
pub mod merkle;
pub mod monitor;
pub mod proof;
pub mod rotation;
pub mod strict_json;
pub mod tiles;
pub mod time;
pub mod tlog_proof;
pub mod verify;
pub mod witness_policy;
pub mod witness_protocol;
