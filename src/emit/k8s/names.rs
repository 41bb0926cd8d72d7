//! Kubernetes names of services and volumes: DNS labels.

use super::*;

/// Kubernetes names of services and volumes. Compose allows `_` and capitals; Kubernetes names
/// are DNS labels, so `postgres_ai` is `postgres-ai` there, and so is its DNS name.
pub(super) struct Names(IndexMap<String, String>);

impl Names {
    pub(super) fn new(stack: &Stack, diagnostics: &mut Diagnostics) -> Option<Names> {
        let mut names = IndexMap::new();
        let mut renamed: Vec<Label> = Vec::new();
        let mut failed = false;
        let project = &stack.project;
        let volumes: Vec<String> = stack
            .services
            .iter()
            .flat_map(|s| {
                mounts(s)
                    .into_iter()
                    .filter_map(|m| m.named().map(str::to_owned))
            })
            .collect();
        for name in &volumes {
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
                    format!("`{label}` in Kubernetes: {}", what_changed(&service.name)),
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

    pub(super) fn get<'a>(&'a self, name: &'a str) -> &'a str {
        self.0.get(name).map_or(name, String::as_str)
    }
}

/// What [`dns_label`] changes in `name`, in words: "`_` replaced by `-`, capitals lowercased".
fn what_changed(name: &str) -> String {
    let mut changes = Vec::new();
    for c in ['_', '.'] {
        if name.contains(c) {
            changes.push(format!("`{c}` replaced by `-`"));
        }
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        changes.push("capitals lowercased".to_owned());
    }
    changes.join(", ")
}

/// `name` as a DNS label (RFC 1123: lowercase alphanumerics and `-`, alphanumeric at both ends,
/// at most 63 characters), when it can be one.
pub(super) fn dns_label(name: &str) -> Option<String> {
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
}
