//! Volumes: claims per pod for stateful kinds, shared claims otherwise, scratch space for
//! anonymous volumes; bind mounts have no counterpart.

use super::*;

/// The size each volume claim asks for: the catalogue has no key for it yet, so every claim
/// asks for the same and a cluster's operator resizes what needs more.
pub(super) const CLAIM_SIZE: &str = "1Gi";

/// A short-syntax mount (`source:target[:mode]`), as Compose reads it after interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mount {
    Named {
        volume: String,
        target: String,
        read_only: bool,
    },
    /// A host path: a pod has no host of its own to take it from.
    Bind(String),
    Anonymous(String),
    /// A mount that reads a variable without a default: only the environment Compose reads
    /// says what it mounts where, and a manifest has none.
    FromEnvironment(String),
}

impl Mount {
    pub(super) fn parse(mount: &str) -> Mount {
        let mut parts = mount.splitn(3, ':');
        let first = parts.next().unwrap_or_default();
        let Some(target) = parts.next() else {
            return Mount::Anonymous(first.to_owned());
        };
        let read_only = parts
            .next()
            .is_some_and(|mode| mode.split(',').any(|m| m == "ro"));
        match crate::volumes::named_volume(mount) {
            Some(volume) => Mount::Named {
                volume: volume.to_owned(),
                target: target.to_owned(),
                read_only,
            },
            None => Mount::Bind(mount.to_owned()),
        }
    }

    /// `mount` as Compose interpolates it: at its defaults, which Kubernetes writes as they are
    /// (said with the container's other defaults), or from the environment.
    pub(super) fn read(mount: &str) -> Mount {
        if !crate::model::interpolation::interpolates(mount) {
            return Mount::parse(mount);
        }
        match crate::model::interpolation::with_defaults(mount) {
            Ok(Some(text)) => Mount::parse(&text),
            _ => Mount::FromEnvironment(mount.to_owned()),
        }
    }

    pub(super) fn named(&self) -> Option<&str> {
        match self {
            Mount::Named { volume, .. } => Some(volume),
            _ => None,
        }
    }
}

pub(super) fn mounts(s: &StackService) -> Vec<Mount> {
    s.rendered.body.volumes().map(Mount::read).collect()
}

/// A claim shared by the pods of several services, or of several replicas.
pub(super) struct Claim {
    /// `ReadOnlyMany` when every mount of it is read-only, else `ReadWriteOnce`: the access mode
    /// every storage class offers.
    pub(super) read_only: bool,
}

pub(super) fn shared_claims(stack: &Stack) -> IndexMap<String, Claim> {
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
                    .entry(volume)
                    .or_insert(Claim { read_only: true })
                    .read_only &= read_only;
            }
        }
    }
    claims
}

pub(super) fn claim_spec(read_only: bool) -> Mapping {
    let access = if read_only {
        "ReadOnlyMany"
    } else {
        "ReadWriteOnce"
    };
    let text =
        format!("accessModes: [{access}]\nresources:\n  requests:\n    storage: {CLAIM_SIZE}\n");
    crate::yaml::from_str(&text).expect("a claim spec is valid YAML")
}

pub(super) fn claim_document(ctx: &Context, volume: &str, claim: &Claim) -> Mapping {
    let name = ctx.names.volume(volume);
    let mut labels = Mapping::new();
    labels.insert("app.kubernetes.io/name".into(), name.into());
    ctx.project_labels(&mut labels);
    let mut doc = header("v1", "PersistentVolumeClaim", name, labels);
    doc.insert("spec".into(), Yaml::Mapping(claim_spec(claim.read_only)));
    doc
}

/// Where a pod keeps its data.
pub(super) struct Storage {
    /// The pod's `volumes`: shared claims and scratch space.
    pub(super) volumes: Vec<Yaml>,
    /// A StatefulSet's `volumeClaimTemplates`: one claim per pod and named volume.
    pub(super) claim_templates: Vec<Yaml>,
    /// The container's `volumeMounts`.
    pub(super) mounts: Vec<Yaml>,
    /// Pods of a rolling update run side by side, and a ReadWriteOnce claim cannot follow the
    /// new one to another node: such a Deployment must be replaced, not rolled.
    pub(super) shares_a_writable_claim: bool,
}

/// The service's mounts as Kubernetes volumes. Bind mounts have no counterpart: a pod has no
/// host folder; they are left out with a warning.
pub(super) fn storage(
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
    let mut claimed: IndexSet<String> = IndexSet::new();
    for (i, mount) in mounts(s).into_iter().enumerate() {
        let (volume_name, target, read_only) = match mount {
            Mount::Named {
                volume,
                target,
                read_only,
            } => {
                let claim_name = ctx.names.volume(&volume).to_owned();
                let first_use = claimed.insert(claim_name.clone());
                if stateful {
                    if first_use {
                        let mut metadata = Mapping::new();
                        metadata.insert("name".into(), claim_name.as_str().into());
                        let mut template = Mapping::new();
                        template.insert("metadata".into(), Yaml::Mapping(metadata));
                        template.insert("spec".into(), Yaml::Mapping(claim_spec(false)));
                        storage.claim_templates.push(Yaml::Mapping(template));
                    }
                } else {
                    let shared = &ctx.shared_claims[&volume];
                    storage.shares_a_writable_claim |= !shared.read_only;
                    if first_use {
                        warn_about_sharing(ctx, s, &volume, shared, diagnostics);
                    }
                    if first_use {
                        let mut claim = Mapping::new();
                        claim.insert("claimName".into(), claim_name.as_str().into());
                        if shared.read_only {
                            claim.insert("readOnly".into(), true.into());
                        }
                        let mut v = Mapping::new();
                        v.insert("name".into(), claim_name.as_str().into());
                        v.insert("persistentVolumeClaim".into(), Yaml::Mapping(claim));
                        storage.volumes.push(Yaml::Mapping(v));
                    }
                }
                (claim_name, target, read_only)
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
            Mount::FromEnvironment(mount) => {
                let service = &s.rendered.service;
                diagnostics.push(ctx.locate.at(
                    Diagnostic::error(format!(
                        "service `{}`: volume `{mount}` reads a variable without a default, so \
                         only the environment Compose reads says what it mounts where, and a \
                         manifest has none: give the variable a default",
                        service.name
                    )),
                    &ctx.stack.project,
                    service,
                    &["volumes"],
                    "these volumes",
                ));
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
    secret_mounts(ctx, s, &mut storage);
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

/// The secrets the service names, each mounted where Compose mounts it (`/run/secrets/NAME`, or
/// the entry's `target`) from the Secret `kubectl create secret generic` makes of it (the
/// warnings of `resources.rs` give the line), under the key of the secret's name, so that a
/// `NAME_FILE` variable reads the same path on every target.
fn secret_mounts(ctx: &Context, s: &StackService, storage: &mut Storage) {
    let Some(Yaml::Sequence(entries)) = s.rendered.body.get("secrets") else {
        return;
    };
    // One volume per secret, however many places it is mounted at.
    let mut added: IndexSet<String> = IndexSet::new();
    for entry in entries {
        let (name, target) = match entry {
            Yaml::String(name) => (name.as_str(), None),
            Yaml::Mapping(m) => match m.get("source").and_then(Yaml::as_str) {
                Some(name) => (name, m.get("target").and_then(Yaml::as_str)),
                None => continue,
            },
            _ => continue,
        };
        let target = match target {
            Some(t) if t.starts_with('/') => t.to_owned(),
            Some(t) => format!("/run/secrets/{t}"),
            None => format!("/run/secrets/{name}"),
        };
        let volume = dns_label(&format!("secret-{name}"), names::LABEL_MAX);
        if added.insert(volume.clone()) {
            let mut source = Mapping::new();
            source.insert(
                "secretName".into(),
                super::resources::secret_object(ctx, name).into(),
            );
            let mut v = Mapping::new();
            v.insert("name".into(), volume.as_str().into());
            v.insert("secret".into(), Yaml::Mapping(source));
            storage.volumes.push(Yaml::Mapping(v));
        }
        let mut m = Mapping::new();
        m.insert("name".into(), volume.into());
        m.insert("mountPath".into(), target.into());
        m.insert("subPath".into(), name.into());
        m.insert("readOnly".into(), true.into());
        storage.mounts.push(Yaml::Mapping(m));
    }
}

/// What a shared claim cannot do that the Compose volume did: share a StatefulSet pod's data
/// (each pod has a claim of its own), or be written from several nodes at once.
fn warn_about_sharing(
    ctx: &Context,
    s: &StackService,
    volume: &str,
    claim: &Claim,
    diagnostics: &mut Diagnostics,
) {
    let service = &s.rendered.service;
    let mut say = |message: String, note: &str| {
        diagnostics.push(
            at_service(Diagnostic::warning(message), &ctx.stack.project, service).with_note(note),
        );
    };
    let stateful_users: Vec<&str> = ctx
        .stack
        .services
        .iter()
        .filter(|t| t.rendered.service.traits.stateful)
        .filter(|t| mounts(t).iter().any(|m| m.named() == Some(volume)))
        .map(|t| t.rendered.service.name.as_str())
        .collect();
    if !stateful_users.is_empty() {
        say(
            format!(
                "service `{}` shares volume `{volume}` with {}, whose pods each have a claim of \
                 their own: under Kubernetes `{}` gets a claim `{}` of its own and none of their data",
                service.name,
                stateful_users
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                service.name,
                ctx.names.volume(volume)
            ),
            "reach the data through the stateful service's API, or give the two volumes their own names",
        );
    }
    let replicas = service
        .replicas
        .as_ref()
        .and_then(crate::model::Count::value)
        .unwrap_or(1);
    if !claim.read_only && replicas > 1 {
        say(
            format!(
                "service `{}` runs {replicas} replicas on the ReadWriteOnce claim `{}`: a node \
                 mounts it alone, so every replica must run on that node",
                service.name,
                ctx.names.volume(volume)
            ),
            "mount it read-only (`:ro`) where the replicas only read, or use a ReadWriteMany storage class",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_told_apart() {
        assert_eq!(
            Mount::parse("models:/models:ro"),
            Mount::Named {
                volume: "models".into(),
                target: "/models".into(),
                read_only: true
            }
        );
        assert!(matches!(
            Mount::parse("./nginx.conf:/etc/nginx/nginx.conf:ro"),
            Mount::Bind(_)
        ));
        assert_eq!(Mount::parse("/data"), Mount::Anonymous("/data".into()));
        // Read as Compose interpolates it: at its default, or from the environment alone.
        assert_eq!(
            Mount::read("${VOL:-data}:${DIR:-/srv}"),
            Mount::parse("data:/srv")
        );
        assert!(matches!(
            Mount::read("data:${DIR}"),
            Mount::FromEnvironment(_)
        ));
    }
}
