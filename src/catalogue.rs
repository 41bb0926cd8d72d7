//! Stage 1, load: the catalogue file parsed into strict input types that keep their spans.
//! Every key is known (`deny_unknown_fields` at every level) and every value that can be checked
//! on its own is checked here, where the file it came from is still known.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::spec::{ServiceSpec, capacity};
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
        with = "IndexMap<String, crate::spec::shapes::CatalogueEntry>",
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
        with = "Option<Vec<crate::spec::shapes::LintName>>",
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
    /// Entries that lost a key because it was wrong (reported): they lack what the user wrote, so
    /// the stages that judge a service whole leave them out; the names they give (their kind,
    /// profiles, dependencies) are still checked.
    pub broken: Vec<Entry>,
    /// Services named in the file that did not load at all (no `kind`, or a table of the wrong
    /// type): a dependency on one is no dependency on an unknown service.
    pub unloaded: Vec<String>,
    pub resources: crate::resources::Resources,
    pub models: crate::ai_models::Models,
    /// The lock file beside the catalogue (`muster.lock`), when the pipeline read one: resolve
    /// takes its facts over the image table.
    pub lock: Option<crate::lock::Lock>,
    /// The Dockerfiles of its builds, read by the pipeline's load stage (none when the
    /// catalogue was only parsed: see [`crate::dockerfile::Dockerfiles`]).
    pub dockerfiles: crate::dockerfile::Dockerfiles,
}

/// One `[services.NAME]` table.
#[derive(Debug)]
pub struct Entry {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    /// Kept in the box it was read into: moving almost 2 KB out of it, for every service,
    /// freed as much again, which the allocator holds on to for a while (the peak RSS at
    /// 10,000 services was 19.5 MiB higher with it, BENCHMARKS.md).
    pub spec: Box<ServiceSpec>,
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
        let mut broken = Vec::new();
        let mut unloaded: Vec<String> = dropped.whole("services").map(str::to_owned).collect();
        for (name, spec) in file.services.0 {
            let span = spec.span();
            let spec = spec.into_inner();
            check_service_name(&name, source, diagnostics);
            crate::spec::check::check_layer(&spec, source, diagnostics);
            if let Some(overrides) = &spec.profiles {
                for over in overrides.values() {
                    crate::spec::check::check_layer_keys(
                        over.get_ref(),
                        "a profile override",
                        source,
                        diagnostics,
                    );
                    crate::spec::check::check_layer(over.get_ref(), source, diagnostics);
                }
            }
            let Some(kind) = spec.kind.clone() else {
                unloaded.push(name.get_ref().clone());
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
            let entry = Entry { name, kind, spec };
            if dropped.under(&["services", entry.name.get_ref()]) {
                broken.push(entry);
            } else {
                services.push(entry);
            }
        }
        Some(Catalogue {
            path: path.to_owned(),
            source,
            project: file.project,
            services,
            broken,
            unloaded,
            resources,
            models: file.models,
            lock: None,
            dockerfiles: Default::default(),
        })
    }

    /// Every `build` an entry or one of its `profiles.NAME` overrides writes.
    pub fn builds(&self) -> impl Iterator<Item = &crate::spec::Build> {
        self.services.iter().flat_map(|entry| {
            let overrides = entry.spec.profiles.iter().flat_map(|o| o.values());
            std::iter::once(&*entry.spec)
                .chain(overrides.map(Spanned::get_ref))
                .filter_map(|spec| spec.build.as_ref().map(Spanned::get_ref))
        })
    }

    /// The builds an entry's layers merge into that no one layer writes whole: Compose merges
    /// `build` key by key (resolve's `merge_build`), so an entry's `context` may meet a
    /// profile's `dockerfile`. Each pair of a context and a Dockerfile (or none) that the
    /// layers of an entry with more than one `build` write; `shared` are the profiles' builds,
    /// which every entry may take.
    pub fn merged_builds(&self, shared: &[&crate::spec::Build]) -> Vec<crate::spec::Build> {
        let mut merged = Vec::new();
        for entry in &self.services {
            let overrides = entry.spec.profiles.iter().flat_map(|o| o.values());
            let layers: Vec<&crate::spec::Build> = std::iter::once(&*entry.spec)
                .chain(overrides.map(Spanned::get_ref))
                .filter_map(|spec| spec.build.as_ref().map(Spanned::get_ref))
                .chain(shared.iter().copied())
                .collect();
            if layers.len() < 2 {
                continue;
            }
            let mut contexts: Vec<&String> = Vec::new();
            let mut dockerfiles: Vec<Option<&String>> = vec![None];
            for b in &layers {
                if !contexts.contains(&&b.context) {
                    contexts.push(&b.context);
                }
                if b.dockerfile.is_some() && !dockerfiles.contains(&b.dockerfile.as_ref()) {
                    dockerfiles.push(b.dockerfile.as_ref());
                }
            }
            for context in contexts {
                for dockerfile in &dockerfiles {
                    merged.push(crate::spec::Build {
                        context: context.clone(),
                        dockerfile: dockerfile.cloned(),
                        dockerfile_inline: None,
                        target: None,
                        args: None,
                    });
                }
            }
        }
        merged
    }
}

impl Catalogue {
    /// Every service name the file gives, loaded or not, in the order written (the broken and
    /// unloaded ones after the rest).
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.services
            .iter()
            .chain(&self.broken)
            .map(|e| e.name.get_ref().as_str())
            .chain(self.unloaded.iter().map(String::as_str))
    }
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
