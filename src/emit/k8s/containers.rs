//! The service's container: image, command, environment (from the project's Secret where
//! it interpolates), ports and probes.

use super::*;
use crate::model::HealthKey;
use crate::model::command_line::Atom;

/// The service's container, and whether it reads the project's Secret.
///
/// Every string Compose interpolates is read here as Compose reads it, before anything else
/// (`interpolation.rs`): a command line is split around each `${...}` as Compose splits the text
/// its value leaves there, so one reference stays in one argument whatever its default or
/// message holds. Each string is then written in the form its place in the manifest takes: the
/// environment, command and args with `$(VAR)` (Kubernetes expands those), a shell probe with the
/// shell's `${VAR}`, an image as plain text, which cannot read a variable at all.
pub(super) fn container(
    ctx: &Context,
    s: &StackService,
    diagnostics: &mut Diagnostics,
) -> (Mapping, bool) {
    let service = &s.rendered.service;
    let project = &ctx.stack.project;
    let body = &s.rendered.body;
    // Interpolation Kubernetes cannot restate, gathered over the container's strings.
    let mut defaulted: IndexSet<String> = IndexSet::new();
    let mut errors: Vec<Diagnostic> = Vec::new();
    let error = |path: &[&str], message: String| {
        ctx.locate.at(
            Diagnostic::error(format!("service `{}`: {message}", service.name)),
            project,
            service,
            path,
            "this value",
        )
    };
    let alternatives = |key: &str, vars: &[String]| {
        format!(
            "`{key}` uses {} with `:+` or `+`: its value depends on whether the variable is \
             set, which a manifest cannot say; write the value for the cluster in the entry's \
             `profiles.NAME`",
            vars.iter()
                .map(|v| format!("`${{{v}}}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut c = Mapping::new();
    c.insert("name".into(), ctx.names.get(&service.name).into());
    if let Some(image) = body.get("image").and_then(Yaml::as_str) {
        let parsed = interpolation::parse(image);
        defaulted.extend(parsed.defaulted.iter().cloned());
        if !parsed.alternatives.is_empty() {
            errors.push(error(
                &["image"],
                alternatives("image", &parsed.alternatives),
            ));
        }
        match interpolation::literal(&parsed.atoms) {
            Ok(text) => {
                c.insert("image".into(), text.into());
            }
            Err(vars) => errors.push(error(
                &["image"],
                format!(
                    "image `{image}` reads `${{{}}}` from the environment, and Kubernetes pulls \
                     the image the manifest names: give the variable a default \
                     (`${{{0}:-1.0}}`), or set the image with `kustomize edit set image`",
                    vars[0]
                ),
            )),
        }
    }
    // Docker's entrypoint is Kubernetes' command, and Docker's command its args.
    let mut referenced: Vec<String> = Vec::new();
    for (compose_key, key, value) in [
        ("entrypoint", "command", body.entrypoint()),
        ("command", "args", body.command()),
    ] {
        let Some(value) = value else {
            continue;
        };
        match argv(&value) {
            Ok(words) => {
                let mut out = Vec::new();
                for word in words {
                    defaulted.extend(word.defaulted);
                    if !word.alternatives.is_empty() {
                        errors.push(error(
                            &[compose_key],
                            alternatives(compose_key, &word.alternatives),
                        ));
                    }
                    for atom in &word.atoms {
                        if let Atom::Value(v) = atom {
                            referenced.push(v.clone());
                        }
                    }
                    out.push(Yaml::from(interpolation::expanded(&word.atoms)));
                }
                c.insert(key.into(), Yaml::Sequence(out));
            }
            Err(e) => errors.push(error(&[compose_key], format!("{compose_key}: {e}"))),
        }
    }
    if let Some(port) = service.port {
        let mut p = Mapping::new();
        p.insert("containerPort".into(), port.into());
        c.insert("ports".into(), Yaml::Sequence(vec![Yaml::Mapping(p)]));
    }
    let env_file = body.contains_key("env_file");
    if env_file {
        // Compose reads env files on the host; the Secret is made from the same files.
        let mut from = Mapping::new();
        from.insert("secretRef".into(), Yaml::Mapping(name_map(ctx.secret)));
        c.insert("envFrom".into(), Yaml::Sequence(vec![Yaml::Mapping(from)]));
    }
    let mut env: Vec<Yaml> = Vec::new();
    let mut defined: Vec<String> = Vec::new();
    if let Some(Yaml::Mapping(environment)) = body.get("environment") {
        for (key, value) in environment {
            let (Some(key), Some(value)) = (key.as_str(), value.as_str()) else {
                continue;
            };
            let t = interpolation::translate(value);
            defaulted.extend(t.defaulted.iter().cloned());
            if !t.alternatives.is_empty() {
                errors.push(error(
                    &["env", key],
                    alternatives(&format!("env.{key}"), &t.alternatives),
                ));
            }
            if t.whole.is_none() && t.vars.iter().any(|v| v == key) {
                // `$(PATH)` in PATH's own value names PATH itself, which is not defined yet.
                errors.push(error(
                    &["env", key],
                    format!(
                        "environment `{key}` uses `${{{key}}}` in its own value, which Kubernetes \
                         cannot read from the Secret: give the Secret's part another name"
                    ),
                ));
            }
            defined.push(key.to_owned());
            env.push(match t.whole {
                Some(var) => secret_var(key, &var, ctx.secret),
                None => {
                    referenced.extend(t.vars);
                    plain_var(key, &t.text)
                }
            });
        }
    }
    // A claim's file system has `lost+found` at its root, and an image that refuses to
    // initialise a data directory that is not empty (PostgreSQL's initdb) is told a
    // subdirectory of the mount instead: its documentation's answer. A Compose volume starts
    // empty, so only here.
    if let Some(data) = service.engine.as_deref().and_then(crate::images::data_dir)
        && !defined.iter().any(|k| k == data.variable)
        && body
            .volumes()
            .any(|v| crate::volumes::target(v) == Ok(data.path))
    {
        defined.push(data.variable.to_owned());
        env.push(plain_var(
            data.variable,
            &format!("{}/{}", data.path, data.subdirectory),
        ));
    }
    if service.traits.runs_to_completion && body.restart_unknown {
        errors.push(error(
            &["restart"],
            "its restart policy comes from the environment without a default, and a Job needs \
             its restartPolicy and backoffLimit: give the variable a default \
             (`${RESTART:-on-failure:3}`)"
                .to_owned(),
        ));
    }
    if let Some(replicas) = service.replicas.as_ref().filter(|r| r.value().is_none()) {
        errors.push(error(
            &["replicas"],
            format!(
                "replicas `{replicas}` is read from the environment, and a Kubernetes workload \
                 needs a number: give the variable a default (`${{VAR:-2}}`)"
            ),
        ));
    }
    let mut probe_handlers = Vec::new();
    match probes::probes(s) {
        Ok(found) => {
            probe_handlers = found.probes;
            defaulted.extend(found.defaulted);
            // A shell probe reads the host's variables from the container's environment.
            referenced.extend(found.vars.into_iter().filter(|v| !defined.contains(v)));
        }
        Err(e) => match e.key.and_then(|k| service.healthcheck_written(k)) {
            Some(at) => diagnostics.push(
                Diagnostic::error(format!("service `{}`: {}", service.name, e.message)).at(
                    at.source,
                    Some(at.span.clone()),
                    "set here",
                ),
            ),
            None => errors.push(error(
                &["healthcheck", e.key.unwrap_or(HealthKey::Test).name()],
                e.message,
            )),
        },
    }
    // A `$(VAR)` expands only from variables defined before it, so the Secret's variables that
    // other values use come first.
    let mut helpers: IndexSet<String> = referenced.into_iter().collect();
    helpers.retain(|v| !defined.contains(v));
    let uses_secret = env_file
        || !helpers.is_empty()
        || env
            .iter()
            .any(|e| e.as_mapping().is_some_and(|m| m.contains_key("valueFrom")));
    let env: Vec<Yaml> = helpers
        .iter()
        .map(|v| secret_var(v, v, ctx.secret))
        .chain(env)
        .collect();
    if !env.is_empty() {
        c.insert("env".into(), Yaml::Sequence(env));
    }
    for (key, probe) in probe_handlers {
        c.insert(key.into(), Yaml::Mapping(probe));
    }
    for d in errors {
        diagnostics.push(d);
    }
    if !defaulted.is_empty() {
        diagnostics.push(at_service(
            Diagnostic::warning(format!(
                "service `{}`: Kubernetes has no defaults: {} written as the default, as Compose \
                 reads it with the variable unset; the Secret's value is not read",
                service.name,
                list(&defaulted)
            )),
            project,
            service,
        ));
    }
    (c, uses_secret)
}

fn list(vars: &IndexSet<String>) -> String {
    vars.iter()
        .map(|v| format!("`${{{v}}}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn name_map(name: &str) -> Mapping {
    let mut m = Mapping::new();
    m.insert("name".into(), name.into());
    m
}

pub(super) fn plain_var(name: &str, value: &str) -> Yaml {
    let mut m = name_map(name);
    m.insert("value".into(), value.into());
    Yaml::Mapping(m)
}

pub(super) fn secret_var(name: &str, key: &str, secret: &str) -> Yaml {
    let mut reference = name_map(secret);
    reference.insert("key".into(), key.into());
    let mut from = Mapping::new();
    from.insert("secretKeyRef".into(), Yaml::Mapping(reference));
    let mut m = name_map(name);
    m.insert("valueFrom".into(), Yaml::Mapping(from));
    Yaml::Mapping(m)
}

/// A Compose command as the words Compose runs, each read for interpolation: a list as it is,
/// a string split as Compose splits it (go-shellwords, `model/command_line.rs`) after reading
/// its interpolation, so that a `${...}` is part of one word whatever its text holds.
pub(super) fn argv(command: &CommandRef) -> Result<Vec<interpolation::Parsed>, String> {
    match command {
        CommandRef::Line(line) => {
            let parsed = interpolation::parse(line);
            let read = crate::model::command_line::read(&parsed.atoms)
                .map_err(|e| format!("Compose cannot split {line:?} into words: {e}"))?;
            let mut words: Vec<interpolation::Parsed> = read
                .words
                .into_iter()
                .map(|atoms| interpolation::Parsed {
                    atoms,
                    defaulted: Vec::new(),
                    alternatives: Vec::new(),
                })
                .collect();
            // What the line as a whole wrote as defaults, or cannot write, is said once.
            if let Some(first) = words.first_mut() {
                first.defaulted = parsed.defaulted;
                first.alternatives = parsed.alternatives;
            }
            Ok(words)
        }
        CommandRef::Argv(words) => Ok(words.iter().map(|w| interpolation::parse(w)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        argv(&CommandRef::Line(line))
            .unwrap()
            .iter()
            .map(|w| interpolation::expanded(&w.atoms))
            .collect()
    }

    #[test]
    fn commands_split_like_compose() {
        assert_eq!(
            args("gunicorn app --bind '0.0.0.0:8000'"),
            ["gunicorn", "app", "--bind", "0.0.0.0:8000"]
        );
        assert!(argv(&CommandRef::Line("echo 'unclosed")).is_err());
    }

    #[test]
    fn interpolation_is_read_before_the_line_is_split() {
        // The message's spaces are no word breaks: the reference is one argument.
        assert_eq!(
            args("redis-server --requirepass ${REDIS_PASSWORD:?set it in .env}"),
            ["redis-server", "--requirepass", "$(REDIS_PASSWORD)"]
        );
        // A default is text Compose splits, as it does with the variable unset.
        assert_eq!(args("serve ${OPTS:--a -b}"), ["serve", "-a", "-b"]);
        assert_eq!(args("echo '$$HOME' \"${A}x\""), ["echo", "$$HOME", "$(A)x"]);
    }
}
