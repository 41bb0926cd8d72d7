//! Stage 1, load: the catalogue file parsed into strict input types that keep their spans.
//! Every key is known (`deny_unknown_fields` at every level) and every value that can be checked
//! on its own is checked here, where the file it came from is still known.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::probe::REQUESTS;
use crate::spec::{Command, ServiceSpec, capacity};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One `[services.NAME]` table per service; `muster gen` turns them into a Compose file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "muster service catalogue")]
pub(crate) struct CatalogueFile {
    /// What the whole Compose project is about, beyond its services.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "name": "shop", "default_profile": "dev" }]))]
    project: ProjectSpec,
    /// The services, in the order they are emitted, by Compose service name.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, crate::schema::CatalogueEntry>",
        extend(
            "propertyNames" = { "pattern": "^[a-zA-Z0-9][a-zA-Z0-9._-]*$" },
            "examples" = [{ "web": { "kind": "http", "build": ".", "port": 8000 } }]
        )
    )]
    services: Services,
    /// Top-level named volumes, as Compose's `volumes:` (a volume a service mounts is declared
    /// even without a table here).
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, crate::resources::VolumeSpec>",
        extend("examples" = [{ "pgdata": { "external": true, "name": "shop_pgdata" } }])
    )]
    volumes: IndexMap<String, Spanned<crate::resources::VolumeSpec>>,
    /// Top-level networks, as Compose's `networks:`.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, crate::resources::NetworkSpec>",
        extend("examples" = [{ "backend": { "internal": true } }])
    )]
    networks: IndexMap<String, Spanned<crate::resources::NetworkSpec>>,
    /// Secrets services name in `compose.secrets`, as Compose's top-level `secrets:`.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, crate::resources::SecretSpec>",
        extend("examples" = [{ "db_password": { "file": "./db_password.txt" } }])
    )]
    secrets: IndexMap<String, Spanned<crate::resources::SecretSpec>>,
    /// Configs services name in `compose.configs`, as Compose's top-level `configs:`.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, crate::resources::ConfigSpec>",
        extend("examples" = [{ "nginx_conf": { "file": "./nginx.conf" } }])
    )]
    configs: IndexMap<String, Spanned<crate::resources::ConfigSpec>>,
    /// AI models the services use (Compose's top-level `models`, Docker Model Runner), by name;
    /// a service binds one with `models = ["NAME"]`.
    #[serde(default)]
    #[schemars(extend("examples" = [{ "llm": { "model": "ai/smollm2", "context_size": 4096 } }]))]
    #[schemars(with = "IndexMap<String, crate::ai_models::ModelSpec>")]
    models: crate::ai_models::Models,
}

/// The `[services]` table, in the order written.
///
/// Not a map: TOML itself rejects a name written twice, so hashing every name would check nothing,
/// and growing a map past serde's cautious preallocation copies every spec. Boxed because a
/// `ServiceSpec` is over 1 KB, and the layers of serde, `Spanned` and toml between its visitor and
/// this `Vec` would each copy it.
#[derive(Debug, Default)]
struct Services(Vec<Service>);

type Service = (Spanned<String>, Spanned<Box<ServiceSpec>>);

impl<'de> Deserialize<'de> for Services {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ServicesVisitor;
        impl<'de> Visitor<'de> for ServicesVisitor {
            type Value = Services;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                // What `IndexMap` says, which the expected diagnostics were written against.
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Services, A::Error> {
                let mut services = Vec::with_capacity(capacity::<Service>(map.size_hint()));
                while let Some(entry) = map.next_entry()? {
                    services.push(entry);
                }
                Ok(Services(services))
            }
        }
        deserializer.deserialize_map(ServicesVisitor)
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct ProjectSpec {
    /// The Compose project name (`name:` at the top of the output): lowercase letters, digits,
    /// `_` and `-`.
    #[schemars(
        with = "Option<String>",
        extend("pattern" = "^[a-z0-9][a-z0-9_-]*$", "examples" = ["shop"])
    )]
    pub name: Option<Spanned<String>>,
    /// The profile used when `--profile` is not given; default `dev`.
    #[schemars(with = "Option<String>", extend("examples" = ["prod"]))]
    pub default_profile: Option<Spanned<String>>,
    /// Lints this catalogue allows, by name (`muster check --list-lints`): a choice the team
    /// made on purpose. Their warnings are neither shown nor counted by `--deny-warnings`.
    #[schemars(
        with = "Option<Vec<crate::schema::LintName>>",
        extend("examples" = [["restart-not-always"]])
    )]
    pub allow: Option<Vec<Spanned<String>>>,
    /// The Compose and Docker Engine the team runs: muster leaves out (with a warning) the keys
    /// they cannot do, and refuses those the catalogue asks for. Default: the newest.
    #[schemars(
        with = "Option<RequiresSpec>",
        extend("examples" = [{ "compose": "2.26", "engine": "20.10" }])
    )]
    pub requires: Option<Spanned<RequiresSpec>>,
}

/// `requires = { compose = "2.26", engine = "20.10" }`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct RequiresSpec {
    /// The oldest Docker Compose that runs the file (`docker compose version`), 2.0 or later.
    #[schemars(with = "Option<String>", extend("pattern" = "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "examples" = ["2.26"]))]
    pub compose: Option<Spanned<String>>,
    /// The oldest Docker Engine that runs it (`docker version --format '{{.Server.Version}}'`).
    #[schemars(with = "Option<String>", extend("pattern" = "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "examples" = ["20.10"]))]
    pub engine: Option<Spanned<String>>,
}

fn check_requires(spec: &RequiresSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    for (part, value) in [("compose", &spec.compose), ("engine", &spec.engine)] {
        let Some(value) = value else { continue };
        let problem = match value.get_ref().parse::<crate::model::version::Version>() {
            Err(e) => e,
            Ok(v) if part == "compose" && v < crate::model::version::OLDEST_COMPOSE => format!(
                "muster writes for Compose {} or later",
                crate::model::version::OLDEST_COMPOSE
            ),
            Ok(_) => continue,
        };
        diagnostics.push(
            Diagnostic::error(format!("`requires.{part}`: {problem}")).at(
                source,
                Some(value.span()),
                "this version",
            ),
        );
    }
}

impl RequiresSpec {
    /// The versions that parse; load reported the others.
    pub fn requires(&self) -> crate::model::version::Requires {
        let parse = |v: &Option<Spanned<String>>| v.as_ref().and_then(|v| v.get_ref().parse().ok());
        crate::model::version::Requires {
            compose: parse(&self.compose),
            engine: parse(&self.engine),
        }
    }
}

#[derive(Debug)]
pub struct Catalogue {
    pub path: PathBuf,
    pub source: SourceId,
    pub project: ProjectSpec,
    pub services: Vec<Entry>,
    /// False when a key was dropped because it was wrong (reported): the entries lack what the
    /// user wrote, so stages that judge them as a whole must not run.
    pub complete: bool,
    pub resources: crate::resources::Resources,
    pub models: crate::ai_models::Models,
}

/// One `[services.NAME]` table.
#[derive(Debug)]
pub struct Entry {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub spec: ServiceSpec,
}

impl Catalogue {
    /// Reads and parses `path`. I/O failures are errors of their own; everything wrong with the
    /// text is reported to `diagnostics`, and `None` returned when nothing usable remains.
    pub fn load(
        path: &Path,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> std::io::Result<Option<Catalogue>> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self::parse(path, text, sources, diagnostics))
    }

    /// Parses the text of the catalogue at `path`, as [`Catalogue::load`] does after reading it.
    pub fn parse(
        path: &Path,
        text: String,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> Option<Catalogue> {
        let source = sources.add(path.display().to_string(), text);
        // `sources` keeps the text for diagnostics; a second copy would cost more than the checks.
        let crate::collect::Collected {
            value: file,
            dropped,
        } = crate::collect::parse::<CatalogueFile>(
            sources.text(source),
            source,
            "catalogue",
            diagnostics,
        )?;
        if let Some(name) = &file.project.name {
            check_project_name(name, source, diagnostics);
        }
        for lint in file.project.allow.iter().flatten() {
            check_lint_name(lint, source, diagnostics);
        }
        if let Some(requires) = &file.project.requires {
            check_requires(requires.get_ref(), source, diagnostics);
        }
        let resources = crate::resources::Resources {
            volumes: file.volumes,
            networks: file.networks,
            secrets: file.secrets,
            configs: file.configs,
        };
        resources.check(source, diagnostics);
        let mut services = Vec::with_capacity(file.services.0.len());
        for (name, spec) in file.services.0 {
            let span = spec.span();
            let spec = *spec.into_inner();
            check_service_name(&name, source, diagnostics);
            check_layer(&spec, source, diagnostics);
            if let Some(overrides) = &spec.profiles {
                for over in overrides.values() {
                    check_layer_keys(over.get_ref(), "a profile override", source, diagnostics);
                    check_layer(over.get_ref(), source, diagnostics);
                }
            }
            let Some(kind) = spec.kind.clone() else {
                // A `kind` of the wrong type was reported as such; "no kind" would repeat it.
                if dropped.contains(&["services", name.get_ref(), "kind"]) {
                    continue;
                }
                diagnostics.push(
                    Diagnostic::error(format!("service `{}` has no `kind`", name.get_ref()))
                        .at(source, Some(span), "add `kind = \"...\"` to this table")
                        .with_note(format!(
                            "kinds: {}, or one from your templates folder",
                            crate::kinds::built_in_names()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                );
                continue;
            };
            services.push(Entry { name, kind, spec });
        }
        Some(Catalogue {
            path: path.to_owned(),
            source,
            project: file.project,
            services,
            complete: dropped.is_empty(),
            resources,
            models: file.models,
        })
    }
}

/// A TOML or shape error, pointing at its span, with a "did you mean" for misspelled keys.
pub fn toml_error(e: &toml::de::Error, source: SourceId, what: &str) -> Diagnostic {
    // serde names Rust types; the user thinks in ports and counts.
    let message = e
        .message()
        .trim_end()
        .replace("expected u16", "expected a port number (1-65535)")
        .replace("expected u32", "expected a whole number");
    let message = message.as_str();
    let mut d =
        Diagnostic::error(format!("invalid {what}: {message}")).at(source, e.span(), "here");
    if let Some(hint) = unknown_field_hint(message) {
        d = d.with_note(hint);
    }
    d
}

/// serde words unknown keys as "unknown field `X`, expected one of `a`, `b`".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    let candidates = expected.split('`').skip(1).step_by(2);
    crate::suggest::did_you_mean(field, candidates)
}

/// Compose's own rule for service names; it also keeps names safe as YAML keys, DNS names and
/// Kubernetes object names.
fn check_service_name(name: &Spanned<String>, source: SourceId, diagnostics: &mut Diagnostics) {
    let n = name.get_ref();
    let valid = !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && n.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        diagnostics.push(
            Diagnostic::error(format!("invalid service name {n:?}"))
                .at(
                    source,
                    Some(name.span()),
                    "not a valid Compose service name",
                )
                .with_note(
                    "use letters, digits, `.`, `_` and `-`, starting with a letter or digit",
                ),
        );
    }
}

fn check_project_name(name: &Spanned<String>, source: SourceId, diagnostics: &mut Diagnostics) {
    let n = name.get_ref();
    let valid = !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid {
        diagnostics.push(
            Diagnostic::error(format!("invalid project name {n:?}"))
                .at(
                    source,
                    Some(name.span()),
                    "not a valid Compose project name",
                )
                .with_note(
                    "Compose project names are lowercase letters, digits, `_` and `-`, starting \
                     with a letter or digit",
                ),
        );
    }
}

fn check_lint_name(name: &Spanned<String>, source: SourceId, diagnostics: &mut Diagnostics) {
    let n = name.get_ref();
    if crate::model::Lint::from_name(n).is_some() {
        return;
    }
    let mut d = Diagnostic::error(format!("`allow` names an unknown lint {n:?}"))
        .at(source, Some(name.span()), "no lint of this name")
        .with_note(format!(
            "lints: {} (`muster check --list-lints` says what each checks)",
            crate::model::Lint::names().collect::<Vec<_>>().join(", ")
        ));
    if let Some(hint) = crate::suggest::did_you_mean(n, crate::model::Lint::names()) {
        d = d.with_note(hint);
    }
    diagnostics.push(d);
}

/// `kind` and `profiles` belong to a catalogue entry alone: a layer applied over many services
/// (`what`: a profile's section, or an entry's per-profile override) cannot set them.
pub fn check_layer_keys(
    spec: &ServiceSpec,
    what: &str,
    source: SourceId,
    diagnostics: &mut Diagnostics,
) {
    if let Some(kind) = &spec.kind {
        diagnostics.push(Diagnostic::error(format!("{what} cannot set `kind`")).at(
            source,
            Some(kind.span()),
            "set `kind` on the service itself",
        ));
    }
    if let Some(only_in) = &spec.only_in {
        diagnostics.push(
            Diagnostic::error(format!("{what} cannot set `only_in`")).at(
                source,
                Some(only_in.span()),
                "set `only_in` on the service itself",
            ),
        );
    }
    if let Some(nested) = spec.profiles.as_ref().and_then(|p| p.values().next()) {
        diagnostics.push(
            Diagnostic::error(format!("{what} cannot have a `profiles` table")).at(
                source,
                Some(nested.span()),
                "per-profile overrides belong on the service itself",
            ),
        );
    }
}

/// Checks the values of one layer that need no other layer to judge: durations, restart
/// policies, probe names, paths. Used for catalogue entries and profile sections alike.
pub fn check_layer(spec: &ServiceSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    if let Some(restart) = &spec.restart {
        let r = restart.get_ref();
        // Compose interpolates it (`${RESTART:-unless-stopped}`): the default is judged, and a
        // variable without one is the environment's to decide.
        if crate::model::Restart::parse_interpolated(r).is_err() {
            let mut d = Diagnostic::error(format!("invalid restart policy {r:?}"))
                .at(source, Some(restart.span()), "not a Compose restart policy")
                .with_note("use \"no\", \"always\", \"on-failure\", \"on-failure:N\" or \"unless-stopped\"");
            if let Some(hint) =
                crate::suggest::did_you_mean(r, crate::model::Restart::WORDS.iter().copied())
            {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    if let Some(probe) = &spec.probe {
        let p = probe.get_ref();
        if !REQUESTS.contains(&p.as_str()) {
            let mut d = Diagnostic::error(format!("unknown probe {p:?}"))
                .at(source, Some(probe.span()), "not a probe muster knows")
                .with_note(format!("probes: {}", REQUESTS.join(", ")));
            if let Some(hint) = crate::suggest::did_you_mean(p, REQUESTS.iter().copied()) {
                d = d.with_note(hint);
            }
            diagnostics.push(d);
        }
    }
    let retries = spec.healthcheck.as_ref().and_then(|hc| hc.retries.as_ref());
    for (what, count) in [
        ("replicas", &spec.replicas),
        ("healthcheck retries", &retries.cloned()),
    ] {
        if let Some(count) = count
            && let Some(text) = count.get_ref().text()
            && let Err(reason) = crate::model::Count::check(text)
        {
            diagnostics.push(Diagnostic::error(format!("invalid {what} {text:?}")).at(
                source,
                Some(count.span()),
                &reason,
            ));
        }
    }
    if let Some(port) = spec.port.as_ref().filter(|p| *p.get_ref() == 0) {
        diagnostics.push(
            Diagnostic::error("port 0 is not a port a probe can reach").at(
                source,
                Some(port.span()),
                "use 1-65535",
            ),
        );
    }
    for mapping in spec.ports.iter().flatten() {
        if let Err(reason) = crate::ports::parse_interpolated(mapping.get_ref()) {
            diagnostics.push(
                Diagnostic::error(format!("invalid port mapping {:?}", mapping.get_ref())).at(
                    source,
                    Some(mapping.span()),
                    &reason,
                ),
            );
        }
    }
    if let Some(image) = &spec.image {
        let text = image.get_ref();
        let checked = crate::model::interpolation::parse_at_defaults(text, |t| {
            crate::images::reference_problem(t).map_or(Ok(()), Err)
        });
        if let Err(reason) = checked {
            diagnostics.push(
                Diagnostic::error(format!("invalid image reference {text:?}"))
                    .at(source, Some(image.span()), &reason)
                    .with_note("Docker refuses it (\"invalid reference format\") when it creates the container"),
            );
        }
    }
    for (key, command) in [("command", &spec.command), ("entrypoint", &spec.entrypoint)] {
        if let Some(command) = command
            && let Command::Line(line) = command.get_ref()
            && let Err(reason) = crate::model::command_line::split(line)
        {
            diagnostics.push(
                Diagnostic::error(format!("the {key} {line:?} has {reason}"))
                    .at(
                        source,
                        Some(command.span()),
                        "Compose cannot split this into words",
                    )
                    .with_note(
                        "Compose splits a command string into words (go-shellwords, not a shell) \
                         and refuses this one: \"invalid command line string\"; write a list, \
                         or `[\"sh\", \"-c\", \"...\"]` for a shell",
                    ),
            );
        }
    }
    check_interpolation(spec, source, diagnostics);
    let mut targets: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for volume in spec.volumes.iter().flatten() {
        let text = volume.get_ref();
        // A mount Compose interpolates is checked with its defaults; without one, not at all.
        let checked = crate::model::interpolation::parse_at_defaults(text, |t| {
            crate::volumes::target(t).map(str::to_owned)
        });
        match checked {
            Ok(None) => {}
            Err(reason) => {
                diagnostics.push(Diagnostic::error(format!("invalid volume {text:?}")).at(
                    source,
                    Some(volume.span()),
                    &reason,
                ));
            }
            Ok(Some(target)) => {
                if let Some((_, first)) = targets.iter().find(|(t, _)| *t == target) {
                    diagnostics.push(
                        Diagnostic::error(format!(
                            "two mounts on `{target}`: the engine refuses a duplicate mount point"
                        ))
                        .at(source, Some(volume.span()), "mounted again here")
                        .with_label(crate::diagnostic::Label::new(
                            source,
                            first.clone(),
                            "first mounted here",
                        )),
                    );
                } else {
                    targets.push((target, volume.span()));
                }
            }
        }
    }
    for path in [&spec.health_path, &spec.ready_path].into_iter().flatten() {
        let p = path.get_ref();
        if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            diagnostics.push(Diagnostic::error(format!("invalid HTTP path {p:?}")).at(
                source,
                Some(path.span()),
                "must start with `/` and contain no spaces",
            ));
        }
    }
    if let Some(app) = &spec.app {
        let a = app.get_ref();
        let valid = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'));
        if !valid {
            diagnostics.push(Diagnostic::error(format!("invalid Celery app {a:?}")).at(
                source,
                Some(app.span()),
                "expected a Python module path such as `config` or `proj.celery:app`",
            ));
        }
    }
    if let Some(hc) = &spec.healthcheck {
        for timing in [
            &hc.interval,
            &hc.timeout,
            &hc.start_period,
            &hc.start_interval,
        ]
        .into_iter()
        .flatten()
        {
            if let Err(reason) = crate::model::duration::parse_interpolated(timing.get_ref()) {
                diagnostics.push(Diagnostic::error("invalid duration").at(
                    source,
                    Some(timing.span()),
                    &reason,
                ));
            }
        }
        if let Some(test) = &hc.test
            && let Command::Argv(argv) = test.get_ref()
            && !matches!(
                argv.first().map(String::as_str),
                Some("CMD" | "CMD-SHELL" | "NONE")
            )
        {
            diagnostics.push(
                Diagnostic::error(
                    "a healthcheck `test` list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"",
                )
                .at(source, Some(test.span()), "no form")
                .with_note("or write a string, which Compose runs as CMD-SHELL"),
            );
        }
    }
    if let Some(gpus) = &spec.gpus
        && let crate::spec::Gpus::Request(request) = gpus.get_ref()
        && request.count.is_some()
        && request.device_ids.is_some()
    {
        diagnostics.push(
            Diagnostic::error("`gpus` sets both `count` and `device_ids`")
                .at(source, Some(gpus.span()), "one or the other")
                .with_note(
                    "Compose refuses it: \"count\" and \"device_ids\" attributes are exclusive",
                ),
        );
    }
    if let Some(cache) = &spec.model_cache
        && let crate::spec::ModelCache::Path(path) = cache.get_ref()
        && !path.starts_with('/')
    {
        diagnostics.push(
            Diagnostic::error(format!("invalid model cache path {path:?}"))
                .at(source, Some(cache.span()), "not an absolute container path")
                .with_note("write where the model server keeps its downloads, e.g. \"/root/.cache/huggingface\""),
        );
    }
    if let Some(env) = &spec.env {
        for key in env.keys() {
            if key.is_empty() || key.contains('=') {
                diagnostics.push(Diagnostic::error(format!(
                    "invalid environment variable name {key:?}"
                )));
            }
        }
    }
}

/// Compose interpolates every value of the file before it reads any, and refuses the whole file
/// over one it cannot (`${`, `${A:-`, `${A`, `${1X}`): "invalid interpolation format". The
/// values whose own checks interpolate them already (image, ports, volumes, durations) are
/// left to those checks, so that one mistake is one error.
fn check_interpolation(spec: &ServiceSpec, source: SourceId, diagnostics: &mut Diagnostics) {
    let mut check = |text: &str, span: std::ops::Range<usize>, what: &str| {
        if let Err(reason) = crate::model::interpolation::with_defaults(text) {
            diagnostics.push(
                Diagnostic::error(format!("Compose cannot interpolate {what} {text:?}"))
                    .at(source, Some(span), &reason)
                    .with_note(
                        "Compose refuses the file: \"invalid interpolation format ... You may \
                         need to escape any $ with another $\"",
                    ),
            );
        }
    };
    for (key, value) in spec.env.iter().flatten() {
        check(&value.get_ref().0, value.span(), &format!("`env.{key}`"));
    }
    for (key, value) in spec.labels.iter().flatten() {
        check(&value.get_ref().0, value.span(), &format!("`labels.{key}`"));
    }
    let hc_test = spec.healthcheck.as_ref().and_then(|hc| hc.test.as_ref());
    for (what, command) in [
        ("`command`", &spec.command),
        ("`entrypoint`", &spec.entrypoint),
        ("`healthcheck.test`", &hc_test.cloned()),
    ] {
        let Some(command) = command else { continue };
        match command.get_ref() {
            Command::Line(line) => check(line, command.span(), what),
            Command::Argv(argv) => argv.iter().for_each(|a| check(a, command.span(), what)),
        }
    }
    for network in spec.networks.iter().flatten() {
        check(network.get_ref(), network.span(), "the network");
    }
    if let Some(build) = &spec.build {
        let b = build.get_ref();
        let args = b.args.iter().flatten().map(|(_, v)| v.0.as_str());
        for text in [
            Some(b.context.as_str()),
            b.dockerfile.as_deref(),
            b.target.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(args)
        {
            check(text, build.span(), "a `build` value");
        }
    }
    if let Some(compose) = &spec.compose {
        fn strings<'t>(path: String, value: &'t toml::Value, out: &mut Vec<(String, &'t str)>) {
            match value {
                toml::Value::String(s) => out.push((path, s)),
                toml::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        strings(format!("{path}[{i}]"), v, out);
                    }
                }
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        strings(format!("{path}.{k}"), v, out);
                    }
                }
                _ => {}
            }
        }
        // The durations are read, and their interpolation judged, with the rest of the body.
        const DURATIONS: [&str; 5] = [
            "stop_grace_period",
            "healthcheck.interval",
            "healthcheck.timeout",
            "healthcheck.start_period",
            "healthcheck.start_interval",
        ];
        let mut found = Vec::new();
        for (key, value) in compose.get_ref() {
            strings(format!("compose.{key}"), value, &mut found);
        }
        for (path, text) in found {
            if !DURATIONS.contains(&&path["compose.".len()..]) {
                check(text, compose.span(), &format!("`{path}`"));
            }
        }
        for key in compose.get_ref().keys() {
            if key == "<<" {
                continue; // Said below, with what to write instead.
            }
            if let Some(suggestion) = crate::compose_body::unknown_service_key(key) {
                let mut d = Diagnostic::error(format!(
                    "`compose.{key}` is not a key Compose knows in a service"
                ))
                .at(source, Some(compose.span()), "in this table")
                .with_note(format!(
                    "Compose refuses the file (\"additional properties '{key}' not allowed\"); \
                     an extension key of your own starts with `x-`"
                ));
                if let Some(hint) = suggestion {
                    d = d.with_note(hint);
                }
                diagnostics.push(d);
            }
        }
        // TOML has no merge keys: `"<<"` is a key of that name, which Compose's schema refuses
        // ("additional properties '<<' not allowed").
        if let Some(path) = merge_key(compose.get_ref(), "compose") {
            diagnostics.push(
                Diagnostic::error(format!(
                    "`{path}` is a key named `<<`, which Compose refuses"
                ))
                .at(source, Some(compose.span()), "here")
                .with_note("a YAML merge key means nothing in TOML: write the keys it would merge"),
            );
        }
    }
}

/// The path of the first key named `<<` in `table`, at any depth.
fn merge_key(table: &toml::Table, path: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let here = format!("{path}.{key}");
        match value {
            _ if key == "<<" => Some(here),
            toml::Value::Table(t) => merge_key(t, &here),
            _ => None,
        }
    })
}
