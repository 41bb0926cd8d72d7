//! `muster import FILE`: a catalogue draft from an existing Compose file.
//!
//! Three steps. Read: YAML anchors and merge keys resolved, `extends` flattened, `x-` fields
//! set aside. Map: each service's kind and engine inferred from its image, command and
//! healthcheck, every Compose key muster models moved onto its catalogue key, and the rest kept
//! under `compose`. Minimize: the draft is run through the real pipeline under the profile the
//! file was written for, and whatever muster would generate anyway is left out: the kind's probe,
//! timings equal to the profile's, the profile's restart policy, a Celery command, `depends_on`
//! conditions muster infers. That is what makes `gen` of an import of a generated file give the
//! same file back, and what keeps a draft of a hand-written file short.
//!
//! Every service gets a comment saying where its kind came from, and what could not be carried
//! over.

use crate::config::Inputs;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::graph::{Stack, StackService};
use crate::images::{self, ImageRef};
use crate::kinds::{Kinds, ProbeStyle};
use crate::pipeline::{self, Session};
use crate::probe;
use indexmap::IndexMap;
use serde_yaml::{Mapping, Value as Yaml};
use std::path::{Path, PathBuf};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table};

pub fn run(
    inputs: &Inputs,
    compose: &Path,
    output: Option<&Path>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let kinds = super::kinds(inputs)?;
    let file = read(compose, session)?;
    let profile = inputs.profile.clone().unwrap_or_else(|| "dev".to_owned());
    let mut draft = Draft::new(file, compose, &kinds, session)?;
    draft.minimize(inputs, &profile)?;
    let text = draft.to_toml(compose, &profile);
    match output {
        None => Ok(Some(text)),
        Some(path) => {
            write_new(path, &text)?;
            Ok(None)
        }
    }
}

/// A catalogue is edited by hand: an import never replaces one.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}

/// The Compose file as one YAML value, merge keys applied (serde_yaml resolves anchors and
/// aliases as it parses, but leaves `<<` to `apply_merge`).
fn read(path: &Path, session: &mut Session) -> Result<Mapping, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::io("read", path))?;
    let source = session
        .sources
        .add(path.display().to_string(), text.clone());
    let invalid = |session: &mut Session, d: Diagnostic| {
        session.diagnostics.push(d);
        Error::Invalid
    };
    let mut value: Yaml = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let span = e.location().map(|l| l.index()..l.index());
            return Err(invalid(
                session,
                Diagnostic::error(format!("invalid Compose file: {e}")).at(source, span, "here"),
            ));
        }
    };
    if let Err(e) = value.apply_merge() {
        return Err(invalid(
            session,
            Diagnostic::error(format!(
                "invalid merge key (`<<`) in {}: {e}",
                path.display()
            )),
        ));
    }
    match value {
        Yaml::Mapping(m) if m.get("services").is_some_and(Yaml::is_mapping) => Ok(m),
        _ => Err(invalid(
            session,
            Diagnostic::error(format!("{} has no `services` mapping", path.display())).at(
                source,
                Some(0..0),
                "expected a Compose file",
            ),
        )),
    }
}

/// One service of the draft.
struct Entry {
    name: String,
    kind: String,
    /// Why this kind, for the comment above the entry.
    reason: String,
    guessed: bool,
    /// Catalogue keys (but `kind` and `compose`), as YAML values until the TOML is written.
    keys: Mapping,
    /// Compose keys muster does not model, passed through.
    compose: Mapping,
    /// Each dependency with the condition the source asked for (Compose's name).
    depends_on: Vec<(String, String)>,
    /// The service as the source file defines it, `extends` applied.
    source: Mapping,
    notes: Vec<String>,
}

struct Draft {
    project_name: Option<String>,
    entries: Vec<Entry>,
    notes: Vec<String>,
}

impl Draft {
    fn new(
        mut file: Mapping,
        path: &Path,
        kinds: &Kinds,
        session: &mut Session,
    ) -> Result<Self, Error> {
        let mut notes = Vec::new();
        let services = match file.remove("services") {
            Some(Yaml::Mapping(m)) => m,
            _ => Mapping::new(),
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut entries = Vec::new();
        for (name, _) in &services {
            let Some(name) = name.as_str() else {
                continue;
            };
            let service = flatten(name, &services, &dir, 0).map_err(|message| {
                session.diagnostics.push(Diagnostic::error(format!(
                    "service `{name}` in {}: {message}",
                    path.display()
                )));
                Error::Invalid
            })?;
            entries.push(Entry::new(name, service, kinds));
        }
        let project_name = file.get("name").and_then(Yaml::as_str).map(str::to_owned);
        for (key, value) in &file {
            let key = key.as_str().unwrap_or_default();
            match key {
                "name" | "services" => {}
                "version" => notes.push("`version` is obsolete in Compose and was dropped".into()),
                "volumes" | "networks" => {
                    for (item, settings) in value.as_mapping().into_iter().flatten() {
                        if !is_empty(settings) {
                            notes.push(format!(
                                "top-level {key} `{}` has settings muster does not write \
                                 (it declares every named one empty): add them to the \
                                 generated file by hand",
                                item.as_str().unwrap_or_default()
                            ));
                        }
                    }
                }
                k if k.starts_with("x-") => notes.push(format!(
                    "`{k}` is an extension field: what the services took from it through anchors \
                     is in their entries; the field itself is not kept"
                )),
                other => notes.push(format!(
                    "top-level `{other}` has no place in a catalogue and was not kept"
                )),
            }
        }
        Ok(Draft {
            project_name,
            entries,
            notes,
        })
    }
}

fn is_empty(value: &Yaml) -> bool {
    match value {
        Yaml::Null => true,
        Yaml::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// The service with `extends` applied, recursively, from this file or another one.
fn flatten(name: &str, services: &Mapping, dir: &Path, depth: usize) -> Result<Mapping, String> {
    // Compose itself refuses cycles; a bound is enough to stop one here.
    if depth > 16 {
        return Err("`extends` goes around in a circle".into());
    }
    let Some(Yaml::Mapping(service)) = services.get(name) else {
        return Err(format!("extends `{name}`, which is not a service there"));
    };
    let mut service = service.clone();
    let Some(extends) = service.remove("extends") else {
        return Ok(service);
    };
    let (base_name, file) = match &extends {
        Yaml::String(s) => (s.clone(), None),
        Yaml::Mapping(m) => (
            m.get("service")
                .and_then(Yaml::as_str)
                .ok_or("`extends` names no `service`")?
                .to_owned(),
            m.get("file").and_then(Yaml::as_str).map(PathBuf::from),
        ),
        _ => return Err("`extends` is neither a name nor a mapping".into()),
    };
    let base = match file {
        None => flatten(&base_name, services, dir, depth + 1)?,
        Some(file) => {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut other: Yaml = serde_yaml::from_str(&text)
                .map_err(|e| format!("invalid Compose file {}: {e}", path.display()))?;
            other.apply_merge().map_err(|e| e.to_string())?;
            let other_services = other
                .get("services")
                .and_then(Yaml::as_mapping)
                .cloned()
                .unwrap_or_default();
            let other_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            flatten(&base_name, &other_services, &other_dir, depth + 1)?
        }
    };
    Ok(merge_extends(base, service))
}

/// Sequences Compose concatenates when a service extends another; other sequences replace.
const CONCATENATED: &[&str] = &[
    "ports",
    "expose",
    "volumes",
    "env_file",
    "dns",
    "dns_search",
    "tmpfs",
    "devices",
    "external_links",
    "cap_add",
    "cap_drop",
    "security_opt",
];

/// Compose's merge of an extending service over its base: mappings merge key by key (with
/// `environment` and `labels` in either form), some lists concatenate, the rest is replaced.
fn merge_extends(mut base: Mapping, over: Mapping) -> Mapping {
    for (key, value) in over {
        let name = key.as_str().unwrap_or_default();
        let merged = match (base.remove(&key), value) {
            (Some(b), o) if matches!(name, "environment" | "labels") => {
                let mut b = pairs(&b).unwrap_or_default();
                b.extend(pairs(&o).unwrap_or_default());
                Yaml::Mapping(b)
            }
            (Some(Yaml::Mapping(b)), Yaml::Mapping(o)) => Yaml::Mapping(merge_extends(b, o)),
            (Some(Yaml::Sequence(mut b)), Yaml::Sequence(o)) if CONCATENATED.contains(&name) => {
                for item in o {
                    if !b.contains(&item) {
                        b.push(item);
                    }
                }
                Yaml::Sequence(b)
            }
            (_, o) => o,
        };
        base.insert(key, merged);
    }
    base
}

/// `environment` or `labels` as a mapping, from either form (`["K=V"]` or `{K: V}`); `None`
/// when a variable has no value (`- K`, `K:`), which passes the host's value through and has
/// no equivalent in a catalogue's string map.
fn pairs(value: &Yaml) -> Option<Mapping> {
    match value {
        Yaml::Mapping(m) => m
            .iter()
            .map(|(k, v)| Some((k.clone(), scalar_string(v)?)))
            .collect(),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| {
                let (k, v) = i.as_str()?.split_once('=')?;
                Some((Yaml::from(k), Yaml::from(v)))
            })
            .collect(),
        _ => None,
    }
}

/// A scalar as the string Compose passes on; `None` for null and collections.
fn scalar_string(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::String(s) => Some(Yaml::from(s.as_str())),
        Yaml::Number(n) => Some(Yaml::from(n.to_string())),
        Yaml::Bool(b) => Some(Yaml::from(b.to_string())),
        _ => None,
    }
}

fn text_of(value: Option<&Yaml>) -> String {
    match value {
        Some(Yaml::String(s)) => s.clone(),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(Yaml::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

impl Entry {
    fn new(name: &str, source: Mapping, kinds: &Kinds) -> Self {
        let mut entry = Entry {
            name: name.to_owned(),
            kind: String::new(),
            reason: String::new(),
            guessed: false,
            keys: Mapping::new(),
            compose: Mapping::new(),
            depends_on: Vec::new(),
            source,
            notes: Vec::new(),
        };
        entry.infer_kind(kinds);
        entry.map_keys();
        entry.infer_template_inputs(kinds);
        entry
    }

    fn set(&mut self, key: &str, value: Yaml) {
        self.keys.insert(Yaml::from(key), value);
    }

    fn test(&self) -> Option<&Yaml> {
        self.source.get("healthcheck").and_then(|h| h.get("test"))
    }

    /// The source's healthcheck test as a list: a plain string is `CMD-SHELL`.
    fn test_argv(&self) -> Option<Vec<String>> {
        self.test().map(|t| match t {
            Yaml::String(s) => vec!["CMD-SHELL".to_owned(), s.clone()],
            other => strings_of(other),
        })
    }

    /// The kind, and the engine where the image does not tell it.
    fn infer_kind(&mut self, kinds: &Kinds) {
        let image = self.source.get("image").and_then(Yaml::as_str);
        let command = text_of(self.source.get("command"));
        let test = text_of(self.test());
        let restart = self.source.get("restart").and_then(Yaml::as_str);
        let engine_kind = |engine: &str| kinds.iter().find(|k| k.engines.contains(&engine));
        let image_engine = image.and_then(|i| images::lookup(&ImageRef::parse(i))?.engine);
        let (kind, reason, guessed) = if let (Some(engine), Some(kind)) =
            (image_engine, image_engine.and_then(engine_kind))
        {
            let reason = format!("image `{}` runs {engine}", image.unwrap_or_default());
            (kind.name.clone(), reason, false)
        } else if let Some(kind) = celery_kind(&command, &test) {
            (kind.to_owned(), "its command runs Celery".to_owned(), false)
        } else if is_one_shot(&command) {
            (
                "job".to_owned(),
                "its command runs migrations, once".to_owned(),
                false,
            )
        } else if self.test().is_none()
            && matches!(restart, Some(r) if r == "no" || r.starts_with("on-failure"))
        {
            (
                "job".to_owned(),
                format!(
                    "guessed from `restart: {}` and no healthcheck",
                    restart.unwrap_or_default()
                ),
                true,
            )
        } else if let Some((engine, kind)) =
            probe_engine(&test).and_then(|e| Some((e, engine_kind(e)?)))
        {
            self.set("engine", Yaml::from(engine));
            (
                kind.name.clone(),
                format!("guessed from its healthcheck, which runs {engine}'s client"),
                true,
            )
        } else if self.test_argv().as_deref().and_then(http_client).is_some() {
            // Model servers need a long start_period; the built-in profiles give one to
            // `ai-model` and not to `http`.
            let start = self
                .source
                .get("healthcheck")
                .and_then(|h| h.get("start_period"))
                .and_then(Yaml::as_str)
                .and_then(|d| crate::duration::parse(d).ok());
            if start.is_some_and(|s| s.as_secs() >= 60) {
                (
                    "ai-model".to_owned(),
                    "guessed from an HTTP healthcheck with a start_period of a minute or more \
                     (a model loading)"
                        .to_owned(),
                    true,
                )
            } else {
                (
                    "http".to_owned(),
                    "guessed from its HTTP healthcheck".to_owned(),
                    true,
                )
            }
        } else {
            (
                "http".to_owned(),
                "guessed: nothing in the image, command or healthcheck tells what it is".to_owned(),
                true,
            )
        };
        self.kind = kind;
        self.reason = reason;
        self.guessed = guessed;
    }

    /// Moves every Compose key onto its catalogue key, or under `compose`.
    fn map_keys(&mut self) {
        let source = self.source.clone();
        for (key, value) in &source {
            let Some(key) = key.as_str() else { continue };
            match key {
                "image" | "restart" | "command" | "entrypoint" => self.set(key, value.clone()),
                "build" => self.build(value),
                "environment" => match pairs(value) {
                    Some(env) => self.set("env", Yaml::Mapping(env)),
                    None => {
                        self.notes.push(
                            "`environment` passes a host variable through (no value), which \
                             `env` cannot say: it is kept whole under `compose`"
                                .into(),
                        );
                        self.passthrough(key, value);
                    }
                },
                "labels" => match pairs(value) {
                    Some(labels) => self.set("labels", Yaml::Mapping(labels)),
                    None => self.passthrough(key, value),
                },
                "env_file" | "ports" => match strings(value) {
                    Some(list) => self.set(key, list),
                    None => self.passthrough(key, value),
                },
                "volumes" => self.volumes(value),
                "networks" => self.networks(value),
                "depends_on" => self.depends_on(value),
                "healthcheck" => self.healthcheck(value),
                "deploy" => {
                    let mut deploy = value.as_mapping().cloned().unwrap_or_default();
                    if let Some(replicas) = deploy.remove("replicas") {
                        self.set("replicas", replicas);
                    }
                    if !deploy.is_empty() {
                        self.passthrough(key, &Yaml::Mapping(deploy));
                    }
                }
                "profiles" => {
                    self.notes.push(
                        "Compose `profiles` (which services `up` starts) are not muster's \
                         profiles: kept under `compose`"
                            .into(),
                    );
                    self.passthrough(key, value);
                }
                _ => self.passthrough(key, value),
            }
        }
    }

    fn passthrough(&mut self, key: &str, value: &Yaml) {
        self.compose.insert(Yaml::from(key), value.clone());
    }

    fn build(&mut self, value: &Yaml) {
        let Yaml::Mapping(build) = value else {
            self.set("build", value.clone());
            return;
        };
        let modelled = ["context", "dockerfile", "target", "args"];
        let extra = build
            .keys()
            .any(|k| !modelled.contains(&k.as_str().unwrap_or_default()));
        let mut table = Mapping::new();
        for key in modelled {
            match (key, build.get(key)) {
                ("args", Some(args)) => match pairs(args) {
                    Some(args) => {
                        table.insert("args".into(), Yaml::Mapping(args));
                    }
                    None => return self.passthrough("build", value),
                },
                (_, Some(v)) => {
                    table.insert(key.into(), v.clone());
                }
                _ => {}
            }
        }
        if extra {
            // The catalogue's `build` gives the context (a build needs one); the passthrough
            // replaces it whole with every setting.
            if let Some(context) = build.get("context") {
                self.set("build", context.clone());
            }
            self.passthrough("build", value);
        } else {
            self.set("build", Yaml::Mapping(table));
        }
    }

    fn volumes(&mut self, value: &Yaml) {
        let short: Option<Vec<Yaml>> = value
            .as_sequence()
            .map(|items| items.iter().map(short_volume).collect())
            .unwrap_or_default();
        match short {
            Some(list) => self.set("volumes", Yaml::Sequence(list)),
            None => {
                self.notes.push(
                    "`volumes` uses long-form options the short form cannot say: kept under \
                     `compose`; declare its named volumes at the top of the generated file"
                        .into(),
                );
                self.passthrough("volumes", value);
            }
        }
    }

    fn networks(&mut self, value: &Yaml) {
        match value {
            Yaml::Sequence(_) => self.set("networks", value.clone()),
            Yaml::Mapping(m) => {
                let names: Vec<Yaml> = m.keys().cloned().collect();
                self.set("networks", Yaml::Sequence(names));
                if m.values().any(|v| !is_empty(v)) {
                    // `networks` declares them at the top level; the passthrough, merged last,
                    // replaces the list with the settings (null is `{}` there).
                    let settings = m
                        .iter()
                        .map(|(k, v)| {
                            let v = if v.is_null() {
                                Yaml::Mapping(Mapping::new())
                            } else {
                                v.clone()
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    self.passthrough("networks", &Yaml::Mapping(settings));
                }
            }
            _ => self.passthrough("networks", value),
        }
    }

    fn depends_on(&mut self, value: &Yaml) {
        match value {
            // The short form waits for the start only.
            Yaml::Sequence(items) => {
                self.depends_on = items
                    .iter()
                    .filter_map(Yaml::as_str)
                    .map(|t| (t.to_owned(), "service_started".to_owned()))
                    .collect();
            }
            Yaml::Mapping(m) => {
                let mut extra = Mapping::new();
                for (target, settings) in m {
                    let Some(target) = target.as_str() else {
                        continue;
                    };
                    let mut settings = settings.as_mapping().cloned().unwrap_or_default();
                    let condition = settings
                        .remove("condition")
                        .and_then(|c| c.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "service_started".to_owned());
                    self.depends_on.push((target.to_owned(), condition));
                    if !settings.is_empty() {
                        extra.insert(Yaml::from(target), Yaml::Mapping(settings));
                    }
                }
                if !extra.is_empty() {
                    // `restart: true` and `required: false` refine the dependency muster writes.
                    self.passthrough("depends_on", &Yaml::Mapping(extra));
                }
            }
            _ => self.passthrough("depends_on", value),
        }
    }

    fn healthcheck(&mut self, value: &Yaml) {
        let Some(hc) = value.as_mapping() else {
            return self.passthrough("healthcheck", value);
        };
        let mut table = Mapping::new();
        let mut extra = Mapping::new();
        for (key, v) in hc {
            match key.as_str().unwrap_or_default() {
                "test"
                    if v.as_sequence()
                        .and_then(|s| s.first())
                        .and_then(Yaml::as_str)
                        == Some("NONE") =>
                {
                    table.insert("disable".into(), Yaml::Bool(true));
                }
                "test" | "interval" | "timeout" | "retries" | "start_period" | "start_interval"
                | "disable" => {
                    table.insert(key.clone(), v.clone());
                }
                _ => {
                    extra.insert(key.clone(), v.clone());
                }
            }
        }
        if !table.is_empty() {
            self.set("healthcheck", Yaml::Mapping(table));
        }
        if !extra.is_empty() {
            self.passthrough("healthcheck", &Yaml::Mapping(extra));
        }
    }

    /// What the kind's template needs to render the source's probe: the port and path the
    /// probe targets, the Celery app, the HTTP client. Each is set only where it differs from
    /// what muster would assume.
    fn infer_template_inputs(&mut self, kinds: &Kinds) {
        let Some(kind) = kinds.get(&self.kind) else {
            return;
        };
        let image = self
            .source
            .get("image")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        let image_ref = image.as_deref().map(ImageRef::parse);
        let engine = self
            .keys
            .get("engine")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        let facts = image_ref
            .as_ref()
            .and_then(images::lookup)
            .or_else(|| engine.as_deref().and_then(images::for_engine));
        let test = self.test_argv();
        let test_text = test.as_deref().map(|t| t.join(" ")).unwrap_or_default();
        let command = text_of(self.source.get("command"));
        if let Some(app) = celery_app(&command).or_else(|| celery_app(&test_text))
            && app != "config"
        {
            self.set("app", Yaml::from(app));
        }
        // An image whose health endpoint has a port of its own (Jaeger's) keeps it whatever the
        // service port is; elsewhere the probe's port is the service's.
        let fixed_health_port = facts
            .and_then(|f| f.health.map(|h| Some(h.port) != f.port))
            .unwrap_or(false);
        let default_port = facts.and_then(|f| f.port).or(kind.default_port);
        if let Some(port) = probe_port(&test_text)
            && !fixed_health_port
            && Some(port) != default_port
        {
            self.set("port", Yaml::from(u64::from(port)));
        }
        if kind.probe != ProbeStyle::Http {
            return;
        }
        let default_path = facts
            .and_then(|f| f.health.map(|h| h.path))
            .or(kind.engines.is_empty().then_some("/health/live"));
        if let Some(path) = probe_path(&test_text)
            && Some(path.as_str()) != default_path
        {
            self.set("health_path", Yaml::from(path));
        }
        let tools = match (&image_ref, facts) {
            (Some(r), Some(f)) => Some(f.tools_for(r)),
            _ => None,
        };
        let auto = probe::choose(None, kind.probe, tools).ok();
        if let Some(client) = test.as_deref().and_then(http_client)
            && auto.map(|p| p.to_string()).as_deref() != Some(client)
        {
            self.set("probe", Yaml::from(client));
        }
    }
}

fn strings_of(value: &Yaml) -> Vec<String> {
    value
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_str)
        .map(str::to_owned)
        .collect()
}

/// A list of strings (numbers written as strings, as `ports: [8000]` means `"8000"`).
fn strings(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::String(_) => Some(Yaml::Sequence(vec![value.clone()])),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| match i {
                Yaml::String(_) => Some(i.clone()),
                Yaml::Number(n) => Some(Yaml::from(n.to_string())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(Yaml::Sequence),
        _ => None,
    }
}

/// A volume in the short form, from either form; `None` for long-form options the short form
/// cannot say.
fn short_volume(item: &Yaml) -> Option<Yaml> {
    let Yaml::Mapping(m) = item else {
        return Some(item.clone());
    };
    let allowed = ["type", "source", "target", "read_only"];
    if m.keys()
        .any(|k| !allowed.contains(&k.as_str().unwrap_or_default()))
    {
        return None;
    }
    let kind = m.get("type").and_then(Yaml::as_str)?;
    let target = m.get("target").and_then(Yaml::as_str)?;
    let source = m.get("source").and_then(Yaml::as_str);
    if !matches!(kind, "volume" | "bind") {
        return None;
    }
    let mut short = match source {
        Some(source) => format!("{source}:{target}"),
        None => target.to_owned(),
    };
    if m.get("read_only") == Some(&Yaml::Bool(true)) {
        short.push_str(":ro");
    }
    Some(Yaml::from(short))
}

fn celery_kind(command: &str, test: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let celery = words.iter().any(|w| w.ends_with("celery"));
    if celery && words.contains(&"beat") {
        Some("beat")
    } else if celery && words.contains(&"worker") || test.contains("inspect ping") {
        Some("celery-worker")
    } else {
        None
    }
}

/// The Celery app of `celery -A APP`, `--app APP` or `--app=APP`.
fn celery_app(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(app) = w.strip_prefix("--app=") {
            return Some(app.to_owned());
        }
        matches!(*w, "-A" | "--app")
            .then(|| words.get(i + 1).map(|a| (*a).to_owned()))
            .flatten()
    })
}

/// Commands that run once and exit: migrations and their kin.
fn is_one_shot(command: &str) -> bool {
    [
        "manage.py migrate",
        "alembic upgrade",
        "flask db upgrade",
        "rails db:migrate",
        "prisma migrate",
    ]
    .iter()
    .any(|c| command.contains(c))
}

/// The engine whose client a healthcheck runs, for images muster does not know.
fn probe_engine(test: &str) -> Option<&'static str> {
    let engines = [
        ("pg_isready", "postgres"),
        ("redis-cli", "redis"),
        ("valkey-cli", "valkey"),
        ("mysqladmin", "mysql"),
        ("healthcheck.sh", "mariadb"),
        ("mongosh", "mongo"),
        ("rabbitmq-diagnostics", "rabbitmq"),
    ];
    engines
        .iter()
        .find(|(client, _)| test.contains(client))
        .map(|(_, engine)| *engine)
}

/// The HTTP client of a probe, by muster's `probe` names.
fn http_client(test: &[String]) -> Option<&'static str> {
    let text = test.join(" ");
    let programs = probe::programs(test);
    let has = |p: &str| programs.iter().any(|q| q == p);
    if has("curl") && text.contains("http") {
        Some("curl")
    } else if has("wget") && text.contains("http") {
        Some("wget")
    } else if (has("python") || has("python3")) && text.contains("urllib") {
        Some("python")
    } else if has("bash") && text.contains("/dev/tcp") && text.contains("GET ") {
        Some("bash-tcp")
    } else {
        None
    }
}

/// The port a probe targets: in its URL, its `/dev/tcp` path, or a `-p`/`-P`/`--port` flag.
fn probe_port(test: &str) -> Option<u16> {
    let after = |marker: &str| {
        test.split(marker).nth(1).and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    };
    [
        "127.0.0.1:",
        "localhost:",
        "/dev/tcp/127.0.0.1/",
        "/dev/tcp/localhost/",
    ]
    .iter()
    .find_map(|m| after(m))
    .or_else(|| {
        let words: Vec<&str> = test.split_whitespace().collect();
        words.windows(2).find_map(|w| {
            matches!(w[0], "-p" | "-P" | "--port")
                .then(|| w[1].trim_matches(['"', '\'']).parse().ok())
                .flatten()
        })
    })
}

/// The path of a probe's URL.
fn probe_path(test: &str) -> Option<String> {
    let rest = test.split("://").nth(1)?;
    let path_start = rest.find('/')?;
    let path: String = rest[path_start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !"\"'".contains(*c))
        .collect();
    Some(path)
}

impl Draft {
    /// Leaves out what muster generates anyway. Each pass runs the real pipeline on the draft
    /// as it stands; when a pass cannot run (the source itself has a problem muster reports),
    /// the entries keep every value explicitly.
    fn minimize(&mut self, inputs: &Inputs, profile: &str) -> Result<(), Error> {
        // Pass 1: without the values a profile or template may give, to see which they give.
        let bare = self.render(inputs, profile, Pass::Bare)?;
        for (i, entry) in self.entries.iter_mut().enumerate() {
            let generated = bare.as_ref().and_then(|s| s.services.get(i));
            entry.settle(generated);
        }
        // Pass 2: everything settled but the probe, which depends on the timeout settled above.
        let settled = self.render(inputs, profile, Pass::Settled)?;
        for (i, entry) in self.entries.iter_mut().enumerate() {
            let generated = settled.as_ref().and_then(|s| s.services.get(i));
            entry.settle_test(generated);
        }
        if self.render(inputs, profile, Pass::Final)?.is_none() {
            self.notes.push(format!(
                "`muster gen --profile {profile}` finds errors in this draft: `muster check` \
                 shows them"
            ));
        }
        Ok(())
    }

    /// The draft through the pipeline, in a scratch session: `None` when it has errors.
    fn render(&self, inputs: &Inputs, profile: &str, pass: Pass) -> Result<Option<Stack>, Error> {
        let dir =
            tempfile::tempdir().map_err(Error::io("create a folder in", std::env::temp_dir()))?;
        let catalogue = dir.path().join("services.toml");
        std::fs::write(&catalogue, self.catalogue(pass, profile))
            .map_err(Error::io("write", &catalogue))?;
        let inputs = Inputs {
            catalogue,
            profile: Some(profile.to_owned()),
            ..inputs.clone()
        };
        let stack = pipeline::stack(&inputs, &mut Session::default()).ok();
        // Every service must come through for the comparison to mean anything.
        Ok(stack.filter(|s| s.services.len() == self.entries.len()))
    }
}

/// Which values a pipeline pass sees.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// No restart, command, healthcheck or passthrough: what profile and template give alone.
    Bare,
    /// Settled values, but the probe left to the template.
    Settled,
    /// The draft as written.
    Final,
}

impl Entry {
    /// Keys left to the profile and the template in [`Pass::Bare`].
    const LEFT_OUT: [&'static str; 4] = ["restart", "command", "healthcheck", "depends_on"];

    /// Compares the source with what muster generated without the settable values, and keeps
    /// only the values that differ. `generated` is `None` when the bare draft did not render.
    fn settle(&mut self, generated: Option<&StackService>) {
        let Some(generated) = generated else {
            self.keep_depends_on_explicit();
            return;
        };
        let body = &generated.rendered.body;
        for key in ["restart", "command"] {
            match (self.source.get(key), body.get(key)) {
                (Some(s), Some(g)) if s == g => {
                    self.keys.remove(key);
                }
                // Docker's default, said explicitly since the profile sets another.
                (None, Some(_)) if key == "restart" => self.set("restart", Yaml::from("no")),
                (None, Some(_)) => self.notes.push(format!(
                    "the `{}` template sets a `{key}` the source did not have",
                    self.kind
                )),
                _ => {}
            }
        }
        // Dependencies: the list form when muster infers every condition the source asks for.
        let inferred: IndexMap<&str, &str> = generated
            .depends_on
            .iter()
            .map(|(t, c)| (t.as_str(), c.compose_name()))
            .collect();
        if self
            .depends_on
            .iter()
            .all(|(t, c)| inferred.get(t.as_str()) == Some(&c.as_str()))
        {
            if !self.depends_on.is_empty() {
                let list = self
                    .depends_on
                    .iter()
                    .map(|(t, _)| Yaml::from(t.as_str()))
                    .collect();
                self.set("depends_on", Yaml::Sequence(list));
            }
        } else {
            self.keep_depends_on_explicit();
            let started: Vec<&str> = self
                .depends_on
                .iter()
                .filter(|(t, c)| {
                    c == "service_started" && inferred.get(t.as_str()) != Some(&"service_started")
                })
                .map(|(t, _)| t.as_str())
                .collect();
            if !started.is_empty() {
                self.notes.push(format!(
                    "the source waits only for {} to start; as a list, muster would wait for \
                     each to be ready (healthy, or completed for a job)",
                    started.join(", ")
                ));
            }
        }
        self.settle_healthcheck(body.get("healthcheck"));
        subtract(&mut self.compose, body);
        for key in body.keys().filter_map(Yaml::as_str) {
            let modelled = matches!(key, "depends_on" | "healthcheck" | "restart" | "command");
            if !modelled && !self.source.contains_key(key) && !self.keys.contains_key(key) {
                self.notes.push(format!(
                    "the profile or the `{}` template adds `{key}`, which the source did not have",
                    self.kind
                ));
            }
        }
    }

    fn keep_depends_on_explicit(&mut self) {
        if self.depends_on.is_empty() {
            return;
        }
        let table = self
            .depends_on
            .iter()
            .map(|(t, c)| {
                let word = c.strip_prefix("service_").unwrap_or(c);
                let word = if word == "completed_successfully" {
                    "completed"
                } else {
                    word
                };
                (Yaml::from(t.as_str()), Yaml::from(word))
            })
            .collect();
        self.set("depends_on", Yaml::Mapping(table));
    }

    /// Healthcheck timings equal to the profile's are left out; a source without a healthcheck
    /// disables the kind's.
    fn settle_healthcheck(&mut self, generated: Option<&Yaml>) {
        let generated_test = generated.and_then(|g| g.get("test"));
        let Some(Yaml::Mapping(hc)) = self.keys.get_mut("healthcheck") else {
            if generated_test.is_some() {
                self.notes.push(format!(
                    "the source has no healthcheck: the `{}` kind's probe is disabled; enable it \
                     by removing `healthcheck`",
                    self.kind
                ));
                let mut off = Mapping::new();
                off.insert("disable".into(), Yaml::Bool(true));
                self.set("healthcheck", Yaml::Mapping(off));
            }
            return;
        };
        // The profile's timings apply only where a test is rendered.
        if generated_test.is_some() {
            for key in [
                "interval",
                "timeout",
                "retries",
                "start_period",
                "start_interval",
            ] {
                let same = match (hc.get(key), generated.and_then(|g| g.get(key))) {
                    (Some(Yaml::String(a)), Some(Yaml::String(b))) => {
                        crate::duration::parse(a).ok() == crate::duration::parse(b).ok()
                    }
                    (a, b) => a.is_some() && a == b,
                };
                if same {
                    hc.remove(key);
                }
            }
        }
        if hc.is_empty() {
            self.keys.remove("healthcheck");
        }
    }

    /// Keeps the source's test only when the template renders another one.
    fn settle_test(&mut self, generated: Option<&StackService>) {
        let Some(source_test) = self.test().cloned() else {
            return;
        };
        let generated_test = generated
            .and_then(|g| g.rendered.body.get("healthcheck"))
            .and_then(|h| h.get("test"));
        let hc = match self.keys.get_mut("healthcheck") {
            Some(Yaml::Mapping(hc)) => hc,
            _ => return,
        };
        if generated_test == Some(&source_test) {
            hc.remove("test");
            if hc.is_empty() {
                self.keys.remove("healthcheck");
            }
        } else if generated.is_some() {
            // The source's own probe replaces the template's; a client picked to match it
            // would now only be checked against the image.
            self.keys.remove("probe");
        }
    }
}

/// Removes from `compose` every value `generated` already has at the same place, and the
/// tables left empty.
fn subtract(compose: &mut Mapping, generated: &Mapping) {
    compose.retain(|key, value| {
        let Some(g) = generated.get(key) else {
            return true;
        };
        match (value, g) {
            (Yaml::Mapping(c), Yaml::Mapping(g)) => {
                subtract(c, g);
                !c.is_empty()
            }
            (c, g) => c != g,
        }
    });
}

/// Catalogue keys in the order the examples write them.
const KEY_ORDER: &[&str] = &[
    "image",
    "build",
    "engine",
    "port",
    "health_path",
    "app",
    "probe",
    "command",
    "entrypoint",
    "restart",
    "ports",
    "env_file",
    "env",
    "volumes",
    "networks",
    "labels",
    "replicas",
    "healthcheck",
    "depends_on",
];

impl Draft {
    /// The catalogue text a pass sees.
    fn catalogue(&self, pass: Pass, profile: &str) -> String {
        self.document(pass, profile).to_string()
    }

    /// The draft as the user gets it, with a header saying where it came from.
    fn to_toml(&self, compose: &Path, profile: &str) -> String {
        let file = compose.file_name().map_or_else(
            || compose.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut header = comment(&format!(
            "Drafted by `muster import` from {file} for profile {profile}: what that profile and \
             the kind templates generate anyway is left out. Read the comments, then compare \
             `muster gen --profile {profile}` with {file}."
        ));
        for note in &self.notes {
            header.push_str(&comment(&format!("- {note}")));
        }
        let document = self.document(Pass::Final, profile).to_string();
        format!("{header}\n{}", document.trim_start_matches('\n'))
    }

    fn document(&self, pass: Pass, profile: &str) -> DocumentMut {
        let mut doc = DocumentMut::new();
        let mut project = Table::new();
        if let Some(name) = &self.project_name {
            project.insert("name", toml_edit::value(name.as_str()));
        }
        if profile != "dev" {
            project.insert("default_profile", toml_edit::value(profile));
        }
        if !project.is_empty() {
            doc.insert("project", Item::Table(project));
        }
        let mut services = Table::new();
        services.set_implicit(true);
        for entry in &self.entries {
            services.insert(&entry.name, Item::Table(entry.table(pass)));
        }
        doc.insert("services", Item::Table(services));
        doc
    }
}

impl Entry {
    fn table(&self, pass: Pass) -> Table {
        let mut table = Table::new();
        let mut prefix = String::from("\n");
        let check = if self.guessed { "; check it" } else { "" };
        prefix.push_str(&comment(&format!(
            "kind \"{}\": {}{check}",
            self.kind, self.reason
        )));
        let kept: Vec<&str> = self.compose.keys().filter_map(Yaml::as_str).collect();
        if !kept.is_empty() {
            prefix.push_str(&comment(&format!(
                "passed through as written, under `compose`: {}",
                kept.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for note in &self.notes {
            prefix.push_str(&comment(note));
        }
        table.decor_mut().set_prefix(prefix);
        table.insert("kind", toml_edit::value(self.kind.as_str()));
        for key in KEY_ORDER {
            let value = match (pass, *key) {
                (Pass::Bare, "depends_on") if !self.depends_on.is_empty() => Some(Yaml::Sequence(
                    self.depends_on
                        .iter()
                        .map(|(t, _)| Yaml::from(t.as_str()))
                        .collect(),
                )),
                (Pass::Bare, k) if Self::LEFT_OUT.contains(&k) => None,
                (Pass::Settled, "healthcheck") => match self.keys.get(*key) {
                    Some(Yaml::Mapping(hc)) => {
                        let mut hc = hc.clone();
                        hc.remove("test");
                        (!hc.is_empty()).then_some(Yaml::Mapping(hc))
                    }
                    other => other.cloned(),
                },
                _ => self.keys.get(*key).cloned(),
            };
            if let Some(value) = value.as_ref().and_then(toml_value) {
                table.insert(key, Item::Value(value));
            }
        }
        if pass != Pass::Bare
            && let Some(compose) = toml_value(&Yaml::Mapping(self.compose.clone()))
            && !self.compose.is_empty()
        {
            table.insert("compose", Item::Value(compose));
        }
        table
    }
}

/// `text` as `#` lines of at most 100 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 100 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A YAML value as TOML. TOML has no null: a null in a mapping or list is left out (Compose
/// reads an absent key as it reads a null one).
fn toml_value(value: &Yaml) -> Option<toml_edit::Value> {
    Some(match value {
        Yaml::Null => return None,
        Yaml::Bool(b) => (*b).into(),
        Yaml::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Yaml::String(s) => s.as_str().into(),
        Yaml::Sequence(items) => items
            .iter()
            .filter_map(toml_value)
            .collect::<Array>()
            .into(),
        Yaml::Mapping(m) => {
            let mut table = InlineTable::new();
            for (k, v) in m {
                let key = match k {
                    Yaml::String(k) => k.clone(),
                    other => scalar_string(other)?.as_str()?.to_owned(),
                };
                if let Some(v) = toml_value(v) {
                    table.insert(&key, v);
                }
            }
            table.into()
        }
        Yaml::Tagged(tagged) => return toml_value(&tagged.value),
    })
}
