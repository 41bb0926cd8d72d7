//! Stage 4, validate: every check that needs more than one layer's values, in one stage run once
//! from the pipeline, on the rendered services. What load checks (one layer's syntax: durations,
//! restart words, port syntax) and what resolve decides (kinds, engines, probes) happen there, as
//! each needs only its own input; everything that judges the services as they will run is here:
//!
//! - the body itself: what the template, the catalogue and the `compose` table wrote is what
//!   Compose accepts (`ComposeBody::read` finds it, this stage reports it);
//! - `probe_tools.rs`: a healthcheck calls only programs its image has;
//! - `ports.rs`: no host port published twice, nor a fixed one under several replicas;
//! - `graph.rs`: dependencies name services, close no cycle, ask for conditions that can be met,
//!   and are not left out by `only_in` or Compose's `profiles`;
//! - [`models`]: every model a service is bound to is declared in `[models]`.
//!
//! The profile and kind names one input gives another are resolve's to check
//! (`resolve/references.rs`): they are about which layers apply, and resolve applies only those
//! that match.
//!
//! Each message points at the layer that set the value it is about. A healthcheck timeout as
//! long as its interval is not refused: the engine waits `interval` from the end of one probe
//! to the start of the next (moby's health monitor), so probes never overlap, and Compose
//! accepts it.

mod graph;
mod origin;
mod ports;
mod probe_tools;
mod profiles;
mod rules;
mod schema;

pub use graph::{Stack, StackService};
pub(crate) use ports::apart_only_by_profiles;

use crate::diagnostic::{Diagnostic, Diagnostics, Severity, Sources};
use crate::render::RenderedModel;

pub fn validate(model: RenderedModel, sources: &Sources, diagnostics: &mut Diagnostics) -> Stack {
    let catalogue = model.project.catalogue_source;
    let mut locator = origin::Locator::new(sources, catalogue);
    let mut services = Vec::with_capacity(model.services.len());
    let mut rendered_services = model.services;
    let problems: Vec<_> = rendered_services
        .iter_mut()
        .map(|r| r.body.take_problems())
        .collect();
    // First every body as Compose reads it, then the rest on the bodies it reads.
    let mut checker = schema::Checker::default();
    let readable: Vec<bool> = rendered_services
        .iter()
        .zip(problems)
        .map(|(rendered, problems)| {
            let mut reported = Vec::with_capacity(problems.len());
            for (path, problem) in problems {
                let path: Vec<String> = path.split('.').map(str::to_owned).collect();
                let place = locator.locate(rendered, &path);
                diagnostics.push(
                    Diagnostic::error(format!("service `{}`: {problem}", rendered.service.name))
                        .at(place.source, Some(place.span), &place.label),
                );
                reported.push(path);
            }
            // Compose refuses the whole file over one value its schema refuses: nothing else
            // about the service is judged on a body Compose would not read.
            checker.check(rendered, &reported, &mut locator, diagnostics) && reported.is_empty()
        })
        .collect();
    drop(checker);
    let mut programs = probe_tools::Programs::default();
    for (rendered, readable) in rendered_services.into_iter().zip(readable) {
        if !readable {
            continue;
        }
        // A rule on a value leaves the body readable: the service stays in the graph.
        rules::check_body(&rendered, &mut locator, diagnostics);
        undeclared_resources(&rendered, &model.project, diagnostics);
        let mut runs = true;
        if let Some(hc) = rendered.body.healthcheck()
            && let Some(d) = probe_tools::problem(&rendered, &hc, catalogue, &mut programs)
        {
            // A probe that can never pass: dependents waiting for it would be judged against a
            // healthcheck that does not work, so the service goes no further.
            runs = d.severity != Severity::Error;
            diagnostics.push(d);
        }
        if runs {
            services.push(rendered);
        }
    }
    ports::check(&services, &mut locator, diagnostics);
    rules::container_names(&services, &mut locator, diagnostics);
    models(&services, &model.project, diagnostics);
    mounted_probe(&services, &model.project, diagnostics);
    graph::validate(
        RenderedModel {
            project: model.project,
            services,
        },
        &mut locator,
        diagnostics,
    )
}

/// A secret or config a service names must be declared at the top level: Compose refuses the
/// file otherwise ("refers to undefined secret"). Volumes and networks a service uses are
/// declared by the emitter, with Compose's defaults where the catalogue has no table.
fn undeclared_resources(
    rendered: &crate::render::Rendered,
    project: &crate::resolve::Project,
    diagnostics: &mut Diagnostics,
) {
    for section in ["secrets", "configs"] {
        let Some(value) = rendered.body.get(section) else {
            continue;
        };
        for name in crate::resources::references(value) {
            // An `env` secret's name resolve has judged, at the `secret` that names it.
            let declared = match section {
                "secrets" => {
                    project.declares_secret(name)
                        || rendered.service.secret_env.iter().any(|e| e.secret == name)
                }
                _ => project.resources.declares(section, name),
            };
            if declared {
                continue;
            }
            let service = &rendered.service;
            let what = &section[..section.len() - 1];
            diagnostics.push(
                Diagnostic::error(format!(
                    "service `{}` refers to undefined {what} `{name}`, which Compose refuses",
                    service.name
                ))
                .at(
                    project.catalogue_source,
                    Some(service.name_span.clone()),
                    "this service",
                )
                .with_note(format!(
                    "declare it: [{section}.{name}] with `file = \"...\"`, `environment = \"VAR\"` \
                     or `external = true`"
                )),
            );
        }
    }
}

/// The mounted probe's names and folder are muster's while a service uses it: a service or a
/// volume of the catalogue's named [`crate::mounted_probe::NAME`] would be merged with the
/// installer or its volume, and Compose keeps only the last of two mounts on one container path.
fn mounted_probe(
    services: &[crate::render::Rendered],
    project: &crate::resolve::Project,
    diagnostics: &mut Diagnostics,
) {
    use crate::mounted_probe::{DIR, NAME};
    let Some(user) = services
        .iter()
        .find(|r| crate::mounted_probe::uses(r.body.mapping()))
    else {
        return;
    };
    let catalogue = project.catalogue_source;
    let at_service = |d: Diagnostic, r: &crate::render::Rendered| {
        d.at(catalogue, Some(r.service.name_span.clone()), "this service")
    };
    let reserved = format!(
        "`{NAME}` is the service and the volume that bring a probe client into `{}`, whose \
         image has none",
        user.service.name
    );
    for r in services {
        if r.service.name == NAME {
            diagnostics.push(
                at_service(
                    Diagnostic::error(format!("a service may not be named `{NAME}` here")),
                    r,
                )
                .with_note(reserved.clone())
                .with_note("rename this service"),
            );
        }
        let mounts_the_name = r
            .body
            .volumes()
            .any(|m| crate::volumes::named_volume(m) == Some(NAME));
        if mounts_the_name {
            diagnostics.push(
                at_service(
                    Diagnostic::error(format!(
                        "service `{}` mounts a volume named `{NAME}`, muster's own here",
                        r.service.name
                    )),
                    r,
                )
                .with_note(reserved.clone())
                .with_note("give the volume another name"),
            );
        }
        let on_the_folder = r
            .body
            .volumes()
            .any(|m| crate::volumes::target(m).ok() == Some(DIR));
        if on_the_folder && crate::mounted_probe::uses(r.body.mapping()) {
            diagnostics.push(
                at_service(
                    Diagnostic::error(format!(
                        "service `{}` mounts something at `{DIR}`, where muster mounts its probe \
                         client",
                        r.service.name
                    )),
                    r,
                )
                .with_note(
                    "Compose keeps only the last of two mounts on one path (measured, 2.40.3), so \
                     yours would be dropped without a word; mount it elsewhere",
                ),
            );
        }
    }
    if let Some(volume) = project.resources.volumes.get(NAME) {
        diagnostics.push(
            Diagnostic::error(format!(
                "the catalogue declares a volume `{NAME}`, muster's own here"
            ))
            .at(catalogue, Some(volume.span()), "this volume")
            .with_note(reserved)
            .with_note("give the volume another name"),
        );
    }
}

/// Every model a service is bound to is one the catalogue's `[models]` declares: Compose
/// refuses the file otherwise ("refers to undefined model"). A binding the `compose` table
/// wrote is pointed at through the service.
fn models(
    services: &[crate::render::Rendered],
    project: &crate::resolve::Project,
    diagnostics: &mut Diagnostics,
) {
    let declared = || project.models.keys().map(String::as_str);
    for rendered in services {
        let service = &rendered.service;
        for name in rendered.body.models() {
            if project.models.contains_key(name) {
                continue;
            }
            let written = service.models.iter().find(|m| m.name == name);
            let mut d = Diagnostic::error(format!(
                "service `{}` uses model `{name}`, which the catalogue's `[models]` does not declare",
                service.name
            ));
            d = match written {
                Some(m) => d.at(m.source, Some(m.span.clone()), "no such model"),
                None => d.at(
                    project.catalogue_source,
                    Some(service.name_span.clone()),
                    "bound in this service's `compose` table",
                ),
            };
            d = d.with_note(format!(
                "declare it: `[models.{name}]` with `model = \"ai/...\"`; Compose refuses the \
                 file (\"refers to undefined model {name}\")"
            ));
            if let Some(hint) = crate::suggest::did_you_mean(name, declared()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
}
