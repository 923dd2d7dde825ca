//! Files the commands write for others to read (pins, static tiles, a mirror's copy).

use std::path::Path;

/// Writes `bytes` to `path` through a temporary file renamed into place, creating the
/// parent directories: a reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
