//! The stack as a file for `docker stack deploy`: the Compose file, less what Swarm ignores or
//! rejects, with the restart policy where Swarm reads it.
//!
//! Healthchecks stay: Swarm, unlike a single Docker engine, replaces a task that turns unhealthy.
//! `depends_on` goes: Swarm starts every service at once and rejects the long form that Compose
//! needs for conditions (docker/cli#3880), so dependents must retry until what they need is up.

pub(crate) mod budget;

use super::{at_service, compose};
use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::key_order;
use crate::model::Restart;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};

/// The service keys of docker/cli's stack file schema (v3.14). `docker stack deploy` refuses a
/// whole file for one key outside it, so a key that reached the output through `compose` is
/// left out with a warning rather than failing the deploy.
const ACCEPTED: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "cgroupns_mode",
    "command",
    "configs",
    "container_name",
    "credential_spec",
    "depends_on",
    "deploy",
    "devices",
    "dns",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "external_links",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "network_mode",
    "networks",
    "oom_score_adj",
    "pid",
    "ports",
    "privileged",
    "read_only",
    "restart",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "volumes",
    "working_dir",
];

/// Keys the schema accepts but `docker stack deploy` ignores ("not supported for docker stack
/// deploy" in the v3 file reference). Left out, so that the file does not promise what Swarm
/// will not do. `build`, `restart` and `depends_on` are handled on their own.
const IGNORED: &[&str] = &[
    "cgroup_parent",
    "container_name",
    "devices",
    "external_links",
    "links",
    "network_mode",
    "security_opt",
    "userns_mode",
];

pub fn emit(stack: &Stack, diagnostics: &mut Diagnostics) -> String {
    super::require_images(stack, "`docker stack deploy`", diagnostics);
    let mut services = Mapping::new();
    for s in &stack.services {
        services.insert(
            Yaml::from(s.rendered.service.name.as_str()),
            Yaml::Mapping(service(s, stack, diagnostics)),
        );
    }
    warn_dropped_dependencies(stack, diagnostics);
    refuse_unreadable_sources(stack, diagnostics);
    let mut doc = compose::document(stack, services);
    // The stack is named on the command line (`docker stack deploy -c FILE NAME`); the stack file
    // schema has no top-level `name` and rejects it.
    doc.shift_remove("name");
    format!(
        "{}{}",
        super::header(&stack.project, Some("swarm")),
        crate::yaml::to_string(&doc)
    )
}

fn service(s: &StackService, stack: &Stack, diagnostics: &mut Diagnostics) -> Mapping {
    let project = &stack.project;
    let mut body = s.rendered.body.mapping().clone();
    escape_task_templates(&mut body);
    // `require_images` reported a service without an image; with one, the build is Compose's
    // business and the image is what Swarm pulls.
    body.shift_remove("build");
    body.shift_remove("depends_on");
    body.shift_remove("restart");
    gpus_and_models(s, &mut body, project, diagnostics);
    let left_out: Vec<String> = body
        .keys()
        .filter_map(Yaml::as_str)
        .filter(|k| IGNORED.contains(k) || !(ACCEPTED.contains(k) || k.starts_with("x-")))
        .map(str::to_owned)
        .collect();
    for key in &left_out {
        body.shift_remove(key.as_str());
    }
    if !left_out.is_empty() {
        diagnostics.push(at_service(
            Diagnostic::warning(format!(
                "service `{}`: `docker stack deploy` ignores or rejects {}; left out of the stack file",
                s.rendered.service.name,
                left_out
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            project,
            &s.rendered.service,
        ));
    }
    if s.rendered.service.traits.runs_to_completion {
        let deploy = body
            .entry("deploy".into())
            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        if let Yaml::Mapping(deploy) = deploy {
            // As a replicated service, a job that exited 0 is a replica down: the service never
            // converges (`docker stack deploy --detach=false` waits for ever), and under
            // `always` it runs again. A replicated job runs to completion once (Docker 23+).
            deploy
                .entry("mode".into())
                .or_insert_with(|| Yaml::from("replicated-job"));
        }
    }
    if s.rendered.body.restart_unknown {
        diagnostics.push(at_service(
            Diagnostic::warning(format!(
                "service `{}`: its restart policy comes from the environment without a default, \
                 and Swarm needs it as `deploy.restart_policy`; Swarm's own (`any`) applies",
                s.rendered.service.name
            )),
            project,
            &s.rendered.service,
        ));
    }
    if s.rendered.body.restart == Some(Restart::No)
        && !s.depends_on.is_empty()
        && let Some(first) = budget::chain_below(s, stack).first()
    {
        diagnostics.push(
            at_service(
                Diagnostic::warning(format!(
                    "service `{}` is not restarted (`restart: \"no\"`), and Swarm starts it with \
                     `{}`, before that is ready: it runs once, and fails if it needs it",
                    s.rendered.service.name, first.service
                )),
                project,
                &s.rendered.service,
            )
            .with_note(
                "give it `restart = \"on-failure:3\"`: muster then spreads the attempts over the \
                 start of everything below it (`muster explain` shows the arithmetic)",
            ),
        );
    }
    if let Some(restart) = s.rendered.body.restart {
        let deploy = body
            .entry("deploy".into())
            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        if let Yaml::Mapping(deploy) = deploy {
            // A `compose.deploy.restart_policy` of the user's own is kept as written.
            deploy.entry("restart_policy".into()).or_insert_with(|| {
                let delay = budget::budget(s, stack).and_then(|b| b.delay);
                Yaml::Mapping(restart_policy(restart, delay))
            });
        }
    }
    key_order::service(body)
}

/// Swarm has no device requests and no model runner. A number of GPUs becomes a reservation of
/// the generic resource `gpu`, which each GPU node advertises in its `daemon.json`; every GPU,
/// or GPUs by id, cannot be reserved, and models cannot be served: each is left out, and said.
fn gpus_and_models(
    s: &StackService,
    body: &mut Mapping,
    project: &crate::resolve::Project,
    diagnostics: &mut Diagnostics,
) {
    let service = &s.rendered.service;
    if let Some(value) = body.shift_remove("gpus") {
        let gpus = crate::gpus::from_body(&value);
        match gpus
            .as_ref()
            .ok()
            .and_then(crate::gpus::swarm_generic_resources)
        {
            Some(resources) => {
                let deploy = body
                    .entry("deploy".into())
                    .or_insert_with(|| Yaml::Mapping(Mapping::new()));
                if let Yaml::Mapping(deploy) = deploy {
                    let res = deploy
                        .entry("resources".into())
                        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
                    if let Yaml::Mapping(res) = res {
                        let reservations = res
                            .entry("reservations".into())
                            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
                        if let Yaml::Mapping(reservations) = reservations {
                            reservations.insert("generic_resources".into(), resources);
                        }
                    }
                }
                diagnostics.push(at_service(
                    Diagnostic::warning(format!(
                        "service `{}`: Swarm reserves GPUs as the generic resource `gpu`, which \
                         only nodes that advertise it can run",
                        service.name
                    ))
                    .with_note(
                        "on each GPU node: `\"node-generic-resources\": [\"gpu=GPU-...\"]` and \
                         `\"default-runtime\": \"nvidia\"` in /etc/docker/daemon.json, and \
                         `swarm-resource = \"DOCKER_RESOURCE_GPU\"` in the NVIDIA runtime's \
                         config.toml",
                    ),
                    project,
                    service,
                ));
            }
            None => diagnostics.push(at_service(
                Diagnostic::warning(format!(
                    "service `{}`: {}; `gpus` left out of the stack file",
                    service.name,
                    gpus.err().unwrap_or_else(|| {
                        "Swarm cannot reserve every GPU or GPUs by id".to_owned()
                    })
                ))
                .with_note(
                    "set `gpus` to a number for a reservation of the generic resource `gpu`, or \
                     run the node's default runtime as nvidia",
                ),
                project,
                service,
            )),
        }
    }
    if body.shift_remove("models").is_some() {
        diagnostics.push(at_service(
            models_warning(service, "`docker stack deploy`"),
            project,
            service,
        ));
    }
}

/// A service bound to models, on a target without Docker Model Runner. A warning, not an error:
/// a service may fall back, or be given the variables another way.
pub(super) fn models_warning(service: &crate::resolve::Service, target: &str) -> Diagnostic {
    let vars: Vec<String> = service
        .models
        .iter()
        .flat_map(|m| {
            let upper = m.name.to_uppercase().replace('-', "_");
            [
                m.endpoint_var.clone().unwrap_or(format!("{upper}_URL")),
                m.model_var.clone().unwrap_or(format!("{upper}_MODEL")),
            ]
        })
        .map(|v| format!("`{v}`"))
        .collect();
    let mut d = Diagnostic::warning(format!(
        "service `{}`: {target} has no model runner; `models` left out",
        service.name
    ));
    if !vars.is_empty() {
        d = d.with_note(format!(
            "nothing sets {}: serve the model yourself (an `ai-model` service, e.g. ollama or \
             vllm) and set them in `env`",
            vars.join(", ")
        ));
    }
    d
}

/// Compose's `restart` as Swarm's `deploy.restart_policy`. Swarm has no manual stop to survive,
/// so `unless-stopped` means what `always` means.
fn restart_policy(restart: Restart, delay: Option<std::time::Duration>) -> Mapping {
    let mut policy = Mapping::new();
    let condition = match restart {
        Restart::No => "none",
        Restart::OnFailure(_) => "on-failure",
        Restart::Always | Restart::UnlessStopped => "any",
    };
    policy.insert("condition".into(), condition.into());
    if let Some(delay) = delay {
        policy.insert("delay".into(), format!("{}s", delay.as_secs()).into());
    }
    if let Restart::OnFailure(Some(attempts)) = restart {
        policy.insert("max_attempts".into(), u64::from(attempts).into());
    }
    policy
}

/// Swarm expands a task's environment values, hostname and mounts as Go templates
/// (`{{.Node.Hostname}}`), so a `{{` of the user's stops `docker stack deploy` or changes the
/// value. `{{"{{"}}` is Go's way to write a literal `{{`.
fn escape_task_templates(body: &mut Mapping) {
    fn escape(value: &mut Yaml) {
        if let Yaml::String(text) = value
            && text.contains("{{")
        {
            *text = text.replace("{{", r#"{{"{{"}}"#);
        }
    }
    if let Some(Yaml::Mapping(env)) = body.get_mut("environment") {
        env.values_mut().for_each(escape);
    }
    if let Some(hostname) = body.get_mut("hostname") {
        escape(hostname);
    }
    if let Some(Yaml::Sequence(volumes)) = body.get_mut("volumes") {
        for volume in volumes {
            match volume {
                Yaml::Mapping(long) => long.values_mut().for_each(escape),
                short => escape(short),
            }
        }
    }
}

/// One warning for the whole stack, pointing at each `depends_on` that Swarm will not honour.
fn warn_dropped_dependencies(stack: &Stack, diagnostics: &mut Diagnostics) {
    let labels: Vec<Label> = stack
        .services
        .iter()
        .filter_map(|s| s.depends_on.first())
        .map(|dep| Label::new(dep.source, dep.span.clone(), "not waited for under Swarm"))
        .collect();
    if labels.is_empty() {
        return;
    }
    let mut d = Diagnostic::warning(format!(
        "`depends_on` is left out of the stack file ({} services): `docker stack deploy` starts \
         every service at once",
        labels.len()
    ));
    for label in labels {
        d = d.with_label(label);
    }
    diagnostics.push(d.with_note(
        "a service must retry until what it needs answers; Swarm restarts it while it fails, \
         and its healthcheck keeps it out of rotation until then",
    ));
}

/// `docker stack deploy` reads a secret's or config's value from its `file` alone (docker/cli's
/// compose converter; docker/docs#23678): one from `environment` or inline `content` fails the
/// deploy, so it is an error here rather than at deploy time.
fn refuse_unreadable_sources(stack: &Stack, diagnostics: &mut Diagnostics) {
    let resources = &stack.project.resources;
    let secrets = resources.secrets.iter().map(|(name, s)| {
        let from = if s.get_ref().environment.is_some() {
            Some("environment")
        } else {
            None
        };
        ("secret", name, s.span(), from)
    });
    let configs = resources.configs.iter().map(|(name, c)| {
        let spec = c.get_ref();
        let from = if spec.environment.is_some() {
            Some("environment")
        } else if spec.content.is_some() {
            Some("content")
        } else {
            None
        };
        ("config", name, c.span(), from)
    });
    for (what, name, span, from) in secrets.chain(configs) {
        let Some(from) = from else { continue };
        diagnostics.push(
            Diagnostic::error(format!(
                "{what} `{name}` takes its value from `{from}`, which `docker stack deploy` \
                 cannot read: it reads a {what}'s `file` only"
            ))
            .at(stack.project.catalogue_source, Some(span), "this table")
            .with_note(format!(
                "write the value to a file and set `file`, or create it on the swarm \
                 (`docker {what} create {name} -`) and set `external = true`"
            )),
        );
    }
}
