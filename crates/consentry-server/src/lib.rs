//! Consentry's HTTP service: adapters from HTTP requests to the ledger's commands
//! (`consentry-ledger`, the one way into the log), and what they return rendered.
//!
//! - [`config`]: the validated configuration the binary hands in;
//! - [`routes`]: the HTTP API, with tenant authorisation in the handlers' signatures and
//!   every error as RFC 9457 problem+json ([`problem`]);
//! - [`web`]: the sender's web application (staff sign-in, address book, consents,
//!   requests, proofs, purposes and notices, dashboard), server-rendered HTML.
#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod config;
pub mod consents;
pub mod contacts;
pub mod contacts_csv;
pub mod downloads;
pub mod i18n;
pub mod limiter;
pub mod mail;
pub mod page;
pub mod portal;
pub mod problem;
pub mod requests;
pub mod route_table;
pub mod routes;
pub mod service;
pub mod session;
pub mod state;
pub mod web;
pub mod webhooks;

pub use config::ServerConfig;
pub use state::AppState;
