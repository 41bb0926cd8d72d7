//! The Compose Specification as Compose 2.40.3 reads it: its JSON Schema, and the tables of
//! compose-go's loader that decide how a value is read before the schema judges it. A leaf: the
//! load stage reads the service keys from here, the validate stage the compiled schema, and
//! neither reaches into the other.
//!
//! `compose-spec.json` is compose-go v2.9.1's `schema/compose-spec.json` (commit 75fb1ab,
//! `git show v2.9.1:schema/compose-spec.json`), the compose-go that Compose 2.40.3 vendors
//! (`go version -m docker-compose`: `dep github.com/compose-spec/compose-go/v2 v2.9.1`). The
//! same bytes are embedded in the `docker-compose` binary `.ci/install` installs: the JSON
//! object after `"$id": "compose_spec.json"` there equals this file, trailing newline included.
//!
//! To update it for a newer Compose: find the compose-go version in that Compose's `go.mod`,
//! take `schema/compose-spec.json` of that tag, replace the file, update the version and the
//! commit above, and compare [`CASTS`] with that tag's `loader/interpolate.go`
//! (`interpolateTypeCastMapping`). `tests/compose_agrees.rs` then holds muster's verdicts against
//! the new loader's.

use std::sync::OnceLock;

/// The schema's text, as Compose embeds it.
pub const SCHEMA: &str = include_str!("compose-spec.json");

/// The schema, parsed once per process.
pub fn schema() -> &'static serde_json::Value {
    static SCHEMA_VALUE: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA_VALUE.get_or_init(|| serde_json::from_str(SCHEMA).expect("the embedded schema is JSON"))
}

/// The schema compiled once per process (draft-07, as its `$schema` says; no format is used, so
/// none is asserted). compose-go compiles it with santhosh-tekuri/jsonschema, which implements the
/// same draft: the verdicts agree where the keywords do (`tests/compose_agrees.rs`).
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(schema())
            .expect("the embedded schema compiles")
    })
}

/// Every key of a service (`definitions.service.properties`), in the schema's order.
pub fn service_keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        schema()["definitions"]["service"]["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    })
}

/// Whether Compose refuses `key` in a service, and the key it probably meant: the schema allows
/// its service properties and extension keys (`^x-`), nothing else
/// (`"additionalProperties": false`).
pub fn unknown_service_key(key: &str) -> Option<Option<String>> {
    let keys = service_keys();
    if key.starts_with("x-") || keys.iter().any(|k| k == key) {
        return None;
    }
    Some(crate::suggest::did_you_mean(
        key,
        keys.iter().map(String::as_str),
    ))
}

/// How compose-go casts a string it interpolated at a path the schema wants as a number or a
/// boolean (`loader/interpolate.go`, `toInt`, `toInt64`, `toFloat`, `toFloat32`, `toBoolean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cast {
    /// Go's `strconv.Atoi` / `ParseInt(s, 10, 64)`: an optional sign and decimal digits.
    Int,
    /// Go's `strconv.ParseFloat`.
    Float,
    /// YAML 1.1's words, case-insensitive: `true`/`y`/`yes`/`on`, `false`/`n`/`no`/`off`.
    Bool,
}

/// compose-go's `interpolateTypeCastMapping`, keyed by the path under a service (`*` is any
/// key, `[]` any list item): every string there is cast after interpolation, and one that does
/// not cast is refused ("failed to cast to expected type").
pub const CASTS: &[(&[&str], Cast)] = &[
    (&["cpu_count"], Cast::Int),
    (&["cpu_percent"], Cast::Float),
    (&["cpu_period"], Cast::Int),
    (&["cpu_quota"], Cast::Int),
    (&["cpu_rt_period"], Cast::Int),
    (&["cpu_rt_runtime"], Cast::Int),
    (&["cpus"], Cast::Float),
    (&["cpu_shares"], Cast::Int),
    (&["init"], Cast::Bool),
    (&["deploy", "replicas"], Cast::Int),
    (&["deploy", "update_config", "parallelism"], Cast::Int),
    (
        &["deploy", "update_config", "max_failure_ratio"],
        Cast::Float,
    ),
    (&["deploy", "rollback_config", "parallelism"], Cast::Int),
    (
        &["deploy", "rollback_config", "max_failure_ratio"],
        Cast::Float,
    ),
    (&["deploy", "restart_policy", "max_attempts"], Cast::Int),
    (&["deploy", "placement", "max_replicas_per_node"], Cast::Int),
    (&["healthcheck", "retries"], Cast::Int),
    (&["healthcheck", "disable"], Cast::Bool),
    (&["oom_kill_disable"], Cast::Bool),
    (&["oom_score_adj"], Cast::Int),
    (&["pids_limit"], Cast::Int),
    (&["ports", "[]", "target"], Cast::Int),
    (&["privileged"], Cast::Bool),
    (&["read_only"], Cast::Bool),
    (&["scale"], Cast::Int),
    (&["stdin_open"], Cast::Bool),
    (&["tty"], Cast::Bool),
    (&["ulimits", "*"], Cast::Int),
    (&["ulimits", "*", "hard"], Cast::Int),
    (&["ulimits", "*", "soft"], Cast::Int),
    (&["volumes", "[]", "read_only"], Cast::Bool),
    (&["volumes", "[]", "volume", "nocopy"], Cast::Bool),
];

/// The lists compose-go keeps one item of per key before its schema check
/// (`override.EnforceUnicity`, its `unique` table), by path under a service: two equal items
/// there are one to Compose, and the schema's `uniqueItems` never sees them.
pub const UNIQUE: &[&[&str]] = &[
    &["annotations"],
    &["build", "args"],
    &["build", "additional_contexts"],
    &["build", "platform"],
    &["build", "tags"],
    &["build", "labels"],
    &["cap_add"],
    &["cap_drop"],
    &["configs"],
    &["deploy", "labels"],
    &["devices"],
    &["dns"],
    &["dns_opt"],
    &["dns_search"],
    &["environment"],
    &["env_file"],
    &["expose"],
    &["labels"],
    &["links"],
    &["networks", "*", "aliases"],
    &["networks", "*", "link_local_ips"],
    &["ports"],
    &["profiles"],
    &["secrets"],
    &["sysctls"],
    &["tmpfs"],
    &["volumes"],
];

/// Whether `path` (a service's keys; a list item is its index) matches `pattern`.
fn matches(pattern: &[&str], path: &[String]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(p, segment)| {
            let item = segment.bytes().all(|b| b.is_ascii_digit());
            match *p {
                "[]" => item,
                "*" => !item,
                p => p == segment,
            }
        })
}

/// The cast compose-go applies to a string at `path`, if any. Read for every string of every
/// body: the first key alone rules out most paths.
pub fn cast_at(path: &[String]) -> Option<Cast> {
    let first = path.first()?;
    if !CASTS.iter().any(|(p, _)| p[0] == first) {
        return None;
    }
    CASTS
        .iter()
        .find(|(pattern, _)| matches(pattern, path))
        .map(|(_, cast)| *cast)
}

/// Whether the list at `path` is one compose-go deduplicates.
pub fn unique_at(path: &[String]) -> bool {
    UNIQUE.iter().any(|pattern| matches(pattern, path))
}

impl Cast {
    /// The value compose-go's cast gives `text`, or why it refuses it.
    pub fn apply(self, text: &str) -> Result<serde_json::Value, String> {
        match self {
            Cast::Int => {
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("strconv.Atoi: parsing {text:?}: invalid syntax"));
                }
                text.parse::<i64>()
                    .map(serde_json::Value::from)
                    .map_err(|_| format!("strconv.Atoi: parsing {text:?}: value out of range"))
            }
            Cast::Float => go_float(text)
                .map(serde_json::Value::from)
                .ok_or_else(|| format!("strconv.ParseFloat: parsing {text:?}: invalid syntax")),
            Cast::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "y" | "yes" | "on" => Ok(serde_json::Value::Bool(true)),
                "false" | "n" | "no" | "off" => Ok(serde_json::Value::Bool(false)),
                _ => Err(format!("invalid boolean: {text}")),
            },
        }
    }
}

/// Go's `strconv.ParseFloat` for the decimal forms a Compose file holds (`1.5`, `.5`, `1e3`,
/// `+2`, `inf`, `infinity`, `nan`), which Rust's parser reads alike; Go's hexadecimal floats are
/// left out (refused), as no Compose value is written so.
fn go_float(text: &str) -> Option<f64> {
    let plain = text
        .strip_prefix(['+', '-'])
        .unwrap_or(text)
        .to_ascii_lowercase();
    let named = matches!(plain.as_str(), "inf" | "infinity" | "nan");
    let decimal = !plain.is_empty()
        && plain
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'));
    if !(named || decimal) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    // JSON has no infinity or NaN; the schema wants a number, and any number will do.
    Some(if value.is_finite() { value } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_compiles_and_lists_the_service_keys_compose_knows() {
        assert!(validator().is_valid(&serde_json::json!({"services": {"web": {"image": "x"}}})));
        let keys = service_keys();
        assert!(keys.iter().any(|k| k == "healthcheck") && keys.iter().any(|k| k == "provider"));
        assert_eq!(unknown_service_key("healthcheck"), None);
        assert_eq!(unknown_service_key("x-team"), None);
        assert_eq!(
            unknown_service_key("envioonment"),
            Some(Some("did you mean `environment`?".to_owned()))
        );
    }

    #[test]
    fn casts_are_found_by_path_as_compose_go_matches_them() {
        let at = |path: &[&str]| {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            cast_at(&path)
        };
        assert_eq!(at(&["deploy", "replicas"]), Some(Cast::Int));
        assert_eq!(at(&["ulimits", "nofile"]), Some(Cast::Int));
        assert_eq!(at(&["ulimits", "nofile", "soft"]), Some(Cast::Int));
        assert_eq!(at(&["ports", "0", "target"]), Some(Cast::Int));
        assert_eq!(at(&["ports", "0"]), None);
        assert_eq!(at(&["ulimits", "0"]), None);
        assert_eq!(at(&["deploy"]), None);
        let unique =
            |path: &[&str]| unique_at(&path.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert!(unique(&["profiles"]) && unique(&["networks", "back", "aliases"]));
        assert!(!unique(&["extra_hosts"]));
        assert_eq!(Cast::Bool.apply("Yes"), Ok(serde_json::Value::Bool(true)));
        assert!(Cast::Bool.apply("maybe").is_err());
        assert_eq!(Cast::Int.apply("+3"), Ok(serde_json::Value::from(3)));
        assert!(Cast::Int.apply("1.5").is_err() && Cast::Int.apply(" 3").is_err());
        assert_eq!(Cast::Float.apply(".5"), Ok(serde_json::Value::from(0.5)));
        assert!(Cast::Float.apply("0x1").is_err());
    }
}
