//! Lints: catalogues that generate a valid Compose file but run badly. Each lint is a warning
//! drawn from production practice and the healthcheck reference, pointing at the service it is
//! about; `muster check --deny-warnings` turns them into a failure. Each has a name, so that a
//! team that made a deliberate choice can allow it (`[project] allow`, `--allow`) and still deny
//! every other warning in CI.

mod exposure;

use crate::compose_body::{CommandRef, Healthcheck};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Condition;
use crate::model::{HealthKey, Lint, Restart};
use crate::resolve::{Service, Written};
use crate::validate::{Stack, StackService};
use crate::yaml::Value as Yaml;
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

/// Whether a variable's name says it holds a secret (`DB_PASSWORD`, `api_token`).
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAMES.iter().any(|s| upper.contains(s))
}

pub fn lint(stack: &Stack, diagnostics: &mut Diagnostics) {
    let project = &stack.project;
    let prod = project.production;
    let catalogue = project.catalogue_source;
    // Restart policies one profile section set for many services, said once at that section.
    let mut by_profile: Vec<(Written, Restart, Vec<&str>)> = Vec::new();
    for s in &stack.services {
        let service = &s.rendered.service;
        let warn = |(lint, message): Finding| {
            Diagnostic::warning(format!("service `{}`: {message}", service.name))
                .with_lint(lint)
                .at(catalogue, Some(service.name_span.clone()), "this service")
        };
        let mut found: Vec<Diagnostic> = Vec::new();
        // The body's healthcheck and restart, not the catalogue's: what the `compose` table
        // set is what will run.
        if let Some(hc) = s.rendered.body.healthcheck() {
            healthcheck_lints(service, &hc, &mut |(m, key)| {
                found.push(match key.and_then(|k| service.healthcheck_written(k)) {
                    Some(at) => Diagnostic::warning(format!("service `{}`: {}", service.name, m.1))
                        .with_lint(m.0)
                        .at(at.source, Some(at.span.clone()), "set here"),
                    None => warn(m),
                })
            });
        }
        if let Some(message) = command_dollar(s) {
            found.push(warn((Lint::SingleDollar, message)));
        }
        if let Some(message) = command_cut(s) {
            found.push(warn((Lint::CommandCut, message)));
        }
        if let Some(message) = misplaced_provider_labels(s) {
            found.push(warn((Lint::ProviderLabelsMisplaced, message)));
        }
        if prod {
            if let Some(restart) = restart_not_always(s) {
                match service.restart_at.clone() {
                    // The `compose` table's `restart` is the one that runs; it has no span.
                    Some(at) if !service.compose.contains_key("restart") => {
                        if at.profile.is_some() {
                            match by_profile.iter_mut().find(|(w, ..)| same_place(w, &at)) {
                                Some((.., names)) => names.push(&service.name),
                                None => by_profile.push((at, restart, vec![&service.name])),
                            }
                        } else {
                            found.push(
                                Diagnostic::warning(format!(
                                    "service `{}`: restart is `{restart}` in production profile \
                                     `{}`; `always` brings it back after a crash and a reboot",
                                    service.name, project.profile
                                ))
                                .with_lint(Lint::RestartNotAlways)
                                .at(
                                    at.source,
                                    Some(at.span),
                                    "set here",
                                ),
                            );
                        }
                    }
                    _ => found.push(warn((
                        Lint::RestartNotAlways,
                        format!(
                            "restart is `{restart}` in production profile `{}`; `always` brings \
                             it back after a crash and a reboot",
                            project.profile
                        ),
                    ))),
                }
            }
            prod_lints(s, &mut |m| found.push(warn(m)));
            found.extend(exposure::lints(s, project));
        }
        if let Some(message) = unhealthy_dependency_target(stack, s) {
            found.push(warn((Lint::UnprobedDependency, message)));
        }
        for d in found {
            diagnostics.push(d);
        }
    }
    for (at, restart, names) in by_profile {
        let profile = at.profile.as_deref().unwrap_or_default();
        // Said of the profile that set it; of the one selected too, when that one extends it.
        let selected = if profile == project.profile {
            format!("production profile `{profile}`")
        } else {
            format!(
                "profile `{profile}`, which production profile `{}` extends,",
                project.profile
            )
        };
        diagnostics.push(
            Diagnostic::warning(format!(
                "{selected} sets restart `{restart}` for {}; `always` brings a service back \
                 after a crash and a reboot",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
            .with_lint(Lint::RestartNotAlways)
            .at(
                at.source,
                Some(at.span),
                "set here for every service it covers",
            ),
        );
    }
    if prod && !project.autoheal && stack.services.iter().any(|s| s.rendered.has_healthcheck()) {
        diagnostics.push(
            Diagnostic::warning(format!(
                "outside Swarm, Docker restarts containers that exit, never ones that turn \
                 unhealthy (production profile `{}`)",
                project.profile
            ))
            .with_lint(Lint::NoAutoheal)
            .with_note(
                "a hung service stays unhealthy until someone restarts it: set `autoheal = true` \
                 in the profile, or deploy with `--target swarm`",
            ),
        );
    }
}

/// Provider labels in `deploy.labels`, which only Swarm reads (and muster writes them there for
/// Swarm from `labels`).
fn misplaced_provider_labels(s: &StackService) -> Option<String> {
    let deploy_labels = s.rendered.body.get("deploy")?.get("labels")?.as_mapping()?;
    let keys: Vec<String> = deploy_labels
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| crate::model::provider_labels::read_from_service(k).is_some())
        .map(|k| format!("`{k}`"))
        .collect();
    (!keys.is_empty()).then(|| {
        format!(
            "{} in `deploy.labels`: Compose puts none of them on the container, so Traefik's \
             Docker provider does not see them; write them in `labels` (muster moves them to \
             `deploy.labels` for `--target swarm`)",
            keys.join(", ")
        )
    })
}

fn same_place(a: &Written, b: &Written) -> bool {
    a.source == b.source && a.span == b.span
}

/// A long-running service whose restart policy is not `always`.
fn restart_not_always(s: &StackService) -> Option<Restart> {
    if s.rendered.service.traits.runs_to_completion {
        return None;
    }
    s.rendered.body.restart.filter(|r| *r != Restart::Always)
}

/// A shell-style `$NAME` in the command or entrypoint: Compose replaces it with the host's
/// value (or nothing) when it reads the file, so `sh -c "echo $HOME"` never sees the
/// container's. A braced `${NAME}` reads as meant for Compose (`--port ${PORT:-8000}`).
fn command_dollar(s: &StackService) -> Option<String> {
    let body = &s.rendered.body;
    for (key, command) in [
        ("command", body.command()),
        ("entrypoint", body.entrypoint()),
    ] {
        let Some(command) = command else { continue };
        let words = match command {
            CommandRef::Line(line) => vec![line],
            CommandRef::Argv(argv) => argv,
        };
        if let Some(name) = words.iter().find_map(|w| bare_variable(w)) {
            return Some(format!(
                "its {key} has `${name}`, which Compose fills from the host's environment when \
                 it reads the file; write `$${name}` for the container's variable, or \
                 `${{{name}}}` if the host's value is meant"
            ));
        }
    }
    None
}

/// A command string Compose stops reading at a shell operator, and what it drops.
fn command_cut(s: &StackService) -> Option<String> {
    let body = &s.rendered.body;
    [
        ("command", body.command()),
        ("entrypoint", body.entrypoint()),
    ]
    .into_iter()
    .find_map(|(key, command)| match command? {
        CommandRef::Line(line) => match crate::model::command_line::split(line) {
            Ok(crate::model::command_line::Split::CutAt(at)) => Some(format!(
                "its {key} `{line}` is cut at `{}`: Compose splits the string into words, not \
                 as a shell, and drops `{}`; write `[\"sh\", \"-c\", \"...\"]` for a shell",
                &line[at..at + 1],
                line[at..].trim()
            )),
            _ => None,
        },
        CommandRef::Argv(_) => None,
    })
}

/// The first `$NAME` in `text` that Compose interpolates (not `$$NAME`, not `${NAME}`).
fn bare_variable(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
            continue;
        }
        let end = after
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(after.len());
        if end > 0 && after.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic()) {
            return Some(&after[..end]);
        }
        rest = after;
    }
    None
}

/// What a lint found: its name and the message.
type Finding = (Lint, String);

/// A finding about one healthcheck key, which the caller places where the key was written.
type KeyFinding = (Finding, Option<HealthKey>);

fn healthcheck_lints(service: &Service, hc: &Healthcheck, warn: &mut dyn FnMut(KeyFinding)) {
    // A duration Compose reads from the environment counts at its default; without one there
    // is nothing to judge.
    let seconds = |d: Option<crate::compose_body::Duration>| d.and_then(|d| d.value);
    if let Some(timeout) = seconds(hc.timeout).filter(|t| *t > Duration::from_secs(10)) {
        warn((
            (
                Lint::SlowProbeTimeout,
                format!(
                    "healthcheck timeout {}s is over 10s: a hung probe holds dependents back that long each time",
                    timeout.as_secs()
                ),
            ),
            Some(HealthKey::Timeout),
        ));
    }
    if let Some(retries) = hc
        .retries
        .as_ref()
        .and_then(crate::model::Count::value)
        .filter(|r| *r < 3)
    {
        warn((
            (
                Lint::FewRetries,
                format!(
                    "healthcheck retries {retries} is under 3: one slow answer marks the service unhealthy"
                ),
            ),
            Some(HealthKey::Retries),
        ));
    }
    let start_period_unknown = hc.start_period.is_some_and(|d| d.value.is_none());
    if service.traits.slow_to_start && !start_period_unknown {
        let start = seconds(hc.start_period).unwrap_or_default();
        if start < Duration::from_secs(30) {
            warn((
                (
                    Lint::ShortStartPeriod,
                    format!(
                        "start_period {}s is under 30s, and kind `{}` takes time to load",
                        start.as_secs(),
                        service.kind
                    ),
                ),
                Some(HealthKey::StartPeriod),
            ));
        }
    }
    // Templates double every `$` themselves.
    if hc.origin.is_users() {
        let text = hc.test.join(" ");
        if text.replace("$$", "").contains('$') {
            warn((
                (
                    Lint::SingleDollar,
                    "its healthcheck has a single `$`: Compose substitutes it from the host's \
                     environment when it reads the file; write `$$` for the container's variable"
                        .to_owned(),
                ),
                None,
            ));
        }
    }
}

fn prod_lints(s: &StackService, warn: &mut dyn FnMut(Finding)) {
    let service = &s.rendered.service;
    if let Some(image) = &service.image {
        let reference = crate::images::ImageRef::parse(image);
        if reference.tag.is_none_or(|t| t == "latest") && !image.contains('@') {
            warn((
                Lint::UnpinnedImage,
                format!(
                    "image `{image}` is not pinned: `latest` changes under you; name a version tag"
                ),
            ));
        }
    }
    let body = &s.rendered.body;
    // The body's environment, not the catalogue's `env`: one the `compose` table sets runs too.
    let environment = pairs(body.get("environment"));
    let mut named_secrets: Vec<&str> = Vec::new();
    for (key, value) in &environment {
        if plain_secret(key, value) {
            named_secrets.push(value);
            warn((
                Lint::PlainSecret,
                format!(
                    "`{key}` is a plain value in the catalogue; write `{key} = \"${{{key}:?set {key} in .env}}\"` \
                 so the secret stays out of the file"
                ),
            ));
        }
    }
    // A build argument is kept in the image's history, for whoever pulls it.
    for (key, value) in pairs(body.get("build").and_then(|b| b.get("args"))) {
        if plain_secret(key, value) {
            named_secrets.push(value);
            warn((
                Lint::PlainSecret,
                format!(
                    "build argument `{key}` is a plain value in the catalogue, and stays in the \
                     image's history; pass it as `${{{key}:?set {key} in .env}}`, or better as a \
                     build secret (`compose = {{ build = {{ secrets = [...] }} }}`)"
                ),
            ));
        }
    }
    // A value shaped like a known token or key is a secret whatever its key is called.
    let mut strings = Vec::new();
    each_string(&Yaml::Mapping(body.mapping().clone()), "", &mut strings);
    for (key, value) in strings {
        if let Some(kind) = token_shape(&value)
            && !named_secrets.contains(&value.as_str())
        {
            warn((
                Lint::PlainSecret,
                format!(
                    "`{key}` holds what looks like {kind}, written in the catalogue; read it \
                     from a variable (`${{NAME:?set NAME in .env}}`) or a secret file"
                ),
            ));
        }
    }
    for (key, value) in &environment {
        if let Some(password) = url_password(value) {
            let variable = format!("{}_PASSWORD", key.strip_suffix("_URL").unwrap_or(key));
            let suggested = value.replacen(
                &format!(":{password}@"),
                &format!(":${{{variable}:?set it in .env}}@"),
                1,
            );
            warn((
                Lint::UrlCredentials,
                format!(
                    "`{key}` has its password written inside the URL; write `{key} = \"{suggested}\"` \
                     so it stays out of the file"
                ),
            ));
        }
        if *key == "POSTGRES_HOST_AUTH_METHOD" && value.eq_ignore_ascii_case("trust") {
            warn((
                Lint::TrustAuth,
                "POSTGRES_HOST_AUTH_METHOD is `trust`: Postgres lets anyone who reaches its port \
                 in as any user without a password; remove it and set POSTGRES_PASSWORD"
                    .to_owned(),
            ));
        }
    }
}

/// The `KEY: value` pairs of an environment or `build.args`, in either of Compose's forms: a
/// mapping, or a list of `KEY=value` (an entry without `=` has no value in the file).
fn pairs(value: Option<&Yaml>) -> Vec<(&str, &str)> {
    match value {
        Some(Yaml::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
            .collect(),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str()?.split_once('='))
            .collect(),
        _ => Vec::new(),
    }
}

/// Every string under `value`, with its key path.
fn each_string(value: &Yaml, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Yaml::String(text) => out.push((path.to_owned(), text.clone())),
        Yaml::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                let path = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                each_string(v, &path, out);
            }
        }
        Yaml::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                each_string(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// What a value looks like when it has the shape of a well-known token or key: a prefix its
/// issuer documents for secret scanning, and the length that follows. Interpolated text is
/// never one.
fn token_shape(value: &str) -> Option<&'static str> {
    if crate::model::interpolation::interpolates(value) {
        return None;
    }
    let tail = |prefix: &str, min: usize| -> bool {
        value
            .split(|c: char| !(c.is_ascii_alphanumeric() || "_-".contains(c)))
            .any(|word| {
                word.strip_prefix(prefix).is_some_and(|rest| {
                    rest.len() >= min && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
    };
    let aws = value.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        w.len() == 20
            && (w.starts_with("AKIA") || w.starts_with("ASIA"))
            && w[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----") {
        Some("a private key (PEM)")
    } else if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| tail(p, 36))
        || tail("github_pat_", 40)
    {
        Some("a GitHub token")
    } else if tail("glpat-", 20) {
        Some("a GitLab token")
    } else if aws {
        Some("an AWS access key")
    } else if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"]
        .iter()
        .any(|p| value.contains(p))
    {
        Some("a Slack token")
    } else if tail("sk_live_", 20) || tail("rk_live_", 20) {
        Some("a Stripe live key")
    } else if tail("AIza", 35) {
        Some("a Google API key")
    } else if tail("npm_", 36) {
        Some("an npm token")
    } else {
        None
    }
}

/// A variable named like a secret whose value is the secret itself. Not one: a value Compose
/// interpolates, a `_FILE` variable naming the file that holds it (`POSTGRES_PASSWORD_FILE =
/// "/run/secrets/pg"`, the official images' pattern), a number or a flag
/// (`PASSWORD_MIN_LENGTH = 12`, `SECRET_ROTATION = true`): settings about secrets.
fn plain_secret(key: &str, value: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    if !SECRET_NAMES.iter().any(|s| upper.contains(s)) || value.is_empty() {
        return false;
    }
    let names_a_file = (upper.ends_with("_FILE") || upper.ends_with("_PATH"))
        && (value.starts_with('/') || value.starts_with("./"));
    let setting = value.parse::<f64>().is_ok()
        || ["true", "false", "yes", "no", "on", "off"]
            .iter()
            .any(|w| value.eq_ignore_ascii_case(w));
    !(crate::model::interpolation::interpolates(value) || names_a_file || setting)
}

/// The password of a `scheme://user:password@host` URL in `value`, when it is written out
/// rather than interpolated.
fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    let interpolated = crate::model::interpolation::interpolates(password);
    (!password.is_empty() && !interpolated).then_some(password)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes_are_told_from_settings() {
        for (value, kind) in [
            (
                "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE12",
                "a GitHub token",
            ),
            (
                "--token=ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE12",
                "a GitHub token",
            ),
            ("AKIAEXAMPLEEXAMPLE12", "an AWS access key"),
            ("sk_live_EXAMPLEexampleEXAMPLE12", "a Stripe live key"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMII...",
                "a private key (PEM)",
            ),
        ] {
            assert_eq!(token_shape(value), Some(kind), "{value}");
        }
        for value in [
            "ghp_short",
            "${GITHUB_TOKEN:?set it}",
            "AKIAEXAMPLE",
            "eu-west-1",
            "sk_test_EXAMPLEexampleEXAMPLE12",
            "-----BEGIN CERTIFICATE-----",
        ] {
            assert_eq!(token_shape(value), None, "{value}");
        }
    }
}
