//! The C2SP `tlog-witness` v1.0.0 `add-checkpoint` request body, as text.
//!
//! A log asks a witness to cosign a checkpoint by sending `old <size>\n`, the lines of a
//! consistency proof from that size (one base64 hash each, at most 63), a blank line and
//! the signed checkpoint note. The witness parses it here (strictly: a malformed body is
//! a 400, decided before any key or state is looked at), and the log side builds it with
//! the same type, so both ends agree on the bytes.

use crate::merkle::Hash;

/// The most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// Why an `add-checkpoint` body was refused as malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not UTF-8.
    #[error("the body is not UTF-8")]
    NotUtf8,
    /// The first line is not `old <decimal size>` without leading zeroes.
    #[error("the first line is not \"old <size>\"")]
    BadOldSize,
    /// A proof line is not one base64 SHA-256 hash.
    #[error("proof line {0} is not a base64 hash")]
    BadProofLine(usize),
    /// More than 63 proof lines.
    #[error("more than {MAX_PROOF_LINES} proof lines")]
    TooManyProofLines,
    /// No blank line before the checkpoint.
    #[error("no blank line before the checkpoint")]
    NoCheckpoint,
}

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note (not yet parsed nor verified).
    pub note: String,
}

/// Parses an ASCII decimal with no leading zeroes (`0` itself allowed).
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl AddCheckpoint {
    /// Parses a request body strictly.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, RequestError> {
        let text = std::str::from_utf8(body).map_err(|_| RequestError::NotUtf8)?;
        let (first, mut rest) = text.split_once('\n').ok_or(RequestError::BadOldSize)?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(RequestError::BadOldSize)?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest.split_once('\n').ok_or(RequestError::NoCheckpoint)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(RequestError::TooManyProofLines);
            }
            let hash = Hash::from_base64(line)
                .filter(|h| h.to_base64() == line)
                .ok_or(RequestError::BadProofLine(proof.len() + 1))?;
            proof.push(hash);
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: rest.to_owned(),
        })
    }

    /// The request body.
    pub fn to_text(&self) -> String {
        let mut s = format!("old {}\n", self.old_size);
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.note);
        s
    }
}

/// Parses the body of a 409 answer (`text/x.tlog.size`): the witness's latest cosigned
/// size, in decimal, and a newline.
pub fn parse_size_body(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_decimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example request of c2sp.org/tlog-witness.
    const SPEC_EXAMPLE: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

    #[test]
    fn parses_the_spec_example_and_round_trips() {
        let r = AddCheckpoint::parse(SPEC_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(r.old_size, 20852014);
        assert_eq!(r.proof.len(), 4);
        assert!(
            r.note
                .starts_with("example.com/behind-the-sofa\n20852163\n")
        );
        assert_eq!(r.to_text(), SPEC_EXAMPLE);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let note = "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— o AAAA\n";
        let h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        for (body, want) in [
            (format!("old 01\n\n{note}"), RequestError::BadOldSize),
            (format!("old -1\n\n{note}"), RequestError::BadOldSize),
            (format!("old  1\n\n{note}"), RequestError::BadOldSize),
            (format!("new 1\n\n{note}"), RequestError::BadOldSize),
            ("old 1".to_owned(), RequestError::BadOldSize),
            (
                format!("old 1\n{h}\nnot base64\n\n{note}"),
                RequestError::BadProofLine(2),
            ),
            (
                format!("old 1\n{}\n\n{note}", &h[..20]),
                RequestError::BadProofLine(1),
            ),
            (format!("old 1\n{h}\n"), RequestError::NoCheckpoint),
            (
                format!("old 1\n{}\n{note}", format!("{h}\n").repeat(64)),
                RequestError::TooManyProofLines,
            ),
        ] {
            assert_eq!(AddCheckpoint::parse(body.as_bytes()), Err(want), "{body:?}");
        }
        assert_eq!(
            AddCheckpoint::parse(&[0xff, b'\n']),
            Err(RequestError::NotUtf8)
        );
        let ok = format!("old 0\n{}\n{note}", format!("{h}\n").repeat(63));
        assert_eq!(AddCheckpoint::parse(ok.as_bytes()).unwrap().proof.len(), 63);
    }

    #[test]
    fn size_bodies() {
        assert_eq!(parse_size_body("42\n"), Some(42));
        assert_eq!(parse_size_body("0\n"), Some(0));
        assert_eq!(parse_size_body("042\n"), None);
        assert_eq!(parse_size_body("42"), None);
    }
}
