//! muster expands a compact TOML service catalogue into complete Compose files.
//!
//! The pipeline, one module per stage, each with its own output type (ARCHITECTURE.md draws it):
//! [`catalogue`] (load, with spans) -> [`resolve`] (kinds, engines, profile layers:
//! [`resolve::Model`]) -> [`render`] (kind templates, the catalogue's keys and the `compose`
//! passthrough, read once as a typed [`compose_body::ComposeBody`]) -> [`validate`] (graph,
//! ports, healthchecks, probe tools: [`validate::Stack`]) -> [`emit`] (Compose, Swarm,
//! Kubernetes, all reading the same body). [`pipeline`] runs them in order; [`run()`] maps a
//! request to an exit code. [`model`] holds the typed facts they share, [`yaml`] the YAML types,
//! reader and writer.

pub mod ai_models;
pub mod catalogue;
mod collect;
pub mod commands;
pub mod compose_body;
pub mod compose_spec;
pub mod config;
pub mod diagnostic;
pub mod emit;
pub mod error;
pub mod features;
pub mod findings;
pub mod fit;
pub mod gpus;
pub mod images;
mod import;
pub mod key_order;
pub mod kinds;
pub mod lint;
pub mod live;
pub mod lock;
pub mod merge;
pub mod model;
pub mod mounted_probe;
pub mod output;
pub mod pipeline;
pub mod ports;
pub mod probe;
pub mod profile;
pub mod render;
pub mod resolve;
pub mod resources;
pub mod run;
pub mod schema;
pub mod spec;
pub mod suggest;
pub mod user_files;
pub mod validate;
pub mod volumes;
pub mod yaml;

pub use config::Cli;
pub use run::run;
