//! `consentry check`: the whole store checked against itself and the service's keys,
//! read-only, beside a running service (docs/operations.md, "Checking a store").
//!
//! - **The log.** Every entry is re-hashed into its leaf and compared with the leaf
//!   stored in the level-0 tile; its seal is verified against the service's seal keys
//!   (current and rotated away) and its `log_index` must be its place. The tiles above are
//!   rebuilt from those leaves and must equal the stored ones; the head's root must be
//!   the rebuilt tree's. A leaf that differs from its tile is blamed on the entry when the
//!   entry's seal fails (the entry was altered), on the tile otherwise.
//! - **Published checkpoints.** Every signed checkpoint (table `checkpoints`) and every
//!   note handed to an anchor (table `anchors`) must be signed by one of the log's keys,
//!   name a size the log has, and carry the root rebuilt at that size: the log is still
//!   the one it published.
//! - **The vault.** Every live contact's subject key must unwrap under the tenant keys of
//!   a master key held, and its identity envelope must open; an erased contact must hold
//!   neither. Evidence files must open under their subject's key.
//! - **References.** Rows naming rows that do not exist (a proof without its log entry, a
//!   contact without its tenant, …).
//!
//! Exit status: 0 clean, 1 problems found (one line each, pseudonyms and numbers only,
//! never personal data), 2 the check could not run (no keys, database unreachable).
//!
//! The log is read in pages and the tiles rebuilt as it goes ([`Rebuild`]): memory stays
//! bounded by a page, whatever the log's size.

use crate::config::{self, DbArgs};
use consentry_core::checkpoint::{parse_signed_checkpoint, verify_signed_checkpoint};
use consentry_core::ids::{SubjectId, TenantId};
use consentry_core::keys::SealPublicKey;
use consentry_core::merkle::{EMPTY_ROOT, Hash, leaf_hash};
use consentry_core::proof::{Seal, verify_seal};
use consentry_core::tiles::{TILE_WIDTH, TileEdge, TileId, tiles_of};
use consentry_ledger::keys as server_keys;
use consentry_store::Store;
use consentry_vault::{MasterKeyring, WrappedKey};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Options of `consentry check`.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArgs,
}

/// Entries read per page (a multiple of the tile width).
const PAGE: u64 = 16 * TILE_WIDTH;
/// Contacts and evidence files read per page.
const VAULT_PAGE: u32 = 500;
/// Orphans listed per rule at most.
const ORPHANS_PER_RULE: u32 = 100;

/// Why the check could not run (exit status 2): the database failed, the keys could not
/// be read, … (`anyhow`, as everywhere in the binary).
type CheckError = anyhow::Error;

/// What was checked, and what was found wrong.
#[derive(Debug, Default)]
pub struct Findings {
    /// One line per problem: `<area>: <what>`, no personal data.
    pub problems: Vec<String>,
    /// `(area, what was counted)` lines of the summary.
    pub summary: Vec<(&'static str, String)>,
}

impl Findings {
    fn problem(&mut self, area: &str, what: impl std::fmt::Display) {
        self.problems.push(format!("{area}: {what}"));
    }
}

/// Runs the check and prints its report.
pub fn run(args: &CheckArgs) -> ExitCode {
    let result = (|| -> Result<Findings, CheckError> {
        let (data_dir, url) = config::database(&args.db)?;
        if let Some(path) = sqlite_path(&url)
            && !path.exists()
        {
            anyhow::bail!("no database at {}", path.display());
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
        rt.block_on(check(&data_dir, &url))
    })();
    match result {
        Ok(findings) => {
            let mut out = String::new();
            for (area, line) in &findings.summary {
                let _ = writeln!(out, "{area:<12} {line}");
            }
            for p in &findings.problems {
                let _ = writeln!(out, "problem: {p}");
            }
            if findings.problems.is_empty() {
                out.push_str("result: clean\n");
                print!("{out}");
                ExitCode::SUCCESS
            } else {
                let _ = writeln!(out, "result: {} problem(s)", findings.problems.len());
                print!("{out}");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("consentry check: could not check: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The SQLite file a `sqlite:` URL names (`None` for PostgreSQL or in-memory).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// The keys a check verifies against.
struct CheckKeys {
    seals: Vec<SealPublicKey>,
    logs: Vec<String>,
    ring: MasterKeyring,
}

async fn check(data_dir: &Path, url: &str) -> Result<Findings, CheckError> {
    let store = Store::open(url).await?;
    let (seals, logs) = server_keys::public_keys(data_dir, server_keys::default_origin)?;
    let env_current = std::env::var(server_keys::MASTER_ENV).ok();
    let env_previous = std::env::var(server_keys::MASTER_PREVIOUS_ENV).ok();
    let candidates = server_keys::master_candidates(
        data_dir,
        env_current.as_deref(),
        env_current.as_ref().and(env_previous.as_deref()),
    )?;
    let versions = store.vault_keys().await?;
    let ring = if versions.is_empty() {
        // A database no service has started on yet: its rows are under the key found.
        MasterKeyring::new(1, candidates.current)
    } else {
        server_keys::ring_for(candidates, &versions).ok_or_else(|| {
            anyhow::anyhow!(
                "none of the master keys found is the database's current version: point --data-dir at the service's keys"
            )
        })?
    };
    let keys = CheckKeys { seals, logs, ring };
    let mut f = Findings::default();
    let backend = match store.backend() {
        consentry_store::Backend::Sqlite => "SQLite",
        consentry_store::Backend::Postgres => "PostgreSQL",
    };
    f.summary.push((
        "store",
        format!("{backend}, data dir {}", data_dir.display()),
    ));
    check_log(&store, &keys, &mut f).await?;
    check_vault(&store, &keys, &mut f).await?;
    let (orphans, rules) = store.orphans(ORPHANS_PER_RULE).await?;
    for o in &orphans {
        f.problem(
            "reference",
            format_args!("{} ({}) points at a row that does not exist", o.rule, o.row),
        );
    }
    f.summary.push((
        "references",
        format!("{rules} kinds followed, {} broken", orphans.len()),
    ));
    store.close().await;
    Ok(f)
}

/// Rebuilds a log's tiles from its leaf hashes, pushed in order, and hands out each tile
/// once its contents are final (full tiles as they complete, the partial ones at the
/// end), so that the caller compares each once and the rebuild holds only the right edge.
#[derive(Debug, Default)]
pub struct Rebuild {
    edge: TileEdge,
    open: BTreeMap<TileId, Vec<Hash>>,
}

impl Rebuild {
    /// Appends leaves; returns the tiles they completed.
    pub fn push(&mut self, leaves: &[Hash]) -> Vec<(TileId, Vec<Hash>)> {
        let mut done = Vec::new();
        for (id, hashes) in self.edge.append(leaves) {
            if hashes.len() as u64 == TILE_WIDTH {
                self.open.remove(&id);
                done.push((id, hashes));
            } else {
                self.open.insert(id, hashes);
            }
        }
        done
    }

    /// The root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        if self.edge.size() == 0 {
            return EMPTY_ROOT;
        }
        // The edge of a tree built here always holds what its root needs.
        self.edge.root().unwrap_or(EMPTY_ROOT)
    }

    /// How many leaves were pushed.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// The partial tiles left at the end.
    pub fn finish(self) -> Vec<(TileId, Vec<Hash>)> {
        self.open.into_iter().collect()
    }
}

/// A published checkpoint to compare with the log: where it was found, its note.
struct Published {
    source: String,
    size: u64,
    note: String,
    stored_root: Option<Vec<u8>>,
}

async fn check_log(store: &Store, keys: &CheckKeys, f: &mut Findings) -> Result<(), CheckError> {
    let (size, head_root) = store.log_head().await?;
    let counts = store.log_counts().await?;
    if counts.entries != size || counts.last_entry.map_or(size != 0, |l| l + 1 != size) {
        f.problem(
            "log",
            format_args!(
                "the head says {size} entries but log_entries holds {} (last index {})",
                counts.entries,
                counts
                    .last_entry
                    .map_or_else(|| "none".to_owned(), |l| l.to_string())
            ),
        );
    }
    let expected_tiles = tiles_of(size).len() as u64;
    if counts.tiles != expected_tiles {
        f.problem(
            "tiles",
            format_args!(
                "a log of {size} entries has {expected_tiles} tiles but log_tiles holds {}",
                counts.tiles
            ),
        );
    }

    // Every checkpoint the log published, to meet at its size while rebuilding.
    let mut published = Vec::new();
    for c in store.all_checkpoints().await? {
        published.push(Published {
            source: format!("checkpoint {}", c.size),
            size: c.size,
            note: c.note,
            stored_root: Some(c.root),
        });
    }
    let anchored = store.anchored_notes().await?;
    let anchors = anchored.len();
    for a in anchored {
        published.push(Published {
            source: format!("anchor {} ({})", a.id, a.state),
            size: a.size,
            note: a.note,
            stored_root: None,
        });
    }
    let mut at_size: BTreeMap<u64, Vec<(usize, Hash)>> = BTreeMap::new();
    let mut signatures_ok = 0usize;
    for (i, p) in published.iter().enumerate() {
        let verified = keys
            .logs
            .iter()
            .find_map(|k| verify_signed_checkpoint(&p.note, k).ok());
        let checkpoint = match verified {
            Some(v) => {
                signatures_ok += 1;
                v.checkpoint
            }
            None => {
                let why = match parse_signed_checkpoint(&p.note) {
                    Ok(_) => "is not signed by any of the log's keys",
                    Err(_) => "is not a signed checkpoint note",
                };
                f.problem("checkpoint", format_args!("{} {why}", p.source));
                match parse_signed_checkpoint(&p.note) {
                    Ok((c, _)) => c,
                    Err(_) => continue,
                }
            }
        };
        if checkpoint.size != p.size {
            f.problem(
                "checkpoint",
                format_args!(
                    "{} is stored under size {} but its note says {}",
                    p.source, p.size, checkpoint.size
                ),
            );
        }
        if let Some(root) = &p.stored_root
            && root.as_slice() != checkpoint.root.0.as_slice()
        {
            f.problem(
                "checkpoint",
                format_args!("{}: the stored root is not the note's root", p.source),
            );
        }
        if checkpoint.size > size {
            f.problem(
                "checkpoint",
                format_args!(
                    "{} covers {} entries but the log holds {size}: entries it published are missing",
                    p.source, checkpoint.size
                ),
            );
            continue;
        }
        at_size
            .entry(checkpoint.size)
            .or_default()
            .push((i, checkpoint.root));
    }

    let mut rebuild = Rebuild::default();
    let mut bad_seals: BTreeSet<u64> = BTreeSet::new();
    let mut seals_ok = 0u64;
    let mut tiles_checked = 0u64;
    let meet = |rebuild: &Rebuild, f: &mut Findings| {
        if let Some(list) = at_size.get(&rebuild.size()) {
            let root = rebuild.root();
            for (i, r) in list {
                if *r != root {
                    f.problem(
                        "checkpoint",
                        format_args!(
                            "{}: its root is not the root of the log's first {} entries (the log changed after it was published)",
                            published[*i].source,
                            rebuild.size()
                        ),
                    );
                }
            }
        }
    };
    meet(&rebuild, f);
    let mut start = 0u64;
    while start < size {
        let end = (start + PAGE).min(size);
        let entries: BTreeMap<u64, Vec<u8>> = store
            .indexed_entries(start, end)
            .await?
            .into_iter()
            .collect();
        let level0: BTreeSet<TileId> = (start / TILE_WIDTH..=(end - 1) / TILE_WIDTH)
            .map(|index| TileId { level: 0, index })
            .collect();
        let stored0 = store.tiles(&level0).await?;
        let mut leaves = Vec::with_capacity((end - start) as usize);
        for i in start..end {
            let tile = TileId {
                level: 0,
                index: i / TILE_WIDTH,
            };
            let stored = stored0
                .hashes(&tile)
                .and_then(|h| h.get((i % TILE_WIDTH) as usize))
                .copied();
            let Some(entry) = entries.get(&i) else {
                f.problem("log", format_args!("entry {i} is missing"));
                leaves.push(stored.unwrap_or(Hash([0; 32])));
                continue;
            };
            match seal_problem(entry, i, &keys.seals) {
                None => seals_ok += 1,
                Some(why) => {
                    bad_seals.insert(i);
                    f.problem("seal", format_args!("entry {i}: {why}"));
                }
            }
            let leaf = leaf_hash(entry);
            match stored {
                Some(s) if s == leaf => {}
                Some(_) => {
                    let blame = if bad_seals.contains(&i) {
                        "its seal fails: the entry was altered"
                    } else {
                        "its seal holds: the stored tile was altered"
                    };
                    f.problem(
                        "log",
                        format_args!(
                            "entry {i}: its leaf hash is not the one stored in tile 0/{} ({blame})",
                            tile.index
                        ),
                    );
                }
                None => f.problem(
                    "tiles",
                    format_args!("tile 0/{} has no hash for entry {i}", tile.index),
                ),
            }
            leaves.push(leaf);
        }
        // Feed the leaves, stopping at every published size on the way.
        let mut rest: &[Hash] = &leaves;
        let mut done = Vec::new();
        while !rest.is_empty() {
            let at = rebuild.size();
            let next_stop = at_size
                .range(at + 1..)
                .next()
                .map(|(s, _)| *s)
                .unwrap_or(u64::MAX);
            let take = (next_stop - at).min(rest.len() as u64) as usize;
            done.extend(rebuild.push(&rest[..take]));
            rest = &rest[take..];
            meet(&rebuild, f);
        }
        tiles_checked += compare_tiles(store, &done, f).await?;
        start = end;
    }
    let root = rebuild.root();
    tiles_checked += compare_tiles(store, &rebuild.finish(), f).await?;
    if root != head_root {
        f.problem(
            "log",
            "the head's root is not the root of the stored entries",
        );
    }
    f.summary.push((
        "log",
        format!("{size} entries re-hashed, {tiles_checked} tiles rebuilt and compared"),
    ));
    f.summary
        .push(("seals", format!("{seals_ok} of {size} entry seals valid")));
    f.summary.push((
        "checkpoints",
        format!(
            "{} published notes ({anchors} anchored), {signatures_ok} signatures valid",
            published.len()
        ),
    ));
    Ok(())
}

/// Compares rebuilt tiles with the stored ones; level 0 only by width (its hashes were
/// compared leaf by leaf). Returns how many were compared.
async fn compare_tiles(
    store: &Store,
    rebuilt: &[(TileId, Vec<Hash>)],
    f: &mut Findings,
) -> Result<u64, CheckError> {
    let ids: BTreeSet<TileId> = rebuilt.iter().map(|(id, _)| *id).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let stored = store.tiles(&ids).await?;
    for (id, hashes) in rebuilt {
        match stored.hashes(id) {
            None => f.problem(
                "tiles",
                format_args!("tile {}/{} is missing", id.level, id.index),
            ),
            Some(s) if s.len() != hashes.len() => f.problem(
                "tiles",
                format_args!(
                    "tile {}/{} holds {} hashes where the entries give {}",
                    id.level,
                    id.index,
                    s.len(),
                    hashes.len()
                ),
            ),
            Some(s) if id.level > 0 && s != hashes.as_slice() => f.problem(
                "tiles",
                format_args!(
                    "tile {}/{} differs from the tile rebuilt from the entries",
                    id.level, id.index
                ),
            ),
            Some(_) => {}
        }
    }
    Ok(ids.len() as u64)
}

/// Why entry `index`'s seal is not valid, if it is not: the entry must be a JSON object
/// with a `seal` over the rest, by one of the service's seal keys, and name its index.
fn seal_problem(entry: &[u8], index: u64, seals: &[SealPublicKey]) -> Option<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(entry)
    else {
        return Some("not a JSON object".into());
    };
    let Some(seal) = map
        .get("seal")
        .and_then(|s| serde_json::from_value::<Seal>(s.clone()).ok())
    else {
        return Some("no seal".into());
    };
    match verify_seal(&map, &seal) {
        Err(e) => return Some(e.to_string()),
        Ok(key) if !seals.contains(&key) => {
            return Some(format!(
                "sealed by key {}, which is not one of this service's seal keys",
                key.key_id()
            ));
        }
        Ok(_) => {}
    }
    match map.get("log_index").and_then(serde_json::Value::as_u64) {
        Some(i) if i == index => None,
        Some(i) => Some(format!("it names log index {i}")),
        None => Some("it names no log index".into()),
    }
}

async fn check_vault(store: &Store, keys: &CheckKeys, f: &mut Findings) -> Result<(), CheckError> {
    let (mut live, mut erased, mut evidence) = (0u64, 0u64, 0u64);
    let mut after = String::new();
    loop {
        let page = store.vault_scan(&after, VAULT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for row in &page {
            if row.erased {
                erased += 1;
                if row.wrapped_key.is_some() || row.identity.is_some() {
                    f.problem(
                        "vault",
                        format_args!(
                            "contact {} is erased but still holds its {}",
                            row.id,
                            if row.wrapped_key.is_some() {
                                "wrapped key"
                            } else {
                                "sealed identity"
                            }
                        ),
                    );
                }
                continue;
            }
            live += 1;
            if let Some(why) = vault_problem(keys, row) {
                f.problem("vault", format_args!("contact {}: {why}", row.id));
            }
        }
    }
    let mut after = String::new();
    loop {
        let page = store.evidence_scan(&after, VAULT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.proof_id.clone();
        for row in &page {
            evidence += 1;
            if let Some(why) = evidence_problem(keys, row) {
                f.problem(
                    "vault",
                    format_args!("evidence file of proof {}: {why}", row.proof_id),
                );
            }
        }
    }
    f.summary.push((
        "vault",
        format!("{live} identities opened or tried, {erased} erased, {evidence} evidence files"),
    ));
    Ok(())
}

/// Why a live contact's envelope does not open, if it does not. The vault's errors name
/// no content, only what failed.
fn vault_problem(keys: &CheckKeys, row: &consentry_store::VaultScanRow) -> Option<String> {
    let (Ok(tenant), Ok(subject)) = (TenantId::parse(&row.tenant), SubjectId::parse(&row.id))
    else {
        return Some("its tenant or subject ID is malformed".into());
    };
    let (Some(wrapped), Some(sealed)) = (&row.wrapped_key, &row.identity) else {
        return Some("it is not erased but holds no wrapped key or identity".into());
    };
    let key = match keys
        .ring
        .tenant_keys(&tenant)
        .unwrap_subject_key(&subject, &WrappedKey::from_bytes(wrapped.clone()))
    {
        Ok(k) => k,
        Err(e) => {
            return Some(format!(
                "its subject key does not unwrap (master key version {}): {e}",
                row.key_version
            ));
        }
    };
    match key.open(&tenant, &subject, sealed) {
        Ok(identity) => address_grammar_problem(&identity.email),
        Err(e) => Some(format!("its identity envelope does not open: {e}")),
    }
}

/// A row written before the address grammar (`consentry_vault::normalize_email`) whose
/// address breaks it, or is not in its normalised form: reported by the rule's name,
/// never with the address itself. Such a contact may duplicate another one; see
/// docs/operations.md.
fn address_grammar_problem(email: &str) -> Option<String> {
    consentry_vault::stored_email_violation(email)
        .map(|e| format!("its address breaks the address grammar ({})", e.rule()))
}

fn evidence_problem(keys: &CheckKeys, row: &consentry_store::EvidenceScanRow) -> Option<String> {
    let (Ok(tenant), Ok(subject)) = (TenantId::parse(&row.tenant), SubjectId::parse(&row.subject))
    else {
        return Some("its tenant or subject ID is malformed".into());
    };
    let Some(wrapped) = &row.wrapped_key else {
        return Some("its subject holds no key (erased, or missing)".into());
    };
    let key = keys
        .ring
        .tenant_keys(&tenant)
        .unwrap_subject_key(&subject, &WrappedKey::from_bytes(wrapped.clone()))
        .ok()?;
    key.open_document(&tenant, &subject, &row.sealed)
        .err()
        .map(|e| format!("it does not open: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_core::merkle::root_of_leaf_hashes;

    #[test]
    fn rows_that_break_the_address_grammar_are_named_by_rule_never_by_address() {
        assert_eq!(address_grammar_problem("bob@example.org"), None);
        for (stored, rule) in [
            ("<bob@example.org>", "angle-brackets"),
            ("\"bob\"@example.org", "quoted"),
            ("Bob@Example.org", "not-normalised"),
        ] {
            let problem = address_grammar_problem(stored)
                .unwrap_or_else(|| panic!("{stored} passed the grammar"));
            assert!(problem.contains(rule), "{stored}: {problem}");
            assert!(!problem.contains("bob"), "{stored}: {problem}");
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn rebuild_hands_out_every_tile_once_with_its_final_contents() {
        for n in [0u64, 1, 255, 256, 257, 256 * 256 + 3] {
            let all = leaves(n);
            let mut r = Rebuild::default();
            let mut tiles = Vec::new();
            for chunk in all.chunks(1000) {
                tiles.extend(r.push(chunk));
            }
            assert_eq!(r.root(), root_of_leaf_hashes(&all), "n = {n}");
            tiles.extend(r.finish());
            let got: BTreeMap<TileId, u64> =
                tiles.iter().map(|(id, h)| (*id, h.len() as u64)).collect();
            assert_eq!(got.len(), tiles.len(), "a tile handed out twice, n = {n}");
            let want: BTreeMap<TileId, u64> = tiles_of(n).into_iter().collect();
            assert_eq!(got, want, "n = {n}");
            // Level 0 holds the leaves themselves.
            for (id, hashes) in tiles.iter().filter(|(id, _)| id.level == 0) {
                let from = (id.index * TILE_WIDTH) as usize;
                assert_eq!(hashes.as_slice(), &all[from..from + hashes.len()]);
            }
        }
    }

    #[test]
    fn a_seal_is_checked_against_the_services_keys_and_the_entry_index() {
        let key = consentry_core::keys::SealKey::from_seed(&[7; 32]);
        let other = consentry_core::keys::SealKey::from_seed(&[8; 32]);
        let body = serde_json::json!({"log_index": 3, "x": "y"});
        let bytes = consentry_core::canonical::to_canonical_bytes(&body).unwrap();
        let seal = consentry_core::proof::seal_message(&bytes, &key);
        let mut entry = body.as_object().unwrap().clone();
        entry.insert("seal".into(), serde_json::to_value(&seal).unwrap());
        let entry = serde_json::to_vec(&entry).unwrap();
        assert_eq!(seal_problem(&entry, 3, &[key.public()]), None);
        assert!(seal_problem(&entry, 4, &[key.public()]).is_some());
        assert!(seal_problem(&entry, 3, &[other.public()]).is_some());
        let altered = String::from_utf8(entry).unwrap().replace("\"y\"", "\"z\"");
        assert!(seal_problem(altered.as_bytes(), 3, &[key.public()]).is_some());
    }

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite:///a/b.db?mode=rwc"),
            Some("/a/b.db".into())
        );
        assert_eq!(sqlite_path("sqlite:rel.db"), Some("rel.db".into()));
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
