//! Checkpoints: the C2SP `tlog-checkpoint` body inside a C2SP `signed-note`.
//!
//! A checkpoint is the log's signed statement "my tree of `size` leaves has root `root`".
//! The body (origin line, decimal size, base64 root, optional extension lines) is what
//! anchoring publishes on chain and what witnesses cosign; the signed note adds the log
//! key's signature and any witness cosignatures. Parsing and serialising go through
//! Cloudflare's `tlog_tiles` and `signed_note` crates so that we speak the exact format
//! Go's `golang.org/x/mod/sumdb/note` and other C2SP tools speak.

use crate::keys::LogKey;
use crate::merkle::Hash;

/// Why a checkpoint or signed note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Not a well-formed signed note (text, blank line, signature lines).
    #[error("not a well-formed signed note")]
    MalformedNote,
    /// The note's text is not a well-formed tlog-checkpoint body.
    #[error("not a well-formed tlog-checkpoint body")]
    MalformedCheckpoint,
    /// The log key given is not a valid signed-note verifier key.
    #[error("malformed log verifier key")]
    BadVerifierKey,
    /// No signature by the expected log key is on the note.
    #[error("the checkpoint carries no signature by log key {0}")]
    NotSignedByLogKey(String),
    /// A signature by the log key is there but does not verify.
    #[error("the checkpoint signature does not verify against log key {0}")]
    BadSignature(String),
    /// The checkpoint names a different log than the key.
    #[error("checkpoint origin {found:?} is not the log origin {expected:?}")]
    WrongOrigin {
        /// The origin line found.
        found: String,
        /// The origin of the log key.
        expected: String,
    },
}

/// A checkpoint body: the tree size and root of one log at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log origin, e.g. `consentry.example.org/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 9162 root of those leaves.
    pub root: Hash,
    /// Extension lines (each without its newline), usually none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The exact body text: `origin\nsize\nbase64(root)\n` then one line per extension.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a body text strictly (C2SP tlog-checkpoint).
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let parsed = tlog_tiles::Checkpoint::from_bytes(text.as_bytes())
            .map_err(|_| CheckpointError::MalformedCheckpoint)?;
        let extensions = parsed
            .extension()
            .split_terminator('\n')
            .map(str::to_owned)
            .collect();
        let cp = Checkpoint {
            origin: parsed.origin().to_owned(),
            size: parsed.size(),
            root: Hash(parsed.hash().0),
            extensions,
        };
        // Round-trip: only the canonical spelling is accepted.
        if cp.body() != text {
            return Err(CheckpointError::MalformedCheckpoint);
        }
        Ok(cp)
    }

    /// Signs the body with the log key, giving the signed-note text.
    pub fn sign(&self, key: &LogKey) -> Result<String, CheckpointError> {
        let mut note = signed_note::Note::new(self.body().as_bytes(), &[])
            .map_err(|_| CheckpointError::MalformedCheckpoint)?;
        note.add_sigs(&[key])
            .map_err(|_| CheckpointError::MalformedCheckpoint)?;
        String::from_utf8(note.to_bytes()).map_err(|_| CheckpointError::MalformedNote)
    }
}

/// A signed checkpoint whose log-key signature has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// The full signed-note text, as published.
    pub note: String,
    /// Names of the other signatures on the note (witness cosignatures) that were not
    /// checked because their keys were not given.
    pub other_signers: Vec<String>,
}

/// Parses a signed note without checking any signature, and returns its checkpoint body
/// and the signers' `name+hexid` labels. For reports and for finding the key to check with.
pub fn parse_signed_checkpoint(note: &str) -> Result<(Checkpoint, Vec<String>), CheckpointError> {
    let parsed = signed_note::Note::from_bytes(note.as_bytes())
        .map_err(|_| CheckpointError::MalformedNote)?;
    let text = std::str::from_utf8(parsed.text()).map_err(|_| CheckpointError::MalformedNote)?;
    let cp = Checkpoint::parse_body(text)?;
    let signers = signer_labels(note);
    Ok((cp, signers))
}

fn signer_labels(note: &str) -> Vec<String> {
    // signed_note does not expose a parsed note's signatures; its signature-line parser
    // does, so read the lines after the blank line with it.
    let Some((_, sigs)) = note.rsplit_once("\n\n") else {
        return Vec::new();
    };
    sigs.lines()
        .filter_map(|line| signed_note::Signature::from_bytes(line.as_bytes()).ok())
        .map(|s| format!("{}+{:08x}", s.name(), s.id()))
        .collect()
}

/// Checks that `vkey` is a well-formed Ed25519 signed-note verifier key and returns its
/// `name+hexid` label.
pub fn verifier_key_label(vkey: &str) -> Result<String, CheckpointError> {
    use signed_note::Verifier as _;
    let v =
        signed_note::StandardVerifier::new(vkey).map_err(|_| CheckpointError::BadVerifierKey)?;
    Ok(format!("{}+{:08x}", v.name(), v.key_id()))
}

/// Verifies a signed checkpoint against the log's verifier key
/// (`origin+hexid+base64(0x01‖key)`), and checks that the body names that log.
pub fn verify_signed_checkpoint(
    note: &str,
    log_verifier_key: &str,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let verifier = signed_note::StandardVerifier::new(log_verifier_key)
        .map_err(|_| CheckpointError::BadVerifierKey)?;
    let key_label = {
        use signed_note::Verifier as _;
        format!("{}+{:08x}", verifier.name(), verifier.key_id())
    };
    let expected_origin = {
        use signed_note::Verifier as _;
        verifier.name().to_owned()
    };
    let parsed = signed_note::Note::from_bytes(note.as_bytes())
        .map_err(|_| CheckpointError::MalformedNote)?;
    let text = std::str::from_utf8(parsed.text()).map_err(|_| CheckpointError::MalformedNote)?;
    let checkpoint = Checkpoint::parse_body(text)?;
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    let (_, unverified) = parsed.verify(&list).map_err(|e| match e {
        signed_note::NoteError::UnverifiedNote => {
            CheckpointError::NotSignedByLogKey(key_label.clone())
        }
        signed_note::NoteError::InvalidSignature { .. } => {
            CheckpointError::BadSignature(key_label.clone())
        }
        _ => CheckpointError::MalformedNote,
    })?;
    if checkpoint.origin != expected_origin {
        return Err(CheckpointError::WrongOrigin {
            found: checkpoint.origin,
            expected: expected_origin,
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note: note.to_owned(),
        other_signers: unverified
            .iter()
            .map(|s| format!("{}+{:08x}", s.name(), s.id()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn key() -> LogKey {
        LogKey::from_seed("consentry.example/log", &[3; 32]).unwrap()
    }

    fn cp() -> Checkpoint {
        Checkpoint {
            origin: "consentry.example/log".into(),
            size: 123,
            root: leaf_hash(b"x"),
            extensions: vec![],
        }
    }

    #[test]
    fn body_matches_tlog_checkpoint_layout() {
        let body = cp().body();
        let lines: Vec<&str> = body.split('\n').collect();
        assert_eq!(lines[0], "consentry.example/log");
        assert_eq!(lines[1], "123");
        assert_eq!(lines[2], leaf_hash(b"x").to_base64());
        assert_eq!(lines[3], "");
        assert_eq!(lines.len(), 4);
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp());
    }

    #[test]
    fn signed_checkpoint_round_trips_and_verifies() {
        let k = key();
        let note = cp().sign(&k).unwrap();
        assert!(note.starts_with(&cp().body()));
        assert!(note.contains("\n\n— consentry.example/log "));
        let v = verify_signed_checkpoint(&note, &k.verifier_key()).unwrap();
        assert_eq!(v.checkpoint, cp());
        let (parsed, signers) = parse_signed_checkpoint(&note).unwrap();
        assert_eq!(parsed, cp());
        assert_eq!(signers.len(), 1);
    }

    #[test]
    fn tampered_or_foreign_checkpoints_are_rejected() {
        let k = key();
        let note = cp().sign(&k).unwrap();
        let tampered = note.replacen("123", "124", 1);
        assert_eq!(
            verify_signed_checkpoint(&tampered, &k.verifier_key()),
            Err(CheckpointError::BadSignature(format!(
                "consentry.example/log+{}",
                k.verifier_key().split('+').nth(1).unwrap()
            )))
        );
        let other = LogKey::from_seed("consentry.example/log", &[4; 32]).unwrap();
        assert!(matches!(
            verify_signed_checkpoint(&note, &other.verifier_key()),
            Err(CheckpointError::NotSignedByLogKey(_))
        ));
        assert_eq!(
            verify_signed_checkpoint("not a note", &k.verifier_key()),
            Err(CheckpointError::MalformedNote)
        );
    }

    #[test]
    fn non_canonical_bodies_are_rejected() {
        let good = cp().body();
        for bad in [
            good.replace("123", "0123"),
            good.replace("123", "+123"),
            good.trim_end().to_owned(),
            format!("{good}\n"),
            good.replace("consentry.example/log", ""),
        ] {
            assert!(Checkpoint::parse_body(&bad).is_err(), "{bad:?}");
        }
    }
}
