//! The user's own profiles and templates, found by file name in a folder beside the catalogue.

use std::path::{Path, PathBuf};

/// The files `dir/NAME{suffix}` as `(NAME, path)`, sorted by path: directory order differs
/// between filesystems, and output must not. A missing folder holds none, since most catalogues
/// need no files of their own.
pub fn named_files(dir: &Path, suffix: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(suffix))
            .map(str::to_owned);
        if let Some(name) = name {
            files.push((name, path));
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}
