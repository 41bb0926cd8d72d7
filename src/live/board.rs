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
        Board {
            project: plan.project.clone(),
            profile: plan.profile.clone(),
            services: rows,
        }
    }

    /// Marks a service failed on muster's word rather than the engine's (a probe failing for
    /// a reason time cannot fix, while its start_period still runs).
    pub fn fail(&mut self, service: &str) {
        if let Some(r) = self.services.iter_mut().find(|r| r.service == service) {
            r.verdict = Verdict::Failed;
        }
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
        if let Some(t) = elapsed {
            let _ = write!(head, ", {}", seconds(t));
        }
        let cells: Vec<[String; 5]> = self
            .services
            .iter()
            .map(|r| {
                [
                    r.service.clone(),
                    r.state_text(),
                    r.seconds.map_or_else(|| "-".to_owned(), seconds),
                    r.probe_text(),
                    r.note(),
                ]
            })
            .collect();
        let titles = [
            "SERVICE",
            "STATE",
            "SINCE",
            "PROBE",
            "WAITING FOR / RESTARTS",
        ];
        let width = |i: usize| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([titles[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..4).map(width).collect();
        let line = |c: [&str; 5]| {
            let mut l = String::from(" ");
            for (i, cell) in c.iter().enumerate().take(4) {
                let _ = write!(l, " {cell:w$} ", w = widths[i]);
            }
            l.push(' ');
            l.push_str(c[4]);
            l.trim_end().to_owned()
        };
        let mut lines = vec![head, line(titles)];
        for c in &cells {
            lines.push(line([&c[0], &c[1], &c[2], &c[3], &c[4]]));
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

    fn note(&self) -> String {
        let mut note = match &self.waiting_for {
            Some(w) => format!("{} ({})", w.service, w.condition),
            None => String::new(),
        };
        if self.restarts > 0 {
            if !note.is_empty() {
                note.push_str("; ");
            }
            let _ = write!(note, "restarted {}x", self.restarts);
        }
        note
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
        Verdict::Failed => 2,
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
        State::Running if s.healthcheck.is_none() && !looping => Verdict::Done,
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
        container: Some(c.clone()),
    }
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
