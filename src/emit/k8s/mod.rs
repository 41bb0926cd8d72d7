//! The stack as Kubernetes manifests: one multi-document YAML for `kubectl apply -f`.
//!
//! Each service becomes a workload (`workloads.rs`): a Job for a kind that runs to completion,
//! a StatefulSet with a claim per named volume for a stateful kind, a Deployment otherwise. A
//! service with a port also gets a ClusterIP Service of its own name, so that others reach it by
//! the name they used under Compose (`names.rs` makes the names DNS labels). Volumes become
//! claims (`storage.rs`); the container (`containers.rs`) gets the healthcheck as probes
//! (`probes.rs`) and reads `${VAR}` from the project's Secret (`interpolation.rs`); `depends_on`
//! becomes init containers that wait until the dependency's Service accepts connections, which
//! happens only once one of its pods is ready.

mod containers;
mod interpolation;
mod names;
mod probes;
pub(crate) use probes::startup as startup_probe;
mod resources;
mod storage;
mod workloads;

use containers::container;
use names::{Names, dns_label, label_value};
use storage::{Claim, claim_document, mounts, shared_claims, storage};
use workloads::{Waits, service_document, workload};

use super::at_service;
use super::locate::Locator;
use crate::compose_body::CommandRef;
use crate::diagnostic::{Diagnostic, Diagnostics, Label, Sources};
use crate::model::Restart;
use crate::resolve::{Project, Service};
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use indexmap::{IndexMap, IndexSet};

pub fn emit(stack: &Stack, sources: &Sources, diagnostics: &mut Diagnostics) -> String {
    manifests(stack, sources, diagnostics).text()
}

/// The manifests of a stack: its objects, and the comments that head them.
pub struct Manifests {
    /// The first line of every file muster writes.
    header: String,
    /// What to run first, when a container reads the project's Secret.
    secret_note: Option<String>,
    docs: Vec<Mapping>,
}

/// The name of the kustomization file in a folder of manifests.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

impl Manifests {
    /// One multi-document YAML, for `kubectl apply -f`.
    pub fn text(&self) -> String {
        let mut out = self.header.clone();
        out.push_str(self.secret_note.as_deref().unwrap_or_default());
        for doc in &self.docs {
            out.push_str(
                "---
",
            );
            out.push_str(&crate::yaml::to_string(doc));
        }
        out
    }

    /// One file per object, `KIND-NAME.yaml` (a kind and a name are unique together), and a
    /// `kustomization.yaml` that lists them, for `kubectl apply -k DIR`; each file starts with
    /// the header that marks it as muster's.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = self
            .docs
            .iter()
            .map(|doc| {
                let kind = doc["kind"]
                    .as_str()
                    .unwrap_or("object")
                    .to_ascii_lowercase();
                let name = doc["metadata"]["name"].as_str().unwrap_or_default();
                (
                    format!("{kind}-{name}.yaml"),
                    format!("{}{}", self.header, crate::yaml::to_string(doc)),
                )
            })
            .collect();
        let mut kustomization = self.header.clone();
        kustomization.push_str(self.secret_note.as_deref().unwrap_or_default());
        let mut k = Mapping::new();
        k.insert(
            "apiVersion".into(),
            "kustomize.config.k8s.io/v1beta1".into(),
        );
        k.insert("kind".into(), "Kustomization".into());
        k.insert(
            "resources".into(),
            Yaml::Sequence(files.iter().map(|(f, _)| Yaml::from(f.as_str())).collect()),
        );
        kustomization.push_str(&crate::yaml::to_string(&k));
        files.push((KUSTOMIZATION.to_owned(), kustomization));
        files
    }
}

/// The stack's manifests; empty when its names cannot be Kubernetes names (reported).
pub fn manifests(stack: &Stack, sources: &Sources, diagnostics: &mut Diagnostics) -> Manifests {
    super::require_images(stack, "Kubernetes", diagnostics);
    let locate = Locator::new(sources, &stack.project);
    let header = super::header(stack, Some("k8s"));
    let Some(names) = Names::new(stack, diagnostics) else {
        return Manifests {
            header,
            secret_note: None,
            docs: Vec::new(),
        };
    };
    let secret = format!(
        "{}-env",
        stack
            .project
            .name
            .as_deref()
            .map(|name| dns_label(name, names::LABEL_MAX - "-env".len()))
            .unwrap_or_else(|| "muster".to_owned())
    );
    let ctx = Context {
        stack,
        locate: &locate,
        names: &names,
        secret: &secret,
        shared_claims: shared_claims(stack),
    };
    let mut docs: Vec<Mapping> = Vec::new();
    let mut declared: IndexSet<String> = IndexSet::new();
    let mut waits = Waits::default();
    let mut uses_secret = false;
    for s in &stack.services {
        for mount in mounts(s) {
            let Some(volume) = mount.named() else {
                continue;
            };
            if let Some(claim) = ctx.shared_claims.get(volume)
                && declared.insert(volume.to_owned())
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
    docs.extend(resources::documents(&ctx, diagnostics));
    let secret_note = uses_secret.then(|| {
        format!(
            "# `${{VAR}}` values and env_file read the Secret {secret}; create it first:\n\
             #   kubectl create secret generic {secret} --from-env-file=.env\n"
        )
    });
    Manifests {
        header,
        secret_note,
        docs,
    }
}

struct Context<'a> {
    stack: &'a Stack,
    /// Where the catalogue wrote a value, for errors about it.
    locate: &'a Locator<'a>,
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
        labels.insert("app.kubernetes.io/name".into(), label_value(app).into());
        labels.insert("app.kubernetes.io/instance".into(), name.into());
        labels.insert(
            "app.kubernetes.io/component".into(),
            label_value(&s.kind).into(),
        );
        self.project_labels(&mut labels);
        labels
    }

    fn project_labels(&self, labels: &mut Mapping) {
        if let Some(project) = &self.stack.project.name {
            labels.insert(
                "app.kubernetes.io/part-of".into(),
                label_value(project).into(),
            );
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
