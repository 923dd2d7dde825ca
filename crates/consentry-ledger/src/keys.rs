//! The service's keys: generated on first start into the data dir, readable by the owner
//! only (0600), reused on every later start, and rotatable (docs/operations.md, "Keys").
//!
//! - `seal.key`: the Ed25519 seed that seals proofs;
//! - `log.key`: the Ed25519 seed that signs checkpoints;
//! - `master.key`: the vault's master key (or `CONSENTRY_MASTER_KEY`, base64);
//! - `master.previous.key`: while a master-key rotation runs, the key being rotated away
//!   (or `CONSENTRY_MASTER_KEY_PREVIOUS`); deleted when it is retired;
//! - `link.key`: the key of single-use links and webhook secrets, pinned at the first
//!   master-key rotation so that links already sent and secrets already handed out keep
//!   working (absent before: derived from the master key, as always);
//! - `seal.retired.pub`, `log.retired.pub`: the public halves of rotated-away seal and log
//!   keys, one per line, oldest first (standard base64 of the Ed25519 key; a signed-note
//!   verifier key), still published so that what they signed still verifies.
//!
//! Each private key file holds one line of standard base64. A key file is created
//! atomically (written aside, then hard-linked into place, which fails if another process
//! won the race; the winner's key is then read), so two instances started together on one
//! data dir agree; a rotated key replaces the old one by a rename.
//!
//! The seal and log keys are read at start: a rotated one is used from the next restart.
//! The master keys are **live**: which version is current is the database's to say
//! (`consentry_store::VaultKeyRow`), and a running service re-reads its key files
//! whenever that changes ([`watch`], every [`KEYRING_POLL`]), so a rotation needs no
//! restart and no downtime.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use consentry_core::checkpoint::{parse_signed_checkpoint, verifier_key_label};
use consentry_core::keys::{LogKey, SealKey, SealPublicKey};
use consentry_core::rotation::RotationStatement;
use consentry_store::{RewrapRow, Rewrapped, Store, StoreError, VaultKeyRow, VaultKeyState};
use consentry_vault::{LinkKey, MasterKey, MasterKeyring, TenantKeys, rewrap};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use zeroize::Zeroizing;

/// How often a running service checks the database for a master key change.
pub const KEYRING_POLL: Duration = Duration::from_secs(1);

/// The current master key's file in the data dir.
pub const MASTER_FILE: &str = "master.key";
/// The previous master key's file, while a rotation runs.
pub const MASTER_PREVIOUS_FILE: &str = "master.previous.key";
/// The pinned link key's file.
pub const LINK_FILE: &str = "link.key";
/// The seal key's file.
pub const SEAL_FILE: &str = "seal.key";
/// The log key's file.
pub const LOG_FILE: &str = "log.key";
/// Rotated-away seal public keys.
pub const SEAL_RETIRED_FILE: &str = "seal.retired.pub";
/// Rotated-away log verifier keys.
pub const LOG_RETIRED_FILE: &str = "log.retired.pub";
/// The key rotation statements (`consentry.key-rotation/v1`), one JSON object a line,
/// oldest first: each signed by the key it retires, naming its successor, published so
/// that verifiers who pinned the old key can accept the new one.
pub const ROTATIONS_FILE: &str = "key-rotations.jsonl";

/// Environment variable holding the current master key (base64).
pub const MASTER_ENV: &str = "CONSENTRY_MASTER_KEY";
/// Environment variable holding the previous master key during a rotation (base64).
pub const MASTER_PREVIOUS_ENV: &str = "CONSENTRY_MASTER_KEY_PREVIOUS";

/// Why keys could not be loaded, created or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not hold 32 bytes of base64.
    #[error("key file {0} does not hold a 32-byte key in base64")]
    Malformed(PathBuf),
    /// A public key file holds a line that is not a key of its kind.
    #[error("{path} line {line} is not a {what}")]
    MalformedPublic {
        /// Which file.
        path: PathBuf,
        /// Its 1-based line.
        line: usize,
        /// What the line should be.
        what: &'static str,
    },
    /// The log origin is not a valid key name.
    #[error("invalid log origin: {0}")]
    Origin(String),
    /// A rotation statement could not be made, or a stored one does not verify.
    #[error("key rotation statement: {0}")]
    Rotation(String),
    /// None of the master keys given is the one the database says is current.
    #[error(
        "none of the master keys given ({sources}) is master key version {version}, the current one of this database: point --data-dir at the service's keys, or set {MASTER_ENV} to its key"
    )]
    WrongMasterKey {
        /// The database's current version.
        version: u32,
        /// Where keys were looked for.
        sources: String,
    },
    /// A key that must exist does not.
    #[error("{0} does not exist: start `consentry serve` once to create the keys")]
    Missing(PathBuf),
    /// The database failed, or refused a key change.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The keys a running service holds.
pub struct Keys {
    /// Seals proofs.
    pub seal: Arc<SealKey>,
    /// Signs checkpoints.
    pub log: Arc<LogKey>,
    /// The vault's master keys.
    pub master: MasterKeys,
    /// Seal keys rotated away, newest first: still published, so that the proofs they
    /// sealed still verify.
    pub retired_seal: Vec<SealPublicKey>,
    /// Log verifier keys rotated away, newest first: still published, so that the
    /// checkpoints they signed still verify.
    pub retired_log: Vec<String>,
    /// The rotation statements, oldest first (see [`ROTATIONS_FILE`]).
    pub rotations: Vec<RotationStatement>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("seal", &self.seal)
            .field("log", &self.log)
            .field("master", &self.master)
            .field("retired_seal", &self.retired_seal)
            .field("retired_log", &self.retired_log)
            .finish()
    }
}

impl Keys {
    /// The log verifier key a stored checkpoint was signed with: the current key's if it
    /// signed it, else the retired key that did (the current key's if none matches).
    /// Certificates name it, so that one issued before a rotation and one issued after
    /// are the same bytes.
    pub fn log_verifier_for(&self, note: &str) -> String {
        let current = self.log.verifier_key();
        let Ok((_, signers)) = parse_signed_checkpoint(note) else {
            return current;
        };
        std::iter::once(&current)
            .chain(&self.retired_log)
            .find(|v| {
                verifier_key_label(v)
                    .map(|label| signers.contains(&label))
                    .unwrap_or(false)
            })
            .cloned()
            .unwrap_or(current)
    }

    /// `note` with a signature by the current log key added if it has none (signatures
    /// already there are kept). After a log-key rotation, a document that names only the
    /// current key (the anchor history) carries checkpoints signed before the rotation:
    /// the current key vouches for them too, which any signed-note verifier can check.
    /// A note that cannot be parsed is returned as it is.
    pub fn cosigned(&self, note: &str) -> String {
        let current = self.log.verifier_key();
        if self.log_verifier_for(note) == current {
            return note.to_owned();
        }
        let Ok(mut parsed) = signed_note::Note::from_bytes(note.as_bytes()) else {
            return note.to_owned();
        };
        let signer: &dyn signed_note::Signer = &*self.log;
        if parsed.add_sigs(&[signer]).is_err() {
            return note.to_owned();
        }
        String::from_utf8(parsed.to_bytes()).unwrap_or_else(|_| note.to_owned())
    }

    /// Every seal public key to publish: the current one first, then the retired ones,
    /// newest first.
    pub fn seal_public_keys(&self) -> Vec<SealPublicKey> {
        std::iter::once(self.seal.public())
            .chain(self.retired_seal.iter().copied())
            .collect()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the 32-byte key in `path`, creating it from `fresh` if the file does not exist.
pub fn load_or_create(path: &Path, fresh: [u8; 32]) -> Result<[u8; 32], KeyFileError> {
    if let Some(key) = read_key(path)? {
        return Ok(*key);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = write_aside(path, &fresh)?;
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp).map_err(io(&tmp))?;
    match linked {
        Ok(()) => Ok(fresh),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io(path))?);
            Ok(*decode(path, &text)?)
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// Reads the 32-byte key in `path`, if the file exists.
pub fn read_key(path: &Path) -> Result<Option<Zeroizing<[u8; 32]>>, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => decode(path, &Zeroizing::new(text)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes `key` as a key file beside `path` (0600, synced) and returns that file's path.
fn write_aside(path: &Path, key: &[u8; 32]) -> Result<PathBuf, KeyFileError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    let line = Zeroizing::new(format!("{}\n", BASE64.encode(key)));
    f.write_all(line.as_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    Ok(tmp)
}

/// Writes `key` to `path` (0600), replacing any file there in one rename, and syncs the
/// directory: after a crash the file holds either the old key or the new one.
pub fn replace_key(path: &Path, key: &[u8; 32]) -> Result<(), KeyFileError> {
    let tmp = write_aside(path, key)?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path)
}

/// Replaces the text file `path` (mode `mode`) in one rename.
pub(crate) fn replace_text(path: &Path, text: &str, mode: u32) -> Result<(), KeyFileError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path)
}

/// Deletes the key file `path` (overwritten with zeros first), if it exists.
pub fn delete_key(path: &Path) -> Result<(), KeyFileError> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(mut f) => {
            let len = f.metadata().map_err(io(path))?.len();
            let zeros = vec![0u8; usize::try_from(len).unwrap_or(0)];
            f.write_all(&zeros).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path)(e)),
    }
    std::fs::remove_file(path).map_err(io(path))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), KeyFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

fn decode(path: &Path, text: &str) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let bytes = Zeroizing::new(
        BASE64
            .decode(text.trim())
            .map_err(|_| KeyFileError::Malformed(path.to_owned()))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(KeyFileError::Malformed(path.to_owned()));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// The non-empty lines of a public key file (none if it does not exist).
fn read_lines(path: &Path) -> Result<Vec<String>, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(path)(e)),
    }
}

/// Appends `line` to the public key file `path` unless it is there already.
fn append_line(path: &Path, line: &str) -> Result<(), KeyFileError> {
    let mut lines = read_lines(path)?;
    if lines.iter().any(|l| l == line) {
        return Ok(());
    }
    lines.push(line.to_owned());
    replace_text(path, &(lines.join("\n") + "\n"), 0o644)
}

/// The key rotation statements in the data dir, oldest first, each checked.
pub fn rotation_statements(data_dir: &Path) -> Result<Vec<RotationStatement>, KeyFileError> {
    let path = data_dir.join(ROTATIONS_FILE);
    read_lines(&path)?
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let s: RotationStatement =
                serde_json::from_str(l).map_err(|_| KeyFileError::MalformedPublic {
                    path: path.clone(),
                    line: i + 1,
                    what: "key rotation statement",
                })?;
            s.verify().map_err(|e| {
                KeyFileError::Rotation(format!("{} line {}: {e}", path.display(), i + 1))
            })?;
            Ok(s)
        })
        .collect()
}

/// Records a rotation statement (after the old key is retired, before the new one takes
/// its place: a crash in between leaves a statement for a key never used, harmless).
fn record_rotation(data_dir: &Path, statement: &RotationStatement) -> Result<(), KeyFileError> {
    let line =
        serde_json::to_string(statement).map_err(|e| KeyFileError::Rotation(e.to_string()))?;
    append_line(&data_dir.join(ROTATIONS_FILE), &line)
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// The retired seal public keys in the data dir, oldest first.
pub fn retired_seal_keys(data_dir: &Path) -> Result<Vec<SealPublicKey>, KeyFileError> {
    let path = data_dir.join(SEAL_RETIRED_FILE);
    read_lines(&path)?
        .iter()
        .enumerate()
        .map(|(i, l)| {
            SealPublicKey::from_base64(l).map_err(|_| KeyFileError::MalformedPublic {
                path: path.clone(),
                line: i + 1,
                what: "seal public key (base64 of 32 bytes)",
            })
        })
        .collect()
}

/// The retired log verifier keys in the data dir, oldest first.
pub fn retired_log_keys(data_dir: &Path) -> Result<Vec<String>, KeyFileError> {
    let path = data_dir.join(LOG_RETIRED_FILE);
    let lines = read_lines(&path)?;
    for (i, l) in lines.iter().enumerate() {
        verifier_key_label(l).map_err(|_| KeyFileError::MalformedPublic {
            path: path.clone(),
            line: i + 1,
            what: "signed-note verifier key",
        })?;
    }
    Ok(lines)
}

/// The default log origin for a log key: `consentry.local/` and the first 8 hex digits
/// of its public key's fingerprint, unique per installation and stable across restarts.
pub fn default_origin(log_seed: &[u8; 32]) -> String {
    let fp = SealKey::from_seed(log_seed).public().fingerprint();
    format!("consentry.local/{}", &fp[..8])
}

/// The log's origin: once the log key has been rotated, the origin of the first log key
/// (the first line of `log.retired.pub`: a log's origin never changes); before, `origin`
/// of the log key's seed.
fn log_origin(
    data_dir: &Path,
    log_seed: &[u8; 32],
    origin: impl FnOnce(&[u8; 32]) -> String,
) -> Result<String, KeyFileError> {
    Ok(match retired_log_keys(data_dir)?.first() {
        Some(first) => first
            .split_once('+')
            .map(|(name, _)| name.to_owned())
            .unwrap_or_else(|| first.clone()),
        None => origin(log_seed),
    })
}

/// Loads (or creates) every key in `data_dir`. `master_override` is the base64 master
/// key from the environment, which takes precedence over `master.key`; the previous
/// master key during a rotation is read from `CONSENTRY_MASTER_KEY_PREVIOUS` when the
/// current one comes from the environment, from `master.previous.key` otherwise.
///
/// The master keys are numbered by the database: call [`MasterKeys::sync`] before using
/// them to write (until then the ring holds the current key alone, as version 1).
pub fn load(
    data_dir: &Path,
    origin: impl FnOnce(&[u8; 32]) -> String,
    master_override: Option<&str>,
) -> Result<Keys, KeyFileError> {
    let seal = Zeroizing::new(load_or_create(
        &data_dir.join(SEAL_FILE),
        crate::random::bytes(),
    )?);
    let log_seed = Zeroizing::new(load_or_create(
        &data_dir.join(LOG_FILE),
        crate::random::bytes(),
    )?);
    let source = MasterSource {
        data_dir: data_dir.to_owned(),
        env_current: master_override.map(|s| Zeroizing::new(s.to_owned())),
        env_previous: match master_override {
            Some(_) => std::env::var(MASTER_PREVIOUS_ENV).ok().map(Zeroizing::new),
            None => None,
        },
    };
    if source.env_current.is_none() {
        load_or_create(&data_dir.join(MASTER_FILE), crate::random::bytes())?;
    }
    let master = MasterKeys::new(source)?;
    let origin = log_origin(data_dir, &log_seed, origin)?;
    let log =
        LogKey::from_seed(&origin, &log_seed).map_err(|e| KeyFileError::Origin(e.to_string()))?;
    let seal = SealKey::from_seed(&seal);
    let mut retired_seal = retired_seal_keys(data_dir)?;
    retired_seal.retain(|k| *k != seal.public());
    retired_seal.reverse();
    let mut retired_log = retired_log_keys(data_dir)?;
    retired_log.retain(|k| *k != log.verifier_key());
    retired_log.reverse();
    Ok(Keys {
        seal: Arc::new(seal),
        log: Arc::new(log),
        master,
        retired_seal,
        retired_log,
        rotations: rotation_statements(data_dir)?,
    })
}

/// Where the master keys are read from.
struct MasterSource {
    data_dir: PathBuf,
    env_current: Option<Zeroizing<String>>,
    env_previous: Option<Zeroizing<String>>,
}

/// The master keys found, before the database numbers them.
pub struct MasterCandidates {
    /// The current key (`CONSENTRY_MASTER_KEY` or `master.key`).
    pub current: MasterKey,
    /// The previous key, during a rotation.
    pub previous: Option<MasterKey>,
    /// The pinned link key, once a rotation pinned it.
    pub link: Option<LinkKey>,
}

impl MasterSource {
    fn describe(&self) -> String {
        match self.env_current {
            Some(_) => format!("{MASTER_ENV}, {MASTER_PREVIOUS_ENV}"),
            None => format!(
                "{}, {}",
                self.data_dir.join(MASTER_FILE).display(),
                self.data_dir.join(MASTER_PREVIOUS_FILE).display()
            ),
        }
    }

    fn read(&self) -> Result<MasterCandidates, KeyFileError> {
        let from_env = |text: &str, name: &str| {
            MasterKey::from_base64(text).map_err(|_| KeyFileError::Malformed(PathBuf::from(name)))
        };
        let from_file = |name: &str| -> Result<Option<MasterKey>, KeyFileError> {
            Ok(read_key(&self.data_dir.join(name))?.map(|k| MasterKey::from_bytes(*k)))
        };
        let (current, previous) = match &self.env_current {
            Some(text) => (
                from_env(text, MASTER_ENV)?,
                self.env_previous
                    .as_ref()
                    .map(|t| from_env(t, MASTER_PREVIOUS_ENV))
                    .transpose()?,
            ),
            None => (
                from_file(MASTER_FILE)?
                    .ok_or_else(|| KeyFileError::Missing(self.data_dir.join(MASTER_FILE)))?,
                from_file(MASTER_PREVIOUS_FILE)?,
            ),
        };
        let link_path = self.data_dir.join(LINK_FILE);
        let link = match std::fs::read_to_string(&link_path) {
            Ok(text) => Some(
                LinkKey::from_base64(&Zeroizing::new(text))
                    .map_err(|_| KeyFileError::Malformed(link_path.clone()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&link_path)(e)),
        };
        Ok(MasterCandidates {
            current,
            previous,
            link,
        })
    }
}

/// The master keys in `data_dir` (or given in the environment, `env_current` and
/// `env_previous`), read without creating any.
pub fn master_candidates(
    data_dir: &Path,
    env_current: Option<&str>,
    env_previous: Option<&str>,
) -> Result<MasterCandidates, KeyFileError> {
    MasterSource {
        data_dir: data_dir.to_owned(),
        env_current: env_current.map(|s| Zeroizing::new(s.to_owned())),
        env_previous: env_previous.map(|s| Zeroizing::new(s.to_owned())),
    }
    .read()
}

/// The public keys a service on `data_dir` publishes, read without creating any key:
/// the seal keys (current first, then retired, newest first) and the log's verifier keys
/// (likewise).
pub fn public_keys(
    data_dir: &Path,
    origin: impl FnOnce(&[u8; 32]) -> String,
) -> Result<(Vec<SealPublicKey>, Vec<String>), KeyFileError> {
    let seal_path = data_dir.join(SEAL_FILE);
    let log_path = data_dir.join(LOG_FILE);
    let seal = read_key(&seal_path)?.ok_or(KeyFileError::Missing(seal_path))?;
    let log_seed = read_key(&log_path)?.ok_or(KeyFileError::Missing(log_path))?;
    let seal = SealKey::from_seed(&seal).public();
    let origin = log_origin(data_dir, &log_seed, origin)?;
    let log = LogKey::from_seed(&origin, &log_seed)
        .map_err(|e| KeyFileError::Origin(e.to_string()))?
        .verifier_key();
    let mut seals: Vec<SealPublicKey> = retired_seal_keys(data_dir)?
        .into_iter()
        .filter(|k| *k != seal)
        .collect();
    seals.push(seal);
    seals.reverse();
    let mut logs: Vec<String> = retired_log_keys(data_dir)?
        .into_iter()
        .filter(|k| *k != log)
        .collect();
    logs.push(log);
    logs.reverse();
    Ok((seals, logs))
}

/// Builds the ring the database's versions describe from the keys found: each key is
/// matched to a version by its check value; retired versions are left out. `None` if no
/// key is the current version.
pub fn ring_for(candidates: MasterCandidates, versions: &[VaultKeyRow]) -> Option<MasterKeyring> {
    let live = |key: &MasterKey| {
        let check = key.check_value();
        versions
            .iter()
            .find(|v| v.key_check == check && v.state != VaultKeyState::Retired)
            .map(|v| (v.version, v.state))
    };
    let mut current = None;
    let mut others = Vec::new();
    for key in std::iter::once(candidates.current).chain(candidates.previous) {
        match live(&key) {
            Some((v, VaultKeyState::Current)) => current = Some((v, key)),
            Some((v, _)) => others.push((v, key)),
            None => {}
        }
    }
    let (version, key) = current?;
    let mut ring = MasterKeyring::new(version, key);
    for (v, k) in others {
        ring = ring.with_key(v, k);
    }
    Some(match candidates.link {
        Some(link) => ring.with_link_key(link),
        None => ring,
    })
}

/// The vault's master keys as a running process holds them: a ring that is replaced
/// whenever the database's master key versions change ([`MasterKeys::sync`]).
pub struct MasterKeys {
    source: MasterSource,
    ring: RwLock<Arc<MasterKeyring>>,
    generation: AtomicU64,
    seen: Mutex<Option<Vec<VaultKeyRow>>>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKeys({:?})", self.ring())
    }
}

impl MasterKeys {
    fn new(source: MasterSource) -> Result<MasterKeys, KeyFileError> {
        let found = source.read()?;
        let mut ring = MasterKeyring::new(1, found.current);
        if let Some(link) = found.link {
            ring = ring.with_link_key(link);
        }
        Ok(MasterKeys {
            source,
            ring: RwLock::new(Arc::new(ring)),
            generation: AtomicU64::new(0),
            seen: Mutex::new(None),
        })
    }

    /// The ring now.
    pub fn ring(&self) -> Arc<MasterKeyring> {
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// `tenant`'s keys under every master key version held (see
    /// [`MasterKeyring::tenant_keys`]).
    pub fn tenant_keys(&self, tenant: &consentry_core::ids::TenantId) -> TenantKeys {
        self.ring().tenant_keys(tenant)
    }

    /// A link token (see [`MasterKey::link_token`]) under the ring's link key.
    pub fn link_token(&self, kind: &str, id: &str) -> [u8; 32] {
        self.ring().link_token(kind, id)
    }

    /// Bumped each time the ring is replaced: caches of tenant keys compare it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Reads the database's master key versions and, if they changed since the last
    /// call, the key files, and replaces the ring. On a database without versions the
    /// current key is recorded as version 1 first. Returns whether the ring changed.
    ///
    /// # Errors
    ///
    /// [`KeyFileError::WrongMasterKey`] if no key found is the current version (the ring
    /// in use is kept), and file or database errors.
    pub async fn sync(&self, store: &Store, now_ms: i64) -> Result<bool, KeyFileError> {
        let mut versions = store.vault_keys().await?;
        if versions.is_empty() {
            let check = self.source.read()?.current.check_value();
            versions = store.adopt_vault_key(&check, now_ms).await?;
        }
        let unchanged = match self.seen.lock() {
            Ok(seen) => seen.as_ref() == Some(&versions),
            Err(_) => false,
        };
        if unchanged {
            return Ok(false);
        }
        let current = versions
            .iter()
            .find(|v| v.state == VaultKeyState::Current)
            .map(|v| v.version)
            .ok_or_else(|| StoreError::Keyring("no current master key version".into()))?;
        let ring = ring_for(self.source.read()?, &versions).ok_or_else(|| {
            KeyFileError::WrongMasterKey {
                version: current,
                sources: self.source.describe(),
            }
        })?;
        tracing::info!(
            current = ring.current_version(),
            versions = ?ring.versions(),
            "master keys loaded"
        );
        match self.ring.write() {
            Ok(mut r) => *r = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(versions);
        }
        Ok(true)
    }
}

/// Keeps `keys`' master keys in step with the database until `stop` turns true: every
/// [`KEYRING_POLL`], [`MasterKeys::sync`]. A failure is logged and retried; the ring in
/// use is kept meanwhile.
pub async fn watch(
    keys: Arc<Keys>,
    store: Store,
    clock: Arc<dyn crate::clock::Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(KEYRING_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = keys.master.sync(&store, clock.now_ms()).await {
            tracing::warn!(error = %e, "master keys not reloaded");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rotation steps. The `consentry keys` commands sequence them; each is safe to repeat.

/// Pins the link key (derived from `master`, the key in use before the first rotation)
/// in `link.key`, unless one is pinned already. Links e-mailed and webhook secrets handed
/// out before the rotation stay valid.
pub fn pin_link_key(data_dir: &Path, master: &MasterKey) -> Result<(), KeyFileError> {
    let path = data_dir.join(LINK_FILE);
    if read_key(&path)?.is_some() {
        return Ok(());
    }
    let link = master.link_key();
    let bytes = decode(&path, &link.to_base64())?;
    load_or_create(&path, *bytes).map(|_| ())
}

/// A master-key rotation's files: `old` saved as `master.previous.key`, then `new`
/// written to `master.key`. A crash in between leaves the old key in both, which the next
/// run repairs.
pub fn install_master_keys(
    data_dir: &Path,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<(), KeyFileError> {
    let old_bytes = decode(Path::new(MASTER_PREVIOUS_FILE), &old.to_base64())?;
    replace_key(&data_dir.join(MASTER_PREVIOUS_FILE), &old_bytes)?;
    let new_bytes = decode(Path::new(MASTER_FILE), &new.to_base64())?;
    replace_key(&data_dir.join(MASTER_FILE), &new_bytes)
}

/// What became of a batch of rows re-wrapped by [`rewrap_batch`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows read.
    pub read: u64,
    /// Rows moved to the new version.
    pub moved: u64,
    /// Rows that could not be re-wrapped (their wrapped key did not open under the old
    /// key, or their new blind index is another contact's): pseudonym and reason. They
    /// stay under the old version.
    pub failed: Vec<(consentry_core::ids::SubjectId, String)>,
    /// The last pseudonym read: where the next batch starts.
    pub last: Option<consentry_core::ids::SubjectId>,
}

/// Re-wraps up to `limit` contacts after `after` from master key `(from, old)` to
/// `(to, new)`, in one transaction: each subject key is unwrapped under the old key and
/// wrapped under the new one, and the e-mail blind index is recomputed from the sealed
/// identity (opened with the subject key) under the new one. A batch the database
/// refuses as a whole (two rows one blind index) is retried row by row, and the rows at
/// fault are reported.
pub async fn rewrap_batch(
    store: &Store,
    (from, old): (u32, &MasterKey),
    (to, new): (u32, &MasterKey),
    after: Option<&consentry_core::ids::SubjectId>,
    limit: u32,
) -> Result<BatchOutcome, KeyFileError> {
    let rows = store.contacts_to_rewrap(from, after, limit).await?;
    let mut out = BatchOutcome {
        read: rows.len() as u64,
        last: rows.last().map(|r| r.id.clone()),
        ..BatchOutcome::default()
    };
    let mut batch = Vec::with_capacity(rows.len());
    for row in rows {
        match rewrapped(&row, old, new) {
            Ok(r) => batch.push(r),
            Err(reason) => out.failed.push((row.id.clone(), reason)),
        }
    }
    match store.rewrap_contacts(from, to, &batch).await {
        Ok(moved) => out.moved = moved,
        Err(StoreError::Database(e)) => {
            tracing::warn!(error = %e, "batch refused; re-wrapping its rows one by one");
            for r in batch {
                match store
                    .rewrap_contacts(from, to, std::slice::from_ref(&r))
                    .await
                {
                    Ok(moved) => out.moved += moved,
                    Err(StoreError::Database(e)) => out.failed.push((
                        r.read.id.clone(),
                        format!("the database refused its new form: {e}"),
                    )),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}

/// One row's new form, or why it has none.
fn rewrapped(row: &RewrapRow, old: &MasterKey, new: &MasterKey) -> Result<Rewrapped, String> {
    let Some(wrapped) = &row.wrapped_key else {
        return Ok(Rewrapped {
            read: row.clone(),
            wrapped_key: None,
            email_index: None,
        });
    };
    let old_keys = old.tenant_keys(&row.tenant);
    let new_keys = new.tenant_keys(&row.tenant);
    let wrapped = consentry_vault::WrappedKey::from_bytes(wrapped.clone());
    let moved = rewrap(
        &mut crate::random::rng(),
        &old_keys,
        &new_keys,
        &row.id,
        &wrapped,
    )
    .map_err(|e| format!("its subject key does not open under the old master key: {e}"))?;
    let email_index = match &row.identity {
        Some(sealed) => {
            let key = old_keys
                .unwrap_subject_key(&row.id, &wrapped)
                .map_err(|e| e.to_string())?;
            let identity = key
                .open(&row.tenant, &row.id, sealed)
                .map_err(|e| format!("its identity does not open: {e}"))?;
            // The form it was indexed on, grammar or not: a row written before the
            // address grammar keeps its index (a whole-store check reports it).
            let email = consentry_vault::canonical_email(&identity.email)
                .map_err(|e| format!("its stored address: {e}"))?;
            Some(new_keys.blind_index(&email))
        }
        None => None,
    };
    Ok(Rewrapped {
        read: row.clone(),
        wrapped_key: Some(moved.into_bytes()),
        email_index,
    })
}

/// Rotates the seal key: the current public key is added to `seal.retired.pub`, then a
/// new seed replaces `seal.key`. Returns the old and new public keys. A running service
/// keeps the old key until it restarts.
pub fn rotate_seal(data_dir: &Path) -> Result<(SealPublicKey, SealPublicKey), KeyFileError> {
    let path = data_dir.join(SEAL_FILE);
    let seed = read_key(&path)?.ok_or_else(|| KeyFileError::Missing(path.clone()))?;
    let old_key = SealKey::from_seed(&seed);
    let old = old_key.public();
    append_line(&data_dir.join(SEAL_RETIRED_FILE), &old.to_base64())?;
    let fresh = Zeroizing::new(crate::random::bytes::<32>());
    let new = SealKey::from_seed(&fresh).public();
    let log_seed = read_key(&data_dir.join(LOG_FILE))?
        .ok_or_else(|| KeyFileError::Missing(data_dir.join(LOG_FILE)))?;
    let origin = log_origin(data_dir, &log_seed, default_origin)?;
    let statement = RotationStatement::seal(&origin, &old_key, new, &now_rfc3339())
        .map_err(|e| KeyFileError::Rotation(e.to_string()))?;
    record_rotation(data_dir, &statement)?;
    replace_key(&path, &fresh)?;
    Ok((old, new))
}

/// Rotates the log key: the current verifier key is added to `log.retired.pub`, then a
/// new seed replaces `log.key`. The log's origin (the key name) stays. Returns the old
/// and new verifier keys. A running service keeps the old key until it restarts.
pub fn rotate_log(
    data_dir: &Path,
    origin: impl FnOnce(&[u8; 32]) -> String,
) -> Result<(String, String), KeyFileError> {
    let path = data_dir.join(LOG_FILE);
    let seed = read_key(&path)?.ok_or_else(|| KeyFileError::Missing(path.clone()))?;
    let origin = log_origin(data_dir, &seed, origin)?;
    let old_key =
        LogKey::from_seed(&origin, &seed).map_err(|e| KeyFileError::Origin(e.to_string()))?;
    let old = old_key.verifier_key();
    append_line(&data_dir.join(LOG_RETIRED_FILE), &old)?;
    let fresh = Zeroizing::new(crate::random::bytes::<32>());
    let new = LogKey::from_seed(&origin, &fresh)
        .map_err(|e| KeyFileError::Origin(e.to_string()))?
        .verifier_key();
    let statement = RotationStatement::log(&old_key, &new, &now_rfc3339())
        .map_err(|e| KeyFileError::Rotation(e.to_string()))?;
    record_rotation(data_dir, &statement)?;
    replace_key(&path, &fresh)?;
    Ok((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_core::checkpoint::{Checkpoint, verify_signed_checkpoint};
    use consentry_core::merkle::leaf_hash;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn keys_are_created_0600_and_reused() {
        let dir = tempfile_dir();
        let p = dir.join("seal.key");
        let a = load_or_create(&p, [1; 32]).unwrap();
        let b = load_or_create(&p, [2; 32]).unwrap();
        assert_eq!(a, [1; 32]);
        assert_eq!(b, [1; 32], "an existing key is never replaced");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&p, "garbage").unwrap();
        assert!(matches!(
            load_or_create(&p, [3; 32]),
            Err(KeyFileError::Malformed(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn seal_rotation_keeps_the_old_public_key_published_and_the_new_seed_private() {
        let dir = tempfile_dir();
        let first = load(&dir, default_origin, None).unwrap();
        let old = first.seal.public();
        assert!(first.retired_seal.is_empty());
        let (was, now) = rotate_seal(&dir).unwrap();
        assert_eq!(was, old);
        assert_ne!(now, old);
        assert_eq!(mode(&dir.join(SEAL_FILE)), 0o600);
        let second = load(&dir, default_origin, None).unwrap();
        assert_eq!(second.seal.public(), now);
        assert_eq!(second.retired_seal, vec![old]);
        assert_eq!(second.seal_public_keys(), vec![now, old]);
        // Twice more: newest retired first; the file holds public keys only.
        let (_, third) = rotate_seal(&dir).unwrap();
        rotate_seal(&dir).unwrap();
        let last = load(&dir, default_origin, None).unwrap();
        assert_eq!(last.retired_seal, vec![third, now, old]);
        let text = std::fs::read_to_string(dir.join(SEAL_RETIRED_FILE)).unwrap();
        assert_eq!(text.lines().next().unwrap(), old.to_base64());
        assert!(!text.contains(&BASE64.encode(first.seal.seed())));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_rotation_keeps_the_origin_and_old_checkpoints_still_verify() {
        let dir = tempfile_dir();
        let first = load(&dir, default_origin, None).unwrap();
        let origin = first.log.origin().to_owned();
        let cp = Checkpoint {
            origin: origin.clone(),
            size: 3,
            root: leaf_hash(b"x"),
            extensions: vec![],
        };
        let old_note = cp.sign(&first.log).unwrap();
        let (was, now) = rotate_log(&dir, default_origin).unwrap();
        assert_eq!(was, first.log.verifier_key());
        assert_eq!(mode(&dir.join(LOG_FILE)), 0o600);
        let second = load(&dir, default_origin, None).unwrap();
        // Same origin (not the default of the new seed), another key ID.
        assert_eq!(second.log.origin(), origin);
        assert_eq!(second.log.verifier_key(), now);
        assert_ne!(
            verifier_key_label(&now).unwrap(),
            verifier_key_label(&was).unwrap()
        );
        assert_eq!(second.retired_log, vec![was.clone()]);
        // The old note verifies under the old key only; certificates name that key.
        verify_signed_checkpoint(&old_note, &was).unwrap();
        assert!(verify_signed_checkpoint(&old_note, &now).is_err());
        assert_eq!(second.log_verifier_for(&old_note), was);
        // Co-signed, it verifies under both, and its body is unchanged.
        let both = second.cosigned(&old_note);
        assert!(both.starts_with(&old_note));
        verify_signed_checkpoint(&both, &was).unwrap();
        verify_signed_checkpoint(&both, &now).unwrap();
        assert_eq!(
            second.cosigned(&both),
            both,
            "co-signing twice adds nothing"
        );
        // A new note is the new key's.
        let new_note = cp.sign(&second.log).unwrap();
        assert_eq!(second.log_verifier_for(&new_note), now);
        assert_eq!(second.cosigned(&new_note), new_note);
        // A later restart, another rotation: the origin still holds.
        rotate_log(&dir, default_origin).unwrap();
        let third = load(&dir, default_origin, None).unwrap();
        assert_eq!(third.log.origin(), origin);
        assert_eq!(third.retired_log, vec![now, was]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_crash_between_publishing_and_replacing_leaves_no_duplicate() {
        let dir = tempfile_dir();
        let keys = load(&dir, default_origin, None).unwrap();
        // As if rotate_seal died after appending: the current key is in the retired file.
        append_line(
            &dir.join(SEAL_RETIRED_FILE),
            &keys.seal.public().to_base64(),
        )
        .unwrap();
        let again = load(&dir, default_origin, None).unwrap();
        assert!(again.retired_seal.is_empty());
        let (old, _) = rotate_seal(&dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join(SEAL_RETIRED_FILE))
                .unwrap()
                .lines()
                .filter(|l| *l == old.to_base64())
                .count(),
            1
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn version(v: u32, key: &MasterKey, state: VaultKeyState) -> VaultKeyRow {
        VaultKeyRow {
            version: v,
            key_check: key.check_value(),
            state,
            created_at: 0,
            retired_at: None,
        }
    }

    #[test]
    fn the_database_numbers_the_keys_found() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let key = |k: [u8; 32]| MasterKey::from_bytes(k);
        let found = |cur: [u8; 32], prev: Option<[u8; 32]>| MasterCandidates {
            current: key(cur),
            previous: prev.map(key),
            link: None,
        };
        // During the announcement (files already swapped): b is next, a current.
        let versions = [
            version(1, &key(a), VaultKeyState::Current),
            version(2, &key(b), VaultKeyState::Next),
        ];
        let ring = ring_for(found(b, Some(a)), &versions).unwrap();
        assert_eq!((ring.current_version(), ring.versions()), (1, vec![1, 2]));
        // A crash left the files swapped before the announcement: a alone is known.
        let ring = ring_for(found(b, Some(a)), &versions[..1]).unwrap();
        assert_eq!(ring.versions(), vec![1]);
        // Switched: b current, a previous.
        let versions = [
            version(1, &key(a), VaultKeyState::Previous),
            version(2, &key(b), VaultKeyState::Current),
        ];
        let ring = ring_for(found(b, Some(a)), &versions).unwrap();
        assert_eq!(ring.versions(), vec![2, 1]);
        // Retired: a is left out even if its file is still there.
        let mut retired = versions.clone();
        retired[0].state = VaultKeyState::Retired;
        assert_eq!(
            ring_for(found(b, Some(a)), &retired).unwrap().versions(),
            vec![2]
        );
        // The wrong key: no ring.
        assert!(ring_for(found([9; 32], None), &versions).is_none());
        assert!(ring_for(found(a, None), &retired).is_none());
    }

    #[test]
    fn link_key_is_pinned_once_from_the_key_in_use() {
        let dir = tempfile_dir();
        let first = MasterKey::from_bytes([4; 32]);
        pin_link_key(&dir, &first).unwrap();
        pin_link_key(&dir, &MasterKey::from_bytes([5; 32])).unwrap();
        assert_eq!(mode(&dir.join(LINK_FILE)), 0o600);
        install_master_keys(&dir, &first, &MasterKey::from_bytes([5; 32])).unwrap();
        let found = MasterSource {
            data_dir: dir.clone(),
            env_current: None,
            env_previous: None,
        }
        .read()
        .unwrap();
        assert_eq!(
            found.current.check_value(),
            MasterKey::from_bytes([5; 32]).check_value()
        );
        assert_eq!(found.previous.unwrap().check_value(), first.check_value());
        assert_eq!(
            found.link.unwrap().link_token("k", "i"),
            first.link_token("k", "i")
        );
        assert_eq!(mode(&dir.join(MASTER_PREVIOUS_FILE)), 0o600);
        assert_eq!(mode(&dir.join(MASTER_FILE)), 0o600);
        delete_key(&dir.join(MASTER_PREVIOUS_FILE)).unwrap();
        delete_key(&dir.join(MASTER_PREVIOUS_FILE)).unwrap();
        assert!(!dir.join(MASTER_PREVIOUS_FILE).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "consentry-keys-{}",
            hex::encode(crate::random::bytes::<8>())
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
