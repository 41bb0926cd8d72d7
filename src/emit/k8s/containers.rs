//! The service's container: image, command, environment (from the project's Secret where
//! it interpolates), ports and probes.

use super::*;

/// The service's container, and whether it reads the project's Secret.
pub(super) fn container(
    ctx: &Context,
    s: &StackService,
    diagnostics: &mut Diagnostics,
) -> (Mapping, bool) {
    let service = &s.rendered.service;
    let project = &ctx.stack.project;
    let body = &s.rendered.body;
    // Interpolation Kubernetes cannot restate, gathered over the command and the environment.
    let mut defaulted: IndexSet<String> = IndexSet::new();
    let mut alternatives: IndexSet<String> = IndexSet::new();
    let mut problems: Vec<String> = Vec::new();
    let mut error = |message: String| problems.push(message);
    let mut c = Mapping::new();
    c.insert("name".into(), ctx.names.get(&service.name).into());
    if let Some(image) = body.get("image") {
        c.insert("image".into(), image.clone());
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
                let words = words
                    .iter()
                    .map(|w| {
                        let t = interpolation::translate(w);
                        referenced.extend(t.vars);
                        defaulted.extend(t.defaulted);
                        alternatives.extend(t.alternatives);
                        Yaml::from(t.text)
                    })
                    .collect();
                c.insert(key.into(), Yaml::Sequence(words));
            }
            Err(e) => error(format!("{compose_key}: {e}")),
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
            alternatives.extend(t.alternatives.iter().cloned());
            if t.whole.is_none() && t.vars.iter().any(|v| v == key) {
                // `$(PATH)` in PATH's own value names PATH itself, which is not defined yet.
                error(format!(
                    "environment `{key}` uses `${{{key}}}` in its own value, which Kubernetes \
                     cannot read from the Secret: give the Secret's part another name"
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
    // A claim's file system has `lost+found` at its root, and the postgres image's initdb
    // refuses a data directory that is not empty; its documentation's answer is PGDATA in a
    // subdirectory of the mount. A Compose volume starts empty, so only here.
    const PG_MOUNT: &str = "/var/lib/postgresql/data";
    if service.engine.as_deref() == Some("postgres")
        && !defined.iter().any(|k| k == "PGDATA")
        && body
            .volumes()
            .any(|v| crate::volumes::target(v) == Ok(PG_MOUNT))
    {
        defined.push("PGDATA".to_owned());
        env.push(plain_var("PGDATA", &format!("{PG_MOUNT}/pgdata")));
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
    if service.traits.runs_to_completion && body.restart_unknown {
        error(
            "its restart policy comes from the environment without a default, and a Job needs \
             its restartPolicy and backoffLimit: give the variable a default \
             (`${RESTART:-on-failure:3}`)"
                .to_owned(),
        );
    }
    if let Some(replicas) = service.replicas.as_ref().filter(|r| r.value().is_none()) {
        error(format!(
            "replicas `{replicas}` is read from the environment, and a Kubernetes workload needs \
             a number: give the variable a default (`${{VAR:-2}}`)"
        ));
    }
    match probes::probes(s) {
        Ok(probes) => {
            for (key, probe) in probes {
                c.insert(key.into(), Yaml::Mapping(probe));
            }
        }
        Err(e) => match e.key.and_then(|k| service.healthcheck_written(k)) {
            Some(at) => diagnostics.push(
                Diagnostic::error(format!("service `{}`: {}", service.name, e.message)).at(
                    at.source,
                    Some(at.span.clone()),
                    "set here",
                ),
            ),
            None => error(e.message),
        },
    }
    if !alternatives.is_empty() {
        error(format!(
            "{} with `:+` or `+`: the value depends on whether the variable is set, which a \
             manifest cannot say; write the value for the cluster in the entry's \
             `profiles.NAME.env`",
            list(&alternatives)
        ));
    }
    for message in problems {
        diagnostics.push(at_service(
            Diagnostic::error(format!("service `{}`: {message}", service.name)),
            project,
            service,
        ));
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

/// A Compose command as argv: a list as it is, a string split as Compose splits it.
pub(super) fn argv(command: &CommandRef) -> Result<Vec<String>, String> {
    match command {
        CommandRef::Line(line) => {
            shlex::split(line).ok_or_else(|| format!("cannot split {line:?} into words"))
        }
        CommandRef::Argv(words) => Ok(words.iter().map(|w| (*w).to_owned()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_compose() {
        let line = |text| CommandRef::Line(text);
        assert_eq!(
            argv(&line("gunicorn app --bind '0.0.0.0:8000'")).unwrap(),
            ["gunicorn", "app", "--bind", "0.0.0.0:8000"]
        );
        assert!(argv(&line("echo 'unclosed")).is_err());
    }
}
