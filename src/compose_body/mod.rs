//! A service's Compose body, and the facts every target takes from it, read once.
//!
//! The body is what the kind template rendered, with the keys the catalogue models laid over
//! it and the user's `compose` table merged last ([`ComposeBody::build`], which render calls
//! with the template's output). Everything after reads it through [`ComposeBody`]: the Compose
//! writer its keys as they are; validation, Swarm, Kubernetes, lints and the report its typed
//! facts. A `compose = { healthcheck = ... }` or
//! `compose = { restart = ... }` therefore means the same thing on every target, because no
//! target decides from the catalogue's fields behind the body's back.

mod build;

use crate::model::{Condition, HealthKey, Restart};
use crate::resolve::Service;
use crate::spec::DependencyOptions;
use crate::yaml::{Mapping, Value as Yaml};
use std::fmt;
use std::time::Duration as Span;

/// The Compose keys of one service, in conventional order, and what they say. The facts are
/// checked once, when the body is read, and kept as values where they are not text; text is
/// served from the keys themselves, so that no body holds its strings twice.
#[derive(Debug)]
pub struct ComposeBody {
    keys: Mapping,
    /// The healthcheck's timing, when Compose will run a healthcheck.
    healthcheck: Option<Timing>,
    origin: TestOrigin,
    /// `healthcheck.disable` is set in the body (by the catalogue or the passthrough).
    pub healthcheck_disabled: bool,
    pub restart: Option<Restart>,
    /// `restart` comes from the environment, without a default: `restart` is then `None`
    /// although the key is set.
    pub restart_unknown: bool,
    stop_grace_period: Option<Span>,
    /// What the body says that Compose would refuse, for validation to report: the key's dotted
    /// path (`healthcheck.interval`) and the message.
    problems: Vec<(String, String)>,
}

/// The values of a healthcheck's durations; their text stays in the body. `Some(None)` is a
/// duration Compose takes from the environment, with no default to know it by.
#[derive(Debug, Clone, Default)]
struct Timing {
    interval: Option<Option<Span>>,
    timeout: Option<Option<Span>>,
    start_period: Option<Option<Span>>,
    start_interval: Option<Option<Span>>,
    retries: Option<crate::model::Count>,
}

impl Timing {
    fn duration_mut(&mut self, key: HealthKey) -> Option<&mut Option<Option<Span>>> {
        match key {
            HealthKey::Interval => Some(&mut self.interval),
            HealthKey::Timeout => Some(&mut self.timeout),
            HealthKey::StartPeriod => Some(&mut self.start_period),
            HealthKey::StartInterval => Some(&mut self.start_interval),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }
}

/// The healthcheck Compose will run, as every target reads it.
#[derive(Debug, Clone)]
pub struct Healthcheck<'a> {
    /// The test in list form: a plain string is `["CMD-SHELL", line]`, as Docker reads it.
    pub test: Vec<&'a str>,
    pub origin: TestOrigin,
    pub interval: Option<Duration<'a>>,
    pub timeout: Option<Duration<'a>>,
    /// A count Compose may read from the environment: [`crate::model::Count::value`] is `None`
    /// when it has no default.
    pub retries: Option<crate::model::Count>,
    pub start_period: Option<Duration<'a>>,
    pub start_interval: Option<Duration<'a>>,
}

impl<'a> Healthcheck<'a> {
    /// The duration the body sets for `key`, if it is one of [`HealthKey::DURATIONS`].
    pub fn duration(&self, key: HealthKey) -> Option<Duration<'a>> {
        match key {
            HealthKey::Interval => self.interval,
            HealthKey::Timeout => self.timeout,
            HealthKey::StartPeriod => self.start_period,
            HealthKey::StartInterval => self.start_interval,
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }

    fn duration_mut(&mut self, key: HealthKey) -> Option<&mut Option<Duration<'a>>> {
        match key {
            HealthKey::Interval => Some(&mut self.interval),
            HealthKey::Timeout => Some(&mut self.timeout),
            HealthKey::StartPeriod => Some(&mut self.start_period),
            HealthKey::StartInterval => Some(&mut self.start_interval),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }
}

/// A duration of the body: as written there, and its value (`None` for `${VAR}` without a
/// default, which only Compose will know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration<'a> {
    pub text: &'a str,
    pub value: Option<Span>,
}

impl fmt::Display for Duration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// A `command` or `entrypoint` as the body has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandRef<'a> {
    /// A string, which Compose splits into words.
    Line(&'a str),
    Argv(Vec<&'a str>),
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
    pub fn build(kind_layer: Mapping, service: &Service, user_template: bool) -> ComposeBody {
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
    /// that is not what Compose accepts is one message in [`ComposeBody::take_problems`], and
    /// reads as absent.
    pub fn read(keys: Mapping, origin: TestOrigin) -> ComposeBody {
        let mut problems = Vec::new();
        let mut problem = |path: &str, p: String| problems.push((path.to_owned(), p));
        let (mut healthcheck, mut healthcheck_disabled) = (None, false);
        let (mut restart, mut stop_grace_period) = (None, None);
        let mut restart_unknown = false;
        // One pass over the entries: looking each key up hashed it, a cost per service that
        // the benchmark could see.
        for (key, value) in &keys {
            match key.as_str().unwrap_or_default() {
                "healthcheck" => {
                    if let Yaml::Mapping(hc) = value {
                        // `test: ["NONE"]` is Docker's other way to say it: no healthcheck runs,
                        // and a dependent asking for `service_healthy` fails at `up` ("has no
                        // healthcheck configured").
                        let test_none = hc
                            .get("test")
                            .and_then(Yaml::as_sequence)
                            .and_then(|t| t.first())
                            .and_then(Yaml::as_str)
                            == Some("NONE");
                        healthcheck_disabled =
                            test_none || hc.get("disable") == Some(&Yaml::Bool(true));
                        if !healthcheck_disabled {
                            healthcheck = read_healthcheck(hc, &mut problem);
                        }
                    }
                }
                "restart" => {
                    // Compose interpolates it; the engine judges the policy it gets, so one
                    // from the environment without a default stays unknown.
                    let parsed = value.as_str().map(Restart::parse_interpolated);
                    match parsed {
                        Some(Ok(policy)) => {
                            restart = policy;
                            restart_unknown = policy.is_none();
                        }
                        _ => problem(
                            "restart",
                            format!(
                                "restart {} is not a Compose restart policy (use \"no\", \"always\", \
                             \"on-failure\", \"on-failure:N\" or \"unless-stopped\")",
                                shown(value)
                            ),
                        ),
                    }
                }
                key @ ("command" | "entrypoint") if command_of(value).is_none() => {
                    problem(
                        key,
                        format!("{key} is neither a string nor a list of strings"),
                    );
                }
                key @ ("volumes" | "networks") if !names_a_list(key, value) => {
                    problem(key, format!("{key} is not a list of strings"));
                }
                "stop_grace_period" => {
                    stop_grace_period = duration(
                        value,
                        format_args!("stop_grace_period"),
                        format_args!("stop_grace_period"),
                        &mut problem,
                    )
                    .flatten();
                }
                _ => {}
            }
        }
        ComposeBody {
            keys,
            healthcheck,
            origin,
            healthcheck_disabled,
            restart,
            restart_unknown,
            stop_grace_period,
            problems,
        }
    }

    /// The values Compose would refuse, each as a message; empty once taken.
    pub fn take_problems(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.problems)
    }

    /// The Compose keys, as they are written.
    pub fn mapping(&self) -> &Mapping {
        &self.keys
    }

    /// The keys, for `fit`, which only leaves out or rewrites keys an older Compose
    /// or Engine cannot do: none of them is one of the facts read above.
    pub fn keys_mut(&mut self) -> &mut Mapping {
        &mut self.keys
    }

    /// A key's value, found by reading the keys in order: a body has a score of them, and
    /// looking one up hashed its name with yaml_serde's SipHash, which cost more than reading
    /// them; validation and emit ask a few dozen times per service.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.keys
            .iter()
            .find_map(|(k, v)| (k.as_str() == Some(key)).then_some(v))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether Compose will run a healthcheck, which decides what dependents may wait for.
    pub fn has_healthcheck(&self) -> bool {
        self.healthcheck.is_some()
    }

    /// The healthcheck Compose will run; `None` when there is none or it is disabled.
    pub fn healthcheck(&self) -> Option<Healthcheck<'_>> {
        let mut timing = self.healthcheck.clone()?;
        let Some(Yaml::Mapping(hc)) = self.get("healthcheck") else {
            return None;
        };
        let mut found = Healthcheck {
            test: Vec::new(),
            origin: self.origin,
            interval: None,
            timeout: None,
            retries: timing.retries.take(),
            start_period: None,
            start_interval: None,
        };
        fn with_text(text: &Yaml, value: Option<Option<Span>>) -> Option<Duration<'_>> {
            Some(Duration {
                text: text.as_str()?,
                value: value?,
            })
        }
        for (key, value) in hc {
            let Some(key) = key.as_str().and_then(HealthKey::from_name) else {
                continue;
            };
            if key == HealthKey::Test {
                found.test = match value {
                    Yaml::String(line) => vec!["CMD-SHELL", line.as_str()],
                    Yaml::Sequence(items) => items.iter().filter_map(Yaml::as_str).collect(),
                    _ => Vec::new(),
                };
            } else if let (Some(slot), Some(known)) =
                (found.duration_mut(key), timing.duration_mut(key))
            {
                *slot = with_text(value, known.take());
            }
        }
        Some(found)
    }

    pub fn command(&self) -> Option<CommandRef<'_>> {
        command_of(self.get("command")?)
    }

    pub fn entrypoint(&self) -> Option<CommandRef<'_>> {
        command_of(self.get("entrypoint")?)
    }

    /// Short-syntax mounts, as written (the long syntax passes through and names none).
    pub fn volumes(&self) -> impl Iterator<Item = &str> {
        let mounts: &[Yaml] = match self.get("volumes") {
            Some(Yaml::Sequence(items)) if items.iter().all(Yaml::is_string) => items,
            _ => &[],
        };
        mounts.iter().filter_map(Yaml::as_str)
    }

    /// The networks the service joins.
    pub fn networks(&self) -> Vec<&str> {
        self.get("networks")
            .and_then(|v| names("networks", v))
            .unwrap_or_default()
    }

    /// The models the service is bound to: the short list's names or the long form's keys.
    pub fn models(&self) -> Vec<&str> {
        match self.get("models") {
            Some(Yaml::Sequence(items)) => items.iter().filter_map(Yaml::as_str).collect(),
            Some(Yaml::Mapping(m)) => m.keys().filter_map(Yaml::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Compose's `profiles`: the service starts only when one of them is enabled. Each name as
    /// Compose reads it: interpolated, at its default (`${DEBUG_PROFILE:-debug}` is `debug`,
    /// `${P:-}` the empty profile, which Compose enables when no `--profile` is given); a
    /// variable without a default is empty too, as Compose reads it without that variable.
    pub fn compose_profiles(&self) -> Vec<std::borrow::Cow<'_, str>> {
        let Some(Yaml::Sequence(items)) = self.get("profiles") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(Yaml::as_str)
            .map(|name| {
                if !name.contains('$') {
                    return std::borrow::Cow::Borrowed(name);
                }
                let text = crate::model::interpolation::with_defaults(name)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                std::borrow::Cow::Owned(text)
            })
            .collect()
    }

    pub fn stop_grace_period(&self) -> Option<Span> {
        self.stop_grace_period
    }

    /// Sets `depends_on`, the one key decided after render (by validation, once every service's
    /// healthcheck is known): every condition in the long form, refined by a `compose.depends_on`
    /// passthrough (`restart: true`).
    pub fn set_depends_on<'a>(
        &mut self,
        depends_on: impl Iterator<Item = (&'a str, Condition, DependencyOptions)>,
        passthrough: &Mapping,
    ) {
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

fn read_healthcheck(hc: &Mapping, problem: &mut impl FnMut(&str, String)) -> Option<Timing> {
    let mut timing = Timing::default();
    let mut has_test = false;
    for (key, value) in hc {
        let key = key.as_str().unwrap_or_default();
        let slot = match key {
            "test" => {
                has_test = match value {
                    Yaml::String(_) => true,
                    Yaml::Sequence(items) if items.iter().all(Yaml::is_string) => true,
                    _ => {
                        problem(
                            "healthcheck.test",
                            "healthcheck test is neither a string nor a list of strings".to_owned(),
                        );
                        false
                    }
                };
                continue;
            }
            "retries" => {
                // Compose casts an interpolated string (`"${RETRIES:-3}"`) to the number.
                let count = match value {
                    Yaml::String(text) => crate::model::Count::parse(text).map_err(Some),
                    _ => value
                        .as_u64()
                        .and_then(|r| u32::try_from(r).ok())
                        .map(crate::model::Count::number)
                        .ok_or(None),
                };
                match count {
                    Ok(count) => timing.retries = Some(count),
                    Err(reason) => problem(
                        "healthcheck.retries",
                        format!(
                            "healthcheck retries {} is not a number of attempts{}",
                            shown(value),
                            reason.map(|r| format!(": {r}")).unwrap_or_default()
                        ),
                    ),
                }
                continue;
            }
            other => match HealthKey::from_name(other).and_then(|k| timing.duration_mut(k)) {
                Some(slot) => slot,
                None => continue,
            },
        };
        *slot = duration(
            value,
            format_args!("healthcheck {key}"),
            format_args!("healthcheck.{key}"),
            problem,
        );
    }
    has_test.then_some(timing)
}

/// `what` and `path` are formatted only for a problem: every healthcheck of every body is read
/// here.
fn duration(
    value: &Yaml,
    what: fmt::Arguments,
    path: fmt::Arguments,
    problem: &mut impl FnMut(&str, String),
) -> Option<Option<Span>> {
    let parsed = match value.as_str() {
        Some(text) => crate::model::duration::parse_interpolated(text),
        None => Err(format!(
            "{} is not a duration; write e.g. \"30s\"",
            shown(value)
        )),
    };
    parsed
        .map_err(|e| problem(&path.to_string(), format!("{what}: {e}")))
        .ok()
}

/// A value as the user would have written it, for messages.
fn shown(value: &Yaml) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

fn command_of(value: &Yaml) -> Option<CommandRef<'_>> {
    match value {
        Yaml::String(line) => Some(CommandRef::Line(line)),
        Yaml::Sequence(items) => items
            .iter()
            .map(Yaml::as_str)
            .collect::<Option<Vec<_>>>()
            .map(CommandRef::Argv),
        _ => None,
    }
}

/// Whether a `volumes` or `networks` value is a shape Compose takes.
fn names_a_list(key: &str, value: &Yaml) -> bool {
    match value {
        Yaml::Sequence(items) => key == "volumes" || items.iter().all(Yaml::is_string),
        Yaml::Mapping(_) => key == "networks",
        _ => false,
    }
}

/// The names a `volumes` or `networks` value lists; `None` when it is not a shape Compose takes.
fn names<'a>(key: &str, value: &'a Yaml) -> Option<Vec<&'a str>> {
    match value {
        Yaml::Sequence(items) if items.iter().all(Yaml::is_string) => {
            Some(items.iter().filter_map(Yaml::as_str).collect())
        }
        // The long syntax (`type: volume`) is Compose's and passes through as written.
        Yaml::Sequence(_) if key == "volumes" => Some(Vec::new()),
        // A map of networks (`backend: { aliases: [...] }`) names them by its keys.
        Yaml::Mapping(m) if key == "networks" => Some(m.keys().filter_map(Yaml::as_str).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ComposeBody {
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
        );
        assert!(body.problems.is_empty(), "{:?}", body.problems);
        let hc = body.healthcheck().unwrap();
        assert_eq!(hc.test, ["CMD-SHELL", "true"]);
        assert_eq!(
            hc.interval.map(|d| (d.text, d.value)),
            Some(("7s", Some(Span::from_secs(7))))
        );
        assert_eq!(hc.retries.and_then(|r| r.value()), Some(2));
        assert_eq!(body.restart, Some(Restart::OnFailure(Some(2))));
        assert_eq!(body.command(), Some(CommandRef::Argv(vec!["serve"])));
        assert_eq!(body.volumes().collect::<Vec<_>>(), ["data:/data"]);
        assert_eq!(body.networks(), ["back"]);
    }

    #[test]
    fn a_disabled_or_testless_healthcheck_is_none() {
        let disabled = read("healthcheck: {test: [CMD, \"true\"], disable: true}\n");
        assert!(!disabled.has_healthcheck() && disabled.healthcheck_disabled);
        let none = read("healthcheck: {test: [NONE], interval: 5s}\n");
        assert!(!none.has_healthcheck() && none.healthcheck_disabled);
        assert!(disabled.healthcheck().is_none());
        assert!(!read("healthcheck: {interval: 5s}\n").has_healthcheck());
    }

    #[test]
    fn every_value_compose_would_refuse_is_reported() {
        let problems = read(
            "healthcheck: {test: [CMD, \"true\"], interval: 5, timeout: 3x}\nrestart: sometimes\n",
        )
        .take_problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|(path, p)| path == "restart" && p.starts_with("restart \"sometimes\""))
        );
    }
}
