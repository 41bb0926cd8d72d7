//! Where a value of the generated file was written. The file's key (`environment.DB_URL` of
//! `backend`) names the catalogue keys that can set it (`env.DB_URL`, `compose.environment`),
//! which are looked up, highest layer first, as resolve applies them: the entry's
//! `profiles.NAME` override, the entry, then each profile's `[kinds.KIND]` and `[defaults]`
//! (the selected profile before those it extends). The first string there holding the text
//! sought (a variable's expression, a path) is the place. A value the kind template wrote is
//! found in the template's text; one found nowhere (a default of muster's own) is placed at the
//! service's table.
//!
//! The catalogue's types keep spans only for the values the stages report on, so the texts are
//! read again here with toml_edit, which keeps every span (as `live::plan` does).

use super::Place;
use crate::diagnostic::{SourceId, Sources};
use crate::validate::Stack;
use std::ops::Range;
use toml_edit::{Document, Item, Value};

/// The catalogue and the profiles of one stack, parsed once, with every span.
pub struct Locator<'a> {
    sources: &'a Sources,
    catalogue: SourceId,
    doc: Option<Document<String>>,
    /// The profile chain, the selected one first.
    profiles: Vec<(SourceId, Option<Document<String>>)>,
    /// The selected profile and those it extends, the selected one first: the overrides an
    /// entry applies.
    profile_names: Vec<String>,
    /// Each service's kind and table.
    services: Vec<(String, String, Range<usize>)>,
}

impl<'a> Locator<'a> {
    pub fn new(stack: &Stack, sources: &'a Sources) -> Locator<'a> {
        let project = &stack.project;
        let parse = |id: SourceId| Document::parse(sources.text(id).to_owned()).ok();
        Locator {
            sources,
            catalogue: project.catalogue_source,
            doc: parse(project.catalogue_source),
            profiles: project
                .profile_sources
                .iter()
                .rev()
                .map(|id| (*id, parse(*id)))
                .collect(),
            profile_names: project.profiles.iter().rev().cloned().collect(),
            services: stack
                .services
                .iter()
                .map(|s| {
                    let service = &s.rendered.service;
                    (
                        service.name.clone(),
                        service.kind.clone(),
                        service.name_span.clone(),
                    )
                })
                .collect(),
        }
    }

    /// Where the value of `service`'s Compose key `key` holding `needle` was written.
    pub fn in_service(&self, service: &str, key: &str, needle: &str) -> Option<Place> {
        let (_, kind, table) = self.services.iter().find(|(name, ..)| name == service)?;
        let candidates = catalogue_keys(key);
        let entry = self
            .doc
            .as_ref()
            .and_then(|d| d.as_table().get("services"))
            .and_then(|s| s.get(service));
        let overrides: Vec<&Item> = entry
            .and_then(|e| e.get("profiles"))
            .map(|p| {
                self.profile_names
                    .iter()
                    .filter_map(|name| p.get(name.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let catalogue_layers: Vec<&Item> = overrides.into_iter().chain(entry).collect();
        let at = |source: SourceId, span: Range<usize>| Place { source, span };
        // A `compose` table is merged over every layer, so its key wins wherever it is.
        for candidate in &candidates {
            for layer in &catalogue_layers {
                if let Some(span) = layer_string(layer, candidate, needle) {
                    return Some(at(self.catalogue, span));
                }
            }
            for (source, doc) in &self.profiles {
                let Some(doc) = doc else { continue };
                let sections = [
                    doc.as_table().get("kinds").and_then(|k| k.get(kind)),
                    doc.as_table().get("defaults"),
                ];
                for section in sections.into_iter().flatten() {
                    if let Some(span) = layer_string(section, candidate, needle) {
                        return Some(at(*source, span));
                    }
                }
            }
        }
        // A template may copy a catalogue value under another key.
        for layer in &catalogue_layers {
            if let Some(span) = string_holding(layer, needle) {
                return Some(at(self.catalogue, span));
            }
        }
        if let Some((source, span)) = self.in_template(kind, needle) {
            return Some(at(source, span));
        }
        Some(at(self.catalogue, table.clone()))
    }

    /// Where the file's top-level key `key` (`name`, `secrets.pw.file`, `volumes.data.name`)
    /// holding `needle` was written: the catalogue's `[project]` or resource tables.
    pub fn top_level(&self, key: &str, needle: &str) -> Option<Place> {
        let doc = self.doc.as_ref()?;
        let path = match key {
            "name" => "project.name".to_owned(),
            other => other.to_owned(),
        };
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        let span = layer_string(doc.as_item(), &path, needle)
            .or_else(|| string_holding(doc.as_item(), needle))?;
        Some(Place {
            source: self.catalogue,
            span,
        })
    }

    /// `needle` in the text of `kind`'s template, the user's over the built-in.
    fn in_template(&self, kind: &str, needle: &str) -> Option<(SourceId, Range<usize>)> {
        let suffix = format!("kinds/{kind}.yml.j2");
        let (id, _) = self
            .sources
            .ids()
            .filter(|(_, name)| name.ends_with(&suffix))
            .last()?;
        let text = self.sources.text(id);
        let at = text.find(needle)?;
        Some((id, at..at + needle.len()))
    }
}

/// The catalogue keys that can set the Compose key `key` of a service, each as its path of
/// table keys: the `compose` table's first, which is merged over the others, then the modelled
/// one. A list item names the list, which the catalogue writes whole.
fn catalogue_keys(key: &str) -> Vec<Vec<String>> {
    let plain = key.split('[').next().unwrap_or(key);
    let (head, rest) = plain.split_once('.').unwrap_or((plain, ""));
    let own = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    // An environment variable's or a label's name may hold dots (`com.example.team`).
    let named = |table: &str| match rest {
        "" => own(&[table]),
        name => own(&[table, name]),
    };
    let mut compose = vec!["compose".to_owned()];
    match head {
        "environment" | "labels" => compose.extend(named(head)),
        _ => compose.extend(plain.split('.').map(str::to_owned)),
    }
    let modelled = match head {
        "environment" => Some(named("env")),
        "labels" => Some(named("labels")),
        "healthcheck" | "build" => Some(plain.split('.').map(str::to_owned).collect()),
        "command" | "entrypoint" | "image" | "ports" | "volumes" | "env_file" | "networks"
        | "restart" | "gpus" | "models" => Some(own(&[head])),
        "deploy" if rest == "replicas" => Some(own(&["replicas"])),
        "profiles" => Some(own(&["compose_profiles"])),
        _ => None,
    };
    let mut keys = vec![compose];
    keys.extend(modelled);
    // `build.context` is written `build = "..."` too.
    if head == "build" && plain != "build" {
        keys.push(own(&["build"]));
    }
    keys
}

/// The span of the first string holding `needle` under `path` (table keys) of `item`.
fn layer_string(item: &Item, path: &[String], needle: &str) -> Option<Range<usize>> {
    let mut node = item;
    for part in path {
        node = node.as_table_like()?.get(part)?;
    }
    string_holding(node, needle)
}

/// The span of the first string under `item` that holds `needle`.
fn string_holding(item: &Item, needle: &str) -> Option<Range<usize>> {
    match item {
        Item::Value(value) => value_holding(value, needle),
        Item::Table(table) => table
            .iter()
            .find_map(|(_, item)| string_holding(item, needle)),
        Item::ArrayOfTables(tables) => tables
            .iter()
            .find_map(|t| t.iter().find_map(|(_, item)| string_holding(item, needle))),
        Item::None => None,
    }
}

fn value_holding(value: &Value, needle: &str) -> Option<Range<usize>> {
    match value {
        Value::String(s) if s.value().contains(needle) => s.span(),
        Value::Array(items) => items.iter().find_map(|v| value_holding(v, needle)),
        Value::InlineTable(table) => table.iter().find_map(|(_, v)| value_holding(v, needle)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_keys_name_the_catalogue_keys_that_set_them() {
        let keys = |key: &str| -> Vec<String> {
            catalogue_keys(key).iter().map(|k| k.join("|")).collect()
        };
        assert_eq!(
            keys("environment.DB_URL"),
            ["compose|environment|DB_URL", "env|DB_URL"]
        );
        assert_eq!(
            keys("labels.com.example.team"),
            ["compose|labels|com.example.team", "labels|com.example.team"]
        );
        assert_eq!(keys("volumes[2]"), ["compose|volumes", "volumes"]);
        assert_eq!(keys("env_file[0].path"), ["compose|env_file", "env_file"]);
        assert_eq!(
            keys("build.context"),
            ["compose|build|context", "build|context", "build"]
        );
        assert_eq!(
            keys("deploy.replicas"),
            ["compose|deploy|replicas", "replicas"]
        );
        assert_eq!(keys("logging.driver"), ["compose|logging|driver"]);
    }

    #[test]
    fn finds_the_string_under_a_path() {
        let text = "[services.web]\nenv = { A = \"x\", B = \"${PW:?set}\" }\n\
                    compose = { volumes = [\"./a:/a\", \"${D}:/d\"] }\n";
        let doc = Document::parse(text.to_owned()).unwrap();
        let web = doc.as_table().get("services").unwrap().get("web").unwrap();
        let at = |path: &str, needle: &str| {
            let path: Vec<String> = path.split('.').map(str::to_owned).collect();
            layer_string(web, &path, needle).map(|r| &text[r])
        };
        assert_eq!(at("env.B", "${PW:?set}"), Some("\"${PW:?set}\""));
        assert_eq!(at("compose.volumes", "${D}"), Some("\"${D}:/d\""));
        assert_eq!(at("env.A", "${PW"), None);
    }
}
