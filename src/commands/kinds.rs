//! `muster kinds`: every kind, built-in or the user's, with its engines and the defaults each
//! profile gives it.
//!
//! The defaults are not a table kept beside the code, which would drift from it: each kind (once
//! per engine) is resolved as a one-key catalogue entry under every profile, by the same stage
//! `muster gen` runs, with the user's profiles and templates.

use crate::catalogue::{Catalogue, Entry, ProjectSpec};
use crate::config::Inputs;
use crate::error::Error;
use crate::kinds::{Kind, TemplateOrigin};
use crate::model::HealthKey;
use crate::pipeline::Session;
use crate::probe::Probe;
use crate::profile::Profiles;
use crate::resolve::{self, Service};
use crate::spec::{Build, ServiceSpec};
use std::path::PathBuf;
use toml::Spanned;

const HEADER: [&str; 13] = [
    "KIND",
    "ORIGIN",
    "ENGINE",
    "DEFAULT IMAGE",
    "PROBE",
    "PROFILE",
    "RESTART",
    "INTERVAL",
    "TIMEOUT",
    "RETRIES",
    "START_PERIOD",
    "START_INTERVAL",
    "MODEL CACHE",
];

pub fn run(inputs: &Inputs, json: bool, session: &mut Session) -> Result<Option<String>, Error> {
    let kinds = super::kinds(inputs)?;
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let profiles = Profiles::load(Some(&inputs.profiles_dir), sources, diagnostics)?;
    let catalogue = Catalogue {
        path: PathBuf::from("<kinds>"),
        source: sources.add("<kinds>", ""),
        project: ProjectSpec::default(),
        services: kinds.iter().flat_map(samples).collect(),
        broken: Vec::new(),
        unloaded: Vec::new(),
        resources: Default::default(),
        models: Default::default(),
        lock: None,
        dockerfiles: Default::default(),
    };
    let mut rows = Vec::new();
    for profile in profiles.names() {
        let chain = profiles.chain(profile).map_err(|d| {
            diagnostics.push(d);
            Error::Invalid
        })?;
        // A sample build has no Dockerfile to read: the warning that its client is a guess is
        // about the sample, not the kind; its PROBE shows `auto` instead (`row`).
        let mut found = crate::diagnostic::Diagnostics::default();
        let model = resolve::resolve(
            &catalogue,
            &resolve::Context {
                kinds: &kinds,
                profiles: &chain,
                provenance: resolve::Provenance::Skip,
            },
            &mut found,
        );
        found.retain(|d| d.severity == crate::diagnostic::Severity::Error);
        for d in found.as_slice() {
            diagnostics.push(d.clone());
        }
        for service in &model.services {
            let kind = kinds.get(&service.kind).expect("resolved from these kinds");
            let sample = catalogue
                .services
                .iter()
                .position(|e| e.name.get_ref() == &service.name);
            let cache = model_cache_setting(&chain, &kind.name);
            rows.push((sample, row(kind, profile, service, cache)));
        }
    }
    if diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    // Kinds and engines in their listed order, each one's profiles together; the sort is stable.
    rows.sort_by_key(|(sample, _)| *sample);
    let rows: Vec<[String; 13]> = rows.into_iter().map(|(_, row)| row).collect();
    Ok(Some(if json { to_json(&rows) } else { table(&rows) }))
}

/// One object per kind, engine and profile, keyed by the table's headers in lowercase; a value
/// the table shows as `-` is null.
fn to_json(rows: &[[String; 13]]) -> String {
    let objects: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            HEADER
                .iter()
                .zip(row)
                .map(|(key, value)| {
                    let key = key.to_ascii_lowercase().replace(' ', "_");
                    let value = (value != "-").then(|| value.clone());
                    (key, serde_json::json!(value))
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&objects).expect("JSON values serialize");
    text.push('\n');
    text
}

/// One entry per engine of `kind` that has a default image (one without, such as the
/// OpenTelemetry Collector's, needs the catalogue to name its image), or one for a kind that
/// runs the user's own build. Each entry gives its image what it needs to start, as a catalogue
/// would.
fn samples(kind: &Kind) -> Vec<Entry> {
    let spanned = |value: &str| Spanned::new(0..0, value.to_owned());
    let entry = |engine: Option<&str>| Entry {
        name: spanned(&format!("{}.{}", kind.name, engine.unwrap_or("build"))),
        kind: spanned(&kind.name),
        spec: Box::new(ServiceSpec {
            engine: engine.map(spanned),
            env: engine
                .and_then(crate::images::for_engine)
                .and_then(|facts| match facts.start {
                    Some(crate::images::StartNeeds::AnyVariable { vars, .. }) => {
                        let (name, value) = vars[0];
                        let value = crate::spec::EnvValue::Plain(crate::spec::Scalar(
                            value.unwrap_or("x").to_owned(),
                        ));
                        Some([(name.to_owned(), Spanned::new(0..0, value))].into())
                    }
                    _ => None,
                }),
            build: engine.is_none().then(|| {
                Spanned::new(
                    0..0,
                    Build {
                        context: ".".into(),
                        dockerfile: None,
                        dockerfile_inline: None,
                        target: None,
                        args: None,
                    },
                )
            }),
            ..ServiceSpec::default()
        }),
    };
    if kind.engines.is_empty() {
        vec![entry(None)]
    } else {
        kind.engines
            .iter()
            .filter(|e| crate::images::for_engine(e).is_some())
            .map(|e| entry(Some(e)))
            .collect()
    }
}

/// What the profile (along `extends`) says of a kind's model cache: its `[kinds.KIND]`
/// over its `[defaults]`, the nearest profile first. A sample runs the user's build, whose cache
/// path muster cannot know, so this is read from the profile rather than from the sample.
fn model_cache_setting(chain: &[&crate::profile::Profile], kind: &str) -> String {
    let setting = chain.iter().rev().find_map(|p| {
        p.file
            .kinds
            .iter()
            .find(|(k, _)| k.get_ref() == kind)
            .and_then(|(_, spec)| spec.model_cache.as_ref())
            .or(p.file.defaults.model_cache.as_ref())
    });
    match setting.map(Spanned::get_ref) {
        Some(crate::spec::ModelCache::On(true)) => {
            let known: Vec<String> = crate::images::IMAGES
                .iter()
                .filter_map(|f| Some(format!("{} {}", f.repositories[0], f.model_cache?)))
                .collect();
            format!("the image's path ({})", known.join(", "))
        }
        Some(crate::spec::ModelCache::Path(path)) => path.clone(),
        Some(crate::spec::ModelCache::On(false)) | None => "-".to_owned(),
    }
}

fn row(kind: &Kind, profile: &str, service: &Service, model_cache: String) -> [String; 13] {
    let text = |value: Option<&str>| value.unwrap_or("-").to_owned();
    let origin = match kind.template.origin {
        TemplateOrigin::BuiltIn => "built-in",
        TemplateOrigin::User(_) => "user",
    };
    // A kind without a probe gets no healthcheck, whatever timing the profile sets.
    let probed = service.probe != Probe::None || service.healthcheck.test.is_some();
    let hc = &service.healthcheck;
    let timings = HealthKey::TIMINGS.map(|key| {
        let value = match key {
            HealthKey::Retries => hc.retries.as_ref().map(|r| r.to_string()),
            _ => hc.duration(key).map(|d| d.text().to_owned()),
        };
        text(value.as_deref().filter(|_| probed))
    });
    let [interval, timeout, retries, start_period, start_interval] = timings;
    [
        kind.name.clone(),
        origin.to_owned(),
        text(service.engine.as_deref()),
        text(service.image.as_deref()),
        // A build's client is the one its image has: which, its Dockerfile says.
        match service.probe {
            Probe::Http(_) if service.build.is_some() => "auto".to_owned(),
            probe => probe.to_string(),
        },
        profile.to_owned(),
        text(service.restart.as_deref()),
        interval,
        timeout,
        retries,
        start_period,
        start_interval,
        model_cache,
    ]
}

/// One block per kind and engine: what it runs, then its defaults under each profile. A row per
/// profile of all twelve columns took 185 characters; this fits an 80-column terminal.
fn table(rows: &[[String; 13]]) -> String {
    let mut out = String::new();
    let mut start = 0;
    while start < rows.len() {
        let first = &rows[start];
        let same = |r: &[String; 13]| r[0] == first[0] && r[2] == first[2];
        let end = start + rows[start..].iter().take_while(|r| same(r)).count();
        let block = &rows[start..end];
        let engine = match first[2].as_str() {
            "-" => String::new(),
            engine => format!(", engine {engine}"),
        };
        let image = match first[3].as_str() {
            "-" => "your image or build".to_owned(),
            image => format!("image {image}"),
        };
        out.push_str(&format!("{}{engine} ({})\n", first[0], first[1]));
        out.push_str(&format!("  {image}, probe {}\n", first[4]));
        if let Some(cache) = block.iter().map(|r| &r[12]).find(|c| *c != "-") {
            // One image a line, to fit 80 columns: "the image's path (a /x, b /y)".
            match cache.split_once(" (") {
                Some((at, known)) => {
                    out.push_str(&format!(
                        "  model cache: NAME-models at {at}, where known:\n"
                    ));
                    for image in known.trim_end_matches(')').split(", ") {
                        out.push_str(&format!("    {image}\n"));
                    }
                }
                None => out.push_str(&format!("  model cache: NAME-models at {cache}\n")),
            }
        }
        // The profile column has no header: its values say what they are.
        let header: Vec<String> = std::iter::once(String::new())
            .chain(std::iter::once("restart".to_owned()))
            .chain(HealthKey::TIMINGS.iter().map(|k| k.name().to_owned()))
            .collect();
        let lines: Vec<Vec<String>> = std::iter::once(header)
            .chain(block.iter().map(|r| r[5..12].to_vec()))
            .collect();
        let widths: Vec<usize> = (0..lines[0].len())
            .map(|i| {
                lines
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &lines {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            out.push_str(format!("  {}", cells.join("  ")).trim_end());
            out.push('\n');
        }
        out.push('\n');
        start = end;
    }
    // The one key of the table an older engine refuses, as `features::FEATURES` has it.
    if let Some(f) = crate::features::FEATURES
        .iter()
        .find(|f| f.key == crate::features::Gated::StartInterval)
    {
        let need = |v: Option<crate::model::version::Version>| {
            v.map(|v| v.to_string()).unwrap_or_default()
        };
        out.push_str(&format!(
            "start_interval needs Docker Engine {} and Compose {}; for older ones,\ndeclare \
             them in `[project] requires` and it is left out\n",
            need(f.engine),
            need(f.compose)
        ));
    }
    out
}
