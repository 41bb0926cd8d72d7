//! `muster tune`: the stack brought up `--runs` times (or read as it runs, `--running`), each
//! service's start and probes measured from the engine's events, and the healthcheck timing
//! each needs proposed beside today's; `--write` puts them in a profile of their own, extending
//! the measured one, which `explain` names as measured.

use crate::config::{Inputs, Tune};
use crate::diagnostic::{Diagnostics, Sources};
use crate::emit;
use crate::error::Error;
use crate::live;
use crate::live::board::{Board, Verdict, precise};
use crate::live::diagnose::secs;
use crate::live::engine::{Engine, now, timestamp};
use crate::live::plan::Plan;
use crate::live::tune::{self, Event, MARGIN, Proposal, Run};
use crate::live::watch::Watch;
use crate::pipeline::Session;
use crate::profile::Profiles;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub fn run(inputs: &Inputs, tune: &Tune, session: &mut Session) -> Result<Option<String>, Error> {
    let (mut stack, plan) = live::load(inputs, &tune.file, session)?;
    let engine = Engine::new()
        .with_compose()
        .map_err(|e| Error::Engine(e.to_string()))?;
    let runs = match tune.runs {
        None => vec![running(&plan, &engine, session)?],
        Some(n) => {
            // The stack as measured: the user's file but for the probing, written beside it
            // (the same folder, so the same project and build contexts) and removed after.
            let file = measuring_file(&tune.file);
            // Its relative paths rebased for its folder, as `up` writes the user's file.
            stack.project.output = super::generate::destination(&inputs.catalogue, &file);
            let text = measuring(&emit::compose::emit(&stack));
            crate::output::write_atomic(&file, text.as_bytes())
                .map_err(Error::io("write", &file))?;
            let measured = Tune {
                file: file.clone(),
                ..tune.clone()
            };
            let mut runs = Vec::new();
            let mut outcome = Ok(());
            for i in 0..n {
                let args = if i == 0 { &tune.compose_args[..] } else { &[] };
                match one_run(&plan, &engine, &measured, args, i, n, session) {
                    Ok(run) => runs.push(run),
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            // Left up, the stack would run with the measuring probes: `muster up` brings it
            // back with the profile the user chooses. A failed run stays up to be looked at.
            if outcome.is_ok() {
                let _ = engine.compose(&file, &["down", "--remove-orphans", "-t", "10"]);
            }
            let _ = std::fs::remove_file(&file);
            outcome?;
            runs
        }
    };
    drop(stack);
    let services: Vec<&crate::live::plan::Planned> = plan.services.iter().collect();
    let proposals = tune::propose(&services, &runs);
    let mut out = report(&plan, &runs, &proposals);
    if let Some(name) = &tune.write {
        let path = write_profile(inputs, &plan, name.as_deref(), &runs, &proposals)?;
        let name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\nwrote {}: `muster up --profile {name}` runs with these timings; `muster explain SERVICE --profile {name}` shows them as measured",
            path.display()
        );
    }
    Ok(Some(out))
}

/// How often the measured starts probe. Each second would place a first pass closer, but
/// twenty services probing each second load a two-core host enough to slow the start measured
/// (seen on the ecommerce example: every service ready in 51 to 86 s, against 26 to 41 s).
const MEASURING_INTERVAL: &str = "2s";

/// `.NAME.tune.yml` beside the Compose file.
fn measuring_file(file: &std::path::Path) -> PathBuf {
    let name = file.file_stem().map_or_else(
        || "docker-compose".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    file.with_file_name(format!(".{name}.tune.yml"))
}

/// The Compose file with every healthcheck that has a `start_interval` probing every
/// [`MEASURING_INTERVAL`] while it starts: a first pass is then seen soon after the service is
/// ready, and the failed probes before it show what each costs. A target without
/// `start_interval` (an Engine before 25) is measured at its own timing.
pub(crate) fn measuring(text: &str) -> String {
    let Ok(crate::yaml::Value::Mapping(mut doc)) = crate::yaml::parse(text) else {
        return text.to_owned();
    };
    if let Some(crate::yaml::Value::Mapping(services)) = doc.get_mut("services") {
        for (_, service) in services.iter_mut() {
            if let Some(crate::yaml::Value::Mapping(hc)) = service.get_mut("healthcheck")
                && hc.contains_key("start_interval")
            {
                hc.insert("start_interval".into(), MEASURING_INTERVAL.into());
            }
        }
    }
    crate::yaml::to_string(&doc)
}

/// One start of the stack, from `docker compose down` (volumes kept) to every service ready.
fn one_run(
    plan: &Plan,
    engine: &Engine,
    tune: &Tune,
    compose_args: &[String],
    i: u32,
    n: u32,
    session: &mut Session,
) -> Result<Run, Error> {
    let engine_error = |e: crate::live::engine::EngineError| Error::Engine(e.to_string());
    // A fresh start each time: containers already up would be kept as they are, and show no
    // start to measure. Named volumes stay, so no data is lost.
    let down = engine
        .compose(&tune.file, &["down", "--remove-orphans", "-t", "10"])
        .map_err(engine_error)?;
    if !down.status.success() {
        return Err(Error::Engine(format!(
            "docker compose down failed: {}",
            String::from_utf8_lossy(&down.stderr).trim()
        )));
    }
    let mut events = engine.events(&plan.project).map_err(engine_error)?;
    let mut stream = events.stdout.take().expect("piped");
    let lines = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    });
    // The stream is open once the engine has answered; events before that are not in it.
    std::thread::sleep(Duration::from_millis(500));
    let mut child = engine
        // No `--env-file`: Compose reads the `.env` beside the file, as it did for `up`.
        .compose_up(&tune.file, &[], compose_args)
        .map_err(engine_error)?;
    let mut compose_err = child.stderr.take().expect("piped");
    let mut compose_out = child.stdout.take().expect("piped");
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = compose_err.read_to_string(&mut text);
        text
    });
    let builds = std::thread::spawn(move || std::io::copy(&mut compose_out, &mut std::io::sink()));
    let limit = tune.timeout.unwrap_or_else(|| live::deadline(plan));
    let started = Instant::now();
    let mut watch = Watch::new(false);
    let mut compose_status = None;
    let (board, containers) = loop {
        if compose_status.is_none() {
            compose_status = child.try_wait().ok().flatten();
        }
        let containers = engine.containers(&plan.project).map_err(engine_error)?;
        let mut board = Board::read(plan, &containers);
        watch.look(plan, &mut board, engine);
        let verdict = board.verdict();
        let compose_failed = compose_status.is_some_and(|s| !s.success());
        if (verdict == Verdict::Done && compose_status.is_some())
            || (verdict == Verdict::Failed && board.settled())
            || compose_failed
            || started.elapsed() > limit
        {
            break (board, containers);
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    // The last health events come a moment after the board saw them.
    std::thread::sleep(Duration::from_secs(1));
    let _ = events.kill();
    let _ = events.wait();
    if compose_status.is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    let compose_said = said.join().unwrap_or_default();
    let _ = builds.join();
    if board.verdict() != Verdict::Done {
        // A stack that does not come up has nothing to measure: say why, as `up` would.
        for d in crate::live::diagnose::diagnose(plan, &board, engine, true) {
            match watch.told.get(&d.service) {
                Some(told) => session.diagnostics.push(told.diagnostic.clone()),
                None => session.diagnostics.push(d.diagnostic),
            }
        }
        if board.verdict() == Verdict::Failed {
            let failed = board
                .services
                .iter()
                .filter(|r| r.verdict == Verdict::Failed)
                .count();
            session.summary = Some(format!(
                "run {} of {n}: the stack did not come up, so there is nothing to measure",
                i + 1
            ));
            return Err(Error::Unhealthy { failed });
        }
        let tail: Vec<&str> = compose_said.lines().rev().take(4).collect();
        session.summary = Some(format!(
            "run {} of {n}: not up within {}; docker compose said:\n  {}",
            i + 1,
            secs(limit),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n  ")
        ));
        return Err(Error::NotUp {
            pending: board
                .services
                .iter()
                .filter(|r| r.verdict != Verdict::Done)
                .count(),
        });
    }
    let text = lines.join().unwrap_or_default();
    tune::record(&plan.project, &text, &containers);
    let run = tune::measure(&parse_events(&text), &containers);
    progress(&format!(
        "run {} of {n}: {} services ready in {}",
        i + 1,
        board.services.len(),
        run.ready_in.map_or_else(|| "?".to_owned(), precise)
    ));
    Ok(run)
}

/// The stack already up: its events, as far as the engine still holds them, and its health logs
/// where those are gone.
fn running(plan: &Plan, engine: &Engine, session: &mut Session) -> Result<Run, Error> {
    let containers = engine
        .containers(&plan.project)
        .map_err(|e| Error::Engine(e.to_string()))?;
    if containers.is_empty() {
        session.summary = Some(format!(
            "no container of project `{}` on this engine: `muster tune` (without --running) starts it itself",
            plan.project
        ));
        return Err(Error::NotUp {
            pending: plan.services.len(),
        });
    }
    let since = containers
        .iter()
        .filter_map(|c| timestamp(&c.created))
        .reduce(f64::min)
        .unwrap_or_else(now);
    let events = engine
        .events_between(&plan.project, since - 1.0, now())
        .map_err(|e| Error::Engine(e.to_string()))?;
    tune::record(&plan.project, &events, &containers);
    let mut run = tune::measure(&parse_events(&events), &containers);
    let logs = tune::from_health_logs(&containers);
    for (service, found) in logs.services {
        let s = run.services.entry(service).or_default();
        if s.ready_after.is_none() {
            s.ready_after = found.ready_after;
            s.failures_before_ready = found.failures_before_ready;
        }
        if s.probes.is_empty() {
            s.probes = found.probes;
        }
    }
    Ok(run)
}

fn parse_events(text: &str) -> Vec<Event> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A line on stderr while the runs go on.
fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The figures and the proposals, a table for people.
fn report(plan: &Plan, runs: &[Run], proposals: &[Proposal]) -> String {
    let mut out = String::new();
    let totals: Vec<String> = runs
        .iter()
        .map(|r| r.ready_in.map_or_else(|| "?".to_owned(), precise))
        .collect();
    let what = if runs.len() == 1 {
        "1 start".to_owned()
    } else {
        format!("{} starts", runs.len())
    };
    let _ = writeln!(
        out,
        "{} (profile {}): {what} measured; every service ready in {}\n",
        plan.project,
        plan.profile,
        totals.join(", ")
    );
    let change = |today: Duration, new: Option<Duration>| match new {
        Some(n) if n != today => format!("{} -> {}", secs(today), secs(n)),
        _ => secs(today),
    };
    let mut rows: Vec<[String; 9]> = vec![
        [
            "SERVICE",
            "READY AFTER",
            "SLOWEST PROBE",
            "FAILED FIRST",
            "start_period",
            "start_interval",
            "timeout",
            "retries",
            "k8s startup probe",
        ]
        .map(str::to_owned),
    ];
    for p in proposals {
        let ready: Vec<String> = p
            .ready
            .iter()
            .map(|r| r.map_or_else(|| "-".to_owned(), precise))
            .collect();
        let k8s = p.startup_probe().map_or_else(
            || "-".to_owned(),
            |(period, tries)| format!("{tries} x {period}s"),
        );
        rows.push([
            p.service.clone(),
            ready.join(" "),
            p.slowest_probe
                .map_or_else(|| "-".to_owned(), |t| format!("{t:.2}s")),
            p.failures_before_ready.to_string(),
            change(p.today.start_period, p.start_period),
            change(p.today.start_interval, p.start_interval),
            change(p.today.timeout, p.timeout),
            if p.retries == p.today.retries {
                p.retries.to_string()
            } else {
                format!("{} -> {}", p.today.retries, p.retries)
            },
            k8s,
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let _ = write!(line, "{cell:w$}  ", w = widths[i]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let unmeasured: Vec<&str> = plan
        .services
        .iter()
        .filter(|s| s.healthcheck.is_none())
        .map(|s| s.name.as_str())
        .collect();
    if !unmeasured.is_empty() {
        let _ = writeln!(
            out,
            "\nwithout a healthcheck, nothing to tune: {}",
            unmeasured.join(", ")
        );
    }
    let _ = writeln!(out, "\nmargin: {MARGIN}");
    out
}

/// Writes the proposals as `profiles/NAME.toml`, extending the measured profile (or, when that
/// one was written by `tune`, replacing it and extending what it extended).
fn write_profile(
    inputs: &Inputs,
    plan: &Plan,
    name: Option<&str>,
    runs: &[Run],
    proposals: &[Proposal],
) -> Result<PathBuf, Error> {
    let mut sources = Sources::default();
    let profiles = Profiles::load(
        Some(&inputs.profiles_dir),
        &mut sources,
        &mut Diagnostics::default(),
    )?;
    let measured = profiles.iter().find(|p| p.name == plan.profile);
    let (name, base) = match (name, measured) {
        (Some(n), _) => (n.to_owned(), plan.profile.clone()),
        (None, Some(p)) if p.file.measured.is_some() => (
            p.name.clone(),
            p.file
                .extends
                .as_ref()
                .map_or_else(|| "dev".to_owned(), |e| e.get_ref().clone()),
        ),
        (None, _) => (format!("{}-tuned", plan.profile), plan.profile.clone()),
    };
    let text = profile_text(&base, &plan.profile, &tune::today(), runs, proposals);
    let path = inputs.profiles_dir.join(format!("{name}.toml"));
    std::fs::create_dir_all(&inputs.profiles_dir)
        .map_err(Error::io("create", &inputs.profiles_dir))?;
    crate::output::write_atomic(&path, text.as_bytes()).map_err(Error::io("write", &path))?;
    Ok(path)
}

/// The profile `--write` writes: data `explain` reads back, in a fixed order.
pub(crate) fn profile_text(
    base: &str,
    measured_profile: &str,
    date: &str,
    runs: &[Run],
    proposals: &[Proposal],
) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    // A service name as TOML writes a key: bare where it can be.
    let key = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            s.to_owned()
        } else {
            quote(s)
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Written by `muster tune --write` on {date}: {} start(s) of the stack under profile `{measured_profile}`,\n\
         # measured on the engine. Run it again to measure anew; edit a value to keep it, as any profile.",
        runs.len()
    );
    let _ = writeln!(
        out,
        "description = {}",
        quote(&format!(
            "{base}, with healthcheck timings measured by muster tune on {date}"
        ))
    );
    let _ = writeln!(out, "extends = {}", quote(base));
    let _ = writeln!(out);
    let _ = writeln!(out, "[measured]");
    let _ = writeln!(out, "date = {}", quote(date));
    let _ = writeln!(out, "profile = {}", quote(measured_profile));
    let _ = writeln!(out, "runs = {}", runs.len());
    let _ = writeln!(out, "margin = {}", quote(MARGIN));
    let totals: Vec<String> = runs
        .iter()
        .filter_map(|r| r.ready_in.map(|t| quote(&precise(t))))
        .collect();
    let _ = writeln!(out, "ready_in = [{}]", totals.join(", "));
    for p in proposals {
        let mut keys: Vec<String> = Vec::new();
        if let Some(d) = p.start_period {
            keys.push(format!("start_period = {}", quote(&secs(d))));
        }
        if let Some(d) = p.start_interval {
            keys.push(format!("start_interval = {}", quote(&secs(d))));
        }
        if let Some(d) = p.timeout {
            keys.push(format!("timeout = {}", quote(&secs(d))));
        }
        if p.retries != p.today.retries {
            keys.push(format!("retries = {}", p.retries));
        }
        if keys.is_empty() {
            continue;
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "[services.{}]", key(&p.service));
        let _ = writeln!(out, "healthcheck = {{ {} }}", keys.join(", "));
        let _ = writeln!(out);
        let _ = writeln!(out, "[measured.services.{}]", key(&p.service));
        let ready: Vec<String> = p
            .ready
            .iter()
            .map(|r| quote(&r.map_or_else(|| "-".to_owned(), precise)))
            .collect();
        let _ = writeln!(out, "ready = [{}]", ready.join(", "));
        let _ = writeln!(
            out,
            "slowest_probe = {}",
            quote(
                &p.slowest_probe
                    .map_or_else(|| "-".to_owned(), |t| format!("{t:.2}s"))
            )
        );
        let _ = writeln!(out, "failures_before_ready = {}", p.failures_before_ready);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Sources;
    use crate::live::plan::Timing;
    use crate::live::tune::ServiceRun;
    use crate::pipeline::{self, Session};
    use crate::resolve::{Layer, Provenance};

    const CATALOGUE: &str = r#"
[services.web]
kind = "http"
image = "python:3.12-slim"
healthcheck = { start_period = "60s" }

[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "${POSTGRES_PASSWORD:?set it}" }
"#;

    #[test]
    fn the_measured_stack_probes_every_two_seconds_while_it_starts() {
        let text = "services:\n  web:\n    image: x\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      start_period: 30s\n      start_interval: 5s\n  old:\n    image: y\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n";
        let measured: crate::yaml::Value = crate::yaml::from_str(&measuring(text)).unwrap();
        assert_eq!(
            measured["services"]["web"]["healthcheck"]["start_interval"],
            crate::yaml::Value::from("2s")
        );
        assert_eq!(
            measured["services"]["web"]["healthcheck"]["start_period"],
            crate::yaml::Value::from("30s")
        );
        // No start_interval: a target before Engine 25, which would refuse the key.
        assert!(
            measured["services"]["old"]["healthcheck"]
                .get("start_interval")
                .is_none()
        );
    }

    fn timing(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn the_written_profile_resolves_as_a_measured_layer_over_the_catalogue() {
        let today = Timing {
            interval: timing(30),
            timeout: timing(5),
            retries: 3,
            start_period: timing(60),
            start_interval: timing(2),
        };
        let proposal = Proposal {
            service: "web".to_owned(),
            today,
            slowest_ready: Some(4.2),
            ready: vec![Some(4.2), Some(3.9)],
            slowest_probe: Some(0.31),
            failures_before_ready: 1,
            start_period: Some(timing(15)),
            start_interval: Some(timing(1)),
            timeout: Some(timing(3)),
            retries: 3,
        };
        let run = Run {
            ready_in: Some(9.5),
            services: [("web".to_owned(), ServiceRun::default())].into(),
        };
        let text = profile_text("dev", "dev", "2026-12-07", &[run.clone(), run], &[proposal]);
        assert!(text.contains("extends = \"dev\""), "{text}");
        assert!(
            text.contains("healthcheck = { start_period = \"15s\", start_interval = \"1s\", timeout = \"3s\" }"),
            "{text}"
        );

        let mut session = Session::default();
        let catalogue = crate::catalogue::Catalogue::parse(
            std::path::Path::new("services.toml"),
            CATALOGUE.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        let mut profiles =
            Profiles::load(None, &mut Sources::default(), &mut Diagnostics::default()).unwrap();
        profiles.add_text(
            "dev-tuned",
            std::path::Path::new("profiles/dev-tuned.toml"),
            text,
            &mut session.sources,
            &mut session.diagnostics,
        );
        assert!(
            !session.diagnostics.has_errors(),
            "{}",
            session.render_diagnostics()
        );
        let stack = pipeline::build(
            catalogue,
            &profiles,
            &crate::kinds::Kinds::built_in(),
            Some("dev-tuned"),
            Provenance::Record,
            &mut session,
        )
        .expect("the catalogue builds under the written profile");
        let web = stack
            .services
            .iter()
            .find(|s| s.rendered.service.name == "web")
            .unwrap();
        let hc = web.rendered.body.healthcheck().unwrap();
        // Over the entry's own 60s: measured beats guessed.
        assert_eq!(hc.start_period.and_then(|d| d.value), Some(timing(15)));
        assert_eq!(hc.start_interval.and_then(|d| d.value), Some(timing(1)));
        assert_eq!(
            web.rendered
                .service
                .provenance
                .get("healthcheck.start_period"),
            Some(&Layer::Measured {
                profile: "dev-tuned".to_owned(),
                date: "2026-12-07".to_owned()
            })
        );
        // What it did not measure keeps its layers.
        assert_eq!(hc.interval.and_then(|d| d.value), Some(timing(30)));
    }
}
