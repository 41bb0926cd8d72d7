//! Names one input gives that another must define: a catalogue entry's `profiles.NAME` names a
//! profile, and so does its `only_in`; a profile's `[kinds.KIND]` a kind, its `[services.NAME]`
//! a service. A misspelt one would apply to nothing and say nothing, although every unknown key
//! is an error, so each is refused where it is written.

use crate::catalogue::Catalogue;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kinds::Kinds;
use crate::profile::Profiles;

pub fn check(
    catalogue: &Catalogue,
    profiles: &Profiles,
    kinds: &Kinds,
    diagnostics: &mut Diagnostics,
) {
    let profile_names: Vec<&str> = profiles.names().collect();
    for entry in catalogue.services.iter().chain(&catalogue.broken) {
        for (name, layer) in entry.spec.profiles.iter().flatten() {
            if profile_names.contains(&name.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(format!(
                "service `{}` has settings for profile `{name}`, which does not exist",
                entry.name.get_ref()
            ))
            .at(
                catalogue.source,
                Some(layer.span()),
                "applies under no profile",
            )
            .with_note(format!("profiles: {}", profile_names.join(", ")));
            if let Some(hint) = crate::suggest::did_you_mean(name, profile_names.iter().copied()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    for entry in catalogue.services.iter().chain(&catalogue.broken) {
        for name in entry.spec.only_in.iter().flat_map(|o| o.get_ref()) {
            if profile_names.contains(&name.get_ref().as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(format!(
                "service `{}` exists only under profile `{}`, which does not exist",
                entry.name.get_ref(),
                name.get_ref()
            ))
            .at(catalogue.source, Some(name.span()), "no such profile")
            .with_note(format!("profiles: {}", profile_names.join(", ")));
            if let Some(hint) =
                crate::suggest::did_you_mean(name.get_ref(), profile_names.iter().copied())
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    for entry in &catalogue.broken {
        broken_entry(entry, catalogue, kinds, diagnostics);
    }
    // A broken entry is still a service of the catalogue: its timings are not misspelt.
    let service_names: Vec<&str> = catalogue
        .services
        .iter()
        .chain(&catalogue.broken)
        .map(|e| e.name.get_ref().as_str())
        .collect();
    for profile in profiles.iter() {
        for service in profile.file.services.keys() {
            if service_names.contains(&service.get_ref().as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(format!(
                "profile `{}` has timings for service `{}`, which the catalogue does not have",
                profile.name,
                service.get_ref()
            ))
            .at(profile.source, Some(service.span()), "no such service")
            .with_note(format!("services: {}", service_names.join(", ")));
            if let Some(hint) =
                crate::suggest::did_you_mean(service.get_ref(), service_names.iter().copied())
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    let kind_names: Vec<&str> = kinds.names().collect();
    for profile in profiles.iter() {
        for kind in profile.file.kinds.keys() {
            if kind_names.contains(&kind.get_ref().as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(format!(
                "profile `{}` has settings for kind `{}`, which does not exist",
                profile.name,
                kind.get_ref()
            ))
            .at(profile.source, Some(kind.span()), "no such kind")
            .with_note(format!(
                "kinds: {}, or one from your templates folder",
                kind_names.join(", ")
            ));
            if let Some(hint) =
                crate::suggest::did_you_mean(kind.get_ref(), kind_names.iter().copied())
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
}

/// The names an entry that lost a key gives: the stages after load leave it out, since they
/// would judge it without what the user wrote, but its kind, its dependencies and their
/// conditions can be judged on their own, so that fixing its keys does not bring a second round
/// of errors.
fn broken_entry(
    entry: &crate::catalogue::Entry,
    catalogue: &Catalogue,
    kinds: &Kinds,
    diagnostics: &mut Diagnostics,
) {
    if kinds.get(entry.kind.get_ref()).is_none() {
        diagnostics.push(super::unknown_kind(entry, catalogue.source, kinds));
    }
    let layers = std::iter::once(&*entry.spec).chain(
        entry
            .spec
            .profiles
            .iter()
            .flat_map(|p| p.values().map(toml::Spanned::get_ref)),
    );
    for spec in layers {
        let Some(deps) = &spec.depends_on else {
            continue;
        };
        for (target, dependency) in deps.get_ref().entries() {
            if let Some(d) = dependency
                && let Some(word) = &d.get_ref().condition
                && crate::model::Condition::parse(word).is_none()
            {
                let span = d.get_ref().condition_span.clone().unwrap_or(d.span());
                diagnostics.push(super::unknown_condition(word, catalogue.source, span));
            }
            let name = target.get_ref();
            if name == entry.name.get_ref() || catalogue.all_names().any(|n| n == name) {
                continue;
            }
            let mut d = Diagnostic::error(format!(
                "service `{}` depends on `{name}`, which the catalogue does not define",
                entry.name.get_ref()
            ))
            .at(catalogue.source, Some(target.span()), "unknown service");
            if let Some(hint) = crate::suggest::did_you_mean(name, catalogue.all_names()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
}
