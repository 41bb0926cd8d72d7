//! The stack as Kubernetes manifests: one multi-document YAML for `kubectl apply -f`.
//!
//! Each service becomes a workload: a Job for a `job`, a StatefulSet with a claim per named
//! volume for kinds that keep data, a Deployment otherwise. A service with a port also gets a
//! ClusterIP Service of its own name, so that others reach it by the name they used under
//! Compose. The healthcheck becomes probes (`probes.rs`); `depends_on` becomes init containers
//! that wait until the dependency's Service accepts connections, which happens only once one of
//! its pods is ready; `${VAR}` references read the project's Secret (`interpolation.rs`).

mod interpolation;
mod probes;

use super::{at_service, compose};
use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::model::Restart;
use crate::resolve::{Project, Service};
use crate::spec::Command;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use indexmap::{IndexMap, IndexSet};

/// The image of the init containers that wait for dependencies. Its `nc` has `-z` (netcat 1.10
/// compatibility is on in BusyBox's default build, which the official image uses).
const WAIT_IMAGE: &str = "busybox:1.37";

/// The size each volume claim asks for: the catalogue has no key for it yet, so every claim
/// asks for the same and a cluster's operator resizes what needs more.
const CLAIM_SIZE: &str = "1Gi";

/// Compose keys that have a Kubernetes counterpart outside the pod (an image registry, a Service,
/// the cluster's network and logging) or that this module maps. A key not listed here is reported,
/// not silently lost.
const UNDERSTOOD: &[&str] = &[
    "image",
    "build",
    "container_name",
    "command",
    "entrypoint",
    "restart",
    "ports",
    "env_file",
    "environment",
    "volumes",
    "networks",
    "labels",
    "depends_on",
    "healthcheck",
    "stop_grace_period",
    "deploy",
    "logging",
];

pub fn emit(stack: &Stack, diagnostics: &mut Diagnostics) -> String {
    super::require_images(stack, "Kubernetes", diagnostics);
    let Some(names) = Names::new(stack, diagnostics) else {
        return String::new();
    };
    let secret = format!(
        "{}-env",
        stack
            .project
            .name
            .as_deref()
            .and_then(dns_label)
            .unwrap_or_else(|| "muster".to_owned())
    );
    let ctx = Context {
        stack,
        names: &names,
        secret: &secret,
        shared_claims: shared_claims(stack),
    };
    let mut docs: Vec<Mapping> = Vec::new();
    let mut declared: IndexSet<&str> = IndexSet::new();
    let mut waits = Waits::default();
    let mut uses_secret = false;
    for s in &stack.services {
        for volume in mounts(s).into_iter().filter_map(|m| m.named()) {
            if let Some(claim) = ctx.shared_claims.get(volume)
                && declared.insert(volume)
                && !s.rendered.service.traits.stateful
            {
                docs.push(claim_document(&ctx, volume, claim));
            }
        }
        let workload = workload(&ctx, s, &mut waits, diagnostics);
        uses_secret |= workload.uses_secret;
        docs.push(workload.document);
        if let Some(port) = s.rendered.service.port {
            docs.push(service_document(&ctx, s, port));
        }
    }
    waits.report(diagnostics);
    let mut out = super::header(&stack.project, Some("k8s"));
    if uses_secret {
        out.push_str(&format!(
            "# `${{VAR}}` values and env_file read the Secret {secret}; create it first:\n\
             #   kubectl create secret generic {secret} --from-env-file=.env\n"
        ));
    }
    for doc in &docs {
        out.push_str("---\n");
        out.push_str(&crate::yaml::to_string(doc));
    }
    out
}

struct Context<'a> {
    stack: &'a Stack,
    names: &'a Names,
    secret: &'a str,
    /// Named volumes of services that are not stateful: one PersistentVolumeClaim each, shared
    /// by every pod that mounts it.
    shared_claims: IndexMap<String, Claim>,
}

impl Context<'_> {
    fn service(&self, name: &str) -> Option<&StackService> {
        self.stack
            .services
            .iter()
            .find(|s| s.rendered.service.name == name)
    }

    /// The recommended `app.kubernetes.io` labels; `instance` alone selects a service's pods.
    fn labels(&self, s: &Service) -> Mapping {
        let mut labels = Mapping::new();
        let name = self.names.get(&s.name);
        let app = s.engine.as_deref().unwrap_or(name);
        labels.insert("app.kubernetes.io/name".into(), app.into());
        labels.insert("app.kubernetes.io/instance".into(), name.into());
        labels.insert("app.kubernetes.io/component".into(), s.kind.as_str().into());
        self.project_labels(&mut labels);
        labels
    }

    fn project_labels(&self, labels: &mut Mapping) {
        if let Some(project) = &self.stack.project.name {
            labels.insert("app.kubernetes.io/part-of".into(), project.as_str().into());
        }
        labels.insert("app.kubernetes.io/managed-by".into(), "muster".into());
    }

    fn selector(&self, s: &Service) -> Mapping {
        let mut selector = Mapping::new();
        selector.insert(
            "app.kubernetes.io/instance".into(),
            self.names.get(&s.name).into(),
        );
        selector
    }
}

/// Kubernetes names of services and volumes. Compose allows `_` and capitals; Kubernetes names
/// are DNS labels, so `postgres_ai` is `postgres-ai` there, and so is its DNS name.
struct Names(IndexMap<String, String>);

impl Names {
    fn new(stack: &Stack, diagnostics: &mut Diagnostics) -> Option<Names> {
        let mut names = IndexMap::new();
        let mut renamed: Vec<Label> = Vec::new();
        let mut failed = false;
        let project = &stack.project;
        let volumes = stack
            .services
            .iter()
            .flat_map(|s| mounts(s).into_iter().filter_map(|m| m.named()));
        for name in volumes {
            match dns_label(name) {
                Some(label) => {
                    names.insert(name.to_owned(), label);
                }
                None => {
                    failed = true;
                    diagnostics.push(Diagnostic::error(format!(
                        "volume `{name}` has no Kubernetes name: lowercase letters, digits and `-`, \
                         up to 63"
                    )));
                }
            }
        }
        let mut taken: IndexMap<String, &str> = IndexMap::new();
        for s in &stack.services {
            let service = &s.rendered.service;
            let label = dns_label(&service.name).filter(|l| l.starts_with(char::is_alphabetic));
            let Some(label) = label else {
                failed = true;
                diagnostics.push(at_service(
                    Diagnostic::error(format!(
                        "service `{}` has no Kubernetes name: a Service is named by a letter, then \
                         lowercase letters, digits and `-`, up to 63",
                        service.name
                    )),
                    project,
                    service,
                ));
                continue;
            };
            if let Some(other) = taken.insert(label.clone(), &service.name) {
                failed = true;
                diagnostics.push(at_service(
                    Diagnostic::error(format!(
                        "services `{other}` and `{}` would both be `{label}` in Kubernetes",
                        service.name
                    )),
                    project,
                    service,
                ));
                continue;
            }
            if label != service.name {
                renamed.push(Label::new(
                    project.catalogue_source,
                    service.name_span.clone(),
                    format!("`{label}` in Kubernetes"),
                ));
            }
            names.insert(service.name.clone(), label);
        }
        if !renamed.is_empty() {
            let mut d = Diagnostic::warning(
                "Kubernetes names allow no `_` or capitals: some services are renamed, and so are \
                 their DNS names",
            );
            for label in renamed {
                d = d.with_label(label);
            }
            diagnostics.push(d.with_note(
                "a value that names one of them as a host must use the new name under Kubernetes",
            ));
        }
        (!failed).then_some(Names(names))
    }

    fn get<'a>(&'a self, name: &'a str) -> &'a str {
        self.0.get(name).map_or(name, String::as_str)
    }
}

/// `name` as a DNS label (RFC 1123: lowercase alphanumerics and `-`, alphanumeric at both ends,
/// at most 63 characters), when it can be one.
fn dns_label(name: &str) -> Option<String> {
    let label: String = name
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let valid = !label.is_empty()
        && label.len() <= 63
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    valid.then_some(label)
}

/// A short-syntax mount (`source:target[:mode]`).
enum Mount<'a> {
    Named {
        volume: &'a str,
        target: &'a str,
        read_only: bool,
    },
    /// A host path: a pod has no host of its own to take it from.
    Bind(&'a str),
    Anonymous(&'a str),
}

impl<'a> Mount<'a> {
    fn parse(mount: &'a str) -> Mount<'a> {
        let mut parts = mount.splitn(3, ':');
        let first = parts.next().unwrap_or_default();
        let Some(target) = parts.next() else {
            return Mount::Anonymous(first);
        };
        let read_only = parts
            .next()
            .is_some_and(|mode| mode.split(',').any(|m| m == "ro"));
        match compose::named_volume(mount) {
            Some(volume) => Mount::Named {
                volume,
                target,
                read_only,
            },
            None => Mount::Bind(mount),
        }
    }

    fn named(&self) -> Option<&'a str> {
        match self {
            Mount::Named { volume, .. } => Some(volume),
            _ => None,
        }
    }
}

fn mounts(s: &StackService) -> Vec<Mount<'_>> {
    s.rendered
        .body
        .volumes
        .iter()
        .map(|m| Mount::parse(m))
        .collect()
}

/// A claim shared by the pods of several services, or of several replicas.
struct Claim {
    /// `ReadOnlyMany` when every mount of it is read-only, else `ReadWriteOnce`: the access mode
    /// every storage class offers.
    read_only: bool,
}

fn shared_claims(stack: &Stack) -> IndexMap<String, Claim> {
    let mut claims: IndexMap<String, Claim> = IndexMap::new();
    for s in &stack.services {
        if s.rendered.service.traits.stateful {
            continue;
        }
        for mount in mounts(s) {
            if let Mount::Named {
                volume, read_only, ..
            } = mount
            {
                claims
                    .entry(volume.to_owned())
                    .or_insert(Claim { read_only: true })
                    .read_only &= read_only;
            }
        }
    }
    claims
}

fn claim_spec(read_only: bool) -> Mapping {
    let access = if read_only {
        "ReadOnlyMany"
    } else {
        "ReadWriteOnce"
    };
    let text =
        format!("accessModes: [{access}]\nresources:\n  requests:\n    storage: {CLAIM_SIZE}\n");
    crate::yaml::from_str(&text).expect("a claim spec is valid YAML")
}

fn claim_document(ctx: &Context, volume: &str, claim: &Claim) -> Mapping {
    let name = ctx.names.get(volume);
    let mut labels = Mapping::new();
    labels.insert("app.kubernetes.io/name".into(), name.into());
    ctx.project_labels(&mut labels);
    let mut doc = header("v1", "PersistentVolumeClaim", name, labels);
    doc.insert("spec".into(), Yaml::Mapping(claim_spec(claim.read_only)));
    doc
}

fn header(api: &str, kind: &str, name: &str, labels: Mapping) -> Mapping {
    let mut metadata = Mapping::new();
    metadata.insert("name".into(), name.into());
    metadata.insert("labels".into(), Yaml::Mapping(labels));
    let mut doc = Mapping::new();
    doc.insert("apiVersion".into(), api.into());
    doc.insert("kind".into(), kind.into());
    doc.insert("metadata".into(), Yaml::Mapping(metadata));
    doc
}

fn service_document(ctx: &Context, s: &StackService, port: u16) -> Mapping {
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
struct Waits {
    on_jobs: Vec<Label>,
    on_portless: Vec<Label>,
}

impl Waits {
    fn report(self, diagnostics: &mut Diagnostics) {
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
    }
}

struct Workload {
    document: Mapping,
    uses_secret: bool,
}

fn workload(
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
    if let Some(grace) = &s.rendered.body.stop_grace_period {
        pod.insert(
            "terminationGracePeriodSeconds".into(),
            grace.value().as_secs().into(),
        );
    }
    let restart = s.rendered.body.restart;

    let labels = ctx.labels(service);
    let mut template_metadata = Mapping::new();
    template_metadata.insert("labels".into(), Yaml::Mapping(labels.clone()));
    // Compose labels are free-form text; Kubernetes labels are not, annotations are.
    if let Some(Yaml::Mapping(annotations)) = s.rendered.body.get("labels") {
        template_metadata.insert("annotations".into(), Yaml::Mapping(annotations.clone()));
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

/// A Job: Compose's default is not to restart, and a Job retries a failed pod `backoffLimit`
/// times.
fn job(
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

fn deployment_or_stateful_set(
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
        u64::from(service.replicas.unwrap_or(1)).into(),
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

/// Where a pod keeps its data.
struct Storage {
    /// The pod's `volumes`: shared claims and scratch space.
    volumes: Vec<Yaml>,
    /// A StatefulSet's `volumeClaimTemplates`: one claim per pod and named volume.
    claim_templates: Vec<Yaml>,
    /// The container's `volumeMounts`.
    mounts: Vec<Yaml>,
    /// Pods of a rolling update run side by side, and a ReadWriteOnce claim cannot follow the
    /// new one to another node: such a Deployment must be replaced, not rolled.
    shares_a_writable_claim: bool,
}

/// The service's mounts as Kubernetes volumes. Bind mounts have no counterpart: a pod has no
/// host folder; they are left out with a warning.
fn storage(
    ctx: &Context,
    s: &StackService,
    stateful: bool,
    diagnostics: &mut Diagnostics,
) -> Storage {
    let mut storage = Storage {
        volumes: Vec::new(),
        claim_templates: Vec::new(),
        mounts: Vec::new(),
        shares_a_writable_claim: false,
    };
    let mut skipped = Vec::new();
    let mut claimed: IndexSet<&str> = IndexSet::new();
    for (i, mount) in mounts(s).into_iter().enumerate() {
        let (volume_name, target, read_only) = match mount {
            Mount::Named {
                volume,
                target,
                read_only,
            } => {
                let claim_name = ctx.names.get(volume);
                let first_use = claimed.insert(claim_name);
                if stateful {
                    if first_use {
                        let mut metadata = Mapping::new();
                        metadata.insert("name".into(), claim_name.into());
                        let mut template = Mapping::new();
                        template.insert("metadata".into(), Yaml::Mapping(metadata));
                        template.insert("spec".into(), Yaml::Mapping(claim_spec(false)));
                        storage.claim_templates.push(Yaml::Mapping(template));
                    }
                } else {
                    let shared = &ctx.shared_claims[volume];
                    storage.shares_a_writable_claim |= !shared.read_only;
                    if first_use {
                        let mut claim = Mapping::new();
                        claim.insert("claimName".into(), claim_name.into());
                        if shared.read_only {
                            claim.insert("readOnly".into(), true.into());
                        }
                        let mut v = Mapping::new();
                        v.insert("name".into(), claim_name.into());
                        v.insert("persistentVolumeClaim".into(), Yaml::Mapping(claim));
                        storage.volumes.push(Yaml::Mapping(v));
                    }
                }
                (claim_name.to_owned(), target, read_only)
            }
            Mount::Anonymous(target) => {
                // Data that lives as long as the container: the pod's scratch space.
                let volume_name = format!("scratch-{i}");
                let mut v = Mapping::new();
                v.insert("name".into(), volume_name.as_str().into());
                v.insert("emptyDir".into(), Yaml::Mapping(Mapping::new()));
                storage.volumes.push(Yaml::Mapping(v));
                (volume_name, target, false)
            }
            Mount::Bind(mount) => {
                skipped.push(format!("`{mount}`"));
                continue;
            }
        };
        let mut m = Mapping::new();
        m.insert("name".into(), volume_name.into());
        m.insert("mountPath".into(), target.into());
        if read_only {
            m.insert("readOnly".into(), true.into());
        }
        storage.mounts.push(Yaml::Mapping(m));
    }
    if !skipped.is_empty() {
        let service = &s.rendered.service;
        diagnostics.push(
            at_service(
                Diagnostic::warning(format!(
                    "service `{}`: bind mounts are left out of the Kubernetes manifests: {}",
                    service.name,
                    skipped.join(", ")
                )),
                &ctx.stack.project,
                service,
            )
            .with_note(
                "a pod has no host folder to mount; put a file in a ConfigMap, or data in a volume",
            ),
        );
    }
    storage
}

fn pod_template(metadata: Mapping, pod: Mapping) -> Yaml {
    let mut template = Mapping::new();
    template.insert("metadata".into(), Yaml::Mapping(metadata));
    template.insert("spec".into(), Yaml::Mapping(pod));
    Yaml::Mapping(template)
}

/// Compose keys that reached the service (through `compose`, mostly) and have no counterpart
/// here, so that nothing the user asked for disappears unannounced.
fn report_unmapped(s: &StackService, project: &Project, diagnostics: &mut Diagnostics) {
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
fn init_containers(ctx: &Context, s: &StackService, waits: &mut Waits) -> Vec<Yaml> {
    let mut out = Vec::new();
    for (target, _) in &s.depends_on {
        let Some(dependency) = ctx.service(target) else {
            continue;
        };
        let label = || {
            let dep = s
                .rendered
                .service
                .depends_on
                .iter()
                .find(|d| &d.target == target)
                .expect("every resolved dependency comes from the catalogue");
            Label::new(dep.source, dep.span.clone(), "not waited for")
        };
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
        init.insert("name".into(), format!("wait-for-{host}").into());
        init.insert("image".into(), WAIT_IMAGE.into());
        init.insert(
            "command".into(),
            Yaml::Sequence(vec!["sh".into(), "-c".into(), script.into()]),
        );
        out.push(Yaml::Mapping(init));
    }
    out
}

/// The service's container, and whether it reads the project's Secret.
fn container(ctx: &Context, s: &StackService, diagnostics: &mut Diagnostics) -> (Mapping, bool) {
    let service = &s.rendered.service;
    let project = &ctx.stack.project;
    let body = &s.rendered.body;
    let mut error = |message: String| {
        diagnostics.push(at_service(
            Diagnostic::error(format!("service `{}`: {message}", service.name)),
            project,
            service,
        ));
    };
    let mut c = Mapping::new();
    c.insert("name".into(), ctx.names.get(&service.name).into());
    if let Some(image) = body.get("image") {
        c.insert("image".into(), image.clone());
    }
    // Docker's entrypoint is Kubernetes' command, and Docker's command its args.
    let mut referenced: Vec<String> = Vec::new();
    for (compose_key, key, value) in [
        ("entrypoint", "command", &body.entrypoint),
        ("command", "args", &body.command),
    ] {
        let Some(value) = value else {
            continue;
        };
        match argv(value) {
            Ok(words) => {
                let words = words
                    .iter()
                    .map(|w| {
                        let t = interpolation::translate(w);
                        referenced.extend(t.vars);
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
    match probes::probes(s) {
        Ok(probes) => {
            for (key, probe) in probes {
                c.insert(key.into(), Yaml::Mapping(probe));
            }
        }
        Err(e) => error(e),
    }
    (c, uses_secret)
}

fn name_map(name: &str) -> Mapping {
    let mut m = Mapping::new();
    m.insert("name".into(), name.into());
    m
}

fn plain_var(name: &str, value: &str) -> Yaml {
    let mut m = name_map(name);
    m.insert("value".into(), value.into());
    Yaml::Mapping(m)
}

fn secret_var(name: &str, key: &str, secret: &str) -> Yaml {
    let mut reference = name_map(secret);
    reference.insert("key".into(), key.into());
    let mut from = Mapping::new();
    from.insert("secretKeyRef".into(), Yaml::Mapping(reference));
    let mut m = name_map(name);
    m.insert("valueFrom".into(), Yaml::Mapping(from));
    Yaml::Mapping(m)
}

/// A Compose command as argv: a list as it is, a string split as Compose splits it.
fn argv(command: &Command) -> Result<Vec<String>, String> {
    match command {
        Command::Line(line) => {
            shlex::split(line).ok_or_else(|| format!("cannot split {line:?} into words"))
        }
        Command::Argv(words) => Ok(words.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("postgres_ai").as_deref(), Some("postgres-ai"));
        assert_eq!(dns_label("Web.App").as_deref(), Some("web-app"));
        assert_eq!(dns_label("x_"), None);
        assert_eq!(dns_label(&"a".repeat(64)), None);
    }

    #[test]
    fn mounts_are_told_apart() {
        assert!(matches!(
            Mount::parse("models:/models:ro"),
            Mount::Named {
                volume: "models",
                target: "/models",
                read_only: true
            }
        ));
        assert!(matches!(
            Mount::parse("./nginx.conf:/etc/nginx/nginx.conf:ro"),
            Mount::Bind(_)
        ));
        assert!(matches!(Mount::parse("/data"), Mount::Anonymous("/data")));
    }

    #[test]
    fn commands_split_like_compose() {
        let line = |text: &str| Command::Line(text.to_owned());
        assert_eq!(
            argv(&line("gunicorn app --bind '0.0.0.0:8000'")).unwrap(),
            ["gunicorn", "app", "--bind", "0.0.0.0:8000"]
        );
        assert!(argv(&line("echo 'unclosed")).is_err());
    }
}
