//! Compose keys in the order people write them, so that a generated file reads like a
//! hand-written one and diffs stay small when the catalogue changes.

use serde_yaml::{Mapping, Value};

/// Service keys in conventional order; keys not listed follow in the order they were produced.
const SERVICE_HEAD: &[&str] = &[
    "image",
    "build",
    "container_name",
    "hostname",
    "command",
    "entrypoint",
    "working_dir",
    "user",
    "restart",
    "ports",
    "expose",
    "env_file",
    "environment",
    "volumes",
    "networks",
    "labels",
    "depends_on",
    "healthcheck",
];

/// Keys that read best last: deployment and logging settings.
const SERVICE_TAIL: &[&str] = &["deploy", "logging"];

const HEALTHCHECK: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];

/// A service's keys, and its healthcheck's, in conventional order. Values are moved, not copied.
pub fn service(mut body: Mapping) -> Mapping {
    if let Some(Value::Mapping(hc)) = body.get_mut("healthcheck") {
        *hc = ordered(std::mem::take(hc), HEALTHCHECK, &[]);
    }
    ordered(body, SERVICE_HEAD, SERVICE_TAIL)
}

/// `mapping` with `head` keys first, `tail` keys last, and the rest in between, in their order.
/// A stable sort by rank: removing keys one by one from an ordered map shifts all that follow.
/// Each key is ranked once, before sorting: ranking inside the comparison compared every key
/// with every listed name at each of the sort's comparisons.
fn ordered(mapping: Mapping, head: &[&str], tail: &[&str]) -> Mapping {
    let rank = |key: &Value| {
        let position = |keys: &[&str]| key.as_str().and_then(|k| keys.iter().position(|h| *h == k));
        match (position(head), position(tail)) {
            (Some(i), _) => (0, i),
            (None, Some(i)) => (2, i),
            (None, None) => (1, 0),
        }
    };
    let mut entries: Vec<((u8, usize), (Value, Value))> = mapping
        .into_iter()
        .map(|entry| (rank(&entry.0), entry))
        .collect();
    entries.sort_by_key(|(rank, _)| *rank);
    entries.into_iter().map(|(_, entry)| entry).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_first_tail_last_the_rest_in_between() {
        let mut m = Mapping::new();
        for k in [
            "logging",
            "stop_grace_period",
            "healthcheck",
            "image",
            "init",
        ] {
            m.insert(Value::from(k), Value::Null);
        }
        let keys: Vec<_> = service(m)
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys,
            [
                "image",
                "healthcheck",
                "stop_grace_period",
                "init",
                "logging"
            ]
        );
    }
}
