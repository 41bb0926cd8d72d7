//! Where a value of a service's body was written: the `compose` table of the layer that set it
//! (at the key itself), the catalogue's own keys (at the entry, or its `profiles.NAME`
//! override), or the kind template (at the template's line). Worked out only for a value that
//! is reported, from the body's layers as render built them, so that nothing is kept per value
//! for bodies with nothing to report.

use crate::diagnostic::{SourceId, Sources};
use crate::render::Rendered;
use crate::resolve::Layer;
use crate::yaml::Value as Yaml;
use std::collections::HashMap;
use std::ops::Range;

/// A place in a file, and what wrote the value there.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub source: SourceId,
    pub span: Range<usize>,
    pub label: String,
}

/// The keys of a body the catalogue models, by the catalogue's name for them (`env` is
/// `environment`, `compose_profiles` is `profiles`, `replicas` is `deploy.replicas`).
const MODELLED: &[(&str, &str)] = &[
    ("image", "image"),
    ("build", "build"),
    ("command", "command"),
    ("entrypoint", "entrypoint"),
    ("restart", "restart"),
    ("ports", "ports"),
    ("env_file", "env_file"),
    ("profiles", "compose_profiles"),
    ("volumes", "volumes"),
    ("models", "models"),
    ("gpus", "gpus"),
    ("networks", "networks"),
    ("environment", "env"),
    ("labels", "labels"),
    ("healthcheck", "healthcheck"),
    ("deploy", "replicas"),
];

/// Finds places in the files muster read, each file parsed again (with toml_edit, which keeps
/// every span) at most once however many values are reported.
pub(crate) struct Locator<'s> {
    sources: &'s Sources,
    catalogue: SourceId,
    docs: HashMap<SourceId, Option<toml_edit::Document<String>>>,
}

impl<'s> Locator<'s> {
    pub(crate) fn new(sources: &'s Sources, catalogue: SourceId) -> Self {
        Locator {
            sources,
            catalogue,
            docs: HashMap::new(),
        }
    }

    fn doc(&mut self, source: SourceId) -> Option<&toml_edit::Document<String>> {
        let sources = self.sources;
        self.docs
            .entry(source)
            .or_insert_with(|| toml_edit::Document::parse(sources.text(source).to_owned()).ok())
            .as_ref()
    }

    /// Where the value at `path` (the body's keys; a list item is its index) was written.
    pub(crate) fn locate(&mut self, rendered: &Rendered, path: &[String]) -> Place {
        locate(self, rendered, path)
    }
}

fn locate(locator: &mut Locator, rendered: &Rendered, path: &[String]) -> Place {
    let service = &rendered.service;
    if in_mapping(&service.compose, path) {
        for table in service.compose_at.iter().rev() {
            let found = locator
                .doc(table.source)
                .and_then(|doc| span_in_table(doc, table, &service.name, &service.kind, path));
            if let Some(span) = found {
                return Place {
                    source: table.source,
                    span,
                    label: format!("written in {}'s `compose` table", layer_name(&table.layer)),
                };
            }
        }
        if let Some(table) = service.compose_at.last() {
            return Place {
                source: table.source,
                span: table.span.clone(),
                label: "in this `compose` table".to_owned(),
            };
        }
    }
    let first = path.first().map(String::as_str).unwrap_or_default();
    if let Some((_, key)) = MODELLED.iter().find(|(body, _)| *body == first)
        && catalogue_sets(rendered, first, path)
    {
        let catalogue = locator.catalogue;
        // The catalogue's name for the key, then the body's keys below it.
        let mut in_entry = vec![(*key).to_owned()];
        in_entry.extend(path.iter().skip(1).cloned());
        if first == "deploy" {
            in_entry.truncate(1);
        }
        let span = locator
            .doc(catalogue)
            .and_then(|doc| entry_span(doc, &service.name, &in_entry))
            .unwrap_or(service.name_span.clone());
        return Place {
            source: catalogue,
            span,
            label: format!("`{key}` of this service, or of a profile under it"),
        };
    }
    Place {
        source: rendered.template,
        span: template_span(locator.sources.text(rendered.template), path),
        label: format!("rendered by the `{}` template", service.kind),
    }
}

fn layer_name(layer: &Layer) -> String {
    match layer {
        Layer::Catalogue => "the entry".to_owned(),
        Layer::Override(p) => format!("the entry's `profiles.{p}`"),
        Layer::Profile(p) => format!("profile {p}'s `[defaults]`"),
        Layer::ProfileKind(p) => format!("profile {p}'s `[kinds]` section"),
        Layer::KindDefault => "the kind".to_owned(),
        Layer::Measured { profile, .. } => format!("profile {profile}'s measured `[services]`"),
    }
}

/// Whether the mapping holds the path, or a value above it that is not a mapping (a list the
/// path indexes into).
fn in_mapping(map: &crate::yaml::Mapping, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match map.get(first.as_str()) {
        None => false,
        Some(Yaml::Mapping(inner)) if !rest.is_empty() => in_mapping(inner, rest),
        Some(_) => true,
    }
}

/// Whether the catalogue's layers set the body's key `first` (a key of `environment` or
/// `labels` the catalogue names; every other modelled key as a whole).
fn catalogue_sets(rendered: &Rendered, first: &str, path: &[String]) -> bool {
    let s = &rendered.service;
    let key = path.get(1).map(String::as_str);
    match first {
        "image" => s.image.is_some(),
        "build" => s.build.is_some(),
        "command" => s.command.is_some(),
        "entrypoint" => s.entrypoint.is_some(),
        "restart" => s.restart.is_some(),
        "ports" => !s.ports.is_empty(),
        "env_file" => !s.env_file.is_empty(),
        "profiles" => !s.compose_profiles.is_empty(),
        "volumes" => !s.volumes.is_empty(),
        "models" => !s.models.is_empty(),
        "gpus" => s.gpus.is_some(),
        "networks" => !s.networks.is_empty(),
        "environment" => key.is_some_and(|k| s.env.contains_key(k)),
        "labels" => key.is_some_and(|k| s.labels.contains_key(k)),
        "healthcheck" => {
            let hc = &s.healthcheck;
            match key {
                Some("test") => hc.test.is_some(),
                Some("interval") => hc.interval.is_some(),
                Some("timeout") => hc.timeout.is_some(),
                Some("retries") => hc.retries.is_some(),
                Some("start_period") => hc.start_period.is_some(),
                Some("start_interval") => hc.start_interval.is_some(),
                Some("disable") => hc.disable,
                _ => false,
            }
        }
        "deploy" => key == Some("replicas") && s.replicas.is_some(),
        _ => false,
    }
}

/// The span of the key `path` in a layer's `compose` table, read again with toml_edit, which
/// keeps every span; the deepest key of the path that the table names.
fn span_in_table(
    doc: &toml_edit::Document<String>,
    table: &crate::resolve::ComposeTable,
    service: &str,
    kind: &str,
    path: &[String],
) -> Option<Range<usize>> {
    let mut prefix: Vec<&str> = match &table.layer {
        Layer::Catalogue => vec!["services", service],
        Layer::Override(p) => vec!["services", service, "profiles", p],
        Layer::Profile(_) => vec!["defaults"],
        Layer::ProfileKind(_) => vec!["kinds", kind],
        // Measured timings are healthcheck keys only, never a `compose` table.
        Layer::KindDefault | Layer::Measured { .. } => return None,
    };
    prefix.push("compose");
    let mut item = doc.as_item();
    for key in &prefix {
        item = item.as_table_like()?.get(key)?;
    }
    deepest(item, path)
}

/// The span of the deepest key of `path` under `item` (a list index picks the item), the key
/// and its value.
fn deepest(item: &toml_edit::Item, path: &[String]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    if let Some(array) = item.as_array()
        && let Ok(index) = first.parse::<usize>()
    {
        let value = array.get(index)?;
        let here = value.span();
        if rest.is_empty() {
            return here;
        }
        let nested = toml_edit::Item::Value(value.clone());
        return deepest(&nested, rest).or(here);
    }
    let (key, value) = item.as_table_like()?.get_key_value(first)?;
    let key_span = key.span()?;
    let here = key_span.start
        ..value
            .span()
            .map_or(key_span.end, |v| v.end.max(key_span.end));
    if rest.is_empty() {
        return Some(here);
    }
    deepest(value, rest).or(Some(here))
}

/// The span of a catalogue key of the entry `service`, at its deepest key of `path`.
fn entry_span(
    doc: &toml_edit::Document<String>,
    service: &str,
    path: &[String],
) -> Option<Range<usize>> {
    let entry = doc.as_table().get("services")?.get(service)?;
    deepest(entry, path)
}

/// Where a template writes the key at `path`: the first key's `KEY:`, then each deeper key
/// after it; the template's start when the template computes the key (no text of its own).
fn template_span(text: &str, path: &[String]) -> Range<usize> {
    let mut found: Option<Range<usize>> = None;
    for (depth, key) in path.iter().enumerate() {
        if key.parse::<usize>().is_ok() {
            continue;
        }
        let from = found.as_ref().map_or(0, |r| r.end);
        let needle = if depth == 0 {
            format!("{key}:")
        } else {
            key.clone()
        };
        match text.get(from..).and_then(|t| t.find(&needle)) {
            Some(at) => found = Some(from + at..from + at + needle.len()),
            None => break,
        }
    }
    found.unwrap_or(0..0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_key_is_found_under_the_keys_above_it() {
        let text = "image: x\nlabels:\n  team: a\nhealthcheck:\n  interval: 5s\n";
        let at = |path: &[&str]| {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            &text[template_span(text, &path)]
        };
        assert_eq!(at(&["healthcheck", "interval"]), "interval");
        assert_eq!(at(&["labels", "team"]), "team");
        assert_eq!(at(&["nothing"]), "");
    }

    #[test]
    fn a_compose_key_is_found_at_its_deepest_key() {
        let text = "[services.web]\nkind = \"http\"\ncompose = { healthcheck = { interval = 5 }, ports = [\"1\", \"300.1.1.1:80:80\"] }\n";
        let doc = toml_edit::Document::parse(text.to_owned()).unwrap();
        let compose = &doc["services"]["web"]["compose"];
        let at = |path: &[&str]| {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            &text[deepest(compose, &path).unwrap()]
        };
        assert_eq!(at(&["healthcheck", "interval"]), "interval = 5");
        assert_eq!(at(&["ports", "1"]), "\"300.1.1.1:80:80\"");
        assert_eq!(
            at(&["healthcheck", "nothing"]),
            "healthcheck = { interval = 5 }"
        );
    }
}
