//! The board: each service's state as the engine reports it, read against the plan, in
//! dependency order. The same rows make the live display, `status`, and `--json`.

use super::engine::{Container, now, timestamp};
use super::plan::{Plan, Planned};
use crate::model::Condition;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Compose has not created its container (yet).
    Missing,
    Created,
    Starting,
    Healthy,
    Unhealthy,
    /// Running, with no healthcheck to say more.
    Running,
    Exited,
    Restarting,
    Paused,
}

/// Where a service stands towards the stack being up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Done,
    Pending,
    Failed,
    /// Not started, and never will be: it waits for a service that failed.
    Blocked,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub service: String,
    pub state: State,
    pub exit_code: Option<i64>,
    pub verdict: Verdict,
    /// Seconds since the container started; for one that exited, how long it ran.
    pub seconds: Option<f64>,
    pub restarts: u32,
    /// Consecutive failed and passed probes, and the retries that make it unhealthy.
    pub failing_streak: u32,
    /// Failed probes at the end of the health log that the engine did not count, as they ran
    /// during start_period.
    pub start_failures: u32,
    pub passing_streak: u32,
    pub retries: Option<u32>,
    /// The dependency it waits for, and for what, while it has not started.
    pub waiting_for: Option<Waiting>,
    /// The failed service it waits on, directly or through others, when it never will start.
    pub blocked_by: Option<String>,
    /// Seconds from its start to its first passing probe (to exit 0 for a job, to its start
    /// for a service without a healthcheck), when the engine's record still shows it.
    pub ready_after: Option<f64>,
    /// What its failing probes suggest while it may still come up (a diagnosis that waiting
    /// may cure, or one not yet proven); what it failed of, once it has.
    pub note: Option<String>,
    #[serde(skip)]
    pub container: Option<Container>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub service: String,
    /// `healthy`, `completed` or `started`, as the catalogue says it.
    pub condition: &'static str,
}

/// A restart policy without a limit that has restarted a container this often is a loop.
pub const RESTART_LOOP: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub project: String,
    pub profile: String,
    pub services: Vec<Row>,
    /// Seconds from the first container's creation to the last service's ready, once every
    /// service is.
    pub ready_in: Option<f64>,
}

impl Board {
    pub fn read(plan: &Plan, containers: &[Container]) -> Board {
        let mut rows: Vec<Row> = Vec::with_capacity(plan.services.len());
        for s in &plan.services {
            // One row per service: with replicas, the one furthest from ready speaks for all.
            let mine: Vec<&Container> = containers
                .iter()
                .filter(|c| c.service() == s.name)
                .collect();
            let row = mine
                .iter()
                .map(|c| row(s, Some(c)))
                .max_by_key(|r| rank(r.verdict))
                .unwrap_or_else(|| row(s, None));
            rows.push(row);
        }
        let done: Vec<(String, State, Option<i64>)> = rows
            .iter()
            .map(|r| (r.service.clone(), r.state, r.exit_code))
            .collect();
        for (r, s) in rows.iter_mut().zip(&plan.services) {
            if matches!(r.state, State::Missing | State::Created) {
                r.waiting_for = s
                    .depends_on
                    .iter()
                    .find(|w| {
                        let (_, state, exit) = done
                            .iter()
                            .find(|(n, _, _)| *n == w.target)
                            .cloned()
                            .unwrap_or((String::new(), State::Missing, None));
                        !met(w.condition, state, exit)
                    })
                    .map(|w| Waiting {
                        service: w.target.clone(),
                        condition: match w.condition {
                            Condition::Healthy => "healthy",
                            Condition::Completed => "completed",
                            Condition::Started => "started",
                        },
                    });
            }
        }
        let mut board = Board {
            project: plan.project.clone(),
            profile: plan.profile.clone(),
            services: rows,
            ready_in: None,
        };
        board.settle(plan);
        board
    }

    /// Marks a service failed on muster's word rather than the engine's (its probes prove a
    /// cause that time cannot cure, while its start_period still runs), with the cause's gist.
    pub fn fail(&mut self, plan: &Plan, service: &str, gist: &str) {
        if let Some(r) = self.services.iter_mut().find(|r| r.service == service) {
            r.verdict = Verdict::Failed;
            // `exited 1` twice says nothing more.
            r.note = (gist != r.state_text()).then(|| gist.to_owned());
        }
        self.settle(plan);
    }

    /// Shows what failing probes suggest of a service that may still come up.
    pub fn suspect(&mut self, service: &str, gist: &str) {
        if let Some(r) = self
            .services
            .iter_mut()
            .find(|r| r.service == service && r.verdict == Verdict::Pending)
        {
            r.note = Some(format!("suspect: {gist}"));
        }
    }

    /// Keeps what an earlier look at the same containers saw and this one no longer can: a
    /// service's time to ready, read from a health log that keeps five probes.
    pub fn remember(&mut self, earlier: &Board) {
        for r in &mut self.services {
            let Some(old) = earlier.row(&r.service) else {
                continue;
            };
            let same = r.container.as_ref().map(|c| &c.id) == old.container.as_ref().map(|c| &c.id);
            if same && r.ready_after.is_none() && r.verdict == Verdict::Done {
                r.ready_after = old.ready_after;
            }
        }
        self.ready_in = self.total();
    }

    /// Blocks what waits on a failed service, and totals the time to ready once all are.
    fn settle(&mut self, plan: &Plan) {
        // Rows are in dependency order: a dependency's verdict is final before its dependents'.
        for i in 0..self.services.len() {
            let r = &self.services[i];
            if r.verdict != Verdict::Pending || !matches!(r.state, State::Missing | State::Created)
            {
                continue;
            }
            let Some(s) = plan.service(&r.service) else {
                continue;
            };
            let root = s.depends_on.iter().find_map(|w| {
                let d = self.row(&w.target)?;
                match d.verdict {
                    Verdict::Blocked => d.blocked_by.clone(),
                    Verdict::Failed
                        if w.condition != Condition::Started
                            || matches!(d.state, State::Missing | State::Created) =>
                    {
                        Some(d.service.clone())
                    }
                    _ => None,
                }
            });
            if let Some(root) = root {
                self.services[i].verdict = Verdict::Blocked;
                self.services[i].blocked_by = Some(root);
            }
        }
        self.ready_in = self.total();
    }

    /// From the first container's creation to the last service's ready, when all are.
    fn total(&self) -> Option<f64> {
        let mut first: Option<f64> = None;
        let mut last: Option<f64> = None;
        for r in &self.services {
            if r.verdict != Verdict::Done {
                return None;
            }
            let c = r.container.as_ref()?;
            let created = timestamp(&c.created)?;
            let ready = timestamp(&c.state.started_at)? + r.ready_after?;
            first = Some(first.map_or(created, |f: f64| f.min(created)));
            last = Some(last.map_or(ready, |l: f64| l.max(ready)));
        }
        Some(last? - first?)
    }

    pub fn verdict(&self) -> Verdict {
        if self.services.iter().any(|r| r.verdict == Verdict::Failed) {
            Verdict::Failed
        } else if self.services.iter().all(|r| r.verdict == Verdict::Done) {
            Verdict::Done
        } else {
            Verdict::Pending
        }
    }

    /// Nothing more can change the outcome: every service is ready, failed, or waits on one
    /// that failed.
    pub fn settled(&self) -> bool {
        self.services.iter().all(|r| r.verdict != Verdict::Pending)
    }

    pub fn row(&self, service: &str) -> Option<&Row> {
        self.services.iter().find(|r| r.service == service)
    }

    /// The board as lines of text, a header first.
    pub fn lines(&self, elapsed: Option<f64>) -> Vec<String> {
        let done = self
            .services
            .iter()
            .filter(|r| r.verdict == Verdict::Done)
            .count();
        let mut head = format!(
            "{} (profile {}): {done} of {} ready",
            self.project,
            self.profile,
            self.services.len()
        );
        if let Some(t) = self.ready_in {
            let _ = write!(head, " in {}", precise(t));
        }
        if let Some(t) = elapsed {
            let _ = write!(head, ", {}", seconds(t));
        }
        let cells: Vec<[String; 6]> = self
            .services
            .iter()
            .map(|r| {
                [
                    r.service.clone(),
                    r.state_text(),
                    r.seconds.map_or_else(|| "-".to_owned(), seconds),
                    r.ready_after.map_or_else(|| "-".to_owned(), precise),
                    r.probe_text(),
                    r.note_text(),
                ]
            })
            .collect();
        let titles = ["SERVICE", "STATE", "SINCE", "READY", "PROBE", "NOTE"];
        let width = |i: usize| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([titles[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..5).map(width).collect();
        let line = |c: [&str; 6]| {
            let mut l = String::from(" ");
            for (i, cell) in c.iter().enumerate().take(5) {
                let _ = write!(l, " {cell:w$} ", w = widths[i]);
            }
            l.push(' ');
            l.push_str(c[5]);
            l.trim_end().to_owned()
        };
        let mut lines = vec![head, line(titles)];
        for c in &cells {
            lines.push(line([&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]]));
        }
        lines
    }
}

impl Row {
    pub fn state_text(&self) -> String {
        match (self.state, self.exit_code) {
            (State::Exited, Some(code)) => format!("exited {code}"),
            (State::Missing, _) => "not created".to_owned(),
            (State::Starting, _) if self.verdict == Verdict::Failed => "failing".to_owned(),
            (state, _) => serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    fn probe_text(&self) -> String {
        match self.retries {
            None => "-".to_owned(),
            Some(_) if self.container.is_none() || self.state == State::Created => "-".to_owned(),
            Some(retries) if self.failing_streak > 0 => {
                format!("{}/{retries} failed", self.failing_streak)
            }
            Some(_) if self.start_failures > 0 => {
                format!("{} failed in start_period", self.start_failures)
            }
            Some(_) if self.passing_streak > 0 => format!("{} passed", self.passing_streak),
            Some(_) => "not yet run".to_owned(),
        }
    }

    /// What the board's last column says: what it waits for, its restarts, what its probes
    /// suggest or what it failed of.
    pub fn note_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(root) = &self.blocked_by {
            parts.push(format!("never starts: {root} failed"));
        } else if let Some(w) = &self.waiting_for {
            parts.push(format!("waits for {} ({})", w.service, w.condition));
        }
        if self.restarts > 0 {
            parts.push(format!("restarted {}x", self.restarts));
        }
        parts.extend(self.note.clone());
        parts.join("; ")
    }
}

/// A measured time to the tenth of a second: `8.4s`, `1m02.5s`.
pub fn precise(t: f64) -> String {
    let t = t.max(0.0);
    if t >= 60.0 {
        format!("{}m{:04.1}s", (t / 60.0) as u64, t % 60.0)
    } else {
        format!("{t:.1}s")
    }
}

pub fn seconds(t: f64) -> String {
    let t = t.max(0.0) as u64;
    if t >= 60 {
        format!("{}m{:02}s", t / 60, t % 60)
    } else {
        format!("{t}s")
    }
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Done => 0,
        Verdict::Pending => 1,
        Verdict::Blocked => 2,
        Verdict::Failed => 3,
    }
}

/// Whether a dependency in `state` satisfies what its dependent waits for.
fn met(condition: Condition, state: State, exit: Option<i64>) -> bool {
    match condition {
        Condition::Healthy => state == State::Healthy,
        Condition::Completed => state == State::Exited && exit == Some(0),
        Condition::Started => !matches!(state, State::Missing | State::Created),
    }
}

fn row(s: &Planned, c: Option<&Container>) -> Row {
    let retries = s.healthcheck.map(|h| h.retries);
    let Some(c) = c else {
        return Row {
            service: s.name.clone(),
            state: State::Missing,
            exit_code: None,
            verdict: Verdict::Pending,
            seconds: None,
            restarts: 0,
            failing_streak: 0,
            start_failures: 0,
            passing_streak: 0,
            retries,
            waiting_for: None,
            blocked_by: None,
            ready_after: None,
            note: None,
            container: None,
        };
    };
    let health = c.state.health.as_ref();
    let state = match c.state.status.as_str() {
        "created" => State::Created,
        "restarting" => State::Restarting,
        "paused" => State::Paused,
        "exited" | "dead" | "removing" => State::Exited,
        _ => match health.map(|h| h.status.as_str()) {
            Some("healthy") => State::Healthy,
            Some("unhealthy") => State::Unhealthy,
            Some("starting") => State::Starting,
            _ => State::Running,
        },
    };
    let exit_code = (state == State::Exited).then_some(c.state.exit_code);
    let started = timestamp(&c.state.started_at);
    let seconds = match state {
        State::Exited => started
            .zip(timestamp(&c.state.finished_at))
            .map(|(s, f)| f - s),
        State::Missing | State::Created => None,
        _ => started.map(|s| now() - s),
    };
    let restarts = c.restart_count;
    let looping = s.restart_limit.is_none() && restarts >= RESTART_LOOP;
    let verdict = match state {
        State::Healthy => Verdict::Done,
        // A job is done when it exits 0, not while it runs.
        State::Running if s.healthcheck.is_none() && !s.job && !looping => Verdict::Done,
        State::Exited if s.job && exit_code == Some(0) => Verdict::Done,
        State::Unhealthy | State::Exited => Verdict::Failed,
        _ if looping => Verdict::Failed,
        _ => Verdict::Pending,
    };
    let passing_streak = health.map_or(0, |h| {
        h.log.iter().rev().take_while(|p| p.exit_code == 0).count() as u32
    });
    let failing_streak = health.map_or(0, |h| h.failing_streak);
    let start_failures = health.map_or(0, |h| {
        let failed = h.log.iter().rev().take_while(|p| p.exit_code != 0).count() as u32;
        failed.saturating_sub(failing_streak)
    });
    let ready_after = match (state, started) {
        (State::Exited, Some(start)) if verdict == Verdict::Done => {
            timestamp(&c.state.finished_at).map(|f| f - start)
        }
        (State::Running, Some(_)) if verdict == Verdict::Done => Some(0.0),
        (State::Healthy, Some(start)) => {
            health.and_then(|h| first_pass(&h.log, start).map(|(t, _)| t))
        }
        _ => None,
    };
    Row {
        service: s.name.clone(),
        state,
        exit_code,
        verdict,
        seconds,
        restarts,
        failing_streak,
        start_failures,
        passing_streak,
        retries,
        waiting_for: None,
        blocked_by: None,
        ready_after,
        note: None,
        container: Some(c.clone()),
    }
}

/// Seconds from `start` to the end of the first passing probe after it, when the health log
/// shows which that was. The engine keeps the last five probes; the first pass is the one
/// after a failure (a pass turns the service healthy at once, and failures after it fewer than
/// `retries` keep it so), or the first of a log that has lost nothing.
pub(crate) fn first_pass(log: &[super::engine::Probe], start: f64) -> Option<(f64, u32)> {
    let since: Vec<&super::engine::Probe> = log
        .iter()
        .filter(|p| timestamp(&p.start).is_some_and(|t| t >= start))
        .collect();
    let pass = since.iter().position(|p| p.exit_code == 0)?;
    if pass == 0 && since.len() >= 5 {
        return None;
    }
    Some((timestamp(&since[pass].end)? - start, pass as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostics, Sources};
    use crate::pipeline::{self, Session};
    use crate::profile::Profiles;
    use std::path::Path;

    const CATALOGUE: &str = r#"
[project]
name = "t"

[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }

[services.migrate]
kind = "job"
image = "python:3.12-slim"
depends_on = ["db"]

[services.web]
kind = "http"
image = "python:3.12-slim"
depends_on = ["migrate"]
"#;

    fn plan() -> Plan {
        let mut session = Session::default();
        let catalogue = crate::catalogue::Catalogue::parse(
            Path::new("services.toml"),
            CATALOGUE.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        let profiles =
            Profiles::load(None, &mut Sources::default(), &mut Diagnostics::default()).unwrap();
        let stack = pipeline::build(
            catalogue,
            &profiles,
            &crate::kinds::Kinds::built_in(),
            Some("dev"),
            crate::resolve::Provenance::Record,
            &mut session,
        )
        .expect("the catalogue is valid");
        Plan::new(&stack, &session.sources, "t")
    }

    fn container(service: &str, state: &str) -> Container {
        let json = format!(
            r#"{{"Id": "{service}0000000000", "RestartCount": 0,
                 "State": {state},
                 "Config": {{"Labels": {{"com.docker.compose.service": "{service}"}}}}}}"#
        );
        serde_json::from_str(&json).expect("inspect JSON")
    }

    #[test]
    fn a_dependent_waits_for_the_first_dependency_not_yet_ready() {
        let plan = plan();
        let names: Vec<&str> = plan.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "migrate", "web"]);
        let healthy = r#"{"Status": "running", "StartedAt": "2026-12-01T18:00:00Z",
            "Health": {"Status": "healthy", "FailingStreak": 0, "Log": []}}"#;
        let board = Board::read(
            &plan,
            &[
                container("db", healthy),
                container(
                    "migrate",
                    r#"{"Status": "created", "StartedAt": "0001-01-01T00:00:00Z"}"#,
                ),
            ],
        );
        let web = board.row("web").unwrap();
        assert_eq!(web.state, State::Missing);
        assert_eq!(web.waiting_for.as_ref().unwrap().service, "migrate");
        assert_eq!(
            board
                .row("migrate")
                .unwrap()
                .waiting_for
                .as_ref()
                .map(|w| w.condition),
            None
        );
        assert_eq!(board.verdict(), Verdict::Pending);
    }

    #[test]
    fn a_job_that_exited_0_is_done_and_one_that_failed_fails_the_board() {
        let plan = plan();
        let exited = |code: i32| {
            format!(
                r#"{{"Status": "exited", "ExitCode": {code}, "StartedAt": "2026-12-01T18:00:00Z",
                    "FinishedAt": "2026-12-01T18:00:04Z"}}"#
            )
        };
        let ok = Board::read(&plan, &[container("migrate", &exited(0))]);
        let migrate = ok.row("migrate").unwrap();
        assert_eq!(
            (migrate.verdict, migrate.state_text()),
            (Verdict::Done, "exited 0".into())
        );
        assert_eq!(migrate.seconds, Some(4.0));
        let failed = Board::read(&plan, &[container("migrate", &exited(3))]);
        assert_eq!(failed.verdict(), Verdict::Failed);
    }

    #[test]
    fn restarts_past_the_loop_limit_fail_a_service_without_a_restart_limit() {
        let plan = plan();
        let mut web = container(
            "web",
            r#"{"Status": "restarting", "ExitCode": 1, "StartedAt": "2026-12-01T18:00:00Z"}"#,
        );
        let board = Board::read(&plan, std::slice::from_ref(&web));
        assert_eq!(board.row("web").unwrap().verdict, Verdict::Pending);
        web.restart_count = RESTART_LOOP;
        let board = Board::read(&plan, &[web]);
        assert_eq!(board.row("web").unwrap().verdict, Verdict::Failed);
    }
}
