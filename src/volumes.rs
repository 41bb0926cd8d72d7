//! Compose's short volume syntax, `[SOURCE:]TARGET[:MODE]`, checked as far as Compose and the
//! engine refuse it: Compose refuses an empty section (`":ro"`), the engine a container path that
//! is not absolute, a mode it does not know (`rwx`) or a fourth section, at `docker compose up`.

/// The flags a short-syntax mode may combine (`ro,z`), as the engine reads them.
const MODES: &[&str] = &[
    "ro",
    "rw",
    "z",
    "Z",
    "nocopy",
    "consistent",
    "cached",
    "delegated",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
];

/// The volume name of a short-syntax mount, when its source is a named volume rather than a
/// host path (`pgdata:/var/lib/postgresql/data`, not `./data:/data`, `/srv:/srv` or the
/// Windows drive `C:\data:/data`).
pub fn named_volume(mount: &str) -> Option<&str> {
    let sections = sections(mount);
    let [source, _, ..] = sections.as_slice() else {
        return None;
    };
    let is_path = source.is_empty()
        || source.starts_with(['/', '.', '~', '$'])
        || source.contains('/')
        || is_windows_path(source);
    (!is_path).then_some(*source)
}

/// A Windows host path, which compose-go's `isFilePath` takes for a bind as Docker Desktop
/// does: a drive letter and its colon (`C:\data`, `d:/data`) or a named pipe (`\\.\pipe\x`).
fn is_windows_path(source: &str) -> bool {
    let mut chars = source.chars();
    let drive = matches!(
        (chars.next(), chars.next()),
        (Some(letter), Some(':')) if letter.is_alphabetic()
    );
    drive || source.starts_with("\\\\")
}

/// The `:`-separated sections of a short-syntax mount, as compose-go's `format.ParseVolume`
/// cuts them: a colon right after a lone letter is a Windows drive's, not a separator.
fn sections(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if c != ':' {
            continue;
        }
        let buffer = &text[start..at];
        let mut letters = buffer.chars();
        let drive =
            matches!((letters.next(), letters.next()), (Some(l), None) if l.is_alphabetic());
        if !drive {
            out.push(buffer);
            start = at + 1;
        }
    }
    out.push(&text[start..]);
    out
}

/// A mount's container path, or why the engine or Compose would refuse it.
pub fn target(text: &str) -> Result<&str, String> {
    let parts = sections(text);
    if parts.iter().any(|p| p.is_empty()) {
        return Err("an empty section between colons: write [SOURCE:]TARGET[:MODE]".to_owned());
    }
    let (target, mode) = match parts.as_slice() {
        [target] => (*target, None),
        [_, target] => (*target, None),
        [_, target, mode] => (*target, Some(*mode)),
        _ => {
            return Err(format!(
                "{} sections: write [SOURCE:]TARGET[:MODE]",
                parts.len()
            ));
        }
    };
    // Compose declares a named volume under its name, which its schema allows only of these
    // characters (`volumes additional properties 'os~data' not allowed`). A name with a `$` is
    // interpolated first, into what the environment says.
    if let Some(name) = named_volume(text)
        && !name.contains('$')
        && !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "`{name}` is a named volume (its source is not a path), and Compose allows only \
             letters, digits, `.`, `_` and `-` in a volume's name; a host path starts with \
             `/`, `./` or `~`"
        ));
    }
    if !target.starts_with('/') {
        return Err(format!(
            "the container path `{target}` is not absolute, which the engine refuses"
        ));
    }
    if let Some(mode) = mode
        && let Some(unknown) = mode.split(',').find(|flag| !MODES.contains(flag))
    {
        return Err(format!(
            "`{unknown}` is not a mount mode (modes: ro, rw, z, Z, nocopy, ...)"
        ));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_volumes_are_told_from_paths() {
        assert_eq!(
            named_volume("pgdata:/var/lib/postgresql/data"),
            Some("pgdata")
        );
        assert_eq!(named_volume("models:/models:ro"), Some("models"));
        assert_eq!(named_volume("./data:/data"), None);
        assert_eq!(named_volume("/srv:/srv"), None);
        assert_eq!(named_volume("${DATA_DIR}:/data"), None);
        assert_eq!(named_volume("/anonymous"), None);
        assert_eq!(named_volume("C:\\data:/data"), None);
        assert_eq!(named_volume("d:/data:/data:ro"), None);
    }

    /// Compose reads a drive letter's colon as part of the path (Docker Desktop binds), and so
    /// does muster: `C:\data:/data` is a bind, not three sections.
    #[test]
    fn windows_drives_are_binds() {
        assert_eq!(target("C:\\data:/data"), Ok("/data"));
        assert_eq!(target("c:/data:/data:ro"), Ok("/data"));
        assert_eq!(target("\\\\.\\pipe\\docker_engine:/pipe"), Ok("/pipe"));
        assert!(
            target("C:\\data:D:\\data")
                .unwrap_err()
                .contains("not absolute")
        );
        assert!(
            target("C:\\data:/data:ro:z")
                .unwrap_err()
                .contains("4 sections")
        );
    }

    #[test]
    fn reads_the_forms_compose_takes() {
        assert_eq!(target("/data"), Ok("/data"));
        assert_eq!(
            target("pgdata:/var/lib/postgresql/data"),
            Ok("/var/lib/postgresql/data")
        );
        assert_eq!(target("./conf:/etc/x:ro"), Ok("/etc/x"));
        assert_eq!(target("./conf:/etc/x:ro,z"), Ok("/etc/x"));
    }

    #[test]
    fn refuses_a_named_volume_compose_cannot_declare() {
        assert!(target("os~data:/data").is_err());
        assert!(target("data@1:/data:ro").is_err());
        assert_eq!(target("pg.data_1-x:/data"), Ok("/data"));
        assert_eq!(target("~/data:/data"), Ok("/data"));
    }

    #[test]
    fn refuses_what_compose_or_the_engine_refuses() {
        assert!(target(":ro").unwrap_err().contains("empty section"));
        assert!(target("vol::/x").unwrap_err().contains("empty section"));
        // A lone letter and its colon are a Windows drive, as Compose reads them: a bind.
        assert_eq!(target("v::/x"), Ok("/x"));
        assert!(
            target("vol:/x:rwx")
                .unwrap_err()
                .contains("`rwx` is not a mount mode")
        );
        assert!(target("data").unwrap_err().contains("not absolute"));
        assert!(target("vol:data").unwrap_err().contains("not absolute"));
        assert!(target("vol:/x:ro:z").unwrap_err().contains("4 sections"));
    }
}
