//! `muster add KIND NAME`: appends one `[services.NAME]` table to the catalogue.
//!
//! The entry is appended to the file's text rather than the file re-serialized, so every existing
//! byte (comments, blank lines, key order, quoting) stays where it was; toml_edit writes the entry
//! itself, quoting the name and values as TOML needs. Nothing is written unless the catalogue with
//! the new entry gets through every stage `muster gen` runs.

use crate::catalogue::Catalogue;
use crate::config::{Inputs, NewService};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::error::Error;
use crate::kinds::Kinds;
use crate::pipeline::{self, Session};
use crate::profile::Profiles;
use crate::resolve::Provenance;
use crate::suggest::did_you_mean;
use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table, value};

pub fn run(
    inputs: &Inputs,
    new: &NewService,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let path = &inputs.catalogue;
    let text = std::fs::read_to_string(path).map_err(Error::io("read the catalogue", path))?;
    let kinds = super::kinds(inputs)?;
    let profiles = Profiles::load(
        Some(&inputs.profiles_dir),
        &mut session.sources,
        &mut session.diagnostics,
    )?;
    // The catalogue must generate cleanly as it is: an error found only after appending would
    // look like one in the new entry.
    generates(path, &text, &profiles, &kinds, session)?;
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let catalogue = Catalogue::parse(path, text.clone(), sources, diagnostics)
        .expect("the catalogue generated, so it parses");
    check(&catalogue, &kinds, new, diagnostics);
    if diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let updated = append(&text, &entry(new));
    // The whole pipeline judges what the arguments alone cannot: the name, an `http` service
    // with neither image nor build, a `db` whose engine cannot be told.
    if let Err(e) = generates(path, &updated, &profiles, &kinds, session) {
        session.summary = Some(format!(
            "{} is unchanged: with the new entry it would not generate",
            path.display()
        ));
        return Err(e);
    }
    crate::output::write_atomic(path, updated.as_bytes()).map_err(Error::io("write", path))?;
    Ok(None)
}

/// Whether `text` as the catalogue at `path` gets through every stage `gen` runs, under the
/// catalogue's default profile.
fn generates(
    path: &Path,
    text: &str,
    profiles: &Profiles,
    kinds: &Kinds,
    session: &mut Session,
) -> Result<(), Error> {
    let catalogue = Catalogue::parse(
        path,
        text.to_owned(),
        &mut session.sources,
        &mut session.diagnostics,
    );
    pipeline::build(catalogue, profiles, kinds, None, Provenance::Skip, session).map(drop)
}

/// Refuses a name already taken, an unknown kind, and dependencies on services that do not exist.
fn check(catalogue: &Catalogue, kinds: &Kinds, new: &NewService, diagnostics: &mut Diagnostics) {
    let names = || catalogue.services.iter().map(|e| e.name.get_ref().as_str());
    if let Some(existing) = catalogue
        .services
        .iter()
        .find(|e| e.name.get_ref() == &new.name)
    {
        diagnostics.push(
            Diagnostic::error(format!("service `{}` already exists", new.name))
                .at(catalogue.source, Some(existing.name.span()), "defined here")
                .with_note("choose another name, or edit this entry"),
        );
    }
    if kinds.get(&new.kind).is_none() {
        let mut d = Diagnostic::error(format!("unknown kind `{}`", new.kind)).with_note(format!(
            "kinds: {} (`muster kinds` describes them)",
            kinds.names().collect::<Vec<_>>().join(", ")
        ));
        if let Some(hint) = did_you_mean(&new.kind, kinds.names()) {
            d = d.with_note(hint);
        }
        diagnostics.push(d);
    }
    for target in &new.depends_on {
        if target == &new.name {
            diagnostics.push(Diagnostic::error(format!(
                "service `{target}` cannot depend on itself"
            )));
        } else if !names().any(|n| n == target) {
            let mut d = Diagnostic::error(format!(
                "`--depends-on {target}`: no service `{target}` in {}",
                catalogue.path.display()
            ))
            .with_note(format!(
                "services: {}",
                names().collect::<Vec<_>>().join(", ")
            ));
            if let Some(hint) = did_you_mean(target, names()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
}

/// The `[services.NAME]` table, keys in the order the README's examples use.
fn entry(new: &NewService) -> String {
    let mut table = Table::new();
    table.insert("kind", value(&new.kind));
    if let Some(image) = &new.image {
        table.insert("image", value(image));
    }
    if let Some(build) = &new.build {
        table.insert("build", value(build));
    }
    if let Some(port) = new.port {
        table.insert("port", value(i64::from(port)));
    }
    if !new.depends_on.is_empty() {
        table.insert("depends_on", value(Array::from_iter(&new.depends_on)));
    }
    let mut services = Table::new();
    // Only `[services.NAME]` is written, not a `[services]` header of its own.
    services.set_implicit(true);
    services.insert(&new.name, Item::Table(table));
    let mut document = DocumentMut::new();
    document.insert("services", Item::Table(services));
    document.to_string()
}

/// `text`, then a blank line, then `entry`, in the file's own line endings.
fn append(text: &str, entry: &str) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut updated = text.to_owned();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            updated.push_str(newline);
        }
        if !updated.ends_with(&newline.repeat(2)) {
            updated.push_str(newline);
        }
    }
    // toml_edit escapes newlines inside values, so every '\n' here ends a line.
    updated.push_str(&entry.replace('\n', newline));
    updated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_after_one_blank_line_in_the_files_line_endings() {
        let entry = "[services.x]\nkind = \"job\"\n";
        assert_eq!(append("", entry), entry);
        assert_eq!(append("a = 1", entry), format!("a = 1\n\n{entry}"));
        assert_eq!(append("a = 1\n", entry), format!("a = 1\n\n{entry}"));
        assert_eq!(append("a = 1\n\n", entry), format!("a = 1\n\n{entry}"));
        assert_eq!(
            append("a = 1\r\n", entry),
            "a = 1\r\n\r\n[services.x]\r\nkind = \"job\"\r\n"
        );
    }

    #[test]
    fn quotes_names_toml_needs_quoted() {
        let new = NewService {
            kind: "http".into(),
            name: "api.v2".into(),
            port: Some(8000),
            image: None,
            build: Some("../api".into()),
            depends_on: vec!["db".into(), "cache".into()],
        };
        assert_eq!(
            entry(&new),
            "[services.\"api.v2\"]\nkind = \"http\"\nbuild = \"../api\"\nport = 8000\n\
             depends_on = [\"db\", \"cache\"]\n"
        );
    }
}
