//! The variables Compose would interpolate the file with: the process environment over the
//! `.env` files read, in Compose's order (compose-go 2.9.1 `cli/options.go`: `WithOsEnv`, then
//! `WithDotEnv`, which adds only what the environment does not set; a later file over an
//! earlier one). `up` reads the `.env` beside the file it writes, as Compose does, unless told
//! other files (`--env-file`) or `COMPOSE_DISABLE_ENV_FILE` is true; `check` reads the files it
//! is given.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::error::Error;
use crate::model::dotenv;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The variables of one run, and where each came from.
#[derive(Debug, Default)]
pub struct Environment {
    process: HashMap<String, String>,
    files: IndexMap<String, dotenv::Entry>,
    /// The files read, in order: path and source (their text is in the run's sources).
    pub read: Vec<(PathBuf, SourceId)>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Process,
    /// A file of [`Environment::read`], and the line.
    File {
        source: SourceId,
        line: usize,
    },
}

impl Environment {
    /// The environment of a run: `process` (the process's variables) over `files`, read in
    /// order. A file Compose refuses is an error at its line; one that cannot be read, an I/O
    /// error.
    pub fn read(
        process: impl IntoIterator<Item = (String, String)>,
        files: &[PathBuf],
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> Result<Environment, Error> {
        let mut env = Environment {
            process: process.into_iter().collect(),
            ..Environment::default()
        };
        for (number, path) in files.iter().enumerate() {
            let text =
                std::fs::read_to_string(path).map_err(Error::io("read the env file", path))?;
            let source = sources.add(path.display().to_string(), text);
            env.read.push((path.clone(), source));
            let process = &env.process;
            let lookup = |name: &str| process.get(name).cloned();
            if let Err(refused) =
                dotenv::parse(sources.text(source), number, &lookup, &mut env.files)
            {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "Compose cannot read {}: {}",
                        path.display(),
                        refused.message
                    ))
                    .at(
                        source,
                        Some(line_span(sources.text(source), refused.line)),
                        "here",
                    ),
                );
            }
        }
        Ok(env)
    }

    /// The value Compose gives `name`, `None` when it is unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .cloned()
            .or_else(|| self.files.get(name).map(|e| e.value.clone()))
    }

    /// Where `name`'s value comes from, when it is set.
    pub fn origin(&self, name: &str) -> Option<Origin> {
        if self.process.contains_key(name) {
            return Some(Origin::Process);
        }
        let entry = self.files.get(name)?;
        Some(Origin::File {
            source: self.read.get(entry.file)?.1,
            line: entry.line,
        })
    }
}

/// The `.env` Compose reads beside `file` when it is given no `--env-file`, if there is one
/// and `COMPOSE_DISABLE_ENV_FILE` does not say otherwise.
pub fn default_env_file(file: &Path) -> Option<PathBuf> {
    let disabled = std::env::var("COMPOSE_DISABLE_ENV_FILE")
        .is_ok_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    if disabled {
        return None;
    }
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let env = dir.join(".env");
    env.is_file().then_some(env)
}

/// The span of line `line` (1-based) of `text`, for a diagnostic there.
pub fn line_span(text: &str, line: usize) -> std::ops::Range<usize> {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_wins_and_a_later_file_over_an_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.env"), dir.path().join("b.env"));
        std::fs::write(&a, "X=from a\nY=from a\nZ=from a\n").unwrap();
        std::fs::write(&b, "Y=from b\nW=${Y}\n").unwrap();
        let mut sources = Sources::default();
        let mut diagnostics = Diagnostics::default();
        let env = Environment::read(
            [("Z".to_owned(), "process".to_owned())],
            &[a, b],
            &mut sources,
            &mut diagnostics,
        )
        .unwrap();
        assert!(diagnostics.is_empty());
        assert_eq!(env.get("X").as_deref(), Some("from a"));
        assert_eq!(env.get("Y").as_deref(), Some("from b"));
        assert_eq!(env.get("W").as_deref(), Some("from b"));
        assert_eq!(env.get("Z").as_deref(), Some("process"));
        assert_eq!(env.origin("Z"), Some(Origin::Process));
        assert!(matches!(
            env.origin("Y"),
            Some(Origin::File { line: 1, .. })
        ));
        assert_eq!(env.get("NONE"), None);
    }

    #[test]
    fn line_spans_cover_one_line() {
        let text = "A=1\nB=2\nC=3";
        assert_eq!(&text[line_span(text, 2)], "B=2");
        assert_eq!(&text[line_span(text, 3)], "C=3");
    }
}
