//! The catalogue's top-level resources on a cluster. A config with inline `content` becomes a
//! ConfigMap of its name; everything else Kubernetes has no object muster can write for
//! without the value or the cluster's storage and network setup, so each gets a warning at its
//! table that says what to run instead.

use super::{Context, dns_label, header};

/// The longest DNS-1123 subdomain, the name of a ConfigMap or a Secret.
const SUBDOMAIN_MAX: usize = 253;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml::{Mapping, Value as Yaml};

pub(super) fn documents(ctx: &Context, diagnostics: &mut Diagnostics) -> Vec<Mapping> {
    let project = &ctx.stack.project;
    let resources = &project.resources;
    let at = |d: Diagnostic, span| d.at(project.catalogue_source, Some(span), "this table");
    let mut docs = Vec::new();
    for (name, c) in &resources.configs {
        let spec = c.get_ref();
        let object = dns_label(spec.name.as_deref().unwrap_or(name), SUBDOMAIN_MAX);
        match &spec.content {
            Some(content) => {
                let mut labels = Mapping::new();
                ctx.project_labels(&mut labels);
                let mut doc = header("v1", "ConfigMap", &object, labels);
                let mut data = Mapping::new();
                data.insert(Yaml::from(name.as_str()), Yaml::from(content.as_str()));
                doc.insert("data".into(), Yaml::Mapping(data));
                docs.push(doc);
            }
            None => diagnostics.push(
                at(
                    Diagnostic::warning(format!(
                        "config `{name}` is not written for Kubernetes: muster does not read \
                         its value"
                    )),
                    c.span(),
                )
                .with_note(format!(
                    "create it first: kubectl create configmap {object} --from-file={name}={}",
                    spec.file.as_deref().unwrap_or("FILE")
                )),
            ),
        }
    }
    for (name, s) in &resources.secrets {
        let spec = s.get_ref();
        let object = secret_object(ctx, name);
        diagnostics.push(
            at(
                Diagnostic::warning(format!(
                    "secret `{name}` is not written for Kubernetes: its value stays out of the \
                     manifests"
                )),
                s.span(),
            )
            .with_note(format!(
                "create it first: kubectl create secret generic {object} --from-file={name}={}",
                spec.file.as_deref().unwrap_or("FILE")
            )),
        );
    }
    for (name, file) in &project.secret_files {
        diagnostics.push(
            Diagnostic::warning(format!(
                "secret `{name}` (`{}`) is not written for Kubernetes: its value stays out of \
                 the manifests",
                file.file
            ))
            .at(file.source, Some(file.span.clone()), "the secret's file")
            .with_note(format!(
                "create it first: kubectl create secret generic {} --from-file={name}={}",
                secret_object(ctx, name),
                file.file
            )),
        );
    }
    for (name, n) in &resources.networks {
        diagnostics.push(
            at(
                Diagnostic::warning(format!(
                    "network `{name}` has no counterpart on Kubernetes: every pod reaches every \
                     Service on the cluster network"
                )),
                n.span(),
            )
            .with_note("isolate services with a NetworkPolicy"),
        );
    }
    for (name, v) in &resources.volumes {
        let spec = v.get_ref();
        if spec.external.is_some() || spec.driver.is_some() || spec.driver_opts.is_some() {
            diagnostics.push(
                at(
                    Diagnostic::warning(format!(
                        "volume `{name}`'s driver and `external` setting have no counterpart on \
                         Kubernetes: it is claimed as a new 1Gi PersistentVolumeClaim"
                    )),
                    v.span(),
                )
                .with_note(
                    "bind an existing PersistentVolume to the claim, or give the claim a \
                     storageClassName for the driver",
                ),
            );
        }
    }
    docs
}

/// The Kubernetes Secret a Compose secret becomes: its `name`, or its own, as a DNS-1123
/// subdomain.
pub(super) fn secret_object(ctx: &Context, name: &str) -> String {
    let named = ctx
        .stack
        .project
        .resources
        .secrets
        .get(name)
        .and_then(|s| s.get_ref().name.as_deref());
    dns_label(named.unwrap_or(name), SUBDOMAIN_MAX)
}
