//! Every body judged by the Compose Specification's JSON Schema, as Compose 2.40.3's loader judges
//! the file (compose-go `loader.loadYamlFile`): each string interpolated first (here at its
//! defaults), the strings at compose-go's cast paths cast to numbers and booleans
//! ([`crate::compose_spec::CASTS`]), then the schema. A value with a variable that has no default
//! is the environment's to decide: nothing at or under it is judged.
//!
//! The schema is compiled once per process ([`crate::compose_spec::validator`]); each key of a
//! body is judged on its own, wrapped as `services: {NAME: {KEY: value}}`, so that no document of
//! every body is ever held at once, and a value judged valid once is not read again
//! ([`Checker`]).

use super::origin::Locator;
use crate::compose_spec::{self, Cast};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::render::Rendered;
use crate::yaml::Value as Yaml;
use jsonschema::error::ValidationErrorKind as Kind;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

/// A value read as Compose reads it before its schema check.
struct Read {
    json: Json,
    /// Paths whose value only the environment decides (a variable without a default).
    unknown: Vec<Vec<String>>,
    /// Strings at a cast path that do not cast, with compose-go's reason.
    casts: Vec<(Vec<String>, String)>,
}

/// Judges bodies one key at a time, remembering the values it found valid: the service schema
/// has no rule across keys (its properties, nothing else), so a key's verdict depends on the key
/// and its value alone, and a value many services share (the profile's `logging`, a template's
/// healthcheck, `restart`) is read and judged once. The set borrows the bodies and compares
/// values whole, so no verdict is taken from a look-alike.
///
/// The values are hashed with aHash (already in the tree through jsonschema): SipHash over
/// every distinct value was most of this check's cost. Nothing emitted depends on the set's
/// order.
#[derive(Default)]
pub(super) struct Checker<'b> {
    valid: HashSet<(Exact<'b>, Exact<'b>), BuildHasherDefault<ahash::AHasher>>,
}

/// A value that equals another only entry for entry in the same order, and is hashed in one
/// walk by the set's own hasher. yaml_serde hashes each mapping entry with a SipHash of its
/// own and compares mappings by looking each key up in the other (SipHash again): those were
/// most of the set's cost. Equal here is equal there, so a value found in the set is one
/// judged valid; a mapping written in another order is only judged again.
#[derive(Clone, Copy)]
struct Exact<'b>(&'b Yaml);

impl PartialEq for Exact<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Yaml::Mapping(a), Yaml::Mapping(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
                        Exact(ka) == Exact(kb) && Exact(va) == Exact(vb)
                    })
            }
            (Yaml::Sequence(a), Yaml::Sequence(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Exact(x) == Exact(y))
            }
            (Yaml::Tagged(a), Yaml::Tagged(b)) => {
                a.tag == b.tag && Exact(&a.value) == Exact(&b.value)
            }
            (a, b) => a == b,
        }
    }
}

impl Eq for Exact<'_> {}

impl std::hash::Hash for Exact<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self.0 {
            Yaml::Mapping(map) => {
                state.write_u8(b'm');
                state.write_usize(map.len());
                for (key, value) in map {
                    Exact(key).hash(state);
                    Exact(value).hash(state);
                }
            }
            Yaml::Sequence(items) => {
                state.write_u8(b's');
                state.write_usize(items.len());
                items.iter().for_each(|item| Exact(item).hash(state));
            }
            Yaml::Tagged(tagged) => {
                state.write_u8(b't');
                Exact(&tagged.value).hash(state);
            }
            // Scalars hash through the state they are given.
            scalar => scalar.hash(state),
        }
    }
}

impl<'b> Checker<'b> {
    /// The problems Compose's schema and casts find in the body, each as a diagnostic at the
    /// place that wrote the value; none at or under a path of `skip` (reported already, by the
    /// body's own reading). Returns whether there were none.
    pub(super) fn check(
        &mut self,
        rendered: &'b Rendered,
        skip: &[Vec<String>],
        locator: &mut Locator,
        diagnostics: &mut Diagnostics,
    ) -> bool {
        let mut ok = true;
        for (key, value) in rendered.body.mapping() {
            if typed_only(rendered, key.as_str().unwrap_or_default())
                || self.valid.contains(&(Exact(key), Exact(value)))
            {
                continue;
            }
            let found = judge(rendered, key, value, skip);
            if found.is_empty() {
                if !skip
                    .iter()
                    .any(|s| s.first().map(String::as_str) == key.as_str())
                {
                    self.valid.insert((Exact(key), Exact(value)));
                }
                continue;
            }
            ok = false;
            report(rendered, &found, locator, diagnostics);
        }
        ok
    }
}

/// Whether muster built the key's whole value from the catalogue's typed keys: load judged
/// each of them where it is written (durations, ports, mounts, counts, names), and the body
/// writes them only in the shapes the schema asks for (strings, lists of strings, a map of
/// strings, `deploy.replicas` as a count), so the schema has nothing to add and the key is not
/// read again. A key a template or a `compose` table wrote, wholly or in part, is judged.
fn typed_only(rendered: &Rendered, key: &str) -> bool {
    let s = &rendered.service;
    if s.compose.contains_key(key) {
        return false;
    }
    let all_catalogues = |map: &indexmap::IndexMap<String, String>| {
        rendered
            .body
            .get(key)
            .and_then(Yaml::as_mapping)
            .is_some_and(|m| m.len() == map.len())
    };
    match key {
        "image" => s.image.is_some(),
        "build" => s.build.is_some(),
        "command" => s.command.is_some(),
        "entrypoint" => s.entrypoint.is_some(),
        "restart" => s.restart.is_some(),
        "ports" => !s.ports.is_empty(),
        "env_file" => !s.env_file.is_empty(),
        "profiles" => !s.compose_profiles.is_empty(),
        "volumes" => !s.volumes.is_empty() || s.model_cache.is_some(),
        "models" => !s.models.is_empty(),
        "gpus" => s.gpus.is_some(),
        "networks" => !s.networks.is_empty(),
        "deploy" => s.replicas.is_some(),
        "environment" => !s.env.is_empty() && all_catalogues(&s.env),
        "labels" => !s.labels.is_empty() && all_catalogues(&s.labels),
        // Render holds its place with an empty map; validation fills it from the graph.
        "depends_on" => true,
        _ => false,
    }
}

/// What Compose finds wrong with one key of a body: each path, message and whether it is a
/// cast (else the schema).
fn judge(
    rendered: &Rendered,
    key: &Yaml,
    value: &Yaml,
    skip: &[Vec<String>],
) -> Vec<(Vec<String>, String, bool)> {
    let key = key_text(key);
    let mut read = Read {
        json: Json::Null,
        unknown: Vec::new(),
        casts: Vec::new(),
    };
    let mut path = vec![key.clone()];
    read.json = convert(value, &mut path, &mut read);
    let mut body = serde_json::Map::with_capacity(1);
    body.insert(key, std::mem::take(&mut read.json));
    let mut services = serde_json::Map::with_capacity(1);
    services.insert(rendered.service.name.clone(), Json::Object(body));
    let mut document = serde_json::Map::with_capacity(1);
    document.insert("services".to_owned(), Json::Object(services));
    let document = Json::Object(document);
    let validator = compose_spec::validator();
    let skipped = |path: &[String]| skip.iter().any(|s| path.starts_with(s));
    let mut found: Vec<(Vec<String>, String, bool)> = read
        .casts
        .into_iter()
        .filter(|(path, _)| !skipped(path))
        .map(|(path, message)| (path, message, true))
        .collect();
    if !validator.is_valid(&document) {
        for error in validator.iter_errors(&document) {
            let Some((path, message)) = most_specific(&error) else {
                continue;
            };
            if read.unknown.iter().any(|u| path.starts_with(u)) || skipped(&path) {
                continue;
            }
            if !found.iter().any(|(p, _, _)| *p == path) {
                found.push((path, message, false));
            }
        }
    }
    found
}

fn report(
    rendered: &Rendered,
    found: &[(Vec<String>, String, bool)],
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) {
    let name = rendered.service.name.as_str();
    for (path, message, cast) in found {
        let shown = if path.is_empty() {
            "the service".to_owned()
        } else {
            format!("`{}`", dotted(path))
        };
        let place = locator.locate(rendered, path);
        let compose_path = std::iter::once(format!("services.{name}"))
            .chain(path.iter().cloned())
            .collect::<Vec<_>>()
            .join(".");
        diagnostics.push(
            Diagnostic::error(format!("service `{name}`: {shown} {message}"))
                .at(place.source, Some(place.span), &place.label)
                .with_note(if *cast {
                    format!(
                        "Compose 2.40.3 casts the value after interpolating it, and refuses the \
                         file: \"{compose_path}: failed to cast to expected type\""
                    )
                } else {
                    format!(
                        "the Compose Specification's schema refuses it, and Compose 2.40.3 with \
                         it: \"{compose_path} {message}\""
                    )
                }),
        );
    }
}

/// The path in dotted form, a list item by its index (`ports[1]`).
pub(super) fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for key in path {
        if key.parse::<usize>().is_ok() {
            out.push_str(&format!("[{key}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key);
        }
    }
    out
}

fn key_text(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        // Render and load refuse keys that are not strings; whatever is left reads as its text.
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn convert(value: &Yaml, path: &mut Vec<String>, read: &mut Read) -> Json {
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Yaml::String(text) => {
            let interpolated = if text.contains('$') {
                match crate::model::interpolation::with_defaults(text) {
                    Ok(Some(value)) => value,
                    // Unknown until Compose reads the environment; text Compose cannot
                    // interpolate was refused where it was written.
                    Ok(None) | Err(_) => {
                        read.unknown.push(path.clone());
                        return Json::String(text.clone());
                    }
                }
            } else {
                text.clone()
            };
            match compose_spec::cast_at(path) {
                Some(cast) => match cast.apply(&interpolated) {
                    Ok(value) => value,
                    Err(reason) => {
                        read.casts.push((
                            path.clone(),
                            format!(
                                "is {:?}, which does not cast to {}: {reason}",
                                interpolated,
                                cast_name(cast)
                            ),
                        ));
                        Json::String(interpolated)
                    }
                },
                None => Json::String(interpolated),
            }
        }
        Yaml::Sequence(items) => {
            let mut out: Vec<Json> = Vec::with_capacity(items.len());
            let unique = compose_spec::unique_at(path);
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                let json = convert(item, path, read);
                path.pop();
                // Compose keeps one of equal items here before its schema sees the list.
                if unique && out.contains(&json) {
                    continue;
                }
                out.push(json);
            }
            Json::Array(out)
        }
        Yaml::Mapping(map) => {
            let mut object = serde_json::Map::with_capacity(map.len());
            for (key, value) in map {
                let key = key_text(key);
                path.push(key.clone());
                let json = convert(value, path, read);
                path.pop();
                object.insert(key, json);
            }
            Json::Object(object)
        }
        Yaml::Tagged(tagged) => convert(&tagged.value, path, read),
    }
}

fn cast_name(cast: Cast) -> &'static str {
    match cast {
        Cast::Int => "a whole number",
        Cast::Float => "a number",
        Cast::Bool => "a boolean",
    }
}

/// The error compose-go reports for `error` (`schema.getMostSpecificError`): among the errors
/// nested in `oneOf` and `anyOf`, the one deepest in the document, an unexpected property
/// counting one deeper. Its path in the body, and Compose's words for it
/// (`schema.validationError.Error`); `None` for what load and render report themselves.
fn most_specific(error: &jsonschema::ValidationError) -> Option<(Vec<String>, String)> {
    fn specificity(e: &jsonschema::ValidationError) -> usize {
        let depth = e.instance_path().into_iter().count();
        match e.kind() {
            Kind::AdditionalProperties { .. } => depth + 1,
            _ => depth,
        }
    }
    fn pick<'e>(e: &'e jsonschema::ValidationError<'e>) -> &'e jsonschema::ValidationError<'e> {
        let nested = match e.kind() {
            Kind::OneOfNotValid { context } | Kind::AnyOf { context } => context,
            _ => return e,
        };
        let mut best: Option<&jsonschema::ValidationError> = None;
        for cause in nested.iter().flatten() {
            let cause = pick(cause);
            if best.is_none_or(|b| specificity(cause) > specificity(b)) {
                best = Some(cause);
            }
        }
        best.unwrap_or(e)
    }
    let chosen = pick(error);
    let mut path: Vec<String> = chosen
        .instance_path()
        .into_iter()
        .map(|segment| match segment {
            jsonschema::paths::LocationSegment::Property(p) => p.to_string(),
            jsonschema::paths::LocationSegment::Index(i) => i.to_string(),
        })
        // `/services/NAME/...`: the body's own path. A service's name is load's to judge.
        .skip(2)
        .collect();
    if let Kind::AdditionalProperties { unexpected } = chosen.kind() {
        // A service key Compose does not know is load's (the `compose` table) and render's (a
        // template) to report, with a did-you-mean; a `<<` key is load's, at any depth.
        if path.is_empty() || unexpected.iter().all(|p| p == "<<") {
            return None;
        }
        // Pointed at the key itself, with the key Compose knows there that is nearest.
        if let [one] = unexpected.as_slice() {
            let mut message = format!(
                "is a key Compose does not know here (\"additional properties '{one}' not allowed\")"
            );
            let schema_path = chosen.schema_path().to_string();
            let known = schema_path
                .strip_suffix("/additionalProperties")
                .and_then(|parent| compose_spec::schema().pointer(&format!("{parent}/properties")))
                .and_then(Json::as_object);
            if let Some(hint) =
                known.and_then(|k| crate::suggest::did_you_mean(one, k.keys().map(String::as_str)))
            {
                message = format!("{message}; {hint}");
            }
            path.push(one.clone());
            return Some((path, message));
        }
    }
    if path.is_empty() {
        return None;
    }
    Some((path, words(chosen)))
}

/// Compose's message for one schema error, after the path.
fn words(error: &jsonschema::ValidationError) -> String {
    match error.kind() {
        Kind::Type { kind } => {
            let mut names: Vec<&str> = match kind {
                jsonschema::error::TypeKind::Single(t) => vec![type_name(*t)],
                jsonschema::error::TypeKind::Multiple(set) => set.iter().map(type_name).collect(),
            };
            names.sort_unstable();
            match names.split_last() {
                Some((last, [])) => format!("must be a {last}"),
                Some((last, rest)) => format!("must be a {} or {last}", rest.join(", ")),
                None => "has the wrong type".to_owned(),
            }
        }
        Kind::AdditionalProperties { unexpected } => format!(
            "additional properties {} not allowed",
            unexpected
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::Pattern { pattern } => {
            format!("{} does not match pattern '{pattern}'", error.instance())
        }
        Kind::Enum { options } => format!("must be one of {options}"),
        Kind::Required { property } => format!("missing property {property}"),
        Kind::UniqueItems => "has the same item twice".to_owned(),
        _ => error.to_string(),
    }
}

fn type_name(t: jsonschema::JsonType) -> &'static str {
    match t {
        jsonschema::JsonType::Object => "mapping",
        jsonschema::JsonType::Array => "array",
        jsonschema::JsonType::Boolean => "boolean",
        jsonschema::JsonType::Integer => "integer",
        jsonschema::JsonType::Null => "null",
        jsonschema::JsonType::Number => "number",
        jsonschema::JsonType::String => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body read key by key as [`judge`] reads each.
    fn read(text: &str) -> Read {
        let body: crate::yaml::Mapping = crate::yaml::from_str(text).unwrap();
        let mut read = Read {
            json: Json::Null,
            unknown: Vec::new(),
            casts: Vec::new(),
        };
        let mut object = serde_json::Map::new();
        for (key, value) in &body {
            let mut path = vec![key_text(key)];
            let json = convert(value, &mut path, &mut read);
            object.insert(key_text(key), json);
        }
        read.json = Json::Object(object);
        read
    }

    #[test]
    fn a_body_is_read_as_compose_reads_it_before_its_schema() {
        let read = read(
            "privileged: \"yes\"\ndeploy: {replicas: \"${R:-2}\"}\ncpus: \"${C}\"\n\
             profiles: [\"${A:-x}\", \"${B:-x}\"]\ninit: maybe\nhealthcheck: {interval: \"${I:-5s}\"}\n",
        );
        assert_eq!(read.json["privileged"], Json::Bool(true));
        assert_eq!(read.json["deploy"]["replicas"], Json::from(2));
        // Compose keeps one of equal items before its schema's `uniqueItems` sees them.
        assert_eq!(read.json["profiles"], serde_json::json!(["x"]));
        assert_eq!(read.json["healthcheck"]["interval"], Json::from("5s"));
        assert_eq!(read.unknown, vec![vec!["cpus".to_owned()]]);
        assert_eq!(read.casts.len(), 1, "{:?}", read.casts);
        assert_eq!(read.casts[0].0, ["init"]);
    }

    #[test]
    fn a_value_is_found_judged_only_when_it_is_the_same_entry_for_entry() {
        let value = |text: &str| crate::yaml::from_str::<Yaml>(text).unwrap();
        let hash = |v: &Yaml| {
            use std::hash::BuildHasher;
            BuildHasherDefault::<ahash::AHasher>::default().hash_one(Exact(v))
        };
        let a = value("{driver: json-file, options: {max-size: 10m, max-file: \"3\"}}");
        let same = value("{driver: json-file, options: {max-size: 10m, max-file: \"3\"}}");
        assert!(Exact(&a) == Exact(&same) && hash(&a) == hash(&same));
        for other in [
            "{driver: json-file, options: {max-size: 10m, max-file: 3}}",
            "{driver: json-file, options: {max-size: 10m}}",
            "{driver: json-file, options: [max-size, 10m, max-file, \"3\"]}",
            // Equal as a mapping, but not entry for entry: judged again, never taken as judged.
            "{options: {max-size: 10m, max-file: \"3\"}, driver: json-file}",
        ] {
            assert!(Exact(&a) != Exact(&value(other)), "{other}");
        }
    }

    #[test]
    fn the_most_specific_error_is_compose_gos() {
        let document = serde_json::json!({"services": {"web": {"labels": {"team": ["a"]}}}});
        let error = compose_spec::validator()
            .iter_errors(&document)
            .next()
            .unwrap();
        let (path, message) = most_specific(&error).unwrap();
        assert_eq!(path, ["labels", "team"]);
        assert_eq!(message, "must be a boolean, null, number or string");
        // An unknown service key is load's and render's to report.
        let document = serde_json::json!({"services": {"web": {"envioonment": {}}}});
        let error = compose_spec::validator()
            .iter_errors(&document)
            .next()
            .unwrap();
        assert!(most_specific(&error).is_none());
    }
}
