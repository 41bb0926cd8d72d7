//! The keys of Compose's `healthcheck`, once: their names, their order, which are timings, and
//! what Docker does when one is left out. Every stage that walks a healthcheck's keys (the
//! catalogue's layers, the body, the writer's key order, lints, Kubernetes' probes, the live
//! plan, import) iterates [`HealthKey`] rather than spelling the keys again.

use std::time::Duration as Span;

/// One key of a Compose `healthcheck`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthKey {
    Test,
    Interval,
    Timeout,
    Retries,
    StartPeriod,
    StartInterval,
    Disable,
}

/// Docker's retries when a healthcheck leaves them out (moby `daemon/health.go`,
/// `defaultProbeRetries`).
pub const DOCKER_DEFAULT_RETRIES: u32 = 3;

impl HealthKey {
    /// Every key, in the order Compose's reference and muster's output write them.
    pub const ALL: [HealthKey; 7] = [
        HealthKey::Test,
        HealthKey::Interval,
        HealthKey::Timeout,
        HealthKey::Retries,
        HealthKey::StartPeriod,
        HealthKey::StartInterval,
        HealthKey::Disable,
    ];

    /// The keys a profile tunes: when and how often the probe runs, and how many failures count.
    pub const TIMINGS: [HealthKey; 5] = [
        HealthKey::Interval,
        HealthKey::Timeout,
        HealthKey::Retries,
        HealthKey::StartPeriod,
        HealthKey::StartInterval,
    ];

    /// The timings that are Compose durations (`30s`, `1m30s`).
    pub const DURATIONS: [HealthKey; 4] = [
        HealthKey::Interval,
        HealthKey::Timeout,
        HealthKey::StartPeriod,
        HealthKey::StartInterval,
    ];

    /// The key as Compose writes it.
    pub const fn name(self) -> &'static str {
        match self {
            HealthKey::Test => "test",
            HealthKey::Interval => "interval",
            HealthKey::Timeout => "timeout",
            HealthKey::Retries => "retries",
            HealthKey::StartPeriod => "start_period",
            HealthKey::StartInterval => "start_interval",
            HealthKey::Disable => "disable",
        }
    }

    /// `healthcheck.interval`: how provenance, messages and the catalogue name it.
    pub const fn path(self) -> &'static str {
        match self {
            HealthKey::Test => "healthcheck.test",
            HealthKey::Interval => "healthcheck.interval",
            HealthKey::Timeout => "healthcheck.timeout",
            HealthKey::Retries => "healthcheck.retries",
            HealthKey::StartPeriod => "healthcheck.start_period",
            HealthKey::StartInterval => "healthcheck.start_interval",
            HealthKey::Disable => "healthcheck.disable",
        }
    }

    pub fn from_name(name: &str) -> Option<HealthKey> {
        HealthKey::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the engine uses for a duration the healthcheck leaves out (moby
    /// `daemon/health.go`: `defaultProbeInterval`, `defaultProbeTimeout`,
    /// `defaultStartPeriod`, `defaultStartInterval`). `start_interval` applies only where the
    /// engine knows it (Engine 25 and later); an older engine probes at `interval` throughout.
    pub const fn docker_default(self) -> Option<Span> {
        match self {
            HealthKey::Interval | HealthKey::Timeout => Some(Span::from_secs(30)),
            HealthKey::StartPeriod => Some(Span::ZERO),
            HealthKey::StartInterval => Some(Span::from_secs(5)),
            HealthKey::Test | HealthKey::Retries | HealthKey::Disable => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_paths_name_the_key() {
        for key in HealthKey::ALL {
            assert_eq!(HealthKey::from_name(key.name()), Some(key));
            assert_eq!(key.path(), format!("healthcheck.{}", key.name()));
        }
        assert_eq!(HealthKey::from_name("start-period"), None);
    }

    #[test]
    fn every_duration_has_dockers_default_and_is_a_timing() {
        for key in HealthKey::DURATIONS {
            assert!(key.docker_default().is_some(), "{key:?}");
            assert!(HealthKey::TIMINGS.contains(&key));
        }
        assert_eq!(
            HealthKey::StartInterval.docker_default(),
            Some(Span::from_secs(5))
        );
    }
}
