//! The user's files muster finds by name: the catalogue, and their own profiles and templates in
//! folders beside it.

use std::path::{Path, PathBuf};

/// The catalogue's file name, looked for in the current folder and its parents.
pub const CATALOGUE: &str = "services.toml";

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
