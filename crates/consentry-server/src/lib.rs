//! Consentry's HTTP service.
//!
//! - [`config`]: the validated configuration the binary hands in;
//! - [`keys`]: the seal, log and master keys, generated on first start (0600) and reused;
//! - [`sequencer`]: group commit — many requests' proofs sealed and appended to the log in
//!   one transaction, each request answered only once its entry is durable;
//! - [`publisher`]: signs checkpoints of the durable log, apart from appending;
//! - [`anchoring`] and [`schedule`]: anchors checkpoints daily (and on demand) in an EVM
//!   chain and/or with an RFC 3161 authority, crash-safe and idempotent;
//! - [`routes`]: the HTTP API, with tenant authorisation in the handlers' signatures and
//!   every error as RFC 9457 problem+json ([`problem`]);
//! - [`web`]: the sender's web application (staff sign-in, address book, consents,
//!   requests, proofs, purposes and notices, dashboard), server-rendered HTML.
#![deny(missing_docs)]

pub mod anchoring;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod contacts_csv;
pub mod keys;
pub mod limiter;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod portal;
pub mod problem;
pub mod publisher;
pub mod random;
pub mod rejections;
pub mod routes;
pub mod schedule;
pub mod sequencer;
pub mod web;
pub mod webhooks;

pub use app::{AppState, serve};
pub use config::ServerConfig;
