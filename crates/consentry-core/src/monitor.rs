//! Monitoring a log from the outside: the person's browser as a monitor.
//!
//! A daily anchor bounds time, and witnesses refuse to cosign a fork they see; but only
//! the person whose entries are in the log can tell whether *their* entries are in the
//! tree everybody else is shown. The portal and the `/verify` page therefore remember, in
//! the browser, the last checkpoint they verified, and on the next visit check that the
//! checkpoint they are shown now extends it (RFC 9162 consistency) and that each of the
//! person's entries is included in it (RFC 9162 inclusion), against log and seal keys the
//! page pinned. [`check_view`] is that check, pure, so that it runs the same natively (in
//! tests) and compiled to WebAssembly (in the page).
//!
//! The page fetches what the check needs from the log's own public routes — the latest
//! signed checkpoint, a consistency proof from the remembered size, an inclusion proof per
//! entry — and remembers the checkpoint [`ViewReport::remember`] names. Nothing in the
//! input is trusted for itself: every checkpoint must be signed by a pinned log key, every
//! entry sealed by a pinned seal key, every proof must verify.
//!
//! What a failure means: `inconsistent` is evidence (two signed checkpoints that no
//! append-only log can both have signed, or a log that refuses to show they can); the page
//! keeps both notes for the person to hand to whoever they trust. A witness cosignature
//! that does not verify under the key of a witness the operator lists makes the view
//! `invalid`: a server forging its witnesses' cosignatures.

use crate::checkpoint::{Checkpoint, verify_signed_checkpoint};
use crate::cosignature::{CosignerVerifier, signature_lines};
use crate::merkle::{Hash, verify_consistency, verify_inclusion};
use crate::verify::{DocumentKind, Status, TrustedKeys, Verifier};
use serde::{Deserialize, Serialize};

/// What the page hands in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    /// The log verifier keys the page pinned (`origin+hexid+base64`): the current one and
    /// those it rotated from. A checkpoint signed by none of them is refused.
    pub log_keys: Vec<String>,
    /// The seal public keys (base64) the page pinned; entries must be sealed by one.
    #[serde(default)]
    pub seal_keys: Vec<String>,
    /// The witnesses whose cosignatures are reported (C2SP verifier keys, type 0x04).
    /// They come from the operator's well-known document: for information, never a policy.
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// The checkpoint the browser remembered from an earlier visit, if any.
    #[serde(default)]
    pub remembered: Option<String>,
    /// The checkpoint to check now.
    pub checkpoint: String,
    /// Whether `checkpoint` is the log's latest (from `/checkpoint`). The latest must not be
    /// smaller than one seen before (a rollback); a certificate's checkpoint may be older.
    #[serde(default)]
    pub latest: bool,
    /// The consistency proof (base64 hashes) between the smaller and the larger of
    /// `remembered` and `checkpoint`; empty when the sizes are equal or nothing was
    /// remembered.
    #[serde(default)]
    pub consistency: Vec<String>,
    /// The person's entries with their inclusion proofs at `checkpoint`'s size.
    #[serde(default)]
    pub entries: Vec<EntryInput>,
}

/// One entry to check: its document and its inclusion proof.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    /// The entry's document as served (a proof or a sealed event, JSON text).
    pub document: String,
    /// The inclusion proof (base64 hashes) of the entry's leaf at the checkpoint's size.
    pub hashes: Vec<String>,
}

/// How the checkpoint checked relates to the one remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Nothing was remembered: this checkpoint is the first one seen.
    First,
    /// The same tree as the one remembered.
    Same,
    /// A larger tree, proven to extend the remembered one.
    Extends,
    /// A smaller tree (a certificate's), proven to be contained in the remembered one.
    Older,
    /// Not consistent with the remembered one, or not shown to be: evidence.
    Inconsistent,
    /// The checkpoint itself could not be verified (signature, keys, cosignatures).
    Invalid,
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryReport {
    /// The proof's or event's ID, when the document could be read.
    pub id: Option<String>,
    /// Its log index, when the document could be read.
    pub index: Option<u64>,
    /// `proof` or `event`.
    pub kind: Option<DocumentKind>,
    /// Sealed by a pinned seal key.
    pub sealed: bool,
    /// Included in the checkpoint's tree, by the proof given.
    pub included: bool,
    /// Why not, in a sentence; empty when sealed and included.
    pub detail: String,
}

/// The outcome of [`check_view`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewReport {
    /// How the checkpoint relates to the remembered one.
    pub relation: Relation,
    /// The checkpoint's tree size, when it verified.
    pub size: Option<u64>,
    /// The remembered checkpoint's size, when there was one and it verified.
    pub remembered_size: Option<u64>,
    /// The names of the listed witnesses whose cosignatures verify on the checkpoint.
    pub cosigned_by: Vec<String>,
    /// The checkpoint the page should remember from now on (the larger of the two when
    /// they are consistent; the old one when they are not, so that the evidence stays).
    pub remember: Option<String>,
    /// Every entry, in input order.
    pub entries: Vec<EntryReport>,
    /// Why the relation is `inconsistent` or `invalid`.
    pub problem: Option<String>,
}

impl ViewReport {
    fn failed(relation: Relation, remember: Option<String>, problem: String) -> ViewReport {
        ViewReport {
            relation,
            size: None,
            remembered_size: None,
            cosigned_by: Vec::new(),
            remember,
            entries: Vec::new(),
            problem: Some(problem),
        }
    }
}

/// Verifies `note` under any of `keys`.
fn verified(note: &str, keys: &[String]) -> Result<Checkpoint, String> {
    let mut last = String::from("no log key is pinned");
    for k in keys {
        match verify_signed_checkpoint(note, k) {
            Ok(v) => return Ok(v.checkpoint),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn hashes(list: &[String], what: &str) -> Result<Vec<Hash>, String> {
    list.iter()
        .map(|h| Hash::from_base64(h).ok_or_else(|| format!("{what}: {h:?} is not a base64 hash")))
        .collect()
}

/// Checks the view a page is shown; see the module's documentation.
pub fn check_view(input: &ViewInput) -> ViewReport {
    let remembered_note = input.remembered.clone().filter(|n| !n.trim().is_empty());
    let current = match verified(&input.checkpoint, &input.log_keys) {
        Ok(cp) => cp,
        Err(e) => {
            return ViewReport::failed(
                Relation::Invalid,
                remembered_note,
                format!("the checkpoint shown does not verify: {e}"),
            );
        }
    };
    // Cosignatures by the witnesses the operator lists: reported, and a forged one fails.
    let mut cosigned_by = Vec::new();
    let body = current.body();
    for vkey in &input.witnesses {
        let Ok(w) = CosignerVerifier::parse(vkey) else {
            return ViewReport::failed(
                Relation::Invalid,
                remembered_note,
                format!("the witness key {vkey:?} is not a cosignature/v1 verifier key"),
            );
        };
        for line in signature_lines(&input.checkpoint) {
            let Ok(sig) = signed_note::Signature::from_bytes(line.as_bytes()) else {
                continue;
            };
            if !w.names(&sig) {
                continue;
            }
            match w.verify_signature(&body, sig.signature()) {
                Ok(_) => cosigned_by.push(w.name().to_owned()),
                Err(e) => {
                    return ViewReport::failed(
                        Relation::Invalid,
                        remembered_note,
                        format!("a cosignature on the checkpoint shown does not verify: {e}"),
                    );
                }
            }
        }
    }
    cosigned_by.sort();
    cosigned_by.dedup();

    let mut report = ViewReport {
        relation: Relation::First,
        size: Some(current.size),
        remembered_size: None,
        cosigned_by,
        remember: Some(input.checkpoint.clone()),
        entries: Vec::new(),
        problem: None,
    };
    if let Some(old_note) = &remembered_note {
        match relate(old_note, &current, input) {
            Ok((relation, old)) => {
                report.relation = relation;
                report.remembered_size = Some(old.size);
                // The larger tree is remembered; for the same tree, the note shown now
                // (it may carry more cosignatures).
                if relation == Relation::Older {
                    report.remember = Some(old_note.clone());
                }
            }
            Err((relation, size, problem)) => {
                report.relation = relation;
                report.remembered_size = size;
                report.remember = Some(old_note.clone());
                report.problem = Some(problem);
            }
        }
    }
    report.entries = input
        .entries
        .iter()
        .map(|e| check_entry(e, &current, &input.seal_keys))
        .collect();
    report
}

/// How `current` relates to the remembered note, proven; or why it is not.
fn relate(
    old_note: &str,
    current: &Checkpoint,
    input: &ViewInput,
) -> Result<(Relation, Checkpoint), (Relation, Option<u64>, String)> {
    let old = verified(old_note, &input.log_keys).map_err(|e| {
        (
            Relation::Inconsistent,
            None,
            format!("the checkpoint remembered is not signed by this log's keys: {e}"),
        )
    })?;
    let proof = hashes(&input.consistency, "consistency proof")
        .map_err(|e| (Relation::Inconsistent, Some(old.size), e))?;
    let inconsistent = |what: String| (Relation::Inconsistent, Some(old.size), what);
    if old.size == current.size {
        return if old.root == current.root {
            Ok((Relation::Same, old))
        } else {
            Err(inconsistent(format!(
                "two different trees of the same size {}: a split view",
                old.size
            )))
        };
    }
    if old.size < current.size {
        verify_consistency(old.size, current.size, &old.root, &current.root, &proof).map_err(
            |e| {
                inconsistent(format!(
                    "the tree of size {} is not shown to extend the one of size {} seen before: {e}",
                    current.size, old.size
                ))
            },
        )?;
        return Ok((Relation::Extends, old));
    }
    if input.latest {
        return Err(inconsistent(format!(
            "the log's latest tree (size {}) is smaller than one seen before (size {}): a rollback",
            current.size, old.size
        )));
    }
    verify_consistency(current.size, old.size, &current.root, &old.root, &proof).map_err(|e| {
        inconsistent(format!(
            "the tree of size {} is not shown to be contained in the one of size {} seen before: {e}",
            current.size, old.size
        ))
    })?;
    Ok((Relation::Older, old))
}

fn check_entry(entry: &EntryInput, cp: &Checkpoint, seal_keys: &[String]) -> EntryReport {
    let mut out = EntryReport {
        id: None,
        index: None,
        kind: None,
        sealed: false,
        included: false,
        detail: String::new(),
    };
    let mut trusted = TrustedKeys::default();
    for k in seal_keys {
        match crate::keys::SealPublicKey::from_base64(k) {
            Ok(key) => trusted.seal.push(key),
            Err(e) => {
                out.detail = format!("pinned seal key {k:?}: {e}");
                return out;
            }
        }
    }
    if trusted.seal.is_empty() {
        out.detail = "no seal key is pinned".to_owned();
        return out;
    }
    let report = match Verifier::new(trusted).verify(entry.document.as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            out.detail = e.to_string();
            return out;
        }
    };
    if !matches!(report.kind, DocumentKind::Proof | DocumentKind::Event) {
        out.detail = "not a proof or an event".to_owned();
        return out;
    }
    out.kind = Some(report.kind);
    out.id = Some(report.proof_id.clone());
    out.sealed = report
        .checks
        .iter()
        .filter(|c| c.name == "seal" || c.name == "seal_key")
        .all(|c| c.status == Status::Passed);
    if !out.sealed {
        out.detail = report.first_failure().map_or_else(
            || "not sealed by a pinned key".to_owned(),
            |c| c.detail.clone(),
        );
        return out;
    }
    // The index is the document's own, read strictly; the leaf is the verifier's.
    let index = crate::strict_json::parse(entry.document.as_bytes())
        .ok()
        .and_then(|v| v.get("log_index").and_then(serde_json::Value::as_u64));
    let Some(index) = index else {
        out.detail = "the document carries no log index".to_owned();
        return out;
    };
    out.index = Some(index);
    let (Some(leaf), Ok(path)) = (
        Hash::from_hex(&report.leaf_hash),
        hashes(&entry.hashes, "inclusion proof"),
    ) else {
        out.detail = "the inclusion proof is not a list of base64 hashes".to_owned();
        return out;
    };
    match verify_inclusion(index, cp.size, &leaf, &path, &cp.root) {
        Ok(()) => out.included = true,
        Err(e) => {
            out.detail = format!("not shown to be in the tree of size {}: {e}", cp.size);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cosignature::CosignerKey;
    use crate::keys::{LogKey, SealKey};
    use crate::merkle::{MemoryLog, leaf_hash};
    use crate::proof::ProofBody;

    const ORIGIN: &str = "consentry.test/log";

    struct World {
        log_key: LogKey,
        seal: SealKey,
        log: MemoryLog,
        entries: Vec<Vec<u8>>,
        witness: CosignerKey,
    }

    fn proof_body(index: u64) -> ProofBody {
        let example: serde_json::Value =
            serde_json::from_slice(include_bytes!("../../../docs/examples/proof.json")).unwrap();
        let mut body: ProofBody = serde_json::from_value({
            let mut v = example;
            v.as_object_mut().unwrap().remove("seal");
            v
        })
        .unwrap();
        body.log_index = index;
        body.recipient.address_commitment = format!("{index:064x}");
        body
    }

    impl World {
        fn new() -> World {
            World {
                log_key: LogKey::from_seed(ORIGIN, &[7; 32]).unwrap(),
                seal: SealKey::from_seed(&[8; 32]),
                log: MemoryLog::new(),
                entries: Vec::new(),
                witness: CosignerKey::from_seed("witness.test/w1", &[9; 32]).unwrap(),
            }
        }

        fn grow(&mut self, n: u64) {
            for _ in 0..n {
                let i = self.log.size();
                let sealed = proof_body(i).seal(&self.seal).unwrap();
                let bytes = sealed.entry_bytes().unwrap();
                self.log.append(leaf_hash(&bytes));
                self.entries.push(bytes);
            }
        }

        fn checkpoint(&self, size: u64) -> String {
            let cp = Checkpoint {
                origin: ORIGIN.into(),
                size,
                root: self.log.root(size).unwrap(),
                extensions: vec![],
            };
            let note = cp.sign(&self.log_key).unwrap();
            let line = self.witness.cosign(&cp.body(), 1_700_000_000).unwrap();
            format!("{note}{line}")
        }

        fn input(&self, remembered: Option<u64>, size: u64, entries: &[u64]) -> ViewInput {
            let proof = match remembered {
                Some(old) if old < size => self.log.consistency_proof(old, size).unwrap(),
                Some(old) if old > size => self.log.consistency_proof(size, old).unwrap(),
                _ => Vec::new(),
            };
            ViewInput {
                log_keys: vec![self.log_key.verifier_key()],
                seal_keys: vec![self.seal.public().to_base64()],
                witnesses: vec![self.witness.verifier_key()],
                remembered: remembered.map(|s| self.checkpoint(s)),
                checkpoint: self.checkpoint(size),
                latest: true,
                consistency: proof.iter().map(Hash::to_base64).collect(),
                entries: entries
                    .iter()
                    .map(|&i| EntryInput {
                        document: String::from_utf8(self.entries[i as usize].clone()).unwrap(),
                        hashes: self
                            .log
                            .inclusion_proof(i, size)
                            .unwrap()
                            .iter()
                            .map(Hash::to_base64)
                            .collect(),
                    })
                    .collect(),
            }
        }
    }

    #[test]
    fn a_first_visit_checks_entries_and_names_the_witnesses() {
        let mut w = World::new();
        w.grow(5);
        let r = check_view(&w.input(None, 5, &[0, 3]));
        assert_eq!(r.relation, Relation::First, "{r:?}");
        assert_eq!(r.size, Some(5));
        assert_eq!(r.cosigned_by, vec!["witness.test/w1".to_owned()]);
        assert_eq!(r.remember, Some(w.checkpoint(5)));
        assert!(r.entries.iter().all(|e| e.sealed && e.included), "{r:?}");
        assert_eq!(r.entries[1].index, Some(3));
        assert_eq!(r.entries[1].kind, Some(DocumentKind::Proof));
    }

    #[test]
    fn a_grown_log_is_proven_to_extend_the_remembered_one() {
        let mut w = World::new();
        w.grow(13);
        let r = check_view(&w.input(Some(6), 13, &[2]));
        assert_eq!(r.relation, Relation::Extends, "{r:?}");
        assert_eq!(r.remembered_size, Some(6));
        assert_eq!(r.remember, Some(w.checkpoint(13)));
        let same = check_view(&w.input(Some(13), 13, &[]));
        assert_eq!(same.relation, Relation::Same, "{same:?}");
    }

    #[test]
    fn a_certificate_checkpoint_older_than_the_remembered_one_is_contained_in_it() {
        let mut w = World::new();
        w.grow(9);
        let mut input = w.input(Some(9), 4, &[1]);
        input.latest = false;
        let r = check_view(&input);
        assert_eq!(r.relation, Relation::Older, "{r:?}");
        assert_eq!(
            r.remember,
            Some(w.checkpoint(9)),
            "the larger tree stays remembered"
        );
        assert!(r.entries[0].included);
        // The same smaller tree as the log's latest is a rollback.
        input.latest = true;
        let r = check_view(&input);
        assert_eq!(r.relation, Relation::Inconsistent, "{r:?}");
        assert!(r.problem.unwrap().contains("rollback"));
    }

    #[test]
    fn a_split_view_is_caught_and_the_old_checkpoint_kept_as_evidence() {
        let mut honest = World::new();
        honest.grow(8);
        let remembered = honest.checkpoint(6);
        // The same log key signs another history: entries 0..5 then different ones.
        let mut liar = World::new();
        liar.grow(5);
        liar.seal = SealKey::from_seed(&[1; 32]);
        liar.grow(3);
        let mut input = liar.input(None, 8, &[]);
        input.remembered = Some(remembered.clone());
        input.consistency = liar
            .log
            .consistency_proof(6, 8)
            .unwrap()
            .iter()
            .map(Hash::to_base64)
            .collect();
        let r = check_view(&input);
        assert_eq!(r.relation, Relation::Inconsistent, "{r:?}");
        assert_eq!(r.remember, Some(remembered.clone()));
        assert!(r.problem.unwrap().contains("extend"));
        // Same size, other root.
        let mut input = liar.input(None, 6, &[]);
        input.remembered = Some(remembered);
        let r = check_view(&input);
        assert_eq!(r.relation, Relation::Inconsistent);
        assert!(r.problem.unwrap().contains("split view"));
    }

    #[test]
    fn unpinned_keys_forged_cosignatures_and_foreign_entries_are_refused() {
        let mut w = World::new();
        w.grow(4);
        let mut input = w.input(None, 4, &[0]);
        input.log_keys = vec![LogKey::from_seed(ORIGIN, &[1; 32]).unwrap().verifier_key()];
        assert_eq!(check_view(&input).relation, Relation::Invalid);

        let mut input = w.input(None, 4, &[0]);
        let line: String = signature_lines(&input.checkpoint)
            .last()
            .unwrap()
            .to_string();
        let mut forged = line.clone().into_bytes();
        let n = forged.len();
        forged[n - 3] = if forged[n - 3] == b'A' { b'B' } else { b'A' };
        input.checkpoint = input
            .checkpoint
            .replace(&line, std::str::from_utf8(&forged).unwrap());
        let r = check_view(&input);
        assert_eq!(r.relation, Relation::Invalid, "{r:?}");

        // An entry sealed by another key, and one whose proof is for another leaf.
        let mut input = w.input(None, 4, &[0, 1]);
        input.seal_keys = vec![SealKey::from_seed(&[2; 32]).public().to_base64()];
        let r = check_view(&input);
        assert!(r.entries.iter().all(|e| !e.sealed && !e.included), "{r:?}");
        let mut input = w.input(None, 4, &[0, 1]);
        input.entries[0].hashes = input.entries[1].hashes.clone();
        let r = check_view(&input);
        assert!(r.entries[0].sealed && !r.entries[0].included, "{r:?}");
        assert!(r.entries[1].included);
    }
}
