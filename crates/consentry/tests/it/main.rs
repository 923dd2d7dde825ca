//! End-to-end tests: the real `consentry` binary, started on port 0 against SQLite and
//! PostgreSQL, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
// Tests poll a real server against wall-clock deadlines.
#![allow(clippy::disallowed_methods)]

mod addresses;
mod anchoring;
mod chain;
mod clients;
mod csv;
mod delegated;
mod disclosure;
mod durability;
mod keys;
mod monitor;
mod openapi;
mod operations;
mod outbound;
mod pages;
mod portal;
mod release_fixtures;
mod reveal;
mod sealed_pdf;
mod service;
mod signin;
mod tiles;
// OpenSSL's TSA and test PKIs, shared with consentry-anchor's tests.
#[path = "../../../consentry-anchor/tests/tsa/mod.rs"]
mod tsa;
mod util;
mod verify_page;
mod webapp_admin;
mod webapp_book;
mod webapp_browser;
mod webapp_consents;
mod webapp_requests;
mod witness;
mod witnessed_log;
