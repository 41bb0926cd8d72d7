//! How layers combine, as Compose merges files: the one table of which service key merges how
//! ([`SERVICE_KEYS`]), the paths a layer's `reset` and `override` may name ([`ResetPath`]), and
//! the merge of two Compose service definitions ([`service`]), which the `compose` tables, the
//! kind template's output and the catalogue's keys go through.
//!
//! The rules are the Compose Specification's (its "Merge" section) as compose-go 2.9 carries
//! them out (`override/merge.go`, `override/uncity.go`), so that a user who knows how
//! `docker compose -f base.yml -f override.yml` merges knows how muster's layers do:
//! mappings merge key by key; sequences append, an item whose unique key (a mount's container
//! path, a port mapping, an env file's path) an earlier item has replacing that one in place;
//! scalars, `command`, `entrypoint` and `healthcheck.test` replace. `environment` and `labels`
//! merge by name whether written as a mapping or as a list of `NAME=VALUE`.
//!
//! Compose's `!reset` and `!override` are YAML tags, which TOML cannot carry: a layer lists the
//! keys instead, `reset = ["gpus", "env.DEBUG"]` and `override = ["depends_on"]`.

use crate::yaml::{Mapping, Value};

/// How a layer's value of a key combines with the value of the layers below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The higher layer's value replaces the lower one's: a scalar, and Compose's exceptions
    /// (`command`, `entrypoint`, `healthcheck.test`), which replace even as lists.
    Replace,
    /// Merged key by key: a key only one layer sets is kept, one both set takes the higher
    /// layer's value (merged again, where that value is itself a table).
    ByKey,
    /// The lower layers' items, then the higher layer's; an item whose [`Unique`] key an
    /// earlier item has replaces that item in place, so that no key is there twice.
    Append(Unique),
}

/// What makes two items of an appended list the same item (compose-go's `uncity.go` indexers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// The item's whole text: a port mapping, an env file's path, a network, a profile.
    Item,
    /// A mount's container path: a volume mounted again at a path replaces the first mount.
    Target,
}

/// What a `reset` or `override` path may name below a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Under {
    /// Nothing: the key is reset or overridden whole.
    Nothing,
    /// One entry by its name, which may hold dots (`env.DEBUG`, `labels.com.example.team`,
    /// `depends_on.mailpit`).
    Names,
    /// One of these fields (`healthcheck.start_interval`, `depends_on_options.required`).
    Fields(&'static [&'static str]),
    /// Any path into a Compose mapping, dot-separated (`compose.logging.options`).
    Path,
}

/// One service key of the catalogue and how its layers merge.
#[derive(Debug, Clone, Copy)]
pub struct KeyRule {
    /// The key as the catalogue spells it.
    pub key: &'static str,
    /// Where the key's value lands in the Compose service (`env` is `environment`), so that a
    /// reset removes what the kind template wrote there too; `None` for keys that only steer
    /// muster (`engine`, `port`, `probe`) or that a template cannot write.
    pub compose: Option<&'static str>,
    pub rule: Rule,
    pub under: Under,
}

const fn key(
    key: &'static str,
    compose: Option<&'static str>,
    rule: Rule,
    under: Under,
) -> KeyRule {
    KeyRule {
        key,
        compose,
        rule,
        under,
    }
}

/// Every service key a layer can set, but `kind`, `only_in` and `profiles` (the entry's own)
/// and `reset` and `override` themselves, in the order the catalogue's reference lists them.
pub const SERVICE_KEYS: &[KeyRule] = &[
    key("image", Some("image"), Rule::Replace, Under::Nothing),
    key(
        "build",
        Some("build"),
        Rule::ByKey,
        Under::Fields(&["context", "dockerfile", "target", "args"]),
    ),
    key("engine", None, Rule::Replace, Under::Nothing),
    key("port", None, Rule::Replace, Under::Nothing),
    key("health_path", None, Rule::Replace, Under::Nothing),
    key("ready_path", None, Rule::Replace, Under::Nothing),
    key("app", None, Rule::Replace, Under::Nothing),
    key("command", Some("command"), Rule::Replace, Under::Nothing),
    key(
        "entrypoint",
        Some("entrypoint"),
        Rule::Replace,
        Under::Nothing,
    ),
    key("env", Some("environment"), Rule::ByKey, Under::Names),
    key(
        "env_file",
        Some("env_file"),
        Rule::Append(Unique::Item),
        Under::Nothing,
    ),
    key(
        "volumes",
        Some("volumes"),
        Rule::Append(Unique::Target),
        Under::Nothing,
    ),
    key(
        "networks",
        Some("networks"),
        Rule::Append(Unique::Item),
        Under::Nothing,
    ),
    key(
        "ports",
        Some("ports"),
        Rule::Append(Unique::Item),
        Under::Nothing,
    ),
    key("labels", Some("labels"), Rule::ByKey, Under::Names),
    key("restart", Some("restart"), Rule::Replace, Under::Nothing),
    key(
        "replicas",
        Some("deploy.replicas"),
        Rule::Replace,
        Under::Nothing,
    ),
    key("probe", None, Rule::Replace, Under::Nothing),
    key(
        "healthcheck",
        Some("healthcheck"),
        Rule::ByKey,
        Under::Fields(&[
            "test",
            "interval",
            "timeout",
            "retries",
            "start_period",
            "start_interval",
            "disable",
        ]),
    ),
    key("depends_on", Some("depends_on"), Rule::ByKey, Under::Names),
    key(
        "depends_on_options",
        None,
        Rule::ByKey,
        Under::Fields(&["restart", "required"]),
    ),
    key("gpus", Some("gpus"), Rule::Replace, Under::Nothing),
    key("model_cache", None, Rule::Replace, Under::Nothing),
    key("models", Some("models"), Rule::ByKey, Under::Names),
    key(
        "compose_profiles",
        Some("profiles"),
        Rule::Append(Unique::Item),
        Under::Nothing,
    ),
    key("compose", None, Rule::ByKey, Under::Path),
];

/// The rule of a catalogue service key.
pub fn rule(key: &str) -> Option<&'static KeyRule> {
    SERVICE_KEYS.iter().find(|r| r.key == key)
}

/// The identity of a list item under `unique`: two items with the same one are the same item.
pub fn unique_key(unique: Unique, item: &str) -> &str {
    match unique {
        Unique::Item => item,
        // A mount the loader refused has no target; its text stands for it.
        Unique::Target => crate::volumes::target(item).unwrap_or(item),
    }
}

/// A path a layer's `reset` or `override` names: a key, and where [`Under`] allows, an entry or
/// field below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPath {
    pub key: &'static str,
    /// Below the key: empty for the key itself, one segment for a name or field, any number
    /// under `compose`.
    pub below: Vec<String>,
}

impl ResetPath {
    /// Reads `text`, or says why it names nothing a layer can reset.
    pub fn parse(text: &str) -> Result<ResetPath, String> {
        let (head, rest) = match text.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (text, None),
        };
        let Some(rule) = rule(head) else {
            let hint = crate::suggest::did_you_mean(head, SERVICE_KEYS.iter().map(|r| r.key))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(format!(
                "`{head}` is not a service key a layer can set{hint}"
            ));
        };
        let below = match (rest, rule.under) {
            (None, _) => Vec::new(),
            (Some(""), _) => return Err(format!("nothing after `{head}.`")),
            (Some(_), Under::Nothing) => {
                let what = match rule.rule {
                    Rule::Append(_) => "a list is reset or overridden whole",
                    _ => "it has no parts",
                };
                return Err(format!(
                    "`{head}` has nothing below it to name ({what}): write `{head}`"
                ));
            }
            (Some(name), Under::Names) => vec![name.to_owned()],
            (Some(field), Under::Fields(fields)) => {
                if !fields.contains(&field) {
                    return Err(format!(
                        "`{head}` has no `{field}`: its keys are {}",
                        fields.join(", ")
                    ));
                }
                vec![field.to_owned()]
            }
            (Some(path), Under::Path) => {
                if path.split('.').any(str::is_empty) {
                    return Err(format!("an empty key in `{text}`"));
                }
                path.split('.').map(str::to_owned).collect()
            }
        };
        Ok(ResetPath {
            key: rule.key,
            below,
        })
    }

    /// Whether resetting `self` resets `other` too: the same path, or one of its parents.
    pub fn covers(&self, key: &str, below: &[&str]) -> bool {
        self.key == key
            && self.below.len() <= below.len()
            && self.below.iter().zip(below).all(|(a, b)| a == b)
    }

    /// Where the path lands in the kind template's output, as Compose keys, when it does.
    pub fn compose_path(&self) -> Option<Vec<String>> {
        let compose = rule(self.key)?.compose?;
        let mut path: Vec<String> = compose.split('.').map(str::to_owned).collect();
        path.extend(self.below.iter().cloned());
        Some(path)
    }
}

impl std::fmt::Display for ResetPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)?;
        for part in &self.below {
            write!(f, ".{part}")?;
        }
        Ok(())
    }
}

/// Removes `path` from a Compose service, as a reset of a higher layer removes what the kind
/// template wrote there. An entry of a list-form `environment` or `labels` is found by name.
pub fn remove_path(service: &mut Mapping, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = service;
    for part in parents {
        match node.get_mut(part.as_str()) {
            Some(Value::Mapping(m)) => node = m,
            Some(Value::Sequence(items)) if parents.len() == 1 => {
                // `environment: [NAME=value]`: the entry named `last`.
                items.retain(|i| i.as_str().is_none_or(|s| key_value(s).0 != last.as_str()));
                return;
            }
            _ => return,
        }
    }
    node.shift_remove(last.as_str());
}

/// The keys of a Compose service whose list and map forms Compose merges by name
/// (`mergeToSequence` with a key-value index).
const BY_NAME: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "sysctls",
    "build.args",
    "build.labels",
    "build.additional_contexts",
    "deploy.labels",
];

/// Sequences Compose appends and then keeps unique, with the index of each (`uncity.go`).
const UNIQUE: &[(&str, Index)] = &[
    ("volumes", Index::Target),
    ("devices", Index::Target),
    ("ports", Index::Port),
    ("secrets", Index::Mount("/run/secrets")),
    ("configs", Index::Mount("")),
    ("env_file", Index::Path),
    ("label_file", Index::Path),
    ("expose", Index::Whole),
    ("dns", Index::Whole),
    ("dns_opt", Index::Whole),
    ("dns_search", Index::Whole),
    ("cap_add", Index::Whole),
    ("cap_drop", Index::Whole),
    ("profiles", Index::Whole),
    ("tmpfs", Index::Whole),
    ("links", Index::Whole),
    ("build.tags", Index::Whole),
    ("build.platforms", Index::Whole),
    ("networks.*.aliases", Index::Whole),
    ("networks.*.link_local_ips", Index::Whole),
];

/// Keys whose string form is a list of one (`dns: 8.8.8.8`), merged as lists.
const STRING_OR_LIST: &[&str] = &[
    "dns",
    "dns_opt",
    "dns_search",
    "env_file",
    "label_file",
    "tmpfs",
];

/// Keys whose list form names entries of a mapping (`networks: [backend]`), merged as mappings.
const NAMES_OR_MAPPING: &[&str] = &["networks", "models"];

#[derive(Debug, Clone, Copy)]
enum Index {
    Whole,
    Target,
    Port,
    Path,
    /// Secrets and configs: their `target`, else the default folder and the source's name.
    Mount(&'static str),
}

/// Merges `over` into `base`, two definitions of one Compose service, as Compose merges the
/// same service of two files.
pub fn service(base: &mut Mapping, over: &Mapping) {
    let mut path = Vec::new();
    merge_mappings(base, over, &mut path);
}

/// The value of a Compose service's key `key` with `over` merged into `base`, as [`service`]
/// merges it.
pub fn service_value(key: &str, base: Value, over: &Value) -> Value {
    merge_value(base, over, &mut vec![key.to_owned()])
}

fn merge_mappings(base: &mut Mapping, over: &Mapping, path: &mut Vec<String>) {
    for (k, v) in over {
        let Some(existing) = base.get_mut(k) else {
            base.insert(k.clone(), v.clone());
            continue;
        };
        path.push(k.as_str().map_or_else(String::new, str::to_owned));
        let merged = merge_value(std::mem::take(existing), v, path);
        *existing = merged;
        path.pop();
    }
}

/// Whether `path` is `pattern`'s (`services.*.ulimits.*` style, below the service), without
/// allocating: every key of every merged mapping is matched against each rule.
fn matches(path: &[String], pattern: &str) -> bool {
    let mut parts = pattern.split('.');
    for key in path {
        match parts.next() {
            Some(p) if p == "*" || p == key => {}
            _ => return false,
        }
    }
    parts.next().is_none()
}

fn merge_value(base: Value, over: &Value, path: &mut Vec<String>) -> Value {
    let at = |pattern: &str| matches(path, pattern);
    // Compose's exceptions, and `gpus`: Compose appends a later file's device requests, but
    // the catalogue's `gpus` is one request, which a higher layer replaces; a `compose.gpus`
    // replaces it the same way, rather than asking for a second set of GPUs beside it.
    if at("command") || at("entrypoint") || at("healthcheck.test") || at("ulimits.*") || at("gpus")
    {
        return over.clone();
    }
    if BY_NAME.iter().any(|p| at(p)) {
        let null_for_bare = at("environment");
        let mut merged = match base {
            Value::Mapping(m) => m,
            other => key_value_mapping(&other, null_for_bare),
        };
        match over {
            Value::Mapping(o) => {
                for (k, v) in o {
                    merged.insert(k.clone(), v.clone());
                }
            }
            other => {
                for (k, v) in key_value_mapping(other, null_for_bare) {
                    merged.insert(k, v);
                }
            }
        }
        return Value::Mapping(merged);
    }
    if at("logging")
        && let (Value::Mapping(b), Value::Mapping(o)) = (&base, over)
    {
        let same_driver = match (b.get("driver"), o.get("driver")) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        if !same_driver {
            return over.clone();
        }
    }
    if at("build") {
        let as_table = |v: &Value| match v {
            Value::String(context) => {
                let mut m = Mapping::new();
                m.insert("context".into(), Value::String(context.clone()));
                Value::Mapping(m)
            }
            other => other.clone(),
        };
        let (mut base, over) = (as_table(&base), as_table(over));
        if let (Value::Mapping(b), Value::Mapping(o)) = (&mut base, &over) {
            merge_mappings(b, o, path);
        }
        return base;
    }
    if at("depends_on") || NAMES_OR_MAPPING.iter().any(|p| at(p)) {
        let long = at("depends_on").then(|| {
            let mut m = Mapping::new();
            m.insert("condition".into(), Value::from("service_started"));
            Value::Mapping(m)
        });
        let as_mapping = |v: &Value| match v {
            Value::Sequence(names) => Value::Mapping(
                names
                    .iter()
                    .map(|n| (n.clone(), long.clone().unwrap_or(Value::Null)))
                    .collect(),
            ),
            other => other.clone(),
        };
        let (mut base, over) = (as_mapping(&base), as_mapping(over));
        if let (Value::Mapping(b), Value::Mapping(o)) = (&mut base, &over) {
            // A network named with no settings in either form is `null`: nothing to merge.
            for (k, v) in o {
                match (b.get_mut(k), v) {
                    (Some(existing @ Value::Mapping(_)), Value::Mapping(_)) => {
                        path.push(k.as_str().map_or_else(String::new, str::to_owned));
                        let merged = merge_value(std::mem::take(existing), v, path);
                        *existing = merged;
                        path.pop();
                    }
                    (Some(_), Value::Null) => {}
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
            return base;
        }
        return over;
    }
    let string_or_list = STRING_OR_LIST.iter().any(|p| at(p));
    let as_list = |v: &Value| match v {
        Value::String(_) if string_or_list => Value::Sequence(vec![v.clone()]),
        other => other.clone(),
    };
    match (as_list(&base), as_list(over)) {
        (Value::Mapping(mut b), Value::Mapping(o)) => {
            merge_mappings(&mut b, &o, path);
            Value::Mapping(b)
        }
        (Value::Sequence(mut b), Value::Sequence(o)) => {
            b.extend(o);
            match UNIQUE.iter().find(|(p, _)| at(p)) {
                Some((_, index)) => Value::Sequence(keep_unique(b, *index)),
                None => Value::Sequence(b),
            }
        }
        // A scalar, or a value of another shape (which the loader refuses afterwards).
        _ => over.clone(),
    }
}

/// `items` with each later item whose index an earlier one has put in that one's place.
fn keep_unique(items: Vec<Value>, index: Index) -> Vec<Value> {
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(items.len());
    for item in items {
        let key = item_index(&item, index);
        match kept.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = item,
            None => kept.push((key, item)),
        }
    }
    kept.into_iter().map(|(_, item)| item).collect()
}

fn item_index(item: &Value, index: Index) -> String {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    match (index, item) {
        (Index::Target, Value::String(s)) => unique_key(Unique::Target, s).to_owned(),
        (Index::Target, Value::Mapping(m)) => text(m.get("target")),
        (Index::Path, Value::Mapping(m)) => text(m.get("path")),
        (Index::Port, Value::Mapping(m)) => format!(
            "{}:{}:{}/{}",
            m.get("host_ip")
                .map_or_else(|| "0.0.0.0".to_owned(), |h| text(Some(h))),
            text(m.get("published")),
            text(m.get("target")),
            m.get("protocol")
                .map_or_else(|| "tcp".to_owned(), |p| text(Some(p)))
        ),
        (Index::Mount(folder), Value::String(source)) => format!("{folder}/{source}"),
        (Index::Mount(folder), Value::Mapping(m)) => match m.get("target") {
            Some(target) => text(Some(target)),
            None => format!("{folder}/{}", text(m.get("source"))),
        },
        (_, other) => text(Some(other)),
    }
}

/// `NAME=VALUE` split at its first `=`; a bare `NAME` has no value.
fn key_value(item: &str) -> (&str, Option<&str>) {
    match item.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (item, None),
    }
}

/// A mapping, or a list of `NAME=VALUE`, as a mapping. A bare `NAME` is `null` in an
/// `environment` (Compose passes the variable through from the host) and empty in `labels`.
pub fn key_value_mapping(value: &Value, null_for_bare: bool) -> Mapping {
    match value {
        Value::Mapping(m) => m.clone(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| {
                let (k, v) = key_value(item);
                let v = match v {
                    Some(v) => Value::from(v),
                    None if null_for_bare => Value::Null,
                    None => Value::from(""),
                };
                (Value::from(k), v)
            })
            .collect(),
        _ => Mapping::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Mapping {
        crate::yaml::from_str(text).unwrap()
    }

    /// `over` merged into `base`, in the writer's layout; the expected texts below are read
    /// and written again, so that they say the merge's result in YAML of any layout.
    fn merged(base: &str, over: &str) -> String {
        let mut b = yaml(base);
        service(&mut b, &yaml(over));
        crate::yaml::to_string(&b)
    }

    fn written(text: &str) -> String {
        crate::yaml::to_string(&yaml(text))
    }

    #[test]
    fn mappings_merge_sequences_append_scalars_replace() {
        assert_eq!(
            merged(
                "image: a\ndns: [1.1.1.1]\nulimits: {nofile: {soft: 1, hard: 2}}\n",
                "image: b\ndns: 8.8.8.8\nulimits: {nofile: {soft: 3}}\n"
            ),
            written("image: b\ndns: [1.1.1.1, 8.8.8.8]\nulimits: {nofile: {soft: 3}}\n")
        );
    }

    #[test]
    fn commands_and_the_healthcheck_test_replace() {
        assert_eq!(
            merged(
                "command: [echo, foo]\nhealthcheck: {test: [CMD, a], interval: 5s}\n",
                "command: [echo, bar]\nhealthcheck: {test: [CMD, b]}\n"
            ),
            written("command: [echo, bar]\nhealthcheck: {test: [CMD, b], interval: 5s}\n")
        );
    }

    #[test]
    fn a_later_gpu_request_replaces_the_first() {
        assert_eq!(
            merged("gpus: [{count: 1}]\n", "gpus: [{count: 2}]\n"),
            written("gpus: [{count: 2}]\n")
        );
    }

    #[test]
    fn unique_resources_replace_the_item_with_their_key() {
        assert_eq!(
            merged(
                "volumes: [foo:/work, /cache]\nports: ['8080:80']\n",
                "volumes: [bar:/work]\nports: ['8080:80', '8443:443']\n"
            ),
            written("volumes: [bar:/work, /cache]\nports: ['8080:80', '8443:443']\n")
        );
    }

    #[test]
    fn environment_merges_by_name_in_either_form() {
        assert_eq!(
            merged(
                "environment: [A=1, B=2, PASSED]\n",
                "environment: {B: '3', C: '4'}\n"
            ),
            written("environment: {A: '1', B: '3', PASSED: null, C: '4'}\n")
        );
    }

    #[test]
    fn depends_on_and_networks_merge_by_name() {
        assert_eq!(
            merged(
                "depends_on: [db]\nnetworks: [front]\n",
                "depends_on: {db: {restart: true}, cache: {condition: service_healthy}}\n\
                 networks: {back: {aliases: [b]}}\n"
            ),
            written(
                "depends_on: {db: {condition: service_started, restart: true}, \
                 cache: {condition: service_healthy}}\nnetworks: {front: null, back: {aliases: [b]}}\n"
            )
        );
    }

    #[test]
    fn logging_options_merge_only_for_the_same_driver() {
        let base = "logging: {driver: json-file, options: {max-size: 10m}}\n";
        assert_eq!(
            merged(base, "logging: {options: {max-file: '3'}}\n"),
            written("logging: {driver: json-file, options: {max-size: 10m, max-file: '3'}}\n")
        );
        assert_eq!(
            merged(base, "logging: {driver: syslog}\n"),
            "logging:\n  driver: syslog\n"
        );
    }

    #[test]
    fn build_merges_its_string_form_as_a_context() {
        assert_eq!(
            merged("build: {context: ., args: {A: '1'}}\n", "build: ../other\n"),
            written("build: {context: ../other, args: {A: '1'}}\n")
        );
    }

    #[test]
    fn reset_paths_name_keys_entries_and_fields() {
        let path = |t: &str| ResetPath::parse(t);
        assert_eq!(path("gpus").unwrap().to_string(), "gpus");
        assert_eq!(
            path("labels.com.example.team").unwrap().below,
            ["com.example.team"]
        );
        assert_eq!(
            path("compose.logging.options").unwrap().below,
            ["logging", "options"]
        );
        assert!(
            path("healthcheck.intervl")
                .unwrap_err()
                .contains("its keys are test")
        );
        assert!(path("ports.8080").unwrap_err().contains("a list is reset"));
        assert!(path("gpu").unwrap_err().contains("did you mean `gpus`"));
        assert!(path("kind").is_err());
        let env = path("env").unwrap();
        assert!(env.covers("env", &["DEBUG"]));
        assert!(!path("env.A").unwrap().covers("env", &["B"]));
        assert_eq!(
            path("replicas").unwrap().compose_path(),
            Some(vec!["deploy".to_owned(), "replicas".to_owned()])
        );
    }
}
