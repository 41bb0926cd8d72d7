//! Stage 3, render: each service's kind template turns the resolved service into Compose keys,
//! which are parsed back into YAML values and overlaid with the keys the catalogue models.
//!
//! Templates render in strict mode (an undefined name is an error, not an empty string) and with
//! JSON auto-escaping: every `{{ value }}` is written as a JSON scalar, list or map, which is
//! valid YAML flow syntax, so no name, env value or command can change the structure of the
//! document. What would write a value unescaped is refused: the `safe` filter and
//! `{% autoescape false %}`. The result is parsed, never concatenated into the output as text:
//! by [`crate::yaml::parse`], which has a quick path for the small subset templates write; then
//! [`output`] resolves its merge keys, refuses what Compose or muster cannot carry (tags,
//! non-string keys, a whole file), and reads its `depends_on` into the service's dependencies,
//! which validation checks as it checks the catalogue's.
//!
//! A built-in template's output depends only on the service fields it reads, which minijinja
//! can list, so it is rendered and read once for each distinct set of their values. User
//! templates render for every service.

mod output;

use crate::compose_body::ComposeBody;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::kinds::{Kinds, TemplateOrigin};
use crate::probe::{self, HttpClient};
use crate::resolve::{Dependency, Model, Project, Service};
use crate::yaml::{Mapping, Value as Yaml};
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

#[derive(Debug)]
pub struct RenderedModel {
    pub project: Project,
    pub services: Vec<Rendered>,
}

/// A service with its Compose body, before the dependency graph adds `depends_on`.
#[derive(Debug)]
pub struct Rendered {
    /// Boxed: a resolved service is about a kilobyte, and the stages after this one move
    /// services from one list into the next, which held two copies of every one at once.
    pub service: Box<Service>,
    pub body: ComposeBody,
    /// The kind template's source, where a value it rendered is pointed at.
    pub template: SourceId,
}

impl Rendered {
    /// Whether Compose will run a healthcheck for this service, which decides what its
    /// dependents may wait for.
    pub fn has_healthcheck(&self) -> bool {
        self.body.has_healthcheck()
    }
}

/// The templates of every kind, compiled once and reused for every service of that kind.
pub struct Renderer {
    env: Environment<'static>,
    /// Template name -> the source id diagnostics quote.
    sources: HashMap<String, SourceId>,
    /// Kinds whose template is the user's own: their probes are the user's call.
    user_templates: HashSet<String>,
    /// For each built-in template, the service fields it reads (`port`, `engine`): its output
    /// is the same for services that agree on them, so it is rendered and read once for each
    /// distinct set of values rather than once per service.
    reads: HashMap<String, Vec<String>>,
}

/// Template output already read, by kind and by the values of the fields the template reads.
type Memo<'r> = HashMap<&'r str, HashMap<Vec<Value>, Mapping>>;

impl Renderer {
    pub fn new(kinds: &Kinds, sources: &mut Sources, diagnostics: &mut Diagnostics) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::Json);
        // Strict mode stops `{{ service.nme }}`, but an undefined value nested in a list or map
        // would still be written out as `null`; refuse it the same way.
        env.set_formatter(|out, state, value| {
            // `{% autoescape false %}` (or "html") would write values as raw text, which can
            // change the YAML's structure.
            if state.auto_escape() != AutoEscape::Json {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    "values are written as JSON in kind templates, so that none can change the \
                     YAML's structure; `{% autoescape %}` cannot turn that off",
                ));
            }
            if contains_undefined(value) {
                return Err(minijinja::Error::new(
                    ErrorKind::UndefinedError,
                    "the value contains an undefined name",
                ));
            }
            minijinja::escape_formatter(out, state, value)
        });
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function("http_probe", http_probe);
        env.add_function("tcp_probe", tcp_probe);
        // The built-in `safe` marks a value as needing no escaping: it would be written as raw
        // YAML, and a value such as "x\nprivileged: true" would add keys.
        env.add_filter("safe", |_: Value| -> Result<Value, minijinja::Error> {
            Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                "the `safe` filter is refused in kind templates: every value is written as \
                     JSON, so that none can change the YAML's structure",
            ))
        });
        env.add_filter("shell_quote", |word: String| {
            probe::escape_dollars(&probe::shell_quote(&word))
        });
        let mut ids = HashMap::new();
        for kind in kinds.iter() {
            let display = kind.template.display_name(&kind.name);
            let id = sources.add(display, kind.template.source.clone());
            if let Err(e) = env.add_template_owned(kind.name.clone(), kind.template.source.clone())
            {
                diagnostics.push(template_error(&e, id, sources, &kind.name, None));
            }
            ids.insert(kind.name.clone(), id);
        }
        let user_templates: HashSet<String> = kinds
            .iter()
            .filter(|k| k.template.origin != TemplateOrigin::BuiltIn)
            .map(|k| k.name.clone())
            .collect();
        let reads = kinds
            .iter()
            .filter(|k| !user_templates.contains(&k.name))
            .filter_map(|k| Some((k.name.clone(), fields_read(&env, &k.name)?)))
            .collect();
        Renderer {
            env,
            sources: ids,
            user_templates,
            reads,
        }
    }

    pub fn render(
        &self,
        model: Model,
        sources: &Sources,
        diagnostics: &mut Diagnostics,
    ) -> RenderedModel {
        let mut memo = Memo::new();
        // Sized up front: collecting from `filter_map` grows the list by doubling, up to twice
        // the memory the services need.
        let mut services = Vec::with_capacity(model.services.len());
        services.extend(
            model.services.into_iter().filter_map(|service| {
                self.render_service(service, sources, &mut memo, diagnostics)
            }),
        );
        RenderedModel {
            project: model.project,
            services,
        }
    }

    fn render_service<'r>(
        &'r self,
        mut service: Service,
        sources: &Sources,
        memo: &mut Memo<'r>,
        diagnostics: &mut Diagnostics,
    ) -> Option<Rendered> {
        let view = Value::from_serialize(ServiceView::new(&service));
        let memo_entry = self
            .reads
            .get_key_value(&service.kind)
            .map(|(kind, fields)| {
                let values: Vec<Value> = fields
                    .iter()
                    .map(|f| view.get_attr(f).unwrap_or_default())
                    .collect();
                (kind.as_str(), values)
            });
        let cached = memo_entry
            .as_ref()
            .and_then(|(kind, values)| memo.get(kind)?.get(values));
        let kind_layer = match cached {
            Some(layer) => layer.clone(),
            None => {
                let layer = self.render_template(&service, view, sources, diagnostics)?;
                if let Some((kind, values)) = memo_entry {
                    memo.entry(kind).or_default().insert(values, layer.clone());
                }
                layer
            }
        };
        let mut kind_layer = kind_layer;
        // The template's dependencies are checked with the catalogue's, by validation; the
        // catalogue's, when it names any, replace them as any other key of a higher layer.
        if let Some(deps) = kind_layer.shift_remove("depends_on") {
            let source = self.sources[&service.kind];
            let text = sources.text(source);
            match output::dependencies(&deps) {
                Ok(named) => {
                    // The template is the lowest layer: the catalogue's layers merge over its
                    // dependencies by service, as over each other's, and their resets drop them.
                    let reset = |target: &str| {
                        service.template_resets.iter().any(|p| {
                            p.first().is_some_and(|k| k == "depends_on")
                                && p.get(1).is_none_or(|t| t == target)
                        })
                    };
                    let mut merged: Vec<Dependency> = named
                        .into_iter()
                        .filter(|n| !reset(&n.target))
                        .map(|n| Dependency {
                            span: dependency_span(text, &n.target),
                            target: n.target,
                            condition: n.condition,
                            options: service.depends_on_options,
                            source,
                        })
                        .collect();
                    for d in std::mem::take(&mut service.depends_on) {
                        match merged.iter_mut().find(|m| m.target == d.target) {
                            Some(m) => {
                                let condition = d.condition.or(m.condition);
                                *m = Dependency { condition, ..d };
                            }
                            None => merged.push(d),
                        }
                    }
                    service.depends_on = merged;
                }
                Err(problem) => {
                    diagnostics.push(self.problem(problem, &service, sources));
                    return None;
                }
            }
        }
        let user_template = self.user_templates.contains(&service.kind);
        // What the body says that Compose would refuse is validation's to report.
        let body = ComposeBody::build(kind_layer, &service, user_template);
        Some(Rendered {
            template: self.sources[&service.kind],
            service: Box::new(service),
            body,
        })
    }
}

impl Renderer {
    /// The kind template's output for one service, read as Compose keys; `None` once the
    /// problem is reported.
    fn render_template(
        &self,
        service: &Service,
        view: Value,
        sources: &Sources,
        diagnostics: &mut Diagnostics,
    ) -> Option<Mapping> {
        // A template that failed to compile was reported once, when it was added.
        let template = self.env.get_template(&service.kind).ok()?;
        let source = self.sources[&service.kind];
        let text = match template.render(minijinja::context! { service => view }) {
            Ok(text) => text,
            Err(e) => {
                diagnostics.push(template_error(
                    &e,
                    source,
                    sources,
                    &service.kind,
                    Some(&service.name),
                ));
                return None;
            }
        };
        match crate::yaml::parse(&text) {
            Ok(Yaml::Mapping(mut m)) => {
                let problems = output::check(&mut m);
                if problems.is_empty() {
                    let bad = output::interpolation(&m);
                    if bad.is_empty() {
                        return Some(m);
                    }
                    // A value the template copied from the catalogue was reported there; one
                    // the template wrote, or built, is the template's.
                    let template = sources.text(self.sources[&service.kind]);
                    let reported = diagnostics.has_errors();
                    for problem in bad {
                        let written = problem
                            .needle
                            .as_deref()
                            .is_some_and(|n| template.contains(n));
                        if written || !reported {
                            diagnostics.push(self.problem(problem, service, sources));
                        }
                    }
                    return None;
                }
                for problem in problems {
                    diagnostics.push(
                        self.problem(problem, service, sources)
                            .with_note(format!("rendered text:\n{text}")),
                    );
                }
                None
            }
            Ok(Yaml::Null) => Some(Mapping::new()),
            Ok(other) => {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "the `{}` template rendered {} for service `{}`, not a mapping of Compose keys",
                        service.kind,
                        yaml_type(&other),
                        service.name
                    ))
                    .at(source, Some(0..0), "in this template"),
                );
                None
            }
            Err(e) => {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "the `{}` template rendered invalid YAML for service `{}`: {e}",
                        service.kind, service.name
                    ))
                    .at(source, Some(0..0), "in this template")
                    .with_note(format!("rendered text:\n{text}")),
                );
                None
            }
        }
    }
}

impl Renderer {
    /// A problem of a template's output, at the text of the template it points at.
    fn problem(
        &self,
        problem: output::Problem,
        service: &Service,
        sources: &Sources,
    ) -> Diagnostic {
        let source = self.sources[&service.kind];
        let span = problem
            .needle
            .and_then(|needle| find(sources.text(source), &needle, 0))
            .unwrap_or(0..0);
        Diagnostic::error(format!(
            "the `{}` template rendered {} for service `{}`",
            service.kind, problem.message, service.name
        ))
        .at(source, Some(span), "in this template")
        .with_note(problem.note)
    }
}

/// Where `needle` first occurs in `text` from byte `from`.
fn find(text: &str, needle: &str, from: usize) -> Option<Range<usize>> {
    let at = from + text.get(from..)?.find(needle)?;
    Some(at..at + needle.len())
}

/// Where a template names a dependency: the name after `depends_on`, else `depends_on`, else
/// the template's start (a name the template computes is in no text of its own).
fn dependency_span(text: &str, target: &str) -> Range<usize> {
    let keyword = find(text, "depends_on", 0);
    keyword
        .as_ref()
        .and_then(|k| find(text, target, k.end))
        .or(keyword)
        .unwrap_or(0..0)
}

/// The service fields a template reads, when they are all it reads: every name it looks up is
/// an attribute of `service` or one of the environment's functions, which are pure. `None` when
/// it uses `service` whole (`service[name]`, `{{ service }}`) or anything else.
fn fields_read(env: &Environment, kind: &str) -> Option<Vec<String>> {
    let template = env.get_template(kind).ok()?;
    let mut fields: Vec<String> = Vec::new();
    for name in template.undeclared_variables(true) {
        if let Some(path) = name.strip_prefix("service.") {
            // `service.env.x` reads `env`: the whole map is then part of the key.
            let field = path.split('.').next().unwrap_or(path);
            if !fields.iter().any(|f| f == field) {
                fields.push(field.to_owned());
            }
        } else if env.globals().all(|(global, _)| global != name) {
            return None;
        }
    }
    // Sorted, so that the key's order does not depend on the set's.
    fields.sort();
    Some(fields)
}

/// What templates see of a service. Every field is present (absent values are `none`), so that
/// strict mode catches only real typos.
#[derive(Serialize)]
struct ServiceView<'a> {
    name: &'a str,
    kind: &'a str,
    engine: Option<&'a str>,
    image: Option<&'a str>,
    port: Option<u16>,
    health_port: Option<u16>,
    health_path: Option<&'a str>,
    ready_path: Option<&'a str>,
    app: &'a str,
    /// `curl`, `wget`, `python`, `bash-tcp`, `native` or `none`.
    probe: String,
    /// Seconds the probe itself may take.
    probe_timeout: u64,
    env: &'a indexmap::IndexMap<String, String>,
    /// The variables `env` gives as secrets, each with the file the container reads it from.
    secret_files: indexmap::IndexMap<&'a str, String>,
}

impl<'a> ServiceView<'a> {
    fn new(s: &'a Service) -> Self {
        ServiceView {
            name: &s.name,
            kind: &s.kind,
            engine: s.engine.as_deref(),
            image: s.image.as_deref(),
            port: s.port,
            health_port: s.health_port,
            health_path: s.health_path.as_deref(),
            ready_path: s.ready_path.as_deref(),
            app: &s.app,
            // The template still renders a probe, which the body then leaves out.
            probe: match s.probe {
                probe::Probe::Image => HttpClient::Curl.name().to_owned(),
                p => p.to_string(),
            },
            probe_timeout: s.healthcheck.probe_timeout_secs(),
            env: &s.env,
            secret_files: s
                .secret_env
                .iter()
                .map(|e| (e.variable.as_str(), e.target()))
                .collect(),
        }
    }
}

fn contains_undefined(value: &Value) -> bool {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::Undefined => true,
        // Strings iterate too, by character; only containers can hold an undefined.
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            let is_map = value.kind() == ValueKind::Map;
            value.try_iter().is_ok_and(|mut items| {
                items.any(|item| {
                    let nested = if is_map {
                        value.get_item(&item).unwrap_or_default()
                    } else {
                        item
                    };
                    contains_undefined(&nested)
                })
            })
        }
        _ => false,
    }
}

/// `http_probe(client, port, path, timeout)`: the Compose test for an HTTP endpoint.
fn http_probe(
    client: String,
    port: u16,
    path: String,
    timeout: u64,
) -> Result<Value, minijinja::Error> {
    let Some(client) = HttpClient::from_name(&client) else {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("http_probe: no HTTP client named {client:?}"),
        ));
    };
    Ok(Value::from_serialize(probe::http_test(
        client, port, &path, timeout,
    )))
}

/// `tcp_probe(port, send, expect, timeout)`: the Compose test for a line-based TCP protocol.
fn tcp_probe(port: u16, send: String, expect: String, timeout: u64) -> Value {
    Value::from_serialize(probe::tcp_test(port, &send, &expect, timeout))
}

fn yaml_type(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "nothing",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// A template error at the template's own file and line.
fn template_error(
    e: &minijinja::Error,
    source: SourceId,
    sources: &Sources,
    kind: &str,
    service: Option<&str>,
) -> Diagnostic {
    let what = match service {
        Some(name) => format!("the `{kind}` template failed for service `{name}`"),
        None => format!("the `{kind}` template does not compile"),
    };
    let detail = e
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| e.kind().to_string());
    let span = e
        .range()
        .or_else(|| e.line().map(|line| line_span(sources.text(source), line)));
    Diagnostic::error(format!("{what}: {detail}")).at(source, span, &e.kind().to_string())
}

/// The byte range of a 1-based line.
fn line_span(text: &str, line: usize) -> Range<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let len = text[start..].find('\n').unwrap_or(text.len() - start);
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(kind: &str) -> Option<Vec<String>> {
        let renderer = Renderer::new(
            &Kinds::built_in(),
            &mut Sources::default(),
            &mut Diagnostics::default(),
        );
        renderer.reads.get(kind).cloned()
    }

    #[test]
    fn built_in_templates_are_keyed_by_the_fields_they_read() {
        assert_eq!(reads("db").unwrap(), ["engine", "port", "secret_files"]);
        assert_eq!(
            reads("http").unwrap(),
            ["health_path", "health_port", "probe", "probe_timeout"]
        );
        assert_eq!(
            reads("search").unwrap(),
            ["engine", "env", "port", "probe_timeout", "secret_files"]
        );
        assert_eq!(reads("celery-worker").unwrap(), ["app", "probe_timeout"]);
        assert!(reads("broker").unwrap().is_empty());
    }

    #[test]
    fn a_template_that_uses_the_service_whole_is_rendered_for_each_service() {
        let mut env = Environment::new();
        env.add_function("http_probe", http_probe);
        for (name, source) in [
            ("whole", "labels: {{ service }}"),
            ("subscript", "x: {{ service[\"port\"] }}"),
            ("other", "x: {{ project }}"),
            (
                "fields",
                "x: {{ http_probe(service.probe, service.port, \"/\", 1) }}",
            ),
        ] {
            env.add_template(name, source).unwrap();
        }
        assert_eq!(fields_read(&env, "whole"), None);
        assert_eq!(fields_read(&env, "subscript"), None);
        assert_eq!(fields_read(&env, "other"), None);
        assert_eq!(fields_read(&env, "fields").unwrap(), ["port", "probe"]);
    }
}
