//! The service keys, as written in a catalogue entry, a profile's `[defaults]`, a profile's
//! `[kinds.KIND]` section, or a per-service `[services.NAME.profiles.PROFILE]` override.
//!
//! One struct serves every layer so that a key means the same wherever it is written. Every field
//! is optional: a layer sets only what it changes, and `resolve` walks the layers to find the value
//! that wins. Values that later stages report errors about keep their source span.

use crate::model::HealthKey;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

pub mod check;
pub mod shapes;

/// One layer of service keys. Its JSON Schema is not used as is: `crate::schema` derives the
/// catalogue entry (which requires `kind`) and the per-profile override (which has neither `kind`
/// nor `profiles`) from it, so the docs below are what an editor shows on hover.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    // Only meaningful on a catalogue entry; `load` rejects it anywhere else.
    /// What the service is: picks its template, engines, probe and profile defaults. A built-in
    /// kind or one from your `templates/kinds/` folder.
    #[schemars(with = "Option<crate::spec::shapes::KindName>", extend("examples" = ["db"]))]
    pub kind: Option<Spanned<String>>,
    /// The image to run. Optional where the kind's engine has a default image; otherwise set
    /// `image` or `build`.
    #[schemars(with = "Option<String>", extend("examples" = ["postgres:17"]))]
    pub image: Option<Spanned<String>>,
    /// Build the image: a context path, or a table
    /// `{ context, dockerfile, dockerfile_inline, target, args }`. muster reads the Dockerfile
    /// to choose the probe.
    #[schemars(with = "Option<Build>", extend("examples" = ["../backend"]))]
    pub build: Option<Spanned<Build>>,
    /// Which engine the kind runs (`postgres`, `mysql`, `redis`, ...). Inferred from the image's
    /// repository, or from a kind with one engine.
    #[schemars(with = "Option<String>", extend("examples" = ["postgres"]))]
    pub engine: Option<Spanned<String>>,
    /// Replaces the image's command: a string, which Compose splits shell-style, or a list,
    /// passed as argv untouched.
    #[schemars(
        with = "Option<Command>",
        extend("examples" = ["gunicorn config.wsgi:application --bind 0.0.0.0:8000"])
    )]
    pub command: Option<Spanned<Command>>,
    /// Replaces the image's entrypoint: a string or a list, as `command`.
    #[schemars(with = "Option<Command>", extend("examples" = [["/docker-entrypoint.sh"]]))]
    pub entrypoint: Option<Spanned<Command>>,
    /// The Celery app of a `celery-worker` or `beat` (`celery -A APP`); default `config`.
    #[schemars(with = "Option<String>", extend("examples" = ["config"]))]
    pub app: Option<Spanned<String>>,
    /// The container port that probes target. Default: the image's port; 8000 for `http` and
    /// `ai-model`.
    #[schemars(with = "Option<crate::spec::shapes::Port>", extend("examples" = [8000]))]
    pub port: Option<Spanned<u16>>,
    /// The HTTP health endpoint probed in `http` and `ai-model` services; default
    /// `/health/live`.
    #[schemars(with = "Option<String>", extend("pattern" = "^/\\S*$", "examples" = ["/health/live"]))]
    pub health_path: Option<Spanned<String>>,
    /// The readiness endpoint (a Kubernetes readiness probe); default: `health_path`.
    #[schemars(with = "Option<String>", extend("pattern" = "^/\\S*$", "examples" = ["/health/ready"]))]
    pub ready_path: Option<Spanned<String>>,
    /// Published ports, as in Compose (`HOST:CONTAINER`).
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["8000:8000"]]))]
    pub ports: Option<Vec<Spanned<String>>>,
    /// Environment variables. Numbers and booleans are written as strings; `${VAR}` is
    /// interpolated by Compose from `.env`. `{ secret = "./secrets/pg.txt" }` gives the value as
    /// a Compose secret instead, through the variable the image reads the file from
    /// (`POSTGRES_PASSWORD_FILE`): the value is in neither file nor `docker inspect`.
    #[schemars(
        with = "Option<IndexMap<String, EnvValue>>",
        extend("examples" = [{ "POSTGRES_DB": "shop", "POSTGRES_PASSWORD": { "secret": "./secrets/postgres_password.txt" } }])
    )]
    pub env: Option<IndexMap<String, Spanned<EnvValue>>>,
    /// Files of environment variables, as in Compose: a path or a list of paths.
    #[schemars(extend("examples" = [".env"]))]
    pub env_file: Option<Command>,
    /// Volumes, as in Compose; named volumes are declared at the top level of the output.
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["pgdata:/var/lib/postgresql/data"]]))]
    pub volumes: Option<Vec<Spanned<String>>>,
    /// Networks the service joins; they are declared at the top level of the output.
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["backend"]]))]
    pub networks: Option<Vec<Spanned<String>>>,
    /// Container labels. Numbers and booleans are written as strings.
    #[schemars(
        with = "Option<IndexMap<String, Scalar>>",
        extend("examples" = [{ "com.example.team": "payments" }])
    )]
    pub labels: Option<IndexMap<String, Spanned<Scalar>>>,
    /// The restart policy, over the profile's (dev: `unless-stopped`, prod: `always`).
    #[schemars(with = "Option<crate::spec::shapes::Restart>", extend("examples" = ["on-failure:3"]))]
    pub restart: Option<Spanned<String>>,
    /// How many containers to run (`deploy.replicas`).
    #[schemars(with = "Option<crate::spec::shapes::Count>", extend("examples" = [2]))]
    pub replicas: Option<Spanned<crate::model::Count>>,
    /// How the healthcheck reaches the service. `auto` picks the first client the image has:
    /// curl, wget, python, then bash `/dev/tcp`; `native` uses the engine's own client; `image`
    /// writes no healthcheck, leaving the image's own `HEALTHCHECK` (if any) to run.
    #[schemars(with = "Option<crate::spec::shapes::ProbeName>", extend("examples" = ["auto"]))]
    pub probe: Option<Spanned<String>>,
    /// Healthcheck settings; each key overrides the profile's.
    #[schemars(extend("examples" = [{ "start_period": "60s" }]))]
    pub healthcheck: Option<HealthcheckSpec>,
    /// Services to wait for. A list infers the condition: completed for a `job`, healthy for a
    /// service with a healthcheck, else started. A table asks for one:
    /// `{ NAME = "healthy" | "started" | "completed" }`, or
    /// `{ NAME = { condition = "healthy", restart = true, required = false } }`.
    #[schemars(with = "Option<DependsOn>", extend("examples" = [["postgres", "redis"]]))]
    pub depends_on: Option<Spanned<DependsOn>>,
    /// `restart` and `required` for every dependency whose entry does not say: a profile's
    /// default, e.g. `depends_on_options = { restart = true }`.
    #[schemars(extend("examples" = [{ "restart": true }]))]
    pub depends_on_options: Option<DependencyOptions>,
    /// GPUs the container gets (Compose's `gpus`): `"all"`, a number of GPUs, or a table
    /// `{ count | device_ids, driver, capabilities, options }`. The engine needs a GPU driver
    /// (the NVIDIA Container Toolkit); Kubernetes asks the device plugin for `nvidia.com/gpu`.
    #[schemars(with = "Option<Gpus>", extend("examples" = ["all", 1]))]
    pub gpus: Option<Spanned<Gpus>>,
    /// A named volume `NAME-models` for downloaded model weights, so that a recreated
    /// container does not download them again: `true` mounts it at the image's cache path
    /// (`ollama/ollama`: `/root/.ollama`, `vllm/vllm-openai`: `/root/.cache/huggingface`), a
    /// path mounts it there, `false` turns it off. The profiles turn it on for `ai-model`.
    #[schemars(with = "Option<ModelCache>", extend("examples" = [true, "/root/.cache/huggingface"]))]
    pub model_cache: Option<Spanned<ModelCache>>,
    /// Models of the catalogue's `[models]` table the service uses (Compose's `models`, run by
    /// Docker Model Runner): a list, or a table naming the variables Compose sets,
    /// `{ llm = { endpoint_var = "LLM_URL", model_var = "LLM_MODEL" } }`.
    #[schemars(with = "Option<ModelBindings>", extend("examples" = [["llm"]]))]
    pub models: Option<Spanned<ModelBindings>>,
    /// Compose's own `profiles`: the service starts only when one of them is enabled
    /// (`docker compose --profile debug up`). For opt-in tools; a service that always runs
    /// cannot depend on one.
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["debug"]]))]
    pub compose_profiles: Option<Vec<Spanned<String>>>,
    // Only meaningful on a catalogue entry; `load` rejects it anywhere else.
    /// The muster profiles under which the service exists at all (`only_in = ["dev"]` for a
    /// mail catcher); under any other profile it is left out of the output.
    #[schemars(with = "Option<Vec<String>>", extend("examples" = [["dev"]]))]
    pub only_in: Option<Spanned<Vec<Spanned<String>>>>,
    // Only meaningful on a catalogue entry; `load` rejects it anywhere else.
    /// Service keys applied only under one profile, e.g. `profiles.prod = { replicas = 2 }`.
    #[schemars(
        with = "Option<IndexMap<String, crate::spec::shapes::ServiceOverride>>",
        extend("examples" = [{ "dev": { "ports": ["5432:5432"] } }])
    )]
    pub profiles: Option<IndexMap<String, Spanned<ServiceSpec>>>,
    /// Keys whose value from the layers below this one (the kind template's included) is
    /// removed, as Compose's `!reset` removes a base file's: a key (`"gpus"`), an entry of a
    /// table (`"env.DEBUG"`, `"depends_on.mailpit"`), a healthcheck key
    /// (`"healthcheck.start_interval"`) or a path under `compose` (`"compose.logging"`). This
    /// layer cannot set what it resets; the layers above it still can.
    #[schemars(
        with = "Option<Vec<crate::spec::shapes::ResetPath>>",
        extend("examples" = [["gpus", "env.DEBUG"]])
    )]
    pub reset: Option<Vec<Spanned<String>>>,
    /// Keys whose value in this layer replaces the lower layers' whole instead of merging with
    /// it, as Compose's `!override`: `override = ["ports"]` with `ports = ["8443:443"]` drops
    /// the ports below. The same paths as `reset`; this layer must set each.
    #[serde(rename = "override")]
    #[schemars(
        rename = "override",
        with = "Option<Vec<crate::spec::shapes::ResetPath>>",
        extend("examples" = [["depends_on"]])
    )]
    pub overrides: Option<Vec<Spanned<String>>>,
    /// Compose keys merged verbatim into the emitted service, last: the escape hatch for keys
    /// muster does not model.
    #[schemars(
        with = "Option<serde_json::Map<String, serde_json::Value>>",
        extend("examples" = [{ "stop_grace_period": "60s" }])
    )]
    pub compose: Option<Spanned<toml::Table>>,
}

impl ServiceSpec {
    /// Whether this layer writes a value at `path`, a path of `reset` or `override`.
    pub fn sets(&self, path: &crate::merge::ResetPath) -> bool {
        let below = path.below.first().map(String::as_str);
        let named = |names: Option<Vec<&str>>| match below {
            None => names.is_some(),
            Some(name) => names.is_some_and(|n| n.contains(&name)),
        };
        match path.key {
            "image" => self.image.is_some(),
            "build" => match (self.build.as_ref().map(Spanned::get_ref), below) {
                (None, _) => false,
                (Some(_), None | Some("context")) => true,
                (Some(b), Some("dockerfile")) => b.dockerfile.is_some(),
                (Some(b), Some("target")) => b.target.is_some(),
                (Some(b), _) => b.args.is_some(),
            },
            "engine" => self.engine.is_some(),
            "port" => self.port.is_some(),
            "health_path" => self.health_path.is_some(),
            "ready_path" => self.ready_path.is_some(),
            "app" => self.app.is_some(),
            "command" => self.command.is_some(),
            "entrypoint" => self.entrypoint.is_some(),
            "env" => named(
                self.env
                    .as_ref()
                    .map(|m| m.keys().map(String::as_str).collect()),
            ),
            "env_file" => self.env_file.is_some(),
            "volumes" => self.volumes.is_some(),
            "networks" => self.networks.is_some(),
            "ports" => self.ports.is_some(),
            "labels" => named(
                self.labels
                    .as_ref()
                    .map(|m| m.keys().map(String::as_str).collect()),
            ),
            "restart" => self.restart.is_some(),
            "replicas" => self.replicas.is_some(),
            "probe" => self.probe.is_some(),
            "healthcheck" => match (&self.healthcheck, below) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(hc), Some(field)) => HealthKey::ALL
                    .iter()
                    .find(|k| k.name() == field)
                    .is_some_and(|k| hc.sets(*k)),
            },
            "depends_on" => named(self.depends_on.as_ref().map(|d| {
                d.get_ref()
                    .entries()
                    .into_iter()
                    .map(|(t, _)| t.get_ref().as_str())
                    .collect()
            })),
            "depends_on_options" => match (&self.depends_on_options, below) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(o), Some("restart")) => o.restart.is_some(),
                (Some(o), _) => o.required.is_some(),
            },
            "gpus" => self.gpus.is_some(),
            "model_cache" => self.model_cache.is_some(),
            "models" => named(self.models.as_ref().map(|m| {
                m.get_ref()
                    .entries()
                    .into_iter()
                    .map(|(n, _)| n.get_ref().as_str())
                    .collect()
            })),
            "compose_profiles" => self.compose_profiles.is_some(),
            "compose" => self.compose.as_ref().is_some_and(|table| {
                let mut node = Some(table.get_ref());
                let (last, parents) = match path.below.split_last() {
                    Some(split) => split,
                    None => return true,
                };
                for part in parents {
                    node = node
                        .and_then(|t| t.get(part))
                        .and_then(toml::Value::as_table);
                }
                node.is_some_and(|t| t.contains_key(last))
            }),
            _ => false,
        }
    }

    /// The paths this layer's `reset` and `override` name that parse, with where each is
    /// written; load reported the others.
    pub fn floors(&self) -> impl Iterator<Item = (crate::merge::ResetPath, &Spanned<String>)> {
        self.reset
            .iter()
            .flatten()
            .chain(self.overrides.iter().flatten())
            .filter_map(|p| Some((crate::merge::ResetPath::parse(p.get_ref()).ok()?, p)))
    }
}

/// A service's healthcheck, as in Compose; durations are Compose durations (`30s`, `1m30s`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct HealthcheckSpec {
    /// The probe, replacing the kind's: a string, run as `CMD-SHELL`, or a list starting with
    /// `CMD`, `CMD-SHELL` or `NONE`.
    #[schemars(
        with = "Option<Command>",
        extend("examples" = [["CMD", "pg_isready", "-h", "127.0.0.1"]])
    )]
    pub test: Option<Spanned<Command>>,
    /// Time between two probes.
    #[schemars(with = "Option<crate::spec::shapes::Duration>", extend("examples" = ["30s"]))]
    pub interval: Option<Spanned<String>>,
    /// How long one probe may run before it counts as failed; keep it below `interval`.
    #[schemars(with = "Option<crate::spec::shapes::Duration>", extend("examples" = ["5s"]))]
    pub timeout: Option<Spanned<String>>,
    /// Consecutive failures that mark the container unhealthy.
    #[schemars(with = "Option<crate::spec::shapes::Count>", extend("examples" = [3]))]
    pub retries: Option<Spanned<crate::model::Count>>,
    /// Time the container gets to boot: failed probes during it do not count against
    /// `retries`. Be generous (30-60s) for services that load a model or form a cluster.
    #[schemars(with = "Option<crate::spec::shapes::Duration>", extend("examples" = ["60s"]))]
    pub start_period: Option<Spanned<String>>,
    /// Time between probes during `start_period`, so that a started service is seen healthy
    /// soon.
    #[schemars(with = "Option<crate::spec::shapes::Duration>", extend("examples" = ["2s"]))]
    pub start_interval: Option<Spanned<String>>,
    /// Turns the healthcheck off, the kind's included.
    #[schemars(extend("examples" = [true]))]
    pub disable: Option<bool>,
}

impl HealthcheckSpec {
    /// Whether this layer writes `key`.
    pub fn sets(&self, key: HealthKey) -> bool {
        match key {
            HealthKey::Test => self.test.is_some(),
            HealthKey::Retries => self.retries.is_some(),
            HealthKey::Disable => self.disable.is_some(),
            _ => self.duration(key).is_some(),
        }
    }

    /// The duration this layer writes for `key`, if it is one of [`HealthKey::DURATIONS`].
    pub fn duration(&self, key: HealthKey) -> Option<&Spanned<String>> {
        match key {
            HealthKey::Interval => self.interval.as_ref(),
            HealthKey::Timeout => self.timeout.as_ref(),
            HealthKey::StartPeriod => self.start_period.as_ref(),
            HealthKey::StartInterval => self.start_interval.as_ref(),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }
}

/// `gpus = "all"`, `gpus = 2`, or a device request as a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gpus {
    All,
    Count(u32),
    Request(GpuRequest),
}

/// One device request, as Compose's `gpus` list and `deploy.resources.reservations.devices`
/// hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuRequest {
    /// How many GPUs; without it (and without `device_ids`) every GPU of the host.
    #[schemars(extend("examples" = [1]))]
    pub count: Option<u32>,
    /// The host's GPUs by id or UUID (`nvidia-smi -L`); not with `count`.
    #[schemars(extend("examples" = [["0"]]))]
    pub device_ids: Option<Vec<String>>,
    /// The device driver, `nvidia` by the engine's default.
    #[schemars(extend("examples" = ["nvidia"]))]
    pub driver: Option<String>,
    /// The capabilities asked of the driver; default `["gpu"]`.
    #[schemars(extend("examples" = [["gpu", "utility"]]))]
    pub capabilities: Option<Vec<String>>,
    /// Options passed to the driver.
    #[schemars(extend("examples" = [{ "virtualization": "false" }]))]
    pub options: Option<IndexMap<String, Scalar>>,
}

/// `model_cache = true | false | "/container/path"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelCache {
    On(bool),
    Path(String),
}

/// `models = ["llm"]` or `models = { llm = { endpoint_var = "LLM_URL" } }`.
#[derive(Debug, Clone)]
pub enum ModelBindings {
    Short(Vec<Spanned<String>>),
    Long(IndexMap<Spanned<String>, ModelBinding>),
}

/// The variables through which Compose tells a service where its model is served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelBinding {
    /// The variable that gets the model runner's URL; Compose's default is the model's name
    /// in capitals with `_URL` (`LLM_URL`).
    #[schemars(extend("examples" = ["LLM_URL"]))]
    pub endpoint_var: Option<String>,
    /// The variable that gets the model's name; Compose's default adds `_MODEL`.
    #[schemars(extend("examples" = ["LLM_MODEL"]))]
    pub model_var: Option<String>,
}

impl ModelBindings {
    /// Each model named, with its variables where the long form gives them.
    pub fn entries(&self) -> Vec<(&Spanned<String>, Option<&ModelBinding>)> {
        match self {
            ModelBindings::Short(names) => names.iter().map(|n| (n, None)).collect(),
            ModelBindings::Long(map) => map.iter().map(|(n, b)| (n, Some(b))).collect(),
        }
    }
}

/// A Compose build: `build = "../backend"` or `build = { context = "..", dockerfile = ".." }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The context; `.` when a table with `dockerfile_inline` names none, as Compose defaults it.
    pub context: String,
    pub dockerfile: Option<String>,
    /// The Dockerfile's text itself (Compose 2.17 and later).
    pub dockerfile_inline: Option<String>,
    pub target: Option<String>,
    pub args: Option<IndexMap<String, Scalar>>,
}

/// By every field, `args` in order, as `Eq` compares them: resolve follows each distinct build's
/// Dockerfile once.
impl std::hash::Hash for Build {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.context.hash(state);
        self.dockerfile.hash(state);
        self.dockerfile_inline.hash(state);
        self.target.hash(state);
        for (name, value) in self.args.iter().flatten() {
            name.hash(state);
            value.hash(state);
        }
    }
}

/// A string or a list of strings, kept apart because Compose treats them differently: a string
/// `command` is split shell-style by Compose, a list is passed as argv untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Line(String),
    Argv(Vec<String>),
}

/// A TOML scalar where Compose takes a string (environment and label values). Numbers and
/// booleans are written out as strings so YAML cannot reinterpret them (`yes`, `1.0`, `on`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scalar(pub String);

/// An `env` value: a scalar, written as a string, or `{ secret = "..." }`, a Compose secret the
/// image reads through its `_FILE` variable. `secret` is a file (a path, with a `/`:
/// `./secrets/pg.txt`) or the name of a `[secrets.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Plain(Scalar),
    Secret(Spanned<String>),
}

/// Whether `env.X.secret` can name something: a file (it has a `/`) or the name of a
/// `[secrets.NAME]` table, which Compose allows only of letters, digits, `.`, `_` and `-`.
pub(crate) fn secret_reference_is_valid(text: &str) -> bool {
    text.contains('/')
        || (!text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
}

/// `depends_on = ["a", "b"]` (conditions inferred) or `depends_on = { a = "healthy" }`.
#[derive(Debug, Clone)]
pub enum DependsOn {
    Inferred(Vec<Spanned<String>>),
    Explicit(IndexMap<Spanned<String>, Spanned<DependencyEntry>>),
}

/// One dependency of a table: its condition alone (`"healthy"`), or
/// `{ condition, restart, required }`.
#[derive(Debug, Clone, Default)]
pub struct DependencyEntry {
    pub condition: Option<String>,
    /// Where the long form writes its condition; the short form's is the entry's own span.
    pub condition_span: Option<std::ops::Range<usize>>,
    pub options: DependencyOptions,
}

/// What Compose does around one dependency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub struct DependencyOptions {
    /// Compose restarts this service when a Compose command restarts the dependency
    /// (`docker compose restart`, an update); not when the engine restarts a crashed one.
    #[schemars(extend("examples" = [true]))]
    pub restart: Option<bool>,
    /// `false`: an optional dependency. Compose warns, and starts this service anyway, when
    /// the dependency does not start or does not become ready.
    #[schemars(extend("examples" = [false]))]
    pub required: Option<bool>,
}

impl DependencyOptions {
    /// Each option this one leaves unset, from `defaults`.
    pub fn or(self, defaults: DependencyOptions) -> DependencyOptions {
        DependencyOptions {
            restart: self.restart.or(defaults.restart),
            required: self.required.or(defaults.required),
        }
    }
}

impl DependsOn {
    /// Each dependency with what its entry asks for, in the order written.
    pub fn entries(&self) -> Vec<(&Spanned<String>, Option<&Spanned<DependencyEntry>>)> {
        match self {
            DependsOn::Inferred(targets) => targets.iter().map(|t| (t, None)).collect(),
            DependsOn::Explicit(map) => map.iter().map(|(t, e)| (t, Some(e))).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for DependencyEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor of its own rather than `untagged`: toml's spans reach the condition of the
        // long form only through its map access, and an unknown key keeps its precise error.
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = DependencyEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a condition (\"healthy\", \"started\", \"completed\") or a table \
                     { condition, restart, required }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DependencyEntry, E> {
                Ok(DependencyEntry {
                    condition: Some(v.to_owned()),
                    ..DependencyEntry::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependencyEntry, A::Error> {
                let mut entry = DependencyEntry::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "condition" => {
                            let c: Spanned<String> = map.next_value()?;
                            entry.condition_span = Some(c.span());
                            entry.condition = Some(c.into_inner());
                        }
                        "restart" => entry.options.restart = Some(map.next_value()?),
                        "required" => entry.options.required = Some(map.next_value()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["condition", "restart", "required"],
                            ));
                        }
                    }
                }
                Ok(entry)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// Room for a collection of `hint` elements. The toml deserializer's hints are exact lengths of
/// values already parsed, so reserving them saves regrowing; the cap is serde's own, so that a
/// hint from another deserializer cannot make us allocate without bound.
pub(crate) fn capacity<T>(hint: Option<usize>) -> usize {
    const MAX_PREALLOC_BYTES: usize = 1024 * 1024;
    hint.unwrap_or(0)
        .min(MAX_PREALLOC_BYTES / std::mem::size_of::<T>().max(1))
}

impl<'de> Deserialize<'de> for Build {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A derived struct cannot also accept the string shorthand, and `untagged` would replace
        // the table form's precise errors (unknown key, wrong type) with a generic one.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            context: Option<String>,
            dockerfile: Option<String>,
            dockerfile_inline: Option<String>,
            target: Option<String>,
            args: Option<IndexMap<String, Scalar>>,
        }
        struct BuildVisitor;
        impl<'de> Visitor<'de> for BuildVisitor {
            type Value = Build;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a build context path or a table { context, dockerfile, dockerfile_inline, \
                     target, args }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Build, E> {
                Ok(Build {
                    context: v.to_owned(),
                    dockerfile: None,
                    dockerfile_inline: None,
                    target: None,
                    args: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Build, A::Error> {
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let context = match (t.context, &t.dockerfile_inline) {
                    (Some(context), _) => context,
                    // Compose defaults the context to the project folder; without an inline
                    // Dockerfile there would be nothing to build from.
                    (None, Some(_)) => ".".to_owned(),
                    (None, None) => return Err(de::Error::missing_field("context")),
                };
                Ok(Build {
                    context,
                    dockerfile: t.dockerfile,
                    dockerfile_inline: t.dockerfile_inline,
                    target: t.target,
                    args: t.args,
                })
            }
        }
        deserializer.deserialize_any(BuildVisitor)
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = Command;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Command, E> {
                Ok(Command::Line(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Command, A::Error> {
                let mut argv = Vec::with_capacity(capacity::<String>(seq.size_hint()));
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(Command::Argv(argv))
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

/// The key under which toml passes a date-time through serde.
const TOML_DATETIME: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            // toml hands a date-time to serde as a one-key map; "invalid type: map" would send
            // the user looking for braces that are not there.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                let key: Option<String> = map.next_key()?;
                if key.as_deref() == Some(TOML_DATETIME) {
                    let value: String = map.next_value()?;
                    return Err(de::Error::custom(format!(
                        "expected a string, number or boolean, found a TOML date-time; quote it: \"{value}\""
                    )));
                }
                Err(de::Error::invalid_type(de::Unexpected::Map, &self))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor of its own: `untagged` would replace both shapes' precise errors with one
        // that names neither, and toml's spans reach the secret only through its map access.
        struct EnvVisitor;
        impl<'de> Visitor<'de> for EnvVisitor {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean, or { secret = \"FILE or NAME\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Plain(Scalar(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue::Plain(Scalar(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue::Plain(Scalar(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue::Plain(Scalar(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue::Plain(Scalar(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvValue, A::Error> {
                let mut secret: Option<Spanned<String>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "secret" if secret.is_none() => secret = Some(map.next_value()?),
                        "secret" => return Err(de::Error::duplicate_field("secret")),
                        TOML_DATETIME => {
                            let value: String = map.next_value()?;
                            return Err(de::Error::custom(format!(
                                "expected a string, number or boolean, found a TOML date-time; \
                                 quote it: \"{value}\""
                            )));
                        }
                        other => return Err(de::Error::unknown_field(other, &["secret"])),
                    }
                }
                secret
                    .map(EnvValue::Secret)
                    .ok_or_else(|| de::Error::missing_field("secret"))
            }
        }
        deserializer.deserialize_any(EnvVisitor)
    }
}

impl<'de> Deserialize<'de> for DependsOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DependsOnVisitor;
        impl<'de> Visitor<'de> for DependsOnVisitor {
            type Value = DependsOn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of service names, or a table of service = \"healthy\" | \"started\" | \"completed\"",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DependsOn, A::Error> {
                let mut targets = Vec::with_capacity(capacity::<Spanned<String>>(seq.size_hint()));
                while let Some(t) = seq.next_element::<Spanned<String>>()? {
                    targets.push(t);
                }
                Ok(DependsOn::Inferred(targets))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependsOn, A::Error> {
                let room = capacity::<(Spanned<String>, Spanned<DependencyEntry>)>(map.size_hint());
                let mut entries = IndexMap::with_capacity(room);
                while let Some((k, v)) =
                    map.next_entry::<Spanned<String>, Spanned<DependencyEntry>>()?
                {
                    entries.insert(k, v);
                }
                Ok(DependsOn::Explicit(entries))
            }
        }
        deserializer.deserialize_any(DependsOnVisitor)
    }
}

impl<'de> Deserialize<'de> for Gpus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GpusVisitor;
        impl<'de> Visitor<'de> for GpusVisitor {
            type Value = Gpus;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"all\", a number of GPUs, or a table { count, device_ids, driver, capabilities, options }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Gpus, E> {
                // Compose's string form has one value; any other is refused there too.
                if v == "all" {
                    Ok(Gpus::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Gpus, E> {
                u32::try_from(v)
                    .map(Gpus::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            // `false` reads as "no GPUs", which Compose has no value for: a lower layer's
            // request is removed with `reset`, the one way every key is removed.
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Gpus, E> {
                Err(E::custom(format!(
                    "invalid type: boolean `{v}`, expected {}; to remove the GPUs a lower layer \
                     asks for, write `reset = [\"gpus\"]` in this layer",
                    "\"all\", a number of GPUs, or a table { count, device_ids, driver, capabilities, options }"
                )))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Gpus, A::Error> {
                GpuRequest::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Gpus::Request)
            }
        }
        deserializer.deserialize_any(GpusVisitor)
    }
}

impl<'de> Deserialize<'de> for ModelCache {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModelCacheVisitor;
        impl<'de> Visitor<'de> for ModelCacheVisitor {
            type Value = ModelCache;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, or the container path of the model cache")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ModelCache, E> {
                Ok(ModelCache::On(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ModelCache, E> {
                Ok(ModelCache::Path(v.to_owned()))
            }
        }
        deserializer.deserialize_any(ModelCacheVisitor)
    }
}

impl<'de> Deserialize<'de> for ModelBindings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BindingsVisitor;
        impl<'de> Visitor<'de> for BindingsVisitor {
            type Value = ModelBindings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of model names, or a table of name = { endpoint_var, model_var }",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ModelBindings, A::Error> {
                let mut names = Vec::with_capacity(capacity::<Spanned<String>>(seq.size_hint()));
                while let Some(n) = seq.next_element::<Spanned<String>>()? {
                    names.push(n);
                }
                Ok(ModelBindings::Short(names))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModelBindings, A::Error> {
                let room = capacity::<(Spanned<String>, ModelBinding)>(map.size_hint());
                let mut entries = IndexMap::with_capacity(room);
                while let Some((k, v)) = map.next_entry::<Spanned<String>, ModelBinding>()? {
                    entries.insert(k, v);
                }
                Ok(ModelBindings::Long(entries))
            }
        }
        deserializer.deserialize_any(BindingsVisitor)
    }
}
