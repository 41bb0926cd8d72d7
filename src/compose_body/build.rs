//! Building the body: the kind template's output, the keys the catalogue models laid over it
//! in conventional order, and the `compose` passthrough merged last.

use crate::key_order::{self, Draft};
use crate::model::{Condition, HealthKey};
use crate::resolve::Service;
use crate::spec::{Build, Command};
use crate::yaml::{Mapping, Value as Yaml};

/// The service's modelled keys over the kind template's output, in conventional order.
pub(super) fn overlay(mut kind_layer: Mapping, s: &Service) -> Mapping {
    // The template is the lowest layer: what any layer resets is gone from it.
    for path in &s.template_resets {
        crate::merge::remove_path(&mut kind_layer, path);
    }
    let mut body = Draft::new(kind_layer);
    if let Some(image) = &s.image {
        body.set("image", Yaml::from(image.as_str()));
    }
    if let Some(build) = &s.build {
        body.merge_key("build", build_value(build));
    }
    if let Some(command) = &s.command {
        body.set("command", command_value(command));
    }
    if let Some(entrypoint) = &s.entrypoint {
        body.set("entrypoint", command_value(entrypoint));
    }
    if let Some(restart) = &s.restart {
        body.set("restart", Yaml::from(restart.as_str()));
    }
    if !s.ports.is_empty() {
        body.merge_key("ports", strings(&s.ports));
    }
    if !s.env_file.is_empty() {
        body.merge_key("env_file", strings(&s.env_file));
    }
    if let Some(profiles) = (!s.compose_profiles.is_empty()).then_some(&s.compose_profiles) {
        body.merge_key("profiles", strings(profiles));
    }
    let volumes = with_model_cache(s);
    if !volumes.is_empty() {
        body.merge_key("volumes", strings(&volumes));
    }
    if !s.models.is_empty() {
        body.merge_key("models", models(&s.models));
    }
    if let Some(gpus) = &s.gpus {
        body.set("gpus", crate::gpus::compose(gpus));
    }
    if !s.networks.is_empty() {
        body.merge_key("networks", strings(&s.networks));
    }
    if let Some(replicas) = &s.replicas {
        let mut deploy = Mapping::new();
        deploy.insert("replicas".into(), replicas.to_yaml());
        body.merge_key("deploy", Yaml::Mapping(deploy));
    }
    merge_string_map(&mut body, "environment", &s.env);
    merge_string_map(&mut body, "labels", &s.labels);
    healthcheck(&mut body, s);
    body.merge(&s.compose);
    secrets(&mut body, s);
    // Validation fills in the conditions; holding the key's place now spares it ordering the
    // whole body again.
    if !s.depends_on.is_empty() {
        body.set("depends_on", Yaml::Mapping(Mapping::new()));
    }
    body.finish()
}

/// The service's mounts and its model cache, unless a mount of its own is on the cache's path:
/// the engine refuses two mounts on one path, and the user's choice wins.
fn with_model_cache(s: &Service) -> std::borrow::Cow<'_, [String]> {
    let Some(cache) = &s.model_cache else {
        return std::borrow::Cow::Borrowed(&s.volumes);
    };
    let target = crate::volumes::target(cache).ok();
    let taken = s
        .volumes
        .iter()
        .any(|v| crate::volumes::target(v).ok() == target);
    if taken {
        return std::borrow::Cow::Borrowed(&s.volumes);
    }
    let mut volumes = s.volumes.clone();
    volumes.push(cache.clone());
    std::borrow::Cow::Owned(volumes)
}

/// The short list when no binding names its variables, the long form otherwise (a binding
/// without them is an empty map there, which Compose reads as the short form's).
fn models(uses: &[crate::resolve::ModelUse]) -> Yaml {
    if uses
        .iter()
        .all(|m| m.endpoint_var.is_none() && m.model_var.is_none())
    {
        return Yaml::Sequence(uses.iter().map(|m| Yaml::from(m.name.as_str())).collect());
    }
    let long = uses
        .iter()
        .map(|m| {
            let mut vars = Mapping::new();
            if let Some(v) = &m.endpoint_var {
                vars.insert("endpoint_var".into(), Yaml::from(v.as_str()));
            }
            if let Some(v) = &m.model_var {
                vars.insert("model_var".into(), Yaml::from(v.as_str()));
            }
            (Yaml::from(m.name.as_str()), Yaml::Mapping(vars))
        })
        .collect();
    Yaml::Mapping(long)
}

fn healthcheck(body: &mut Draft, s: &Service) {
    let hc = &s.healthcheck;
    if hc.disable {
        let mut disabled = Mapping::new();
        disabled.insert("disable".into(), Yaml::Bool(true));
        body.set("healthcheck", Yaml::Mapping(disabled));
        return;
    }
    // The image's own HEALTHCHECK, unchanged: the profile's timings would retune it, so only
    // a `compose.healthcheck` (merged later) says anything about it.
    if s.probe == crate::probe::Probe::Image && hc.test.is_none() {
        body.remove("healthcheck");
        return;
    }
    let mut merged = match body.remove("healthcheck") {
        Some(Yaml::Mapping(m)) => Draft::new(m),
        _ => Draft::new(Mapping::new()),
    };
    if let Some(test) = &hc.test {
        merged.set("test", command_value(test));
    }
    // Timing without a test would silently keep whatever HEALTHCHECK the image has, or none.
    if !merged.contains("test") {
        return;
    }
    // In conventional order, so that ordering finds nothing to do.
    for key in HealthKey::TIMINGS {
        let value = match key {
            HealthKey::Retries => hc.retries.as_ref().map(crate::model::Count::to_yaml),
            _ => hc.duration(key).map(text),
        };
        if let Some(v) = value {
            merged.set(key.name(), v);
        }
    }
    // Built from the list at its final size: inserting key by key grew each map to room
    // for seven entries, about a kilobyte per service.
    let merged = merged.into_mapping();
    body.set("healthcheck", Yaml::Mapping(merged));
}

/// A duration as the user wrote it.
fn text(d: &crate::model::Duration) -> Yaml {
    Yaml::from(d.text())
}

/// `environment` or `labels` over the template's, by name, in either of its forms.
fn merge_string_map(body: &mut Draft, key: &str, values: &indexmap::IndexMap<String, String>) {
    if values.is_empty() {
        return;
    }
    let map: Mapping = values
        .iter()
        .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::from(v.as_str())))
        .collect();
    body.merge_key(key, Yaml::Mapping(map));
}

/// Each secret variable's file variable, set to where the secret is mounted, and the secret
/// named beside those the `compose` table names: after that table, whose `secrets` list would
/// otherwise replace muster's.
fn secrets(body: &mut Draft, s: &Service) {
    if s.secret_env.is_empty() {
        return;
    }
    let environment = match body.remove("environment") {
        // The `compose` table may write the list form, `["NAME=value"]`.
        Some(Yaml::Sequence(mut items)) => {
            for secret in &s.secret_env {
                let entry = format!("{}={}", secret.file_variable, secret.target());
                items.push(Yaml::from(entry.as_str()));
            }
            Yaml::Sequence(items)
        }
        other => {
            let mut map = match other {
                Some(Yaml::Mapping(m)) => m,
                _ => Mapping::with_capacity(s.secret_env.len()),
            };
            for secret in &s.secret_env {
                map.insert(
                    Yaml::from(secret.file_variable.as_str()),
                    Yaml::from(secret.target().as_str()),
                );
            }
            Yaml::Mapping(map)
        }
    };
    body.set("environment", environment);
    let mut list = match body.remove("secrets") {
        Some(Yaml::Sequence(items)) => items,
        _ => Vec::with_capacity(s.secret_env.len()),
    };
    for secret in &s.secret_env {
        // Mounted at `/run/secrets/NAME` already; a long entry with another `target` mounts it
        // elsewhere, and the file variable names the default place.
        let mounted = list.iter().any(|item| match item {
            Yaml::String(name) => *name == secret.secret,
            Yaml::Mapping(m) => {
                m.get("source").and_then(Yaml::as_str) == Some(secret.secret.as_str())
                    && m.get("target")
                        .and_then(Yaml::as_str)
                        .is_none_or(|t| t == secret.secret || t == secret.target())
            }
            _ => false,
        });
        if !mounted {
            list.push(Yaml::from(secret.secret.as_str()));
        }
    }
    body.set("secrets", Yaml::Sequence(list));
}

fn strings(items: &[String]) -> Yaml {
    Yaml::Sequence(items.iter().map(|s| Yaml::from(s.as_str())).collect())
}

fn command_value(command: &Command) -> Yaml {
    match command {
        Command::Line(line) => Yaml::from(line.as_str()),
        Command::Argv(argv) => strings(argv),
    }
}

fn build_value(build: &Build) -> Yaml {
    if build.dockerfile.is_none()
        && build.dockerfile_inline.is_none()
        && build.target.is_none()
        && build.args.is_none()
    {
        return Yaml::from(build.context.as_str());
    }
    let mut m = Mapping::new();
    m.insert("context".into(), Yaml::from(build.context.as_str()));
    if let Some(dockerfile) = &build.dockerfile {
        m.insert("dockerfile".into(), Yaml::from(dockerfile.as_str()));
    }
    if let Some(inline) = &build.dockerfile_inline {
        m.insert("dockerfile_inline".into(), Yaml::from(inline.as_str()));
    }
    if let Some(target) = &build.target {
        m.insert("target".into(), Yaml::from(target.as_str()));
    }
    if let Some(args) = &build.args {
        let args = args
            .iter()
            .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::from(v.0.as_str())))
            .collect();
        m.insert("args".into(), Yaml::Mapping(args));
    }
    Yaml::Mapping(m)
}

/// The body's `depends_on`, every condition in the long form.
pub(super) fn depends_on<'a>(
    depends_on: impl Iterator<Item = (&'a str, Condition, crate::spec::DependencyOptions)>,
    passthrough: &Mapping,
) -> Mapping {
    let mut deps: Mapping = depends_on
        .map(|(target, condition, options)| {
            // Collected, not inserted into an empty map, which would make room for three
            // entries: one map per dependency made this the largest part of the stack.
            let long: Mapping = [("condition".into(), Yaml::from(condition.compose_name()))]
                .into_iter()
                .chain(options.restart.map(|r| ("restart".into(), Yaml::Bool(r))))
                .chain(options.required.map(|r| ("required".into(), Yaml::Bool(r))))
                .collect();
            (Yaml::from(target), Yaml::Mapping(long))
        })
        .collect();
    if let Some(Yaml::Mapping(refined)) = passthrough.get("depends_on") {
        key_order::merge(&mut deps, refined);
    }
    deps
}
