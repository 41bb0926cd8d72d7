//! What a kind template's output may hold, checked once it is parsed and before anything builds
//! on it: one service's Compose keys as plain data, which the rest of the pipeline validates as
//! it validates the catalogue's.
//!
//! - `<<` merge keys are resolved as YAML 1.1 merges them and as Compose does (explicit keys
//!   win, then the merged mappings in order), so that every stage sees the keys Compose will.
//! - Tags are refused: Compose's own `!reset` and `!override` act between files Compose merges,
//!   and muster writes one file of which a template is the lowest layer, so the one would drop
//!   the key and the other do nothing; Compose ignores any other tag, and muster will not guess
//!   what it was for.
//! - Keys that are not strings are refused, as Compose refuses them ("non-string key").
//! - `services`, `version` and `include` are refused at the top: a template renders the keys of
//!   one service, not a whole file.
//! - `depends_on` is read into the service's dependencies ([`dependencies`]), which go through
//!   the same graph checks as the catalogue's.
//! - Strings Compose cannot interpolate are refused ([`interpolation`]), as Compose refuses the
//!   file over one.

use crate::model::Condition;
use crate::yaml::{Mapping, Value};

/// One thing the output may not hold: what to say, and text of the template to point at.
#[derive(Debug)]
pub(super) struct Problem {
    pub message: String,
    /// Text to look for in the template's source; the template's start when it is not there.
    pub needle: Option<String>,
    pub note: String,
}

/// Keys that only a whole Compose file has at its top.
const FILE_KEYS: &[&str] = &["services", "version", "include"];

/// Resolves merge keys in `layer` and reports everything else it may not hold.
pub(super) fn check(layer: &mut Mapping) -> Vec<Problem> {
    let mut problems = Vec::new();
    for key in FILE_KEYS {
        if layer.contains_key(*key) {
            problems.push(Problem {
                message: format!("a top-level `{key}:` key"),
                needle: Some(format!("{key}:")),
                note: "a kind template renders the Compose keys of one service (`image`, \
                       `healthcheck`, ...), not a whole Compose file: muster writes `services:` \
                       itself"
                    .to_owned(),
            });
        }
    }
    check_mapping(layer, "", &mut problems);
    for key in layer.keys().filter_map(Value::as_str) {
        // After merging, so that the keys a `<<` brings are judged too.
        if FILE_KEYS.contains(&key) {
            continue;
        }
        if let Some(suggestion) = crate::compose_spec::unknown_service_key(key) {
            problems.push(Problem {
                message: format!("a key `{key}` Compose does not know"),
                needle: Some(format!("{key}:")),
                note: match suggestion {
                    Some(hint) => format!(
                        "Compose refuses the file (\"additional properties '{key}' not allowed\"); {hint}"
                    ),
                    None => format!(
                        "Compose refuses the file (\"additional properties '{key}' not allowed\"); \
                         an extension key of your own starts with `x-`"
                    ),
                },
            });
        }
    }
    problems
}

fn check_value(value: &mut Value, path: &str, problems: &mut Vec<Problem>) {
    match value {
        Value::Mapping(m) => check_mapping(m, path, problems),
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                check_value(item, &format!("{path}[{i}]"), problems);
            }
        }
        Value::Tagged(tagged) => problems.push(tag_problem(&tagged.tag.to_string(), path)),
        _ => {}
    }
}

fn check_mapping(map: &mut Mapping, path: &str, problems: &mut Vec<Problem>) {
    merge(map, path, problems);
    let mut bad_keys = Vec::new();
    for (key, value) in map.iter_mut() {
        let Some(name) = key.as_str() else {
            bad_keys.push(key_problem(key, path));
            continue;
        };
        let path = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        check_value(value, &path, problems);
    }
    problems.extend(bad_keys);
}

/// Strings Compose cannot interpolate (`${`, `${A`, `${1X}`), each with the string to look for
/// in the template: Compose refuses the whole file over one.
pub(super) fn interpolation(layer: &Mapping) -> Vec<Problem> {
    fn walk(value: &Value, path: &str, problems: &mut Vec<Problem>) {
        match value {
            Value::String(text) => {
                if let Err(reason) = crate::model::interpolation::with_defaults(text) {
                    problems.push(Problem {
                        message: format!("`{path}: {text}`, which Compose cannot interpolate"),
                        needle: Some(text.clone()),
                        note: format!(
                            "{reason}; Compose refuses the file (\"invalid interpolation format\")"
                        ),
                    });
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), problems);
                }
            }
            Value::Mapping(m) => {
                for (k, v) in m {
                    let key = k.as_str().unwrap_or_default();
                    let path = if path.is_empty() {
                        key.to_owned()
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(v, &path, problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for (k, v) in layer {
        walk(v, k.as_str().unwrap_or_default(), &mut problems);
    }
    problems
}

/// Resolves `<<` keys: a mapping, or a list of mappings, whose keys are added where the mapping
/// has none of its own. Repeated, since a merged mapping may carry a `<<` of its own.
fn merge(map: &mut Mapping, path: &str, problems: &mut Vec<Problem>) {
    while let Some(merged) = map.shift_remove("<<") {
        let sources = match merged {
            Value::Mapping(m) => vec![m],
            Value::Sequence(items) if items.iter().all(Value::is_mapping) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Mapping(m) => Some(m),
                    _ => None,
                })
                .collect(),
            other => {
                problems.push(Problem {
                    message: format!(
                        "a merge key `<<` at `{}` whose value is {}",
                        if path.is_empty() { "the top" } else { path },
                        super::yaml_type(&other)
                    ),
                    needle: Some("<<".to_owned()),
                    note: "`<<` merges a mapping (`<<: *defaults`) or a list of mappings into the \
                           one that holds it"
                        .to_owned(),
                });
                continue;
            }
        };
        for source in sources {
            for (k, v) in source {
                if !map.contains_key(&k) {
                    map.insert(k, v);
                }
            }
        }
    }
}

fn tag_problem(tag: &str, path: &str) -> Problem {
    let note = match tag {
        "!reset" => {
            "Compose reads `!reset` when it merges one file over another (`-f base.yml -f \
             override.yml`): it removes what the file below set. A template is the lowest layer \
             of the one file muster writes, so there is nothing below it to reset: leave the key \
             out instead"
        }
        "!override" => {
            "Compose reads `!override` when it merges one file over another: the value replaces \
             the lower file's instead of merging with it. A template is the lowest layer of the \
             one file muster writes, so there is nothing to override: write the value without \
             the tag"
        }
        _ => {
            "Compose ignores tags it does not know and reads the bare value; muster refuses them \
             rather than guess what the tag was for: write the value without it"
        }
    };
    Problem {
        message: format!("the tag `{tag}` at `{path}`"),
        needle: Some(tag.to_owned()),
        note: note.to_owned(),
    }
}

fn key_problem(key: &Value, path: &str) -> Problem {
    let at = if path.is_empty() {
        "at the top".to_owned()
    } else {
        format!("in `{path}`")
    };
    match key {
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => Problem {
            message: format!("a key that is {} {at}", super::yaml_type(key)),
            needle: Some("? ".to_owned()),
            note: "Compose keys are strings: YAML's complex keys (`? [a, b]`) have no meaning \
                   in a Compose file, which Compose refuses"
                .to_owned(),
        },
        scalar => {
            let text = serde_json::to_string(scalar).unwrap_or_default();
            Problem {
                message: format!(
                    "the key {text}, which is {}, {at}",
                    super::yaml_type(scalar)
                ),
                needle: Some(format!("{text}:")),
                note: format!(
                    "Compose refuses keys that are not strings (\"non-string key\"): quote it, \
                     `\"{}\":`",
                    text.trim_matches('"')
                ),
            }
        }
    }
}

/// A dependency a template named, with text of the template to point at.
#[derive(Debug)]
pub(super) struct Named {
    pub target: String,
    pub condition: Option<Condition>,
}

/// The services a template's `depends_on` names, in Compose's short (`[db]`) or long
/// (`{db: {condition: service_healthy}}`) form.
pub(super) fn dependencies(value: &Value) -> Result<Vec<Named>, Problem> {
    let shape = |what: String| Problem {
        message: format!("`depends_on` {what}"),
        needle: Some("depends_on".to_owned()),
        note: "a template's `depends_on` is a list of service names or a mapping of names to \
               `{condition: ...}`; `restart` and `required` go in the catalogue's \
               `compose.depends_on`, which refines the conditions muster decides"
            .to_owned(),
    };
    match value {
        Value::Sequence(items) => items
            .iter()
            .map(|item| match item {
                Value::String(name) => Ok(Named {
                    target: name.clone(),
                    condition: None,
                }),
                other => Err(shape(format!("lists {}", super::yaml_type(other)))),
            })
            .collect(),
        Value::Mapping(map) => map
            .iter()
            .map(|(name, long)| {
                let Some(name) = name.as_str() else {
                    return Err(shape("has a key that is not a service name".to_owned()));
                };
                let Some(long) = long.as_mapping() else {
                    return Err(shape(format!("gives `{name}` {}", super::yaml_type(long))));
                };
                let mut condition = None;
                for (key, v) in long {
                    match (key.as_str(), v.as_str()) {
                        (Some("condition"), Some(word)) => match Condition::parse(word) {
                            Some(c) => condition = Some(c),
                            None => {
                                return Err(Problem {
                                    message: format!(
                                        "an unknown dependency condition {word:?} for `{name}`"
                                    ),
                                    needle: Some(word.to_owned()),
                                    note: "use service_healthy, service_started or \
                                           service_completed_successfully"
                                        .to_owned(),
                                });
                            }
                        },
                        (key, _) => {
                            return Err(shape(format!(
                                "gives `{name}` the key {}",
                                serde_json::to_string(&key).unwrap_or_default()
                            )));
                        }
                    }
                }
                Ok(Named {
                    target: name.to_owned(),
                    condition,
                })
            })
            .collect(),
        other => Err(shape(format!("is {}", super::yaml_type(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(text: &str) -> (Mapping, Vec<Problem>) {
        let mut layer: Mapping = crate::yaml::from_str(text).unwrap();
        let problems = check(&mut layer);
        (layer, problems)
    }

    #[test]
    fn merge_keys_are_resolved_as_yaml_merges_them() {
        let (layer, problems) = checked(
            "x-a: &a {A: \"1\", B: \"1\"}\nx-b: &b {B: \"2\", C: \"2\", <<: {D: \"3\"}}\n\
             environment:\n  <<: [*b, *a]\n  C: own\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let env: Mapping = crate::yaml::from_str("C: own\nB: \"2\"\nA: \"1\"\nD: \"3\"\n").unwrap();
        // In order, too: the mapping's own keys, then the merged ones.
        assert_eq!(layer["environment"].as_mapping().unwrap(), &env);
    }

    #[test]
    fn tags_keys_and_whole_files_are_refused() {
        let (_, problems) = checked(
            "services: {}\nenvironment: !reset {}\nlabels:\n  1: a\n  ? [x]\n  : b\n\
             command: [!custom x]\n<<: 5\n",
        );
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "a top-level `services:` key",
                "a merge key `<<` at `the top` whose value is a number",
                "the tag `!reset` at `environment`",
                "the key 1, which is a number, in `labels`",
                "a key that is a list in `labels`",
                "the tag `!custom` at `command[0]`",
            ]
        );
    }

    #[test]
    fn dependencies_in_either_form() {
        let short: Value = crate::yaml::from_str("[db, cache]").unwrap();
        let names: Vec<String> = dependencies(&short)
            .unwrap()
            .into_iter()
            .map(|n| n.target)
            .collect();
        assert_eq!(names, ["db", "cache"]);
        let long: Value = crate::yaml::from_str("db: {condition: service_healthy}").unwrap();
        let deps = dependencies(&long).unwrap();
        assert_eq!(deps[0].condition, Some(Condition::Healthy));
        let bad: Value = crate::yaml::from_str("db: {restart: true}").unwrap();
        assert!(dependencies(&bad).is_err());
    }
}
