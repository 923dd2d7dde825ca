//! The vault's one error type.
//!
//! Messages never carry key material or personal data: an error may end up in a log line
//! or a problem+json body, so an e-mail error says what is wrong with the address, not
//! the address, and a decryption error does not say which of its causes applied (the
//! AEAD cannot tell them apart, and an attacker should not learn more than it can).

use crate::email::EmailError;

/// Why a vault operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// A master key is not 32 bytes of standard base64.
    #[error("not a vault master key (expected 32 bytes in standard base64)")]
    BadKey,
    /// Authentication failed: the key is wrong (another master key, tenant or subject key,
    /// including a master key rotated away), the blob belongs to another tenant or subject,
    /// or it was altered.
    #[error("vault data did not authenticate (wrong key, wrong tenant or subject, or tampered)")]
    Decrypt,
    /// An e-mail address cannot be normalised; the reason never includes the address.
    #[error("not a usable e-mail address: {0}")]
    BadEmail(#[from] EmailError),
    /// Stored vault data does not have the expected layout (too short, a wrapped key of
    /// the wrong length, a sealed identity that is not the expected JSON).
    #[error("malformed vault data: {0}")]
    Malformed(&'static str),
    /// Stored vault data starts with a format version this build does not know, for
    /// example written by a newer release.
    #[error("unknown vault format version {0}")]
    UnknownVersion(u8),
    /// [`rewrap`](crate::rewrap) was given keys of two different tenants: rotation
    /// re-wraps a subject's key for the same tenant, it never moves a subject.
    #[error("re-wrapping between different tenants is not allowed")]
    TenantMismatch,
}
