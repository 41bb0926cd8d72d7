//! Lints: catalogues that generate a valid Compose file but run badly. Each lint is a warning
//! drawn from production practice and the healthcheck reference, pointing at the service it is
//! about; `muster check --deny-warnings` turns them into a failure. Each has a name, so that a
//! team that made a deliberate choice can allow it (`[project] allow`, `--allow`) and still deny
//! every other warning in CI.

use crate::compose_body::Healthcheck;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Condition;
use crate::model::Restart;
use crate::resolve::Service;
use crate::validate::{Stack, StackService};
use std::time::Duration;

/// A named lint: what `muster check --list-lints` shows, and what `allow` may name.
#[derive(Debug, Clone, Copy)]
pub struct Lint {
    pub name: &'static str,
    /// What it checks.
    pub checks: &'static str,
    /// Why it matters.
    pub why: &'static str,
}

pub const SLOW_PROBE_TIMEOUT: &str = "slow-probe-timeout";
pub const FEW_RETRIES: &str = "few-retries";
pub const SHORT_START_PERIOD: &str = "short-start-period";
pub const SINGLE_DOLLAR: &str = "single-dollar";
pub const RESTART_NOT_ALWAYS: &str = "restart-not-always";
pub const UNPINNED_IMAGE: &str = "unpinned-image";
pub const PLAIN_SECRET: &str = "plain-secret";
pub const UNPROBED_DEPENDENCY: &str = "unprobed-dependency";
pub const NO_AUTOHEAL: &str = "no-autoheal";
pub const PROBE_PROGRAM_MISSING: &str = "probe-program-missing";
pub const STALE_SCHEMA: &str = "stale-schema";
pub const UNKNOWN_IMAGE: &str = "unknown-image";
pub const HEALTH_ENDPOINT_OFF: &str = "health-endpoint-off";
pub const OLDER_TARGET: &str = "older-target";
pub const OPTIONAL_NEVER_READY: &str = "optional-never-ready";

/// Every lint, in the order `--list-lints` shows them.
pub const LINTS: &[Lint] = &[
    Lint {
        name: SLOW_PROBE_TIMEOUT,
        checks: "a healthcheck timeout over 10s",
        why: "a hung probe holds dependents back that long each time",
    },
    Lint {
        name: FEW_RETRIES,
        checks: "healthcheck retries under 3",
        why: "one slow answer marks the service unhealthy",
    },
    Lint {
        name: SHORT_START_PERIOD,
        checks: "a start_period under 30s for a kind slow to start (model servers, search engines)",
        why: "the service is marked unhealthy while it is still loading",
    },
    Lint {
        name: SINGLE_DOLLAR,
        checks: "a single `$` in a healthcheck you wrote",
        why: "Compose fills it from the host's environment, not the container's",
    },
    Lint {
        name: RESTART_NOT_ALWAYS,
        checks: "a restart policy other than `always` in prod (jobs excepted)",
        why: "`always` brings a service back after a crash and after a reboot",
    },
    Lint {
        name: UNPINNED_IMAGE,
        checks: "a `latest` or untagged image in prod",
        why: "`latest` changes under you: two hosts, or two days, run different code",
    },
    Lint {
        name: PLAIN_SECRET,
        checks: "a PASSWORD, SECRET, TOKEN or API_KEY written as a plain value in prod",
        why: "the secret ends up in the repository and in the generated file",
    },
    Lint {
        name: UNPROBED_DEPENDENCY,
        checks: "a service others depend on that has no healthcheck",
        why: "its dependents wait only until it has started, not until it is ready",
    },
    Lint {
        name: NO_AUTOHEAL,
        checks: "prod without `autoheal = true` in the profile",
        why: "outside Swarm, Docker restarts containers that exit, never ones that turn unhealthy",
    },
    Lint {
        name: PROBE_PROGRAM_MISSING,
        checks: "a healthcheck you wrote that calls a program the image does not have",
        why: "a probe that cannot run never turns healthy (unless the image has more than muster knows)",
    },
    Lint {
        name: UNKNOWN_IMAGE,
        checks: "an image muster has no facts on, probed with python because `probe` is `auto`",
        why: "a python probe in an image without python never turns healthy; `probe` says which client it has",
    },
    Lint {
        name: HEALTH_ENDPOINT_OFF,
        checks: "an image whose health endpoint is off by default (Traefik's ping, Keycloak's health) with nothing in `env` or `command` turning it on",
        why: "the probe then fails for ever, unless a configuration file muster cannot read enables it",
    },
    Lint {
        name: STALE_SCHEMA,
        checks: "a muster.schema.json beside the catalogue that lists other kinds than it can use",
        why: "editors then flag a kind of your templates folder as unknown, or offer a removed one",
    },
    Lint {
        name: OPTIONAL_NEVER_READY,
        checks: "an optional dependency (`required = false`) asked to be `healthy` without a healthcheck",
        why: "Compose starts the dependent at once instead of waiting, whatever the condition says",
    },
    Lint {
        name: OLDER_TARGET,
        checks: "a key the declared Compose or Engine (`[project] requires`) cannot do, left out or rewritten",
        why: "the service runs without it there: the warning says what that changes",
    },
];

/// The names of every lint.
pub fn names() -> impl Iterator<Item = &'static str> {
    LINTS.iter().map(|l| l.name)
}

/// `muster check --list-lints`: one lint a paragraph, its name first.
pub fn list() -> String {
    let width = LINTS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in LINTS {
        out.push_str(&format!(
            "{:width$}  {}\n{:width$}  why: {}\n",
            l.name, l.checks, "", l.why
        ));
    }
    out.push_str(
        "\nallow one for the catalogue with `[project] allow = [\"NAME\"]`, or for one run with \
         `--allow NAME`\n",
    );
    out
}

/// Substrings of environment variable names that hold secrets.
const SECRET_NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "PRIVATE_KEY",
];

pub fn lint(stack: &Stack, diagnostics: &mut Diagnostics) {
    let prod = stack.project.profiles.iter().any(|p| p == "prod");
    let catalogue = stack.project.catalogue_source;
    for s in &stack.services {
        let service = &s.rendered.service;
        let warn = |(code, message): (&'static str, String)| {
            Diagnostic::warning(format!("service `{}`: {message}", service.name))
                .with_code(code)
                .at(catalogue, Some(service.name_span.clone()), "this service")
        };
        let mut found: Vec<Diagnostic> = Vec::new();
        // The body's healthcheck and restart, not the catalogue's: what the `compose` table
        // set is what will run.
        if let Some(hc) = s.rendered.body.healthcheck() {
            healthcheck_lints(service, &hc, &mut |m| found.push(warn(m)));
        }
        if prod {
            prod_lints(service, s.rendered.body.restart, &mut |m| {
                found.push(warn(m))
            });
        }
        if let Some(message) = unhealthy_dependency_target(stack, s) {
            found.push(warn((UNPROBED_DEPENDENCY, message)));
        }
        for d in found {
            diagnostics.push(d);
        }
    }
    if prod
        && !stack.project.autoheal
        && stack.services.iter().any(|s| s.rendered.has_healthcheck())
    {
        diagnostics.push(
            Diagnostic::warning(
                "outside Swarm, Docker restarts containers that exit, never ones that turn unhealthy",
            )
            .with_code(NO_AUTOHEAL)
            .with_note(
                "a hung service stays unhealthy until someone restarts it: set `autoheal = true` \
                 in the profile, or deploy with `--target swarm`",
            ),
        );
    }
}

/// What a lint found: its name and the message.
type Finding = (&'static str, String);

fn healthcheck_lints(service: &Service, hc: &Healthcheck, warn: &mut dyn FnMut(Finding)) {
    // A duration Compose reads from the environment counts at its default; without one there
    // is nothing to judge.
    let seconds = |d: Option<crate::compose_body::Duration>| d.and_then(|d| d.value);
    if let Some(timeout) = seconds(hc.timeout).filter(|t| *t > Duration::from_secs(10)) {
        warn((
            SLOW_PROBE_TIMEOUT,
            format!(
                "healthcheck timeout {}s is over 10s: a hung probe holds dependents back that long each time",
                timeout.as_secs()
            ),
        ));
    }
    if let Some(retries) = hc
        .retries
        .as_ref()
        .and_then(crate::model::Count::value)
        .filter(|r| *r < 3)
    {
        warn((
            FEW_RETRIES,
            format!(
                "healthcheck retries {retries} is under 3: one slow answer marks the service unhealthy"
            ),
        ));
    }
    let start_period_unknown = hc.start_period.is_some_and(|d| d.value.is_none());
    if service.traits.slow_to_start && !start_period_unknown {
        let start = seconds(hc.start_period).unwrap_or_default();
        if start < Duration::from_secs(30) {
            warn((
                SHORT_START_PERIOD,
                format!(
                    "start_period {}s is under 30s, and kind `{}` takes time to load",
                    start.as_secs(),
                    service.kind
                ),
            ));
        }
    }
    // Templates double every `$` themselves.
    if hc.origin.is_users() {
        let text = hc.test.join(" ");
        if text.replace("$$", "").contains('$') {
            warn((
                SINGLE_DOLLAR,
                "its healthcheck has a single `$`: Compose substitutes it from the host's \
                 environment when it reads the file; write `$$` for the container's variable"
                    .to_owned(),
            ));
        }
    }
}

fn prod_lints(service: &Service, restart: Option<Restart>, warn: &mut dyn FnMut(Finding)) {
    if !service.traits.runs_to_completion
        && let Some(restart) = restart.filter(|r| *r != Restart::Always)
    {
        warn((
            RESTART_NOT_ALWAYS,
            format!(
                "restart is `{restart}` in prod; `always` brings it back after a crash and a reboot"
            ),
        ));
    }
    if let Some(image) = &service.image {
        let reference = crate::images::ImageRef::parse(image);
        if reference.tag.is_none_or(|t| t == "latest") && !image.contains('@') {
            warn((
                UNPINNED_IMAGE,
                format!(
                    "image `{image}` is not pinned: `latest` changes under you; name a version tag"
                ),
            ));
        }
    }
    for (key, value) in &service.env {
        let secret = SECRET_NAMES
            .iter()
            .any(|s| key.to_ascii_uppercase().contains(s));
        if secret && !value.is_empty() && !value.contains("${") {
            warn((
                PLAIN_SECRET,
                format!(
                    "`{key}` is a plain value in the catalogue; write `{key} = \"${{{key}:?set {key} in .env}}\"` \
                 so the secret stays out of the file"
                ),
            ));
        }
    }
}

/// A service others wait for that has no healthcheck: they wait only until it has started.
fn unhealthy_dependency_target(stack: &Stack, target: &StackService) -> Option<String> {
    let name = &target.rendered.service.name;
    if target.rendered.has_healthcheck() || target.rendered.service.traits.runs_to_completion {
        return None;
    }
    let dependents: Vec<&str> = stack
        .services
        .iter()
        .filter(|s| {
            s.depends_on
                .iter()
                .any(|e| &e.target == name && e.condition == Condition::Started)
        })
        .map(|s| s.rendered.service.name.as_str())
        .collect();
    (!dependents.is_empty()).then(|| {
        format!(
            "{} depend on it, but it has no healthcheck: they wait only until it has started",
            dependents
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}
