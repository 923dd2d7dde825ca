//! Consentry's vault: where a data subject's identity data is kept, and the only code that
//! can read it.
//!
//! The rest of the system sees subjects only as pseudonyms (`sub_…`). Identity data
//! (e-mail, name, postal address, phone, free fields) is sealed under a key of the
//! subject's own, so that destroying that one key — crypto-shredding, the portal's "make
//! my data inaccessible" — erases the person while the append-only log, which holds only
//! pseudonyms and keyed commitments, stays intact and verifiable.
//!
//! ```text
//! master key (32 bytes, one per deployment, never in the database)
//! ├─ HKDF-SHA256 "kek\0" ‖ tenant          → tenant key-encryption key (KEK)
//! │    └─ wraps, per subject, a random 32-byte data key (DEK)  [XChaCha20-Poly1305]
//! │         ├─ seals the subject's Identity as JSON               [XChaCha20-Poly1305]
//! │         └─ HKDF-SHA256 "commitment" → commitment key → HMAC-SHA256 commitments
//! ├─ HKDF-SHA256 "blind-index\0" ‖ tenant  → blind-index key → HMAC-SHA256(e-mail)
//! ├─ HKDF-SHA256 "link-token"              → link key (may be pinned across rotations)
//! └─ HKDF-SHA256 "key-check"               → check value, names the key in the database
//! ```
//!
//! Master keys are versioned and rotated: a [`MasterKeyring`] holds the versions in use.
//!
//! Every HKDF uses the salt `consentry vault v1`. The byte formats are described on
//! [`WrappedKey`], [`SubjectKey::seal`] and [`SubjectKey::commitment`].
//!
//! The crate is pure: no I/O, no async, no clock, and no randomness of its own — every
//! operation that needs some takes a [`rand_core::CryptoRngCore`] (re-exported as
//! [`rand_core`], version 0.6, which the RustCrypto AEADs use). Keys and identities are
//! zeroed on drop and never shown by `Debug`.
//!
//! Erasing a subject means deleting their [`WrappedKey`] **and** their blind index (which
//! is keyed per tenant, not per subject, so anyone holding the master key could still test
//! a guessed address against it). Backups holding the wrapped key delay the erasure until
//! they expire.
//!
//! ```
//! use consentry_core::ids::{SubjectId, TenantId};
//! use consentry_vault::{Identity, MasterKey, normalize_email};
//! # use rand_chacha::rand_core::SeedableRng as _;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7); // OsRng in production
//! let master = MasterKey::generate(&mut rng);
//! let tenant = TenantId::parse("ten_acme")?;
//! let subject = SubjectId::parse("sub_1")?;
//! let keys = master.tenant_keys(&tenant);
//!
//! let email = normalize_email(" Alice@Example.com ")?;
//! let index = keys.blind_index(&email);                  // stored, for look-up
//! let (dek, wrapped) = keys.new_subject_key(&mut rng, &subject); // `wrapped` is stored
//! let sealed = dek.seal(&mut rng, &tenant, &subject, &Identity::new(email)); // stored
//!
//! // Later: read it back.
//! let dek = keys.unwrap_subject_key(&subject, &wrapped)?;
//! assert_eq!(dek.open(&tenant, &subject, &sealed)?.email, "alice@example.com");
//! assert_eq!(index, keys.blind_index("alice@example.com"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod email;
mod error;
mod identity;
mod keys;
mod primitives;
mod ring;

pub use email::{
    EmailError, MAX_EMAIL_LEN, MAX_LOCAL_LEN, canonical_email, normalize_email,
    stored_email_violation,
};
pub use error::VaultError;
pub use identity::Identity;
pub use keys::{LinkKey, MasterKey, SubjectKey, TenantKeys, WrappedKey, rewrap};
pub use rand_core;
pub use ring::MasterKeyring;
