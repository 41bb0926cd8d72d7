//! Stage 5, emit: the validated stack as one Compose file.
//!
//! The document is built as YAML values and serialized once. Services keep catalogue order;
//! their keys follow the order people write Compose files in, so a generated file reads like a
//! hand-written one and diffs stay small when the catalogue changes.

use crate::graph::{Stack, StackService};
use crate::render::merge_yaml;
use serde_yaml::{Mapping, Value as Yaml};

/// Service keys in conventional order; keys not listed follow in the order they were produced.
const SERVICE_KEY_ORDER: &[&str] = &[
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
const SERVICE_KEY_TAIL: &[&str] = &["deploy", "logging"];

const HEALTHCHECK_KEY_ORDER: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];

/// The image of the service that `autoheal = true` adds: pinned, as it holds the Docker socket.
const AUTOHEAL_IMAGE: &str = "willfarrell/autoheal:1.2.0";

pub fn emit(stack: &Stack) -> String {
    let mut services = Mapping::new();
    for s in &stack.services {
        let mut body = service(s);
        if stack.project.autoheal && s.rendered.has_healthcheck() {
            label(&mut body, "autoheal", "true");
            body = order_service(body);
        }
        services.insert(
            Yaml::from(s.rendered.service.name.as_str()),
            Yaml::Mapping(body),
        );
    }
    // A catalogue service of that name is taken to be the user's own autoheal.
    if stack.project.autoheal && !services.contains_key("autoheal") {
        services.insert("autoheal".into(), Yaml::Mapping(autoheal()));
    }
    format!(
        "{}{}",
        super::header(&stack.project, None),
        super::yaml::to_string(&document(stack, services))
    )
}

/// The whole file around `services`: the project name and the volumes and networks they use.
pub(super) fn document(stack: &Stack, services: Mapping) -> Mapping {
    let mut doc = Mapping::new();
    if let Some(name) = &stack.project.name {
        doc.insert("name".into(), Yaml::from(name.as_str()));
    }
    doc.insert("services".into(), Yaml::Mapping(services));
    let volumes = declared(stack, |s| {
        s.rendered
            .service
            .volumes
            .iter()
            .filter_map(|v| named_volume(v))
            .collect()
    });
    if !volumes.is_empty() {
        doc.insert("volumes".into(), Yaml::Mapping(volumes));
    }
    let networks = declared(stack, |s| {
        s.rendered
            .service
            .networks
            .iter()
            .map(String::as_str)
            .collect()
    });
    if !networks.is_empty() {
        doc.insert("networks".into(), Yaml::Mapping(networks));
    }
    doc
}

/// One service's Compose keys, in conventional order.
pub(super) fn service(s: &StackService) -> Mapping {
    let mut body = s.rendered.body.clone();
    if !s.depends_on.is_empty() {
        let deps = s
            .depends_on
            .iter()
            .map(|(target, condition)| {
                let mut long = Mapping::new();
                long.insert("condition".into(), Yaml::from(condition.compose_name()));
                (Yaml::from(target.as_str()), Yaml::Mapping(long))
            })
            .collect();
        // A `compose.depends_on` passthrough refines what muster inferred (`restart: true`).
        let mut merged = Mapping::new();
        merged.insert("depends_on".into(), Yaml::Mapping(deps));
        if let Some(Yaml::Mapping(passthrough)) = s.rendered.service.compose.get("depends_on") {
            let mut over = Mapping::new();
            over.insert("depends_on".into(), Yaml::Mapping(passthrough.clone()));
            merge_yaml(&mut merged, &over);
        }
        body.insert(
            "depends_on".into(),
            merged.shift_remove("depends_on").unwrap_or_default(),
        );
    }
    if let Some(Yaml::Mapping(hc)) = body.get_mut("healthcheck") {
        *hc = ordered(std::mem::take(hc), HEALTHCHECK_KEY_ORDER, &[]);
    }
    order_service(body)
}

/// A service's keys in the order people write them; see [`SERVICE_KEY_ORDER`].
pub(super) fn order_service(body: Mapping) -> Mapping {
    ordered(body, SERVICE_KEY_ORDER, SERVICE_KEY_TAIL)
}

fn label(body: &mut Mapping, key: &str, value: &str) {
    let labels = body
        .entry("labels".into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if let Yaml::Mapping(labels) = labels {
        labels.insert(Yaml::from(key), Yaml::from(value));
    }
}

/// Docker restarts a container when it exits, never when it turns unhealthy (moby#28400). This
/// service watches the containers labelled `autoheal=true` and restarts those that turn so.
fn autoheal() -> Mapping {
    // `always`, whatever the profile says: a healer that stays down heals nothing.
    let text = format!(
        "image: {AUTOHEAL_IMAGE}
restart: always
environment:
  AUTOHEAL_CONTAINER_LABEL: autoheal
volumes:
  - /var/run/docker.sock:/var/run/docker.sock
"
    );
    serde_yaml::from_str(&text).expect("the autoheal service is valid YAML")
}

/// `mapping` with `head` keys first, `tail` keys last, and the rest in between, in their order.
fn ordered(mut mapping: Mapping, head: &[&str], tail: &[&str]) -> Mapping {
    let mut out = Mapping::new();
    for key in head {
        if let Some(v) = mapping.shift_remove(*key) {
            out.insert(Yaml::from(*key), v);
        }
    }
    let tail_values: Vec<(&str, Yaml)> = tail
        .iter()
        .filter_map(|k| mapping.shift_remove(*k).map(|v| (*k, v)))
        .collect();
    out.extend(mapping);
    for (k, v) in tail_values {
        out.insert(Yaml::from(k), v);
    }
    out
}

/// Top-level declarations of names the services use, in first-use order.
fn declared<'a>(stack: &'a Stack, names: impl Fn(&'a StackService) -> Vec<&'a str>) -> Mapping {
    let mut out = Mapping::new();
    for s in &stack.services {
        for name in names(s) {
            out.entry(Yaml::from(name))
                .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        }
    }
    out
}

/// The volume name of a short-syntax mount, when its source is a named volume rather than a
/// host path (`pgdata:/var/lib/postgresql/data`, not `./data:/data` or `/srv:/srv`).
pub fn named_volume(mount: &str) -> Option<&str> {
    let (source, _) = mount.split_once(':')?;
    let is_path =
        source.is_empty() || source.starts_with(['/', '.', '~', '$']) || source.contains('/');
    (!is_path).then_some(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_volumes_are_told_from_paths() {
        assert_eq!(
            named_volume("pgdata:/var/lib/postgresql/data"),
            Some("pgdata")
        );
        assert_eq!(named_volume("models:/models:ro"), Some("models"));
        assert_eq!(named_volume("./data:/data"), None);
        assert_eq!(named_volume("/srv:/srv"), None);
        assert_eq!(named_volume("${DATA_DIR}:/data"), None);
        assert_eq!(named_volume("/anonymous"), None);
    }

    #[test]
    fn ordering_puts_known_keys_first_and_tail_last() {
        let mut m = Mapping::new();
        for k in ["logging", "stop_grace_period", "healthcheck", "image"] {
            m.insert(Yaml::from(k), Yaml::Null);
        }
        let keys: Vec<_> = ordered(m, SERVICE_KEY_ORDER, SERVICE_KEY_TAIL)
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys,
            ["image", "healthcheck", "stop_grace_period", "logging"]
        );
    }
}
