//! The healthchecks under test, straight from `muster gen`.

use std::fs;
use std::process::Command;
use std::time::Duration;

use yaml_serde::Value;

use super::process::scratch_dir;
use super::runner::{Healthcheck, interpolate};

/// A build with every client a probe may use: python-slim's python and bash, curl and wget.
const EVERY_CLIENT: &str =
    "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl wget\n";

/// Compose's default when a healthcheck sets no timeout.
const ENGINE_DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Generates `catalogue` with the dev profile and returns `service`'s Compose entry.
pub fn service(catalogue: &str, service: &str) -> Value {
    let dir = scratch_dir();
    let path = dir.path().join("services.toml");
    fs::write(&path, catalogue).expect("cannot write the catalogue");
    // muster chooses and checks the client from the build's Dockerfile. These probes run on
    // this machine, which has every client, so the image they are written for has them too.
    fs::write(dir.path().join("Dockerfile"), EVERY_CLIENT).expect("cannot write the Dockerfile");
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("gen")
        .arg("-c")
        .arg(&path)
        .args(["--profile", "dev"])
        .output()
        .expect("cannot run muster");
    assert!(
        output.status.success(),
        "muster gen failed ({}) on\n{catalogue}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let compose: Value = yaml_serde::from_slice(&output.stdout).expect("muster wrote invalid YAML");
    compose["services"][service].clone()
}

/// Generates `catalogue` with the dev profile and returns `service`'s
/// healthcheck, with the service's environment as the container has it.
pub fn healthcheck(catalogue: &str, service: &str) -> Healthcheck {
    let entry = self::service(catalogue, service);
    let healthcheck = &entry["healthcheck"];
    assert!(
        !healthcheck["test"].is_null(),
        "muster gave `{service}` no healthcheck test:\n{entry:?}"
    );
    let timeout = match &healthcheck["timeout"] {
        Value::Null => ENGINE_DEFAULT_TIMEOUT,
        Value::String(text) => {
            compose_duration(text).unwrap_or_else(|| panic!("`{text}` is not a Compose duration"))
        }
        other => panic!("healthcheck timeout {other:?} is not a duration string"),
    };
    environment(&entry["environment"]).into_iter().fold(
        Healthcheck::new(&healthcheck["test"], timeout),
        |check, (name, value)| check.env(&name, &value),
    )
}

/// A service's `environment`, in either of Compose's forms, as the container
/// sees it. Entries without a value come from the host, where these tests
/// set nothing, so they are left out.
fn environment(value: &Value) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::String(text) => Some(interpolate(text).unwrap_or_else(|e| panic!("{e}"))),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => None,
        other => panic!("environment value {other:?} is not a scalar"),
    };
    match value {
        Value::Null => Vec::new(),
        Value::Mapping(map) => map
            .iter()
            .filter_map(|(name, value)| Some((text(name)?, text(value)?)))
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(|item| {
                let entry = text(item)?;
                let (name, value) = entry.split_once('=')?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect(),
        other => panic!("environment {other:?} is neither a map nor a list"),
    }
}

/// Parses a Compose duration such as `5s`, `1m30s` or `500ms`.
fn compose_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let amount: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "h" => Duration::from_secs(3600),
            "m" => Duration::from_secs(60),
            "s" => Duration::from_secs(1),
            "ms" => Duration::from_millis(1),
            "us" => Duration::from_micros(1),
            _ => return None,
        };
        total += unit * u32::try_from(amount).ok()?;
        rest = &rest[unit_len..];
    }
    (!text.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn muster_helper_reads_compose_durations() {
        assert_eq!(compose_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(compose_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(compose_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(compose_duration(""), None);
        assert_eq!(compose_duration("5"), None);
        assert_eq!(compose_duration("1.5s"), None);
    }

    #[test]
    fn muster_helper_reads_both_environment_forms() {
        let map: Value = yaml_serde::from_str("{A: x, B: 1, C: a$$b, HOST: ~}").unwrap();
        let list: Value = yaml_serde::from_str("[A=x, B=1, C=a$$b, HOST]").unwrap();
        let expected = [("A", "x"), ("B", "1"), ("C", "a$b")]
            .map(|(name, value)| (name.to_owned(), value.to_owned()));
        assert_eq!(environment(&map), expected);
        assert_eq!(environment(&list), expected);
    }
}
