//! Stage 6, fit: the validated stack fitted to the Compose and Docker Engine a team runs
//! (`[project] requires`, `--requires`).
//!
//! It reads the keys of every emitted body, not the catalogue's fields, so a key a template, the
//! passthrough or a later feature of muster writes is judged by the same table
//! ([`crate::features::FEATURES`]). A key the target cannot do is left out (or, for `gpus`,
//! rewritten into the form older Compose reads) with one warning per key; a key the user wrote
//! in the catalogue entry or the `compose` table is an error instead, since leaving it out would
//! silently drop what they asked for.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::features::{Change, FEATURES, Gated};
use crate::model::Target;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};

/// Leaves out of every service's body, or rewrites, what `target` read by `requires` cannot
/// do; one warning per key, and an error for each key the user wrote in the catalogue entry or
/// the `compose` table. Kubernetes manifests are read by no Compose or Docker Engine, and are
/// left alone.
pub fn fit(stack: &mut Stack, target: Target, diagnostics: &mut Diagnostics) {
    let requires = stack.project.requires;
    if requires.is_newest() || target == Target::Kubernetes {
        return;
    }
    let compose = target == Target::Compose;
    for feature in FEATURES.iter().filter(|f| !f.is_top_level()) {
        let Some(lacking) = feature.lacking(&requires, compose) else {
            continue;
        };
        let path = feature.path();
        let mut changed = Vec::new();
        for s in &mut stack.services {
            if !has_path(s.rendered.body.mapping(), &path) {
                continue;
            }
            if let Some(written) = written_by_user(s, feature.key) {
                let service = &s.rendered.service;
                let (source, span, label) = match &written.at {
                    Some((source, span)) => (*source, span.clone(), "asked for here"),
                    None => (
                        stack.project.catalogue_source,
                        service.name_span.clone(),
                        "in this service",
                    ),
                };
                diagnostics.push(
                    Diagnostic::error(format!(
                        "service `{}` sets `{}`, which needs {lacking}; the target is {requires}",
                        service.name,
                        feature.key.path()
                    ))
                    .at(source, Some(span), label)
                    .with_note(format!(
                        "remove it, or raise `[project] requires` (without it: {})",
                        feature.without
                    )),
                );
                continue;
            }
            let keys = s.rendered.body.keys_mut();
            match feature.change {
                Change::Drop => {
                    remove_path(keys, &path);
                }
                Change::GpusToDevices => gpus_to_devices(keys),
            }
            changed.push(s.rendered.service.name.clone());
        }
        if changed.is_empty() {
            continue;
        }
        let verb = match feature.change {
            Change::Drop => "left out",
            Change::GpusToDevices => "rewritten",
        };
        let mut d = Diagnostic::warning(format!(
            "`{}` {verb} for {requires}: it needs {lacking}",
            feature.key.path()
        ))
        .with_lint(crate::model::Lint::OlderTarget)
        .with_note(format!("without it, {}", feature.without))
        .with_note(format!("in {}", changed.join(", ")));
        d = match &stack.project.requires_span {
            Some(span) => d.at(
                stack.project.catalogue_source,
                Some(span.clone()),
                "the target",
            ),
            None => d,
        };
        diagnostics.push(d);
    }
}

/// The key is the user's own: the `compose` table's, or set by the catalogue entry (its
/// `profiles.NAME` included) rather than a profile or template.
fn written_by_user(s: &StackService, key: Gated) -> Option<&crate::resolve::GatedKey> {
    s.rendered.service.gated.iter().find(|w| w.key == key)
}

fn has_path(map: &Mapping, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let children: Vec<&Yaml> = if *first == "*" {
        map.values().collect()
    } else {
        map.get(*first).into_iter().collect()
    };
    if rest.is_empty() {
        return !children.is_empty();
    }
    children
        .into_iter()
        .any(|c| matches!(c, Yaml::Mapping(m) if has_path(m, rest)))
}

fn remove_path(map: &mut Mapping, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        if *first == "*" {
            map.clear();
        } else {
            map.shift_remove(*first);
        }
        return;
    }
    let children: Vec<&mut Yaml> = if *first == "*" {
        map.values_mut().collect()
    } else {
        map.get_mut(*first).into_iter().collect()
    };
    for child in children {
        if let Yaml::Mapping(m) = child {
            remove_path(m, rest);
        }
    }
}

/// The mapping under `key`, made (or put in place of another value) when there is none.
fn child<'a>(map: &'a mut Mapping, key: &str) -> &'a mut Mapping {
    let entry = map
        .entry(key.into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if !matches!(entry, Yaml::Mapping(_)) {
        *entry = Yaml::Mapping(Mapping::new());
    }
    match entry {
        Yaml::Mapping(m) => m,
        _ => unreachable!("a mapping was put there above"),
    }
}

/// `gpus` as the device requests Compose has read since 1.28, in
/// `deploy.resources.reservations.devices` (`gpus::reservation_devices`).
fn gpus_to_devices(keys: &mut Mapping) {
    let Some(gpus) = keys.shift_remove("gpus") else {
        return;
    };
    let reservations = child(child(child(keys, "deploy"), "resources"), "reservations");
    let devices = reservations
        .entry("devices".into())
        .or_insert_with(|| Yaml::Sequence(Vec::new()));
    if let Yaml::Sequence(list) = devices {
        list.extend(crate::gpus::reservation_devices(gpus));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_become_a_device_request_beside_other_deploy_keys() {
        let mut keys: Mapping =
            crate::yaml::from_str("gpus: all\ndeploy:\n  replicas: 2\n").unwrap();
        gpus_to_devices(&mut keys);
        let text = crate::yaml::to_string(&keys);
        assert_eq!(
            text,
            "deploy:\n  replicas: 2\n  resources:\n    reservations:\n      devices:\n        \
             - count: all\n          capabilities:\n            - gpu\n"
        );
    }
}
