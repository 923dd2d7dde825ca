//! Consentry's HTTP service: adapters from HTTP requests to the ledger's commands
//! (`consentry-ledger`, the one way into the log), and what they return rendered.
//!
//! - [`config`]: the validated configuration the binary hands in;
//! - [`routes`]: the HTTP API, with tenant authorisation in the handlers' signatures and
//!   every error as RFC 9457 problem+json ([`problem`]);
//! - [`web`]: the sender's web application (staff sign-in, address book, consents,
//!   requests, proofs, purposes and notices, dashboard), server-rendered HTML.
#![deny(missing_docs)]

pub mod app;
pub mod auth;
pub mod config;
pub mod contacts;
pub mod contacts_csv;
pub mod limiter;
pub mod mail;
pub mod openapi;
pub mod portal;
pub mod problem;
pub mod rejections;
pub mod route_table;
pub mod routes;
pub mod web;
pub mod webhooks;

pub use app::{AppState, serve};
pub use config::ServerConfig;
