//! A service's Compose body, and the facts every target takes from it, read once.
//!
//! The body is what the kind template rendered, with the keys the catalogue models laid over
//! it and the user's `compose` table merged last ([`ComposeBody::build`], which render calls
//! with the template's output); everything after reads it
//! through [`ComposeBody`]: the Compose writer its keys as they are, and validation, Swarm,
//! Kubernetes, lints and the report its typed facts. A `compose = { healthcheck = ... }` or
//! `compose = { restart = ... }` therefore means the same thing on every target, because no
//! target decides from the catalogue's fields behind the body's back.

mod build;

use crate::model::{Condition, Duration, Restart};
use crate::resolve::Service;
use crate::spec::Command;
use crate::yaml::{Mapping, Value as Yaml};

/// The Compose keys of one service, in conventional order, and what they say.
#[derive(Debug)]
pub struct ComposeBody {
    keys: Mapping,
    /// The healthcheck Compose will run; `None` when there is none or it is disabled.
    pub healthcheck: Option<Healthcheck>,
    /// `healthcheck.disable` is set in the body (by the catalogue or the passthrough).
    pub healthcheck_disabled: bool,
    pub restart: Option<Restart>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    /// Short-syntax mounts, as written.
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
    pub stop_grace_period: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Healthcheck {
    /// The test in list form: a plain string is `["CMD-SHELL", line]`, as Docker reads it.
    pub test: Vec<String>,
    pub origin: TestOrigin,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
}

/// Who wrote a healthcheck's test, which decides how far muster may reinterpret it: a probe a
/// template chose may become Kubernetes' `httpGet`; one the user wrote is run as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOrigin {
    BuiltInTemplate,
    /// A template of the user's templates folder.
    UserTemplate,
    /// The catalogue's `healthcheck.test`.
    Catalogue,
    /// The `compose` table's `healthcheck.test`.
    Passthrough,
}

impl TestOrigin {
    /// The test is a template's: the kind's own probe, not one the user spelled out.
    pub fn is_template(self) -> bool {
        matches!(self, TestOrigin::BuiltInTemplate | TestOrigin::UserTemplate)
    }

    /// The user wrote or chose it, and may know the image better than muster does.
    pub fn is_users(self) -> bool {
        self != TestOrigin::BuiltInTemplate
    }
}

impl ComposeBody {
    /// The body of `service` over its kind template's output `kind_layer`, read. `user_template`
    /// says whether the kind's template is the user's own.
    pub fn build(
        kind_layer: Mapping,
        service: &Service,
        user_template: bool,
    ) -> Result<ComposeBody, Vec<String>> {
        let origin = if service
            .compose
            .get("healthcheck")
            .is_some_and(|hc| hc.get("test").is_some())
        {
            TestOrigin::Passthrough
        } else if service.healthcheck.test.is_some() {
            TestOrigin::Catalogue
        } else if user_template {
            TestOrigin::UserTemplate
        } else {
            TestOrigin::BuiltInTemplate
        };
        ComposeBody::read(build::overlay(kind_layer, service), origin)
    }

    /// Reads the body's facts. `origin` says who wrote a test, should there be one. Each value
    /// that is not what Compose accepts is one message in the result's error.
    pub fn read(keys: Mapping, origin: TestOrigin) -> Result<ComposeBody, Vec<String>> {
        let mut problems = Vec::new();
        let mut problem = |p: String| problems.push(p);
        let hc = keys.get("healthcheck").and_then(Yaml::as_mapping);
        let healthcheck_disabled = hc.and_then(|h| h.get("disable")) == Some(&Yaml::Bool(true));
        let healthcheck = match hc {
            Some(hc) if !healthcheck_disabled => read_healthcheck(hc, origin, &mut problem),
            _ => None,
        };
        let restart = keys.get("restart").and_then(|value| {
            let parsed = value.as_str().and_then(Restart::parse);
            if parsed.is_none() {
                problem(format!(
                    "restart {} is not a Compose restart policy (use \"no\", \"always\", \
                     \"on-failure\", \"on-failure:N\" or \"unless-stopped\")",
                    shown(value)
                ));
            }
            parsed
        });
        let mut command = |key: &str| {
            keys.get(key).and_then(|value| match command_of(value) {
                Some(c) => Some(c),
                None => {
                    problem(format!("{key} is neither a string nor a list of strings"));
                    None
                }
            })
        };
        let command_value = command("command");
        let entrypoint = command("entrypoint");
        let mut strings = |key: &str| match keys.get(key) {
            None => Vec::new(),
            Some(Yaml::Sequence(items)) if items.iter().all(Yaml::is_string) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            // The long syntax (`type: volume`) is Compose's and passes through as written.
            Some(Yaml::Sequence(_)) if key == "volumes" => Vec::new(),
            // A map of networks (`backend: { aliases: [...] }`) names them by its keys.
            Some(Yaml::Mapping(m)) if key == "networks" => m
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
            Some(_) => {
                problem(format!("{key} is not a list of strings"));
                Vec::new()
            }
        };
        let volumes = strings("volumes");
        let networks = strings("networks");
        let stop_grace_period = keys
            .get("stop_grace_period")
            .and_then(|v| duration(v, "stop_grace_period", &mut problem));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ComposeBody {
            keys,
            healthcheck,
            healthcheck_disabled,
            restart,
            command: command_value,
            entrypoint,
            volumes,
            networks,
            stop_grace_period,
        })
    }

    /// The Compose keys, as they are written.
    pub fn mapping(&self) -> &Mapping {
        &self.keys
    }

    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.keys.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }

    /// Whether Compose will run a healthcheck, which decides what dependents may wait for.
    pub fn has_healthcheck(&self) -> bool {
        self.healthcheck.is_some()
    }

    /// Sets `depends_on`, the one key decided after render (by validation, once every service's
    /// healthcheck is known): every condition in the long form, refined by a `compose.depends_on`
    /// passthrough (`restart: true`).
    pub fn set_depends_on(&mut self, depends_on: &[(String, Condition)], passthrough: &Mapping) {
        let deps = build::depends_on(depends_on, passthrough);
        match self.keys.get_mut("depends_on") {
            // Render held the key's place when the catalogue named dependencies.
            Some(slot) => *slot = Yaml::Mapping(deps),
            None => {
                self.keys.insert("depends_on".into(), Yaml::Mapping(deps));
                self.keys = crate::key_order::service(std::mem::take(&mut self.keys));
            }
        }
    }
}

fn read_healthcheck(
    hc: &Mapping,
    origin: TestOrigin,
    problem: &mut impl FnMut(String),
) -> Option<Healthcheck> {
    let test = match hc.get("test")? {
        Yaml::String(line) => vec!["CMD-SHELL".to_owned(), line.clone()],
        Yaml::Sequence(items) if items.iter().all(Yaml::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => {
            problem("healthcheck test is neither a string nor a list of strings".to_owned());
            return None;
        }
    };
    let mut timing = |key: &str| {
        hc.get(key)
            .and_then(|v| duration(v, &format!("healthcheck {key}"), problem))
    };
    let interval = timing("interval");
    let timeout = timing("timeout");
    let start_period = timing("start_period");
    let start_interval = timing("start_interval");
    let retries = hc.get("retries").and_then(|v| {
        let retries = v.as_u64().and_then(|r| u32::try_from(r).ok());
        if retries.is_none() {
            problem(format!(
                "healthcheck retries {} is not a number of attempts",
                shown(v)
            ));
        }
        retries
    });
    Some(Healthcheck {
        test,
        origin,
        interval,
        timeout,
        retries,
        start_period,
        start_interval,
    })
}

fn duration(value: &Yaml, what: &str, problem: &mut impl FnMut(String)) -> Option<Duration> {
    let parsed = match value.as_str() {
        Some(text) => Duration::parse(text),
        None => Err(format!(
            "{} is not a duration; write e.g. \"30s\"",
            shown(value)
        )),
    };
    parsed.map_err(|e| problem(format!("{what}: {e}"))).ok()
}

/// A value as the user would have written it, for messages.
fn shown(value: &Yaml) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

fn command_of(value: &Yaml) -> Option<Command> {
    match value {
        Yaml::String(line) => Some(Command::Line(line.clone())),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Command::Argv),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ComposeBody, Vec<String>> {
        ComposeBody::read(
            crate::yaml::from_str(text).unwrap(),
            TestOrigin::Passthrough,
        )
    }

    #[test]
    fn facts_are_read_from_the_body_whoever_wrote_it() {
        let body = read(
            "healthcheck: {test: \"true\", interval: 7s, retries: 2}\nrestart: on-failure:2\n\
             command: [serve]\nvolumes: [\"data:/data\"]\nnetworks: {back: {}}\n",
        )
        .unwrap();
        let hc = body.healthcheck.as_ref().unwrap();
        assert_eq!(hc.test, ["CMD-SHELL", "true"]);
        assert_eq!(hc.interval.as_ref().map(Duration::text), Some("7s"));
        assert_eq!(hc.retries, Some(2));
        assert_eq!(body.restart, Some(Restart::OnFailure(Some(2))));
        assert!(matches!(&body.command, Some(Command::Argv(a)) if a == &["serve"]));
        assert_eq!(body.volumes, ["data:/data"]);
        assert_eq!(body.networks, ["back"]);
    }

    #[test]
    fn a_disabled_or_testless_healthcheck_is_none() {
        let disabled = read("healthcheck: {test: [CMD, \"true\"], disable: true}\n").unwrap();
        assert!(!disabled.has_healthcheck() && disabled.healthcheck_disabled);
        assert!(
            !read("healthcheck: {interval: 5s}\n")
                .unwrap()
                .has_healthcheck()
        );
    }

    #[test]
    fn every_value_compose_would_refuse_is_reported() {
        let problems = read(
            "healthcheck: {test: [CMD, \"true\"], interval: 5, timeout: 3x}\nrestart: sometimes\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("restart \"sometimes\""))
        );
    }
}
