//! Writing output files without ever leaving one truncated or half-written.

use crate::error::Error;
use std::io::Write;
use std::path::Path;

/// Writes to stdout through `write` and flushes it. A closed pipe (`muster gen | head`) is the
/// reader's choice, not a failure; any other error is [`Error::Stdout`].
pub fn write_stdout(
    stdout: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    match write(stdout).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Stdout(e)),
        _ => Ok(()),
    }
}

/// Writes `contents` to a temporary file beside `path`, then renames it over `path`: readers see
/// the old file or the new one, never a mix, and a failure leaves the old file as it was.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |file| file.write_all(contents))
}

/// [`write_atomic`] for contents written piece by piece by `write`, so that they need not be
/// held whole in memory first. If `write` fails, the temporary file is removed and `path` is
/// left as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    write(&mut file)?;
    file.as_file().sync_all()?;
    // Keep the permissions a user gave the existing file; a new file gets the usual 0644-style
    // defaults instead of the private mode temporary files are created with.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => default_permissions(),
    };
    file.as_file().set_permissions(permissions)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    tempfile::tempfile()
        .and_then(|f| f.metadata())
        .map(|m| m.permissions())
        .expect("a temporary file has metadata")
}
