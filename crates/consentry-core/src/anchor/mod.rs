//! Offline checks of the anchors a certificate carries: the evidence that a checkpoint
//! existed by some time. Both kinds anchor the checkpoint **body** (the C2SP
//! tlog-checkpoint text without signature lines): an EVM transaction carries it as
//! calldata, an RFC 3161 time-stamp token carries SHA-256 of it as its message imprint.
//!
//! These checks trust nothing but what the caller supplies: for EVM, the block hash
//! (anyone can compare it with any node or explorer); for RFC 3161, the TSA's CA
//! certificates if given (otherwise the signature is checked against the certificate
//! the token carries and the report says the chain was not checked).

pub mod evm;
pub mod rfc3161;
