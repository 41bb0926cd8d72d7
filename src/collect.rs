//! The load stage's reading of one TOML file into its input type, reporting every independent
//! shape error (an unknown key, a wrong type) in one run rather than the first alone.
//!
//! serde stops at the first error. So the document is parsed once (a syntax error is the only one
//! that stops everything), deserialized whole on the happy path (the same work as
//! `toml::from_str`), and only when that fails is the key under the error's span dropped and the
//! rest deserialized again, until it succeeds. Nothing here names a field: a key or a top-level
//! table added to the input types is collected like every other.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId};
use serde::de::DeserializeOwned;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One file's input type, and the keys dropped because they were wrong.
pub struct Collected<T> {
    pub value: T,
    pub dropped: Dropped,
}

/// The path of each key dropped (`["services", "web", "port"]`). Not empty means that the value
/// lacks something the user wrote, and the errors that say why have been reported.
#[derive(Debug, Default)]
pub struct Dropped(Vec<Vec<String>>);

impl Dropped {
    /// Whether `path` was dropped: a later check that finds the key missing would repeat the
    /// error that dropped it.
    pub fn contains(&self, path: &[&str]) -> bool {
        self.0.iter().any(|d| d.iter().eq(path))
    }

    /// Whether no key was dropped: the value holds all the user wrote.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a key at or under `prefix` was dropped.
    pub fn under(&self, prefix: &[&str]) -> bool {
        self.0
            .iter()
            .any(|d| d.len() >= prefix.len() && d.iter().zip(prefix).all(|(a, b)| a == b))
    }

    /// The names of the tables directly under `table` that were dropped whole
    /// (`[services.web]` written as `services.web = 5`).
    pub fn whole(&self, table: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |d| d.len() == 2 && d[0] == table)
            .map(|d| d[1].as_str())
    }
}

/// After this many errors in one file the rest are most likely one mistake repeated (a file of
/// another format): stop, so that a run stays quick and its report readable.
const MAX_ERRORS: usize = 50;

/// Parses `text` and deserializes it as `T`, reporting each error to `diagnostics` as an
/// "invalid {what}". `None` when nothing usable remains: a syntax error, or one that no dropped
/// key can clear.
pub fn parse<T: DeserializeOwned>(
    text: &str,
    source: SourceId,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Collected<T>> {
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            diagnostics.push(toml_error(&e, source, what));
            return None;
        }
    };
    let first = match T::deserialize(toml::de::Deserializer::from(root)) {
        Ok(value) => {
            return Some(Collected {
                value,
                dropped: Dropped::default(),
            });
        }
        Err(e) => e,
    };
    // The happy path consumed the tree; parsing again costs only when there is something to
    // report, where a copy made up front would cost every run.
    let root = DeTable::parse(text).expect("the text parsed a moment ago");
    let span = root.span();
    let mut tree = Spanned::new(span, DeValue::Table(root.into_inner()));
    let mut dropped: Vec<Vec<String>> = Vec::new();
    let mut error = first;
    let mut reported = 0;
    loop {
        let at = error.span();
        let removed = at.as_ref().and_then(|at| prune(&mut tree, at));
        // A required key missing from a table the user misspelt a key of is the misspelling
        // again: `build = { contxt = "." }` is one mistake, not two.
        let follow_on = error.message().starts_with("missing field")
            && removed.as_ref().is_some_and(|path| {
                dropped
                    .iter()
                    .any(|d| d.len() == path.len() + 1 && d.starts_with(path))
            });
        if !follow_on {
            if reported == MAX_ERRORS {
                diagnostics.push(Diagnostic::error(format!(
                    "stopped after {MAX_ERRORS} errors in this {what}; fix these and run again"
                )));
                return None;
            }
            diagnostics.push(toml_error(&error, source, what));
            reported += 1;
        }
        // No key holds the error: it is about the file as a whole, and nothing is left to read.
        dropped.push(removed?);
        let attempt = tree.clone();
        let span = attempt.span();
        let DeValue::Table(table) = attempt.into_inner() else {
            unreachable!("the root is a table and prune never replaces it");
        };
        match T::deserialize(toml::de::Deserializer::from(Spanned::new(span, table))) {
            Ok(value) => {
                return Some(Collected {
                    value,
                    dropped: Dropped(dropped),
                });
            }
            Err(e) => error = e,
        }
    }
}

/// Removes the innermost key of `value` whose key or value holds `at`, and returns its path;
/// `None` when no key does (the error is about `value` itself).
fn prune(value: &mut Spanned<DeValue<'_>>, at: &Range<usize>) -> Option<Vec<String>> {
    match value.get_mut() {
        DeValue::Table(table) => {
            let mut found = None;
            for (key, child) in table.iter_mut() {
                // The key itself first: a table written as `[servics.db]` spans its header,
                // which holds the misspelt `servics` as well as `db`.
                if holds(&key.span(), at) {
                    found = Some(key.get_ref().to_string());
                    break;
                }
                if let Some(mut path) = prune(child, at) {
                    path.insert(0, key.get_ref().to_string());
                    return Some(path);
                }
                if holds_anywhere(child, at) {
                    found = Some(key.get_ref().to_string());
                    break;
                }
            }
            let key = found?;
            table.remove(key.as_str());
            Some(vec![key])
        }
        DeValue::Array(items) => items.iter_mut().find_map(|item| prune(item, at)),
        _ => None,
    }
}

/// Whether `value`, or anything inside it, is written at `at`. A table's own span does not say:
/// one written as `[services.web]` sections spans its header alone.
fn holds_anywhere(value: &Spanned<DeValue<'_>>, at: &Range<usize>) -> bool {
    holds(&value.span(), at)
        || match value.get_ref() {
            DeValue::Table(table) => table
                .iter()
                .any(|(key, child)| holds(&key.span(), at) || holds_anywhere(child, at)),
            DeValue::Array(items) => items.iter().any(|item| holds_anywhere(item, at)),
            _ => false,
        }
}

fn holds(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// A TOML or shape error, pointing at its span, with a "did you mean" for misspelled keys.
fn toml_error(e: &toml::de::Error, source: SourceId, what: &str) -> Diagnostic {
    // serde names Rust types; the user thinks in ports and counts.
    let message = e
        .message()
        .trim_end()
        .replace("expected u16", "expected a port number (1-65535)")
        .replace("expected u32", "expected a whole number");
    let message = message.as_str();
    let mut d =
        Diagnostic::error(format!("invalid {what}: {message}")).at(source, e.span(), "here");
    if let Some(hint) = unknown_field_hint(message) {
        d = d.with_note(hint);
    }
    d
}

/// serde words unknown keys as "unknown field `X`, expected one of `a`, `b`".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let candidates = expected.split('`').skip(1).step_by(2);
    crate::suggest::did_you_mean(field, candidates)
}
