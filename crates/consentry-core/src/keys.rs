//! Ed25519 keys: the **seal key** that signs proofs, and the **log key** that signs
//! checkpoints as a C2SP signed note.
//!
//! Two keys, two jobs: the seal says "the operator recorded this decision at this time";
//! the log key says "the log had this root at this size". Either can be rotated without
//! the other. Key material is built from 32 seed bytes handed in by the caller — the core
//! never draws randomness itself — and is zeroised on drop by `ed25519-dalek`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The public key is not 32 bytes of standard base64, or not a valid Ed25519 point.
    #[error("not an Ed25519 public key")]
    BadPublicKey,
    /// The log origin cannot be a signed-note key name (empty, spaces or `+`).
    #[error("log origin {0:?} is not a valid signed-note key name")]
    BadKeyName(String),
    /// The verifier key string is not `name+hexid+base64(0x01‖key)`.
    #[error("malformed signed-note verifier key")]
    BadVerifierKey,
}

/// The operator's proof-sealing key.
pub struct SealKey(SigningKey);

impl SealKey {
    /// Builds the key from its 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> SealKey {
        SealKey(SigningKey::from_bytes(seed))
    }

    /// The seed, for storing the key (handle with care).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> SealPublicKey {
        SealPublicKey(self.0.verifying_key())
    }

    /// Signs `msg` (RFC 8032 Ed25519, deterministic).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({}, secret redacted)", self.public().key_id())
    }
}

/// A seal public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealPublicKey(VerifyingKey);

impl SealPublicKey {
    /// Parses 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<SealPublicKey, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(SealPublicKey)
            .map_err(|_| KeyError::BadPublicKey)
    }

    /// Parses standard base64 of the 32 raw bytes.
    pub fn from_base64(s: &str) -> Result<SealPublicKey, KeyError> {
        let bytes = BASE64.decode(s).map_err(|_| KeyError::BadPublicKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        SealPublicKey::from_bytes(&bytes)
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Standard base64 of the 32 raw bytes.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.to_bytes())
    }

    /// Lowercase hex SHA-256 of the 32 raw bytes: what `sha256sum` prints for the key.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.0.to_bytes()))
    }

    /// The key ID carried in seals: the first 16 hex digits of the fingerprint.
    pub fn key_id(&self) -> String {
        let mut f = self.fingerprint();
        f.truncate(16);
        f
    }

    /// Checks an Ed25519 signature with RFC 8032 §5.1.7's strict rules (no malleable `S`,
    /// no small-order keys).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.0.verify_strict(msg, &sig).is_ok()
    }
}

impl fmt::Debug for SealPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealPublicKey({})", self.key_id())
    }
}

/// The log's checkpoint-signing key, named by the log origin as the signed-note spec
/// requires.
pub struct LogKey {
    origin: String,
    key: SigningKey,
    key_id: u32,
}

impl LogKey {
    /// Builds the key for the log `origin` from its 32-byte Ed25519 seed.
    pub fn from_seed(origin: &str, seed: &[u8; 32]) -> Result<LogKey, KeyError> {
        if !is_key_name_valid(origin) {
            return Err(KeyError::BadKeyName(origin.to_owned()));
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = note_key_id(origin, &key.verifying_key());
        Ok(LogKey {
            origin: origin.to_owned(),
            key,
            key_id,
        })
    }

    /// The seed, for storing the key (handle with care).
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The log origin (the key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The signed-note verifier key `origin+hexid+base64(0x01‖key)`, which Go's
    /// `note.NewVerifier` and every C2SP verifier accept.
    pub fn verifier_key(&self) -> String {
        signed_note::new_ed25519_verifier_key(&self.origin, &self.key.verifying_key())
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LogKey({}+{:08x}, secret redacted)",
            self.origin, self.key_id
        )
    }
}

impl signed_note::Signer for LogKey {
    fn name(&self) -> &str {
        &self.origin
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// Signed-note key ID: the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
fn note_key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut encoded = [0u8; 33];
    encoded[0] = 0x01;
    encoded[1..].copy_from_slice(key.as_bytes());
    signed_note::key_id(name, &encoded)
}

/// A key name per c2sp.org/signed-note: non-empty, no Unicode spaces, no `+`.
pub fn is_key_name_valid(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let k = SealKey::from_seed(&[7; 32]);
        let shown = format!("{k:?}");
        assert!(!shown.contains(&hex::encode([7u8; 32])));
        assert!(shown.contains("redacted"));
        let l = LogKey::from_seed("example.org/log", &[7; 32]).unwrap();
        assert!(format!("{l:?}").contains("redacted"));
    }

    #[test]
    fn rfc8032_test_1_public_key_and_signature() {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let k = SealKey::from_seed(&seed);
        assert_eq!(
            hex::encode(k.public().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = k.sign(b"");
        assert_eq!(
            hex::encode(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert!(k.public().verify(b"", &sig));
        assert!(!k.public().verify(b"x", &sig));
    }

    #[test]
    fn key_names_follow_signed_note() {
        assert!(LogKey::from_seed("a b", &[1; 32]).is_err());
        assert!(LogKey::from_seed("a+b", &[1; 32]).is_err());
        assert!(LogKey::from_seed("", &[1; 32]).is_err());
        let k = LogKey::from_seed("consentry.example/log", &[1; 32]).unwrap();
        let vkey = k.verifier_key();
        assert!(vkey.starts_with("consentry.example/log+"));
        // The standard verifier parses what we publish.
        signed_note::StandardVerifier::new(&vkey).unwrap();
    }
}
