//! `muster add KIND NAME`: appends one `[services.NAME]` table to the catalogue.
//!
//! The entry is appended to the file's text rather than the file re-serialized, so every existing
//! byte (comments, blank lines, key order, quoting) stays where it was; toml_edit writes the entry
//! itself, quoting the name and values as TOML needs. Nothing is written unless the catalogue with
//! the new entry gets through every stage `muster gen` runs.
//!
//! Services can be added in any order: a dependency on a service the catalogue does not have yet
//! is allowed, with a warning, and is held as a name still to come (as a service that failed to
//! load is) both when the catalogue as it is and when the catalogue with the new entry is
//! judged, so that adding the dependency later succeeds too. `gen` refuses the catalogue until
//! every such name is written. Of the warnings, only the new entry's are shown: the rest of the
//! catalogue's are `muster check`'s to report, every time, not `add`'s.

use crate::catalogue::Catalogue;
use crate::config::{GpuCount, Inputs, NewService};
use crate::diagnostic::{Diagnostic, Diagnostics, Severity, SourceId};
use crate::error::Error;
use crate::kinds::Kinds;
use crate::pipeline::{self, Session};
use crate::profile::Profiles;
use crate::resolve::Provenance;
use crate::suggest::did_you_mean;
use std::path::Path;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

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
    // The catalogue must generate cleanly as it is, but for names earlier `add`s left to come:
    // an error found only after appending would look like one in the new entry.
    let earlier = pending(path, &text);
    generates(path, &text, &earlier, &profiles, &kinds, session).0?;
    // Its warnings are `check`'s to report.
    session
        .diagnostics
        .retain(|d| d.severity == Severity::Error);
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let catalogue = Catalogue::parse(path, text.clone(), sources, diagnostics)
        .expect("the catalogue generated, so it parses");
    let to_come = check(&catalogue, &kinds, new, diagnostics);
    if diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let updated = append(&text, &entry(new));
    // Where the new entry starts: every part of it is after the old text.
    let entry_start = text.len();
    let mut still_to_come: Vec<String> = earlier.into_iter().filter(|n| n != &new.name).collect();
    still_to_come.extend(to_come.iter().cloned());
    // The whole pipeline judges what the arguments alone cannot: the name, an `http` service
    // with neither image nor build, a `db` whose engine cannot be told.
    let before: Vec<String> = session
        .diagnostics
        .as_slice()
        .iter()
        .map(|d| d.message.clone())
        .collect();
    let (judged, source) = generates(path, &updated, &still_to_come, &profiles, &kinds, session);
    // Of the updated catalogue's warnings, those about the new entry (and this command's own).
    session.diagnostics.retain(|d| {
        d.severity == Severity::Error
            || before.contains(&d.message)
            || d.labels
                .first()
                .is_some_and(|l| Some(l.source) == source && l.span.start >= entry_start)
    });
    if let Err(e) = judged {
        session.summary = Some(format!(
            "{} is unchanged: with the new entry it would not generate",
            path.display()
        ));
        return Err(e);
    }
    crate::output::write_atomic(path, updated.as_bytes()).map_err(Error::io("write", path))?;
    session.summary = Some(summary(new, path, &to_come));
    Ok(None)
}

/// Whether `text` as the catalogue at `path` gets through every stage `gen` runs, under the
/// catalogue's default profile, with `to_come` taken as services still to be written; and the
/// source its diagnostics point into.
fn generates(
    path: &Path,
    text: &str,
    to_come: &[String],
    profiles: &Profiles,
    kinds: &Kinds,
    session: &mut Session,
) -> (Result<(), Error>, Option<SourceId>) {
    let mut catalogue = Catalogue::parse(
        path,
        text.to_owned(),
        &mut session.sources,
        &mut session.diagnostics,
    );
    // As `gen` will: the builds' Dockerfiles decide their probes, and a missing one is an error.
    if let Some(catalogue) = &mut catalogue {
        catalogue.unloaded.extend(to_come.iter().cloned());
        catalogue.dockerfiles = pipeline::read_dockerfiles(catalogue, profiles);
    }
    let source = catalogue.as_ref().map(|c| c.source);
    let result =
        pipeline::build(catalogue, profiles, kinds, None, Provenance::Skip, session).map(drop);
    (result, source)
}

/// The services the catalogue's entries depend on that it does not define: left to come by an
/// earlier `add`. Read apart from the run's diagnostics: the run reports the catalogue's
/// problems when it judges it.
fn pending(path: &Path, text: &str) -> Vec<String> {
    let mut scratch = Session::default();
    let Some(catalogue) = Catalogue::parse(
        path,
        text.to_owned(),
        &mut scratch.sources,
        &mut scratch.diagnostics,
    ) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for entry in catalogue.services.iter().chain(&catalogue.broken) {
        let layers = std::iter::once(&*entry.spec).chain(
            entry
                .spec
                .profiles
                .iter()
                .flat_map(|p| p.values().map(toml::Spanned::get_ref)),
        );
        for spec in layers {
            for (target, _) in spec.depends_on.iter().flat_map(|d| d.get_ref().entries()) {
                let target = target.get_ref();
                if !catalogue.all_names().any(|n| n == target) && !names.contains(target) {
                    names.push(target.clone());
                }
            }
        }
    }
    names
}

/// Refuses a name already taken, an unknown kind, and a dependency on the service itself; warns
/// of each dependency on a service the catalogue does not define yet, and returns their names.
fn check(
    catalogue: &Catalogue,
    kinds: &Kinds,
    new: &NewService,
    diagnostics: &mut Diagnostics,
) -> Vec<String> {
    let names = || catalogue.all_names();
    if let Some(existing) = catalogue
        .services
        .iter()
        .chain(&catalogue.broken)
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
    let mut to_come = Vec::new();
    for (target, _) in &new.depends_on {
        if target == &new.name {
            diagnostics.push(Diagnostic::error(format!(
                "service `{target}` cannot depend on itself"
            )));
        } else if !names().any(|n| n == target) && !to_come.contains(target) {
            let mut d = Diagnostic::warning(format!(
                "`--depends-on {target}`: {} has no service `{target}` yet; `muster gen` refuses \
                 the catalogue until it does",
                catalogue.path.display()
            ))
            .with_note(format!("add it: `muster add KIND {target} ...`"));
            if let Some(hint) = did_you_mean(target, names()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
            to_come.push(target.clone());
        }
    }
    to_come
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
    if let Some(path) = &new.health_path {
        table.insert("health_path", value(path));
    }
    if let Some(command) = &new.command {
        table.insert("command", value(command));
    }
    if !new.env.is_empty() {
        let mut env = InlineTable::new();
        for (name, v) in &new.env {
            env.insert(name, v.into());
        }
        table.insert("env", value(env));
    }
    if let Some(probe) = &new.probe {
        table.insert("probe", value(probe));
    }
    match new.gpus {
        Some(GpuCount::All) => {
            table.insert("gpus", value("all"));
        }
        Some(GpuCount::Count(n)) => {
            table.insert("gpus", value(i64::from(n)));
        }
        None => {}
    }
    if new.depends_on.iter().all(|(_, c)| c.is_none()) {
        if !new.depends_on.is_empty() {
            let names = new.depends_on.iter().map(|(n, _)| n);
            table.insert("depends_on", value(Array::from_iter(names)));
        }
    } else {
        // A table once any condition is given; a dependency without one is an empty table,
        // which leaves its condition to inference as the list form does.
        let mut deps = InlineTable::new();
        for (name, condition) in &new.depends_on {
            match condition {
                Some(c) => deps.insert(name, c.into()),
                None => deps.insert(name, InlineTable::new().into()),
            };
        }
        table.insert("depends_on", value(deps));
    }
    if !new.profile_only.is_empty() {
        table.insert("only_in", value(Array::from_iter(&new.profile_only)));
    }
    let mut services = Table::new();
    // Only `[services.NAME]` is written, not a `[services]` header of its own.
    services.set_implicit(true);
    services.insert(&new.name, Item::Table(table));
    let mut document = DocumentMut::new();
    document.insert("services", Item::Table(services));
    document.to_string()
}

/// One line: what was added, where, and what it still waits for.
fn summary(new: &NewService, path: &Path, to_come: &[String]) -> String {
    let mut parts = vec![format!("kind {}", new.kind)];
    if let Some(image) = &new.image {
        parts.push(format!("image {image}"));
    }
    if let Some(build) = &new.build {
        parts.push(format!("build {build}"));
    }
    if let Some(port) = new.port {
        parts.push(format!("port {port}"));
    }
    if let Some(p) = &new.health_path {
        parts.push(format!("health path {p}"));
    }
    if new.command.is_some() {
        parts.push("a command".to_owned());
    }
    if !new.env.is_empty() {
        let names: Vec<&str> = new.env.iter().map(|(n, _)| n.as_str()).collect();
        parts.push(format!("env {}", names.join(", ")));
    }
    if let Some(probe) = &new.probe {
        parts.push(format!("probe {probe}"));
    }
    match new.gpus {
        Some(GpuCount::All) => parts.push("all GPUs".to_owned()),
        Some(GpuCount::Count(n)) => parts.push(format!("{n} GPU(s)")),
        None => {}
    }
    if !new.depends_on.is_empty() {
        let deps: Vec<String> = new
            .depends_on
            .iter()
            .map(|(name, condition)| {
                let mut d = name.clone();
                if let Some(c) = condition {
                    d.push_str(&format!(" ({c})"));
                }
                if to_come.contains(name) {
                    d.push_str(" (not written yet)");
                }
                d
            })
            .collect();
        parts.push(format!("depends on {}", deps.join(", ")));
    }
    if !new.profile_only.is_empty() {
        parts.push(format!("only in {}", new.profile_only.join(", ")));
    }
    format!(
        "added service `{}` to {}: {}",
        new.name,
        path.display(),
        parts.join("; ")
    )
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

    fn new_service(depends_on: &[(&str, Option<&str>)]) -> NewService {
        NewService {
            kind: "http".into(),
            name: "api.v2".into(),
            port: Some(8000),
            image: None,
            build: Some("../api".into()),
            health_path: Some("/healthz".into()),
            env: vec![("A".into(), "1=2".into())],
            command: Some("gunicorn app:app".into()),
            probe: Some("curl".into()),
            gpus: Some(GpuCount::Count(1)),
            depends_on: depends_on
                .iter()
                .map(|(n, c)| ((*n).to_owned(), c.map(str::to_owned)))
                .collect(),
            profile_only: vec!["dev".into()],
        }
    }

    #[test]
    fn quotes_names_toml_needs_quoted() {
        assert_eq!(
            entry(&new_service(&[("db", None), ("cache", None)])),
            "[services.\"api.v2\"]\nkind = \"http\"\nbuild = \"../api\"\nport = 8000\n\
             health_path = \"/healthz\"\ncommand = \"gunicorn app:app\"\nenv = { A = \"1=2\" }\n\
             probe = \"curl\"\ngpus = 1\ndepends_on = [\"db\", \"cache\"]\nonly_in = [\"dev\"]\n"
        );
    }

    #[test]
    fn a_condition_makes_the_dependencies_a_table() {
        let text = entry(&new_service(&[("db", Some("healthy")), ("cache", None)]));
        assert!(
            text.contains("depends_on = { db = \"healthy\", cache = {} }\n"),
            "{text}"
        );
    }
}
