//! The service keys, as written in a catalogue entry, a profile's `[defaults]`, a profile's
//! `[kinds.KIND]` section, or a per-service `[services.NAME.profiles.PROFILE]` override.
//!
//! One struct serves every layer so that a key means the same wherever it is written. Every field
//! is optional: a layer sets only what it changes, and `resolve` walks the layers to find the value
//! that wins. Values that later stages report errors about keep their source span.

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Only meaningful on a catalogue entry; `load` rejects it anywhere else.
    pub kind: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    pub build: Option<Spanned<Build>>,
    pub engine: Option<Spanned<String>>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    pub app: Option<Spanned<String>>,
    pub port: Option<Spanned<u16>>,
    pub health_path: Option<Spanned<String>>,
    pub ready_path: Option<Spanned<String>>,
    pub ports: Option<Vec<Spanned<String>>>,
    pub env: Option<IndexMap<String, Scalar>>,
    pub env_file: Option<Command>,
    pub volumes: Option<Vec<Spanned<String>>>,
    pub networks: Option<Vec<Spanned<String>>>,
    pub labels: Option<IndexMap<String, Scalar>>,
    pub restart: Option<Spanned<String>>,
    pub replicas: Option<u32>,
    pub probe: Option<Spanned<String>>,
    pub healthcheck: Option<HealthcheckSpec>,
    pub depends_on: Option<Spanned<DependsOn>>,
    /// Only meaningful on a catalogue entry; `load` rejects it anywhere else.
    pub profiles: Option<IndexMap<String, Spanned<ServiceSpec>>>,
    pub compose: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckSpec {
    pub test: Option<Command>,
    pub interval: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub retries: Option<u32>,
    pub start_period: Option<Spanned<String>>,
    pub start_interval: Option<Spanned<String>>,
    pub disable: Option<bool>,
}

/// A Compose build: `build = "../backend"` or `build = { context = "..", dockerfile = ".." }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub context: String,
    pub dockerfile: Option<String>,
    pub target: Option<String>,
    pub args: Option<IndexMap<String, Scalar>>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

/// `depends_on = ["a", "b"]` (conditions inferred) or `depends_on = { a = "healthy" }`.
#[derive(Debug, Clone)]
pub enum DependsOn {
    Inferred(Vec<Spanned<String>>),
    Explicit(IndexMap<Spanned<String>, Spanned<String>>),
}

impl DependsOn {
    /// Each dependency with the condition asked for, if any, in the order written.
    pub fn entries(&self) -> Vec<(&Spanned<String>, Option<&Spanned<String>>)> {
        match self {
            DependsOn::Inferred(targets) => targets.iter().map(|t| (t, None)).collect(),
            DependsOn::Explicit(map) => map.iter().map(|(t, c)| (t, Some(c))).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Build {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A derived struct cannot also accept the string shorthand, and `untagged` would replace
        // the table form's precise errors (unknown key, wrong type) with a generic one.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            context: String,
            dockerfile: Option<String>,
            target: Option<String>,
            args: Option<IndexMap<String, Scalar>>,
        }
        struct BuildVisitor;
        impl<'de> Visitor<'de> for BuildVisitor {
            type Value = Build;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a build context path or a table { context, dockerfile, target, args }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Build, E> {
                Ok(Build {
                    context: v.to_owned(),
                    dockerfile: None,
                    target: None,
                    args: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Build, A::Error> {
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Build {
                    context: t.context,
                    dockerfile: t.dockerfile,
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
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(Command::Argv(argv))
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
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
        }
        deserializer.deserialize_any(ScalarVisitor)
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
                let mut targets = Vec::new();
                while let Some(t) = seq.next_element::<Spanned<String>>()? {
                    targets.push(t);
                }
                Ok(DependsOn::Inferred(targets))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependsOn, A::Error> {
                let mut entries = IndexMap::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, Spanned<String>>()? {
                    entries.insert(k, v);
                }
                Ok(DependsOn::Explicit(entries))
            }
        }
        deserializer.deserialize_any(DependsOnVisitor)
    }
}
