/// What a kind is like, beyond its template: the facts that change how dependents wait, how
/// lints judge it and what each target makes of it. Declared once with the kind (`kinds.rs`) and
/// carried on every resolved service, so that no stage recognises a kind by its name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindTraits {
    /// Runs once and exits (migrations): dependents wait for it to succeed, it is expected not to
    /// restart, and Kubernetes runs it as a Job.
    pub runs_to_completion: bool,
    /// Keeps data that must outlive the container: a StatefulSet with a claim per pod.
    pub stateful: bool,
    /// Needs a while before its first answer (loading a model, an index): a short
    /// `start_period` marks it unhealthy while it loads.
    pub slow_to_start: bool,
    /// Must never run twice at once (a scheduler would fire every job twice): a rollout
    /// replaces it rather than starting the new one beside the old.
    pub single_instance: bool,
    /// Holds data the stack's own services reach over the network (a database, a cache, a pool,
    /// a search engine, a broker): its port is for them, not for the world, so in production
    /// it is published on a host interface only deliberately, and its authentication is on.
    pub datastore: bool,
}

/// How a kind's template probes health, which decides what the `probe` key may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStyle {
    /// The engine's own client (pg_isready, redis-cli, ...): only `auto` or `native` make sense.
    Native,
    /// An HTTP endpoint, fetched with whichever client the image has (curl, wget, python, bash).
    Http,
    /// Runs to completion; nothing to probe.
    None,
}
