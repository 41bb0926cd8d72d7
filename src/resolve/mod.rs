//! Stage 2, resolve: each catalogue entry, with its kind, engine, image facts and the profile's
//! layers applied, becomes a typed [`Service`] whose every value is decided.
//!
//! Layers, lowest first: kind and image defaults; the profile's `[defaults]` (base profile first
//! along `extends`); the profile's `[kinds.KIND]` sections (likewise); the catalogue entry; the
//! entry's `[services.NAME.profiles.PROFILE]` overrides; the healthcheck timings `muster tune`
//! measured, in a profile's `[services.NAME]`. Each layer merges over the ones below
//! as Compose merges files (`crate::merge` holds the rule of each key): scalars replace, tables
//! merge key by key, lists append; a layer's `reset` and `override` cut off the layers below for
//! the paths they name. Which layer set each value (each item of a merged list, each reset) is
//! kept as the service's provenance, when the caller asks for it.

use crate::catalogue::{Catalogue, Entry};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceId};
use crate::features::Gated;
use crate::images::{self, ImageFacts, ImageRef, ProbeFacts, Programs};
use crate::kinds::Kinds;
use crate::model::{Condition, Duration, HealthKey, KindTraits};
use crate::probe::{self, Probe};
use crate::profile::Profile;
use crate::spec::{Build, Command, DependencyOptions, ServiceSpec};
use indexmap::IndexMap;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned;

mod build;
mod engine;
mod layers;
mod passthrough;
mod references;
mod secrets;
mod start;

use engine::{health_endpoint, infer_engine};
pub use layers::Layer;
use layers::{Layers, Origin, layer_stack};
use passthrough::SharedCompose;
pub use references::check as check_references;

/// The catalogue, resolved under one profile.
#[derive(Debug)]
pub struct Model {
    pub project: Project,
    pub services: Vec<Service>,
}

/// What the whole output is about, beyond its services.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: Option<String>,
    pub profile: String,
    /// The catalogue's file name, for the output's header.
    pub catalogue_name: String,
    pub catalogue_source: SourceId,
    /// Every service the catalogue names, including any that failed to resolve, so that later
    /// stages do not report a dependency on a broken service as a dependency on a missing one.
    pub service_names: Vec<String>,
    /// The selected profile and the ones it extends, base first.
    pub profiles: Vec<String>,
    /// Where each of `profiles` was read.
    pub profile_sources: Vec<SourceId>,
    /// The profile's `autoheal`: the nearest profile along `extends` that sets it decides.
    pub autoheal: bool,
    /// The Compose and Engine the stack is generated for (`[project] requires`, or
    /// `--requires` over it).
    pub requires: crate::model::version::Requires,
    /// Where the catalogue declares it.
    pub requires_span: Option<Range<usize>>,
    /// The profile's `production`, decided as `autoheal` is.
    pub production: bool,
    /// The catalogue's top-level volumes, networks, secrets and configs.
    pub resources: crate::resources::Resources,
    /// The secrets muster declares for the files `env = { X = { secret = "./FILE" } }` names,
    /// by name: each file's path, in first-use order.
    pub secret_files: IndexMap<String, SecretFile>,
    /// The catalogue's `[models]`, by name, for the top-level `models` and the services'
    /// bindings.
    pub models: IndexMap<String, crate::ai_models::ModelSpec>,
    /// The services whose `only_in` names none of the profiles in force: not in the model.
    pub left_out: Vec<LeftOut>,
    /// The lock file the services' facts were read from, for `check` to compare with the
    /// engine.
    pub lock: Option<crate::lock::Lock>,
    /// Where the generated file goes, set by the command that writes it (`gen -o`, `up`):
    /// emitters rebase relative paths for it.
    pub output: crate::host_paths::Destination,
}

impl Project {
    /// Whether a service may name secret `name`: the catalogue declares it, or muster does for
    /// a file an `env` secret names.
    pub fn declares_secret(&self, name: &str) -> bool {
        self.resources.declares("secrets", name) || self.secret_files.contains_key(name)
    }
}

/// A service that exists only under other profiles.
#[derive(Debug, Clone)]
pub struct LeftOut {
    pub name: String,
    /// The profiles it exists under, as `only_in` lists them.
    pub only_in: Vec<String>,
    /// Where `only_in` is written.
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    /// Where the service's table starts in the catalogue, for diagnostics about it as a whole.
    pub name_span: Range<usize>,
    pub kind: String,
    pub traits: KindTraits,
    pub engine: Option<String>,
    pub image: Option<String>,
    pub build: Option<Build>,
    /// Every program in the image a probe could use, when muster knows them all.
    pub tools: Option<images::Tools>,
    /// Who the image lets in, when muster knows the image (or its engine's image).
    pub access: Option<&'static images::Access>,
    pub probe: Probe,
    /// The image's own HEALTHCHECK, as far as muster knows it (a build's Dockerfile says).
    pub image_healthcheck: images::ImageHealthcheck,
    /// The container port probes and Kubernetes Services target.
    pub port: Option<u16>,
    pub health_port: Option<u16>,
    pub health_path: Option<String>,
    pub ready_path: Option<String>,
    pub app: String,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    pub ports: Vec<String>,
    /// The `ports` that publish a host port, parsed, with where each was written.
    pub published: Vec<PublishedPort>,
    /// The plain `env` values; the variables given as secrets are in `secret_env`.
    pub env: IndexMap<String, String>,
    /// The `env` variables whose values are Compose secrets, in the order the layers give them.
    pub secret_env: Vec<SecretEnv>,
    pub env_file: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
    pub labels: IndexMap<String, String>,
    /// As written (`"always"`, `"${RESTART:-unless-stopped}"`); the body reads its value.
    pub restart: Option<String>,
    /// Where `restart` was written, for messages about it.
    pub restart_at: Option<Written>,
    /// Where each healthcheck timing the catalogue's layers set was written, for messages
    /// about it.
    pub healthcheck_at: Vec<(HealthKey, Written)>,
    pub replicas: Option<crate::model::Count>,
    pub healthcheck: Healthcheck,
    pub depends_on: Vec<Dependency>,
    /// The options of a dependency whose entry sets none (a template's, too).
    pub depends_on_options: DependencyOptions,
    pub gpus: Option<crate::spec::Gpus>,
    /// The model cache mount, `NAME-models:PATH`, when the service has one.
    pub model_cache: Option<String>,
    /// The models of `[models]` the service is bound to.
    pub models: Vec<ModelUse>,
    /// Compose's `profiles`: the service starts only when one is enabled.
    pub compose_profiles: Vec<String>,
    /// Compose keys passed through verbatim, merged over everything muster generates. Shared
    /// between services whose own tables add nothing to the profiles'.
    pub compose: Arc<crate::yaml::Mapping>,
    /// Where each layer's `compose` table is, lowest first, so that a value Compose refuses is
    /// pointed at in the table that wrote it.
    pub compose_at: Vec<ComposeTable>,
    /// The layer that set each value muster models, by catalogue key path: `image`, `env.NAME`,
    /// `healthcheck.interval`, `compose.logging.driver`. Values the kind template renders have
    /// no entry. Empty unless [`Context::provenance`] asked for it.
    pub provenance: IndexMap<String, Layer>,
    /// The Compose paths (`environment.DEBUG`, `healthcheck`) a layer's `reset` or `override`
    /// names: the kind template is the lowest layer, so what it writes there is dropped.
    pub template_resets: Vec<Vec<String>>,
    /// The version-gated keys (`features::FEATURES`) the catalogue entry itself sets, its
    /// `profiles.NAME` included: a target that cannot do them is an error, not a warning.
    pub gated: Vec<GatedKey>,
}

impl Service {
    /// Where the catalogue's layers wrote the healthcheck's `key`, unless the `compose` table
    /// sets it over them (that table has no span of its own per key).
    pub fn healthcheck_written(&self, key: HealthKey) -> Option<&Written> {
        let passthrough = self
            .compose
            .get("healthcheck")
            .is_some_and(|hc| hc.get(key.name()).is_some());
        if passthrough {
            return None;
        }
        self.healthcheck_at
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, at)| at)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Healthcheck {
    /// A test the user wrote, replacing the kind template's probe.
    pub test: Option<Command>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<crate::model::Count>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub disable: bool,
}

impl Healthcheck {
    /// The duration the layers set for `key`, if it is one of [`HealthKey::DURATIONS`].
    pub fn duration(&self, key: HealthKey) -> Option<&Duration> {
        match key {
            HealthKey::Interval => self.interval.as_ref(),
            HealthKey::Timeout => self.timeout.as_ref(),
            HealthKey::StartPeriod => self.start_period.as_ref(),
            HealthKey::StartInterval => self.start_interval.as_ref(),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }

    fn duration_mut(&mut self, key: HealthKey) -> Option<&mut Option<Duration>> {
        match key {
            HealthKey::Interval => Some(&mut self.interval),
            HealthKey::Timeout => Some(&mut self.timeout),
            HealthKey::StartPeriod => Some(&mut self.start_period),
            HealthKey::StartInterval => Some(&mut self.start_interval),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }

    /// The probe's own time limit: a second under the engine's, so that a slow answer is
    /// reported by the probe itself rather than by the engine killing it.
    pub fn probe_timeout_secs(&self) -> u64 {
        // A timeout Compose reads from the environment: its default, else Docker's.
        let timeout = self
            .timeout
            .as_ref()
            .and_then(Duration::value)
            .or(HealthKey::Timeout.docker_default())
            .unwrap_or_default();
        timeout.as_secs().saturating_sub(1).max(1)
    }
}

/// One layer's `compose` table: its file and span, and the layer (which says the table's path in
/// that file: `services.NAME.compose`, `services.NAME.profiles.P.compose`, `defaults.compose`,
/// `kinds.KIND.compose`).
#[derive(Debug, Clone)]
pub struct ComposeTable {
    pub source: SourceId,
    pub span: Range<usize>,
    pub layer: Layer,
}

/// A version-gated key the entry sets, and where: its value, or the `compose` table that holds
/// it (toml keeps no spans inside a table read as one value).
#[derive(Debug, Clone)]
pub struct GatedKey {
    pub key: Gated,
    pub at: Option<(SourceId, Range<usize>)>,
}

/// Where a value was written: its file and span, and the profile when one of its sections set
/// it, the same value for every service the section covers.
#[derive(Debug, Clone)]
pub struct Written {
    pub source: SourceId,
    pub span: Range<usize>,
    pub profile: Option<String>,
}

/// An `env` variable whose value reaches the container as a Compose secret.
#[derive(Debug, Clone)]
pub struct SecretEnv {
    /// The variable the catalogue names (`POSTGRES_PASSWORD`).
    pub variable: String,
    /// The variable the image reads the file's path from (`POSTGRES_PASSWORD_FILE`).
    pub file_variable: String,
    /// The top-level secret's name.
    pub secret: String,
    /// The file, where the entry names one rather than a `[secrets.NAME]` table.
    pub file: Option<String>,
    pub source: SourceId,
    pub span: Range<usize>,
}

/// A secret muster declares for a file an `env` secret names.
#[derive(Debug, Clone)]
pub struct SecretFile {
    pub file: String,
    /// Where the first `env` entry that names the file was written.
    pub source: SourceId,
    pub span: Range<usize>,
}

impl SecretEnv {
    /// Where Compose, Swarm and muster's Kubernetes mount put the secret in the container.
    pub fn target(&self) -> String {
        format!("/run/secrets/{}", self.secret)
    }
}

/// A port mapping a service publishes, where it was written.
#[derive(Debug, Clone)]
pub struct PublishedPort {
    pub text: String,
    pub source: SourceId,
    pub span: Range<usize>,
}

/// A service's binding to a model of the catalogue's `[models]`.
#[derive(Debug, Clone)]
pub struct ModelUse {
    pub name: String,
    pub endpoint_var: Option<String>,
    pub model_var: Option<String>,
    pub source: SourceId,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    pub target: String,
    pub condition: Option<Condition>,
    /// `restart` and `required`, from the entry or the service's `depends_on_options`.
    pub options: DependencyOptions,
    pub source: SourceId,
    pub span: Range<usize>,
}

/// What the resolve stage needs besides the catalogue.
pub struct Context<'a> {
    pub kinds: &'a Kinds,
    /// The selected profile and the ones it extends, base first.
    pub profiles: &'a [&'a Profile],
    pub provenance: Provenance,
}

/// Whether to keep which layer set each value, in [`Service::provenance`]. Only `explain` and
/// `report` read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provenance {
    #[default]
    Skip,
    Record,
}

pub fn resolve(catalogue: &Catalogue, inputs: &Context, diagnostics: &mut Diagnostics) -> Model {
    let profile = inputs
        .profiles
        .last()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut shared_compose = SharedCompose::default();
    let mut builds = build::Builds::default();
    // Sized up front: collecting from `filter_map` grows the list by doubling, and a service
    // is about a kilobyte.
    let mut services = Vec::with_capacity(catalogue.services.len());
    let mut left_out = Vec::new();
    let in_force = |p: &Spanned<String>| inputs.profiles.iter().any(|q| &q.name == p.get_ref());
    services.extend(catalogue.services.iter().filter_map(|entry| {
        // A profile that extends another is that profile and more, so `only_in = ["prod"]`
        // keeps the service under a profile that extends prod, as `profiles.prod` applies there.
        if let Some(only_in) = &entry.spec.only_in
            && !only_in.get_ref().iter().any(in_force)
        {
            left_out.push(LeftOut {
                name: entry.name.get_ref().clone(),
                only_in: only_in
                    .get_ref()
                    .iter()
                    .map(|p| p.get_ref().clone())
                    .collect(),
                span: only_in.span(),
            });
            return None;
        }
        resolve_service(
            entry,
            catalogue,
            inputs,
            &mut Shared {
                compose: &mut shared_compose,
                builds: &mut builds,
            },
            diagnostics,
        )
    }));
    let secret_files = secrets::declared(
        services.iter().flat_map(|s: &Service| &s.secret_env),
        &catalogue.resources,
        diagnostics,
    );
    Model {
        project: Project {
            name: catalogue.project.name.as_ref().map(|n| n.get_ref().clone()),
            profile,
            catalogue_name: catalogue
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            catalogue_source: catalogue.source,
            service_names: catalogue.all_names().map(str::to_owned).collect(),
            profiles: inputs.profiles.iter().map(|p| p.name.clone()).collect(),
            profile_sources: inputs.profiles.iter().map(|p| p.source).collect(),
            autoheal: inputs
                .profiles
                .iter()
                .rev()
                .find_map(|p| p.file.autoheal)
                .unwrap_or(false),
            requires: catalogue
                .project
                .requires
                .as_ref()
                .map(|r| r.get_ref().requires())
                .unwrap_or_default(),
            requires_span: catalogue.project.requires.as_ref().map(|r| r.span()),
            production: inputs
                .profiles
                .iter()
                .rev()
                .find_map(|p| p.file.production)
                .unwrap_or(false),
            resources: catalogue.resources.clone(),
            secret_files,
            models: catalogue
                .models
                .iter()
                .map(|(name, spec)| (name.get_ref().clone(), spec.clone()))
                .collect(),
            left_out,
            lock: catalogue.lock.clone(),
            output: crate::host_paths::Destination::Stdout,
        },
        services,
    }
}

/// What services resolved one after another share.
struct Shared<'s, 'a> {
    compose: &'s mut SharedCompose<'a>,
    builds: &'s mut build::Builds,
}

fn resolve_service<'a>(
    entry: &'a Entry,
    whole: &Catalogue,
    inputs: &Context<'a>,
    shared: &mut Shared<'_, 'a>,
    diagnostics: &mut Diagnostics,
) -> Option<Service> {
    let catalogue = whole.source;
    let name = entry.name.get_ref();
    let Some(kind) = inputs.kinds.get(entry.kind.get_ref()) else {
        diagnostics.push(unknown_kind(entry, catalogue, inputs.kinds));
        return None;
    };

    let mut layers = Layers::new(
        layer_stack(entry, kind, catalogue, inputs.profiles),
        inputs.provenance == Provenance::Record,
    );
    // Errors, not diagnostics: a warning about the service leaves it in the model.
    let errors = |d: &Diagnostics| {
        d.as_slice()
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .count()
    };
    let errors_before = errors(diagnostics);
    let mut error = |d: Diagnostic| diagnostics.push(d);

    let image = layers.pick("image", |s| s.image.as_ref());
    let image_key = image;
    let merged_build = layers.merge_build();
    let build = merged_build.as_ref().map(|(b, source)| (b, *source));
    let engine_key = layers.pick("engine", |s| s.engine.as_ref());

    // The build's Dockerfile says what runs, also when `image` only names what it makes.
    let followed =
        build.and_then(
            |(b, source)| match shared.builds.follow(b.get_ref(), &whole.dockerfiles) {
                Ok(followed) => Some(followed),
                Err(message) => {
                    error(
                        Diagnostic::error(format!("service `{name}`: {message}")).at(
                            source,
                            Some(b.span()),
                            "this build",
                        ),
                    );
                    None
                }
            },
        );
    let base_row = followed.as_ref().and_then(|f| f.base_row);
    let image_ref = image.map(|(i, _)| ImageRef::parse(i.get_ref()));
    let image_facts = match build {
        None => image_ref.as_ref().and_then(images::lookup),
        // A build FROM an engine's image runs that engine (`FROM postgres:17` for a `db`).
        Some(_) => base_row.filter(|row| row.engine.is_some_and(|e| kind.engines.contains(&e))),
    };
    let engine = match infer_engine(kind, engine_key, image, image_facts) {
        Ok(engine) => engine,
        Err(d) => {
            error(d.at(catalogue, Some(entry.name.span()), "in this service"));
            None
        }
    };
    let engine_facts = engine.as_deref().and_then(images::for_engine);
    // A custom image of a known engine (`myorg/postgres-postgis`) is taken to carry the engine's
    // tools: such images are built FROM the official one.
    let facts: Option<&ImageFacts> = match build {
        None => image_facts.or(engine_facts),
        Some(_) => base_row.or(engine_facts),
    };
    // What `muster images` read from the image itself comes first: by the reference the service
    // runs (an engine's default image too), or, for a build without one, by the service's name.
    let reference = image.map(|(i, _)| i.get_ref().as_str()).or_else(|| {
        build
            .is_none()
            .then(|| engine_facts?.default_image)
            .flatten()
    });
    let locked = whole
        .lock
        .as_ref()
        .and_then(|l| l.entry_for(name, reference));
    let probe_facts = match (locked, &followed, &image_ref, facts) {
        (Some(locked), ..) => locked.facts.clone(),
        (None, Some(followed), _, _) => followed.facts.clone(),
        // The build was refused (reported): nothing is known of what it would make.
        (None, None, _, _) if build.is_some() => ProbeFacts::cannot_tell("its build is refused"),
        (None, None, Some(r), Some(f)) => ProbeFacts::from_table(f, r),
        // The engine's default image, whose tag picks the variant like any other.
        (None, None, None, Some(f)) => match f.default_image {
            Some(default) => ProbeFacts::from_table(f, &ImageRef::parse(default)),
            None => ProbeFacts::of(Programs::Exactly(images::Tools::Borrowed(f.tools))),
        },
        (None, None, _, None) => ProbeFacts::cannot_tell(format!(
            "it does not know image `{}`",
            image.map(|(i, _)| i.get_ref().as_str()).unwrap_or_default()
        )),
    };
    // Checked against every program a probe calls (`validate::probe_tools`), so only what
    // muster knows whole: the lock's programs are read from the image's files, but a build's
    // Dockerfile shows the clients it installs, not whatever its `pip install` or `COPY` of the
    // app adds (`celery`, the app's own binary).
    let tools = match (locked, build) {
        (None, Some(_)) => None,
        _ => probe_facts.programs.exactly().cloned(),
    };

    let image = match (image, &build, engine_facts) {
        (Some((i, _)), _, _) => Some(i.get_ref().clone()),
        (None, Some(_), _) => None,
        (None, None, Some(f)) => {
            layers.record(|| "image".to_owned(), || Layer::KindDefault);
            f.default_image.map(str::to_owned)
        }
        (None, None, None) => {
            if engine.is_some() || kind.engines.is_empty() {
                error(
                    Diagnostic::error(format!("service `{name}` needs an `image` or a `build`"))
                        .at(catalogue, Some(entry.name.span()), "neither is set")
                        .with_note(format!(
                            "a `{}` service runs your own code or image",
                            kind.name
                        )),
                );
            }
            None
        }
    };

    let port = layers
        .pick("port", |s| s.port.as_ref())
        .map(|(p, _)| *p.get_ref())
        .or_else(|| {
            // What the Dockerfile EXPOSEs first, before the base's port or the kind's default.
            let port = (probe_facts.exposed.first().copied())
                .or_else(|| facts.and_then(|f| f.port))
                .or(kind.default_port);
            if port.is_some() {
                layers.record(|| "port".to_owned(), || Layer::KindDefault);
            }
            port
        });
    let explicit_health_path = layers
        .pick("health_path", |s| s.health_path.as_ref())
        .map(|(p, _)| p.get_ref().clone());
    let health_path_set = explicit_health_path.is_some();
    let (health_port, health_path) = health_endpoint(kind, facts, port, explicit_health_path);
    let ready_path = layers
        .pick("ready_path", |s| s.ready_path.as_ref())
        .map(|(p, _)| p.get_ref().clone())
        .or_else(|| health_path.clone());

    let healthcheck = healthcheck(&mut layers);

    // An unknown probe name was reported where it was written; it must not be reported twice.
    let requested_probe = layers
        .pick("probe", |s| s.probe.as_ref())
        .filter(|(p, _)| crate::probe::REQUESTS.contains(&p.get_ref().as_str()));
    let auto = requested_probe.is_none_or(|(p, _)| p.get_ref() == "auto");
    // Programs muster knows only some of still decide `auto` when a client is among them;
    // a client asked for by name is then not refused, since the image may well have it.
    let choice_tools: Option<&[&str]> = match &probe_facts.programs {
        Programs::Exactly(tools) => Some(tools),
        Programs::AtLeast(tools, _) if auto && probe::has_http_client(tools) => Some(tools),
        Programs::AtLeast(..) => None,
        Programs::Likely(tools, _) => Some(tools),
    };
    // An image with its own HEALTHCHECK keeps it, as `probe = "image"` would.
    let own_healthcheck = auto
        && probe_facts.healthcheck == images::ImageHealthcheck::Declared
        && healthcheck.test.is_none()
        && !healthcheck.disable
        && kind.probe != crate::model::ProbeStyle::None;
    let chosen = if own_healthcheck {
        Ok(Probe::Image)
    } else {
        probe::choose(
            requested_probe.map(|(p, _)| p.get_ref().as_str()),
            kind.probe,
            choice_tools,
        )
    };
    let probe = match chosen {
        Ok(p) => p,
        // A test of the user's own replaces the template's probe, so an image without a client
        // muster can use (distroless) is no error then. The template still renders one, which
        // the user's test replaces.
        Err(_)
            if requested_probe.is_none_or(|(p, _)| p.get_ref() == "auto")
                && (healthcheck.test.is_some() || healthcheck.disable) =>
        {
            Probe::Http(probe::HttpClient::Curl)
        }
        Err(reason) => {
            let d = Diagnostic::error(format!("service `{name}`: {reason}"));
            error(match requested_probe {
                Some((p, source)) => d.at(source, Some(p.span()), "this probe"),
                None => d.at(catalogue, Some(entry.name.span()), "in this service"),
            });
            Probe::None
        }
    };

    // Each option from the highest layer that sets it, as `healthcheck` is merged.
    let mut option = |key: &'static str, get: fn(&DependencyOptions) -> Option<&bool>| {
        let (value, origin, _) = layers.highest_below("depends_on_options", &[key], |s| {
            s.depends_on_options.as_ref().and_then(get)
        })?;
        layers.record(|| format!("depends_on_options.{key}"), || origin.to_layer());
        Some(*value)
    };
    let option_defaults = DependencyOptions {
        restart: option("restart", |o| o.restart.as_ref()),
        required: option("required", |o| o.required.as_ref()),
    };
    let model_cache = model_cache(&mut layers, facts, name, &mut error);
    let merged_deps = layers.merge_depends_on();
    let depends_on = dependencies(&merged_deps, option_defaults, diagnostics);

    let restart_at =
        layers
            .highest("restart", |s| s.restart.as_ref())
            .map(|(r, origin, source)| Written {
                source,
                span: r.span(),
                profile: origin.profile().map(str::to_owned),
            });
    let healthcheck_at = healthcheck_at(&layers);
    let merged_models = layers.merge_models();
    let models: Vec<ModelUse> = merged_models
        .iter()
        .map(|m| ModelUse {
            name: m.name.get_ref().clone(),
            endpoint_var: m.binding.endpoint_var.clone(),
            model_var: m.binding.model_var.clone(),
            source: m.source,
            span: m.name.span(),
        })
        .collect();

    let ports = layers.merge_list("ports", |s| s.ports.as_ref());
    let published = published(&ports);
    let strings = |list: &[(&Spanned<String>, SourceId)]| -> Vec<String> {
        list.iter().map(|(s, _)| s.get_ref().clone()).collect()
    };
    let by_entry = |origin: Origin| matches!(origin, Origin::Catalogue | Origin::Override(_));
    let mut gated = Vec::new();
    if let Some((value, origin, source)) =
        layers.highest_below("healthcheck", &[HealthKey::StartInterval.name()], |s| {
            s.healthcheck
                .as_ref()
                .and_then(|h| h.start_interval.as_ref())
        })
        && by_entry(origin)
    {
        gated.push(GatedKey {
            key: Gated::StartInterval,
            at: Some((source, value.span())),
        });
    }
    // An inline Dockerfile left out would build the context's own Dockerfile instead.
    if let Some((value, origin, source)) =
        layers.highest_below("build", &["dockerfile_inline"], |s| {
            s.build
                .as_ref()
                .filter(|b| b.get_ref().dockerfile_inline.is_some())
        })
        && by_entry(origin)
    {
        gated.push(GatedKey {
            key: Gated::BuildDockerfileInline,
            at: Some((source, value.span())),
        });
    }
    // A model binding is the service's own request: without the runner it cannot work, so a
    // target before `models` refuses it rather than leaving it out.
    if let Some(l) = layers
        .counted("models")
        .iter()
        .rev()
        .find(|l| by_entry(l.origin) && l.spec.models.is_some())
    {
        let value = l.spec.models.as_ref().expect("found above");
        gated.push(GatedKey {
            key: Gated::Models,
            at: Some((l.source, value.span())),
        });
    }
    // An option the entry wrote: at the first dependency it sets it for, or in the entry's
    // own `depends_on_options`.
    let entry_option = |key: Gated, restart: bool| {
        let on_a_dependency = merged_deps.iter().find_map(|d| {
            let written = if restart {
                d.restart.as_ref().map(|r| &r.1)
            } else {
                d.required.as_ref().map(|r| &r.1)
            }?;
            by_entry(written.layer).then(|| (written.source, written.target.clone()))
        });
        let field = if restart { "restart" } else { "required" };
        let in_options = layers
            .highest_below("depends_on_options", &[field], |s| {
                let o = s.depends_on_options.as_ref()?;
                if restart {
                    o.restart.as_ref()
                } else {
                    o.required.as_ref()
                }
            })
            .is_some_and(|(_, origin, _)| by_entry(origin));
        (on_a_dependency.is_some() || in_options).then_some(GatedKey {
            key,
            at: on_a_dependency,
        })
    };
    gated.extend(entry_option(Gated::DependsOnRestart, true));
    gated.extend(entry_option(Gated::DependsOnRequired, false));
    // The entry's own `compose` tables; a profile's are defaults like its other keys.
    for l in layers
        .counted("compose")
        .iter()
        .filter(|l| by_entry(l.origin))
    {
        if let Some(table) = &l.spec.compose {
            let at = Some((l.source, table.span()));
            gated.extend(
                crate::features::keys_in_toml(table.get_ref()).map(|key| GatedKey {
                    key,
                    at: at.clone(),
                }),
            );
        }
    }
    let (env, secrets) = layers.merge_env();
    let secret_env = secrets::secret_env(
        name,
        image.as_deref(),
        facts.map_or(images::FileVariables::Convention, |f| f.access.files),
        secrets,
        &env,
        diagnostics,
    );
    let service = Service {
        name: name.clone(),
        name_span: entry.name.span(),
        kind: kind.name.clone(),
        traits: kind.traits,
        engine,
        image,
        build: build.map(|(b, _)| b.get_ref().clone()),
        tools,
        access: facts.map(|f| &f.access),
        probe,
        image_healthcheck: probe_facts.healthcheck,
        port,
        health_port,
        health_path,
        ready_path,
        app: layers
            .pick("app", |s| s.app.as_ref())
            .map(|(a, _)| a.get_ref().clone())
            .unwrap_or_else(|| "config".to_owned()),
        command: layers
            .pick("command", |s| {
                s.command.as_ref().map(toml::Spanned::get_ref)
            })
            .map(|(c, _)| c.clone()),
        entrypoint: layers
            .pick("entrypoint", |s| {
                s.entrypoint.as_ref().map(toml::Spanned::get_ref)
            })
            .map(|(c, _)| c.clone()),
        ports: strings(&ports),
        published,
        env,
        secret_env,
        env_file: layers.merge_env_file(),
        volumes: strings(&layers.merge_list("volumes", |s| s.volumes.as_ref())),
        networks: strings(&layers.merge_list("networks", |s| s.networks.as_ref())),
        labels: layers.merge_map("labels", |s| s.labels.as_ref()),
        restart: layers
            .pick("restart", |s| s.restart.as_ref())
            .map(|(r, _)| r.get_ref().clone())
            // Load reported a policy the engine refuses; the body would only report it again.
            .filter(|r| crate::model::Restart::parse_interpolated(r).is_ok()),
        restart_at,
        healthcheck_at,
        replicas: layers
            .pick("replicas", |s| s.replicas.as_ref())
            .map(|(r, _)| r.get_ref().clone()),
        healthcheck,
        depends_on,
        depends_on_options: option_defaults,
        gpus: layers
            .pick("gpus", |s| s.gpus.as_ref())
            .map(|(g, _)| g.get_ref().clone()),
        model_cache,
        models,
        compose_profiles: strings(
            &layers.merge_list("compose_profiles", |s| s.compose_profiles.as_ref()),
        ),
        compose: layers.compose(shared.compose, &kind.name),
        compose_at: layers
            .layers
            .iter()
            .filter_map(|l| {
                let table = l.spec.compose.as_ref()?;
                Some(ComposeTable {
                    source: l.source,
                    span: table.span(),
                    layer: l.origin.to_layer(),
                })
            })
            .collect(),
        provenance: IndexMap::new(),
        template_resets: layers.template_resets(),
        gated,
    };
    // A `compose.depends_on` names services too, which Compose requires to exist; the graph
    // judges them with the rest.
    let mut service = service;
    let passthrough =
        layers.passthrough_dependencies(&service.compose, &service.depends_on, diagnostics);
    service.depends_on.extend(passthrough);
    service.provenance = layers.provenance.unwrap_or_default();
    let probes_over_http = matches!(service.probe, Probe::Http(_))
        && service.healthcheck.test.is_none()
        && !service.healthcheck.disable;
    let likely = matches!(probe_facts.programs, Programs::Likely(..));
    let guessed = probes_over_http && auto && (choice_tools.is_none() || likely);
    if guessed {
        let why = probe_facts.programs.cannot_tell().map(|c| c.0.as_str());
        match (image_key, build) {
            (_, Some((b, source))) if followed.is_some() => {
                diagnostics.push(build::cannot_tell_warning(
                    name,
                    b,
                    source,
                    why.unwrap_or_default(),
                    health_path_set,
                ));
            }
            // An image Docker refuses is reported as such; a guess about its tools would be
            // noise.
            (Some((image, source)), None)
                if images::reference_problem(image.get_ref()).is_none() =>
            {
                // A row whose tags differ by platform says why; an unknown image needs no reason.
                let why = facts.and(why);
                let path_known = health_path_set || facts.is_some_and(|f| f.health.is_some());
                diagnostics.push(unknown_image_warning(
                    name,
                    image,
                    source,
                    path_known,
                    why.map(|why| (why, service.probe)),
                ));
            }
            _ => {}
        }
    }
    // The default path, for code of the user's own: a guess the `unknown-image` warning already
    // names when it fires.
    let runs_own_code = facts.is_none_or(|f| f.health.is_none() && f.engine.is_none());
    if probes_over_http && !health_path_set && !guessed && runs_own_code && kind.engines.is_empty()
    {
        let at = match (build, image_key) {
            (Some((b, source)), _) => (source, b.span()),
            (None, Some((i, source))) => (source, i.span()),
            (None, None) => (catalogue, entry.name.span()),
        };
        diagnostics.push(build::health_path_assumed(name, at));
    }
    // What the image refuses to start without: the row of the image itself, the engine's
    // default image, or a build's base (a custom image `FROM postgres` may set its own
    // defaults, which only its Dockerfile shows).
    let start_row = match (build, image_key) {
        (Some(_), _) => base_row,
        (None, Some(_)) => image_facts,
        (None, None) => engine_facts,
    };
    if let Some(needs) = start_row.and_then(|row| row.start) {
        let dockerfile_env = followed
            .as_ref()
            .map(|f| f.env.as_slice())
            .unwrap_or_default();
        let shown = match (build, &service.image) {
            (Some(_), _) => followed
                .as_ref()
                .and_then(|f| f.base.clone())
                .unwrap_or_default(),
            (None, Some(image)) => image.clone(),
            (None, None) => String::new(),
        };
        if let Some(d) = start::missing(&service, needs, dockerfile_env, &shown) {
            let d = match (build, image_key) {
                (Some((b, source)), _) => d.at(source, Some(b.span()), "built FROM this image"),
                (None, Some((i, source))) => d.at(source, Some(i.span()), "this image"),
                (None, None) => d.at(catalogue, Some(entry.name.span()), "its engine's image"),
            };
            diagnostics.push(d);
        }
    }
    if service.traits.runs_to_completion
        && let Some((b, source)) = build
        && service.command.is_none()
        && service.compose.get("command").is_none()
    {
        diagnostics.push(build::job_without_command(
            name,
            b,
            source,
            followed.as_ref(),
        ));
    }
    if probes_over_http
        && let Some(switch) = facts.and_then(|f| f.health_switch)
        && !switch_is_on(switch, &service)
    {
        diagnostics.push(health_switch_warning(&service, switch).at(
            catalogue,
            Some(entry.name.span()),
            "this service",
        ));
    }
    (errors(diagnostics) == errors_before).then_some(service)
}

/// `probe = "auto"` for an image muster has no facts on falls back to python, the base of the
/// services muster was made for. That may be right, so it is a warning, not an error; but the
/// python probe in an image without python never turns healthy, so the warning names the keys
/// that say otherwise. A `build` is not warned about: the README documents its python default.
fn unknown_image_warning(
    name: &str,
    image: &Spanned<String>,
    source: SourceId,
    health_path_set: bool,
    why: Option<(&str, Probe)>,
) -> Diagnostic {
    let (message, label) = match why {
        None => (
            format!(
                "service `{name}`: muster does not know image `{}`, so its probe assumes python \
                 (`python -c \"urllib.request...\"`)",
                image.get_ref()
            ),
            "an image muster does not know",
        ),
        Some((why, assumed)) => (
            format!(
                "service `{name}`: muster cannot tell which programs image `{}` has: {why}; its \
                 probe assumes {}",
                image.get_ref(),
                match assumed {
                    Probe::Http(probe::HttpClient::Python) => {
                        "python (`python -c \"urllib.request...\"`)".to_owned()
                    }
                    other => format!("{other}"),
                }
            ),
            "muster cannot tell what this image holds",
        ),
    };
    let mut d = Diagnostic::warning(message)
        .with_lint(crate::model::Lint::UnknownImage)
        .at(source, Some(image.span()), label)
    .with_note(
        "set `probe` to a client the image has: \"curl\", \"wget\" (busybox, in alpine images), \
         \"python\" or \"bash-tcp\" (bash's /dev/tcp); setting `probe` silences this warning",
    );
    if !health_path_set {
        d = d.with_note(format!(
            "and `health_path` unless the image serves `{}`",
            crate::kinds::DEFAULT_HEALTH_PATH
        ));
    }
    d.with_note(
        "an image with none of them (distroless, scratch) takes `probe = \"mounted\"`: a \
         client muster mounts into the container",
    )
}

/// Whether the service's `env` or `command` turns on the health endpoint its image serves only
/// when asked to.
fn switch_is_on(switch: images::HealthSwitch, service: &Service) -> bool {
    let words: Vec<&str> = match &service.command {
        Some(Command::Line(line)) => line.split_whitespace().collect(),
        Some(Command::Argv(argv)) => argv.iter().map(String::as_str).collect(),
        None => Vec::new(),
    };
    switch.is_on(|key| service.env.get(key).map(String::as_str), &words)
}

/// The image serves its health endpoint only when a setting asks for it, and neither `env` nor
/// `command` does. A configuration file may, which muster cannot read: a warning.
fn health_switch_warning(service: &Service, switch: images::HealthSwitch) -> Diagnostic {
    let image = service.image.as_deref().unwrap_or_default();
    let (port, path) = (
        service.health_port.unwrap_or_default(),
        service.health_path.as_deref().unwrap_or_default(),
    );
    Diagnostic::warning(format!(
        "service `{}`: image `{image}` serves `{path}` on port {port} only when it is enabled, \
         and neither `env` nor `command` enables it: the probe fails unless a configuration \
         file does",
        service.name
    ))
    .with_lint(crate::model::Lint::HealthEndpointOff)
    .with_note(format!(
        "set `env = {{ {} = \"true\" }}` or `{}` in `command`; if a configuration file enables \
         it, setting the variable too silences this warning",
        switch.env, switch.flag
    ))
}

/// The unknown kind an entry names, with the kinds there are.
fn unknown_kind(entry: &Entry, catalogue: SourceId, kinds: &Kinds) -> Diagnostic {
    let mut d = Diagnostic::error(format!(
        "service `{}` has unknown kind `{}`",
        entry.name.get_ref(),
        entry.kind.get_ref()
    ))
    .at(catalogue, Some(entry.kind.span()), "unknown kind")
    .with_note(format!(
        "kinds: {}",
        kinds.names().collect::<Vec<_>>().join(", ")
    ));
    if let Some(hint) = crate::suggest::did_you_mean(entry.kind.get_ref(), kinds.names()) {
        d = d.with_note(hint);
    }
    d
}

/// The model cache mount. `true` means the image's cache path (`images.rs`), which a build or
/// an image muster does not know lacks: from a profile's default that is no cache, from the
/// catalogue an error, since the user asked for a volume that would not be made.
fn model_cache(
    layers: &mut Layers,
    facts: Option<&ImageFacts>,
    name: &str,
    error: &mut impl FnMut(Diagnostic),
) -> Option<String> {
    let (cache, origin, source) = layers.highest("model_cache", |s| s.model_cache.as_ref())?;
    layers.record(|| "model_cache".to_owned(), || origin.to_layer());
    let path = match cache.get_ref() {
        crate::spec::ModelCache::On(false) => return None,
        crate::spec::ModelCache::Path(path) => path.clone(),
        crate::spec::ModelCache::On(true) => match facts.and_then(|f| f.model_cache) {
            Some(path) => path.to_owned(),
            None if origin.is_profile() => return None,
            None => {
                error(
                    Diagnostic::error(format!(
                        "service `{name}`: muster does not know where its image keeps models"
                    ))
                    .at(source, Some(cache.span()), "a cache at no known path")
                    .with_note(
                        "write the container path instead of `true`, e.g. \
                         `model_cache = \"/root/.cache/huggingface\"` for a server that \
                         downloads from the Hugging Face hub",
                    ),
                );
                return None;
            }
        },
    };
    Some(format!("{name}-models:{path}"))
}

/// The healthcheck the layers set, key by key.
fn healthcheck(layers: &mut Layers) -> Healthcheck {
    let mut healthcheck = Healthcheck {
        test: layers
            .healthcheck_field(HealthKey::Test, |h| h.test.as_ref())
            .map(|(t, _)| t.get_ref().clone()),
        retries: layers
            .healthcheck_field(HealthKey::Retries, |h| h.retries.as_ref())
            .map(|(r, _)| r.get_ref().clone()),
        disable: layers
            .healthcheck_field(HealthKey::Disable, |h| h.disable.as_ref())
            .is_some_and(|(d, _)| *d),
        ..Healthcheck::default()
    };
    for key in HealthKey::DURATIONS {
        // A value load refused was reported there and is left out here, so that no later stage
        // reads its text again; the run fails on load's error, and the service stays for the
        // errors later stages find in the rest of it.
        let written = layers.healthcheck_field(key, |h| h.duration(key));
        if let Some(slot) = healthcheck.duration_mut(key) {
            *slot = written.and_then(|(d, _)| Duration::parse(d.get_ref()).ok());
        }
    }
    healthcheck
}

/// Where the layers wrote each healthcheck timing that wins.
fn healthcheck_at(layers: &Layers) -> Vec<(HealthKey, Written)> {
    let at = |span: Range<usize>, origin: layers::Origin, source: SourceId| Written {
        source,
        span,
        profile: origin.profile().map(str::to_owned),
    };
    fn hc(s: &ServiceSpec) -> Option<&crate::spec::HealthcheckSpec> {
        s.healthcheck.as_ref()
    }
    let mut found = Vec::new();
    for key in HealthKey::TIMINGS {
        let below = [key.name()];
        let written = match key {
            HealthKey::Retries => layers
                .highest_below("healthcheck", &below, |s| {
                    hc(s).and_then(|h| h.retries.as_ref())
                })
                .map(|(r, origin, source)| (r.span(), origin, source)),
            _ => layers
                .highest_below("healthcheck", &below, |s| {
                    hc(s).and_then(|h| h.duration(key))
                })
                .map(|(d, origin, source)| (d.span(), origin, source)),
        };
        if let Some((span, origin, source)) = written {
            found.push((key, at(span, origin, source)));
        }
    }
    found
}

/// The `ports` that publish a host port, parsed; a mapping that does not parse was reported
/// by load. One that Compose interpolates is left out too: which host port it takes is the
/// environment's to say, so two of them are never called a collision (Compose accepts the
/// file; `up` decides).
fn published(ports: &[(&Spanned<String>, SourceId)]) -> Vec<PublishedPort> {
    ports
        .iter()
        .filter_map(|(m, source)| {
            crate::ports::parse(m.get_ref()).ok()?;
            Some(PublishedPort {
                text: m.get_ref().clone(),
                source: *source,
                span: m.span(),
            })
        })
        .collect()
}

fn unknown_condition(word: &str, source: SourceId, span: Range<usize>) -> Diagnostic {
    Diagnostic::error(format!("unknown dependency condition {word:?}"))
        .at(source, Some(span), "not a condition")
        .with_note("use \"healthy\", \"started\" or \"completed\"")
}

/// The merged dependencies with their conditions read; an unknown condition is an error where
/// it is written, and its dependency is left out.
fn dependencies(
    merged: &[layers::MergedDependency],
    defaults: DependencyOptions,
    diagnostics: &mut Diagnostics,
) -> Vec<Dependency> {
    merged
        .iter()
        .filter_map(|d| {
            let condition = match &d.condition {
                None => None,
                Some((word, span, at)) => match Condition::parse(word) {
                    Some(c) => Some(c),
                    None => {
                        diagnostics.push(unknown_condition(word, at.source, span.clone()));
                        return None;
                    }
                },
            };
            let options = d.options();
            Some(Dependency {
                target: d.target.get_ref().clone(),
                condition,
                options: options.or(defaults),
                source: d.source,
                span: d.target.span(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Sources;
    use crate::profile::Profiles;
    use std::path::Path;

    const CATALOGUE: &str = r#"
[services.worker]
kind = "celery-worker"
build = "."
env = { QUEUE = "default" }
labels = { team = "core" }
compose = { logging = { options = { max-file = "5" } } }
profiles.prod = { env = { QUEUE = "priority" } }
"#;

    fn resolve_worker(provenance: Provenance) -> Service {
        resolve_all(CATALOGUE, provenance).remove(0)
    }

    fn resolve_all(catalogue: &str, provenance: Provenance) -> Vec<Service> {
        let mut sources = Sources::default();
        let mut diagnostics = Diagnostics::default();
        let catalogue = Catalogue::parse(
            Path::new("services.toml"),
            catalogue.to_owned(),
            &mut sources,
            &mut diagnostics,
        )
        .expect("the catalogue parses");
        let profiles = Profiles::load(None, &mut sources, &mut diagnostics).expect("no I/O");
        let chain = profiles.chain("prod").expect("a built-in profile");
        let inputs = Context {
            kinds: &Kinds::built_in(),
            profiles: &chain,
            provenance,
        };
        let model = resolve(&catalogue, &inputs, &mut diagnostics);
        assert!(!diagnostics.has_errors());
        model.services
    }

    #[test]
    fn provenance_is_kept_only_when_asked_for() {
        let skipped = resolve_worker(Provenance::Skip);
        assert!(skipped.provenance.is_empty());

        let recorded = resolve_worker(Provenance::Record);
        let layer = |key: &str| recorded.provenance.get(key).cloned();
        assert_eq!(layer("build"), Some(Layer::Catalogue));
        assert_eq!(layer("env.QUEUE"), Some(Layer::Override("prod".into())));
        assert_eq!(layer("labels.team"), Some(Layer::Catalogue));
        assert_eq!(
            layer("healthcheck.timeout"),
            Some(Layer::ProfileKind("prod".into()))
        );
        assert_eq!(
            layer("compose.logging.driver"),
            Some(Layer::Profile("prod".into()))
        );
        assert_eq!(
            layer("compose.logging.options.max-file"),
            Some(Layer::Catalogue)
        );
        assert_eq!(
            layer("compose.stop_grace_period"),
            Some(Layer::ProfileKind("prod".into()))
        );

        // Recording must not change what is resolved.
        let without_provenance = Service {
            provenance: IndexMap::new(),
            ..recorded
        };
        assert_eq!(format!("{without_provenance:?}"), format!("{skipped:?}"));
    }

    #[test]
    fn compose_merges_the_entry_over_the_profiles_tables() {
        // Two services of one kind: the second starts from the profiles' tables as they were,
        // not from the first one's merge.
        let mut catalogue = CATALOGUE.to_owned();
        catalogue.push_str("[services.other]\nkind = \"celery-worker\"\nbuild = \".\"\n");
        let services = resolve_all(&catalogue, Provenance::Skip);
        let compose = |i: usize| crate::yaml::to_string(&services[i].compose);
        assert_eq!(
            compose(0),
            "logging:\n  driver: json-file\n  options:\n    max-size: 10m\n    max-file: \"5\"\n\
             stop_grace_period: 60s\n"
        );
        assert_eq!(
            compose(1),
            "logging:\n  driver: json-file\n  options:\n    max-size: 10m\n    max-file: \"3\"\n\
             stop_grace_period: 60s\n"
        );
    }
}
