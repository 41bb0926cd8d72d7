//! Why a service is not up, told from what the engine recorded (the health log's outputs and
//! exit codes, the container's state and last log lines), what muster knows of the service (its
//! probe, its image's tools, its timing, its dependencies), and, where the record is not enough,
//! a look inside the container (which programs it has, which ports it listens on, what the
//! probe's own command answers). Each diagnosis points at the catalogue line to change.

use super::board::{Board, Row, State, Verdict};
use super::engine::{Container, Engine, Probe, now, timestamp};
use super::plan::{Fix, Plan, Planned};
use crate::diagnostic::Diagnostic;
use crate::probe::{HttpClient, Probe as ProbeKind};
use serde::Serialize;
use std::time::Duration;

/// One service's diagnosis: a muster diagnostic, and its gist for `--json`.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub service: String,
    /// A short name of the cause (`probe-tool-missing`, `wrong-port`, ...).
    pub cause: &'static str,
    pub diagnostic: Diagnostic,
}

#[derive(Debug, Serialize)]
pub struct DiagnosisJson {
    pub service: String,
    pub cause: &'static str,
    pub message: String,
    pub notes: Vec<String>,
    pub file: String,
    pub line: Option<usize>,
}

/// What a probe run by hand said, for `doctor`: read like the engine's own log entries.
pub struct Manual {
    pub output: String,
    pub exit: Option<i32>,
    pub took: Duration,
}

/// Causes that more start time cannot fix: once two probes in a row fail for one of them, the
/// service has failed, whatever its `start_period` still allows.
pub const HOPELESS: &[&str] = &[
    "probe-tool-missing",
    "redis-noauth",
    "http-400",
    "http-redirect",
];

/// Diagnoses every failed service of `board`, and, when `all` (a deadline passed), the ones
/// still pending too.
pub fn diagnose(plan: &Plan, board: &Board, engine: &Engine, all: bool) -> Vec<Diagnosis> {
    board
        .services
        .iter()
        .filter(|r| r.verdict == Verdict::Failed || (all && r.verdict == Verdict::Pending))
        .chain(board.services.iter().filter(|r| {
            r.verdict == Verdict::Pending && !all && blocked_by_failure(board, r).is_some()
        }))
        .filter_map(|r| {
            let s = plan.service(&r.service)?;
            Some(one(plan, board, engine, s, r, None))
        })
        .collect()
}

/// The diagnosis of one service, with a probe run by hand when `doctor` ran one.
pub fn one(
    plan: &Plan,
    board: &Board,
    engine: &Engine,
    s: &Planned,
    r: &Row,
    manual: Option<&Manual>,
) -> Diagnosis {
    let found = if let Some(d) = waiting(board, s, r) {
        d
    } else if let Some(c) = &r.container {
        container(plan, engine, s, r, c, manual)
    } else {
        finding(
            "not-created",
            format!("`{}` has no container", s.name),
            plan.fix(s, "", "this service", "this service"),
        )
        .note("Compose did not create it; its output above says why")
    };
    Diagnosis {
        service: s.name.clone(),
        cause: found.cause,
        diagnostic: found.into_diagnostic(),
    }
}

/// A diagnosis being put together.
struct Finding {
    cause: &'static str,
    message: String,
    fix: Fix,
    notes: Vec<String>,
}

fn finding(cause: &'static str, message: String, fix: Fix) -> Finding {
    Finding {
        cause,
        message,
        fix,
        notes: Vec::new(),
    }
}

impl Finding {
    fn note(mut self, note: impl Into<String>) -> Finding {
        self.notes.push(note.into());
        self
    }

    fn notes(mut self, notes: impl IntoIterator<Item = String>) -> Finding {
        self.notes.extend(notes);
        self
    }

    fn into_diagnostic(self) -> Diagnostic {
        let mut d = Diagnostic::error(self.message).with_label(self.fix.label);
        if let Some(n) = self.fix.note {
            d = d.with_note(n);
        }
        for n in self.notes {
            d = d.with_note(n);
        }
        d
    }
}

/// The failed service at the end of the chain `r` waits on, if any.
fn blocked_by_failure<'b>(board: &'b Board, r: &Row) -> Option<&'b Row> {
    let mut seen = vec![r.service.clone()];
    let mut at = board.row(&r.waiting_for.as_ref()?.service)?;
    loop {
        if at.verdict == Verdict::Failed {
            return Some(at);
        }
        let next = at.waiting_for.as_ref()?;
        if seen.contains(&next.service) {
            return None;
        }
        seen.push(at.service.clone());
        at = board.row(&next.service)?;
    }
}

/// A service that never started because what it waits for is not there: the chain to the root.
fn waiting(board: &Board, s: &Planned, r: &Row) -> Option<Finding> {
    if !matches!(r.state, State::Missing | State::Created) {
        return None;
    }
    let w = r.waiting_for.as_ref()?;
    let wait = s.depends_on.iter().find(|d| d.target == w.service)?;
    let mut chain = vec![s.name.clone()];
    let mut at = board.row(&w.service)?;
    chain.push(at.service.clone());
    while let Some(next) = at.waiting_for.as_ref() {
        if chain.contains(&next.service) {
            break;
        }
        chain.push(next.service.clone());
        at = board.row(&next.service)?;
    }
    let root = at;
    let what = match wait.condition {
        crate::model::Condition::Healthy => "to be healthy",
        crate::model::Condition::Completed => "to complete successfully",
        crate::model::Condition::Started => "to start",
    };
    let message = format!(
        "`{}` never started: it waits for `{}` {what}, and `{}` {}",
        s.name,
        w.service,
        root.service,
        phrase(root)
    );
    let fix = Fix {
        label: crate::diagnostic::Label::new(wait.source, wait.span.clone(), "waits for this"),
        note: None,
    };
    let mut f = finding("dependency-failed", message, fix);
    if chain.len() > 2 {
        f = f.note(format!("the chain: {}", chain.join(" -> ")));
    }
    let root_note = if root.verdict == Verdict::Failed {
        format!("the root cause is `{}`: see its diagnosis", root.service)
    } else {
        format!("`{}` is not up yet", root.service)
    };
    Some(f.note(root_note))
}

/// A row's state as the end of a sentence about it: "exited 3", "is unhealthy".
fn phrase(r: &Row) -> String {
    match r.state {
        State::Exited => r.state_text(),
        State::Missing => "was never created".to_owned(),
        _ => format!("is {}", r.state_text()),
    }
}

fn container(
    plan: &Plan,
    engine: &Engine,
    s: &Planned,
    r: &Row,
    c: &Container,
    manual: Option<&Manual>,
) -> Finding {
    let header = |msg: &str| plan.fix(s, "", msg, msg);
    // Killed: by the kernel's OOM killer, or by a SIGKILL from outside.
    if c.state.oom_killed || (c.state.exit_code == 137 && r.state != State::Healthy) {
        let why = if c.state.oom_killed {
            "the kernel killed it for using more memory than it may (OOMKilled)"
        } else {
            "it was killed with SIGKILL: most often the kernel's OOM killer"
        };
        return finding(
            "killed",
            format!("`{}` exited 137: {why}", s.name),
            plan.fix(
                s,
                "compose",
                "give it more memory here",
                "give it more memory: compose = { mem_limit = \"1g\" }",
            ),
        )
        .note("raise its memory limit (`mem_limit`, `deploy.resources.limits.memory`) or lower its use")
        .notes(log_notes(engine, c));
    }
    let looping = s.restart_limit.is_none() && r.restarts >= super::board::RESTART_LOOP;
    if looping || r.state == State::Restarting {
        return finding(
            "restart-loop",
            format!(
                "`{}` is restarting in a loop: {} restarts, last exit {}",
                s.name, r.restarts, c.state.exit_code
            ),
            plan.fix(
                s,
                "command",
                "the command that keeps exiting",
                "this service keeps exiting",
            ),
        )
        .note("its last log lines say why it exits:")
        .notes(log_notes(engine, c));
    }
    if r.state == State::Exited {
        return exited(plan, engine, s, r, c, header);
    }
    if r.state == State::Created || r.state == State::Missing {
        return finding(
            "not-started",
            format!("`{}` was created but never started", s.name),
            header("this service"),
        )
        .note("Compose's output above says why");
    }
    let mut probes: Vec<Probe> = c
        .state
        .health
        .as_ref()
        .map(|h| h.log.clone())
        .unwrap_or_default();
    if let Some(m) = manual {
        probes.push(Probe {
            start: String::new(),
            end: String::new(),
            exit_code: m.exit.map_or(-1, i64::from),
            output: m.output.clone(),
        });
    }
    let failed: Vec<&Probe> = probes.iter().filter(|p| p.exit_code != 0).collect();
    if failed.is_empty() && r.restarts > 0 {
        // It crashed and came back: what it said before its last start is why.
        let before = engine.logs_before(&c.id, &c.state.started_at, 10);
        return finding(
            "restarted",
            format!(
                "`{}` exited and was restarted {} time(s); Compose saw it unhealthy meanwhile",
                s.name, r.restarts
            ),
            header("this service"),
        )
        .note("its last log lines before the restart:")
        .notes(before.into_iter().map(|l| format!("  | {l}")));
    }
    let Some(last) = failed.last().copied() else {
        return finding(
            "not-healthy-yet",
            format!("`{}` is {} and no probe has failed", s.name, r.state_text()),
            header("this service"),
        );
    };
    let history = probe_notes(&probes, s, manual);
    probe(plan, engine, s, c, last, manual).notes(history)
}

fn exited(
    plan: &Plan,
    engine: &Engine,
    s: &Planned,
    r: &Row,
    c: &Container,
    header: impl Fn(&str) -> Fix,
) -> Finding {
    let code = c.state.exit_code;
    let logs = engine.logs(&c.id, 12);
    let text = logs.join("\n").to_lowercase();
    let dependents: Vec<&str> = {
        let mut d = Vec::new();
        let mut stack = vec![s.name.as_str()];
        while let Some(n) = stack.pop() {
            for dep in plan.dependents(n) {
                if !d.contains(&dep.name.as_str()) {
                    d.push(dep.name.as_str());
                    stack.push(dep.name.as_str());
                }
            }
        }
        d
    };
    let what = if s.job { "the job" } else { "it" };
    let mut message = format!("`{}` exited {code}", s.name);
    if r.restarts > 0 {
        message.push_str(&format!(" after {} restarts", r.restarts));
    }
    if !dependents.is_empty() && s.job {
        message.push_str(&format!(
            ", so {} never start",
            dependents
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut f = if code == 0 && !s.job {
        finding(
            "exited",
            format!(
                "`{}` exited 0: a service that should keep running stopped",
                s.name
            ),
            header("this service"),
        )
    } else {
        finding(
            "exited",
            message,
            plan.fix(s, "command", "the command that failed", "this service"),
        )
    };
    if text.contains("password authentication failed") || text.contains("access denied") {
        f = f.note(format!(
            "{what} could not log in to its database: check the password in its `env` against the database's"
        ));
    } else if text.contains("connection refused")
        || text.contains("could not connect")
        || text.contains("could not translate host name")
        || text.contains("database connection failed")
    {
        f = f.note(format!(
            "{what} could not reach a dependency: check `depends_on` names it, and that the dependency's healthcheck proves it accepts connections"
        ));
    }
    if logs.is_empty() {
        f.note("it printed nothing")
    } else {
        f.note("its last log lines:")
            .notes(logs.iter().map(|l| format!("  | {l}")))
    }
}

/// The diagnosis of a failing probe, from its last failure.
fn probe(
    plan: &Plan,
    engine: &Engine,
    s: &Planned,
    c: &Container,
    last: &Probe,
    manual: Option<&Manual>,
) -> Finding {
    let out = last.output.to_lowercase();
    let timing = s.healthcheck;
    let timeout = timing.map(|t| t.timeout);
    // 1. The probe's program is not in the image.
    if let Some(tool) = missing_tool(&last.output, last.exit_code) {
        let has = clients(engine, c);
        let wanted = [
            HttpClient::Curl,
            HttpClient::Wget,
            HttpClient::Python,
            HttpClient::BashTcp,
        ]
        .into_iter()
        .find(|cl| has.iter().any(|h| h == cl.program()));
        let is_http = matches!(s.probe, ProbeKind::Http(_));
        let (add, change) = match (is_http, wanted) {
            (true, Some(cl)) => (
                format!(
                    "add `probe = \"{}\"`: the container has `{}`",
                    cl.name(),
                    cl.program()
                ),
                format!(
                    "set `probe = \"{}\"`: the container has `{}`",
                    cl.name(),
                    cl.program()
                ),
            ),
            // No client at all: the one muster mounts needs nothing from the image.
            (true, None) => (
                "add `probe = \"mounted\"`: the container has none of curl, wget, python and \
                 bash, and muster mounts a client of its own"
                    .to_owned(),
                "set `probe = \"mounted\"`: the container has none of curl, wget, python and bash"
                    .to_owned(),
            ),
            (false, _) => (
                "set `healthcheck.test` to a command the image has".to_owned(),
                "change this probe".to_owned(),
            ),
        };
        let key = if is_http { "probe" } else { "healthcheck.test" };
        let assumed = if s.tools.is_none() && s.image.is_none() {
            " (for a `build`, muster assumes a python-slim base)"
        } else {
            ""
        };
        return finding(
            "probe-tool-missing",
            format!(
                "the probe of `{}` runs `{tool}`, which its image does not have{assumed}",
                s.name
            ),
            plan.fix(s, key, &change, &add),
        )
        .note(if has.is_empty() {
            "the container has none of curl, wget, python, bash".to_owned()
        } else {
            format!("the container has: {}", has.join(", "))
        });
    }
    // 2. The probe ran out of time.
    let took = last.took();
    let timed_out = out.contains("exceeded timeout")
        || out.contains("context deadline exceeded")
        || out.contains("timed out")
        || manual.is_some_and(|m| m.exit.is_none() || timeout.is_some_and(|t| m.took > t))
        || matches!((took, timeout), (Some(t), Some(limit)) if t >= limit);
    if timed_out {
        let limit = timeout.map_or_else(|| "30s (Docker's default)".to_owned(), secs);
        let detail = match (manual, took) {
            (Some(m), _) if m.exit.is_none() => {
                format!(": run now, it had not finished after {}", secs(m.took))
            }
            (Some(m), _) => format!(": run now, it took {}", secs(m.took)),
            (None, Some(t)) => format!(": the engine stopped it after {}", secs(t)),
            (None, None) => String::new(),
        };
        return finding(
            "probe-timeout",
            format!(
                "the probe of `{}` does not answer within its timeout of {limit}{detail}",
                s.name
            ),
            plan.fix(
                s,
                "healthcheck.timeout",
                "raise this timeout",
                "raise `healthcheck.timeout` here",
            ),
        )
        .note("\"context deadline exceeded\": raise `timeout`, or `start_period` if it happens only while the service starts");
    }
    // 3. Redis or Valkey with a password the probe does not send.
    let redis = matches!(s.engine.as_deref(), Some("redis" | "valkey"));
    if redis && (out.contains("noauth") || redis_says_noauth(engine, s, c)) {
        return finding(
            "redis-noauth",
            format!(
                "the probe of `{}` is refused with NOAUTH: the server wants a password and the probe sends none",
                s.name
            ),
            plan.fix(
                s,
                "env.REDISCLI_AUTH",
                "add REDISCLI_AUTH to this env",
                "add `env = { REDISCLI_AUTH = \"${REDIS_PASSWORD}\" }` here",
            ),
        )
        .note("the probe is `redis-cli ping | grep -q PONG`: redis-cli reads the password from REDISCLI_AUTH, never from argv")
        .note("`redis-cli ping` itself exits 0 on NOAUTH; muster's probe checks the reply for PONG");
    }
    // 4. An HTTP answer that is not 2xx.
    if let Some(status) = http_status(&last.output) {
        return http(plan, engine, s, c, status);
    }
    // 5. Nothing answers on the probed port.
    if refused(&out) {
        return refused_finding(plan, engine, s, c, last);
    }
    let code = last.exit_code;
    finding(
        "probe-failed",
        format!("the probe of `{}` fails with exit {code}", s.name),
        plan.fix(s, "healthcheck.test", "the probe", "this service's probe"),
    )
}

fn http(plan: &Plan, engine: &Engine, s: &Planned, c: &Container, status: u16) -> Finding {
    let path = s.health_path.as_deref().unwrap_or("/");
    let port = s.port.unwrap_or(80);
    let django = s.env.keys().any(|k| k.starts_with("DJANGO"))
        || s.command.iter().any(|w| {
            w.ends_with("manage.py")
                || w.contains("wsgi")
                || w.contains("asgi")
                || w == "django-admin"
        });
    if status == 400 {
        let message = format!(
            "`{}` answers 400 Bad Request to its probe on {path}",
            s.name
        );
        if django {
            return finding(
                "http-400",
                message,
                plan.fix(
                    s,
                    "env.DJANGO_ALLOWED_HOSTS",
                    "put 127.0.0.1 in ALLOWED_HOSTS",
                    "add `DJANGO_ALLOWED_HOSTS = \"127.0.0.1\"` to its env",
                ),
            )
            .note(
                "Django answers 400 to a Host it does not allow; the probe asks for 127.0.0.1: \
                 ALLOWED_HOSTS must admit `127.0.0.1`",
            );
        }
        return finding(
            "http-400",
            message,
            plan.fix(
                s,
                "env",
                "allow the Host 127.0.0.1 here",
                "this service must allow the Host 127.0.0.1",
            ),
        )
        .note(
            "a 400 to a plain GET is most often a Host check (Django's ALLOWED_HOSTS, Rails' \
             config.hosts): the probe asks for 127.0.0.1, which must be allowed",
        );
    }
    if (300..400).contains(&status) {
        let location = location(engine, c, port, path);
        let to = location
            .as_deref()
            .map_or_else(String::new, |l| format!(" to {l}"));
        let login = location
            .as_deref()
            .is_some_and(|l| l.to_lowercase().contains("login"));
        let mut f = finding(
            "http-redirect",
            format!(
                "`{}` answers its probe on {path} with a redirect ({status}){to}",
                s.name
            ),
            plan.fix(
                s,
                "health_path",
                "probe a path that answers 200 itself",
                "set `health_path` to a path that answers 200 without a login",
            ),
        )
        .note("a health path that redirects is not healthy: curl and python probes fail on a redirect");
        if login {
            f = f.note("it redirects to a login page: health endpoints must not need a login");
        }
        return f;
    }
    finding(
        "http-status",
        format!("`{}` answers {status} to its probe on {path}", s.name),
        plan.fix(
            s,
            "health_path",
            "the path probed",
            "set `health_path` to the service's health endpoint",
        ),
    )
}

fn refused_finding(
    plan: &Plan,
    engine: &Engine,
    s: &Planned,
    c: &Container,
    last: &Probe,
) -> Finding {
    let port = s.port;
    let listening = listening_ports(engine, c);
    let started = timestamp(&c.state.started_at);
    let age = started.map(|t| now() - t);
    let at = timestamp(&last.start).zip(started).map(|(p, s)| p - s);
    let start_period = s.healthcheck.map(|t| t.start_period).unwrap_or_default();
    let port_text = port.map_or_else(|| "its port".to_owned(), |p| format!("port {p}"));
    let others: Vec<u16> = listening
        .iter()
        .copied()
        .filter(|p| Some(*p) != port)
        .collect();
    let listens_now = port.is_some_and(|p| listening.contains(&p));
    let platform = "\"connection refused\": nothing listened yet; the service needs more start time (`start_period`)";
    if !listens_now && !others.is_empty() {
        let shown: Vec<String> = others.iter().map(u16::to_string).collect();
        return finding(
            "wrong-port",
            format!(
                "the probe of `{}` is refused on {port_text}, but the service listens on {}",
                s.name,
                shown.join(", ")
            ),
            plan.fix(
                s,
                "port",
                &format!("the service listens on {}", shown[0]),
                &format!("add `port = {}`: the service listens there", shown[0]),
            ),
        )
        .note(format!(
            "inside the container, listening: {}",
            listening
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let suggested = age.map_or(60, |a| ((a * 1.5 / 10.0).ceil() as u64 * 10).max(30));
    let when = match (at, age) {
        (Some(at), _) if at < start_period.as_secs_f64() => format!(
            "{} after start, within its start_period of {}",
            secs(Duration::from_secs_f64(at.max(0.0))),
            secs(start_period)
        ),
        (Some(at), _) => format!(
            "{} after start, after its start_period of {}",
            secs(Duration::from_secs_f64(at.max(0.0))),
            secs(start_period)
        ),
        _ => "after start".to_owned(),
    };
    let now_text = if listens_now {
        format!(
            "it listens on {port_text} now, {} after start",
            age.map_or_else(String::new, |a| secs(Duration::from_secs_f64(a)))
        )
    } else {
        format!(
            "nothing listens in the container yet, {} after start",
            age.map_or_else(String::new, |a| secs(Duration::from_secs_f64(a)))
        )
    };
    finding(
        "start-period-too-short",
        format!(
            "the probe of `{}` was refused on {port_text} {when}: the service starts slower than start_period allows",
            s.name
        ),
        plan.fix(
            s,
            "healthcheck.start_period",
            &format!("raise start_period (to {suggested}s, say)"),
            &format!("add `healthcheck = {{ start_period = \"{suggested}s\" }}` here"),
        ),
    )
    .note(now_text)
    .note(platform)
}

/// The last probes, newest last, each with its exit code and time against the timeout; a run
/// of probes that said the same thing is one note.
fn probe_notes(probes: &[Probe], s: &Planned, manual: Option<&Manual>) -> Vec<String> {
    let timeout = s.healthcheck.map(|t| secs(t.timeout));
    let n = probes.len();
    // (exit, slowest time, output, count, run by hand)
    let mut notes: Vec<(i64, Option<Duration>, String, usize, bool)> = Vec::new();
    for (i, p) in probes.iter().enumerate() {
        let by_hand = manual.is_some() && i + 1 == n;
        let took = manual
            .filter(|_| by_hand)
            .map(|m| m.took)
            .or_else(|| p.took());
        let text = p.output.trim();
        let body = if text.is_empty() {
            String::new()
        } else {
            // A traceback's last lines say what happened; the rest is the client's insides.
            let lines: Vec<&str> = text.lines().collect();
            let shown: Vec<&str> = lines.iter().rev().take(2).rev().copied().collect();
            format!(":\n  | {}", shown.join("\n  | "))
        };
        match notes.last_mut() {
            Some((exit, slowest, b, count, false))
                if *exit == p.exit_code && *b == body && !by_hand =>
            {
                *count += 1;
                *slowest = (*slowest).max(took);
            }
            _ => notes.push((p.exit_code, took, body, 1, by_hand)),
        }
    }
    let notes: Vec<(String, String, usize)> = notes
        .into_iter()
        .map(|(exit, took, body, count, by_hand)| {
            let mut head = match (by_hand, manual.and_then(|m| m.exit)) {
                (true, None) => "did not finish".to_owned(),
                _ => format!("exit {exit}"),
            };
            if let Some(t) = took {
                let within = if count > 1 { "within" } else { "after" };
                head.push_str(&format!(" {within} {}", secs(t)));
                if let Some(limit) = &timeout {
                    head.push_str(&format!(" (timeout {limit})"));
                }
            }
            let head = if by_hand {
                format!("probe run now: {head}")
            } else {
                head
            };
            (head, body, if by_hand { 0 } else { count })
        })
        .collect();
    let skip = notes.len().saturating_sub(3);
    notes
        .into_iter()
        .skip(skip)
        .map(|(head, body, count)| {
            let head = match count {
                0 => head,
                1 => format!("probe: {head}"),
                k => format!("{k} probes: {head}"),
            };
            if body.is_empty() {
                format!("{head}, no output")
            } else {
                format!("{head}{body}")
            }
        })
        .collect()
}

fn log_notes(engine: &Engine, c: &Container) -> Vec<String> {
    engine
        .logs(&c.id, 10)
        .into_iter()
        .map(|l| format!("  | {l}"))
        .collect()
}

pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 || s.fract() < 0.05 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

/// The program a probe could not run, from the engine's or the shell's words.
fn missing_tool(output: &str, exit: i64) -> Option<String> {
    // exec form: `exec: "python": executable file not found in $PATH`
    if let Some(i) = output.find("executable file not found") {
        let before = &output[..i];
        let name = before.rsplit('"').nth(1)?;
        return Some(name.to_owned());
    }
    // shell form: `/bin/sh: 1: curl: not found`, `sh: curl: not found`, `bash: line 1: x: command not found`
    if exit == 127 || output.contains("not found") {
        for line in output.lines() {
            let line = line.trim();
            let Some(rest) = line
                .strip_suffix(": not found")
                .or_else(|| line.strip_suffix(": command not found"))
            else {
                continue;
            };
            return rest.rsplit(": ").next().map(str::to_owned);
        }
    }
    None
}

/// An HTTP status a probe's client reported, when it reported one.
fn http_status(output: &str) -> Option<u16> {
    let number_after = |marker: &str| {
        let i = output.find(marker)? + marker.len();
        output[i..]
            .trim_start()
            .get(..3)
            .and_then(|n| n.parse::<u16>().ok())
    };
    number_after("HTTP Error ")
        .or_else(|| number_after("returned error:"))
        .or_else(|| number_after("server returned error: HTTP/1.1"))
        .or_else(|| number_after("server returned error: HTTP/1.0"))
        .or_else(|| {
            // curl with --max-redirs 0: "Maximum (0) redirects followed"
            output.contains("redirects followed").then_some(302)
        })
}

fn refused(out: &str) -> bool {
    [
        "connection refused",
        "errno 111",
        "could not connect",
        "couldn't connect",
        "failed to connect",
        "can't connect",
        "no response",
        "connection reset",
    ]
    .iter()
    .any(|m| out.contains(m))
}

/// Which HTTP clients (and bash) the running container has.
fn clients(engine: &Engine, c: &Container) -> Vec<String> {
    let script =
        "for p in curl wget python python3 bash; do command -v $p >/dev/null 2>&1 && echo $p; done";
    let argv = ["sh".to_owned(), "-c".to_owned(), script.to_owned()];
    engine
        .exec(&c.id, &argv, Duration::from_secs(5))
        .ok()
        .filter(|r| r.exit == Some(0))
        .map(|r| r.output.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The TCP ports the container listens on, from the kernel's tables (no tool needed but `cat`).
fn listening_ports(engine: &Engine, c: &Container) -> Vec<u16> {
    let argv = [
        "cat".to_owned(),
        "/proc/net/tcp".to_owned(),
        "/proc/net/tcp6".to_owned(),
    ];
    let Ok(ran) = engine.exec(&c.id, &argv, Duration::from_secs(5)) else {
        return Vec::new();
    };
    parse_listening(&ran.output)
}

pub fn parse_listening(table: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ...; state 0A is LISTEN.
            if fields.len() < 4 || fields[3] != "0A" {
                return None;
            }
            let (address, port) = fields[1].rsplit_once(':')?;
            // Docker's embedded DNS server listens on 127.0.0.11, on a port of its own.
            if address == "0B00007F" {
                return None;
            }
            u16::from_str_radix(port, 16).ok()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Whether the server answers NOAUTH to a bare ping: muster's probe pipes the reply into grep,
/// so the health log shows only that it failed.
fn redis_says_noauth(engine: &Engine, s: &Planned, c: &Container) -> bool {
    let cli = if s.engine.as_deref() == Some("valkey") {
        "valkey-cli"
    } else {
        "redis-cli"
    };
    let port = s.port.unwrap_or(6379).to_string();
    let argv = [cli, "-h", "127.0.0.1", "-p", &port, "ping"].map(str::to_owned);
    engine
        .exec(&c.id, &argv, Duration::from_secs(5))
        .is_ok_and(|r| r.output.contains("NOAUTH"))
}

/// Where a redirect points, asked with a client the container has.
fn location(engine: &Engine, c: &Container, port: u16, path: &str) -> Option<String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let tries: [Vec<String>; 2] = [
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            &url,
        ]
        .map(str::to_owned)
        .into(),
        [
            "python",
            "-c",
            &format!(
                "import http.client as h; c = h.HTTPConnection('127.0.0.1', {port}, timeout=5); \
                 c.request('GET', {}); print(c.getresponse().getheader('Location') or '')",
                serde_json::to_string(path).unwrap_or_default()
            ),
        ]
        .map(str::to_owned)
        .into(),
    ];
    tries.iter().find_map(|argv| {
        let r = engine.exec(&c.id, argv, Duration::from_secs(5)).ok()?;
        let l = r.output.trim();
        (r.exit == Some(0) && !l.is_empty()).then(|| l.to_owned())
    })
}

impl Diagnosis {
    pub fn to_json(&self, plan: &Plan, sources: &crate::diagnostic::Sources) -> DiagnosisJson {
        let label = self.diagnostic.labels.first();
        let line = label.map(|l| {
            let text = sources.text(l.source);
            text[..l.span.start.min(text.len())].matches('\n').count() + 1
        });
        let file = label.map_or_else(
            || sources.name(plan.catalogue).to_owned(),
            |l| sources.name(l.source).to_owned(),
        );
        DiagnosisJson {
            service: self.service.clone(),
            cause: self.cause,
            message: self.diagnostic.message.clone(),
            notes: self.diagnostic.notes.clone(),
            file,
            line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_program_is_read_from_either_form() {
        let exec = "OCI runtime exec failed: exec failed: unable to start container process: \
                    exec: \"python\": executable file not found in $PATH: unknown";
        assert_eq!(missing_tool(exec, -1).as_deref(), Some("python"));
        assert_eq!(
            missing_tool("/bin/sh: 1: curl: not found\n", 127).as_deref(),
            Some("curl")
        );
        assert_eq!(
            missing_tool("bash: line 1: wget: command not found", 127).as_deref(),
            Some("wget")
        );
        assert_eq!(missing_tool("HTTP Error 404: Not Found", 1), None);
    }

    #[test]
    fn http_statuses_as_each_client_reports_them() {
        assert_eq!(
            http_status("urllib.error.HTTPError: HTTP Error 400: Bad Request"),
            Some(400)
        );
        assert_eq!(
            http_status("curl: (22) The requested URL returned error: 404"),
            Some(404)
        );
        assert_eq!(
            http_status("wget: server returned error: HTTP/1.1 500 Internal Server Error"),
            Some(500)
        );
        assert_eq!(
            http_status("curl: (47) Maximum (0) redirects followed"),
            Some(302)
        );
        assert_eq!(http_status("connection refused"), None);
    }

    #[test]
    fn listening_sockets_are_read_from_the_kernel_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
            0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n\
            1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 2 1\n\
            2: 0B00007F:8AF9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n\
            0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0\n";
        assert_eq!(parse_listening(table), [80, 8080]);
    }
}
