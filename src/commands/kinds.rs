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
use crate::model::Duration;
use crate::pipeline::Session;
use crate::probe::Probe;
use crate::profile::Profiles;
use crate::resolve::{self, Service};
use crate::spec::{Build, ServiceSpec};
use std::path::PathBuf;
use toml::Spanned;

const HEADER: [&str; 12] = [
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
];

pub fn run(inputs: &Inputs, session: &mut Session) -> Result<Option<String>, Error> {
    let kinds = super::kinds(inputs)?;
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let profiles = Profiles::load(Some(&inputs.profiles_dir), sources, diagnostics)
        .map_err(Error::io("read profiles from", &inputs.profiles_dir))?;
    let catalogue = Catalogue {
        path: PathBuf::from("<kinds>"),
        source: sources.add("<kinds>", ""),
        project: ProjectSpec::default(),
        services: kinds.iter().flat_map(samples).collect(),
    };
    let mut rows = Vec::new();
    for profile in profiles.names() {
        let chain = profiles.chain(profile).map_err(|d| {
            diagnostics.push(d);
            Error::Invalid
        })?;
        let model = resolve::resolve(
            &catalogue,
            &resolve::Context {
                kinds: &kinds,
                profiles: &chain,
                provenance: resolve::Provenance::Skip,
            },
            diagnostics,
        );
        for service in &model.services {
            let kind = kinds.get(&service.kind).expect("resolved from these kinds");
            let sample = catalogue
                .services
                .iter()
                .position(|e| e.name.get_ref() == &service.name);
            rows.push((sample, row(kind, profile, service)));
        }
    }
    if diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    // Kinds and engines in their listed order, each one's profiles together; the sort is stable.
    rows.sort_by_key(|(sample, _)| *sample);
    let rows: Vec<[String; 12]> = rows.into_iter().map(|(_, row)| row).collect();
    Ok(Some(table(&rows)))
}

/// One entry per engine of `kind`, or one for a kind that runs the user's own build.
fn samples(kind: &Kind) -> Vec<Entry> {
    let spanned = |value: &str| Spanned::new(0..0, value.to_owned());
    let entry = |engine: Option<&str>| Entry {
        name: spanned(&format!("{}.{}", kind.name, engine.unwrap_or("build"))),
        kind: spanned(&kind.name),
        spec: ServiceSpec {
            engine: engine.map(spanned),
            build: engine.is_none().then(|| {
                Spanned::new(
                    0..0,
                    Build {
                        context: ".".into(),
                        dockerfile: None,
                        target: None,
                        args: None,
                    },
                )
            }),
            ..ServiceSpec::default()
        },
    };
    if kind.engines.is_empty() {
        vec![entry(None)]
    } else {
        kind.engines.iter().map(|e| entry(Some(e))).collect()
    }
}

fn row(kind: &Kind, profile: &str, service: &Service) -> [String; 12] {
    let text = |value: Option<&str>| value.unwrap_or("-").to_owned();
    let origin = match kind.template.origin {
        TemplateOrigin::BuiltIn => "built-in",
        TemplateOrigin::User(_) => "user",
    };
    // A kind without a probe gets no healthcheck, whatever timing the profile sets.
    let probed = service.probe != Probe::None || service.healthcheck.test.is_some();
    let hc = &service.healthcheck;
    let timing = |value: Option<&str>| text(value.filter(|_| probed));
    [
        kind.name.clone(),
        origin.to_owned(),
        text(service.engine.as_deref()),
        text(service.image.as_deref()),
        service.probe.to_string(),
        profile.to_owned(),
        text(service.restart.map(|r| r.to_string()).as_deref()),
        timing(hc.interval.as_ref().map(Duration::text)),
        timing(hc.timeout.as_ref().map(Duration::text)),
        timing(hc.retries.map(|r| r.to_string()).as_deref()),
        timing(hc.start_period.as_ref().map(Duration::text)),
        timing(hc.start_interval.as_ref().map(Duration::text)),
    ]
}

/// Left-aligned columns two spaces apart, without trailing spaces.
fn table(rows: &[[String; 12]]) -> String {
    let header = HEADER.map(str::to_owned);
    let all = || std::iter::once(&header).chain(rows);
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|i| all().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in all() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
