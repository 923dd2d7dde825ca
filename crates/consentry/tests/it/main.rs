//! End-to-end tests: the real `consentry` binary, started on port 0 against SQLite and
//! PostgreSQL, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod delegated;
mod durability;
mod service;
mod util;
