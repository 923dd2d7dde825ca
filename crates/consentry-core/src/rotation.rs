//! Key rotation statements: `consentry.key-rotation/v1`.
//!
//! An operator's `/.well-known/consentry.json` is not signed, so a verifier that pinned an
//! operator's keys cannot take a new key from it on its word. When a seal or log key is
//! rotated, the **old** key signs a statement naming the new one; the operator publishes
//! the statements beside its keys, and a verifier accepts a new key only through a chain
//! of statements from a key it already pinned.
//!
//! ```json
//! {"type":"consentry.key-rotation/v1","log":"<origin>","role":"seal"|"log",
//!  "old":"<key>","new":"<key>","at":"<RFC 3339>","signature":"<base64>"}
//! ```
//!
//! Seal keys are written as the standard base64 of the 32-byte Ed25519 key; log keys as
//! signed-note verifier keys (`origin+hexid+base64`). `signature` is Ed25519 by the old
//! key over the RFC 8785 canonical bytes of the statement without `signature`.

use crate::canonical::{CanonicalError, to_canonical_bytes};
use crate::keys::{LogKey, SealKey, SealPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

/// The statement's `type`.
pub const ROTATION_TYPE: &str = "consentry.key-rotation/v1";

/// Which key a statement rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// The seal key (proofs and events).
    Seal,
    /// The log key (checkpoints).
    Log,
}

/// A signed statement that `old` hands over to `new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationStatement {
    /// [`ROTATION_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The log origin.
    pub log: String,
    /// Which key.
    pub role: KeyRole,
    /// The key handing over (it signs).
    pub old: String,
    /// The key taking over.
    pub new: String,
    /// When, RFC 3339 (information: the statement is valid whenever it verifies).
    pub at: String,
    /// Ed25519 by `old` over JCS of every other member, standard base64.
    #[serde(default)]
    pub signature: String,
}

/// Why a statement is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// Not a `consentry.key-rotation/v1`.
    #[error("not a {ROTATION_TYPE} statement")]
    Type,
    /// A key of the statement is malformed, or a log key names another log.
    #[error("malformed key: {0}")]
    Key(String),
    /// The signature does not verify under `old`.
    #[error("the signature does not verify under the old key")]
    Signature,
    /// The statement cannot be made canonical.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    /// The statement cannot be encoded or signed.
    #[error("cannot encode or sign the statement: {0}")]
    Encode(String),
}

impl RotationStatement {
    fn message(&self) -> Result<Vec<u8>, RotationError> {
        let mut value =
            serde_json::to_value(self).map_err(|e| RotationError::Encode(e.to_string()))?;
        if let Some(obj) = value.as_object_mut() {
            obj.remove("signature");
        }
        Ok(to_canonical_bytes(&value)?)
    }

    /// The statement that the seal key `old` hands over to `new`, signed by `old`.
    pub fn seal(
        origin: &str,
        old: &SealKey,
        new: SealPublicKey,
        at: &str,
    ) -> Result<RotationStatement, RotationError> {
        let mut s = RotationStatement {
            kind: ROTATION_TYPE.to_owned(),
            log: origin.to_owned(),
            role: KeyRole::Seal,
            old: old.public().to_base64(),
            new: new.to_base64(),
            at: at.to_owned(),
            signature: String::new(),
        };
        s.signature = BASE64.encode(old.sign(&s.message()?));
        Ok(s)
    }

    /// The statement that the log key `old` hands over to the verifier key `new`, signed
    /// by `old`.
    pub fn log(old: &LogKey, new: &str, at: &str) -> Result<RotationStatement, RotationError> {
        use signed_note::Signer as _;
        let mut s = RotationStatement {
            kind: ROTATION_TYPE.to_owned(),
            log: old.origin().to_owned(),
            role: KeyRole::Log,
            old: old.verifier_key(),
            new: new.to_owned(),
            at: at.to_owned(),
            signature: String::new(),
        };
        let sig = old
            .sign(&s.message()?)
            .map_err(|e| RotationError::Encode(e.to_string()))?;
        s.signature = BASE64.encode(sig);
        Ok(s)
    }

    /// Checks the statement: its type, its keys (a log key must name the statement's
    /// log), and the old key's signature.
    pub fn verify(&self) -> Result<(), RotationError> {
        if self.kind != ROTATION_TYPE {
            return Err(RotationError::Type);
        }
        let sig = BASE64
            .decode(&self.signature)
            .map_err(|_| RotationError::Signature)?;
        let msg = self.message()?;
        let ok = match self.role {
            KeyRole::Seal => {
                let old = SealPublicKey::from_base64(&self.old)
                    .map_err(|e| RotationError::Key(e.to_string()))?;
                SealPublicKey::from_base64(&self.new)
                    .map_err(|e| RotationError::Key(e.to_string()))?;
                old.verify(&msg, &sig)
            }
            KeyRole::Log => {
                use signed_note::Verifier as _;
                for k in [&self.old, &self.new] {
                    let label = crate::checkpoint::verifier_key_label(k)
                        .map_err(|e| RotationError::Key(e.to_string()))?;
                    if label.split('+').next() != Some(self.log.as_str()) {
                        return Err(RotationError::Key(format!(
                            "{k} is not a key of log {}",
                            self.log
                        )));
                    }
                }
                let v = signed_note::StandardVerifier::new(&self.old)
                    .map_err(|_| RotationError::Key(self.old.clone()))?;
                v.verify(&msg, &sig)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(RotationError::Signature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_log_statements_verify_and_tampering_breaks_them() {
        let old = SealKey::from_seed(&[1; 32]);
        let new = SealKey::from_seed(&[2; 32]).public();
        let s =
            RotationStatement::seal("example.org/log", &old, new, "2026-12-07T00:00:00Z").unwrap();
        s.verify().unwrap();
        let mut forged = s.clone();
        forged.new = SealKey::from_seed(&[3; 32]).public().to_base64();
        assert_eq!(forged.verify(), Err(RotationError::Signature));
        // Signed by the new key instead of the old one: refused.
        let mut self_signed = s.clone();
        self_signed.old = new.to_base64();
        assert_eq!(self_signed.verify(), Err(RotationError::Signature));

        let old_log = LogKey::from_seed("example.org/log", &[4; 32]).unwrap();
        let new_log = LogKey::from_seed("example.org/log", &[5; 32]).unwrap();
        let l = RotationStatement::log(&old_log, &new_log.verifier_key(), "2026-12-07T00:00:00Z")
            .unwrap();
        l.verify().unwrap();
        let other = LogKey::from_seed("other.org/log", &[6; 32]).unwrap();
        let mut moved = l.clone();
        moved.new = other.verifier_key();
        assert!(matches!(moved.verify(), Err(RotationError::Key(_))));
        let mut wrong_type = l;
        wrong_type.kind = "x".into();
        assert_eq!(wrong_type.verify(), Err(RotationError::Type));
        // Round trip through JSON.
        let text = serde_json::to_string(&s).unwrap();
        let back: RotationStatement = serde_json::from_str(&text).unwrap();
        back.verify().unwrap();
    }
}
