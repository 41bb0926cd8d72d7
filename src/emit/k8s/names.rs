//! Kubernetes names of services and volumes, and the rules the API server holds them to
//! (kubernetes/apimachinery `pkg/util/validation`; the workloads' own limits in
//! kubernetes/kubernetes `pkg/apis/*/validation`):
//!
//! - a Service is named by a DNS-1035 label (`IsDNS1035Label`: a letter, then lowercase letters,
//!   digits and `-`, at most 63), and so is the service's DNS name;
//! - a container, an init container and a pod's volume by a DNS-1123 label (`IsDNS1123Label`:
//!   lowercase letters, digits and `-`, alphanumeric at both ends, at most 63);
//! - a Job's name is its pods' `job-name` label value, at most 63 (`ValidateJob`);
//! - a StatefulSet's pods carry `controller-revision-hash: NAME-HASH`, a label value of at most
//!   63 characters with a hash of up to 10 and its `-`, so NAME is at most 52 (kubernetes#64023);
//! - a label value: at most 63, alphanumeric at both ends, `-`, `_`, `.` inside
//!   (`IsValidLabelValue`).
//!
//! Compose allows `_`, `.` and capitals, and any length: a name is lowercased, `_` and `.` become
//! `-`, and a name still too long keeps its start and ends in a hash of the whole, so it stays
//! the same from one run to the next. Two names that meet after that are an error.

use super::*;

/// The longest name of a StatefulSet (see the module's comment).
const STATEFUL_SET_NAME_MAX: usize = 52;
/// The longest DNS label.
pub(super) const LABEL_MAX: usize = 63;

/// Kubernetes names of services and volumes.
pub(super) struct Names {
    services: IndexMap<String, String>,
    volumes: IndexMap<String, String>,
}

impl Names {
    pub(super) fn new(stack: &Stack, diagnostics: &mut Diagnostics) -> Option<Names> {
        let mut renamed: Vec<Label> = Vec::new();
        let mut failed = false;
        let project = &stack.project;
        let mut services = IndexMap::new();
        let mut taken: IndexMap<String, &Service> = IndexMap::new();
        for s in &stack.services {
            let service = &s.rendered.service;
            if !service.name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                failed = true;
                diagnostics.push(at_service(
                    Diagnostic::error(format!(
                        "service `{}` has no Kubernetes name: a Service is named by a letter, \
                         then lowercase letters, digits and `-`",
                        service.name
                    )),
                    project,
                    service,
                ));
                continue;
            }
            let max = if service.traits.stateful {
                STATEFUL_SET_NAME_MAX
            } else {
                LABEL_MAX
            };
            let label = dns_label(&service.name, max);
            if let Some(other) = taken.insert(label.clone(), service) {
                failed = true;
                diagnostics.push(
                    at_service(
                        Diagnostic::error(format!(
                            "services `{}` and `{}` would both be `{label}` in Kubernetes",
                            other.name, service.name
                        )),
                        project,
                        service,
                    )
                    .with_label(Label::new(
                        project.catalogue_source,
                        other.name_span.clone(),
                        "this one too",
                    ))
                    .with_note(
                        "rename one of them: Kubernetes names allow no `_`, `.` or capitals",
                    ),
                );
                continue;
            }
            if label != service.name {
                renamed.push(Label::new(
                    project.catalogue_source,
                    service.name_span.clone(),
                    format!(
                        "`{label}` in Kubernetes: {}",
                        what_changed(&service.name, &label)
                    ),
                ));
            }
            services.insert(service.name.clone(), label);
        }
        if !renamed.is_empty() {
            let mut d = Diagnostic::warning(
                "Kubernetes names allow no `_`, `.` or capitals, and are short: some services are \
                 renamed, and so are their DNS names",
            );
            for label in renamed {
                d = d.with_label(label);
            }
            diagnostics.push(d.with_note(
                "a value that names one of them as a host must use the new name under Kubernetes",
            ));
        }
        // Volumes: a claim's name is also the pod's volume name, a DNS-1123 label.
        let mut volumes: IndexMap<String, String> = IndexMap::new();
        let mut claimed: IndexMap<String, (String, &Service)> = IndexMap::new();
        for s in &stack.services {
            for mount in mounts(s) {
                let Some(volume) = mount.named() else {
                    continue;
                };
                if volumes.contains_key(volume) {
                    continue;
                }
                let label = dns_label(volume, LABEL_MAX);
                if let Some((other, user)) = claimed.get(&label) {
                    failed = true;
                    diagnostics.push(
                        at_service(
                            Diagnostic::error(format!(
                                "volumes `{other}` and `{volume}` would both be the claim \
                                 `{label}` in Kubernetes",
                            )),
                            project,
                            &s.rendered.service,
                        )
                        .with_label(Label::new(
                            project.catalogue_source,
                            user.name_span.clone(),
                            format!("mounts `{other}`"),
                        ))
                        .with_note(
                            "rename one of them: Kubernetes names allow no `_`, `.` or capitals",
                        ),
                    );
                    continue;
                }
                claimed.insert(label.clone(), (volume.to_owned(), &s.rendered.service));
                volumes.insert(volume.to_owned(), label);
            }
        }
        (!failed).then_some(Names { services, volumes })
    }

    /// The Kubernetes name of service `name`.
    pub(super) fn get<'a>(&'a self, name: &'a str) -> &'a str {
        self.services.get(name).map_or(name, String::as_str)
    }

    /// The Kubernetes name of volume `name`: its claim, and the pod's volume.
    pub(super) fn volume<'a>(&'a self, name: &'a str) -> &'a str {
        self.volumes.get(name).map_or(name, String::as_str)
    }
}

/// What [`dns_label`] changed in `name`, in words: "`_` replaced by `-`, capitals lowercased".
fn what_changed(name: &str, label: &str) -> String {
    let mut changes = Vec::new();
    for c in ['_', '.'] {
        if name.contains(c) {
            changes.push(format!("`{c}` replaced by `-`"));
        }
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        changes.push("capitals lowercased".to_owned());
    }
    if label.len() < name.len() {
        changes.push(format!(
            "shortened to {} characters, ending in a hash of the name",
            label.len()
        ));
    }
    changes.join(", ")
}

/// `name` as a DNS-1123 label of at most `max` characters: lowercased, every character but a
/// letter or a digit made `-`, no `-` at either end, and a name still too long cut and ended in
/// `-` and 8 hex digits of a hash of the whole name. Empty, it is the hash alone.
pub(super) fn dns_label(name: &str, max: usize) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        return format!("x{:08x}", fnv1a(name));
    }
    if trimmed.len() <= max {
        return trimmed.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(name));
    let keep = trimmed[..max - hash.len() - 1].trim_end_matches('-');
    format!("{keep}-{hash}")
}

/// `value` as a label value (at most 63, alphanumeric at both ends; `-`, `_`, `.` inside), cut
/// and hashed as [`dns_label`] does.
pub(super) fn label_value(value: &str) -> String {
    let mapped: String = value
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') => c,
            _ => '-',
        })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.len() <= LABEL_MAX {
        return trimmed.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(value));
    let keep = trimmed[..LABEL_MAX - hash.len() - 1]
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{keep}-{hash}")
}

/// Whether `key` is a qualified name, the form of a label's or an annotation's key
/// (`IsQualifiedName`): an optional DNS-1123 subdomain prefix of at most 253 and a `/`, then a
/// name of at most 63, alphanumeric at both ends, with `-`, `_`, `.` inside.
pub(super) fn qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= LABEL_MAX
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= LABEL_MAX
                    && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    name_ok && prefix_ok
}

/// FNV-1a, 32 bits: a hash that is the same on every machine and release (std's is not
/// promised to be), for names that must not change between runs.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("postgres_ai", 63), "postgres-ai");
        assert_eq!(dns_label("Web.App", 63), "web-app");
        assert_eq!(dns_label("x_", 63), "x");
        assert_eq!(dns_label("_", 63), format!("x{:08x}", fnv1a("_")));
    }

    #[test]
    fn a_long_name_is_cut_and_hashed_the_same_way_every_time() {
        let long = "a".repeat(70);
        let label = dns_label(&long, 63);
        assert_eq!(label.len(), 63);
        assert_eq!(label, dns_label(&long, 63));
        assert_ne!(label, dns_label(&format!("{long}b"), 63));
        assert_eq!(dns_label(&long, 52).len(), 52);
        // The hash is FNV-1a's published value for this input.
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }

    #[test]
    fn annotation_keys_are_qualified_names() {
        assert!(qualified_name("com.example.team"));
        assert!(qualified_name("example.com/team"));
        assert!(!qualified_name("my label"));
        assert!(!qualified_name(&format!(
            "traefik.http.routers.{}.rule",
            "r".repeat(50)
        )));
        assert!(!qualified_name("Example.com/team"));
    }

    #[test]
    fn label_values_keep_what_a_label_allows() {
        assert_eq!(label_value("My_Kind.v2"), "My_Kind.v2");
        assert_eq!(label_value("-x-"), "x");
        assert_eq!(label_value(&"k".repeat(80)).len(), 63);
    }
}
