//! Which emitted Compose key needs which Compose and Docker Engine, and the stack fitted to the
//! versions a team runs (`[project] requires`, `--requires`).
//!
//! [`FEATURES`] is the one home of these facts, each with the document it comes from. [`fit`]
//! reads the keys of every emitted body, not the catalogue's fields, so a key a template, the
//! passthrough or a later feature of muster writes is judged by the same table. A key the target
//! cannot do is left out (or, for `gpus`, rewritten into the form older Compose reads) with one
//! warning per key; a key the user wrote in the catalogue entry or the `compose` table is an
//! error instead, since leaving it out would silently drop what they asked for.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::emit::Target;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use std::fmt;
use std::str::FromStr;

/// A release, as `2.26`, `2.26.1` or `v20.10.24`; missing parts are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Version, String> {
        let bad = || format!("{text:?} is not a version: write MAJOR.MINOR or MAJOR.MINOR.PATCH");
        let digits = text.strip_prefix('v').unwrap_or(text);
        let mut parts = digits.split('.');
        let mut next = |required: bool| -> Result<u32, String> {
            match parts.next() {
                None if !required => Ok(0),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| bad())
                }
                _ => Err(bad()),
            }
        };
        let version = Version::new(next(true)?, next(true)?, next(false)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// The Compose and Engine a stack is generated for; `None` is the newest (no key left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requires {
    pub compose: Option<Version>,
    pub engine: Option<Version>,
}

/// Compose v1 (Python) read another format; muster writes the Compose Specification of v2.
pub const OLDEST_COMPOSE: Version = Version::new(2, 0, 0);

impl Requires {
    /// `--requires compose=2.26,engine=20.10` (either part alone too).
    pub fn parse_cli(text: &str) -> Result<Requires, String> {
        let mut requires = Requires::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, version)) = part.split_once('=') else {
                return Err(format!("{part:?}: write compose=VERSION or engine=VERSION"));
            };
            let version: Version = version.trim().parse()?;
            match name.trim() {
                "compose" => requires.compose = Some(version),
                "engine" => requires.engine = Some(version),
                other => {
                    return Err(format!(
                        "unknown component {other:?}: use compose or engine"
                    ));
                }
            }
        }
        if requires.compose.is_some_and(|c| c < OLDEST_COMPOSE) {
            return Err(format!(
                "muster writes for Compose {OLDEST_COMPOSE} or later"
            ));
        }
        Ok(requires)
    }

    /// `other`'s parts where it has them, this one's elsewhere (the command line over the
    /// catalogue).
    pub fn or(self, other: Requires) -> Requires {
        Requires {
            compose: other.compose.or(self.compose),
            engine: other.engine.or(self.engine),
        }
    }

    pub fn is_newest(&self) -> bool {
        self.compose.is_none() && self.engine.is_none()
    }
}

impl fmt::Display for Requires {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (self.compose, self.engine) {
            (None, None) => f.write_str("the newest Compose and Docker Engine"),
            (Some(c), None) => write!(f, "Compose {c}"),
            (None, Some(e)) => write!(f, "Docker Engine {e}"),
            (Some(c), Some(e)) => write!(f, "Compose {c} with Docker Engine {e}"),
        }
    }
}

/// What muster does with a key the target cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Left out.
    Drop,
    /// `gpus` becomes the device request older Compose reads,
    /// `deploy.resources.reservations.devices` with the `gpu` capability.
    GpusToDevices,
}

/// One emitted key and the releases that first act on it.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    /// The key's path in a service (`healthcheck.start_interval`; `*` is any name:
    /// `depends_on.*.restart`), or in the file for a top-level key (`/models`).
    pub key: &'static str,
    pub compose: Option<Version>,
    pub engine: Option<Version>,
    pub change: Change,
    /// What running without it means, for the warning.
    pub without: &'static str,
    /// Where the versions come from.
    pub source: &'static str,
}

/// Every key muster emits, or lets through, that older Compose or Engine releases refuse or
/// ignore. Compose's loader (compose-go) may parse a key before Compose acts on it: Debian's
/// Compose 2.26.1 accepts `post_start` and `gpus` in `config -q`, yet its binary has no hook
/// runner (2.40.3's has `runHook`), so each version here is the one whose release notes or
/// reference say Compose acts on the key, not the first loader that parses it.
pub const FEATURES: &[Feature] = &[
    Feature {
        key: "healthcheck.start_interval",
        compose: Some(Version::new(2, 20, 2)),
        engine: Some(Version::new(25, 0, 0)),
        change: Change::Drop,
        without: "the engine probes at `interval` while the service starts, so it is seen \
                  healthy up to one interval later",
        source: "compose-spec services.md (healthcheck: \"Introduced in Docker Compose version \
                 2.20.2\"); Compose refuses it on older engines: \"can't set \
                 healthcheck.start_interval as feature require Docker Engine v25 or later\" \
                 (measured on Engine 20.10.24 with Compose 2.26.1)",
    },
    Feature {
        key: "depends_on.*.restart",
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "Compose does not restart the dependent when it restarts the dependency",
        source: "compose-spec services.md, depends_on long syntax: `restart` \"Introduced in \
                 Docker Compose version 2.17.0\"",
    },
    Feature {
        key: "depends_on.*.required",
        compose: Some(Version::new(2, 20, 0)),
        engine: None,
        change: Change::Drop,
        without: "the dependency is required: `up` fails when it is not started",
        source: "compose-spec services.md, depends_on long syntax: `required` \"Introduced in \
                 Docker Compose version 2.20.0\"",
    },
    Feature {
        key: "gpus",
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::GpusToDevices,
        without: "written as `deploy.resources.reservations.devices` with the `gpu` \
                  capability, which Compose reads since 1.28",
        source: "compose-go PR #693 \"introduce service.gpus\" (2024-10-04), first in Compose \
                 2.30.0 (release notes: compose-go v2.4.1); devices: docker/compose PR #7929",
    },
    Feature {
        key: "models",
        compose: Some(Version::new(2, 38, 0)),
        engine: None,
        change: Change::Drop,
        without: "the service gets no model endpoint variables",
        source: "docs.docker.com/reference/compose-file/models: \"Requires: Docker Compose \
                 2.38.0 and later\"",
    },
    Feature {
        key: "/models",
        compose: Some(Version::new(2, 38, 0)),
        engine: None,
        change: Change::Drop,
        without: "no model runner serves the models",
        source: "docs.docker.com/reference/compose-file/models: \"Requires: Docker Compose \
                 2.38.0 and later\"",
    },
    Feature {
        key: "provider",
        compose: Some(Version::new(2, 35, 0)),
        engine: None,
        change: Change::Drop,
        without: "the provider service is not created",
        source: "Compose release notes 2.35.0: \"Added support for Docker Model Runner\"",
    },
    Feature {
        key: "post_start",
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::Drop,
        without: "the hook does not run",
        source: "docker/docs data/summary.yaml \"Compose post start: requires Docker Compose \
                 2.30.0\"; release notes 2.30.0 \"Introduction of service hooks support\"",
    },
    Feature {
        key: "pre_stop",
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::Drop,
        without: "the hook does not run",
        source: "docker/docs data/summary.yaml \"Compose pre stop: requires Docker Compose \
                 2.30.0\"",
    },
    Feature {
        key: "develop",
        compose: Some(Version::new(2, 22, 0)),
        engine: None,
        change: Change::Drop,
        without: "`docker compose watch` has nothing to watch",
        source: "docker/docs data/summary.yaml \"Compose develop: requires Docker Compose \
                 2.22.0\"",
    },
    Feature {
        key: "annotations",
        compose: Some(Version::new(2, 26, 0)),
        engine: None,
        change: Change::Drop,
        without: "the container has no annotations",
        source: "Compose release notes 2.26.0: \"Added support for `annotations`\"",
    },
    Feature {
        key: "attach",
        compose: Some(Version::new(2, 20, 0)),
        engine: None,
        change: Change::Drop,
        without: "Compose shows the service's logs",
        source: "docker/docs data/summary.yaml \"Compose attach: requires Docker Compose 2.20.0\"",
    },
    Feature {
        key: "label_file",
        compose: Some(Version::new(2, 32, 2)),
        engine: None,
        change: Change::Drop,
        without: "the labels of the file are not set",
        source: "docker/docs data/summary.yaml \"Compose label file: requires Docker Compose \
                 2.32.2\"",
    },
    Feature {
        key: "mac_address",
        compose: Some(Version::new(2, 24, 0)),
        engine: None,
        change: Change::Drop,
        without: "the engine picks the MAC address",
        source: "compose-spec services.md mac_address: \"Available with Docker Compose version \
                 2.24.0 and later\"",
    },
    Feature {
        key: "cgroup",
        compose: Some(Version::new(2, 15, 0)),
        engine: None,
        change: Change::Drop,
        without: "the runtime picks the cgroup namespace",
        source: "docker/docs data/summary.yaml \"Compose cgroup: requires Docker Compose 2.15.0\"",
    },
    Feature {
        key: "uts",
        compose: Some(Version::new(2, 15, 1)),
        engine: None,
        change: Change::Drop,
        without: "the container gets its own UTS namespace",
        source: "docker/docs data/summary.yaml \"Compose uts: requires Docker Compose 2.15.1\"",
    },
    Feature {
        key: "build.additional_contexts",
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build has only its context",
        source: "docker/docs data/summary.yaml \"Build additional contexts: requires Docker \
                 Compose 2.17.0\"",
    },
    Feature {
        key: "build.dockerfile_inline",
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build reads the context's Dockerfile",
        source: "docker/docs data/summary.yaml \"Build dockerfile inline: requires Docker \
                 Compose 2.17.0\"",
    },
    Feature {
        key: "build.privileged",
        compose: Some(Version::new(2, 15, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build is not privileged",
        source: "docker/docs data/summary.yaml \"Build privileged: requires Docker Compose \
                 2.15.0\"",
    },
    Feature {
        key: "build.ulimits",
        compose: Some(Version::new(2, 23, 1)),
        engine: None,
        change: Change::Drop,
        without: "the build runs with the engine's limits",
        source: "docker/docs data/summary.yaml \"Build ulimits: requires Docker Compose 2.23.1\"",
    },
    Feature {
        key: "build.entitlements",
        compose: Some(Version::new(2, 27, 1)),
        engine: None,
        change: Change::Drop,
        without: "the build gets no extra entitlements",
        source: "docker/docs data/summary.yaml \"Build entitlements: requires Docker Compose \
                 2.27.1\"",
    },
];

impl Feature {
    /// What of the target lacks this key: `Compose 2.20.2` or `Docker Engine 25.0`, the
    /// release that adds it, or `None` when the target has it. `compose` says whether the
    /// file is read by Compose (a Swarm stack is read by the engine's own loader).
    fn lacking(&self, requires: &Requires, compose: bool) -> Option<String> {
        let older = |need: Option<Version>, have: Option<Version>| {
            matches!((need, have), (Some(n), Some(h)) if h < n).then_some(need)
        };
        let mut lacking = Vec::new();
        if compose && let Some(Some(v)) = older(self.compose, requires.compose) {
            lacking.push(format!("Compose {v}"));
        }
        if let Some(Some(v)) = older(self.engine, requires.engine) {
            lacking.push(format!("Docker Engine {v}"));
        }
        (!lacking.is_empty()).then(|| lacking.join(" and "))
    }

    fn path(&self) -> Vec<&'static str> {
        self.key.trim_start_matches('/').split('.').collect()
    }

    fn is_top_level(&self) -> bool {
        self.key.starts_with('/')
    }
}

/// The top-level key `key` (`models`) cannot be written for `requires`: its feature, and what
/// of the target lacks it. For emitters that write top-level keys of their own.
pub fn lacking_top_level(key: &str, requires: &Requires) -> Option<(&'static Feature, String)> {
    FEATURES
        .iter()
        .filter(|f| f.is_top_level() && f.key[1..] == *key)
        .find_map(|f| f.lacking(requires, true).map(|l| (f, l)))
}

/// Leaves out of every service's body, or rewrites, what `target` read by `requires` cannot
/// do; one warning per key, and an error for each key the user wrote in the catalogue entry or
/// the `compose` table. Kubernetes manifests are read by no Compose or Docker Engine, and are
/// left alone.
pub fn fit(stack: &mut Stack, target: Target, diagnostics: &mut Diagnostics) {
    let requires = stack.project.requires;
    if requires.is_newest() || target == Target::Kubernetes {
        return;
    }
    let compose = target == Target::Compose;
    for feature in FEATURES.iter().filter(|f| !f.is_top_level()) {
        let Some(lacking) = feature.lacking(&requires, compose) else {
            continue;
        };
        let path = feature.path();
        let mut changed = Vec::new();
        for s in &mut stack.services {
            if !has_path(s.rendered.body.mapping(), &path) {
                continue;
            }
            if let Some(written) = written_by_user(s, feature.key) {
                let service = &s.rendered.service;
                let (source, span, label) = match &written.at {
                    Some((source, span)) => (*source, span.clone(), "asked for here"),
                    None => (
                        stack.project.catalogue_source,
                        service.name_span.clone(),
                        "in this service",
                    ),
                };
                diagnostics.push(
                    Diagnostic::error(format!(
                        "service `{}` sets `{}`, which needs {lacking}; the target is {requires}",
                        service.name, feature.key
                    ))
                    .at(source, Some(span), label)
                    .with_note(format!(
                        "remove it, or raise `[project] requires` (without it: {})",
                        feature.without
                    )),
                );
                continue;
            }
            let keys = s.rendered.body.keys_mut();
            match feature.change {
                Change::Drop => {
                    remove_path(keys, &path);
                }
                Change::GpusToDevices => gpus_to_devices(keys),
            }
            changed.push(s.rendered.service.name.clone());
        }
        if changed.is_empty() {
            continue;
        }
        let verb = match feature.change {
            Change::Drop => "left out",
            Change::GpusToDevices => "rewritten",
        };
        let mut d = Diagnostic::warning(format!(
            "`{}` {verb} for {requires}: it needs {lacking}",
            feature.key
        ))
        .with_lint(crate::model::Lint::OlderTarget)
        .with_note(format!("without it, {}", feature.without))
        .with_note(format!("in {}", changed.join(", ")));
        d = match &stack.project.requires_span {
            Some(span) => d.at(
                stack.project.catalogue_source,
                Some(span.clone()),
                "the target",
            ),
            None => d,
        };
        diagnostics.push(d);
    }
}

/// The key is the user's own: the `compose` table's, or set by the catalogue entry (its
/// `profiles.NAME` included) rather than a profile or template.
fn written_by_user<'s>(s: &'s StackService, key: &str) -> Option<&'s crate::resolve::GatedKey> {
    s.rendered.service.gated.iter().find(|w| w.key == key)
}

/// The version-gated service keys a `compose` table of the catalogue sets.
pub fn keys_in_toml(table: &toml::Table) -> impl Iterator<Item = &'static str> + '_ {
    fn has(table: &toml::Table, path: &[&str]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        let children: Vec<&toml::Value> = if *first == "*" {
            table.values().collect()
        } else {
            table.get(*first).into_iter().collect()
        };
        rest.is_empty() && !children.is_empty()
            || children
                .into_iter()
                .any(|c| matches!(c, toml::Value::Table(t) if has(t, rest)))
    }
    FEATURES
        .iter()
        .filter(move |f| !f.is_top_level() && has(table, &f.path()))
        .map(|f| f.key)
}

fn has_path(map: &Mapping, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let children: Vec<&Yaml> = if *first == "*" {
        map.values().collect()
    } else {
        map.get(*first).into_iter().collect()
    };
    if rest.is_empty() {
        return !children.is_empty();
    }
    children
        .into_iter()
        .any(|c| matches!(c, Yaml::Mapping(m) if has_path(m, rest)))
}

fn remove_path(map: &mut Mapping, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        if *first == "*" {
            map.clear();
        } else {
            map.shift_remove(*first);
        }
        return;
    }
    let children: Vec<&mut Yaml> = if *first == "*" {
        map.values_mut().collect()
    } else {
        map.get_mut(*first).into_iter().collect()
    };
    for child in children {
        if let Yaml::Mapping(m) = child {
            remove_path(m, rest);
        }
    }
}

/// The mapping under `key`, made (or put in place of another value) when there is none.
fn child<'a>(map: &'a mut Mapping, key: &str) -> &'a mut Mapping {
    let entry = map
        .entry(key.into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if !matches!(entry, Yaml::Mapping(_)) {
        *entry = Yaml::Mapping(Mapping::new());
    }
    match entry {
        Yaml::Mapping(m) => m,
        _ => unreachable!("a mapping was put there above"),
    }
}

/// `gpus` as the device requests Compose has read since 1.28, in
/// `deploy.resources.reservations.devices` (`gpus::reservation_devices`).
fn gpus_to_devices(keys: &mut Mapping) {
    let Some(gpus) = keys.shift_remove("gpus") else {
        return;
    };
    let reservations = child(child(child(keys, "deploy"), "resources"), "reservations");
    let devices = reservations
        .entry("devices".into())
        .or_insert_with(|| Yaml::Sequence(Vec::new()));
    if let Yaml::Sequence(list) = devices {
        list.extend(crate::gpus::reservation_devices(gpus));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |t: &str| t.parse::<Version>().unwrap();
        assert!(v("2.9") < v("2.26"));
        assert!(v("2.20") < v("2.20.2"));
        assert!(v("v20.10.24") < v("25.0"));
        assert!("2".parse::<Version>().is_err());
        assert!("2.x".parse::<Version>().is_err());
        assert!("2.26.1.4".parse::<Version>().is_err());
    }

    #[test]
    fn the_command_line_names_its_parts() {
        let r = Requires::parse_cli("compose=2.26,engine=20.10").unwrap();
        assert_eq!(r.compose, Some(Version::new(2, 26, 0)));
        assert_eq!(r.engine, Some(Version::new(20, 10, 0)));
        assert!(Requires::parse_cli("docker=20.10").is_err());
        assert!(Requires::parse_cli("compose=1.29").is_err());
    }

    #[test]
    fn a_key_is_lacking_only_below_its_release() {
        let start_interval = &FEATURES[0];
        let at =
            |c: &str, e: &str| Requires::parse_cli(&format!("compose={c},engine={e}")).unwrap();
        assert_eq!(
            start_interval
                .lacking(&at("2.26", "20.10"), true)
                .as_deref(),
            Some("Docker Engine 25.0")
        );
        assert_eq!(start_interval.lacking(&at("2.40", "26.1"), true), None);
        assert_eq!(
            start_interval.lacking(&at("2.20", "26.1"), true).as_deref(),
            Some("Compose 2.20.2")
        );
    }

    #[test]
    fn top_level_models_need_compose_2_38_and_volumes_nothing() {
        let at = |c: &str| Requires::parse_cli(&format!("compose={c}")).unwrap();
        assert!(lacking_top_level("models", &at("2.37.9")).is_some());
        assert!(lacking_top_level("models", &at("2.38")).is_none());
        assert!(lacking_top_level("models", &Requires::default()).is_none());
        assert!(lacking_top_level("volumes", &at("2.0")).is_none());
    }

    #[test]
    fn gpus_become_a_device_request_beside_other_deploy_keys() {
        let mut keys: Mapping =
            crate::yaml::from_str("gpus: all\ndeploy:\n  replicas: 2\n").unwrap();
        gpus_to_devices(&mut keys);
        let text = crate::yaml::to_string(&keys);
        assert_eq!(
            text,
            "deploy:\n  replicas: 2\n  resources:\n    reservations:\n      devices:\n        \
             - count: all\n          capabilities:\n            - gpu\n"
        );
    }
}
