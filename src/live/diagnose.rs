//! Why a service is not up, decided from [`Evidence`] alone: what the engine recorded (the
//! health log's outputs and exit codes, the container's state), what muster asked the container
//! (see [`super::evidence`]) and what muster knows of the service (its probe, its image's
//! tools, its timing, its dependencies). Each diagnosis names a [`Cause`], says whether the
//! evidence proves it, and points at the catalogue line to change.

use super::board::{Board, Row, State, Verdict};
use super::cause::Cause;
use super::engine::{Container, Probe, now, timestamp};
use super::evidence::{self, Evidence, Look, Manual, Said, parse_listening};
use super::plan::{Fix, Plan, Planned};
use crate::diagnostic::Diagnostic;
use crate::probe::{HttpClient, Probe as ProbeKind};
use serde::Serialize;
use std::time::Duration;

/// One service's diagnosis: a muster diagnostic, and its gist for the board and `--json`.
#[derive(Debug, Clone)]
pub(crate) struct Diagnosis {
    pub service: String,
    pub cause: Cause,
    /// The evidence proves the cause: with a cause waiting cannot cure, the service has failed,
    /// whatever time its healthcheck still gives it.
    pub proven: bool,
    /// A few words for the board (`refused on port 8000: nothing listens yet`).
    pub gist: String,
    pub diagnostic: Diagnostic,
}

impl Diagnosis {
    /// Time cannot bring the service up: `up` concludes without waiting for the engine.
    pub(crate) fn conclusive(&self) -> bool {
        self.proven && !self.cause.waiting_can_cure()
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DiagnosisJson {
    pub service: String,
    pub cause: Cause,
    pub message: String,
    pub notes: Vec<String>,
    pub file: String,
    pub line: Option<usize>,
}

/// Diagnoses every failed service of `board` and every one waiting on a failed one; when `all`
/// (a deadline passed), the ones still pending too.
pub(crate) fn diagnose(plan: &Plan, board: &Board, look: &dyn Look, all: bool) -> Vec<Diagnosis> {
    board
        .services
        .iter()
        .filter(|r| {
            matches!(r.verdict, Verdict::Failed | Verdict::Blocked)
                || (all && r.verdict == Verdict::Pending)
        })
        .filter_map(|r| {
            let s = plan.service(&r.service)?;
            Some(one(plan, board, look, s, r, None))
        })
        .collect()
}

/// Gathers the evidence of one service and decides; `manual` is the probe `doctor` ran.
pub(crate) fn one(
    plan: &Plan,
    board: &Board,
    look: &dyn Look,
    s: &Planned,
    r: &Row,
    manual: Option<Manual>,
) -> Diagnosis {
    let looks = evidence::gather(s, r, look, manual);
    let ev = Evidence {
        board,
        row: r,
        looks: &looks,
        now: now(),
    };
    evidence::record(plan, &ev);
    decide(plan, s, &ev)
}

/// The diagnosis of `s` from the evidence alone.
pub(crate) fn decide(plan: &Plan, s: &Planned, ev: &Evidence) -> Diagnosis {
    let r = ev.row;
    let found = if let Some(d) = waiting(ev.board, s, r) {
        d
    } else if let Some(c) = &r.container {
        container(plan, s, ev, c)
    } else {
        finding(
            Cause::NotCreated,
            format!("`{}` has no container", s.name),
            plan.fix(s, "", "this service", "this service"),
        )
        .gist("no container")
        .note("Compose did not create it; its output above says why")
    };
    Diagnosis {
        service: s.name.clone(),
        cause: found.cause,
        proven: found.proven,
        gist: found.gist.clone(),
        diagnostic: found.into_diagnostic(),
    }
}

/// A diagnosis being put together.
struct Finding {
    cause: Cause,
    proven: bool,
    gist: String,
    message: String,
    fix: Fix,
    notes: Vec<String>,
}

fn finding(cause: Cause, message: String, fix: Fix) -> Finding {
    Finding {
        cause,
        proven: false,
        gist: cause.code().to_owned(),
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

    fn proven(mut self, proven: bool) -> Finding {
        self.proven = proven;
        self
    }

    fn gist(mut self, gist: impl Into<String>) -> Finding {
        self.gist = gist.into();
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
    let mut f = finding(Cause::DependencyFailed, message, fix)
        .proven(root.verdict == Verdict::Failed)
        .gist(format!("`{}` failed", root.service));
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

fn log_lines(lines: Option<&Vec<String>>) -> Vec<String> {
    lines
        .into_iter()
        .flatten()
        .map(|l| format!("  | {l}"))
        .collect()
}

fn container(plan: &Plan, s: &Planned, ev: &Evidence, c: &Container) -> Finding {
    let r = ev.row;
    let header = |msg: &str| plan.fix(s, "", msg, msg);
    // The engine's own word that the service failed, not muster's reading of its probes.
    let engine_says = r.verdict == Verdict::Failed && r.state != State::Starting;
    // Killed: by the kernel's OOM killer, or by a SIGKILL from outside.
    if c.state.oom_killed || (c.state.exit_code == 137 && r.state != State::Healthy) {
        let why = if c.state.oom_killed {
            "the kernel killed it for using more memory than it may (OOMKilled)"
        } else {
            "it was killed with SIGKILL: most often the kernel's OOM killer"
        };
        return finding(
            Cause::Killed,
            format!("`{}` exited 137: {why}", s.name),
            plan.fix(
                s,
                "compose",
                "give it more memory here",
                "give it more memory: compose = { mem_limit = \"1g\" }",
            ),
        )
        .proven(engine_says)
        .gist(if c.state.oom_killed {
            "OOMKilled"
        } else {
            "SIGKILL (the OOM killer?)"
        })
        .note("raise its memory limit (`mem_limit`, `deploy.resources.limits.memory`) or lower its use")
        .notes(log_lines(ev.looks.logs.as_ref()));
    }
    let looping = s.restart_limit.is_none() && r.restarts >= super::board::RESTART_LOOP;
    if looping || r.state == State::Restarting {
        return finding(
            Cause::RestartLoop,
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
        .proven(looping)
        .gist(format!("restarting, last exit {}", c.state.exit_code))
        .note("its last log lines say why it exits:")
        .notes(log_lines(ev.looks.logs.as_ref()));
    }
    if r.state == State::Exited {
        return exited(plan, s, ev, c, header);
    }
    if r.state == State::Created || r.state == State::Missing {
        return finding(
            Cause::NotStarted,
            format!("`{}` was created but never started", s.name),
            header("this service"),
        )
        .gist("created, not started")
        .note("Compose's output above says why");
    }
    let mut probes: Vec<Probe> = c
        .state
        .health
        .as_ref()
        .map(|h| h.log.clone())
        .unwrap_or_default();
    let manual = ev.looks.manual.as_ref();
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
        let before = log_lines(ev.looks.logs_before_start.as_ref());
        let f = finding(
            Cause::Restarted,
            format!(
                "`{}` exited and was restarted {} time(s), and is not up",
                s.name, r.restarts
            ),
            header("this service"),
        )
        .gist(format!("restarted {}x", r.restarts));
        return if before.is_empty() {
            f.note("it printed nothing before the restart")
        } else {
            f.note("its last log lines before the restart:")
                .notes(before)
        };
    }
    let Some(last) = failed.last().copied() else {
        return finding(
            Cause::NotHealthyYet,
            format!("`{}` is {} and no probe has failed", s.name, r.state_text()),
            header("this service"),
        )
        .gist("no probe failed yet");
    };
    // What the two newest probes said, when both failed: one probe can catch a service
    // between two states, two in a row saying the same make it the service's answer.
    let newest: Vec<Said> = probes
        .iter()
        .rev()
        .take(2)
        .take_while(|p| p.exit_code != 0)
        .map(|p| Said::of(&p.output, p.exit_code))
        .collect();
    let history = probe_notes(&probes, s, manual);
    probe(plan, s, ev, last, &newest).notes(history)
}

fn exited(
    plan: &Plan,
    s: &Planned,
    ev: &Evidence,
    c: &Container,
    header: impl Fn(&str) -> Fix,
) -> Finding {
    let r = ev.row;
    let code = c.state.exit_code;
    let logs: &[String] = ev.looks.logs.as_deref().unwrap_or_default();
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
            Cause::Exited,
            format!(
                "`{}` exited 0: a service that should keep running stopped",
                s.name
            ),
            header("this service"),
        )
    } else {
        finding(
            Cause::Exited,
            message,
            plan.fix(s, "command", "the command that failed", "this service"),
        )
    }
    .proven(r.verdict == Verdict::Failed)
    .gist(format!("exited {code}"));
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
fn probe(plan: &Plan, s: &Planned, ev: &Evidence, last: &Probe, newest: &[Said]) -> Finding {
    let twice = |what: &dyn Fn(&Said) -> bool| newest.len() == 2 && newest.iter().all(what);
    let out = last.output.to_lowercase();
    let manual = ev.looks.manual.as_ref();
    let timing = s.healthcheck;
    let timeout = timing.map(|t| t.timeout);
    let said = Said::of(&last.output, last.exit_code);
    // 1. The probe's program is not in the image.
    if let Said::Missing(tool) = &said {
        let has: &[String] = ev.looks.clients.as_deref().unwrap_or_default();
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
            " (for a `build`, muster chose it from the Dockerfile, or guessed where it could not \
             tell: `muster check` says which)"
        } else {
            ""
        };
        return finding(
            Cause::ProbeToolMissing,
            format!(
                "the probe of `{}` runs `{tool}`, which its image does not have{assumed}",
                s.name
            ),
            plan.fix(s, key, &change, &add),
        )
        .proven(manual.is_some() || twice(&|w| matches!(w, Said::Missing(_))))
        .gist(format!("no `{tool}` in the image"))
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
            Cause::ProbeTimeout,
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
        .gist(format!("probe slower than its {limit} timeout"))
        .note("\"context deadline exceeded\": raise `timeout`, or `start_period` if it happens only while the service starts");
    }
    // 3. A server that wants a password the probe does not send.
    if let Some(check) = s.engine.as_deref().and_then(crate::images::password_check) {
        let refusal = check.refusal.to_lowercase();
        let answered = ev
            .looks
            .password_ping
            .as_deref()
            .is_some_and(|a| a.to_lowercase().contains(&refusal));
        if answered || out.contains(&refusal) {
            let test = ev
                .row
                .container
                .as_ref()
                .and_then(|c| c.config.healthcheck.as_ref())
                .map(|h| h.test.iter().skip(1).cloned().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            return finding(
                Cause::PasswordMissing,
                format!(
                    "the probe of `{}` is refused with {}: the server wants a password and the probe sends none",
                    s.name, check.refusal
                ),
                plan.fix(
                    s,
                    &format!("env.{}", check.env),
                    &format!("add {} to this env", check.env),
                    &format!(
                        "add `env = {{ {} = \"${{{}_PASSWORD}}\" }}` here",
                        check.env,
                        check.engine.to_uppercase()
                    ),
                ),
            )
            .proven(answered)
            .gist(format!("{} to a probe without a password", check.refusal))
            .note(format!(
                "the probe is `{test}`: {} reads the password from {}, never from argv",
                check.ping[0], check.env
            ))
            .note(format!(
                "`{} ping` itself exits 0 on {}; muster's probe checks the reply",
                check.ping[0], check.refusal
            ));
        }
    }
    // 4. An HTTP answer that is not 2xx.
    if let Said::Status(status) = said {
        return http(plan, s, ev, status)
            .proven(twice(&|w| *w == Said::Status(status)) || manual.is_some());
    }
    // 5. Nothing answers on the probed port.
    if said == Said::Refused {
        return refused_finding(plan, s, ev, last);
    }
    let code = last.exit_code;
    finding(
        Cause::ProbeFailed,
        format!("the probe of `{}` fails with exit {code}", s.name),
        plan.fix(s, "healthcheck.test", "the probe", "this service's probe"),
    )
    .gist(format!("probe exits {code}"))
}

fn http(plan: &Plan, s: &Planned, ev: &Evidence, status: u16) -> Finding {
    let path = s.health_path.as_deref().unwrap_or("/");
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
        let gist = format!("answers 400 on {path}");
        if django {
            return finding(
                Cause::Http400,
                message,
                plan.fix(
                    s,
                    "env.DJANGO_ALLOWED_HOSTS",
                    "put 127.0.0.1 in ALLOWED_HOSTS",
                    "add `DJANGO_ALLOWED_HOSTS = \"127.0.0.1\"` to its env",
                ),
            )
            .gist(gist)
            .note(
                "Django answers 400 to a Host it does not allow; the probe asks for 127.0.0.1: \
                 ALLOWED_HOSTS must admit `127.0.0.1`",
            );
        }
        return finding(
            Cause::Http400,
            message,
            plan.fix(
                s,
                "env",
                "allow the Host 127.0.0.1 here",
                "this service must allow the Host 127.0.0.1",
            ),
        )
        .gist(gist)
        .note(
            "a 400 to a plain GET is most often a Host check (Django's ALLOWED_HOSTS, Rails' \
             config.hosts): the probe asks for 127.0.0.1, which must be allowed",
        );
    }
    if (300..400).contains(&status) {
        let location = ev.looks.location.as_deref();
        let to = location.map_or_else(String::new, |l| format!(" to {l}"));
        let login = location.is_some_and(|l| l.to_lowercase().contains("login"));
        let mut f = finding(
            Cause::HttpRedirect,
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
        .gist(format!("redirects {path}{to}"))
        .note("a health path that redirects is not healthy: curl and python probes fail on a redirect");
        if login {
            f = f.note("it redirects to a login page: health endpoints must not need a login");
        }
        return f;
    }
    let (cause, note) = if matches!(status, 404 | 410) {
        (
            Cause::HttpNotFound,
            "the server answers, and has no such path: a path it serves comes back 2xx once the service is ready",
        )
    } else {
        (
            Cause::HttpStatus,
            "a status like this one can change as the service finishes starting: muster waits for the engine's verdict",
        )
    };
    finding(
        cause,
        format!("`{}` answers {status} to its probe on {path}", s.name),
        plan.fix(
            s,
            "health_path",
            "the path probed",
            "set `health_path` to the service's health endpoint",
        ),
    )
    .gist(format!("answers {status} on {path}"))
    .note(note)
}

fn refused_finding(plan: &Plan, s: &Planned, ev: &Evidence, last: &Probe) -> Finding {
    let c = ev
        .row
        .container
        .as_ref()
        .expect("a probe ran in a container");
    let port = s.port;
    let listening = ev
        .looks
        .net_tcp
        .as_deref()
        .map(parse_listening)
        .unwrap_or_default();
    let started = timestamp(&c.state.started_at);
    let age = started.map(|t| ev.now - t);
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
        // Proof: the probe itself passes on the port the service listens on. Without it, a
        // server that opens another port first (a cluster's transport before its HTTP) only
        // looks like one on the wrong port.
        let passed = ev
            .looks
            .rerun
            .as_ref()
            .filter(|r| r.exit == Some(0) && others.contains(&r.port));
        let target = passed.map_or(others[0], |r| r.port);
        let mut f = finding(
            Cause::WrongPort,
            format!(
                "the probe of `{}` is refused on {port_text}, but the service listens on {}",
                s.name,
                shown.join(", ")
            ),
            plan.fix(
                s,
                "port",
                &format!("the service listens on {target}"),
                &format!("add `port = {target}`: the service listens there"),
            ),
        )
        .proven(passed.is_some())
        .gist(format!(
            "refused on {port_text}; it listens on {}",
            shown.join(", ")
        ))
        .note(format!(
            "inside the container, listening: {}",
            listening
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(r) = passed {
            f = f.note(format!("the same probe on port {} passes", r.port));
        }
        return f;
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
        Cause::StartPeriodTooShort,
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
    .gist(if listens_now {
        format!("refused on {port_text}, which listens now")
    } else {
        format!("refused on {port_text}: nothing listens yet")
    })
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

pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 || s.fract() < 0.05 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

impl Diagnosis {
    pub(crate) fn to_json(
        &self,
        plan: &Plan,
        sources: &crate::diagnostic::Sources,
    ) -> DiagnosisJson {
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

/// Each cause decided from evidence a real engine showed: `tests/fixtures/live/CAUSE.json`,
/// recorded with `MUSTER_RECORD_EVIDENCE` while the engine scenarios of `tests/engine/live.rs`
/// ran (the catalogue, every container's `docker inspect`, and what muster asked the
/// container).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::engine::Container;
    use crate::live::evidence::Recorded;

    fn recorded(fixture: &str) -> Recorded {
        let path = format!(
            "{}/tests/fixtures/live/{fixture}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn plan(catalogue: &str, profile: &str) -> Plan {
        use crate::pipeline::{self, Session};
        let mut session = Session::default();
        let parsed = crate::catalogue::Catalogue::parse(
            std::path::Path::new("services.toml"),
            catalogue.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        let profiles = crate::profile::Profiles::load(
            None,
            &mut crate::diagnostic::Sources::default(),
            &mut crate::diagnostic::Diagnostics::default(),
        )
        .unwrap();
        let stack = pipeline::build(
            parsed,
            &profiles,
            &crate::kinds::Kinds::built_in(),
            Some(profile),
            crate::resolve::Provenance::Record,
            &mut session,
        )
        .expect("the recorded catalogue is valid");
        Plan::new(&stack, &session.sources, "shop")
    }

    /// The decision over `rec`, and the catalogue line its label points at.
    fn decide_recorded(rec: &Recorded) -> (Diagnosis, String) {
        let plan = plan(&rec.catalogue, &rec.profile);
        let containers: Vec<Container> = rec
            .containers
            .iter()
            .cloned()
            .filter_map(Container::from_json)
            .collect();
        let board = Board::read(&plan, &containers);
        let row = board.row(&rec.service).expect("the service has a row");
        let s = plan.service(&rec.service).expect("the service is planned");
        let d = decide(
            &plan,
            s,
            &Evidence {
                board: &board,
                row,
                looks: &rec.looks,
                now: rec.now,
            },
        );
        let label = d
            .diagnostic
            .labels
            .first()
            .expect("a diagnosis points somewhere");
        let start = rec.catalogue[..label.span.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = rec.catalogue[label.span.start..]
            .find('\n')
            .map_or(rec.catalogue.len(), |i| label.span.start + i);
        (d, rec.catalogue[start..end].to_owned())
    }

    fn decided(fixture: &str) -> (Diagnosis, String) {
        decide_recorded(&recorded(fixture))
    }

    /// `cause`, proven or not, with a message holding `words` and a label on `line`.
    #[track_caller]
    fn check(fixture: &str, cause: Cause, proven: bool, words: &str, line: &str) -> Diagnosis {
        let (d, at) = decided(fixture);
        assert_eq!(d.cause, cause, "{fixture}: {}", d.diagnostic.message);
        assert_eq!(d.proven, proven, "{fixture}: proven");
        assert!(
            d.diagnostic.message.contains(words),
            "{fixture}: {}",
            d.diagnostic.message
        );
        assert!(at.contains(line), "{fixture}: points at `{at}`");
        d
    }

    fn notes(d: &Diagnosis) -> String {
        d.diagnostic.notes.join("\n")
    }

    #[test]
    fn probe_tool_missing() {
        let d = check(
            "probe-tool-missing",
            Cause::ProbeToolMissing,
            true,
            "runs `python`, which its image does not have",
            "[services.web]",
        );
        assert!(d.conclusive());
        assert!(
            notes(&d).contains("the container has: curl"),
            "{}",
            notes(&d)
        );
        assert!(d.diagnostic.labels[0].message.contains("probe = \"curl\""));
    }

    #[test]
    fn probe_timeout() {
        let d = check(
            "probe-timeout",
            Cause::ProbeTimeout,
            false,
            "does not answer within its timeout of 1s",
            "timeout = \"1s\"",
        );
        assert!(!d.conclusive(), "a slow probe may speed up: waited for");
    }

    #[test]
    fn wrong_port_is_proven_by_the_probe_passing_on_the_port_it_listens_on() {
        let d = check(
            "wrong-port",
            Cause::WrongPort,
            true,
            "refused on port 8000, but the service listens on 8080",
            "port = 8000",
        );
        assert!(d.conclusive());
        assert!(notes(&d).contains("the same probe on port 8080 passes"));
        // The same evidence without the probe run again: another port listening is only a
        // hint (a cluster's transport opens before its HTTP), and `up` waits.
        let mut rec = recorded("wrong-port");
        rec.looks.rerun = None;
        let (d, _) = decide_recorded(&rec);
        assert_eq!((d.cause, d.proven), (Cause::WrongPort, false));
        let mut rec = recorded("wrong-port");
        if let Some(r) = rec.looks.rerun.as_mut() {
            r.exit = Some(1);
        }
        assert!(!decide_recorded(&rec).0.conclusive());
    }

    #[test]
    fn start_period_too_short() {
        let d = check(
            "start-period-too-short",
            Cause::StartPeriodTooShort,
            false,
            "starts slower than start_period allows",
            "healthcheck = {",
        );
        assert!(notes(&d).contains("connection refused"));
        // Starting, refused, nothing listening: a suspicion, waited for.
        let (d, _) = decided("start-period-too-short-starting");
        assert_eq!(d.cause, Cause::StartPeriodTooShort);
        assert!(!d.conclusive());
        assert_eq!(d.gist, "refused on port 8000: nothing listens yet");
    }

    #[test]
    fn password_missing() {
        let d = check(
            "redis-noauth",
            Cause::PasswordMissing,
            true,
            "is refused with NOAUTH",
            "env = { REDIS_PASSWORD",
        );
        assert!(d.conclusive());
        assert!(notes(&d).contains("redis-cli reads the password from REDISCLI_AUTH"));
        // Without the server's own answer, the probe's output says nothing of a password.
        let mut rec = recorded("redis-noauth");
        rec.looks.password_ping = None;
        assert_ne!(decide_recorded(&rec).0.cause, Cause::PasswordMissing);
    }

    #[test]
    fn http_400() {
        let d = check(
            "http-400",
            Cause::Http400,
            true,
            "answers 400 Bad Request to its probe on /health/live",
            "DJANGO_ALLOWED_HOSTS = \"backend\"",
        );
        assert!(d.conclusive());
    }

    #[test]
    fn http_redirect() {
        let d = check(
            "http-redirect",
            Cause::HttpRedirect,
            true,
            "with a redirect (302) to",
            "health_path = \"/admin\"",
        );
        assert!(notes(&d).contains("login page"));
    }

    #[test]
    fn http_404() {
        let d = check(
            "http-404",
            Cause::HttpNotFound,
            true,
            "answers 404 to its probe on /healthz",
            "health_path = \"/healthz\"",
        );
        assert!(d.conclusive());
    }

    #[test]
    fn http_status() {
        let d = check(
            "http-status",
            Cause::HttpStatus,
            true,
            "answers 503 to its probe on /health",
            "health_path = \"/health\"",
        );
        assert!(!d.conclusive(), "a 503 can turn 200");
    }

    #[test]
    fn probe_failed() {
        let d = check(
            "probe-failed",
            Cause::ProbeFailed,
            false,
            "fails with exit 1",
            "healthcheck = { test",
        );
        assert!(!d.conclusive());
    }

    #[test]
    fn killed() {
        let d = check(
            "killed",
            Cause::Killed,
            true,
            "exited 137",
            "[services.worker]",
        );
        assert!(notes(&d).contains("memory"));
    }

    #[test]
    fn restart_loop() {
        let d = check(
            "restart-loop",
            Cause::RestartLoop,
            true,
            "is restarting in a loop",
            "command = [\"python\"",
        );
        assert!(notes(&d).contains("API_KEY is not set"), "{}", notes(&d));
    }

    #[test]
    fn exited() {
        let d = check(
            "exited",
            Cause::Exited,
            true,
            "`migrate` exited 1, so `api`, `web` never start",
            "command = [\"python\"",
        );
        assert!(notes(&d).contains("check `depends_on`"));
        assert!(notes(&d).contains("database connection failed"));
    }

    #[test]
    fn restarted() {
        let d = check(
            "restarted",
            Cause::Restarted,
            false,
            "`again` exited and was restarted 1 time(s)",
            "[services.again]",
        );
        assert!(!d.conclusive());
    }

    #[test]
    fn dependency_failed() {
        let d = check(
            "dependency-failed",
            Cause::DependencyFailed,
            true,
            "`web` never started: it waits for `api` to be healthy, and `migrate` exited 1",
            "depends_on = [\"api\"]",
        );
        assert!(notes(&d).contains("web -> api -> migrate"));
    }

    #[test]
    fn not_created() {
        check(
            "not-created",
            Cause::NotCreated,
            false,
            "`first` has no container",
            "[services.first]",
        );
    }

    #[test]
    fn not_started() {
        check(
            "not-started",
            Cause::NotStarted,
            false,
            "`first` was created but never started",
            "[services.first]",
        );
    }

    #[test]
    fn not_healthy_yet() {
        check(
            "not-healthy-yet",
            Cause::NotHealthyYet,
            false,
            "`unready` is starting and no probe has failed",
            "[services.unready]",
        );
    }

    /// Every cause of the registry has its fixture here.
    #[test]
    fn every_cause_has_recorded_evidence() {
        let dir = format!("{}/tests/fixtures/live", env!("CARGO_MANIFEST_DIR"));
        for cause in Cause::ALL {
            let path = format!("{dir}/{}.json", cause.code());
            assert!(
                std::path::Path::new(&path).is_file(),
                "no recorded evidence for `{cause}`: {path}"
            );
        }
    }
}
