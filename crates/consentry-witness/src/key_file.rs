//! The witness key, kept in its data directory.
//!
//! Generated once, at first start, from the operating system's random source, and kept
//! in `witness.key` (signed-note private-key text with the cosignature type byte, mode
//! 0600): a witness that changed key would lose the trust verifiers put in it. The file
//! is written to a temporary name, synced, and renamed, so a crash never leaves half a key.

use consentry_core::cosignature::{CosignatureError, CosignerKey};
use rand_core::{OsRng, RngCore as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroize as _;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "witness.key";

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a cosigner key.
    #[error("{path}: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        source: CosignatureError,
    },
    /// No key yet, and no name to create one under.
    #[error(
        "no witness key in {0} yet: give the witness's name (e.g. --name witness.example.org) to create one"
    )]
    NoName(PathBuf),
    /// A name was given that is not the key's.
    #[error("the witness key in {dir} is named {found:?}, not {given:?}")]
    OtherName {
        /// The data directory.
        dir: PathBuf,
        /// The key's name.
        found: String,
        /// The name given.
        given: String,
    },
    /// The name is not a valid key name.
    #[error(transparent)]
    BadName(CosignatureError),
}

/// Loads the key from `dir`, or creates it under `name` if there is none. A `name` that
/// differs from an existing key's is an error, never a silent new key.
pub fn load_or_create(dir: &Path, name: Option<&str>) -> Result<CosignerKey, KeyFileError> {
    let path = dir.join(KEY_FILE);
    let io = |source| KeyFileError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = CosignerKey::from_signer_key(text.trim()).map_err(|source| {
                KeyFileError::Malformed {
                    path: path.clone(),
                    source,
                }
            })?;
            if let Some(given) = name.filter(|n| *n != key.name()) {
                return Err(KeyFileError::OtherName {
                    dir: dir.to_owned(),
                    found: key.name().to_owned(),
                    given: given.to_owned(),
                });
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let name = name.ok_or_else(|| KeyFileError::NoName(dir.to_owned()))?;
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let key = CosignerKey::from_seed(name, &seed).map_err(KeyFileError::BadName);
            seed.zeroize();
            let key = key?;
            std::fs::create_dir_all(dir).map_err(io)?;
            let tmp = dir.join(format!("{KEY_FILE}.tmp"));
            let mut text = key.to_signer_key();
            let written = write_private(&tmp, text.as_bytes());
            text.zeroize();
            written.map_err(|source| KeyFileError::Io {
                path: tmp.clone(),
                source,
            })?;
            std::fs::rename(&tmp, &path).map_err(io)?;
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_or_create(dir.path(), None),
            Err(KeyFileError::NoName(_))
        ));
        let k = load_or_create(dir.path(), Some("w.example")).unwrap();
        let again = load_or_create(dir.path(), None).unwrap();
        assert_eq!(k.verifier_key(), again.verifier_key());
        assert!(matches!(
            load_or_create(dir.path(), Some("other.example")),
            Err(KeyFileError::OtherName { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
        std::fs::write(dir.path().join(KEY_FILE), "garbage").unwrap();
        assert!(matches!(
            load_or_create(dir.path(), None),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
