//! Compose keys in the order people write them, so that a generated file reads like a
//! hand-written one and diffs stay small when the catalogue changes.

use crate::model::HealthKey;
use crate::yaml::{Mapping, Value};

/// Service keys in conventional order; keys not listed follow in the order they were produced.
const SERVICE_HEAD: &[&str] = &[
    "image",
    "build",
    "profiles",
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
    "secrets",
    "volumes",
    "networks",
    "models",
    "labels",
    "depends_on",
    "healthcheck",
    "gpus",
];

/// Keys that read best last: deployment and logging settings.
const SERVICE_TAIL: &[&str] = &["deploy", "logging"];

const HEALTHCHECK: [&str; HealthKey::ALL.len()] = {
    let mut names = [""; HealthKey::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = HealthKey::ALL[i].name();
        i += 1;
    }
    names
};

/// A device request's keys, in the order Compose's documentation writes them.
pub fn gpu_request(request: Mapping) -> Mapping {
    ordered(
        request,
        &["driver", "count", "device_ids", "capabilities", "options"],
        &[],
    )
}

/// A service's keys, and its healthcheck's, in conventional order. Values are moved, not copied.
pub fn service(mut body: Mapping) -> Mapping {
    if let Some(Value::Mapping(hc)) = body.get_mut("healthcheck") {
        *hc = ordered(std::mem::take(hc), &HEALTHCHECK, &[]);
    }
    ordered(body, SERVICE_HEAD, SERVICE_TAIL)
}

/// A mapping under construction, a service body or its healthcheck: its entries in a list, hashed into a map once, in
/// conventional order, by [`Draft::finish`]. Building a map and then another in order hashed
/// every key twice, and hashing was most of what render spent outside the templates.
pub struct Draft {
    entries: Vec<(Value, Value)>,
}

impl Draft {
    pub fn new(mapping: Mapping) -> Self {
        Draft {
            entries: mapping.into_iter().collect(),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))
    }

    /// Sets `key`, in the place it already has if it has one.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => self.entries[i].1 = value,
            None => self.entries.push((Value::from(key), value)),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// The entries as a map, in the order they are in.
    pub fn into_mapping(self) -> Mapping {
        self.entries.into_iter().collect()
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    /// Merges `value` into `key` as Compose merges a service's key from two files
    /// ([`crate::merge`]): a list appended, a mapping merged, a scalar replaced.
    pub fn merge_key(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => {
                let base = std::mem::take(&mut self.entries[i].1);
                self.entries[i].1 = crate::merge::service_value(key, base, &value);
            }
            None => self.entries.push((Value::from(key), value)),
        }
    }

    /// Merges `over`, a whole service, as Compose merges the same service of two files.
    pub fn merge(&mut self, over: &Mapping) {
        for (key, value) in over {
            match key.as_str() {
                Some(k) => self.merge_key(k, value.clone()),
                None => self.entries.push((key.clone(), value.clone())),
            }
        }
    }

    /// The body as a map, its keys and its healthcheck's in conventional order.
    pub fn finish(mut self) -> Mapping {
        for (key, value) in &mut self.entries {
            if let (Some("healthcheck"), Value::Mapping(hc)) = (key.as_str(), value) {
                *hc = ordered(std::mem::take(hc), &HEALTHCHECK, &[]);
            }
        }
        sorted(self.entries, SERVICE_HEAD, SERVICE_TAIL)
    }
}

/// Deep-merges `over` into `base`: mappings merge, anything else replaces.
pub fn merge(base: &mut Mapping, over: &Mapping) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `head` keys first, `tail` keys last, and the rest in between, in their order.
fn rank(key: &Value, head: &[&str], tail: &[&str]) -> (u8, usize) {
    let position = |keys: &[&str]| key.as_str().and_then(|k| keys.iter().position(|h| *h == k));
    match (position(head), position(tail)) {
        (Some(i), _) => (0, i),
        (None, Some(i)) => (2, i),
        (None, None) => (1, 0),
    }
}

/// `mapping` in rank order; as it is, without building it again, when it already is.
fn ordered(mapping: Mapping, head: &[&str], tail: &[&str]) -> Mapping {
    if mapping.keys().is_sorted_by_key(|k| rank(k, head, tail)) {
        return mapping;
    }
    sorted(mapping.into_iter().collect(), head, tail)
}

/// A stable sort by rank: removing keys one by one from an ordered map shifts all that follow.
/// Each key is ranked once, before sorting, not at each comparison.
fn sorted(entries: Vec<(Value, Value)>, head: &[&str], tail: &[&str]) -> Mapping {
    let mut ranked: Vec<((u8, usize), (Value, Value))> = entries
        .into_iter()
        .map(|entry| (rank(&entry.0, head, tail), entry))
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, entry)| entry).collect()
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
