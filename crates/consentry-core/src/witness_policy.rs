//! The witness policy a verifier chooses: C2SP `tlog-policy`.
//!
//! A checkpoint alone only says what the log claims; a log could show one tree to one
//! verifier and another tree to another (a split view). Witnesses cosign only trees
//! consistent with what they cosigned before, so a verifier that requires enough
//! independent witnesses' cosignatures knows it sees the tree everyone else sees. *Which*
//! witnesses, and how many, is the verifier's choice, written as a policy file in the
//! C2SP `tlog-policy` format (the format sigsum and other tools read), for example:
//!
//! ```text
//! log consentry.example.org/log+1a2b3c4d+AR…   # optional: the logs accepted
//! witness alpha alpha.example+5e6f7a8b+BA…  https://alpha.example/witness
//! witness beta  beta.example+9c0d1e2f+BA…
//! witness gamma gamma.example+3a4b5c6d+BA…
//! group two-of-three 2 alpha beta gamma
//! quorum two-of-three
//! ```
//!
//! Parsing is strict: any line that is not one of `log`, `witness`, `group` or `quorum`
//! (after comments and blank lines) is refused with its line number, as are unknown or
//! repeated names, duplicate keys, thresholds out of range and a missing or second quorum.
//! Witness keys must be Ed25519 `cosignature/v1` verifier keys (type `0x04`), log keys
//! ordinary signed-note Ed25519 keys (type `0x01`). The file is read as UTF-8 (names are
//! compared byte for byte, as the format asks).

use crate::checkpoint::{
    Checkpoint, CheckpointError, parse_signed_checkpoint, verify_signed_checkpoint,
};
use crate::cosignature::{CosignatureError, CosignerVerifier, signature_lines};
use base64::Engine as _;

/// A parse error of one line of a policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// A control character other than tab and newline.
    #[error("forbidden control character 0x{0:02x}")]
    ForbiddenCharacter(u8),
    /// The first word is not `log`, `witness`, `group` or `quorum`.
    #[error("unknown keyword {0:?} (expected log, witness, group or quorum)")]
    UnknownKeyword(String),
    /// Too few or too many words for the keyword.
    #[error("wrong number of fields for {keyword}: expected {expected}")]
    Fields {
        /// The line's keyword.
        keyword: &'static str,
        /// What the line should hold.
        expected: &'static str,
    },
    /// The log key is not an Ed25519 signed-note verifier key.
    #[error("bad log verifier key: {0}")]
    BadLogKey(CheckpointError),
    /// The witness key is not an Ed25519 cosignature/v1 verifier key.
    #[error("bad witness verifier key: {0}")]
    BadWitnessKey(CosignatureError),
    /// The same public key is listed twice.
    #[error("duplicate key: the same public key as {0}")]
    DuplicateKey(String),
    /// A witness or group name is already defined.
    #[error("name {0:?} is already defined")]
    DuplicateName(String),
    /// `none` is predefined and can name no witness or group.
    #[error("the name \"none\" is reserved")]
    ReservedName,
    /// A group or the quorum names something not defined on an earlier line.
    #[error("name {0:?} is not defined on an earlier line")]
    UnknownName(String),
    /// A group lists the same member twice, or lists `none`.
    #[error("group member {0:?} is listed twice or cannot be a member")]
    BadMember(String),
    /// The threshold is not `all`, `any` or a decimal k with 1 ≤ k ≤ members.
    #[error("threshold {threshold:?} is not all, any or a number from 1 to {members}")]
    BadThreshold {
        /// The threshold as written.
        threshold: String,
        /// The number of members.
        members: usize,
    },
    /// A second quorum line.
    #[error("a second quorum line")]
    SecondQuorum,
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A line is malformed.
    #[error("policy line {line}: {error}")]
    Line {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        error: LineError,
    },
    /// No quorum line: the format requires exactly one.
    #[error("the policy has no quorum line")]
    NoQuorum,
}

/// Why a checkpoint could not be checked against a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyCheckError {
    /// The note is not a signed checkpoint.
    #[error("{0}")]
    Checkpoint(CheckpointError),
    /// The policy lists logs and none of them signed the checkpoint (validly).
    #[error("the checkpoint is not validly signed by any log of the policy")]
    NotSignedByPolicyLog,
    /// The cosignatures do not meet the quorum.
    #[error("quorum not met: cosigned by {}, missing {}", names(&.0.cosigned.iter().map(|c| c.witness.clone()).collect::<Vec<_>>()), names(&.0.missing))]
    QuorumNotMet(Box<QuorumReport>),
}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// A log the policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    /// The verifier key (`origin+hexid+base64`), checked.
    pub verifier_key: String,
    /// The origin the key names.
    pub origin: String,
    /// The optional URL.
    pub url: Option<String>,
}

/// A witness the policy names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The name used in the policy (not necessarily the key name).
    pub name: String,
    /// Its cosigner key.
    pub key: CosignerVerifier,
    /// The optional URL (its submission prefix).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed, checked witness policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` is `quorum none`.
    quorum: Option<Member>,
}

/// One witness's valid cosignature on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's name in the policy.
    pub witness: String,
    /// The cosignature's timestamp (Unix seconds).
    pub timestamp: u64,
}

/// What a policy check found on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumReport {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// `name+hexid` of the policy log key that verified the checkpoint; `None` when the
    /// policy lists no logs (the caller checks the log signature itself).
    pub log: Option<String>,
    /// Witnesses with a valid cosignature, in policy order.
    pub cosigned: Vec<Cosigned>,
    /// Witnesses with a line naming their key that does not verify.
    pub invalid: Vec<String>,
    /// Witnesses with no line naming their key.
    pub missing: Vec<String>,
    /// Whether the cosigned witnesses meet the quorum.
    pub quorum_met: bool,
}

impl Policy {
    /// Parses a policy file strictly (see the module documentation).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let at = |error| PolicyError::Line { line, error };
            if let Some(b) = raw.bytes().find(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(at(LineError::ForbiddenCharacter(b)));
            }
            let trimmed = raw.trim_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = trimmed
                .split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .collect();
            match words.as_slice() {
                ["log", rest @ ..] => p.add_log(rest).map_err(at)?,
                ["witness", rest @ ..] => p.add_witness(rest).map_err(at)?,
                ["group", rest @ ..] => p.add_group(rest).map_err(at)?,
                ["quorum", rest @ ..] => {
                    if quorum_seen {
                        return Err(at(LineError::SecondQuorum));
                    }
                    let [name] = rest else {
                        return Err(at(LineError::Fields {
                            keyword: "quorum",
                            expected: "quorum <name>",
                        }));
                    };
                    p.quorum = if *name == "none" {
                        None
                    } else {
                        Some(
                            p.lookup(name)
                                .ok_or_else(|| at(LineError::UnknownName((*name).into())))?,
                        )
                    };
                    quorum_seen = true;
                }
                [other, ..] => return Err(at(LineError::UnknownKeyword((*other).into()))),
                [] => {}
            }
        }
        if !quorum_seen {
            return Err(PolicyError::NoQuorum);
        }
        Ok(p)
    }

    fn lookup(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    fn new_name(&self, name: &str) -> Result<(), LineError> {
        if name == "none" {
            Err(LineError::ReservedName)
        } else if self.lookup(name).is_some() {
            Err(LineError::DuplicateName(name.into()))
        } else {
            Ok(())
        }
    }

    fn add_log(&mut self, rest: &[&str]) -> Result<(), LineError> {
        let (vkey, url) = match rest {
            [vkey] => (*vkey, None),
            [vkey, url] => (*vkey, Some((*url).to_owned())),
            _ => {
                return Err(LineError::Fields {
                    keyword: "log",
                    expected: "log <vkey> [<url>]",
                });
            }
        };
        let label = crate::checkpoint::verifier_key_label(vkey).map_err(LineError::BadLogKey)?;
        let key = raw_key(vkey);
        if let Some(dup) = self.logs.iter().find(|l| raw_key(&l.verifier_key) == key) {
            return Err(LineError::DuplicateKey(dup.verifier_key.clone()));
        }
        let origin = label
            .rsplit_once('+')
            .map_or(label.as_str(), |(o, _)| o)
            .to_owned();
        self.logs.push(PolicyLog {
            verifier_key: vkey.to_owned(),
            origin,
            url,
        });
        Ok(())
    }

    fn add_witness(&mut self, rest: &[&str]) -> Result<(), LineError> {
        let (name, vkey, url) = match rest {
            [name, vkey] => (*name, *vkey, None),
            [name, vkey, url] => (*name, *vkey, Some((*url).to_owned())),
            _ => {
                return Err(LineError::Fields {
                    keyword: "witness",
                    expected: "witness <name> <vkey> [<url>]",
                });
            }
        };
        self.new_name(name)?;
        let key = CosignerVerifier::parse(vkey).map_err(LineError::BadWitnessKey)?;
        if let Some(dup) = self
            .witnesses
            .iter()
            .find(|w| w.key.public_key() == key.public_key())
        {
            return Err(LineError::DuplicateKey(dup.name.clone()));
        }
        self.witnesses.push(PolicyWitness {
            name: name.to_owned(),
            key,
            url,
        });
        Ok(())
    }

    fn add_group(&mut self, rest: &[&str]) -> Result<(), LineError> {
        let [name, threshold, members @ ..] = rest else {
            return Err(LineError::Fields {
                keyword: "group",
                expected: "group <name> <all|any|k> <name>...",
            });
        };
        if members.is_empty() {
            return Err(LineError::Fields {
                keyword: "group",
                expected: "group <name> <all|any|k> <name>... (at least one member)",
            });
        }
        self.new_name(name)?;
        let mut list = Vec::with_capacity(members.len());
        for m in members.iter() {
            let member = if *m == "none" {
                return Err(LineError::BadMember((*m).into()));
            } else {
                self.lookup(m)
                    .ok_or_else(|| LineError::UnknownName((*m).into()))?
            };
            if list.contains(&member) {
                return Err(LineError::BadMember((*m).into()));
            }
            list.push(member);
        }
        let n = list.len();
        let k = match *threshold {
            "all" => n,
            "any" => 1,
            t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0') => t
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=n).contains(k))
                .ok_or_else(|| LineError::BadThreshold {
                    threshold: t.into(),
                    members: n,
                })?,
            t => {
                return Err(LineError::BadThreshold {
                    threshold: t.into(),
                    members: n,
                });
            }
        };
        self.groups.push(Group {
            name: (*name).to_owned(),
            threshold: k,
            members: list,
        });
        Ok(())
    }

    /// The logs the policy accepts (empty: the caller knows the log from elsewhere).
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The witnesses the policy names.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// Checks a signed checkpoint against the policy and reports which witnesses cosigned
    /// it, whether or not the quorum is met. When the policy lists logs, the checkpoint
    /// must be validly signed by one of them.
    pub fn check(&self, note: &str) -> Result<QuorumReport, PolicyCheckError> {
        let (checkpoint, _) =
            parse_signed_checkpoint(note).map_err(PolicyCheckError::Checkpoint)?;
        let log = if self.logs.is_empty() {
            None
        } else {
            let verified = self
                .logs
                .iter()
                .filter(|l| l.origin == checkpoint.origin)
                .find(|l| verify_signed_checkpoint(note, &l.verifier_key).is_ok());
            let log = verified.ok_or(PolicyCheckError::NotSignedByPolicyLog)?;
            crate::checkpoint::verifier_key_label(&log.verifier_key).ok()
        };
        let body = checkpoint.body();
        let lines: Vec<signed_note::Signature> = signature_lines(note)
            .into_iter()
            .filter_map(|l| signed_note::Signature::from_bytes(l.as_bytes()).ok())
            .collect();
        let mut cosigned = Vec::new();
        let mut invalid = Vec::new();
        let mut missing = Vec::new();
        let mut ok = vec![false; self.witnesses.len()];
        for (i, w) in self.witnesses.iter().enumerate() {
            let mine: Vec<&signed_note::Signature> =
                lines.iter().filter(|s| w.key.names(s)).collect();
            if mine.is_empty() {
                missing.push(w.name.clone());
                continue;
            }
            match mine
                .iter()
                .find_map(|s| w.key.verify_signature(&body, s.signature()).ok())
            {
                Some(timestamp) => {
                    ok[i] = true;
                    cosigned.push(Cosigned {
                        witness: w.name.clone(),
                        timestamp,
                    });
                }
                None => invalid.push(w.name.clone()),
            }
        }
        let mut group_ok = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let count = g
                .members
                .iter()
                .filter(|m| match m {
                    Member::Witness(i) => ok[*i],
                    Member::Group(j) => group_ok.get(*j).copied().unwrap_or(false),
                })
                .count();
            group_ok.push(count >= g.threshold);
        }
        let quorum_met = match self.quorum {
            None => true,
            Some(Member::Witness(i)) => ok[i],
            Some(Member::Group(j)) => group_ok.get(j).copied().unwrap_or(false),
        };
        Ok(QuorumReport {
            checkpoint,
            log,
            cosigned,
            invalid,
            missing,
            quorum_met,
        })
    }

    /// Like [`Policy::check`], but a checkpoint whose cosignatures do not meet the quorum
    /// is an error carrying the report.
    pub fn require(&self, note: &str) -> Result<QuorumReport, PolicyCheckError> {
        let report = self.check(note)?;
        if report.quorum_met {
            Ok(report)
        } else {
            Err(PolicyCheckError::QuorumNotMet(Box::new(report)))
        }
    }
}

/// The decoded key material of a verifier key (after `name+hexid+`), for spotting one
/// public key listed under two names.
fn raw_key(vkey: &str) -> Option<Vec<u8>> {
    let key64 = vkey.splitn(3, '+').nth(2)?;
    base64::engine::general_purpose::STANDARD.decode(key64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::CosignerKey;
    use crate::keys::LogKey;
    use crate::merkle::leaf_hash;

    fn log() -> LogKey {
        LogKey::from_seed("consentry.example/log", &[1; 32]).unwrap()
    }

    fn witness(i: u8) -> CosignerKey {
        CosignerKey::from_seed(&format!("w{i}.example"), &[10 + i; 32]).unwrap()
    }

    fn policy_text(quorum_lines: &str) -> String {
        format!(
            "# test policy\nlog {}\n\nwitness a {} https://w1.example/\n  witness b\t{}\nwitness c {}\n{quorum_lines}\n",
            log().verifier_key(),
            witness(1).verifier_key(),
            witness(2).verifier_key(),
            witness(3).verifier_key(),
        )
    }

    fn note_cosigned_by(ws: &[u8]) -> String {
        let cp = Checkpoint {
            origin: "consentry.example/log".into(),
            size: 7,
            root: leaf_hash(b"r"),
            extensions: vec![],
        };
        let mut note = cp.sign(&log()).unwrap();
        for &w in ws {
            note.push_str(
                &witness(w)
                    .cosign(&cp.body(), 1_700_000_000 + u64::from(w))
                    .unwrap(),
            );
        }
        note
    }

    #[test]
    fn two_of_three_quorum() {
        let p = Policy::parse(&policy_text("group g 2 a b c\nquorum g")).unwrap();
        assert_eq!(p.witnesses().len(), 3);
        assert_eq!(p.witnesses()[0].url.as_deref(), Some("https://w1.example/"));
        let r = p.require(&note_cosigned_by(&[1, 3])).unwrap();
        assert_eq!(
            r.cosigned,
            vec![
                Cosigned {
                    witness: "a".into(),
                    timestamp: 1_700_000_001
                },
                Cosigned {
                    witness: "c".into(),
                    timestamp: 1_700_000_003
                },
            ]
        );
        assert_eq!(r.missing, vec!["b".to_owned()]);
        assert!(r.log.unwrap().starts_with("consentry.example/log+"));
        let one = p.check(&note_cosigned_by(&[2])).unwrap();
        assert!(!one.quorum_met);
        assert!(matches!(
            p.require(&note_cosigned_by(&[2])),
            Err(PolicyCheckError::QuorumNotMet(_))
        ));
    }

    #[test]
    fn a_tampered_cosignature_does_not_count() {
        let p = Policy::parse(&policy_text("group g 2 a b c\nquorum g")).unwrap();
        let note = note_cosigned_by(&[1, 2]);
        // Re-sign witness 2's line over another body: the line names b but does not verify.
        let other = Checkpoint::parse_body(
            "consentry.example/log\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        )
        .unwrap();
        let forged = witness(2).cosign(&other.body(), 5).unwrap();
        let lines: Vec<&str> = note.lines().collect();
        let tampered = format!("{}\n{forged}", lines[..lines.len() - 1].join("\n"));
        let r = p.check(&tampered).unwrap();
        assert_eq!(r.invalid, vec!["b".to_owned()]);
        assert!(!r.quorum_met);
    }

    #[test]
    fn nested_groups_and_none() {
        let p = Policy::parse(&policy_text(
            "group ab any a b\ngroup all2 all ab c\nquorum all2",
        ))
        .unwrap();
        assert!(p.check(&note_cosigned_by(&[2, 3])).unwrap().quorum_met);
        assert!(!p.check(&note_cosigned_by(&[1, 2])).unwrap().quorum_met);
        let none = Policy::parse(&policy_text("quorum none")).unwrap();
        assert!(none.check(&note_cosigned_by(&[])).unwrap().quorum_met);
        let single = Policy::parse(&policy_text("quorum b")).unwrap();
        assert!(single.check(&note_cosigned_by(&[2])).unwrap().quorum_met);
        assert!(!single.check(&note_cosigned_by(&[1, 3])).unwrap().quorum_met);
    }

    #[test]
    fn the_log_must_be_one_of_the_policy() {
        let p = Policy::parse(&policy_text("quorum a")).unwrap();
        let cp = Checkpoint {
            origin: "consentry.example/log".into(),
            size: 7,
            root: leaf_hash(b"r"),
            extensions: vec![],
        };
        let other = LogKey::from_seed("consentry.example/log", &[2; 32]).unwrap();
        let mut note = cp.sign(&other).unwrap();
        note.push_str(&witness(1).cosign(&cp.body(), 1).unwrap());
        assert_eq!(p.check(&note), Err(PolicyCheckError::NotSignedByPolicyLog));
        // Without log lines, the caller checks the log: the cosignatures are still counted.
        let text = policy_text("quorum a");
        let no_logs: String = text
            .lines()
            .filter(|l| !l.starts_with("log "))
            .map(|l| format!("{l}\n"))
            .collect();
        let r = Policy::parse(&no_logs).unwrap().require(&note).unwrap();
        assert_eq!(r.log, None);
    }

    #[test]
    fn the_documented_example_parses() {
        let p = Policy::parse(include_str!("../../../docs/examples/witness-policy.txt")).unwrap();
        assert_eq!(p.logs().len(), 1);
        assert_eq!(p.logs()[0].origin, "consentry.example/log");
        let names: Vec<&str> = p.witnesses().iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta", "gamma"]);
    }

    fn err_of(text: &str) -> PolicyError {
        Policy::parse(text).unwrap_err()
    }

    #[test]
    fn parse_errors_name_their_line() {
        let w1 = witness(1).verifier_key();
        let w2 = witness(2).verifier_key();
        let cases: Vec<(String, PolicyError)> = vec![
            (
                "quorum none\nquorum none\n".into(),
                PolicyError::Line {
                    line: 2,
                    error: LineError::SecondQuorum,
                },
            ),
            ("# only comments\n".into(), PolicyError::NoQuorum),
            (
                "frobnicate x\nquorum none".into(),
                PolicyError::Line {
                    line: 1,
                    error: LineError::UnknownKeyword("frobnicate".into()),
                },
            ),
            (
                "quorum a\n".into(),
                PolicyError::Line {
                    line: 1,
                    error: LineError::UnknownName("a".into()),
                },
            ),
            (
                format!("witness a {w1}\nwitness a {w2}\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::DuplicateName("a".into()),
                },
            ),
            (
                format!("witness a {w1}\nwitness b {w1}\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::DuplicateKey("a".into()),
                },
            ),
            (
                format!("witness none {w1}\n"),
                PolicyError::Line {
                    line: 1,
                    error: LineError::ReservedName,
                },
            ),
            (
                format!("witness a {w1}\ngroup g 2 a\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::BadThreshold {
                        threshold: "2".into(),
                        members: 1,
                    },
                },
            ),
            (
                format!("witness a {w1}\ngroup g 0 a\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::BadThreshold {
                        threshold: "0".into(),
                        members: 1,
                    },
                },
            ),
            (
                format!("witness a {w1}\ngroup g 01 a\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::BadThreshold {
                        threshold: "01".into(),
                        members: 1,
                    },
                },
            ),
            (
                format!("witness a {w1}\ngroup g any a a\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::BadMember("a".into()),
                },
            ),
            (
                format!("witness a {w1}\ngroup g any b\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::UnknownName("b".into()),
                },
            ),
            (
                format!("witness a {w1}\ngroup g any\n"),
                PolicyError::Line {
                    line: 2,
                    error: LineError::Fields {
                        keyword: "group",
                        expected: "group <name> <all|any|k> <name>... (at least one member)",
                    },
                },
            ),
            (
                format!("witness a {w1} url extra\n"),
                PolicyError::Line {
                    line: 1,
                    error: LineError::Fields {
                        keyword: "witness",
                        expected: "witness <name> <vkey> [<url>]",
                    },
                },
            ),
            (
                format!("witness a {}\n", log().verifier_key()),
                PolicyError::Line {
                    line: 1,
                    error: LineError::BadWitnessKey(CosignatureError::WrongKeyType(1)),
                },
            ),
            (
                format!("log {w1}\n"),
                PolicyError::Line {
                    line: 1,
                    error: LineError::BadLogKey(CheckpointError::BadVerifierKey),
                },
            ),
            (
                format!(
                    "log {}\nlog {}\n",
                    log().verifier_key(),
                    log().verifier_key()
                ),
                PolicyError::Line {
                    line: 2,
                    error: LineError::DuplicateKey(log().verifier_key()),
                },
            ),
            (
                "quorum none\r\n".into(),
                PolicyError::Line {
                    line: 1,
                    error: LineError::ForbiddenCharacter(b'\r'),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(err_of(&text), want, "{text:?}");
        }
        // The message a user reads carries the line number.
        assert!(
            err_of("quorum a\n")
                .to_string()
                .starts_with("policy line 1:")
        );
    }
}
