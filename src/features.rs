//! Which emitted Compose key needs which Compose and Docker Engine: [`FEATURES`] is the one home
//! of these facts, each with the document it comes from. `fit` (after validation) reads it to
//! fit a stack to the releases a team runs; resolve records which gated keys the user wrote
//! ([`Gated`]), and emitters ask it about top-level keys.

use crate::model::version::{Requires, Version};

/// A Compose key some releases cannot do: each has one entry in [`FEATURES`]. resolve records
/// the ones a catalogue entry writes ([`crate::resolve::GatedKey`]) and `fit` matches them to
/// the table by this value, never by spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gated {
    StartInterval,
    DependsOnRestart,
    DependsOnRequired,
    Gpus,
    Models,
    TopLevelModels,
    Provider,
    PostStart,
    PreStop,
    Develop,
    Annotations,
    Attach,
    LabelFile,
    MacAddress,
    Cgroup,
    Uts,
    BuildAdditionalContexts,
    BuildDockerfileInline,
    BuildPrivileged,
    BuildUlimits,
    BuildEntitlements,
    /// Not a key but a mount's type, which only the mounted probe writes (`mounted_probe.rs`):
    /// its emitters ask [`lacking`] and bring the program through a volume instead.
    ImageMount,
}

impl Gated {
    /// The key's path in a service (`healthcheck.start_interval`; `*` is any name:
    /// `depends_on.*.restart`), or in the file for a top-level key (`/models`).
    pub const fn path(self) -> &'static str {
        match self {
            Gated::StartInterval => "healthcheck.start_interval",
            Gated::DependsOnRestart => "depends_on.*.restart",
            Gated::DependsOnRequired => "depends_on.*.required",
            Gated::Gpus => "gpus",
            Gated::Models => "models",
            Gated::TopLevelModels => "/models",
            Gated::Provider => "provider",
            Gated::PostStart => "post_start",
            Gated::PreStop => "pre_stop",
            Gated::Develop => "develop",
            Gated::Annotations => "annotations",
            Gated::Attach => "attach",
            Gated::LabelFile => "label_file",
            Gated::MacAddress => "mac_address",
            Gated::Cgroup => "cgroup",
            Gated::Uts => "uts",
            Gated::BuildAdditionalContexts => "build.additional_contexts",
            Gated::BuildDockerfileInline => "build.dockerfile_inline",
            Gated::BuildPrivileged => "build.privileged",
            Gated::BuildUlimits => "build.ulimits",
            Gated::BuildEntitlements => "build.entitlements",
            // No path in a body: `fit` never finds it, and leaves the choice to the emitters.
            Gated::ImageMount => "type: image",
        }
    }

    /// Its entry in the table.
    pub fn feature(self) -> &'static Feature {
        FEATURES
            .iter()
            .find(|f| f.key == self)
            .expect("every gated key has its entry (tested)")
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
    pub key: Gated,
    pub compose: Option<Version>,
    pub engine: Option<Version>,
    pub change: Change,
    /// What running without it means, for the warning.
    pub without: &'static str,
    /// Where the versions come from: for whoever checks or updates the row.
    #[cfg_attr(
        not(feature = "internals"),
        expect(dead_code, reason = "a citation, read by people, not code")
    )]
    pub source: &'static str,
}

/// Every key muster emits, or lets through, that older Compose or Engine releases refuse or
/// ignore. Compose's loader (compose-go) may parse a key before Compose acts on it: Debian's
/// Compose 2.26.1 accepts `post_start` and `gpus` in `config -q`, yet its binary has no hook
/// runner (2.40.3's has `runHook`), so each version here is the one whose release notes or
/// reference say Compose acts on the key, not the first loader that parses it.
pub static FEATURES: &[Feature] = &[
    Feature {
        key: Gated::StartInterval,
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
        key: Gated::DependsOnRestart,
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "Compose does not restart the dependent when it restarts the dependency",
        source: "compose-spec services.md, depends_on long syntax: `restart` \"Introduced in \
                 Docker Compose version 2.17.0\"",
    },
    Feature {
        key: Gated::DependsOnRequired,
        compose: Some(Version::new(2, 20, 0)),
        engine: None,
        change: Change::Drop,
        without: "the dependency is required: `up` fails when it is not started",
        source: "compose-spec services.md, depends_on long syntax: `required` \"Introduced in \
                 Docker Compose version 2.20.0\"",
    },
    Feature {
        key: Gated::Gpus,
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::GpusToDevices,
        without: "written as `deploy.resources.reservations.devices` with the `gpu` \
                  capability, which Compose reads since 1.28",
        source: "compose-go PR #693 \"introduce service.gpus\" (2024-10-04), first in Compose \
                 2.30.0 (release notes: compose-go v2.4.1); devices: docker/compose PR #7929",
    },
    Feature {
        key: Gated::Models,
        compose: Some(Version::new(2, 38, 0)),
        engine: None,
        change: Change::Drop,
        without: "the service gets no model endpoint variables",
        source: "docs.docker.com/reference/compose-file/models: \"Requires: Docker Compose \
                 2.38.0 and later\"",
    },
    Feature {
        key: Gated::TopLevelModels,
        compose: Some(Version::new(2, 38, 0)),
        engine: None,
        change: Change::Drop,
        without: "no model runner serves the models",
        source: "docs.docker.com/reference/compose-file/models: \"Requires: Docker Compose \
                 2.38.0 and later\"",
    },
    Feature {
        key: Gated::Provider,
        compose: Some(Version::new(2, 35, 0)),
        engine: None,
        change: Change::Drop,
        without: "the provider service is not created",
        source: "Compose release notes 2.35.0: \"Added support for Docker Model Runner\"",
    },
    Feature {
        key: Gated::PostStart,
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::Drop,
        without: "the hook does not run",
        source: "docker/docs data/summary.yaml \"Compose post start: requires Docker Compose \
                 2.30.0\"; release notes 2.30.0 \"Introduction of service hooks support\"",
    },
    Feature {
        key: Gated::PreStop,
        compose: Some(Version::new(2, 30, 0)),
        engine: None,
        change: Change::Drop,
        without: "the hook does not run",
        source: "docker/docs data/summary.yaml \"Compose pre stop: requires Docker Compose \
                 2.30.0\"",
    },
    Feature {
        key: Gated::Develop,
        compose: Some(Version::new(2, 22, 0)),
        engine: None,
        change: Change::Drop,
        without: "`docker compose watch` has nothing to watch",
        source: "docker/docs data/summary.yaml \"Compose develop: requires Docker Compose \
                 2.22.0\"",
    },
    Feature {
        key: Gated::Annotations,
        compose: Some(Version::new(2, 26, 0)),
        engine: None,
        change: Change::Drop,
        without: "the container has no annotations",
        source: "Compose release notes 2.26.0: \"Added support for `annotations`\"",
    },
    Feature {
        key: Gated::Attach,
        compose: Some(Version::new(2, 20, 0)),
        engine: None,
        change: Change::Drop,
        without: "Compose shows the service's logs",
        source: "docker/docs data/summary.yaml \"Compose attach: requires Docker Compose 2.20.0\"",
    },
    Feature {
        key: Gated::LabelFile,
        compose: Some(Version::new(2, 32, 2)),
        engine: None,
        change: Change::Drop,
        without: "the labels of the file are not set",
        source: "docker/docs data/summary.yaml \"Compose label file: requires Docker Compose \
                 2.32.2\"",
    },
    Feature {
        key: Gated::MacAddress,
        compose: Some(Version::new(2, 24, 0)),
        engine: None,
        change: Change::Drop,
        without: "the engine picks the MAC address",
        source: "compose-spec services.md mac_address: \"Available with Docker Compose version \
                 2.24.0 and later\"",
    },
    Feature {
        key: Gated::Cgroup,
        compose: Some(Version::new(2, 15, 0)),
        engine: None,
        change: Change::Drop,
        without: "the runtime picks the cgroup namespace",
        source: "docker/docs data/summary.yaml \"Compose cgroup: requires Docker Compose 2.15.0\"",
    },
    Feature {
        key: Gated::Uts,
        compose: Some(Version::new(2, 15, 1)),
        engine: None,
        change: Change::Drop,
        without: "the container gets its own UTS namespace",
        source: "docker/docs data/summary.yaml \"Compose uts: requires Docker Compose 2.15.1\"",
    },
    Feature {
        key: Gated::BuildAdditionalContexts,
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build has only its context",
        source: "docker/docs data/summary.yaml \"Build additional contexts: requires Docker \
                 Compose 2.17.0\"",
    },
    Feature {
        key: Gated::BuildDockerfileInline,
        compose: Some(Version::new(2, 17, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build reads the context's Dockerfile",
        source: "docker/docs data/summary.yaml \"Build dockerfile inline: requires Docker \
                 Compose 2.17.0\"",
    },
    Feature {
        key: Gated::BuildPrivileged,
        compose: Some(Version::new(2, 15, 0)),
        engine: None,
        change: Change::Drop,
        without: "the build is not privileged",
        source: "docker/docs data/summary.yaml \"Build privileged: requires Docker Compose \
                 2.15.0\"",
    },
    Feature {
        key: Gated::BuildUlimits,
        compose: Some(Version::new(2, 23, 1)),
        engine: None,
        change: Change::Drop,
        without: "the build runs with the engine's limits",
        source: "docker/docs data/summary.yaml \"Build ulimits: requires Docker Compose 2.23.1\"",
    },
    Feature {
        key: Gated::ImageMount,
        compose: Some(Version::new(2, 35, 0)),
        engine: Some(Version::new(28, 0, 0)),
        change: Change::Drop,
        without: "the mounted probe's program is copied into a volume by a one-shot service, \
                  which each probed service waits for",
        source: "docker/compose 01e83defc \"introduce volume.type=image\" (first in v2.35.0), \
                 whose create.go refuses it below API 1.48: \"volume with type=image require \
                 Docker Engine v28 or later\"",
    },
    Feature {
        key: Gated::BuildEntitlements,
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
    pub fn lacking(&self, requires: &Requires, compose: bool) -> Option<String> {
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

    /// The key's path, one name a step.
    pub fn path(&self) -> Vec<&'static str> {
        self.key.path().trim_start_matches('/').split('.').collect()
    }

    pub fn is_top_level(&self) -> bool {
        self.key.path().starts_with('/')
    }
}

/// What of the target lacks `key`, for an emitter that picks a form of its own (the mounted
/// probe's image mount); `None` when the target has it. `compose` says whether Compose reads
/// the file.
pub fn lacking(key: Gated, requires: &Requires, compose: bool) -> Option<String> {
    key.feature().lacking(requires, compose)
}

/// The top-level key `key` (`models`) cannot be written for `requires`: its feature, and what
/// of the target lacks it. For emitters that write top-level keys of their own.
pub fn lacking_top_level(key: &str, requires: &Requires) -> Option<(&'static Feature, String)> {
    FEATURES
        .iter()
        .filter(|f| f.is_top_level() && f.key.path()[1..] == *key)
        .find_map(|f| f.lacking(requires, true).map(|l| (f, l)))
}

/// The version-gated service keys a `compose` table of the catalogue sets.
pub fn keys_in_toml(table: &toml::Table) -> impl Iterator<Item = Gated> + '_ {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gated_key_has_one_entry() {
        for f in FEATURES {
            assert_eq!(
                FEATURES.iter().filter(|g| g.key == f.key).count(),
                1,
                "{}",
                f.key.path()
            );
            assert!(std::ptr::eq(f.key.feature(), f));
        }
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
}
