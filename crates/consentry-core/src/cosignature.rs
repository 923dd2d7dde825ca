//! Witness cosignatures: C2SP `tlog-cosignature` v1, the Ed25519 `cosignature/v1` type.
//!
//! A cosignature is a witness's signed statement "as of time T, the largest consistent
//! tree I have seen for this log has this root". It travels as one more signed-note
//! signature line on the log's checkpoint, but what it signs is not the note text alone:
//! the message is `cosignature/v1\ntime <T>\n` followed by the checkpoint body, and the
//! signature bytes are the 8-byte big-endian timestamp followed by the Ed25519
//! signature. The key ID commits to the signature type byte `0x04` (not the `0x01` of
//! ordinary note keys), so a cosigner key can never be mistaken for a log key.
//!
//! The `signed_note` crate the project uses knows only `0x01` keys and signs the note
//! text itself, so the cosignature type is written here, on top of its signature-line
//! parser; [`CosignerVerifier`] also implements its [`signed_note::Verifier`] trait, so a
//! cosigner can sit in a `signed_note::VerifierList` beside log keys. Both halves live in
//! the core because the witness signs with them and a verifier (or the log, collecting
//! cosignatures) checks with them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use std::fmt;

/// The signature type byte of Ed25519 `cosignature/v1` keys (c2sp.org/tlog-cosignature).
pub const COSIGNATURE_V1_ED25519: u8 = 0x04;

/// The domain-separation header line of the signed message.
const HEADER: &str = "cosignature/v1\n";

/// The largest timestamp the format allows (2^63 − 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a cosigner key, cosignature line or cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The key name is empty, holds a space or a `+` (c2sp.org/signed-note).
    #[error("invalid cosigner key name {0:?}")]
    BadName(String),
    /// The text is not a `name+hexid+base64` verifier key.
    #[error("malformed cosigner verifier key")]
    MalformedVerifierKey,
    /// The verifier key is well formed but of another signature type than `0x04`.
    #[error("not an Ed25519 cosignature/v1 key (signature type 0x{0:02x}, expected 0x04)")]
    WrongKeyType(u8),
    /// The key ID in the verifier key is not the one its name and key give.
    #[error("cosigner key ID does not match its name and key")]
    WrongKeyId,
    /// The text is not a `PRIVATE+KEY+name+hexid+base64` signer key of type `0x04`.
    #[error("malformed cosigner signing key")]
    MalformedSigningKey,
    /// The line is not `— name base64(keyid ‖ timestamp ‖ signature)`.
    #[error("malformed cosignature line")]
    MalformedLine,
    /// The line names another key (name or key ID) than the one checked against.
    #[error("the cosignature is by {found}, not by {expected}")]
    OtherKey {
        /// `name+hexid` of the line.
        found: String,
        /// `name+hexid` of the key checked against.
        expected: String,
    },
    /// The timestamp is above 2^63 − 1.
    #[error("cosignature timestamp {0} is out of range")]
    TimestampOutOfRange(u64),
    /// The Ed25519 signature does not verify over the cosigned message.
    #[error("the cosignature by {0} does not verify")]
    BadSignature(String),
}

/// Key ID of an Ed25519 cosigner: `SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4]`.
pub fn cosigner_key_id(name: &str, key: &[u8; 32]) -> u32 {
    let mut encoded = [0u8; 33];
    encoded[0] = COSIGNATURE_V1_ED25519;
    encoded[1..].copy_from_slice(key);
    signed_note::key_id(name, &encoded)
}

/// The exact bytes an Ed25519 `cosignature/v1` signs: the header line, the timestamp
/// line, then the whole checkpoint body (its final newline included, no signature line).
pub fn cosigned_message(checkpoint_body: &str, timestamp: u64) -> String {
    format!("{HEADER}time {timestamp}\n{checkpoint_body}")
}

fn check_name(name: &str) -> Result<(), CosignatureError> {
    if signed_note::is_key_name_valid(name) {
        Ok(())
    } else {
        Err(CosignatureError::BadName(name.to_owned()))
    }
}

/// A witness's signing key. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct CosignerKey {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl CosignerKey {
    /// The key named `name` (the witness's schema-less URL, e.g. `witness.example.org`)
    /// whose Ed25519 secret is `seed`.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<CosignerKey, CosignatureError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let key_id = cosigner_key_id(name, key.verifying_key().as_bytes());
        Ok(CosignerKey {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// Reads a signer key, `PRIVATE+KEY+name+hexid+base64(0x04 ‖ seed)`: the signed-note
    /// private key encoding with the cosignature type byte.
    pub fn from_signer_key(text: &str) -> Result<CosignerKey, CosignatureError> {
        let bad = || CosignatureError::MalformedSigningKey;
        let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let (name, rest) = rest.split_once('+').ok_or_else(bad)?;
        let (id16, key64) = rest.split_once('+').ok_or_else(bad)?;
        let raw = B64.decode(key64).map_err(|_| bad())?;
        let (&alg, seed) = raw.split_first().ok_or_else(bad)?;
        if alg != COSIGNATURE_V1_ED25519 {
            return Err(CosignatureError::WrongKeyType(alg));
        }
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad())?;
        let key = CosignerKey::from_seed(name, &seed)?;
        if id16.len() != 8 || id16 != format!("{:08x}", key.key_id) {
            return Err(CosignatureError::WrongKeyId);
        }
        Ok(key)
    }

    /// The signer key text read by [`CosignerKey::from_signer_key`]. It holds the secret:
    /// write it only to a file only the witness reads.
    pub fn to_signer_key(&self) -> String {
        let mut raw = [0u8; 33];
        raw[0] = COSIGNATURE_V1_ED25519;
        raw[1..].copy_from_slice(self.key.as_bytes());
        let text = format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(raw)
        );
        zeroize::Zeroize::zeroize(&mut raw);
        text
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The public half.
    pub fn verifier(&self) -> CosignerVerifier {
        CosignerVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// The verifier key anyone checks this witness's cosignatures with:
    /// `name+hexid+base64(0x04 ‖ public key)`.
    pub fn verifier_key(&self) -> String {
        self.verifier().to_verifier_key()
    }

    /// Cosigns a checkpoint body at `timestamp` (Unix seconds) and returns the signature
    /// line, `— name base64(keyid ‖ timestamp ‖ signature)` with its newline.
    pub fn cosign(
        &self,
        checkpoint_body: &str,
        timestamp: u64,
    ) -> Result<String, CosignatureError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let sig = self
            .key
            .sign(cosigned_message(checkpoint_body, timestamp).as_bytes());
        let mut bytes = Vec::with_capacity(4 + 8 + 64);
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(format!("— {} {}\n", self.name, B64.encode(bytes)))
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CosignerKey({}+{:08x}, secret redacted)",
            self.name, self.key_id
        )
    }
}

/// A witness's public key, as a verifier configures it.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignerVerifier {
    name: String,
    key: VerifyingKey,
    key_id: u32,
}

impl CosignerVerifier {
    /// Parses a `name+hexid+base64(0x04 ‖ key)` verifier key strictly: lowercase
    /// eight-digit key ID, the `0x04` type, a 32-byte key, and the key ID it implies.
    pub fn parse(vkey: &str) -> Result<CosignerVerifier, CosignatureError> {
        let bad = || CosignatureError::MalformedVerifierKey;
        let (name, rest) = vkey.split_once('+').ok_or_else(bad)?;
        let (id16, key64) = rest.split_once('+').ok_or_else(bad)?;
        check_name(name)?;
        if id16.len() != 8 || !id16.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad());
        }
        let raw = B64.decode(key64).map_err(|_| bad())?;
        let (&alg, key) = raw.split_first().ok_or_else(bad)?;
        if alg != COSIGNATURE_V1_ED25519 {
            return Err(CosignatureError::WrongKeyType(alg));
        }
        let key: [u8; 32] = key.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad())?;
        let key_id = cosigner_key_id(name, key.as_bytes());
        if id16 != format!("{key_id:08x}") {
            return Err(CosignatureError::WrongKeyId);
        }
        Ok(CosignerVerifier {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// The verifier key text.
    pub fn to_verifier_key(&self) -> String {
        let mut raw = [0u8; 33];
        raw[0] = COSIGNATURE_V1_ED25519;
        raw[1..].copy_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// The key name (the witness's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw Ed25519 public key (for spotting one key under two names).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// `name+hexid`, as reports show a key.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.key_id)
    }

    /// Whether a parsed signature line names this key (its name and key ID).
    pub fn names(&self, sig: &signed_note::Signature) -> bool {
        sig.name() == self.name && sig.id() == self.key_id
    }

    /// Checks the signature bytes of a line naming this key (timestamp ‖ Ed25519
    /// signature) over `checkpoint_body`, and returns the timestamp.
    pub fn verify_signature(
        &self,
        checkpoint_body: &str,
        sig: &[u8],
    ) -> Result<u64, CosignatureError> {
        let (ts, ed) = sig
            .split_first_chunk::<8>()
            .ok_or(CosignatureError::MalformedLine)?;
        let ed: &[u8; 64] = ed.try_into().map_err(|_| CosignatureError::MalformedLine)?;
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let msg = cosigned_message(checkpoint_body, timestamp);
        self.key
            .verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(ed))
            .map_err(|_| CosignatureError::BadSignature(self.label()))?;
        Ok(timestamp)
    }

    /// Checks one cosignature line (with or without its newline) over `checkpoint_body`
    /// and returns its timestamp. A line by another key is [`CosignatureError::OtherKey`].
    pub fn verify_line(&self, checkpoint_body: &str, line: &str) -> Result<u64, CosignatureError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let sig = signed_note::Signature::from_bytes(line.as_bytes())
            .map_err(|_| CosignatureError::MalformedLine)?;
        if !self.names(&sig) {
            return Err(CosignatureError::OtherKey {
                found: format!("{}+{:08x}", sig.name(), sig.id()),
                expected: self.label(),
            });
        }
        self.verify_signature(checkpoint_body, sig.signature())
    }
}

impl fmt::Debug for CosignerVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_verifier_key())
    }
}

impl signed_note::Verifier for CosignerVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    /// `msg` is the note text, that is the checkpoint body.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        std::str::from_utf8(msg).is_ok_and(|body| self.verify_signature(body, sig).is_ok())
    }
}

/// The signature lines of a signed note (each without its newline), after the last
/// blank line. Empty if the text is not a signed note.
pub fn signature_lines(note: &str) -> Vec<&str> {
    note.rsplit_once("\n\n")
        .map(|(_, sigs)| sigs.lines().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    // Published vectors: FiloSottile/sunlight, cmd/skylight/testdata (generated by its
    // gen.go with Go's crypto/ed25519 and torchwood's cosigner): the key seed is
    // SHA-256("skylight test witness key"), the timestamp 1767139200.
    const SKYLIGHT_VKEY: &str =
        "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN";
    const SKYLIGHT_BODY: &str =
        "rome2026h1.example.org\n300\nlCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=\n";
    const SKYLIGHT_LINE: &str = "— witness.example.org uKLPIAAAAABpVGeAhm2bOvKc3LaB9PFN1ruG19Y5yqslmcAAbhftnn1Zznmo0LXFZq4LGvqKqLX8jWlwLKasxEGTLIqAVusneCBmBw==\n";
    const SKYLIGHT2_VKEY: &str =
        "witness2.example.org+2e55b896+BIZ7fpceQWd60IfqQeS9IAnmNOCZjMDne8lZuguz/bi9";
    const SKYLIGHT2_BODY: &str =
        "milan2026h1.example.org\n300\nlCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=\n";
    const SKYLIGHT2_LINE: &str = "— witness2.example.org LlW4lgAAAABpVGeAN/uFWqfjdU94rrKxFycCggM0Sa1L5tOJCJdYBwJ41CQsgKWA6B0+vywok3cPI3JIzuPeR+VotuYe/eNy0+30Dw==";
    const SKYLIGHT_TIME: u64 = 1_767_139_200;

    fn skylight_key(name: &str, seed: &str) -> CosignerKey {
        let seed: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
        CosignerKey::from_seed(name, &seed).unwrap()
    }

    #[test]
    fn published_vectors_verify() {
        let v = CosignerVerifier::parse(SKYLIGHT_VKEY).unwrap();
        assert_eq!(v.name(), "witness.example.org");
        assert_eq!(v.key_id(), 0xb8a2cf20);
        assert_eq!(v.to_verifier_key(), SKYLIGHT_VKEY);
        assert_eq!(
            v.verify_line(SKYLIGHT_BODY, SKYLIGHT_LINE),
            Ok(SKYLIGHT_TIME)
        );
        let v2 = CosignerVerifier::parse(SKYLIGHT2_VKEY).unwrap();
        assert_eq!(
            v2.verify_line(SKYLIGHT2_BODY, SKYLIGHT2_LINE),
            Ok(SKYLIGHT_TIME)
        );
    }

    #[test]
    fn signing_reproduces_published_vectors() {
        let k = skylight_key("witness.example.org", "skylight test witness key");
        assert_eq!(k.verifier_key(), SKYLIGHT_VKEY);
        assert_eq!(
            k.cosign(SKYLIGHT_BODY, SKYLIGHT_TIME).unwrap(),
            SKYLIGHT_LINE
        );
        let k2 = skylight_key("witness2.example.org", "skylight test witness2 key");
        assert_eq!(k2.verifier_key(), SKYLIGHT2_VKEY);
        assert_eq!(
            k2.cosign(SKYLIGHT2_BODY, SKYLIGHT_TIME).unwrap(),
            format!("{SKYLIGHT2_LINE}\n")
        );
    }

    #[test]
    fn signed_message_layout_follows_the_spec_example() {
        // c2sp.org/tlog-cosignature, "Ed25519 signed message".
        assert_eq!(
            cosigned_message(
                "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                1679315147
            ),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn tampered_cosignatures_are_rejected() {
        let v = CosignerVerifier::parse(SKYLIGHT_VKEY).unwrap();
        // Another body (size, root, origin), another timestamp, a flipped signature bit.
        for body in [
            SKYLIGHT_BODY.replace("300", "301"),
            SKYLIGHT_BODY.replace("rome", "milan"),
            SKYLIGHT_BODY.replace("lCkH", "lCkI"),
            format!("{SKYLIGHT_BODY}extension\n"),
        ] {
            assert!(matches!(
                v.verify_line(&body, SKYLIGHT_LINE),
                Err(CosignatureError::BadSignature(_))
            ));
        }
        let line = SKYLIGHT_LINE.trim_end();
        let (head, b64) = line.rsplit_once(' ').unwrap();
        let raw = B64.decode(b64).unwrap();
        for i in [4, 11, 12, 50, 75] {
            let mut bad = raw.clone();
            bad[i] ^= 1;
            let bad_line = format!("{head} {}", B64.encode(&bad));
            assert!(
                matches!(
                    v.verify_line(SKYLIGHT_BODY, &bad_line),
                    Err(CosignatureError::BadSignature(_)
                        | CosignatureError::TimestampOutOfRange(_))
                ),
                "byte {i}"
            );
        }
        // A line by another key, and a truncated one.
        assert!(matches!(
            v.verify_line(SKYLIGHT2_BODY, SKYLIGHT2_LINE),
            Err(CosignatureError::OtherKey { .. })
        ));
        let short = format!("{head} {}", B64.encode(&raw[..40]));
        assert_eq!(
            v.verify_line(SKYLIGHT_BODY, &short),
            Err(CosignatureError::MalformedLine)
        );
        assert_eq!(
            v.verify_line(SKYLIGHT_BODY, "witness.example.org abc"),
            Err(CosignatureError::MalformedLine)
        );
    }

    #[test]
    fn verifier_keys_are_parsed_strictly() {
        // A log key (type 0x01) is not a cosigner key.
        let log = crate::keys::LogKey::from_seed("example.org/log", &[1; 32]).unwrap();
        assert_eq!(
            CosignerVerifier::parse(&log.verifier_key()),
            Err(CosignatureError::WrongKeyType(0x01))
        );
        assert_eq!(
            CosignerVerifier::parse(&SKYLIGHT_VKEY.replace("b8a2cf20", "b8a2cf21")),
            Err(CosignatureError::WrongKeyId)
        );
        assert_eq!(
            CosignerVerifier::parse(&SKYLIGHT_VKEY.replace("b8a2cf20", "B8A2CF20")),
            Err(CosignatureError::MalformedVerifierKey)
        );
        assert_eq!(
            CosignerVerifier::parse(&SKYLIGHT_VKEY.replace("witness.example.org", "other.example")),
            Err(CosignatureError::WrongKeyId)
        );
        for bad in ["", "witness", "witness+b8a2cf20", "witness+b8a2cf20+!!"] {
            assert!(CosignerVerifier::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signer_keys_round_trip_and_debug_is_redacted() {
        let k = CosignerKey::from_seed("w.example", &[9; 32]).unwrap();
        let text = k.to_signer_key();
        let back = CosignerKey::from_signer_key(&text).unwrap();
        assert_eq!(back.verifier_key(), k.verifier_key());
        assert!(!format!("{k:?}").contains(&text[text.len() - 20..]));
        assert!(format!("{k:?}").contains("redacted"));
        assert_eq!(
            CosignerKey::from_signer_key(&text.replace("w.example", "x.example")).unwrap_err(),
            CosignatureError::WrongKeyId
        );
        assert!(CosignerKey::from_seed("a b", &[9; 32]).is_err());
        assert_eq!(
            k.cosign("x\n1\nAA==\n", MAX_TIMESTAMP + 1).map(|_| ()),
            Err(CosignatureError::TimestampOutOfRange(MAX_TIMESTAMP + 1))
        );
    }

    #[test]
    fn works_as_a_signed_note_verifier() {
        let note = format!("{SKYLIGHT_BODY}\n{SKYLIGHT_LINE}");
        let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
        let v = CosignerVerifier::parse(SKYLIGHT_VKEY).unwrap();
        let list = signed_note::VerifierList::new(vec![Box::new(v)]);
        let (ok, other) = parsed.verify(&list).unwrap();
        assert_eq!(ok.len(), 1);
        assert!(other.is_empty());
        assert_eq!(signature_lines(&note), vec![SKYLIGHT_LINE.trim_end()]);
    }
}
