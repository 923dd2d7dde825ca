//! The C2SP `tlog-proof@v1` text format: a checkpoint, a leaf index and its inclusion
//! path, so that generic transparency-log tooling can check a certificate's inclusion part.
//!
//! Layout (c2sp.org/tlog-proof), every line ending in U+000A:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the proof's RFC 8785 canonical bytes>
//! index <decimal, no leading zeroes>
//! <base64 hash>            (zero or more, the leaf's sibling first)
//!
//! <the signed checkpoint, verbatim>
//! ```
//!
//! Consentry always writes the `extra` line with the sealed proof's canonical bytes: they
//! are exactly the log entry, so the leaf hash is `SHA-256(0x00 ‖ extra)` and the file is
//! checkable on its own. As the spec says, `extra` is not trusted by itself: the seal and
//! the inclusion path are what make it evidence.

use crate::certificate::Certificate;
use crate::merkle::Hash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The first line of every tlog proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque extra data (for Consentry: the proof's canonical bytes).
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: u64,
    /// The inclusion path, leaf's sibling first.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint text, verbatim.
    pub checkpoint: String,
}

/// Why a text is not a tlog proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("tlog proof missing expected header")]
    MissingHeader,
    /// The `extra` line is not base64.
    #[error("tlog proof extra data not base64 encoded")]
    BadExtra,
    /// No `index` line where one must be.
    #[error("tlog proof missing required index")]
    MissingIndex,
    /// The index is not a decimal without leading zeroes.
    #[error("tlog proof index not a valid uint64")]
    BadIndex,
    /// A path line is not 32 bytes of base64.
    #[error("tlog proof hash is not 32 bytes of base64")]
    BadHash,
    /// The blank line before the checkpoint is missing, or nothing follows it.
    #[error("tlog proof missing the checkpoint after an empty line")]
    MissingCheckpoint,
    /// The certificate's proof could not be canonicalised.
    #[error("cannot canonicalise the certificate's proof")]
    Canonical,
}

impl TlogProof {
    /// The tlog proof of a certificate's inclusion part, with the proof's canonical bytes
    /// as `extra`.
    pub fn from_certificate(cert: &Certificate) -> Result<TlogProof, TlogProofError> {
        let extra = crate::canonical::to_canonical_bytes(&cert.proof)
            .map_err(|_| TlogProofError::Canonical)?;
        Ok(TlogProof {
            extra: Some(extra),
            index: cert.leaf_index,
            hashes: cert.inclusion_hashes().ok_or(TlogProofError::BadHash)?,
            checkpoint: cert.checkpoint.clone(),
        })
    }

    /// The text, byte for byte as the spec lays it out.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(64 + 45 * self.hashes.len() + self.checkpoint.len());
        s.push_str(HEADER);
        s.push('\n');
        if let Some(extra) = &self.extra {
            s.push_str("extra ");
            s.push_str(&BASE64.encode(extra));
            s.push('\n');
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses the text strictly: LF line ends, canonical decimal index, padded base64.
    pub fn parse(text: &str) -> Result<TlogProof, TlogProofError> {
        let rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or(TlogProofError::MissingHeader)?;
        let (mut line, mut rest) = rest.split_once('\n').ok_or(TlogProofError::MissingIndex)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(BASE64.decode(b64).map_err(|_| TlogProofError::BadExtra)?);
            (line, rest) = rest.split_once('\n').ok_or(TlogProofError::MissingIndex)?;
        }
        let digits = line
            .strip_prefix("index ")
            .ok_or(TlogProofError::MissingIndex)?;
        let index: u64 = digits.parse().map_err(|_| TlogProofError::BadIndex)?;
        if index.to_string() != digits {
            return Err(TlogProofError::BadIndex);
        }
        let mut hashes = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or(TlogProofError::MissingCheckpoint)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if hashes.len() >= 64 {
                return Err(TlogProofError::BadHash);
            }
            hashes.push(Hash::from_base64(line).ok_or(TlogProofError::BadHash)?);
        }
        if rest.is_empty() {
            return Err(TlogProofError::MissingCheckpoint);
        }
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: rest.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TlogProof {
        TlogProof {
            extra: Some(b"{\"a\":1}".to_vec()),
            index: 6,
            hashes: vec![Hash([1; 32]), Hash([2; 32])],
            checkpoint: "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— example.com/log abc=\n".into(),
        }
    }

    #[test]
    fn layout_is_the_spec_s() {
        let t = sample().to_text();
        let lines: Vec<&str> = t.split('\n').collect();
        assert_eq!(lines[0], "c2sp.org/tlog-proof@v1");
        assert_eq!(lines[1], "extra eyJhIjoxfQ==");
        assert_eq!(lines[2], "index 6");
        assert_eq!(lines[3], Hash([1; 32]).to_base64());
        assert_eq!(lines[5], "");
        assert_eq!(lines[6], "example.com/log");
        assert_eq!(TlogProof::parse(&t).unwrap(), sample());
        let mut no_extra = sample();
        no_extra.extra = None;
        assert_eq!(TlogProof::parse(&no_extra.to_text()).unwrap(), no_extra);
    }

    #[test]
    fn malformed_proofs_are_refused() {
        let t = sample().to_text();
        for (bad, err) in [
            (
                t.replacen("tlog-proof@v1", "tlog-proof@v2", 1),
                TlogProofError::MissingHeader,
            ),
            (
                t.replacen("index 6", "index 06", 1),
                TlogProofError::BadIndex,
            ),
            (
                t.replacen("index 6", "index -6", 1),
                TlogProofError::BadIndex,
            ),
            (
                t.replacen("index 6", "idx 6", 1),
                TlogProofError::MissingIndex,
            ),
            (
                t.replacen("extra eyJhIjoxfQ==", "extra !!", 1),
                TlogProofError::BadExtra,
            ),
            (
                t.replacen(&Hash([1; 32]).to_base64(), "AAAA", 1),
                TlogProofError::BadHash,
            ),
            (
                t[..t.find("\n\n").unwrap() + 2].to_owned(),
                TlogProofError::MissingCheckpoint,
            ),
            (t.replace('\n', "\r\n"), TlogProofError::MissingHeader),
            (String::new(), TlogProofError::MissingHeader),
        ] {
            assert_eq!(TlogProof::parse(&bad), Err(err), "{bad:?}");
        }
    }
}
