//! `muster explain NAME`: one service as `gen` emits it, each value with the layer that set it.
//!
//! The keys are read back from the emitted Compose file itself, so the listing cannot drift from
//! what `gen` writes. The layers come from the resolve stage's provenance; an emitted value
//! without provenance is the kind template's own output (its probe, a Celery command).

use crate::config::Inputs;
use crate::diagnostic::{Diagnostic, Diagnostics, Sources};
use crate::emit::compose;
use crate::error::Error;
use crate::model::Condition;
use crate::pipeline::{self, Session};
use crate::profile::{Figures, Measured, Profiles};
use crate::resolve::{Layer, Provenance, Service};
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};
use std::fmt::Write;

pub fn run(
    inputs: &Inputs,
    name: &str,
    json: bool,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let inputs = &Inputs {
        provenance: Provenance::Record,
        ..inputs.clone()
    };
    let stack = pipeline::stack(inputs, session)?;
    let Some(s) = stack
        .services
        .iter()
        .find(|s| s.rendered.service.name == name)
    else {
        session.diagnostics.push(unknown_service(&stack, name));
        return Err(Error::Invalid);
    };
    let emitted: Yaml =
        crate::yaml::from_str(&compose::emit(&stack)).expect("muster parses its own output");
    let body = emitted["services"][name]
        .as_mapping()
        .cloned()
        .unwrap_or_default();
    let files = layer_files(inputs, &stack, s)?;
    let rows = rows(&stack, s, &body);
    let budget = crate::emit::swarm::budget::budget(s, &stack);
    let measured = measured(inputs, &stack, name)?;
    Ok(Some(if json {
        to_json(&stack, s, &files, &rows, budget.as_ref(), measured.as_ref())
    } else {
        let mut text = render(&stack, s, &files, &rows);
        if let Some(b) = &budget {
            let _ = write!(
                text,
                "\non Swarm, which starts every service at once, its restart policy must outlast \
                 the chain below it:\n{}",
                b.describe(name)
            );
        }
        if let Some((m, f)) = &measured {
            let _ = write!(
                text,
                "\nmeasured by muster tune on {} ({} start(s) under profile {}): ready after {}; slowest probe {}; at most {} failed probe(s) before the first pass\n",
                m.date,
                m.runs,
                m.profile,
                f.ready.join(", "),
                f.slowest_probe,
                f.failures_before_ready
            );
        }
        text
    }))
}

/// What `muster tune` measured of the service, from the nearest profile along `extends` that
/// recorded it.
fn measured(
    inputs: &Inputs,
    stack: &Stack,
    name: &str,
) -> Result<Option<(Measured, Figures)>, Error> {
    let mut sources = Sources::default();
    let profiles = Profiles::load(
        Some(&inputs.profiles_dir),
        &mut sources,
        &mut Diagnostics::default(),
    )?;
    let Ok(chain) = profiles.chain(&stack.project.profile) else {
        return Ok(None);
    };
    Ok(chain.iter().rev().find_map(|p| {
        let m = p.file.measured.as_ref()?;
        let f = m.services.get(name)?;
        Some((m.clone(), f.clone()))
    }))
}

/// The listing for a script: the same rows, each value as the JSON it is in the Compose file.
fn to_json(
    stack: &Stack,
    s: &StackService,
    files: &[(String, String)],
    rows: &[(Vec<String>, String, Yaml)],
    budget: Option<&crate::emit::swarm::budget::Budget>,
    measured: Option<&(Measured, Figures)>,
) -> String {
    let service = &s.rendered.service;
    let swarm_budget = budget.map(|b| {
        serde_json::json!({
            "max_attempts": b.attempts,
            "delay_seconds": b.delay.map(|d| d.as_secs()),
            "needed_seconds": b.needed.as_secs(),
            "chain": b.chain.iter().map(|l| serde_json::json!({
                "service": l.service,
                "start_period_seconds": l.start_period.as_secs(),
                "first_probe_seconds": l.first_probe.as_secs(),
                "first_probe_after": l.probe_timing,
            })).collect::<Vec<_>>(),
        })
    });
    let measured = measured.map(|(m, f)| {
        serde_json::json!({
            "date": m.date,
            "profile": m.profile,
            "runs": m.runs,
            "margin": m.margin,
            "ready": f.ready,
            "slowest_probe": f.slowest_probe,
            "failures_before_ready": f.failures_before_ready,
        })
    });
    let document = serde_json::json!({
        "service": service.name,
        "kind": service.kind,
        "profile": stack.project.profile,
        // `null` for the newest: nothing was left out for an older Compose or Engine.
        "requires": {
            "compose": stack.project.requires.compose.map(|v| v.to_string()),
            "engine": stack.project.requires.engine.map(|v| v.to_string()),
        },
        "layers": files
            .iter()
            .map(|(layer, file)| serde_json::json!({ "layer": layer, "file": file }))
            .collect::<Vec<_>>(),
        "keys": rows
            .iter()
            .map(|(path, origin, value)| serde_json::json!({
                "key": display_path(path),
                "path": path,
                "set_by": origin,
                "value": value,
            }))
            .collect::<Vec<_>>(),
        // The restart budget `--target swarm` writes for a bounded policy; null without one.
        "swarm_restart_budget": swarm_budget,
        "measured": measured,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON values serialize");
    text.push('\n');
    text
}

/// Each emitted leaf: its key path, the layer that set it, and its value; a list the layers
/// merged from several of them, item by item. Then what a layer's `reset` or `override`
/// removed from the layers below, as `!reset KEY` and `!override KEY` rows.
fn rows(stack: &Stack, s: &StackService, body: &Mapping) -> Vec<(Vec<String>, String, Yaml)> {
    let mut leaves_found = Vec::new();
    leaves(body, &mut Vec::new(), &mut leaves_found);
    let mut rows = Vec::new();
    for (path, value) in leaves_found {
        match value {
            Yaml::Sequence(items) if !items.is_empty() => {
                list_rows(stack, s, &path, &items, &mut rows);
            }
            _ => {
                let origin = origin(stack, s, &path);
                rows.push((path, origin, value));
            }
        }
    }
    let service = &s.rendered.service;
    for (key, layer) in &service.provenance {
        if key.starts_with('!') {
            rows.push((vec![key.clone()], describe(layer, service), Yaml::Null));
        }
    }
    rows
}

fn unknown_service(stack: &Stack, name: &str) -> Diagnostic {
    if let Some(gone) = stack.project.left_out.iter().find(|l| l.name == name) {
        return Diagnostic::error(format!(
            "service `{name}` exists only under {}, not under profile `{}`",
            gone.only_in
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            stack.project.profile
        ))
        .at(
            stack.project.catalogue_source,
            Some(gone.span.clone()),
            "its `only_in`",
        )
        .with_note(format!(
            "`muster explain {name} --profile {}` shows it",
            gone.only_in[0]
        ));
    }
    let names = || stack.project.service_names.iter().map(String::as_str);
    let mut d = Diagnostic::error(format!("the catalogue has no service `{name}`")).with_note(
        format!("services: {}", names().collect::<Vec<_>>().join(", ")),
    );
    if let Some(hint) = crate::suggest::did_you_mean(name, names()) {
        d = d.with_note(hint);
    }
    d
}

/// The files behind the layers, lowest first, as (layer, file) for the listing's legend.
fn layer_files(
    inputs: &Inputs,
    stack: &Stack,
    s: &StackService,
) -> Result<Vec<(String, String)>, Error> {
    let kind = &s.rendered.service.kind;
    let kinds = super::kinds(inputs)?;
    let mut files = Vec::new();
    if let Some(k) = kinds.get(kind) {
        files.push(("kind template".to_owned(), k.template.display_name(kind)));
    }
    // Loaded again, apart from the run's session: the pipeline has already reported anything
    // wrong with them, and only their file names are wanted here.
    let mut sources = Sources::default();
    let profiles = Profiles::load(
        Some(&inputs.profiles_dir),
        &mut sources,
        &mut Diagnostics::default(),
    )?;
    if let Ok(chain) = profiles.chain(&stack.project.profile) {
        for p in chain {
            files.push((
                format!("profile {}", p.name),
                sources.name(p.source).to_owned(),
            ));
        }
    }
    files.push((
        "catalogue".to_owned(),
        inputs.catalogue.display().to_string(),
    ));
    Ok(files)
}

fn render(
    stack: &Stack,
    s: &StackService,
    files: &[(String, String)],
    rows: &[(Vec<String>, String, Yaml)],
) -> String {
    let service = &s.rendered.service;
    let requires = &stack.project.requires;
    let target = if requires.is_newest() {
        String::new()
    } else {
        format!(", for {requires}")
    };
    let mut out = format!(
        "service `{}`: kind {}, profile {}{target}\n\nlayers, lowest first:\n",
        service.name, service.kind, stack.project.profile
    );
    let width = files.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (layer, file) in files {
        let _ = writeln!(out, "  {layer:width$}  {file}");
    }
    let rows: Vec<[String; 3]> = rows
        .iter()
        .map(|(path, origin, value)| {
            // A `!reset` row names what is no longer there.
            let value = if path[0].starts_with('!') {
                "-".to_owned()
            } else {
                serde_json::to_string(value).expect("YAML values serialize as JSON")
            };
            [display_path(path), origin.clone(), value]
        })
        .collect();
    let key_width = rows.iter().map(|r| r[0].len()).max().unwrap_or(0).max(3);
    let origin_width = rows.iter().map(|r| r[1].len()).max().unwrap_or(0).max(6);
    let _ = writeln!(
        out,
        "\n{:key_width$}  {:origin_width$}  value",
        "key", "set by"
    );
    for [path, origin, value] in rows {
        let _ = writeln!(out, "{path:key_width$}  {origin:origin_width$}  {value}");
    }
    out
}

/// Who set one item of a list the layers merge (`ports`, `volumes`): the layer that wrote it,
/// the model cache, the `compose` table, or the kind template.
fn item_origin(s: &StackService, key: &str, item: &str) -> Option<String> {
    let service = &s.rendered.service;
    let layer = |key: &str| service.provenance.get(key).map(|l| describe(l, service));
    let catalogue_key = if key == "profiles" {
        "compose_profiles"
    } else {
        key
    };
    // The mounted probe's client is one more mount, which the emitter adds; no layer may mount
    // on its folder while it is in use (validate), so a mount there is muster's.
    if key == "volumes"
        && crate::mounted_probe::uses(s.rendered.body.mapping())
        && is_probe_mount(item)
    {
        return Some(MOUNTED.to_owned());
    }
    if let Some(l) = layer(&format!("{catalogue_key}[{item}]")) {
        return Some(l);
    }
    let json = serde_json::to_string(item).expect("a string serializes");
    if let Some(l) = layer(&format!("compose.{key}[{json}]")) {
        return Some(format!("compose in {l}"));
    }
    if key == "volumes" && service.model_cache.as_deref() == Some(item) {
        return layer("model_cache").map(|l| format!("model_cache in {l}"));
    }
    None
}

/// Whether a `volumes` item, as [`list_rows`] spells it (a string, or a long form as JSON),
/// mounts the mounted probe's folder.
fn is_probe_mount(item: &str) -> bool {
    use crate::mounted_probe::{DIR, NAME};
    item == format!("{NAME}:{DIR}:ro") || item.contains(&format!("\"target\":\"{DIR}\""))
}

/// The rows of one list: one row when a single layer gave every item, else a row per item
/// (`ports[1]`), each with the layer that gave it.
fn list_rows(
    stack: &Stack,
    s: &StackService,
    path: &[String],
    items: &[Yaml],
    out: &mut Vec<(Vec<String>, String, Yaml)>,
) {
    let merged_key = path.len() == 1
        && matches!(
            path[0].as_str(),
            "volumes" | "ports" | "env_file" | "networks" | "profiles"
        );
    let origins: Vec<String> = items
        .iter()
        .map(|item| {
            let item = match item {
                Yaml::String(text) => text.clone(),
                other => serde_json::to_string(other).expect("YAML values serialize as JSON"),
            };
            let mut item_path = path.to_vec();
            item_path.push(item);
            origin(stack, s, &item_path)
        })
        .collect();
    let one_layer = origins.windows(2).all(|w| w[0] == w[1]);
    if !merged_key || one_layer {
        let origin = match origins.first() {
            Some(first) if merged_key => first.clone(),
            _ => origin(stack, s, path),
        };
        out.push((path.to_vec(), origin, Yaml::Sequence(items.to_vec())));
        return;
    }
    for (i, (item, origin)) in items.iter().zip(origins).enumerate() {
        let mut item_path = path.to_vec();
        item_path.push(format!("[{i}]"));
        out.push((item_path, origin, item.clone()));
    }
}

/// Every value that is not a non-empty mapping, with its key path, in emitted order. Lists are
/// leaves: a layer sets a list whole.
fn leaves(map: &Mapping, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Yaml)>) {
    for (key, value) in map {
        let key = match key {
            Yaml::String(k) => k.clone(),
            other => serde_json::to_string(other).expect("YAML keys serialize as JSON"),
        };
        path.push(key);
        match value {
            Yaml::Mapping(m) if !m.is_empty() => leaves(m, path, out),
            _ => out.push((path.clone(), value.clone())),
        }
        path.pop();
    }
}

/// `environment."discovery.type"`: a segment with a dot is quoted so the path stays readable;
/// an item of a list is `ports[1]`; a reset is `!reset gpus`, as its row has it.
fn display_path(path: &[String]) -> String {
    if let [only] = path
        && only.starts_with('!')
    {
        return only.clone();
    }
    let mut out = String::new();
    for p in path {
        if p.starts_with('[') && p.ends_with(']') {
            out.push_str(p);
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        if p.contains(['.', ' ', '"']) {
            out.push_str(&serde_json::to_string(p).expect("a string serializes"));
        } else {
            out.push_str(p);
        }
    }
    out
}

/// Who set the emitted value at `path`. The `compose` passthrough is merged last, so it is asked
/// first.
fn origin(stack: &Stack, s: &StackService, path: &[String]) -> String {
    let service = &s.rendered.service;
    let layer = |key: &str| service.provenance.get(key).map(|l| describe(l, service));
    if let Some(l) = layer(&format!("compose.{}", path.join("."))) {
        return format!("compose in {l}");
    }
    let key = path[0].as_str();
    let sub = path.get(1).map(String::as_str).unwrap_or_default();
    let found = match key {
        // A secret's file variable is written for the `env` entry that names the secret.
        "environment" => layer(&format!("env.{sub}")).or_else(|| {
            let secret = service.secret_env.iter().find(|e| e.file_variable == sub)?;
            layer(&format!("env.{}", secret.variable))
                .map(|l| format!("{l} (secret `{}`)", secret.variable))
        }),
        "secrets" => service
            .secret_env
            .first()
            .and_then(|e| layer(&format!("env.{}", e.variable)))
            .map(|l| format!("env secrets in {l}")),
        // The emitter labels every service with a healthcheck when the profile asks for autoheal.
        "labels" => layer(&format!("labels.{sub}")).or_else(|| {
            (sub == "autoheal" && stack.project.autoheal)
                .then(|| format!("profile {} autoheal", stack.project.profile))
        }),
        "healthcheck" => layer(&format!("healthcheck.{sub}")),
        "deploy" if sub == "replicas" => layer("replicas"),
        "volumes" | "ports" | "env_file" | "networks" | "profiles" if path.len() == 2 => {
            item_origin(s, key, sub)
        }
        "networks" => layer(&format!("networks[{sub}]")),
        "depends_on" if sub == crate::mounted_probe::NAME => Some(MOUNTED.to_owned()),
        "depends_on" => match path.get(2).map(String::as_str) {
            // An option the dependency's entry did not write came from `depends_on_options`.
            Some(option @ ("restart" | "required")) => layer(&format!("depends_on.{sub}.{option}"))
                .or_else(|| {
                    layer(&format!("depends_on_options.{option}"))
                        .map(|l| format!("depends_on_options in {l}"))
                }),
            _ => layer(&format!("depends_on.{sub}.condition")).or_else(|| {
                layer(&format!("depends_on.{sub}")).map(|l| dependency_origin(s, sub, l))
            }),
        },
        other => layer(other),
    };
    found.unwrap_or_else(|| "kind template".to_owned())
}

/// Who adds the mounted probe's client and the wait for its installer.
const MOUNTED: &str = "muster's mounted probe";

fn describe(layer: &Layer, service: &Service) -> String {
    match layer {
        Layer::ProfileKind(p) => format!("profile {p} [kinds.{}]", service.kind),
        Layer::Measured { profile, date } => {
            format!(
                "profile {profile} [services.{}], measured {date}",
                service.name
            )
        }
        other => other.to_string(),
    }
}

/// The layer that listed the dependency, and why its condition is what it is when the
/// catalogue let muster infer it.
fn dependency_origin(s: &StackService, target: &str, layer: String) -> String {
    let asked = s
        .rendered
        .service
        .depends_on
        .iter()
        .any(|d| d.target == target && d.condition.is_some());
    let inferred = s.depends_on.iter().find(|e| e.target == target);
    match inferred {
        Some(edge) if !asked => {
            let why = match edge.condition {
                Condition::Completed => "is a job",
                Condition::Healthy => "has a healthcheck",
                Condition::Started => "has no healthcheck",
            };
            format!("{layer}, inferred: {target} {why}")
        }
        _ => layer,
    }
}
