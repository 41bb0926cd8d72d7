//! The draft as catalogue TOML, with a comment above each entry.

use super::minimize::Pass;
use super::read::scalar_string;
use super::{CatalogueDraft, DraftEntry};
use crate::yaml::Value as Yaml;
use std::path::Path;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table};

/// Catalogue keys in the order the examples write them.
const KEY_ORDER: &[&str] = &[
    "image",
    "build",
    "engine",
    "port",
    "health_path",
    "app",
    "probe",
    "command",
    "entrypoint",
    "restart",
    "ports",
    "env_file",
    "env",
    "volumes",
    "networks",
    "labels",
    "replicas",
    "healthcheck",
    "depends_on",
    "gpus",
    "models",
    "compose_profiles",
];

impl CatalogueDraft {
    /// The catalogue text a pass sees.
    pub(super) fn catalogue(&self, pass: Pass, profile: &str) -> String {
        self.document(pass, profile).to_string()
    }

    /// The draft as the user gets it, with a header saying where it came from.
    pub(super) fn to_toml(&self, compose: &Path, profile: &str) -> String {
        let file = compose.file_name().map_or_else(
            || compose.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut header = comment(&format!(
            "Drafted by `muster import` from {file} for profile {profile}: what that profile and \
             the kind templates generate anyway is left out. Read the comments, then compare \
             `muster gen --profile {profile}` with {file}."
        ));
        for note in &self.notes {
            header.push_str(&comment(&format!("- {note}")));
        }
        let document = self.document(Pass::Final, profile).to_string();
        format!("{header}\n{}", document.trim_start_matches('\n'))
    }

    fn document(&self, pass: Pass, profile: &str) -> DocumentMut {
        let mut doc = DocumentMut::new();
        let mut project = Table::new();
        if let Some(name) = &self.project_name {
            project.insert("name", toml_edit::value(name.as_str()));
        }
        if profile != "dev" {
            project.insert("default_profile", toml_edit::value(profile));
        }
        if !project.is_empty() {
            doc.insert("project", Item::Table(project));
        }
        let mut services = Table::new();
        services.set_implicit(true);
        for entry in &self.entries {
            services.insert(&entry.name, Item::Table(entry.table(pass)));
        }
        doc.insert("services", Item::Table(services));
        for section in crate::resources::SECTIONS.iter().chain(&["models"]) {
            let Some(Yaml::Mapping(resources)) = self.resources.get(section) else {
                continue;
            };
            let mut tables = Table::new();
            tables.set_implicit(true);
            for (name, settings) in resources {
                let (Some(name), Some(toml_edit::Value::InlineTable(inline))) =
                    (name.as_str(), toml_value(settings))
                else {
                    continue;
                };
                tables.insert(name, Item::Table(inline.into_table()));
            }
            doc.insert(section, Item::Table(tables));
        }
        doc
    }
}

impl DraftEntry {
    fn table(&self, pass: Pass) -> Table {
        let mut table = Table::new();
        let mut prefix = String::from("\n");
        let check = if self.guessed { "; check it" } else { "" };
        prefix.push_str(&comment(&format!(
            "kind \"{}\": {}{check}",
            self.kind, self.reason
        )));
        let kept: Vec<&str> = self.compose.keys().filter_map(Yaml::as_str).collect();
        if !kept.is_empty() {
            prefix.push_str(&comment(&format!(
                "passed through as written, under `compose`: {}",
                kept.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for note in &self.notes {
            prefix.push_str(&comment(note));
        }
        table.decor_mut().set_prefix(prefix);
        table.insert("kind", toml_edit::value(self.kind.as_str()));
        for key in KEY_ORDER {
            let value = match (pass, *key) {
                (Pass::Bare, "depends_on") if !self.depends_on.is_empty() => Some(Yaml::Sequence(
                    self.depends_on
                        .iter()
                        .map(|(t, _)| Yaml::from(t.as_str()))
                        .collect(),
                )),
                (Pass::Bare, "command") if self.image_needs_command() => {
                    self.keys.get("command").cloned()
                }
                (Pass::Bare, k) if Self::LEFT_OUT.contains(&k) => None,
                (Pass::Settled, "healthcheck") => match self.keys.get(*key) {
                    Some(Yaml::Mapping(hc)) => {
                        let mut hc = hc.clone();
                        hc.remove("test");
                        (!hc.is_empty()).then_some(Yaml::Mapping(hc))
                    }
                    other => other.cloned(),
                },
                _ => self.keys.get(*key).cloned(),
            };
            if let Some(value) = value.as_ref().and_then(toml_value) {
                table.insert(key, Item::Value(value));
            }
        }
        if pass != Pass::Bare
            && let Some(compose) = toml_value(&Yaml::Mapping(self.compose.clone()))
            && !self.compose.is_empty()
        {
            table.insert("compose", Item::Value(compose));
        }
        table
    }
}

/// `text` as `#` lines of at most 100 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 100 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A YAML value as TOML. TOML has no null: a null in a mapping or list is left out (Compose
/// reads an absent key as it reads a null one).
fn toml_value(value: &Yaml) -> Option<toml_edit::Value> {
    Some(match value {
        Yaml::Null => return None,
        Yaml::Bool(b) => (*b).into(),
        Yaml::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Yaml::String(s) => s.as_str().into(),
        Yaml::Sequence(items) => items
            .iter()
            .filter_map(toml_value)
            .collect::<Array>()
            .into(),
        Yaml::Mapping(m) => {
            let mut table = InlineTable::new();
            for (k, v) in m {
                let key = match k {
                    Yaml::String(k) => k.clone(),
                    other => scalar_string(other)?.as_str()?.to_owned(),
                };
                if let Some(v) = toml_value(v) {
                    table.insert(&key, v);
                }
            }
            table.into()
        }
        Yaml::Tagged(tagged) => return toml_value(&tagged.value),
    })
}
