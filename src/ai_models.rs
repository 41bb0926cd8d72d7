//! The catalogue's top-level `[models.NAME]` tables: the AI models a stack uses, which Compose
//! (2.38 and later) hands to Docker Model Runner, and which services name in their `models`.
//!
//! Compose pulls each model as an OCI artifact and serves it from the model runner, then gives
//! every service bound to it the runner's URL and the model's name in two variables. Swarm and
//! Kubernetes have no model runner: their emitters leave models out and say so. Compose takes
//! any name and any text as a reference, so load checks nothing here but the shape.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// One model, as Compose's top-level `models` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The model's OCI reference, as Docker Model Runner pulls it (`ai/smollm2`, `hf.co/...`).
    #[schemars(with = "String", extend("examples" = ["ai/smollm2"]))]
    pub model: Spanned<String>,
    /// The most tokens the model keeps in context.
    #[schemars(extend("examples" = [4096]))]
    pub context_size: Option<u32>,
    /// Flags passed to the inference engine as they are.
    #[schemars(extend("examples" = [["--temp", "0.2"]]))]
    pub runtime_flags: Option<Vec<String>>,
}

/// The `[models]` table, in the order written.
pub type Models = IndexMap<Spanned<String>, ModelSpec>;
