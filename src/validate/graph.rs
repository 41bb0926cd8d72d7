//! Stage 4, validate the service graph: every dependency names a service, none depends on
//! itself or closes a cycle, and every condition can be met. Conditions given as a list are
//! inferred here, once every service's healthcheck is known:
//!
//! - a `job` is waited for until it completes successfully;
//! - a service with a healthcheck is waited for until it is healthy;
//! - anything else, until it has started.
//!
//! Compose itself would accept `service_healthy` on a service without a healthcheck and fail only
//! at `docker compose up`; muster refuses it while generating.

use super::origin::Locator;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceId};
use crate::model::Condition;
use crate::render::{Rendered, RenderedModel};
use crate::resolve::Project;
use indexmap::IndexMap;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// The validated stack: services in catalogue order, each with its resolved dependencies.
#[derive(Debug)]
pub struct Stack {
    pub project: Project,
    pub services: Vec<StackService>,
}

#[derive(Debug)]
pub struct StackService {
    pub rendered: Rendered,
    /// Every dependency with its condition decided, and where the catalogue named it.
    pub depends_on: Vec<Edge>,
}

/// A dependency the stack keeps: what it waits for, and where it was written, so that an
/// emitter warning about it need not look the catalogue's entry up again.
#[derive(Debug, Clone)]
pub struct Edge {
    pub target: String,
    pub condition: Condition,
    pub options: crate::spec::DependencyOptions,
    pub source: SourceId,
    pub span: Range<usize>,
}

/// What a dependent needs to know of the service it waits for.
struct Target<'a> {
    has_healthcheck: bool,
    /// Left to the image's own HEALTHCHECK (`probe = "image"`), which muster cannot see:
    /// `healthy` may be asked of it, and is never inferred.
    image_healthcheck: bool,
    is_job: bool,
    /// Compose's `profiles`, under which alone it runs.
    compose_profiles: Vec<Cow<'a, str>>,
}

pub(super) fn validate(
    model: RenderedModel,
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) -> Stack {
    let by_name = targets(&model);
    let all_profiles = profile_names(&by_name);
    let names = &model.project.service_names;
    // A set, not the list: every dependency is looked up, and scanning the list made validation
    // quadratic in the number of services.
    let known: HashSet<&str> = names.iter().map(String::as_str).collect();
    let stack = Graph {
        known: &known,
        by_name: &by_name,
        project: &model.project,
        all_profiles: &all_profiles,
        names,
    };
    let mut edges: Vec<Vec<Edge>> = Vec::with_capacity(model.services.len());
    // The dependencies Compose adds of its own (`network_mode: service:X`, `links`,
    // `volumes_from`), for the cycle search only: they are not written to `depends_on`.
    let mut implicit_edges: Vec<Vec<Edge>> = Vec::with_capacity(model.services.len());
    for rendered in &model.services {
        implicit_edges.push(implicit(rendered, &stack, locator, diagnostics));
        let deps = rendered
            .service
            .depends_on
            .iter()
            .filter_map(|dep| judge(rendered, dep, &stack, diagnostics))
            .collect();
        edges.push(deps);
    }
    let every_edge: Vec<Vec<Edge>> = edges
        .iter()
        .zip(implicit_edges)
        .map(|(deps, mut implicit)| {
            let mut all = deps.clone();
            all.append(&mut implicit);
            all
        })
        .collect();
    report_cycles(&model.services, &every_edge, diagnostics);
    let services = model
        .services
        .into_iter()
        .zip(edges)
        .map(|(mut rendered, depends_on)| {
            if !depends_on.is_empty() {
                let edges = depends_on
                    .iter()
                    .map(|e| (e.target.as_str(), e.condition, e.options));
                rendered
                    .body
                    .set_depends_on(edges, &rendered.service.compose);
            }
            StackService {
                rendered,
                depends_on,
            }
        })
        .collect();
    Stack {
        project: model.project,
        services,
    }
}

/// What a dependent may ask of each service, gathered in one pass in catalogue order: looking
/// each dependency's target up in its body instead jumped across every body in memory, and at
/// 10,000 services validation cost twice as much per service as at 1,000, all of it in cache
/// misses.
fn targets(model: &RenderedModel) -> HashMap<&str, Target<'_>> {
    model
        .services
        .iter()
        .map(|r| {
            let target = Target {
                // An image whose Dockerfile declares a HEALTHCHECK has one even when muster
                // writes none; one whose Dockerfile turns it off has none to wait for.
                has_healthcheck: r.has_healthcheck()
                    || (r.service.probe == crate::probe::Probe::Image
                        && r.service.image_healthcheck
                            == crate::images::ImageHealthcheck::Declared),
                image_healthcheck: r.service.probe == crate::probe::Probe::Image
                    && r.service.image_healthcheck != crate::images::ImageHealthcheck::Off,
                is_job: r.service.traits.runs_to_completion,
                compose_profiles: r.body.compose_profiles(),
            };
            (r.service.name.as_str(), target)
        })
        .collect()
}

/// Every profile name the file uses, each a `--profile` selection to judge; sorted, so that the
/// selection a message names does not depend on hashing.
fn profile_names<'a>(by_name: &HashMap<&str, Target<'a>>) -> Vec<Cow<'a, str>> {
    let mut all: Vec<Cow<str>> = Vec::new();
    for target in by_name.values() {
        for p in &target.compose_profiles {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
    }
    all.sort();
    all
}

/// One dependency the catalogue or a template wrote, judged in the order Compose would refuse
/// it: itself, an undefined service, one `only_in` left out, one its profiles may not run, a
/// condition it cannot meet. The edge it keeps, with its condition decided, or `None` once
/// reported (or when its target failed an earlier stage, which reported it there).
fn judge(
    rendered: &Rendered,
    dep: &crate::resolve::Dependency,
    stack: &Graph,
    diagnostics: &mut Diagnostics,
) -> Option<Edge> {
    let service = &rendered.service;
    let here = |d: Diagnostic, label: &str| d.at(dep.source, Some(dep.span.clone()), label);
    if dep.target == service.name {
        diagnostics.push(here(
            Diagnostic::error(format!("service `{}` depends on itself", service.name)),
            "remove this dependency",
        ));
        return None;
    }
    if !stack.known.contains(dep.target.as_str()) {
        let mut d = here(
            Diagnostic::error(format!(
                "service `{}` depends on `{}`, which the catalogue does not define",
                service.name, dep.target
            )),
            "unknown service",
        );
        if let Some(hint) =
            crate::suggest::did_you_mean(&dep.target, stack.names.iter().map(String::as_str))
        {
            d = d.with_note(hint);
        }
        diagnostics.push(d);
        return None;
    }
    // Left out by `only_in`: Compose refuses a dependency on a service the file does not
    // define even when it is `required: false` (measured, 2.40.3).
    if let Some(gone) = stack.project.left_out.iter().find(|l| l.name == dep.target) {
        diagnostics.push(left_out_dependency(
            &service.name,
            gone,
            stack.project,
            here,
        ));
        return None;
    }
    let target = stack.by_name.get(dep.target.as_str())?;
    // The entry's `required = false`, or the `compose` table's `required: false` refining a
    // dependency the entry names.
    let optional = dep.options.required == Some(false)
        || passthrough_optional(&service.compose, &dep.target);
    // Compose accepts a dependency on a service behind profiles that are off when it is
    // `required = false` (measured, 2.40.3), and refuses it otherwise.
    if !optional
        && let Some(refused_under) = super::profiles::runs_without(
            &rendered.body.compose_profiles(),
            &target.compose_profiles,
            stack.all_profiles,
        )
    {
        diagnostics.push(
            here(
                Diagnostic::error(format!(
                    "service `{}` depends on `{}`, which Compose runs only under its profiles {}",
                    service.name,
                    dep.target,
                    super::profiles::shown(&target.compose_profiles)
                )),
                "a dependency Compose may not run",
            )
            .with_note(format!(
                "Compose refuses the file {refused_under}: service \"{}\" depends on undefined \
                 service \"{}\"",
                service.name, dep.target
            ))
            .with_note(format!(
                "give `{}` the same `compose_profiles`, take them off `{}`, or make the \
                 dependency `required = false`",
                service.name, dep.target
            )),
        );
        return None;
    }
    // An optional dependency that can never turn healthy is Compose's to warn about, not to
    // refuse: it starts the dependent at once ("optional dependency ... has no healthcheck
    // configured"; measured with Compose 2.26.1 and 2.40.3).
    if let Some(Condition::Healthy) = dep.condition
        && optional
        && let Some((why, _)) = unmeetable(Condition::Healthy, target, &dep.target)
    {
        diagnostics.push(
            here(
                Diagnostic::warning(format!(
                    "service `{}` waits for the optional `{}` {why}",
                    service.name, dep.target
                )),
                condition_label(Condition::Healthy),
            )
            .with_lint(crate::model::Lint::OptionalNeverReady)
            .with_note(
                "Compose warns and starts the dependent at once, so it does not wait at all; ask \
                 for \"started\" to say so, or give the dependency a healthcheck",
            ),
        );
    } else if let Some(condition) = dep.condition
        && let Some((why, note)) = unmeetable(condition, target, &dep.target)
    {
        diagnostics.push(
            here(
                Diagnostic::error(format!(
                    "service `{}` waits for `{}` {why}",
                    service.name, dep.target
                )),
                condition_label(condition),
            )
            .with_note(note),
        );
        return None;
    }
    let condition = match dep.condition {
        Some(c) => c,
        None if target.is_job => Condition::Completed,
        None if target.has_healthcheck => Condition::Healthy,
        None => Condition::Started,
    };
    Some(Edge {
        target: dep.target.clone(),
        condition,
        options: dep.options,
        source: dep.source,
        span: dep.span.clone(),
    })
}

/// What judging a service's dependencies, written or implicit, needs of the whole stack.
struct Graph<'a, 'b> {
    known: &'b HashSet<&'a str>,
    by_name: &'b HashMap<&'a str, Target<'a>>,
    project: &'a Project,
    all_profiles: &'b [Cow<'a, str>],
    names: &'a [String],
}

/// The services a body names outside `depends_on` (`network_mode: service:vpn`, `links`,
/// `volumes_from`), judged as Compose judges the dependencies it makes of them (compose-go
/// `loader.Normalize`, then `checkConsistency`): each must be a service of the file that runs
/// whenever this one does (they are `required: true`); returns them as edges for the cycle
/// search, which compose-go's `graph.CheckCycle` runs over them too.
fn implicit(
    rendered: &Rendered,
    cx: &Graph,
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) -> Vec<Edge> {
    let service = &rendered.service;
    let mut found = Vec::new();
    for dep in super::rules::implicit_dependencies(rendered) {
        let place = locator.locate(rendered, &dep.path);
        let here = |d: Diagnostic, label: &str| d.at(place.source, Some(place.span.clone()), label);
        let key = dep.key;
        let target = dep.target.as_str();
        let compose_says = format!(
            "Compose makes `{key}` a dependency and refuses the file: service \"{}\" depends on \
             undefined service \"{target}\"",
            service.name
        );
        if target == service.name {
            diagnostics.push(
                here(
                    Diagnostic::error(format!(
                        "service `{}` names itself in `{key}`",
                        service.name
                    )),
                    "names this service itself",
                )
                .with_note("Compose makes it a dependency on itself, a cycle it refuses"),
            );
            continue;
        }
        if !cx.known.contains(target) {
            let mut d = here(
                Diagnostic::error(format!(
                    "service `{}` names `{target}` in `{key}`, which the catalogue does not define",
                    service.name
                )),
                "unknown service",
            )
            .with_note(compose_says);
            if let Some(hint) =
                crate::suggest::did_you_mean(target, cx.names.iter().map(String::as_str))
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
            continue;
        }
        if let Some(gone) = cx.project.left_out.iter().find(|l| l.name == target) {
            diagnostics.push(left_out_dependency(&service.name, gone, cx.project, here));
            continue;
        }
        let Some(t) = cx.by_name.get(target) else {
            continue;
        };
        if let Some(refused_under) = super::profiles::runs_without(
            &rendered.body.compose_profiles(),
            &t.compose_profiles,
            cx.all_profiles,
        ) {
            diagnostics.push(
                here(
                    Diagnostic::error(format!(
                        "service `{}` names `{target}` in `{key}`, which Compose runs only under \
                         its profiles {}",
                        service.name,
                        super::profiles::shown(&t.compose_profiles)
                    )),
                    "a service Compose may not run",
                )
                .with_note(format!("{compose_says}, {refused_under}")),
            );
            continue;
        }
        found.push(Edge {
            target: dep.target,
            condition: Condition::Started,
            options: Default::default(),
            source: place.source,
            span: place.span,
        });
    }
    found
}

/// A service that stays depends on one that `only_in` leaves out under this profile.
fn left_out_dependency(
    dependent: &str,
    gone: &crate::resolve::LeftOut,
    project: &Project,
    here: impl Fn(Diagnostic, &str) -> Diagnostic,
) -> Diagnostic {
    let only = gone
        .only_in
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    here(
        Diagnostic::error(format!(
            "service `{dependent}` depends on `{}`, which exists only under {only}, not under \
             profile `{}`",
            gone.name, project.profile
        )),
        "depends on it here",
    )
    .with_label(crate::diagnostic::Label::new(
        project.catalogue_source,
        gone.span.clone(),
        "left out by this",
    ))
    .with_note(format!(
        "add `{}` to `{}`'s `only_in`, give `{dependent}` the same `only_in`, or name the \
         dependency in `profiles.NAME.depends_on` of the profiles that have it",
        project.profile, gone.name
    ))
}

/// Whether the `compose` table makes the dependency on `target` `required: false`
/// (`compose = { depends_on = { X = { required = false } } }`) for a dependency the entry's own
/// `depends_on` names, which the table then only refines.
fn passthrough_optional(passthrough: &crate::yaml::Mapping, target: &str) -> bool {
    passthrough
        .get("depends_on")
        .and_then(|d| d.get(target))
        .and_then(|d| d.get("required"))
        == Some(&crate::yaml::Value::Bool(false))
}

/// Reports each dependency cycle once, as the chain of names that closes it.
fn report_cycles(services: &[Rendered], edges: &[Vec<Edge>], diagnostics: &mut Diagnostics) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let index: IndexMap<&str, usize> = services
        .iter()
        .enumerate()
        .map(|(i, r)| (r.service.name.as_str(), i))
        .collect();
    let mut marks = vec![Mark::New; services.len()];
    // Iterative depth-first search: catalogues of thousands of services must not overflow the
    // stack.
    for root in 0..services.len() {
        if marks[root] != Mark::New {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Active;
        while let Some((node, next_edge)) = path.last_mut() {
            let node = *node;
            let Some(edge) = edges[node].get(*next_edge) else {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next_edge += 1;
            let Some(&t) = index.get(edge.target.as_str()) else {
                continue;
            };
            match marks[t] {
                Mark::New => {
                    marks[t] = Mark::Active;
                    path.push((t, 0));
                }
                Mark::Active => {
                    let start = path.iter().position(|(n, _)| *n == t).unwrap_or(0);
                    let mut cycle: Vec<&str> = path[start..]
                        .iter()
                        .map(|(n, _)| services[*n].service.name.as_str())
                        .collect();
                    cycle.push(services[t].service.name.as_str());
                    diagnostics.push(
                        Diagnostic::error(format!("dependency cycle: {}", cycle.join(" -> ")))
                            .at(
                                edge.source,
                                Some(edge.span.clone()),
                                "this dependency closes the cycle",
                            )
                            .with_note("Compose cannot start any service of a cycle"),
                    );
                }
                Mark::Done => {}
            }
        }
    }
}

/// Why `condition` can never be met by `target`, and what to do: Compose accepts the file, and
/// `docker compose up` fails or waits for ever.
fn unmeetable(condition: Condition, target: &Target, name: &str) -> Option<(String, String)> {
    match condition {
        Condition::Healthy if !target.has_healthcheck && !target.image_healthcheck => Some((
            format!("to be healthy, but `{name}` has no healthcheck"),
            format!(
                "`docker compose up` would fail with \"container {name} has no healthcheck \
                 configured\"; give `{name}` a healthcheck or ask for \"started\""
            ),
        )),
        Condition::Completed if !target.is_job => Some((
            format!("to complete, but `{name}` runs until it is stopped"),
            format!(
                "`docker compose up` would wait for `{name}` to exit forever; ask for \"healthy\" \
                 or \"started\", or make `{name}` a kind that runs to completion (`job`)"
            ),
        )),
        _ => None,
    }
}

fn condition_label(condition: Condition) -> &'static str {
    match condition {
        Condition::Healthy => "asks for `healthy`",
        Condition::Completed => "asks for `completed`",
        Condition::Started => "asks for `started`",
    }
}
