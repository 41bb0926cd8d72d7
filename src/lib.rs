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
//!
//! A plain build exports only what the binary calls: every module is `pub(crate)`, so the
//! compiler finds dead code. The `internals` feature makes the modules public for the callers
//! that drive the stages themselves: the integration tests, the bench (`bench/gen.rs` times each
//! stage) and the fuzz target. Tests and the bench get it through the package's dev-dependency
//! on itself (Cargo.toml), which is why CI also runs clippy on the plain build.

/// Declares modules that are public with the `internals` feature and crate-private without it.
macro_rules! modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        pub(crate) mod $name;
    )*};
}

mod collect;
mod import;

modules! {
    ai_models,
    catalogue,
    commands,
    compose_body,
    compose_spec,
    config,
    diagnostic,
    dockerfile,
    emit,
    error,
    features,
    findings,
    fit,
    gpus,
    host,
    host_paths,
    images,
    key_order,
    kinds,
    lint,
    live,
    lock,
    merge,
    model,
    mounted_probe,
    output,
    pipeline,
    ports,
    probe,
    profile,
    render,
    resolve,
    resources,
    run,
    schema,
    spec,
    suggest,
    user_files,
    validate,
    volumes,
    yaml,
}

pub use config::Cli;
pub use run::run;

// The binary's own needs before `run`.
pub use commands::completions::complete_if_asked;
pub use output::mark_stdout_closed;
