//! The one place `live` reads the pipeline: what muster decided for each service (probe, image
//! tools, timing, dependencies) and where in the catalogue each value can be changed. Everything
//! else in `live` reads a [`Plan`], so a change in the pipeline's types touches this file only.

use crate::diagnostic::{Label, SourceId, Sources};
use crate::model::Condition;
use crate::model::{DOCKER_DEFAULT_RETRIES, HealthKey};
use crate::probe::Probe;
use crate::resolve::Layer;
use crate::validate::{Stack, StackService};
use indexmap::IndexMap;
use std::ops::Range;
use std::time::Duration;

/// The stack as `live` needs it: services in dependency order (dependencies first, catalogue
/// order among equals).
#[derive(Debug)]
pub struct Plan {
    /// Compose's project name, as Compose derives it for the generated file.
    pub project: String,
    pub profile: String,
    pub catalogue: SourceId,
    pub services: Vec<Planned>,
    locator: Locator,
    /// The catalogue's text, which recorded evidence keeps beside what the engine showed.
    pub(crate) catalogue_text: String,
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    /// Runs to completion: done when it exits 0.
    pub job: bool,
    /// Its kind takes time to load: `muster check` asks for a start_period of 30 s or more.
    pub slow_to_start: bool,
    pub engine: Option<String>,
    pub image: Option<String>,
    /// The programs muster knows the image to have; `None` for a build or an unknown image.
    pub tools: Option<crate::images::Tools>,
    pub probe: Probe,
    pub port: Option<u16>,
    pub health_path: Option<String>,
    pub env: IndexMap<String, String>,
    /// The command's words, as the body has them (for telling what runs, e.g. Django).
    pub command: Vec<String>,
    pub healthcheck: Option<Timing>,
    pub depends_on: Vec<Wait>,
    /// The restart policy says the engine gives up after this many restarts (`on-failure:N`).
    pub restart_limit: Option<u32>,
    /// Where the service's table starts: the place to add a key it does not have.
    pub name_span: Range<usize>,
    /// The layer that set each value, by catalogue key path (`healthcheck.timeout`, `env.X`).
    provenance: IndexMap<String, Layer>,
}

/// A healthcheck's timing as the engine runs it: Docker's defaults where the body sets none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
    pub start_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct Wait {
    pub target: String,
    pub condition: Condition,
    /// The dependency as the catalogue wrote it.
    pub span: Range<usize>,
    pub source: SourceId,
}

impl Plan {
    /// `stack` was built with provenance recorded; `sources` holds the catalogue it read.
    pub fn new(stack: &Stack, sources: &Sources, compose_dir_name: &str) -> Plan {
        let catalogue = stack.project.catalogue_source;
        let project = stack
            .project
            .name
            .clone()
            .unwrap_or_else(|| normalize_project_name(compose_dir_name));
        let mut services: Vec<Planned> = stack.services.iter().map(planned).collect();
        order(&mut services);
        Plan {
            project,
            profile: stack.project.profile.clone(),
            catalogue,
            services,
            locator: Locator::new(sources.text(catalogue), &stack.project.profile),
            catalogue_text: sources.text(catalogue).to_owned(),
        }
    }

    pub fn service(&self, name: &str) -> Option<&Planned> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The services that wait for `name`.
    pub fn dependents<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Planned> + 'a {
        self.services
            .iter()
            .filter(move |s| s.depends_on.iter().any(|w| w.target == name))
    }

    /// A label at the catalogue line that sets `key` of `service` (`port`,
    /// `healthcheck.start_period`, `env.REDISCLI_AUTH`), or, when the catalogue does not set it,
    /// at the service's table with `add` as the message. A value set by a profile is named.
    pub fn fix(&self, service: &Planned, key: &str, change: &str, add: &str) -> Fix {
        match self.locator.find(&service.name, key) {
            Some(span) => Fix {
                label: Label::new(self.catalogue, span, change),
                note: None,
            },
            None => {
                let layer = service.provenance.get(key).filter(|l| {
                    !matches!(
                        l,
                        Layer::Catalogue | Layer::Override(_) | Layer::KindDefault
                    )
                });
                Fix {
                    label: Label::new(self.catalogue, service.name_span.clone(), add),
                    note: layer.map(|l| format!("`{key}` comes from the {l} layer now")),
                }
            }
        }
    }
}

/// Where to change a value, and which layer set it when that is not the catalogue.
#[derive(Debug, Clone)]
pub struct Fix {
    pub label: Label,
    pub note: Option<String>,
}

fn planned(s: &StackService) -> Planned {
    let service = &s.rendered.service;
    let body = &s.rendered.body;
    // A timing Compose took from the environment without a default is judged by Docker's:
    // the file muster wrote cannot say which value the engine got.
    let healthcheck = body.healthcheck().map(|hc| {
        let value = |key: HealthKey| {
            hc.duration(key)
                .and_then(|d| d.value)
                .or(key.docker_default())
                .unwrap_or_default()
        };
        Timing {
            interval: value(HealthKey::Interval),
            timeout: value(HealthKey::Timeout),
            // The engine holds the number Compose read; its default stands in for one unknown
            // here.
            retries: hc
                .retries
                .as_ref()
                .and_then(crate::model::Count::value)
                .unwrap_or(DOCKER_DEFAULT_RETRIES),
            start_period: value(HealthKey::StartPeriod),
            start_interval: value(HealthKey::StartInterval),
        }
    });
    let restart_limit = match body.restart {
        Some(crate::model::Restart::OnFailure(n)) => n,
        Some(crate::model::Restart::No) => Some(0),
        None => Some(0),
        _ => None,
    };
    Planned {
        name: service.name.clone(),
        job: service.traits.runs_to_completion,
        slow_to_start: service.traits.slow_to_start,
        engine: service.engine.clone(),
        image: service.image.clone(),
        tools: service.tools.clone(),
        probe: service.probe,
        port: service.health_port.or(service.port),
        health_path: service.health_path.clone(),
        env: service.env.clone(),
        command: match body.command() {
            Some(crate::compose_body::CommandRef::Line(line)) => {
                line.split_whitespace().map(str::to_owned).collect()
            }
            Some(crate::compose_body::CommandRef::Argv(words)) => {
                words.into_iter().map(str::to_owned).collect()
            }
            None => Vec::new(),
        },
        healthcheck,
        depends_on: s
            .depends_on
            .iter()
            .map(|e| Wait {
                target: e.target.clone(),
                condition: e.condition,
                span: e.span.clone(),
                source: e.source,
            })
            .collect(),
        restart_limit,
        name_span: service.name_span.clone(),
        provenance: service.provenance.clone(),
    }
}

/// Dependencies before dependents, catalogue order otherwise (validation refused cycles).
fn order(services: &mut Vec<Planned>) {
    let mut placed: Vec<Planned> = Vec::with_capacity(services.len());
    let mut rest = std::mem::take(services);
    while !rest.is_empty() {
        let ready = rest
            .iter()
            .position(|s| {
                s.depends_on.iter().all(|w| {
                    placed.iter().any(|p| p.name == w.target)
                        || !rest.iter().any(|r| r.name == w.target)
                })
            })
            .unwrap_or(0);
        placed.push(rest.remove(ready));
    }
    *services = placed;
}

/// Compose's own rule for a project name taken from a folder: lowercase, only `a-z0-9_-`,
/// starting with a letter or digit.
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

/// Finds where the catalogue text sets a key of a service. The catalogue's own types keep spans
/// only for the values its stages report on; a diagnosis may point at any key, so the text is
/// read again here with toml_edit, which keeps every span.
#[derive(Debug)]
struct Locator {
    doc: Option<toml_edit::Document<String>>,
    profile: String,
}

impl Locator {
    fn new(text: &str, profile: &str) -> Locator {
        Locator {
            doc: toml_edit::Document::parse(text.to_owned()).ok(),
            profile: profile.to_owned(),
        }
    }

    /// The span of `key` (dotted) in the service's `profiles.PROFILE` override, else in its
    /// entry: the key and its value.
    fn find(&self, service: &str, key: &str) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let entry = doc.as_table().get("services")?.get(service)?;
        let path: Vec<&str> = key.split('.').collect();
        let over = entry
            .get("profiles")
            .and_then(|p| p.get(self.profile.as_str()));
        over.and_then(|o| span_of(o, &path))
            .or_else(|| span_of(entry, &path))
    }
}

fn span_of(item: &toml_edit::Item, path: &[&str]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let (key, value) = item.as_table_like()?.get_key_value(first)?;
    if rest.is_empty() {
        let key_span = key.span()?;
        let end = value
            .span()
            .map_or(key_span.end, |v| v.end.max(key_span.end));
        return Some(key_span.start..end);
    }
    // A key that sets a whole table (`env = { ... }`) is the line to change for its keys too,
    // when the key itself is missing from it.
    span_of(value, rest).or_else(|| {
        let key_span = key.span()?;
        Some(key_span.start..value.span().map_or(key_span.end, |v| v.end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[services.web]\nkind = \"http\"\nport = 8000\n\
        env = { A = \"1\" }\nhealthcheck = { start_period = \"5s\" }\n\
        profiles.prod = { port = 9000 }\n";

    #[test]
    fn finds_the_override_first_then_the_entry() {
        let dev = Locator::new(TEXT, "dev");
        let prod = Locator::new(TEXT, "prod");
        let at = |l: &Locator, key: &str| l.find("web", key).map(|r| &TEXT[r]);
        assert_eq!(at(&dev, "port"), Some("port = 8000"));
        assert_eq!(at(&prod, "port"), Some("port = 9000"));
        assert_eq!(
            at(&dev, "healthcheck.start_period"),
            Some("start_period = \"5s\"")
        );
        // A key missing from a table the entry sets: the table is where it goes.
        assert_eq!(at(&dev, "env.B"), Some("env = { A = \"1\" }"));
        assert_eq!(at(&dev, "probe"), None);
    }

    #[test]
    fn project_names_as_compose_derives_them() {
        assert_eq!(normalize_project_name("My.Shop_1"), "myshop_1");
        assert_eq!(normalize_project_name("_x"), "x");
    }
}
