//! What the engine's event stream shows of start order: for every `depends_on` in a generated
//! file, the dependent's container started only after its dependency was healthy, had exited
//! 0, or had started, as the condition asks.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

/// `(dependent, dependency, condition)` for every `depends_on` entry of a Compose file.
pub fn dependencies(file: &Path) -> Vec<(String, String, String)> {
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(file).unwrap()).expect("the file is YAML");
    let mut found = Vec::new();
    for (name, service) in doc["services"].as_mapping().expect("services") {
        let Some(deps) = service.get("depends_on").and_then(|d| d.as_mapping()) else {
            continue;
        };
        for (target, spec) in deps {
            found.push((
                name.as_str().unwrap().to_owned(),
                target.as_str().unwrap().to_owned(),
                spec["condition"]
                    .as_str()
                    .unwrap_or("service_started")
                    .to_owned(),
            ));
        }
    }
    found
}

/// The first time (ns) each service's container did each thing.
#[derive(Default, Debug)]
struct Times {
    start: Option<i64>,
    healthy: Option<i64>,
    exited_0: Option<i64>,
}

fn times(events: &[Json]) -> BTreeMap<String, Times> {
    let mut by_service: BTreeMap<String, Times> = BTreeMap::new();
    for e in events {
        let attributes = &e["Actor"]["Attributes"];
        let Some(service) = attributes["com.docker.compose.service"].as_str() else {
            continue;
        };
        let at = e["timeNano"].as_i64().expect("timeNano");
        let t = by_service.entry(service.to_owned()).or_default();
        let slot = match e["Action"].as_str().unwrap_or("") {
            "start" => &mut t.start,
            "health_status: healthy" => &mut t.healthy,
            "die" if attributes["exitCode"] == "0" => &mut t.exited_0,
            _ => continue,
        };
        slot.get_or_insert(at);
    }
    by_service
}

/// Checks every dependency of `file` against the events; returns one line per dependency
/// checked (for the log) or panics naming each one the engine contradicts.
pub fn assert_started_in_order(file: &Path, events: &[Json]) -> Vec<String> {
    let times = times(events);
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    let at = |service: &str| times.get(service);
    for (dependent, dependency, condition) in dependencies(file) {
        let started = at(&dependent).and_then(|t| t.start);
        let ready = at(&dependency).and_then(|t| match condition.as_str() {
            "service_healthy" => t.healthy,
            "service_completed_successfully" => t.exited_0,
            _ => t.start,
        });
        match (started, ready) {
            (Some(started), Some(ready)) if ready < started => checked.push(format!(
                "{dependent} started {:.1} s after {dependency} ({condition})",
                (started - ready) as f64 / 1e9
            )),
            _ => wrong.push(format!(
                "{dependent} (started at {started:?}) waits for {dependency} {condition} \
                 (at {ready:?})"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "the engine started a dependent before its dependency was ready:\n  {}",
        wrong.join("\n  ")
    );
    assert!(!checked.is_empty(), "{} has no depends_on", file.display());
    checked
}
