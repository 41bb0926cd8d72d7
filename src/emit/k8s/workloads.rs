//! Workloads: a Job, a StatefulSet or a Deployment per service, its Service, and the init
//! containers that wait for its dependencies.

use super::*;

/// The image of the init containers that wait for dependencies. Its `nc` has `-z` (netcat 1.10
/// compatibility is on in BusyBox's default build, which the official image uses).
pub(super) const WAIT_IMAGE: &str = "busybox:1.37";

/// Compose keys that have a Kubernetes counterpart outside the pod (an image registry, a Service,
/// the cluster's network and logging) or that this module maps. A key not listed here is reported,
/// not silently lost.
pub(super) const UNDERSTOOD: &[&str] = &[
    "image",
    "build",
    "container_name",
    "command",
    "entrypoint",
    "restart",
    "ports",
    "env_file",
    "environment",
    "secrets",
    "volumes",
    "networks",
    "labels",
    "depends_on",
    "healthcheck",
    "stop_grace_period",
    "deploy",
    "logging",
    "gpus",
    "models",
];

pub(super) fn service_document(ctx: &Context, s: &StackService, port: u16) -> Mapping {
    let service = &s.rendered.service;
    let mut port_entry = Mapping::new();
    port_entry.insert("port".into(), port.into());
    port_entry.insert("targetPort".into(), port.into());
    let mut spec = Mapping::new();
    spec.insert("selector".into(), Yaml::Mapping(ctx.selector(service)));
    spec.insert(
        "ports".into(),
        Yaml::Sequence(vec![Yaml::Mapping(port_entry)]),
    );
    let mut doc = header(
        "v1",
        "Service",
        ctx.names.get(&service.name),
        ctx.labels(service),
    );
    doc.insert("spec".into(), Yaml::Mapping(spec));
    doc
}

/// Dependencies an init container cannot wait for, reported once for the whole stack.
#[derive(Default)]
pub(super) struct Waits {
    pub(super) on_jobs: Vec<Label>,
    pub(super) on_portless: Vec<Label>,
    /// `restart = true`: a pod is never restarted for another's sake.
    pub(super) restarts: Vec<Label>,
}

impl Waits {
    pub(super) fn report(self, diagnostics: &mut Diagnostics) {
        let warn = |labels: Vec<Label>, message: &str, note: &str| {
            let mut d = Diagnostic::warning(message);
            for label in labels {
                d = d.with_label(label);
            }
            d.with_note(note)
        };
        if !self.on_jobs.is_empty() {
            diagnostics.push(warn(
                self.on_jobs,
                "Kubernetes pods cannot wait for a Job to complete; these dependents start without \
                 waiting",
                "the Job runs once per `kubectl apply`; its dependents must retry until its work \
                 is done, or run `kubectl wait --for=condition=complete job/NAME` before rolling \
                 them out",
            ));
        }
        if !self.on_portless.is_empty() {
            diagnostics.push(warn(
                self.on_portless,
                "these dependencies have no port, so no Service to wait for; their dependents \
                 start without waiting",
                "give the dependency a `port` if it serves one",
            ));
        }
        if !self.restarts.is_empty() {
            diagnostics.push(warn(
                self.restarts,
                "Kubernetes restarts no pod because another was restarted: `restart = true` has \
                 no counterpart",
                "the dependent must reconnect when its dependency comes back, as on any cluster",
            ));
        }
    }
}

pub(super) struct Workload {
    pub(super) document: Mapping,
    pub(super) uses_secret: bool,
}

pub(super) fn workload(
    ctx: &Context,
    s: &StackService,
    waits: &mut Waits,
    diagnostics: &mut Diagnostics,
) -> Workload {
    let service = &s.rendered.service;
    let project = &ctx.stack.project;
    let stateful = s.rendered.service.traits.stateful;
    report_unmapped(s, project, diagnostics);

    let mut pod = Mapping::new();
    let init = init_containers(ctx, s, waits);
    if !init.is_empty() {
        pod.insert("initContainers".into(), Yaml::Sequence(init));
    }
    let (mut container, uses_secret) = container(ctx, s, diagnostics);
    gpus_and_models(s, &mut container, project, diagnostics);
    let storage = storage(ctx, s, stateful, diagnostics);
    if !storage.mounts.is_empty() {
        container.insert("volumeMounts".into(), Yaml::Sequence(storage.mounts));
    }
    pod.insert(
        "containers".into(),
        Yaml::Sequence(vec![Yaml::Mapping(container)]),
    );
    if !storage.volumes.is_empty() {
        pod.insert("volumes".into(), Yaml::Sequence(storage.volumes));
    }
    if let Some(grace) = s.rendered.body.stop_grace_period() {
        pod.insert(
            "terminationGracePeriodSeconds".into(),
            grace.as_secs().into(),
        );
    }
    let restart = s.rendered.body.restart;

    let labels = ctx.labels(service);
    let mut template_metadata = Mapping::new();
    template_metadata.insert("labels".into(), Yaml::Mapping(labels.clone()));
    // Compose labels are free-form text; Kubernetes labels are not, annotations are.
    if let Some(Yaml::Mapping(labels)) = s.rendered.body.get("labels") {
        let annotations = annotations(ctx, s, labels, diagnostics);
        if !annotations.is_empty() {
            template_metadata.insert("annotations".into(), Yaml::Mapping(annotations));
        }
    }
    let template = pod_template(template_metadata, pod);
    let document = if service.traits.runs_to_completion {
        job(ctx, s, labels, template, restart)
    } else {
        // A rolling update runs the old pod beside the new one for a moment.
        let recreate = storage.shares_a_writable_claim || service.traits.single_instance;
        deployment_or_stateful_set(
            ctx,
            s,
            labels,
            template,
            stateful,
            recreate,
            storage.claim_templates,
        )
    };
    Workload {
        document,
        uses_secret,
    }
}

/// The Compose labels as the pod's annotations, as Compose interpolates them. Kubernetes reads
/// an annotation as it is, so a value that reads a variable without a default has nothing to
/// stand for it: it is left out with a warning (no annotation changes how the pod runs), and a
/// default is written as such.
fn annotations(
    ctx: &Context,
    s: &StackService,
    labels: &Mapping,
    diagnostics: &mut Diagnostics,
) -> Mapping {
    let service = &s.rendered.service;
    let mut out = Mapping::new();
    for (key, value) in labels {
        let (Some(name), Some(text)) = (key.as_str(), value.as_str()) else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        if !super::names::qualified_name(name) {
            diagnostics.push(ctx.locate.at(
                Diagnostic::warning(format!(
                    "service `{}`: label `{name}` is no Kubernetes annotation key (a name of up \
                     to 63 letters, digits, `-`, `_` and `.`, after an optional `domain/`); left \
                     out of the pod's annotations",
                    service.name
                )),
                &ctx.stack.project,
                service,
                &["labels", name],
                "this label",
            ));
            continue;
        }
        let parsed = super::interpolation::parse(text);
        match super::interpolation::literal(&parsed.atoms) {
            Ok(literal) if parsed.alternatives.is_empty() => {
                out.insert(key.clone(), literal.into());
            }
            result => {
                let vars = result.err().unwrap_or_else(|| parsed.alternatives.clone());
                diagnostics.push(ctx.locate.at(
                    Diagnostic::warning(format!(
                        "service `{}`: label `{name}` reads `${{{}}}` from the environment, and an \
                         annotation is read as written; left out of the pod's annotations",
                        service.name, vars[0]
                    )),
                    &ctx.stack.project,
                    service,
                    &["labels", name],
                    "this label",
                ));
            }
        }
    }
    out
}

/// A Job: Compose's default is not to restart, and a Job retries a failed pod `backoffLimit`
/// times.
pub(super) fn job(
    ctx: &Context,
    s: &StackService,
    labels: Mapping,
    mut template: Yaml,
    restart: Option<Restart>,
) -> Mapping {
    let (policy, backoff) = match restart.unwrap_or(Restart::No) {
        Restart::No => ("Never", Some(0)),
        Restart::OnFailure(attempts) => ("OnFailure", attempts),
        Restart::Always | Restart::UnlessStopped => ("OnFailure", None),
    };
    if let Some(Yaml::Mapping(pod)) = template.get_mut("spec") {
        pod.insert("restartPolicy".into(), policy.into());
    }
    let mut spec = Mapping::new();
    if let Some(backoff) = backoff {
        spec.insert("backoffLimit".into(), u64::from(backoff).into());
    }
    spec.insert("template".into(), template);
    let name = ctx.names.get(&s.rendered.service.name);
    let mut doc = header("batch/v1", "Job", name, labels);
    doc.insert("spec".into(), Yaml::Mapping(spec));
    doc
}

pub(super) fn deployment_or_stateful_set(
    ctx: &Context,
    s: &StackService,
    labels: Mapping,
    template: Yaml,
    stateful: bool,
    recreate: bool,
    claim_templates: Vec<Yaml>,
) -> Mapping {
    let service = &s.rendered.service;
    let name = ctx.names.get(&service.name);
    let mut spec = Mapping::new();
    if stateful {
        spec.insert("serviceName".into(), name.into());
    }
    spec.insert(
        "replicas".into(),
        // One without a default is reported with the container's problems.
        u64::from(
            service
                .replicas
                .as_ref()
                .and_then(crate::model::Count::value)
                .unwrap_or(1),
        )
        .into(),
    );
    let mut selector = Mapping::new();
    selector.insert("matchLabels".into(), Yaml::Mapping(ctx.selector(service)));
    spec.insert("selector".into(), Yaml::Mapping(selector));
    if recreate && !stateful {
        let mut strategy = Mapping::new();
        strategy.insert("type".into(), "Recreate".into());
        spec.insert("strategy".into(), Yaml::Mapping(strategy));
    }
    spec.insert("template".into(), template);
    if !claim_templates.is_empty() {
        spec.insert(
            "volumeClaimTemplates".into(),
            Yaml::Sequence(claim_templates),
        );
    }
    let kind = if stateful {
        "StatefulSet"
    } else {
        "Deployment"
    };
    let mut doc = header("apps/v1", kind, name, labels);
    doc.insert("spec".into(), Yaml::Mapping(spec));
    doc
}

pub(super) fn pod_template(metadata: Mapping, pod: Mapping) -> Yaml {
    let mut template = Mapping::new();
    template.insert("metadata".into(), Yaml::Mapping(metadata));
    template.insert("spec".into(), Yaml::Mapping(pod));
    Yaml::Mapping(template)
}

/// GPUs as the device plugin's extended resource, which Kubernetes takes only as a limit (the
/// request defaults to it); models, which have no runner on a cluster, left out and said.
fn gpus_and_models(
    s: &StackService,
    container: &mut Mapping,
    project: &Project,
    diagnostics: &mut Diagnostics,
) {
    let service = &s.rendered.service;
    if let Some(value) = s.rendered.body.get("gpus") {
        match crate::gpus::from_body(value).and_then(|gpus| crate::gpus::kubernetes(&gpus)) {
            Ok(k) => {
                let limits: Mapping = [(Yaml::from(k.resource), Yaml::from(k.count))]
                    .into_iter()
                    .collect();
                let resources: Mapping = [("limits".into(), Yaml::Mapping(limits))]
                    .into_iter()
                    .collect();
                container.insert("resources".into(), Yaml::Mapping(resources));
                if let Some(why) = k.approximation {
                    diagnostics.push(at_service(
                        Diagnostic::warning(format!("service `{}`: {why}", service.name)),
                        project,
                        service,
                    ));
                }
            }
            Err(why) => diagnostics.push(at_service(
                Diagnostic::warning(format!("service `{}`: {why}", service.name)),
                project,
                service,
            )),
        }
    }
    if s.rendered.body.contains_key("models") {
        diagnostics.push(at_service(
            crate::emit::swarm::models_warning(service, "Kubernetes"),
            project,
            service,
        ));
    }
}

/// Compose keys that reached the service (through `compose`, mostly) and have no counterpart
/// here, so that nothing the user asked for disappears unannounced.
pub(super) fn report_unmapped(s: &StackService, project: &Project, diagnostics: &mut Diagnostics) {
    let mut unmapped: Vec<String> = s
        .rendered
        .body
        .mapping()
        .keys()
        .filter_map(Yaml::as_str)
        .filter(|k| !UNDERSTOOD.contains(k) && !k.starts_with("x-"))
        .map(|k| format!("`{k}`"))
        .collect();
    if let Some(Yaml::Mapping(deploy)) = s.rendered.body.get("deploy") {
        unmapped.extend(
            deploy
                .keys()
                .filter_map(Yaml::as_str)
                .filter(|k| *k != "replicas")
                .map(|k| format!("`deploy.{k}`")),
        );
    }
    if !unmapped.is_empty() {
        let service = &s.rendered.service;
        diagnostics.push(at_service(
            Diagnostic::warning(format!(
                "service `{}`: {} left out of the Kubernetes manifests (no counterpart)",
                service.name,
                unmapped.join(", ")
            )),
            project,
            service,
        ));
    }
}

/// One init container per dependency, each waiting until the dependency's Service accepts a
/// connection. A Service forwards only to ready pods, so for a dependency with a readiness
/// probe this is Compose's `service_healthy`; without one, `service_started`.
pub(super) fn init_containers(ctx: &Context, s: &StackService, waits: &mut Waits) -> Vec<Yaml> {
    let mut out = Vec::new();
    for edge in &s.depends_on {
        let Some(dependency) = ctx.service(&edge.target) else {
            continue;
        };
        let label = || Label::new(edge.source, edge.span.clone(), "not waited for");
        if edge.options.restart == Some(true) {
            waits
                .restarts
                .push(Label::new(edge.source, edge.span.clone(), "restart = true"));
        }
        // An optional dependency never holds the pod back, as Compose starts the dependent
        // whether it comes up or not.
        if edge.options.required == Some(false) {
            continue;
        }
        let dependency = &dependency.rendered.service;
        if dependency.traits.runs_to_completion {
            waits.on_jobs.push(label());
            continue;
        }
        let Some(port) = dependency.port else {
            waits.on_portless.push(label());
            continue;
        };
        let host = ctx.names.get(&dependency.name);
        let script = format!(
            "until nc -z -w 2 {host} {port}; do echo waiting for {host}:{port}; sleep 2; done"
        );
        let mut init = Mapping::new();
        init.insert(
            "name".into(),
            super::names::dns_label(&format!("wait-for-{host}"), super::names::LABEL_MAX).into(),
        );
        init.insert("image".into(), WAIT_IMAGE.into());
        init.insert(
            "command".into(),
            Yaml::Sequence(vec!["sh".into(), "-c".into(), script.into()]),
        );
        out.push(Yaml::Mapping(init));
    }
    out
}
