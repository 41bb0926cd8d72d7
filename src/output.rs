//! Writing output files without ever leaving one truncated or half-written.

use crate::error::Error;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// The OS error of a stdout that was closed before muster started (`>&-`), 0 when it was open.
/// Rust's runtime puts `/dev/null` in its place and ignores EBADF on it, so writes alone would
/// never tell.
static STDOUT_CLOSED: AtomicI32 = AtomicI32::new(0);

/// Called by the binary when descriptor 1 was closed at start, with the error that says so.
pub fn mark_stdout_closed(os_error: i32) {
    STDOUT_CLOSED.store(os_error, Ordering::Relaxed);
}

/// Writes to stdout through `write` and flushes it. A closed pipe (`muster gen | head`) is the
/// reader's choice, not a failure; any other error, a stdout closed before the start among them,
/// is [`Error::Stdout`].
pub fn write_stdout(
    stdout: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let closed = STDOUT_CLOSED.load(Ordering::Relaxed);
    if closed != 0 {
        return Err(Error::Stdout(std::io::Error::from_raw_os_error(closed)));
    }
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
///
/// A symbolic link is followed: the file it points to is replaced and the link stays, as an
/// editor saving through it would do. A file whose contents would not change is not rewritten,
/// so its inode (a single-file bind mount holds it) and its modification time stay, and a
/// watcher sees nothing.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            resolved = resolve_link(path)?;
            resolved.as_path()
        }
        _ => path,
    };
    // A device or a pipe (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written into: renaming a
    // temporary over it would replace the device with a regular file, for every program on
    // the machine.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        return write(&mut file).and_then(|()| file.flush());
    }
    write_through_temporary(path, write).map_err(|e| without_path(&e))
}

/// The error without the temporary file's name that tempfile adds to it: the user asked for
/// `path` and is told about `path` (the caller names it), not about a `.tmpXXXX` beside it.
fn without_path(e: &std::io::Error) -> std::io::Error {
    // tempfile words its errors "{system error} at path {temporary file:?}", and keeps the
    // system's error code to itself.
    let text = e.to_string();
    match text.rsplit_once(" at path \"") {
        Some((system, _)) => std::io::Error::new(e.kind(), system.to_owned()),
        None => std::io::Error::new(e.kind(), text),
    }
}

fn write_through_temporary(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    write(&mut file)?;
    if same_contents(file.path(), path) {
        return Ok(());
    }
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

/// The file a link leads to, through every link on the way; a link to a file that does not
/// exist yet leads to the path the file will have.
fn resolve_link(link: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut path = link.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        link.display()
    )))
}

fn same_contents(new: &Path, old: &Path) -> bool {
    match (std::fs::metadata(new), std::fs::metadata(old)) {
        (Ok(a), Ok(b)) if a.len() == b.len() => {
            matches!((std::fs::read(new), std::fs::read(old)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
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
