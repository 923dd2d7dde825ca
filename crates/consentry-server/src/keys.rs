//! The service's keys: generated on first start into the data dir, readable by the owner
//! only (0600), and reused on every later start.
//!
//! - `seal.key`: the Ed25519 seed that seals proofs;
//! - `log.key`: the Ed25519 seed that signs checkpoints;
//! - `master.key`: the vault's master key (or `CONSENTRY_MASTER_KEY`, base64).
//!
//! Each file holds one line of standard base64. A key file is created atomically (written
//! aside, then hard-linked into place, which fails if another process won the race; the
//! winner's key is then read), so two instances started together on one data dir agree.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use consentry_core::keys::{LogKey, SealKey};
use consentry_vault::MasterKey;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why keys could not be loaded or created.
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
    /// The log origin is not a valid key name.
    #[error("invalid log origin: {0}")]
    Origin(String),
}

/// The keys a running service holds.
pub struct Keys {
    /// Seals proofs.
    pub seal: Arc<SealKey>,
    /// Signs checkpoints.
    pub log: Arc<LogKey>,
    /// The vault's root key.
    pub master: MasterKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("seal", &self.seal)
            .field("log", &self.log)
            .finish_non_exhaustive()
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
    match std::fs::read_to_string(path) {
        Ok(text) => return decode(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(path)(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        writeln!(f, "{}", BASE64.encode(fresh)).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp).map_err(io(&tmp))?;
    match linked {
        Ok(()) => Ok(fresh),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            decode(path, &text)
        }
        Err(e) => Err(io(path)(e)),
    }
}

fn decode(path: &Path, text: &str) -> Result<[u8; 32], KeyFileError> {
    BASE64
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| KeyFileError::Malformed(path.to_owned()))
}

/// The default log origin for a log key: `consentry.local/` and the first 8 hex digits
/// of its public key's fingerprint, unique per installation and stable across restarts.
pub fn default_origin(log_seed: &[u8; 32]) -> String {
    let fp = SealKey::from_seed(log_seed).public().fingerprint();
    format!("consentry.local/{}", &fp[..8])
}

/// Loads (or creates) every key in `data_dir`. `master_override` is the base64 master
/// key from the environment, which takes precedence over `master.key`.
pub fn load(
    data_dir: &Path,
    origin: impl FnOnce(&[u8; 32]) -> String,
    master_override: Option<&str>,
) -> Result<Keys, KeyFileError> {
    let seal = load_or_create(&data_dir.join("seal.key"), crate::random::bytes())?;
    let log_seed = load_or_create(&data_dir.join("log.key"), crate::random::bytes())?;
    let master = match master_override {
        Some(b64) => MasterKey::from_base64(b64)
            .map_err(|_| KeyFileError::Malformed(PathBuf::from("CONSENTRY_MASTER_KEY")))?,
        None => MasterKey::from_bytes(load_or_create(
            &data_dir.join("master.key"),
            crate::random::bytes(),
        )?),
    };
    let origin = origin(&log_seed);
    let log =
        LogKey::from_seed(&origin, &log_seed).map_err(|e| KeyFileError::Origin(e.to_string()))?;
    Ok(Keys {
        seal: Arc::new(SealKey::from_seed(&seal)),
        log: Arc::new(log),
        master,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "consentry-keys-{}",
            hex::encode(crate::random::bytes::<8>())
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
