//! The `compose` passthrough: the tables of every layer merged, as YAML, over what muster
//! generates. The profiles' tables are the same for every service of a kind and merged once.

use super::layers::{Layer, Layers};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Arc;

impl<'a> Layers<'a> {
    /// The `compose` passthrough, merged as Compose merges files: the profiles' tables (shared
    /// by every service of the kind), then the entry's own, each layer's `reset` and `override`
    /// of a `compose` path removing what the layers below put there.
    pub(super) fn compose(
        &mut self,
        shared: &mut SharedCompose<'a>,
        kind: &'a str,
    ) -> Arc<crate::yaml::Mapping> {
        if let Some(provenance) = &mut self.provenance {
            for l in &self.layers {
                if let Some(table) = &l.spec.compose {
                    // Leaves, not top-level keys: tables merge, so `logging.driver` and
                    // `logging.options.max-size` can come from different layers.
                    record_leaves(provenance, "compose", table.get_ref(), &l.origin.to_layer());
                }
            }
        }
        let entry_from = self
            .layers
            .iter()
            .position(|l| !l.origin.is_profile())
            .unwrap_or(self.layers.len());
        let floors = &self.floors;
        let layers = &self.layers;
        let apply = |merged: &mut crate::yaml::Mapping, from: usize, to: usize| {
            for (i, l) in layers.iter().enumerate().take(to).skip(from) {
                for f in floors
                    .iter()
                    .filter(|f| f.layer == i && f.path.key == "compose")
                {
                    if f.path.below.is_empty() {
                        merged.clear();
                    } else {
                        crate::merge::remove_path(merged, &f.path.below);
                    }
                }
                if let Some(table) = &l.spec.compose {
                    crate::merge::service(merged, &toml_to_mapping(table.get_ref()));
                }
            }
        };
        let profiles = shared.by_kind.entry(kind).or_insert_with(|| {
            let mut merged = crate::yaml::Mapping::new();
            apply(&mut merged, 0, entry_from);
            Arc::new(merged)
        });
        let entry_changes = layers[entry_from..]
            .iter()
            .any(|l| l.spec.compose.is_some())
            || floors
                .iter()
                .any(|f| f.layer >= entry_from && f.path.key == "compose");
        // Services without tables of their own share the profiles' mapping rather than each
        // holding a copy: a `logging` block is kilobytes as a YAML mapping.
        if !entry_changes {
            return Arc::clone(profiles);
        }
        let mut merged = crate::yaml::Mapping::clone(profiles);
        apply(&mut merged, entry_from, layers.len());
        Arc::new(merged)
    }
}

impl Layers<'_> {
    /// The dependencies a merged `compose.depends_on` adds to the `written` ones: each at the
    /// `compose` table that names it. Compose's short form waits for the start, as its long form
    /// says (`condition` is required there); a condition Compose does not know is an error, as
    /// Compose refuses it.
    pub(super) fn passthrough_dependencies(
        &self,
        merged: &crate::yaml::Mapping,
        written: &[super::Dependency],
        diagnostics: &mut crate::diagnostic::Diagnostics,
    ) -> Vec<super::Dependency> {
        use crate::model::Condition;
        use crate::yaml::Value as Yaml;
        let Some(value) = merged.get("depends_on") else {
            return Vec::new();
        };
        let Some((source, span)) = self.layers.iter().rev().find_map(|l| {
            let table = l.spec.compose.as_ref()?;
            table
                .get_ref()
                .contains_key("depends_on")
                .then(|| (l.source, table.span()))
        }) else {
            return Vec::new();
        };
        let at = |d: crate::diagnostic::Diagnostic| d.at(source, Some(span.clone()), "here");
        let entries: Vec<(&str, Option<&Yaml>)> = match value {
            Yaml::Sequence(names) => names
                .iter()
                .filter_map(Yaml::as_str)
                .map(|n| (n, None))
                .collect(),
            Yaml::Mapping(map) => map
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, Some(v))))
                .collect(),
            _ => {
                diagnostics.push(at(crate::diagnostic::Diagnostic::error(
                    "`compose.depends_on` is neither a list of services nor a table of them",
                )));
                return Vec::new();
            }
        };
        let mut found = Vec::new();
        for (target, long) in entries {
            // The catalogue's own entry decides the condition; the table only refines it
            // (`restart: true`).
            if written.iter().any(|d| d.target == target) {
                continue;
            }
            let condition = match long {
                None => Some(Condition::Started),
                Some(long) => {
                    let word = long.get("condition").and_then(Yaml::as_str);
                    match word
                        .and_then(Condition::parse)
                        .filter(|_| word.is_some_and(|w| w.starts_with("service_")))
                    {
                        Some(c) => Some(c),
                        None => {
                            diagnostics.push(at(crate::diagnostic::Diagnostic::error(format!(
                                "`compose.depends_on.{target}` needs a `condition` Compose knows: \
                                 \"service_started\", \"service_healthy\" or \
                                 \"service_completed_successfully\""
                            ))));
                            continue;
                        }
                    }
                }
            };
            // Its `restart` and `required` are the table's own, so the graph reads an optional
            // dependency written here as optional.
            let flag = |key: &str| long.and_then(|l| l.get(key)).and_then(Yaml::as_bool);
            let options = crate::spec::DependencyOptions {
                restart: flag("restart"),
                required: flag("required"),
            };
            found.push(super::Dependency {
                target: target.to_owned(),
                condition,
                options,
                source,
                span: span.clone(),
            });
        }
        found
    }
}

/// The profiles' `compose` tables merged, by kind. They are the same for every service of a
/// kind, so they are converted to YAML once rather than for each service.
#[derive(Default)]
pub(super) struct SharedCompose<'a> {
    by_kind: HashMap<&'a str, Arc<crate::yaml::Mapping>>,
}

/// Records `layer` for every non-table value under `prefix`, as `prefix.key.subkey`, and for
/// each item of a list as `prefix.key[ITEM]`, the item as JSON: lists merge item by item.
fn record_leaves(
    provenance: &mut IndexMap<String, Layer>,
    prefix: &str,
    table: &toml::Table,
    layer: &Layer,
) {
    for (key, value) in table {
        let path = format!("{prefix}.{key}");
        match value {
            toml::Value::Table(t) => record_leaves(provenance, &path, t, layer),
            toml::Value::Array(items) => {
                for item in items {
                    let item = serde_json::to_string(&toml_to_yaml(item))
                        .expect("YAML values serialize as JSON");
                    provenance.insert(format!("{path}[{item}]"), layer.clone());
                }
                provenance.insert(path, layer.clone());
            }
            _ => {
                provenance.insert(path, layer.clone());
            }
        }
    }
}

fn toml_to_mapping(table: &toml::Table) -> crate::yaml::Mapping {
    table
        .iter()
        .map(|(k, v)| (crate::yaml::Value::String(k.clone()), toml_to_yaml(v)))
        .collect()
}

fn toml_to_yaml(value: &toml::Value) -> crate::yaml::Value {
    use crate::yaml::Value as Y;
    match value {
        toml::Value::String(s) => Y::String(s.clone()),
        toml::Value::Integer(i) => Y::Number((*i).into()),
        toml::Value::Float(f) => Y::Number((*f).into()),
        toml::Value::Boolean(b) => Y::Bool(*b),
        toml::Value::Datetime(d) => Y::String(d.to_string()),
        toml::Value::Array(items) => Y::Sequence(items.iter().map(toml_to_yaml).collect()),
        toml::Value::Table(t) => Y::Mapping(toml_to_mapping(t)),
    }
}
