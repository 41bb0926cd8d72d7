//! The restart budget of a service on Swarm, where `depends_on` holds nothing back.
//!
//! Under Compose a dependent starts once its dependencies are ready, and they wait for theirs in
//! turn. `docker stack deploy` starts every service at once, so a service that exits when what
//! it needs is not there yet (a migrations job, a worker without its broker) is brought back by
//! its restart policy alone, and a bounded policy (`on-failure:N`) must not spend its attempts
//! before the whole chain below it can be up. Swarm restarts a task `max_attempts` times after
//! the first run, each `delay` after the last one stopped (swarmkit's restart supervisor), so
//! the attempts reach `max_attempts x delay` past the first failure.
//!
//! The chain is the slowest path of dependencies below the service: for each dependency with a
//! healthcheck, its `start_period` plus the time to its first probe (the probe Docker runs every
//! `start_interval` while `start_period` lasts, on Engine 25 and later; else every `interval`).
//! The budget is that chain plus a margin of half of it (at least [`MIN_MARGIN`]), for the
//! scheduler, the pull, and the service's own start and run.

use crate::model::Condition;
use crate::model::HealthKey;
use crate::model::Restart;
use crate::validate::{Stack, StackService};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

/// Swarm's own delay between restarts (docker/cli's `service create --restart-delay` default).
pub(crate) const SWARM_DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// The least margin over the chain: a chain of quick services still needs the scheduler, the
/// image and the service's own start.
pub(crate) const MIN_MARGIN: Duration = Duration::from_secs(10);

/// One dependency on the slowest path, and what it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) service: String,
    pub(crate) start_period: Duration,
    /// Until its first probe: `start_interval`, or `interval` when probes wait for it.
    pub(crate) first_probe: Duration,
    /// Which timing the first probe waits for: `start_interval` or `interval`.
    pub(crate) probe_timing: &'static str,
}

impl Link {
    fn total(&self) -> Duration {
        self.start_period + self.first_probe
    }
}

/// A bounded restart policy stretched over the chain below its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Budget {
    /// `max_attempts`, from the service's `on-failure:N`.
    pub(crate) attempts: u32,
    /// The slowest path of dependencies below the service, nearest first.
    pub(crate) chain: Vec<Link>,
    /// The chain plus the margin: what the attempts must span.
    pub(crate) needed: Duration,
    /// The delay written, in whole seconds; `None` where Swarm's own 5 s already spans it.
    pub(crate) delay: Option<Duration>,
}

impl Budget {
    pub(crate) fn chain_time(&self) -> Duration {
        self.chain.iter().map(Link::total).sum()
    }

    /// What `max_attempts x delay` comes to.
    pub(crate) fn spans(&self) -> Duration {
        self.delay.unwrap_or(SWARM_DEFAULT_DELAY) * self.attempts
    }

    /// The arithmetic, line by line, for `muster explain`.
    pub(crate) fn describe(&self, service: &str) -> String {
        let mut out = String::new();
        let path: Vec<&str> = std::iter::once(service)
            .chain(self.chain.iter().map(|l| l.service.as_str()))
            .collect();
        let _ = writeln!(out, "  slowest chain below it: {}", path.join(" -> "));
        let width = self
            .chain
            .iter()
            .map(|l| l.service.len())
            .max()
            .unwrap_or(0);
        for l in self.chain.iter().rev() {
            let _ = writeln!(
                out,
                "    {:width$}  start_period {} + first probe {} ({}) = {}",
                l.service,
                secs(l.start_period),
                secs(l.first_probe),
                l.probe_timing,
                secs(l.total()),
            );
        }
        let chain = self.chain_time();
        let _ = writeln!(
            out,
            "  chain {} + margin {} (half the chain, at least {}) = {}",
            secs(chain),
            secs(self.needed - chain),
            secs(MIN_MARGIN),
            secs(self.needed),
        );
        let delay = match self.delay {
            Some(d) => secs(d),
            None => format!("{} (Swarm's default)", secs(SWARM_DEFAULT_DELAY)),
        };
        let _ = writeln!(
            out,
            "  max_attempts {} x delay {delay} = {} >= {}",
            self.attempts,
            secs(self.spans()),
            secs(self.needed),
        );
        out
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// The budget of `s`, when its restart policy is bounded (`on-failure:N`) and something below
/// it takes time to come up.
pub(crate) fn budget(s: &StackService, stack: &Stack) -> Option<Budget> {
    let Some(Restart::OnFailure(Some(attempts))) = s.rendered.body.restart else {
        return None;
    };
    let attempts = attempts.max(1);
    let chain = chain_below(s, stack);
    let time: Duration = chain.iter().map(Link::total).sum();
    if time.is_zero() {
        return None;
    }
    // In whole seconds, rounded up: Swarm's durations are written so.
    let time = time.as_millis().div_ceil(1000) as u64;
    let needed = time + time.div_ceil(2).max(MIN_MARGIN.as_secs());
    let delay = Duration::from_secs(needed.div_ceil(u64::from(attempts)));
    let needed = Duration::from_secs(needed);
    Some(Budget {
        attempts,
        chain,
        needed,
        delay: (delay > SWARM_DEFAULT_DELAY).then_some(delay),
    })
}

/// The slowest path of dependencies below `s`, nearest first; empty when nothing below it
/// takes time to come up.
pub(crate) fn chain_below(s: &StackService, stack: &Stack) -> Vec<Link> {
    let by_name: HashMap<&str, &StackService> = stack
        .services
        .iter()
        .map(|t| (t.rendered.service.name.as_str(), t))
        .collect();
    let probes_while_starting = stack
        .project
        .requires
        .engine
        .is_none_or(|e| e >= crate::model::version::Version::new(25, 0, 0));
    slowest(s, &by_name, probes_while_starting, &mut HashMap::new())
}

/// The slowest path of required dependencies below `s`, nearest first. The graph has no cycle:
/// validation refused one.
fn slowest(
    s: &StackService,
    by_name: &HashMap<&str, &StackService>,
    probes_while_starting: bool,
    memo: &mut HashMap<String, Vec<Link>>,
) -> Vec<Link> {
    let name = &s.rendered.service.name;
    if let Some(done) = memo.get(name) {
        return done.clone();
    }
    let mut best: Vec<Link> = Vec::new();
    let mut best_time = Duration::ZERO;
    // An optional dependency holds nothing back under Compose either.
    for edge in s
        .depends_on
        .iter()
        .filter(|e| e.options.required != Some(false))
    {
        let Some(dependency) = by_name.get(edge.target.as_str()) else {
            continue;
        };
        let mut path = Vec::new();
        // Only a healthy dependency is waited for past its start; a job completes once the
        // chain below it is up, and one that is only started adds nothing of its own.
        if edge.condition == Condition::Healthy
            && let Some(link) = link(dependency, probes_while_starting)
        {
            path.push(link);
        }
        path.extend(slowest(dependency, by_name, probes_while_starting, memo));
        let time: Duration = path.iter().map(Link::total).sum();
        if time > best_time {
            best_time = time;
            best = path;
        }
    }
    memo.insert(name.clone(), best.clone());
    best
}

/// What `dependency` adds to a chain: its start period and the wait for its first probe.
fn link(dependency: &StackService, probes_while_starting: bool) -> Option<Link> {
    let hc = dependency.rendered.body.healthcheck()?;
    // What the body sets, else what Docker does without it.
    let value = |key: HealthKey| {
        hc.duration(key)
            .and_then(|d| d.value)
            .or(key.docker_default())
            .unwrap_or_default()
    };
    let start_period = value(HealthKey::StartPeriod);
    let (first_probe, probe_timing) = if probes_while_starting && !start_period.is_zero() {
        (value(HealthKey::StartInterval), "start_interval")
    } else {
        (value(HealthKey::Interval), "interval")
    };
    Some(Link {
        service: dependency.rendered.service.name.clone(),
        start_period,
        first_probe,
        probe_timing,
    })
}
