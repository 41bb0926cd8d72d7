//! The catalogue's top-level resources: `[volumes.NAME]`, `[networks.NAME]`, `[secrets.NAME]`
//! and `[configs.NAME]`, Compose's own top-level sections, typed so that a misspelt key is an
//! error at its line and so that every target reads the same settings.
//!
//! Each table takes the keys the Compose Specification gives that section, and nothing else;
//! load refuses what the Compose loader refuses on one resource alone (a secret with no source,
//! an external volume with a driver). Whether a service's reference names a declared resource
//! is validate's to judge, once the body of every service is known.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId};
use crate::spec::Scalar;
use crate::yaml::{Mapping, Value as Yaml};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// A boolean, or text Compose interpolates into one (`"${INTERNAL:-true}"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn yaml(&self) -> Yaml {
        match self {
            Flag::Bool(b) => Yaml::Bool(*b),
            Flag::Text(t) => Yaml::from(t.as_str()),
        }
    }

    /// True when set to `true` (interpolated text is not known to be).
    pub fn is_true(&self) -> bool {
        matches!(self, Flag::Bool(true))
    }
}

/// A named volume: `[volumes.pgdata]`. Without a table, a named volume a service mounts is
/// declared with Compose's defaults.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    /// The volume's name on the engine, instead of `PROJECT_NAME`.
    #[schemars(extend("examples" = ["shop_pgdata"]))]
    pub name: Option<String>,
    /// The volume driver (`local` by default).
    #[schemars(extend("examples" = ["local"]))]
    pub driver: Option<String>,
    /// Options for the driver, such as `{ type = "nfs", o = "addr=10.0.0.1,rw", device = ":/export" }`.
    #[schemars(extend("examples" = [{ "type": "nfs", "o": "addr=10.0.0.1,rw", "device": ":/export" }]))]
    pub driver_opts: Option<IndexMap<String, Scalar>>,
    /// The volume exists already (created outside this project): Compose uses it, never
    /// creates it, and fails when it is missing.
    #[schemars(extend("examples" = [true]))]
    pub external: Option<Flag>,
    /// Labels on the volume.
    #[schemars(extend("examples" = [{ "com.example.backup": "nightly" }]))]
    pub labels: Option<IndexMap<String, Scalar>>,
}

/// A network: `[networks.backend]`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The network's name on the engine, instead of `PROJECT_NAME`.
    #[schemars(extend("examples" = ["shop_backend"]))]
    pub name: Option<String>,
    /// `bridge` (Compose's default), `overlay` (Swarm's), `host`, `none` or a plugin.
    #[schemars(extend("examples" = ["bridge"]))]
    pub driver: Option<String>,
    /// Options for the driver.
    #[schemars(extend("examples" = [{ "com.docker.network.bridge.name": "br-shop" }]))]
    pub driver_opts: Option<IndexMap<String, Scalar>>,
    /// The network exists already: Compose joins it, never creates it.
    #[schemars(extend("examples" = [true]))]
    pub external: Option<Flag>,
    /// No route out of the network: its containers reach each other only.
    #[schemars(extend("examples" = [true]))]
    pub internal: Option<Flag>,
    /// Standalone containers may join it (overlay networks).
    #[schemars(extend("examples" = [true]))]
    pub attachable: Option<Flag>,
    /// Whether the network gives containers IPv4 addresses (default true).
    #[schemars(extend("examples" = [true]))]
    pub enable_ipv4: Option<Flag>,
    /// Whether the network gives containers IPv6 addresses.
    #[schemars(extend("examples" = [true]))]
    pub enable_ipv6: Option<Flag>,
    /// Address management: the subnets a service's `ipv4_address` is taken from.
    #[schemars(extend("examples" = [{ "config": [{ "subnet": "172.28.0.0/16" }] }]))]
    pub ipam: Option<Ipam>,
    /// Labels on the network.
    #[schemars(extend("examples" = [{ "com.example.team": "platform" }]))]
    pub labels: Option<IndexMap<String, Scalar>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ipam {
    /// The IPAM driver, instead of the default.
    #[schemars(extend("examples" = ["default"]))]
    pub driver: Option<String>,
    /// One table per subnet.
    #[schemars(extend("examples" = [[{ "subnet": "172.28.0.0/16", "gateway": "172.28.0.1" }]]))]
    pub config: Option<Vec<IpamConfig>>,
    /// Options for the IPAM driver.
    #[schemars(extend("examples" = [{ "foo": "bar" }]))]
    pub options: Option<IndexMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpamConfig {
    /// A subnet in CIDR form, `172.28.0.0/16`.
    #[schemars(extend("examples" = ["172.28.0.0/16"]))]
    pub subnet: Option<String>,
    /// The range containers get addresses from, within `subnet`.
    #[schemars(extend("examples" = ["172.28.5.0/24"]))]
    pub ip_range: Option<String>,
    /// The gateway address of the subnet.
    #[schemars(extend("examples" = ["172.28.0.1"]))]
    pub gateway: Option<String>,
    /// Addresses the driver must not hand out, by host name.
    #[schemars(extend("examples" = [{ "router": "172.28.1.5" }]))]
    pub aux_addresses: Option<IndexMap<String, String>>,
}

/// A secret: `[secrets.db_password]`, from a `file`, an `environment` variable, or `external`.
/// Services name it in `compose.secrets`; it is mounted at `/run/secrets/NAME`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    /// The secret's name on the engine, instead of `PROJECT_NAME`.
    #[schemars(extend("examples" = ["shop_db_password"]))]
    pub name: Option<String>,
    /// A file holding the value, relative to the generated file.
    #[schemars(extend("examples" = ["./db_password.txt"]))]
    pub file: Option<String>,
    /// An environment variable of the shell that runs Compose, holding the value.
    #[schemars(extend("examples" = ["DB_PASSWORD"]))]
    pub environment: Option<String>,
    /// The secret exists already (Swarm: `docker secret create`).
    #[schemars(extend("examples" = [true]))]
    pub external: Option<Flag>,
    /// Labels on the secret.
    #[schemars(extend("examples" = [{ "com.example.team": "payments" }]))]
    pub labels: Option<IndexMap<String, Scalar>>,
    /// The secrets driver (Swarm).
    #[schemars(extend("examples" = ["vault"]))]
    pub driver: Option<String>,
    /// Options for the secrets driver.
    #[schemars(extend("examples" = [{ "path": "secret/shop" }]))]
    pub driver_opts: Option<IndexMap<String, Scalar>>,
    /// The driver that expands templates in the value (Swarm: `golang`).
    #[schemars(extend("examples" = ["golang"]))]
    pub template_driver: Option<String>,
}

/// A config: `[configs.nginx_conf]`, from a `file`, an `environment` variable, inline `content`,
/// or `external`. Services name it in `compose.configs`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// The config's name on the engine, instead of `PROJECT_NAME`.
    #[schemars(extend("examples" = ["shop_nginx_conf"]))]
    pub name: Option<String>,
    /// A file holding the content, relative to the generated file.
    #[schemars(extend("examples" = ["./nginx.conf"]))]
    pub file: Option<String>,
    /// An environment variable of the shell that runs Compose, holding the content.
    #[schemars(extend("examples" = ["NGINX_CONF"]))]
    pub environment: Option<String>,
    /// The content itself.
    #[schemars(extend("examples" = ["server { listen 80; }"]))]
    pub content: Option<String>,
    /// The config exists already (Swarm: `docker config create`).
    #[schemars(extend("examples" = [true]))]
    pub external: Option<Flag>,
    /// Labels on the config.
    #[schemars(extend("examples" = [{ "com.example.team": "platform" }]))]
    pub labels: Option<IndexMap<String, Scalar>>,
    /// The driver that expands templates in the content (Swarm: `golang`).
    #[schemars(extend("examples" = ["golang"]))]
    pub template_driver: Option<String>,
}

/// Every top-level resource the catalogue declares, in the order written.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub volumes: IndexMap<String, Spanned<VolumeSpec>>,
    pub networks: IndexMap<String, Spanned<NetworkSpec>>,
    pub secrets: IndexMap<String, Spanned<SecretSpec>>,
    pub configs: IndexMap<String, Spanned<ConfigSpec>>,
}

/// The four sections, by their Compose key.
pub const SECTIONS: [&str; 4] = ["volumes", "networks", "secrets", "configs"];

impl Resources {
    /// Refuses what the Compose loader refuses of one resource alone.
    pub fn check(&self, source: SourceId, diagnostics: &mut Diagnostics) {
        for (name, v) in &self.volumes {
            let spec = v.get_ref();
            if spec.external.as_ref().is_some_and(Flag::is_true) {
                let conflicting = [
                    ("driver", spec.driver.is_some()),
                    ("driver_opts", spec.driver_opts.is_some()),
                    ("labels", spec.labels.is_some()),
                ];
                for (key, set) in conflicting {
                    if set {
                        diagnostics.push(
                            Diagnostic::error(format!(
                                "volume `{name}` is `external` and sets `{key}`, which Compose \
                                 refuses (conflicting parameters)"
                            ))
                            .at(source, Some(v.span()), "this volume")
                            .with_note(
                                "an external volume exists already: its driver and labels are \
                                 the ones it was created with",
                            ),
                        );
                    }
                }
            }
        }
        for (name, s) in &self.secrets {
            let spec = s.get_ref();
            let sources = [("file", &spec.file), ("environment", &spec.environment)];
            one_source(
                "secret",
                name,
                s.span(),
                &spec.external,
                &sources,
                source,
                diagnostics,
            );
        }
        for (name, c) in &self.configs {
            let spec = c.get_ref();
            let sources = [
                ("file", &spec.file),
                ("environment", &spec.environment),
                ("content", &spec.content),
            ];
            one_source(
                "config",
                name,
                c.span(),
                &spec.external,
                &sources,
                source,
                diagnostics,
            );
        }
    }

    /// Whether `section` declares `name`.
    pub fn declares(&self, section: &str, name: &str) -> bool {
        match section {
            "volumes" => self.volumes.contains_key(name),
            "networks" => self.networks.contains_key(name),
            "secrets" => self.secrets.contains_key(name),
            "configs" => self.configs.contains_key(name),
            _ => false,
        }
    }

    /// One section as Compose writes it, in the catalogue's order.
    pub fn section(&self, section: &str) -> Mapping {
        fn each<T>(m: &IndexMap<String, Spanned<T>>, f: impl Fn(&T) -> Mapping) -> Mapping {
            m.iter()
                .map(|(k, v)| (Yaml::from(k.as_str()), Yaml::Mapping(f(v.get_ref()))))
                .collect()
        }
        match section {
            "volumes" => each(&self.volumes, VolumeSpec::yaml),
            "networks" => each(&self.networks, NetworkSpec::yaml),
            "secrets" => each(&self.secrets, SecretSpec::yaml),
            "configs" => each(&self.configs, ConfigSpec::yaml),
            _ => Mapping::new(),
        }
    }
}

/// A secret or config that is not external takes its value from exactly one source: Compose
/// refuses none ("one of file|environment must be set") and two ("mutually exclusive").
fn one_source(
    what: &str,
    name: &str,
    span: std::ops::Range<usize>,
    external: &Option<Flag>,
    sources: &[(&str, &Option<String>)],
    source: SourceId,
    diagnostics: &mut Diagnostics,
) {
    if external.is_some() {
        return;
    }
    let set: Vec<&str> = sources
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
    let keys = sources
        .iter()
        .map(|(k, _)| format!("`{k}`"))
        .collect::<Vec<_>>();
    let message = match set.len() {
        1 => return,
        0 => format!(
            "{what} `{name}` has no value: set one of {}, or `external = true`",
            keys.join(", ")
        ),
        _ => format!(
            "{what} `{name}` sets {}, which Compose refuses: they are mutually exclusive",
            set.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    diagnostics.push(Diagnostic::error(message).at(source, Some(span), "this table"));
}

fn put(m: &mut Mapping, key: &str, value: Option<Yaml>) {
    if let Some(v) = value {
        m.insert(Yaml::from(key), v);
    }
}

fn text(v: &Option<String>) -> Option<Yaml> {
    v.as_deref().map(Yaml::from)
}

fn flag(v: &Option<Flag>) -> Option<Yaml> {
    v.as_ref().map(Flag::yaml)
}

fn scalars(v: &Option<IndexMap<String, Scalar>>) -> Option<Yaml> {
    v.as_ref().map(|m| {
        Yaml::Mapping(
            m.iter()
                .map(|(k, s)| (Yaml::from(k.as_str()), Yaml::from(s.0.as_str())))
                .collect(),
        )
    })
}

fn strings(v: &Option<IndexMap<String, String>>) -> Option<Yaml> {
    v.as_ref().map(|m| {
        Yaml::Mapping(
            m.iter()
                .map(|(k, s)| (Yaml::from(k.as_str()), Yaml::from(s.as_str())))
                .collect(),
        )
    })
}

impl VolumeSpec {
    fn yaml(&self) -> Mapping {
        let mut m = Mapping::new();
        put(&mut m, "name", text(&self.name));
        put(&mut m, "driver", text(&self.driver));
        put(&mut m, "driver_opts", scalars(&self.driver_opts));
        put(&mut m, "external", flag(&self.external));
        put(&mut m, "labels", scalars(&self.labels));
        m
    }
}

impl NetworkSpec {
    fn yaml(&self) -> Mapping {
        let mut m = Mapping::new();
        put(&mut m, "name", text(&self.name));
        put(&mut m, "driver", text(&self.driver));
        put(&mut m, "driver_opts", scalars(&self.driver_opts));
        put(&mut m, "external", flag(&self.external));
        put(&mut m, "internal", flag(&self.internal));
        put(&mut m, "attachable", flag(&self.attachable));
        put(&mut m, "enable_ipv4", flag(&self.enable_ipv4));
        put(&mut m, "enable_ipv6", flag(&self.enable_ipv6));
        if let Some(ipam) = &self.ipam {
            let mut i = Mapping::new();
            put(&mut i, "driver", text(&ipam.driver));
            if let Some(config) = &ipam.config {
                let blocks = config
                    .iter()
                    .map(|c| {
                        let mut b = Mapping::new();
                        put(&mut b, "subnet", text(&c.subnet));
                        put(&mut b, "ip_range", text(&c.ip_range));
                        put(&mut b, "gateway", text(&c.gateway));
                        put(&mut b, "aux_addresses", strings(&c.aux_addresses));
                        Yaml::Mapping(b)
                    })
                    .collect();
                i.insert("config".into(), Yaml::Sequence(blocks));
            }
            put(&mut i, "options", strings(&ipam.options));
            m.insert("ipam".into(), Yaml::Mapping(i));
        }
        put(&mut m, "labels", scalars(&self.labels));
        m
    }
}

impl SecretSpec {
    fn yaml(&self) -> Mapping {
        let mut m = Mapping::new();
        put(&mut m, "name", text(&self.name));
        put(&mut m, "file", text(&self.file));
        put(&mut m, "environment", text(&self.environment));
        put(&mut m, "external", flag(&self.external));
        put(&mut m, "labels", scalars(&self.labels));
        put(&mut m, "driver", text(&self.driver));
        put(&mut m, "driver_opts", scalars(&self.driver_opts));
        put(&mut m, "template_driver", text(&self.template_driver));
        m
    }
}

impl ConfigSpec {
    fn yaml(&self) -> Mapping {
        let mut m = Mapping::new();
        put(&mut m, "name", text(&self.name));
        put(&mut m, "file", text(&self.file));
        put(&mut m, "environment", text(&self.environment));
        put(&mut m, "content", text(&self.content));
        put(&mut m, "external", flag(&self.external));
        put(&mut m, "labels", scalars(&self.labels));
        put(&mut m, "template_driver", text(&self.template_driver));
        m
    }
}

/// The names a service's `secrets` or `configs` refer to: each entry a name, or a table whose
/// `source` names it.
pub fn references(value: &Yaml) -> Vec<&str> {
    let Some(items) = value.as_sequence() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Yaml::String(s) => Some(s.as_str()),
            Yaml::Mapping(m) => m.get("source").and_then(Yaml::as_str),
            _ => None,
        })
        .collect()
}
