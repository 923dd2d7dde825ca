//! Trust on first use of an operator's published keys, for `consentry verify --trust`.
//!
//! An operator publishes its seal and log keys at `/.well-known/consentry.json`. That
//! document is not signed: listing a key there proves nothing by itself. So the first
//! time a verifier is pointed at an operator's document (a URL or a saved copy), the keys
//! it lists are **pinned** for that log origin, in a file of the verifier's own; later,
//! only pinned keys count. A key the document lists beyond the pinned ones is accepted
//! only through the document's rotation statements (`consentry.key-rotation/v1`): a
//! chain of statements, each signed by the key it retires, from a key already pinned;
//! it is then added to the pins. Any other new key is reported and not trusted.

use std::path::{Path, PathBuf};

/// The keys a well-known document lists for one log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Published {
    /// The log origin.
    pub origin: String,
    /// Log verifier keys (`origin+hexid+base64`): the current one and retired ones.
    pub log_keys: Vec<String>,
    /// Seal public keys (standard base64).
    pub seal_keys: Vec<String>,
    /// The rotation statements the document carries (verified when read; not pinned).
    #[serde(default, skip_serializing)]
    pub rotations: Vec<consentry_core::rotation::RotationStatement>,
}

/// Reads `/.well-known/consentry.json` from `src`: an `http(s)://` URL (fetched, 10 s at
/// most) or a file.
pub fn load(src: &str) -> Result<Published, String> {
    let bytes = if src.starts_with("https://") || src.starts_with("http://") {
        fetch(src)?
    } else {
        std::fs::read(src).map_err(|e| format!("--trust {src}: {e}"))?
    };
    parse(&bytes).map_err(|e| format!("--trust {src}: {e}"))
}

fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("--trust {url}: {e}"))?;
        let res = client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("--trust {url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("--trust {url}: HTTP {}", res.status()));
        }
        let body = res
            .bytes()
            .await
            .map_err(|e| format!("--trust {url}: {e}"))?;
        if body.len() > 1 << 20 {
            return Err(format!("--trust {url}: the document is over 1 MiB"));
        }
        Ok(body.to_vec())
    })
}

/// The keys of a well-known document, checked: the log key names the origin, each seal
/// key is 32 bytes of base64.
pub fn parse(bytes: &[u8]) -> Result<Published, String> {
    let doc = consentry_core::strict_json::parse(bytes).map_err(|e| e.to_string())?;
    let origin = doc["log"]["origin"]
        .as_str()
        .ok_or("no log.origin: not a /.well-known/consentry.json document")?
        .to_owned();
    let mut log_keys = Vec::new();
    let current = doc["log"]["verifier_key"]
        .as_str()
        .ok_or("no log.verifier_key")?;
    log_keys.push(current.to_owned());
    for k in doc["previous_log_keys"].as_array().into_iter().flatten() {
        if let Some(k) = k.as_str() {
            log_keys.push(k.to_owned());
        }
    }
    for k in &log_keys {
        let label = consentry_core::checkpoint::verifier_key_label(k)
            .map_err(|e| format!("log key {k}: {e}"))?;
        if label.split('+').next() != Some(origin.as_str()) {
            return Err(format!("log key {k} is not a key of log {origin}"));
        }
    }
    let mut seal_keys = Vec::new();
    for k in doc["seal_keys"].as_array().into_iter().flatten() {
        let b64 = k["public_key"]
            .as_str()
            .ok_or("a seal key has no public_key")?;
        consentry_core::keys::SealPublicKey::from_base64(b64)
            .map_err(|e| format!("seal key {b64}: {e}"))?;
        seal_keys.push(b64.to_owned());
    }
    if seal_keys.is_empty() {
        return Err("no seal key".into());
    }
    let mut rotations = Vec::new();
    for r in doc["rotations"].as_array().into_iter().flatten() {
        let statement: consentry_core::rotation::RotationStatement =
            serde_json::from_value(r.clone()).map_err(|e| format!("a rotation statement: {e}"))?;
        statement.verify().map_err(|e| {
            format!(
                "a rotation statement ({} to {}): {e}",
                statement.old, statement.new
            )
        })?;
        if statement.log == origin {
            rotations.push(statement);
        }
    }
    Ok(Published {
        origin,
        log_keys,
        seal_keys,
        rotations,
    })
}

/// What pinning gave: the keys to trust, and what to tell the user.
#[derive(Debug)]
pub struct Pinned {
    /// The pinned keys of the origin.
    pub keys: Published,
    /// Messages for standard error (first use; keys offered but not pinned).
    pub notes: Vec<String>,
}

/// Where pins are kept: `--trust-store`, else `$CONSENTRY_TRUST_STORE`, else
/// `$XDG_DATA_HOME/consentry/trust`, else `~/.local/share/consentry/trust`.
pub fn default_store() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CONSENTRY_TRUST_STORE") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return Some(PathBuf::from(d).join("consentry").join("trust"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/consentry/trust"))
}

fn pin_file(store: &Path, origin: &str) -> PathBuf {
    use sha2::Digest as _;
    let name = hex::encode(&sha2::Sha256::digest(origin.as_bytes())[..16]);
    store.join(format!("{name}.json"))
}

/// Writes the pins of one origin (a new file, then renamed over the old one).
fn write_pins(file: &Path, pins: &Published) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(pins).map_err(|e| e.to_string())?;
    crate::files::write_atomic(file, &text).map_err(|e| format!("pin file {}: {e}", file.display()))
}

/// Pins `offered` on first use of its origin, or keeps to the keys pinned before.
pub fn pin(store: &Path, offered: Published) -> Result<Pinned, String> {
    let file = pin_file(store, &offered.origin);
    let mut notes = Vec::new();
    match std::fs::read(&file) {
        Ok(bytes) => {
            let mut pinned: Published = serde_json::from_slice(&bytes)
                .map_err(|e| format!("pin file {}: {e}", file.display()))?;
            if pinned.origin != offered.origin {
                return Err(format!(
                    "pin file {} is for log {}, not {}",
                    file.display(),
                    pinned.origin,
                    offered.origin
                ));
            }
            // Keys handed over by a pinned key, through verified statements, join the pins.
            let before = (pinned.seal_keys.len(), pinned.log_keys.len());
            loop {
                let mut grew = false;
                for r in &offered.rotations {
                    use consentry_core::rotation::KeyRole;
                    let keys = match r.role {
                        KeyRole::Seal => &mut pinned.seal_keys,
                        KeyRole::Log => &mut pinned.log_keys,
                    };
                    if keys.contains(&r.old) && !keys.contains(&r.new) {
                        keys.push(r.new.clone());
                        notes.push(format!(
                            "{:?} key {} of {} pinned: handed over by the pinned key {} (rotation statement of {})",
                            r.role, r.new, offered.origin, r.old, r.at
                        ));
                        grew = true;
                    }
                }
                if !grew {
                    break;
                }
            }
            if (pinned.seal_keys.len(), pinned.log_keys.len()) != before {
                write_pins(&file, &pinned)?;
            }
            for k in offered
                .log_keys
                .iter()
                .filter(|k| !pinned.log_keys.contains(k))
            {
                notes.push(format!(
                    "log key {k} is offered for {} but not pinned (pinned: {}): it is not trusted",
                    offered.origin,
                    pinned.log_keys.join(", ")
                ));
            }
            for k in offered
                .seal_keys
                .iter()
                .filter(|k| !pinned.seal_keys.contains(k))
            {
                notes.push(format!(
                    "seal key {k} is offered for {} but not pinned: it is not trusted",
                    offered.origin
                ));
            }
            Ok(Pinned {
                keys: pinned,
                notes,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(store)
                .map_err(|e| format!("trust store {}: {e}", store.display()))?;
            write_pins(&file, &offered)?;
            notes.push(format!(
                "first use of log {}: its keys are now pinned in {} (seal {}; log {})",
                offered.origin,
                file.display(),
                offered.seal_keys.join(", "),
                offered.log_keys.join(", ")
            ));
            Ok(Pinned {
                keys: offered,
                notes,
            })
        }
        Err(e) => Err(format!("pin file {}: {e}", file.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(seal: &str, log: &str) -> Vec<u8> {
        serde_json::json!({
            "log": {"origin": "example.org/log", "verifier_key": log},
            "seal_keys": [{"public_key": seal}],
            "previous_log_keys": [],
        })
        .to_string()
        .into_bytes()
    }

    fn keys(n: u8) -> (String, String) {
        let seal = consentry_core::keys::SealKey::from_seed(&[n; 32]);
        let log = consentry_core::keys::LogKey::from_seed("example.org/log", &[n; 32]).unwrap();
        (seal.public().to_base64(), log.verifier_key())
    }

    #[test]
    fn keys_are_pinned_on_first_use_and_new_ones_refused_after() {
        let dir = tempfile::tempdir().unwrap();
        let (s1, l1) = keys(1);
        let first = pin(dir.path(), parse(&doc(&s1, &l1)).unwrap()).unwrap();
        assert_eq!(first.keys.seal_keys, vec![s1.clone()]);
        assert!(first.notes[0].contains("first use"));
        // The same document later: the same keys, nothing to say.
        let again = pin(dir.path(), parse(&doc(&s1, &l1)).unwrap()).unwrap();
        assert!(again.notes.is_empty());
        // A document that swapped the keys: the pinned ones stay, the new ones are named.
        let (s2, l2) = keys(2);
        let swapped = pin(dir.path(), parse(&doc(&s2, &l2)).unwrap()).unwrap();
        assert_eq!(swapped.keys.seal_keys, vec![s1]);
        assert_eq!(swapped.keys.log_keys, vec![l1]);
        assert_eq!(swapped.notes.len(), 2);
        assert!(swapped.notes.iter().all(|n| n.contains("not trusted")));
    }

    #[test]
    fn a_key_handed_over_by_a_pinned_key_is_pinned_and_a_forged_statement_refused() {
        use consentry_core::rotation::RotationStatement;
        let dir = tempfile::tempdir().unwrap();
        let (s1, l1) = keys(1);
        pin(dir.path(), parse(&doc(&s1, &l1)).unwrap()).unwrap();
        // The operator rotates its seal key 1 → 2 → 3; the document lists 3 and the
        // two statements.
        let k = |n: u8| consentry_core::keys::SealKey::from_seed(&[n; 32]);
        let at = "2026-12-07T00:00:00Z";
        let r12 = RotationStatement::seal("example.org/log", &k(1), k(2).public(), at).unwrap();
        let r23 = RotationStatement::seal("example.org/log", &k(2), k(3).public(), at).unwrap();
        let mut d: serde_json::Value =
            serde_json::from_slice(&doc(&k(3).public().to_base64(), &l1)).unwrap();
        d["rotations"] = serde_json::json!([r23, r12]);
        let p = pin(dir.path(), parse(d.to_string().as_bytes()).unwrap()).unwrap();
        assert!(
            p.keys.seal_keys.contains(&k(3).public().to_base64()),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes.iter().any(|n| n.contains("handed over")),
            "{:?}",
            p.notes
        );
        // Remembered: the next read says nothing new.
        let again = pin(dir.path(), parse(d.to_string().as_bytes()).unwrap()).unwrap();
        assert!(again.notes.is_empty(), "{:?}", again.notes);
        // A statement signed by a key never pinned hands over nothing.
        let rogue = RotationStatement::seal("example.org/log", &k(7), k(8).public(), at).unwrap();
        let mut d2: serde_json::Value =
            serde_json::from_slice(&doc(&k(8).public().to_base64(), &l1)).unwrap();
        d2["rotations"] = serde_json::json!([rogue]);
        let p = pin(dir.path(), parse(d2.to_string().as_bytes()).unwrap()).unwrap();
        assert!(!p.keys.seal_keys.contains(&k(8).public().to_base64()));
        assert!(
            p.notes.iter().any(|n| n.contains("not trusted")),
            "{:?}",
            p.notes
        );
        // A tampered statement makes the document unusable.
        let mut bad = serde_json::to_value(&r12).unwrap();
        bad["new"] = serde_json::Value::String(k(9).public().to_base64());
        let mut d3: serde_json::Value = serde_json::from_slice(&doc(&s1, &l1)).unwrap();
        d3["rotations"] = serde_json::json!([bad]);
        assert!(
            parse(d3.to_string().as_bytes())
                .unwrap_err()
                .contains("signature")
        );
    }

    #[test]
    fn a_document_whose_log_key_names_another_log_is_refused() {
        let (s, _) = keys(1);
        let other = consentry_core::keys::LogKey::from_seed("other.example/log", &[1; 32]).unwrap();
        assert!(
            parse(&doc(&s, &other.verifier_key()))
                .unwrap_err()
                .contains("not a key of log")
        );
        assert!(parse(b"{}").is_err());
        assert!(
            parse(br#"{"log":{"origin":"a","origin":"b"}}"#)
                .unwrap_err()
                .contains("twice")
        );
    }
}
