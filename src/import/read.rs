//! Read: the Compose file parsed with merge keys applied, `extends` flattened, and the draft
//! made of its services, with a note for each top-level field a catalogue has no place for.

use super::{CatalogueDraft, DraftEntry};
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::kinds::Kinds;
use crate::pipeline::Session;
use crate::yaml::{Mapping, Value as Yaml};
use std::path::{Path, PathBuf};

/// The Compose file as one YAML value, merge keys applied (yaml_serde resolves anchors and
/// aliases as it parses, but leaves `<<` to `apply_merge`).
pub(super) fn read(path: &Path, session: &mut Session) -> Result<Mapping, Error> {
    let text = if path == Path::new(super::STDIN) {
        std::io::read_to_string(std::io::stdin()).map_err(Error::io("read", path))?
    } else {
        std::fs::read_to_string(path).map_err(Error::io("read", path))?
    };
    let source = session
        .sources
        .add(path.display().to_string(), text.clone());
    let invalid = |session: &mut Session, d: Diagnostic| {
        session.diagnostics.push(d);
        Error::Invalid
    };
    let mut value: Yaml = match crate::yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let span = e.location().map(|l| l.index()..l.index());
            return Err(invalid(
                session,
                Diagnostic::error(format!("invalid Compose file: {e}")).at(source, span, "here"),
            ));
        }
    };
    if let Err(e) = apply_merges(&mut value) {
        return Err(invalid(
            session,
            Diagnostic::error(format!(
                "invalid merge key (`<<`) in {}: {e}",
                path.display()
            )),
        ));
    }
    match value {
        Yaml::Mapping(m) if m.get("services").is_some_and(Yaml::is_mapping) => Ok(m),
        _ => Err(invalid(
            session,
            Diagnostic::error(format!("{} has no `services` mapping", path.display())).at(
                source,
                Some(0..0),
                "expected a Compose file",
            ),
        )),
    }
}

/// Applies every merge key. A mapping merged in may hold a `<<` of its own (sentry's
/// `x-sentry-defaults: &d { <<: *restart_policy }`, merged into each service), which one pass of
/// yaml_serde's `apply_merge` leaves in place: apply again until none is left. Compose's
/// loader resolves them all. Bounded, since each pass removes one level of nesting.
fn apply_merges(value: &mut Yaml) -> Result<(), crate::yaml::Error> {
    const DEPTH: usize = 64;
    for _ in 0..DEPTH {
        let before = value.clone();
        value.apply_merge()?;
        if *value == before {
            break;
        }
    }
    Ok(())
}

impl CatalogueDraft {
    pub(super) fn new(
        mut file: Mapping,
        path: &Path,
        kinds: &Kinds,
        session: &mut Session,
    ) -> Result<Self, Error> {
        let mut notes = Vec::new();
        let mut resources = Mapping::new();
        let services = match file.remove("services") {
            Some(Yaml::Mapping(m)) => m,
            _ => Mapping::new(),
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut entries = Vec::new();
        for (name, _) in &services {
            let Some(name) = name.as_str() else {
                continue;
            };
            let service = flatten(name, &services, &dir, 0).map_err(|message| {
                session.diagnostics.push(Diagnostic::error(format!(
                    "service `{name}` in {}: {message}",
                    path.display()
                )));
                Error::Invalid
            })?;
            entries.push(DraftEntry::new(name, service, kinds));
        }
        // A service others wait to complete successfully runs to completion, whatever its
        // image suggests; a kind that runs until stopped could never be waited for so.
        let completed: Vec<String> = entries
            .iter()
            .flat_map(|e| &e.depends_on)
            .filter(|(_, c)| c == "service_completed_successfully")
            .map(|(t, _)| t.clone())
            .collect();
        for entry in entries
            .iter_mut()
            .filter(|e| completed.contains(&e.name) && e.kind != "job")
        {
            entry.kind = "job".to_owned();
            entry.reason = "others wait for it to complete successfully".to_owned();
            entry.guessed = false;
            for key in ["probe", "health_path", "app"] {
                entry.keys.remove(key);
            }
        }
        let project_name = file.get("name").and_then(Yaml::as_str).map(str::to_owned);
        for (key, value) in &file {
            let key = key.as_str().unwrap_or_default();
            match key {
                "name" | "services" => {}
                "version" => notes.push("`version` is obsolete in Compose and was dropped".into()),
                "volumes" | "networks" | "secrets" | "configs" => {
                    let mut section = Mapping::new();
                    for (item, settings) in value.as_mapping().into_iter().flatten() {
                        let Some(name) = item.as_str() else { continue };
                        // One the services use is declared anyway, with Compose's defaults.
                        if is_empty(settings) && used(&entries, key, name) {
                            continue;
                        }
                        let table = resource(key, name, settings, &mut notes);
                        section.insert(item.clone(), Yaml::Mapping(table));
                    }
                    if !section.is_empty() {
                        resources.insert(Yaml::from(key), Yaml::Mapping(section));
                    }
                }
                // The catalogue's own `[models.NAME]`, with the keys it knows.
                "models" => {
                    let mut section = Mapping::new();
                    for (item, settings) in value.as_mapping().into_iter().flatten() {
                        let mut table = Mapping::new();
                        for (k, v) in settings.as_mapping().into_iter().flatten() {
                            match k.as_str() {
                                Some("model" | "context_size" | "runtime_flags") => {
                                    table.insert(k.clone(), v.clone());
                                }
                                Some(other) => notes.push(format!(
                                    "model `{}`: `{other}` has no place in a catalogue's \
                                     `[models]` and was not kept",
                                    item.as_str().unwrap_or_default()
                                )),
                                None => {}
                            }
                        }
                        section.insert(item.clone(), Yaml::Mapping(table));
                    }
                    if !section.is_empty() {
                        resources.insert(Yaml::from("models"), Yaml::Mapping(section));
                    }
                }
                k if k.starts_with("x-") => notes.push(format!(
                    "`{k}` is an extension field: what the services took from it through anchors \
                     is in their entries; the field itself is not kept"
                )),
                other => notes.push(format!(
                    "top-level `{other}` has no place in a catalogue and was not kept"
                )),
            }
        }
        Ok(CatalogueDraft {
            project_name,
            entries,
            resources,
            notes,
        })
    }
}

pub(super) fn is_empty(value: &Yaml) -> bool {
    match value {
        Yaml::Null => true,
        Yaml::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// The service with `extends` applied, recursively, from this file or another one.
fn flatten(name: &str, services: &Mapping, dir: &Path, depth: usize) -> Result<Mapping, String> {
    // Compose itself refuses cycles; a bound is enough to stop one here.
    if depth > 16 {
        return Err("`extends` goes around in a circle".into());
    }
    let Some(Yaml::Mapping(service)) = services.get(name) else {
        return Err(format!("extends `{name}`, which is not a service there"));
    };
    let mut service = service.clone();
    let Some(extends) = service.remove("extends") else {
        return Ok(service);
    };
    let (base_name, file) = match &extends {
        Yaml::String(s) => (s.clone(), None),
        Yaml::Mapping(m) => (
            m.get("service")
                .and_then(Yaml::as_str)
                .ok_or("`extends` names no `service`")?
                .to_owned(),
            m.get("file").and_then(Yaml::as_str).map(PathBuf::from),
        ),
        _ => return Err("`extends` is neither a name nor a mapping".into()),
    };
    let base = match file {
        None => flatten(&base_name, services, dir, depth + 1)?,
        Some(file) => {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut other: Yaml = crate::yaml::from_str(&text)
                .map_err(|e| format!("invalid Compose file {}: {e}", path.display()))?;
            apply_merges(&mut other).map_err(|e| e.to_string())?;
            let other_services = other
                .get("services")
                .and_then(Yaml::as_mapping)
                .cloned()
                .unwrap_or_default();
            let other_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            flatten(&base_name, &other_services, &other_dir, depth + 1)?
        }
    };
    Ok(merge_extends(base, service))
}

/// Sequences Compose concatenates when a service extends another; other sequences replace.
const CONCATENATED: &[&str] = &[
    "ports",
    "expose",
    "volumes",
    "env_file",
    "dns",
    "dns_search",
    "tmpfs",
    "devices",
    "external_links",
    "cap_add",
    "cap_drop",
    "security_opt",
];

/// Compose's merge of an extending service over its base: mappings merge key by key (with
/// `environment` and `labels` in either form), some lists concatenate, the rest is replaced.
fn merge_extends(mut base: Mapping, over: Mapping) -> Mapping {
    for (key, value) in over {
        let name = key.as_str().unwrap_or_default();
        let merged = match (base.remove(&key), value) {
            (Some(b), o) if matches!(name, "environment" | "labels") => {
                let mut b = pairs(&b).unwrap_or_default();
                b.extend(pairs(&o).unwrap_or_default());
                Yaml::Mapping(b)
            }
            (Some(Yaml::Mapping(b)), Yaml::Mapping(o)) => Yaml::Mapping(merge_extends(b, o)),
            (Some(Yaml::Sequence(mut b)), Yaml::Sequence(o)) if CONCATENATED.contains(&name) => {
                for item in o {
                    if !b.contains(&item) {
                        b.push(item);
                    }
                }
                Yaml::Sequence(b)
            }
            (_, o) => o,
        };
        base.insert(key, merged);
    }
    base
}

/// `environment` or `labels` as a mapping, from either form (`["K=V"]` or `{K: V}`); `None`
/// when a variable has no value (`- K`, `K:`), which passes the host's value through and has
/// no equivalent in a catalogue's string map.
pub(super) fn pairs(value: &Yaml) -> Option<Mapping> {
    match value {
        Yaml::Mapping(m) => m
            .iter()
            .map(|(k, v)| Some((k.clone(), scalar_string(v)?)))
            .collect(),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| {
                let (k, v) = i.as_str()?.split_once('=')?;
                Some((Yaml::from(k), Yaml::from(v)))
            })
            .collect(),
        _ => None,
    }
}

/// A scalar as the string Compose passes on; `None` for null and collections.
pub(super) fn scalar_string(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::String(s) => Some(Yaml::from(s.as_str())),
        Yaml::Number(n) => Some(Yaml::from(n.to_string())),
        Yaml::Bool(b) => Some(Yaml::from(b.to_string())),
        _ => None,
    }
}

/// Whether a service mounts the volume or joins the network `name` (`section`).
fn used(entries: &[DraftEntry], section: &str, name: &str) -> bool {
    entries.iter().any(|e| {
        let Some(value) = e.source.get(section) else {
            return false;
        };
        match (section, value) {
            ("volumes", Yaml::Sequence(mounts)) => mounts.iter().any(|m| match m {
                Yaml::String(short) => crate::volumes::named_volume(short) == Some(name),
                Yaml::Mapping(long) => long.get("source").and_then(Yaml::as_str) == Some(name),
                _ => false,
            }),
            ("networks", Yaml::Sequence(names)) => names.iter().any(|n| n.as_str() == Some(name)),
            ("networks", Yaml::Mapping(names)) => names.contains_key(name),
            _ => false,
        }
    })
}

/// A top-level resource's settings as the catalogue's table takes them: the deprecated
/// `external: { name }` as `external` and `name`, labels in the list form as a table, and the
/// keys the catalogue has no place for (`x-` fields) left out and said so.
fn resource(section: &str, name: &str, settings: &Yaml, notes: &mut Vec<String>) -> Mapping {
    let mut out = Mapping::new();
    for (key, value) in settings.as_mapping().into_iter().flatten() {
        let Some(k) = key.as_str() else { continue };
        match (k, value) {
            ("external", Yaml::Mapping(ext)) => {
                out.insert("external".into(), Yaml::Bool(true));
                if let Some(n) = ext.get("name") {
                    out.insert("name".into(), n.clone());
                }
            }
            ("labels", labels) => {
                if let Some(labels) = pairs(labels) {
                    out.insert(key.clone(), Yaml::Mapping(labels));
                }
            }
            (k, _) if k.starts_with("x-") => notes.push(format!(
                "top-level {section} `{name}`: the extension field `{k}` is not kept"
            )),
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}
