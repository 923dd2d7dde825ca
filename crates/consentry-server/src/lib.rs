//! Consentry's HTTP service: adapters from HTTP requests to the ledger's commands
//! (`consentry-ledger`, the one way into the log), and what they return rendered.
//!
//! Three layers, imports going down only (`tests/layers.rs` checks it):
//!
//! - the root modules, shared by every adapter: [`state`], [`config`], [`session`] (both
//!   principals), [`i18n`] (every text, by key), [`page`] (the HTML shell and its
//!   headers), [`downloads`] (proofs and certificates), [`disclosures`], [`consents`], [`requests`],
//!   [`contacts`], [`problem`] (RFC 9457 problem+json), [`mail`], [`webhooks`],
//!   [`workers`] (expiry, e-mails and webhooks in per-tenant lanes), [`portal`],
//!   [`route_table`];
//! - [`routes`]: the HTTP API, the recipient's pages, the portal and `/verify`; and
//!   [`web`]: the sender's web application — neither imports the other;
//! - [`service`]: every route in one router, the OpenAPI document, running the service.
#![deny(missing_docs)]

pub mod answer_page;
pub mod auth;
pub mod client;
pub mod config;
pub mod consents;
pub mod contacts;
pub mod contacts_csv;
pub mod disclosures;
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
pub mod sender;
pub mod service;
pub mod session;
pub mod state;
pub mod web;
pub mod webhooks;
pub mod workers;

pub use config::ServerConfig;
pub use state::AppState;
