//! The stack as a file for `docker stack deploy`: the Compose file, less what Swarm ignores or
//! rejects, with the restart policy where Swarm reads it.
//!
//! Healthchecks stay: Swarm, unlike a single Docker engine, replaces a task that turns unhealthy.
//! `depends_on` goes: Swarm starts every service at once and rejects the long form that Compose
//! needs for conditions (docker/cli#3880), so dependents must retry until what they need is up,
//! and a bounded restart policy is stretched over the chain below them (`budget.rs`). Every key
//! or value `docker stack deploy` drops or reads otherwise is said, from one table
//! (`changes.rs`).

pub(crate) mod budget;
pub mod changes;

use super::{at_service, compose};
use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::key_order;
use crate::model::Restart;
use crate::mounted_probe;
use crate::resolve::{Project, Service};
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use changes::Change;

pub fn emit(stack: &Stack, diagnostics: &mut Diagnostics) -> String {
    super::require_images(stack, "`docker stack deploy`", diagnostics);
    let mut notes = Notes::default();
    let mut services = Mapping::new();
    let mut installer = false;
    for s in &stack.services {
        let mut body = service(s, stack, &mut notes, diagnostics);
        // swarmkit has no image mounts: the program always comes through the volume, which a
        // global service fills on every node (`mounted_probe.rs`).
        if mounted_probe::uses(s.rendered.body.mapping()) {
            mounted_probe::add_to(&mut body, mounted_probe::Delivery::Volume, false);
            body = key_order::service(body);
            installer = true;
        }
        services.insert(
            Yaml::from(s.rendered.service.name.as_str()),
            Yaml::Mapping(body),
        );
    }
    if installer {
        services.insert(
            Yaml::from(mounted_probe::NAME),
            Yaml::Mapping(mounted_probe::swarm_installer()),
        );
    }
    warn_dropped_dependencies(stack, diagnostics);
    refuse_ports_kept_apart_by_profiles(stack, diagnostics);
    refuse_unreadable_sources(stack, diagnostics);
    notes.report(&stack.project, diagnostics);
    let mut doc = compose::document(stack, services, installer);
    // The stack is named on the command line (`docker stack deploy -c FILE NAME`); the stack file
    // schema has no top-level `name` and rejects it.
    doc.shift_remove("name");
    warn_about_interpolation(&doc, diagnostics);
    format!(
        "{}{}",
        super::header(stack, Some("swarm")),
        crate::yaml::to_string(&doc)
    )
}

/// What the stack file changes, gathered over the services so that each change is one warning
/// that points at every service it touches.
#[derive(Default)]
struct Notes<'a> {
    changes: Vec<(Change, Vec<Touch<'a>>)>,
}

/// A service a change touches, the value to point at (else the service), and how.
type Touch<'a> = (&'a Service, Option<Label>, String);

impl<'a> Notes<'a> {
    /// `change` touches `service`; `detail` says how, for the label at the service.
    fn add(&mut self, change: Change, service: &'a Service, detail: String) {
        self.add_at(change, service, None, detail);
    }

    /// [`Notes::add`], labelled at `at` (the value in the catalogue) rather than the service.
    fn add_at(&mut self, change: Change, service: &'a Service, at: Option<Label>, detail: String) {
        match self.changes.iter_mut().find(|(c, _)| c.what == change.what) {
            Some((_, found)) => found.push((service, at, detail)),
            None => self.changes.push((change, vec![(service, at, detail)])),
        }
    }

    fn report(self, project: &Project, diagnostics: &mut Diagnostics) {
        for (change, found) in self.changes {
            let mut services: Vec<&str> = found.iter().map(|(s, ..)| s.name.as_str()).collect();
            services.dedup();
            let mut d = Diagnostic::warning(format!(
                "{} {} for Swarm ({}): {}",
                change.what,
                change.effect.word(),
                services
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                change.swarm
            ));
            for (service, at, detail) in found {
                d = d.with_label(match at {
                    Some(label) => Label {
                        message: detail,
                        ..label
                    },
                    None => Label::new(project.catalogue_source, service.name_span.clone(), detail),
                });
            }
            diagnostics.push(d.with_note(format!("source: {}", change.source)));
        }
    }
}

/// Swarm has no Compose profiles: `docker stack deploy` deploys every service of the file (the
/// stack file leaves `profiles` out, with the warning every key Swarm ignores gets). Two
/// services that publish one host port and never run together under Compose's profiles both
/// run on Swarm, which refuses the second.
fn refuse_ports_kept_apart_by_profiles(stack: &Stack, diagnostics: &mut Diagnostics) {
    let rendered: Vec<&crate::render::Rendered> =
        stack.services.iter().map(|s| &s.rendered).collect();
    for (later, earlier, port) in crate::validate::apart_only_by_profiles(&rendered) {
        let Some(s) = stack
            .services
            .iter()
            .find(|s| s.rendered.service.name == later)
        else {
            continue;
        };
        let d = Diagnostic::error(format!(
            "`{later}` publishes host port {port} that `{earlier}` publishes too: Compose's \
             profiles keep them apart, but `docker stack deploy` deploys every service"
        ));
        let written = s.rendered.service.published.iter().find(|p| p.text == port);
        let d = match written {
            Some(p) => d.at(p.source, Some(p.span.clone()), "published here"),
            None => at_service(d, &stack.project, &s.rendered.service),
        };
        diagnostics.push(d.with_note(
            "Swarm refuses the second (\"port is already in use by service\"); give one of \
                 them another host port, or leave it out of the Swarm catalogue with `only_in`",
        ));
    }
}

fn service<'a>(
    s: &'a StackService,
    stack: &Stack,
    notes: &mut Notes<'a>,
    diagnostics: &mut Diagnostics,
) -> Mapping {
    let project = &stack.project;
    let service = &s.rendered.service;
    let mut body = super::service_keys(stack, s).into_owned();
    escape_task_templates(&mut body);
    // `require_images` reported a service without an image; with one, the build is Compose's
    // business and the image is what Swarm pulls.
    if body.shift_remove("build").is_some() && body.contains_key("image") {
        notes.add(
            changes::BUILD,
            service,
            "built by Compose, pulled by Swarm".to_owned(),
        );
    }
    body.shift_remove("depends_on");
    body.shift_remove("restart");
    if let Some(Yaml::Sequence(profiles)) = body.shift_remove("profiles") {
        let names: Vec<&str> = profiles.iter().filter_map(Yaml::as_str).collect();
        notes.add(
            changes::PROFILES,
            service,
            format!("deployed, whatever `--profile` ({})", names.join(", ")),
        );
    }
    if body.shift_remove("container_name").is_some() {
        notes.add(
            changes::CONTAINER_NAME,
            service,
            "`container_name`".to_owned(),
        );
    }
    if body.shift_remove("expose").is_some() {
        notes.add(changes::EXPOSE, service, "`expose`".to_owned());
    }
    gpus_and_models(s, &mut body, project, diagnostics);
    for (change, keys) in [
        (changes::UNSUPPORTED_KEYS, changes::UNSUPPORTED),
        (changes::FORBIDDEN_KEYS, changes::FORBIDDEN),
    ] {
        let found: Vec<String> = keys
            .iter()
            .filter(|k| body.shift_remove(**k).is_some())
            .map(|k| format!("`{k}`"))
            .collect();
        if !found.is_empty() {
            notes.add(change, service, found.join(", "));
        }
    }
    let unknown: Vec<String> = body
        .keys()
        .filter_map(Yaml::as_str)
        .filter(|k| !(changes::SCHEMA_KEYS.contains(k) || k.starts_with("x-")))
        .map(str::to_owned)
        .collect();
    for key in &unknown {
        body.shift_remove(key.as_str());
    }
    if !unknown.is_empty() {
        let keys: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
        notes.add(changes::OTHER_KEYS, service, keys.join(", "));
    }
    ports(s, &mut body, notes, diagnostics, project);
    provider_labels(&mut body);
    if service.traits.runs_to_completion {
        // As a replicated service, a job that exited 0 is a replica down: the service never
        // converges (`docker stack deploy --detach=false` waits for ever), and under
        // `always` it runs again. A replicated job runs to completion once (Docker 23+).
        deploy(&mut body)
            .entry("mode".into())
            .or_insert_with(|| Yaml::from("replicated-job"));
    }
    if s.rendered.body.restart_unknown {
        diagnostics.push(at_service(
            Diagnostic::warning(format!(
                "service `{}`: its restart policy comes from the environment without a default, \
                 and Swarm needs it as `deploy.restart_policy`; Swarm's own (`any`) applies",
                service.name
            )),
            project,
            service,
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
                    service.name, first.service
                )),
                project,
                service,
            )
            .with_note(
                "give it `restart = \"on-failure:3\"`: muster then spreads the attempts over the \
                 start of everything below it (`muster explain` shows the arithmetic)",
            ),
        );
    }
    if let Some(restart) = s.rendered.body.restart {
        let policy = restart_policy(restart, budget::budget(s, stack).and_then(|b| b.delay));
        match deploy(&mut body).get("restart_policy") {
            // A `compose.deploy.restart_policy` of the user's own is kept as written; Swarm
            // follows it and ignores `restart`.
            Some(own) if own.get("condition") != policy.get("condition") => {
                diagnostics.push(at_service(
                    Diagnostic::warning(format!(
                        "service `{}`: `restart: {restart}` and `deploy.restart_policy` disagree; \
                         Swarm follows `deploy.restart_policy`",
                        service.name
                    ))
                    .with_note(format!("source: {}", changes::RESTART.source)),
                    project,
                    service,
                ));
            }
            Some(_) => {}
            None => {
                deploy(&mut body).insert("restart_policy".into(), Yaml::Mapping(policy));
            }
        }
    }
    key_order::service(body)
}

/// The service's `deploy` table, made when it has none.
fn deploy(body: &mut Mapping) -> &mut Mapping {
    let deploy = body
        .entry("deploy".into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if !deploy.is_mapping() {
        *deploy = Yaml::Mapping(Mapping::new());
    }
    deploy.as_mapping_mut().expect("made a mapping above")
}

/// Published ports as Swarm takes them: without a host address, which it cannot bind; without
/// the long syntax's fields its schema lacks; in `mode: host` where `endpoint_mode: dnsrr`
/// leaves no virtual IP for the ingress mesh.
fn ports<'a>(
    s: &'a StackService,
    body: &mut Mapping,
    notes: &mut Notes<'a>,
    diagnostics: &mut Diagnostics,
    project: &Project,
) {
    let service = &s.rendered.service;
    let dnsrr = body
        .get("deploy")
        .and_then(|d| d.get("endpoint_mode"))
        .and_then(Yaml::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("dnsrr"));
    let Some(Yaml::Sequence(ports)) = body.get_mut("ports") else {
        return;
    };
    let mut out = Vec::with_capacity(ports.len());
    for port in std::mem::take(ports) {
        match port {
            Yaml::String(text) => {
                let (address, rest) = split_address(&text);
                // `0.0.0.0` and `::` are every address already.
                if let Some(address) = address.filter(|a| !matches!(*a, "0.0.0.0" | "::" | "")) {
                    let at = port_written(service, &text)
                        .map(|(source, span)| Label::new(source, span, ""));
                    notes.add_at(
                        changes::HOST_ADDRESS,
                        service,
                        at,
                        format!("published on every address as `{rest}`, not on {address}"),
                    );
                }
                if !dnsrr {
                    out.push(Yaml::from(rest));
                    continue;
                }
                match host_mode(rest) {
                    Ok(long) => {
                        notes.add(
                            changes::DNSRR_PORTS,
                            service,
                            format!("`{rest}` published in host mode"),
                        );
                        out.extend(long);
                    }
                    Err(why) => diagnostics.push(
                        {
                            let d = Diagnostic::error(format!(
                                "service `{}`: port `{text}` cannot be published with \
                                 `endpoint_mode: dnsrr`: {why}",
                                service.name
                            ));
                            match port_written(service, &text) {
                                Some((source, span)) => d.at(source, Some(span), "this port"),
                                None => at_service(d, project, service),
                            }
                        }
                        .with_note(
                            "write it in the long syntax in `compose.ports`: `{ target = 80, \
                             published = 8080, mode = \"host\" }`",
                        )
                        .with_note(format!("source: {}", changes::DNSRR_PORTS.source)),
                    ),
                }
            }
            Yaml::Mapping(mut long) => {
                let dropped: Vec<String> = long
                    .keys()
                    .filter_map(Yaml::as_str)
                    .filter(|k| !changes::PORT_KEYS.contains(k))
                    .map(str::to_owned)
                    .collect();
                for key in &dropped {
                    long.shift_remove(key.as_str());
                }
                if !dropped.is_empty() {
                    let keys: Vec<String> = dropped.iter().map(|k| format!("`{k}`")).collect();
                    notes.add(changes::PORT_FIELDS, service, keys.join(", "));
                }
                if dnsrr && long.get("mode").and_then(Yaml::as_str) != Some("host") {
                    long.insert("mode".into(), "host".into());
                    notes.add(
                        changes::DNSRR_PORTS,
                        service,
                        "a long-syntax port published in host mode".to_owned(),
                    );
                }
                out.push(Yaml::Mapping(long));
            }
            other => out.push(other),
        }
    }
    *ports = out;
}

/// Where the catalogue wrote the port `text`, when it did (not the `compose` table).
fn port_written(
    service: &Service,
    text: &str,
) -> Option<(crate::diagnostic::SourceId, std::ops::Range<usize>)> {
    service
        .published
        .iter()
        .find(|p| p.text == text)
        .map(|p| (p.source, p.span.clone()))
}

/// A short-syntax port's host address, when it has one, and the rest of it: `127.0.0.1:8080:80`
/// is `127.0.0.1` and `8080:80`. The parts are split on colons outside `${...}`, so an address or
/// port Compose interpolates stays whole.
fn split_address(text: &str) -> (Option<&str>, &str) {
    if let Some(v6) = text.strip_prefix('[')
        && let Some((address, rest)) = v6.split_once("]:")
    {
        return (Some(address), rest);
    }
    let mut depth = 0usize;
    let mut colons = Vec::new();
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        match c {
            '{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => colons.push(i),
            _ => {}
        }
    }
    match colons.as_slice() {
        [first, _] => (Some(&text[..*first]), &text[first + 1..]),
        _ => (None, text),
    }
}

/// `8080:80`, `8080-8081:80-81/udp` or `80` in the long syntax, in host mode: one entry per port,
/// since the stack file's `published` is one number.
fn host_mode(rest: &str) -> Result<Vec<Yaml>, String> {
    if crate::model::interpolation::interpolates(rest) {
        return Err("it is interpolated, and the long syntax needs its numbers".to_owned());
    }
    let mapping = crate::ports::parse(rest)?;
    let targets: Vec<u16> = mapping.container.clone().collect();
    let published: Vec<Option<u16>> = match &mapping.host {
        Some(host) if host.clone().count() == targets.len() => host.clone().map(Some).collect(),
        Some(_) => return Err("a host range of another length than the container's".to_owned()),
        None => vec![None; targets.len()],
    };
    Ok(targets
        .into_iter()
        .zip(published)
        .map(|(target, published)| {
            let mut long = Mapping::new();
            long.insert("target".into(), u64::from(target).into());
            if let Some(p) = published {
                long.insert("published".into(), u64::from(p).into());
            }
            long.insert("protocol".into(), mapping.protocol.as_str().into());
            long.insert("mode".into(), "host".into());
            Yaml::Mapping(long)
        })
        .collect())
}

/// Labels a Swarm provider reads from the service rather than its containers, moved to
/// `deploy.labels` (a `deploy.labels` entry of the user's own wins).
fn provider_labels(body: &mut Mapping) {
    let Some(Yaml::Mapping(labels)) = body.get_mut("labels") else {
        return;
    };
    let moved: Vec<(Yaml, Yaml)> = labels
        .keys()
        .filter(|k| {
            k.as_str()
                .is_some_and(|k| crate::model::provider_labels::read_from_service(k).is_some())
        })
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|k| labels.shift_remove_entry(&k))
        .collect();
    if moved.is_empty() {
        return;
    }
    if labels.is_empty() {
        body.shift_remove("labels");
    }
    let deploy = deploy(body);
    let service_labels = deploy
        .entry("labels".into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if let Yaml::Mapping(service_labels) = service_labels {
        for (k, v) in moved {
            service_labels.entry(k).or_insert(v);
        }
    }
}

/// `docker stack deploy` interpolates from the shell it runs in, and reads no `.env`: one warning
/// naming the variables the file reads.
fn warn_about_interpolation(doc: &Mapping, diagnostics: &mut Diagnostics) {
    fn walk(value: &Yaml, out: &mut Vec<String>) {
        match value {
            Yaml::String(text) => {
                for v in crate::model::interpolation::variables(text) {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
            Yaml::Sequence(items) => items.iter().for_each(|i| walk(i, out)),
            Yaml::Mapping(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut vars = Vec::new();
    for value in doc.values() {
        walk(value, &mut vars);
    }
    if vars.is_empty() {
        return;
    }
    let change = changes::INTERPOLATION;
    diagnostics.push(
        Diagnostic::warning(format!(
            "the stack file reads {} from the environment of the shell that runs `docker stack \
             deploy`, which reads no `.env`",
            vars.iter()
                .map(|v| format!("`${{{v}}}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_note("export them first: `set -a; . ./.env; set +a`")
        .with_note(format!("source: {}", change.source)),
    );
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
        "`depends_on` is left out of the stack file ({} services): {}",
        labels.len(),
        changes::DEPENDS_ON.swarm
    ));
    for label in labels {
        d = d.with_label(label);
    }
    diagnostics.push(
        d.with_note(
            "a service must retry until what it needs answers; Swarm restarts it while it fails, \
             and its healthcheck keeps it out of rotation until then",
        )
        .with_note(format!("source: {}", changes::DEPENDS_ON.source)),
    );
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
