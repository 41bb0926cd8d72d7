//! Lints: catalogues that generate a valid Compose file but run badly. Each lint is a warning
//! drawn from production practice and the healthcheck reference, pointing at the service it is
//! about; `muster check --deny-warnings` turns them into a failure.

use crate::compose_body::Healthcheck;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Condition;
use crate::model::Restart;
use crate::resolve::Service;
use crate::validate::{Stack, StackService};
use std::time::Duration;

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
        let warn = |message: String| {
            Diagnostic::warning(format!("service `{}`: {message}", service.name)).at(
                catalogue,
                Some(service.name_span.clone()),
                "this service",
            )
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
            found.push(warn(message));
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
            .with_note(
                "a hung service stays unhealthy until someone restarts it: set `autoheal = true` \
                 in the profile, or deploy with `--target swarm`",
            ),
        );
    }
}

fn healthcheck_lints(service: &Service, hc: &Healthcheck, warn: &mut dyn FnMut(String)) {
    // A duration Compose reads from the environment counts at its default; without one there
    // is nothing to judge.
    let seconds = |d: Option<crate::compose_body::Duration>| d.and_then(|d| d.value);
    if let Some(timeout) = seconds(hc.timeout).filter(|t| *t > Duration::from_secs(10)) {
        warn(format!(
            "healthcheck timeout {}s is over 10s: a hung probe holds dependents back that long each time",
            timeout.as_secs()
        ));
    }
    if let Some(retries) = hc.retries.filter(|r| *r < 3) {
        warn(format!(
            "healthcheck retries {retries} is under 3: one slow answer marks the service unhealthy"
        ));
    }
    let start_period_unknown = hc.start_period.is_some_and(|d| d.value.is_none());
    if service.traits.slow_to_start && !start_period_unknown {
        let start = seconds(hc.start_period).unwrap_or_default();
        if start < Duration::from_secs(30) {
            warn(format!(
                "start_period {}s is under 30s, and kind `{}` takes time to load",
                start.as_secs(),
                service.kind
            ));
        }
    }
    // Templates double every `$` themselves.
    if hc.origin.is_users() {
        let text = hc.test.join(" ");
        if text.replace("$$", "").contains('$') {
            warn(
                "its healthcheck has a single `$`: Compose substitutes it from the host's \
                 environment when it reads the file; write `$$` for the container's variable"
                    .to_owned(),
            );
        }
    }
}

fn prod_lints(service: &Service, restart: Option<Restart>, warn: &mut dyn FnMut(String)) {
    if !service.traits.runs_to_completion
        && let Some(restart) = restart.filter(|r| *r != Restart::Always)
    {
        warn(format!(
            "restart is `{restart}` in prod; `always` brings it back after a crash and a reboot"
        ));
    }
    if let Some(image) = &service.image {
        let reference = crate::images::ImageRef::parse(image);
        if reference.tag.is_none_or(|t| t == "latest") && !image.contains('@') {
            warn(format!(
                "image `{image}` is not pinned: `latest` changes under you; name a version tag"
            ));
        }
    }
    for (key, value) in &service.env {
        let secret = SECRET_NAMES
            .iter()
            .any(|s| key.to_ascii_uppercase().contains(s));
        if secret && !value.is_empty() && !value.contains("${") {
            warn(format!(
                "`{key}` is a plain value in the catalogue; write `{key} = \"${{{key}:?set {key} in .env}}\"` \
                 so the secret stays out of the file"
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
