//! Probe timings measured, not guessed: from the engine's events of one start of the stack
//! (each container's `start`, each probe's `exec_start` and `exec_die`, its `health_status`),
//! how long each service took to pass its first probe, how long its probes ran and how many
//! failed before the first pass; and from several starts, the healthcheck timing each service
//! needs, with a stated margin.

use super::engine::{Container, timestamp};
use super::evidence::probe_argv;
use super::plan::{Planned, Timing};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// One engine event, as `docker events --format '{{json .}}'` prints it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "Action", default)]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    #[serde(rename = "timeNano", default)]
    pub time_nano: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Actor {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: HashMap<String, String>,
}

impl Event {
    fn at(&self) -> f64 {
        self.time_nano as f64 / 1e9
    }
}

/// What one start of the stack showed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run {
    /// From the first container's creation to the last service's ready, when all were.
    pub ready_in: Option<f64>,
    pub services: IndexMap<String, ServiceRun>,
}

/// What one start showed of one service.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceRun {
    /// From its start to its first passing probe (a job: to its exit 0; a service without a
    /// healthcheck: 0).
    pub ready_after: Option<f64>,
    /// Each probe's duration, in seconds, and whether it passed, in order.
    pub probes: Vec<(f64, bool)>,
    pub failures_before_ready: u32,
    /// Probes that failed after the first pass.
    pub failures_after_ready: u32,
}

/// Reads one start of the stack from its events. `containers` (their `docker inspect`) give
/// each container's service and probe; the events not of those containers are ignored.
pub(crate) fn measure(events: &[Event], containers: &[Container]) -> Run {
    let mut run = Run::default();
    let mut first_created: Option<f64> = None;
    let mut last_ready: Option<f64> = None;
    let mut all_ready = true;
    for c in containers {
        let mine: Vec<&Event> = events.iter().filter(|e| e.actor.id == c.id).collect();
        for e in &mine {
            if e.action == "create" {
                first_created = Some(first_created.map_or(e.at(), |f| f.min(e.at())));
            }
        }
        // The last start: a container the engine restarted counts from its newest life.
        let Some(start) = mine
            .iter()
            .filter(|e| e.action == "start")
            .map(|e| e.at())
            .reduce(f64::max)
        else {
            all_ready = false;
            continue;
        };
        let test = c
            .config
            .healthcheck
            .as_ref()
            .map(|h| h.test.clone())
            .unwrap_or_default();
        let probe = probe_argv(&test).map(|argv| format!("exec_start: {}", argv.join(" ")));
        let mut execs: HashMap<&str, f64> = HashMap::new();
        let mut s = ServiceRun::default();
        let mut ready: Option<f64> = None;
        for e in mine.iter().filter(|e| e.at() >= start) {
            let exec = e.actor.attributes.get("execID").map(String::as_str);
            match (e.action.as_str(), exec) {
                (action, Some(id)) if Some(action) == probe.as_deref() => {
                    execs.insert(id, e.at());
                }
                ("exec_die", Some(id)) => {
                    let Some(began) = execs.remove(id) else {
                        continue;
                    };
                    let passed =
                        e.actor.attributes.get("exitCode").map(String::as_str) == Some("0");
                    s.probes.push((e.at() - began, passed));
                    match (passed, ready) {
                        (true, None) => ready = Some(e.at()),
                        (false, None) => s.failures_before_ready += 1,
                        (false, Some(_)) => s.failures_after_ready += 1,
                        (true, Some(_)) => {}
                    }
                }
                ("die", _)
                    if probe.is_none()
                        && e.actor.attributes.get("exitCode").map(String::as_str) == Some("0") =>
                {
                    ready = Some(e.at());
                }
                ("health_status: healthy", _) => {
                    // The engine's own moment; a probe's exit is seen a moment before.
                    ready.get_or_insert(e.at());
                }
                _ => {}
            }
        }
        if probe.is_none() && ready.is_none() && c.state.status == "running" {
            ready = Some(start);
        }
        s.ready_after = ready.map(|r| r - start);
        match ready {
            Some(r) => last_ready = Some(last_ready.map_or(r, |l| l.max(r))),
            None => all_ready = false,
        }
        run.services.insert(c.service().to_owned(), s);
    }
    if all_ready {
        run.ready_in = first_created.zip(last_ready).map(|(f, l)| l - f);
    }
    run
}

/// With `MUSTER_RECORD_EVIDENCE=DIR`, one start's events and containers are written to
/// `DIR/PROJECT-tune-MILLIS.json`, as [`super::evidence::record`] writes a diagnosis's evidence:
/// the unit tests of [`measure`] read such a record.
pub(crate) fn record(project: &str, events: &str, containers: &[Container]) {
    let Some(dir) = std::env::var_os("MUSTER_RECORD_EVIDENCE") else {
        return;
    };
    let events: Vec<serde_json::Value> = events
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let value = serde_json::json!({
        "events": events,
        "containers": containers.iter().map(|c| &c.raw).collect::<Vec<_>>(),
    });
    let name = format!(
        "{project}-tune-{}.json",
        (super::engine::now() * 1000.0) as u64
    );
    let text = serde_json::to_string_pretty(&value).expect("a record serializes");
    // A record is an aid to whoever asked for it; failing to write one changes nothing else.
    let _ = std::fs::write(std::path::Path::new(&dir).join(name), text);
}

/// What the engine still holds of a stack that is running: each container's health log (the
/// last five probes) and its start, for `tune --running` when the events are gone too.
pub(crate) fn from_health_logs(containers: &[Container]) -> Run {
    let mut run = Run::default();
    for c in containers {
        let Some(h) = &c.state.health else {
            continue;
        };
        let start = timestamp(&c.state.started_at);
        let mut s = ServiceRun::default();
        for p in &h.log {
            if let Some(took) = p.took() {
                s.probes.push((took.as_secs_f64(), p.exit_code == 0));
            }
        }
        if let Some((after, failed)) = start.and_then(|t| super::board::first_pass(&h.log, t)) {
            // A log that lost probes before the first pass counts fewer failures than ran.
            s.failures_before_ready = failed;
            s.ready_after = Some(after);
        }
        run.services.insert(c.service().to_owned(), s);
    }
    run
}

/// The healthcheck timing proposed for one service, beside the one it has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proposal {
    pub service: String,
    pub today: Timing,
    /// The slowest start to the first pass over the runs that saw one, and how many did.
    pub slowest_ready: Option<f64>,
    pub ready: Vec<Option<f64>>,
    pub slowest_probe: Option<f64>,
    pub failures_before_ready: u32,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: u32,
}

impl Proposal {
    /// Kubernetes' startup probe for the proposed timing: `(periodSeconds, failureThreshold)`.
    pub(crate) fn startup_probe(&self) -> Option<(u64, u64)> {
        crate::emit::k8s::startup_probe(
            self.start_period.unwrap_or(self.today.start_period),
            self.start_interval.unwrap_or(self.today.start_interval),
        )
    }
}

/// How each proposal follows from the figures, as `tune` prints it and its profile records it.
pub(crate) const MARGIN: &str = "start_period: twice the slowest start plus 5s, rounded up to 5s (at least 30s for a kind slow to start); start_interval: the whole seconds that see the service ready soonest, summed over a start as slow as measured and one a quarter slower plus 1s, given how long its failed and passing probes took (the smaller of equals); timeout: kept, or raised to twice the slowest probe when one took more than half of it, up to 10s (above, muster check warns); retries: kept, raised to 2 more than the most failures seen after a first pass";

/// The timing each service of `services` needs, from every run: see [`MARGIN`].
pub(crate) fn propose(services: &[&Planned], runs: &[Run]) -> Vec<Proposal> {
    services
        .iter()
        .filter_map(|s| {
            let today = s.healthcheck?;
            let seen: Vec<&ServiceRun> = runs
                .iter()
                .filter_map(|r| r.services.get(&s.name))
                .collect();
            let ready: Vec<Option<f64>> = seen.iter().map(|r| r.ready_after).collect();
            let slowest_ready = ready.iter().flatten().copied().reduce(f64::max);
            let slowest_probe = seen
                .iter()
                .flat_map(|r| r.probes.iter().map(|(t, _)| *t))
                .reduce(f64::max);
            let failures_before_ready = seen
                .iter()
                .map(|r| r.failures_before_ready)
                .max()
                .unwrap_or(0);
            let flaps = seen
                .iter()
                .map(|r| r.failures_after_ready)
                .max()
                .unwrap_or(0);
            // A run in which it never passed says nothing of how long it needs.
            let all_ready = !ready.is_empty() && ready.iter().all(Option::is_some);
            let start_period = slowest_ready.filter(|_| all_ready).map(|t| {
                let floor = if s.slow_to_start { 30.0 } else { 0.0 };
                Duration::from_secs(round_up(2.0 * t + 5.0, 5.0).max(floor) as u64)
            });
            let start_interval = ready_at(&seen)
                .filter(|_| all_ready)
                .map(|(ready, failed, passed)| every(ready, failed, passed, today.start_interval));
            // A timeout only counts after start_period: lowering it gains little against a
            // busy host's slow probe, raising it is called for when a probe came near it.
            let lint_limit = Duration::from_secs(10).max(today.timeout);
            let timeout = slowest_probe.map(|p| {
                if p > today.timeout.as_secs_f64() / 2.0 {
                    Duration::from_secs(round_up(2.0 * p, 1.0) as u64)
                        .clamp(today.timeout, lint_limit)
                } else {
                    today.timeout
                }
            });
            Some(Proposal {
                service: s.name.clone(),
                today,
                slowest_ready,
                ready,
                slowest_probe,
                failures_before_ready,
                start_period,
                start_interval,
                timeout,
                retries: today.retries.max(if flaps > 0 { flaps + 2 } else { 0 }),
            })
        })
        .collect()
}

/// When the slowest service start was ready to pass (its first passing probe's start), and
/// the slowest failed and passing probes of all runs.
fn ready_at(runs: &[&ServiceRun]) -> Option<(f64, f64, f64)> {
    let mut ready: Option<f64> = None;
    let mut failed: f64 = 0.0;
    let mut passed: f64 = 0.0;
    for r in runs {
        let first = r.failures_before_ready as usize;
        for (i, (took, ok)) in r.probes.iter().enumerate() {
            if *ok {
                passed = passed.max(*took);
            } else if i < first {
                failed = failed.max(*took);
            }
        }
        let pass = r.probes.get(first).map_or(0.0, |(t, _)| *t);
        let at = r.ready_after? - pass;
        ready = Some(ready.map_or(at, |x: f64| x.max(at)));
    }
    // No failure seen: one would have taken at least as long as a pass.
    Some((ready?, failed.max(passed), passed))
}

/// The `start_interval`, in whole seconds, that sees a service ready soonest. The engine runs
/// the first probe one interval after the start and each next one an interval after the end of
/// the last, so a probe that fails slowly (one that waits for a reply, as `celery inspect ping`
/// does) makes probing early cost more than it gains. Judged by the sum of the two moments it
/// is seen ready: at the measured start, and at one a quarter slower plus a second; the smaller
/// of equal intervals.
pub(crate) fn every(ready: f64, failed: f64, passed: f64, today: Duration) -> Duration {
    let seen = |i: f64, ready: f64| {
        let mut t = i;
        while t < ready {
            t += failed + i;
        }
        t + passed
    };
    let slower = ready * 1.25 + 1.0;
    let most = (today.as_secs_f64().max(slower).ceil() as u64).max(1);
    let best = (1..=most)
        .map(|i| {
            let i = i as f64;
            (seen(i, ready) + seen(i, slower), i)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map_or(1.0, |(_, i)| i);
    Duration::from_secs(best as u64)
}

/// `x` rounded up to a multiple of `step`, with a millisecond's leeway for a value that is one.
fn round_up(x: f64, step: f64) -> f64 {
    ((x - 0.001) / step).ceil().max(0.0) * step
}

/// Today's date, `YYYY-MM-DD` in UTC, for the profile `--write` records.
pub(crate) fn today() -> String {
    civil_date(super::engine::now())
}

/// The UTC date of `seconds` since the epoch (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_date(seconds: f64) -> String {
    let days = (seconds / 86_400.0).floor() as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One start recorded on the engine (`tests/engine/live.rs`, `tune_running`): redis, and an
    /// api that listens 3 s after its start, probed every 2 s. The figures below are read off
    /// the events by hand.
    #[test]
    fn a_start_is_read_from_the_engine_s_events() {
        #[derive(Deserialize)]
        struct Recorded {
            events: Vec<Event>,
            containers: Vec<serde_json::Value>,
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/live/tune-livetune.json"
        );
        let rec: Recorded = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let containers: Vec<Container> = rec
            .containers
            .into_iter()
            .filter_map(Container::from_json)
            .collect();
        let run = measure(&rec.events, &containers);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 0.01);
        // redis: started at .498, its `/bin/sh -c redis-cli ...` probe passed at 67.651.
        let redis = &run.services["redis"];
        assert!(close(redis.ready_after, 2.153), "{redis:?}");
        assert_eq!(redis.probes.len(), 1);
        assert_eq!(redis.failures_before_ready, 0);
        // api: started at 68.528; refused at 70.941, passed at 73.377; muster's own `cat
        // /proc/net/tcp` in between is not a probe.
        let api = &run.services["api"];
        assert!(close(api.ready_after, 4.849), "{api:?}");
        assert_eq!(api.failures_before_ready, 1);
        assert_eq!(api.probes.len(), 2);
        assert!((api.probes[0].0 - 0.411).abs() < 0.01 && !api.probes[0].1);
        // From the first creation (64.918) to the last first pass (73.377).
        assert!(close(run.ready_in, 8.459), "{:?}", run.ready_in);
    }

    #[test]
    fn dates_are_the_calendar_s() {
        assert_eq!(civil_date(0.0), "1970-01-01");
        assert_eq!(civil_date(1_796_148_600.0), "2026-12-01");
        assert_eq!(civil_date(951_782_400.0), "2000-02-29");
    }

    #[test]
    fn rounding_goes_up_to_the_step_and_keeps_an_exact_one() {
        assert_eq!(round_up(21.2, 5.0), 25.0);
        assert_eq!(round_up(25.0, 5.0), 25.0);
        assert_eq!(round_up(0.3, 1.0), 1.0);
    }

    #[test]
    fn a_cheap_probe_is_run_each_second_and_a_slow_failing_one_once_the_service_is_ready() {
        // pg_isready: ready after 3.2s, a refusal answered at once.
        assert_eq!(
            every(3.2, 0.1, 0.1, Duration::from_secs(5)),
            Duration::from_secs(1)
        );
        // celery inspect ping: ready after 5s, a probe before that waits 9s for a reply.
        let celery = every(5.0, 9.0, 1.3, Duration::from_secs(5));
        assert_eq!(celery, Duration::from_secs(8));
        // Already there at the first probe: nothing to wait for.
        assert_eq!(
            every(0.4, 0.2, 0.2, Duration::from_secs(5)),
            Duration::from_secs(1)
        );
    }
}
