//! `muster up`: the Compose file written as `gen -o` writes it, `docker compose up -d` on it,
//! and a live board until every service is ready, failed, or waits on one that failed (or the
//! deadline passes). A service is failed by the engine's word (unhealthy, exited, restarting in
//! a loop) or, sooner, by its probes' evidence proving a cause that waiting cannot cure; its
//! diagnosis is printed at once and the rest of the stack keeps coming up.

use crate::config::{Inputs, Up};
use crate::diagnostic::SourceId;
use crate::emit::{self, Target};
use crate::error::Error;
use crate::host::{self, Contract, environment::Environment};
use crate::live;
use crate::live::board::{Board, State, Verdict};
use crate::live::diagnose::{self, Diagnosis};
use crate::live::display::Display;
use crate::live::engine::Engine;
use crate::live::watch::Watch;
use crate::pipeline::Session;
use codespan_reporting::term::termcolor::Buffer;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the engine is asked: probes run every few seconds at the fastest, and each look
/// costs two `docker` processes.
const POLL: Duration = Duration::from_millis(1000);

pub fn run(inputs: &Inputs, up: &Up, session: &mut Session) -> Result<Option<String>, Error> {
    let (mut stack, plan) = live::load(inputs, &up.file, session)?;
    // Held against this host before Compose is called: every variable and file it would stop
    // at, one at a time, in one run.
    let contract = Contract::of(
        &mut stack,
        Target::Compose,
        &session.sources,
        &mut session.diagnostics,
    );
    let env_files: Vec<PathBuf> = match up.env_files.as_slice() {
        [] => host::environment::default_env_file(&up.file)
            .into_iter()
            .collect(),
        given => given.to_vec(),
    };
    let env = Environment::read(
        std::env::vars(),
        &env_files,
        &mut session.sources,
        &mut session.diagnostics,
    )?;
    host::check::check(
        &contract,
        &env,
        &super::check::folder(&inputs.catalogue),
        &session.sources,
        &mut session.diagnostics,
    );
    let read: Vec<(PathBuf, Option<SourceId>)> = env
        .read
        .iter()
        .map(|(p, s)| (p.clone(), Some(*s)))
        .collect();
    host::check::tracked_env_files(&read, &mut session.diagnostics);
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    stack.project.output = super::generate::destination(&inputs.catalogue, &up.file);
    host::unrebased_paths(&stack, &session.sources, &mut session.diagnostics);
    crate::output::write_atomic_with(&up.file, |sink| emit::compose::write(&stack, sink))
        .map_err(Error::io("write", &up.file))?;
    drop(stack);
    let engine = Engine::new()
        .with_compose()
        .map_err(|e| Error::Engine(e.to_string()))?;
    let limit = up.timeout.unwrap_or_else(|| live::deadline(&plan));
    let mut child = engine
        .compose_up(&up.file, &up.env_files, &up.compose_args)
        .map_err(|e| Error::Engine(e.to_string()))?;
    // Compose reports its progress on stderr; kept, not shown, so it cannot tear the board,
    // and printed when it fails.
    let mut compose_err = child.stderr.take().expect("piped");
    let mut compose_out = child.stdout.take().expect("piped");
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = compose_err.read_to_string(&mut text);
        text
    });
    // Build output: read so that Compose never blocks on a full pipe, and dropped.
    let builds = std::thread::spawn(move || std::io::copy(&mut compose_out, &mut std::io::sink()));

    let started = Instant::now();
    let started_at = crate::live::engine::now();
    let mut display = Display::new(!up.plain && std::io::stdout().is_terminal());
    let mut watch = Watch::new(up.wait_all);
    let mut compose_status = None;
    let mut previous: Option<Board> = None;
    let (board, timed_out) = loop {
        if compose_status.is_none() {
            compose_status = child.try_wait().ok().flatten();
        }
        let mut containers = engine
            .containers(&plan.project)
            .map_err(|e| Error::Engine(e.to_string()))?;
        // A container from before this `up` may be about to be replaced (stopped, exit 143):
        // until Compose is done, only what it made in this run counts.
        if compose_status.is_none() {
            containers.retain(|c| {
                crate::live::engine::timestamp(&c.created).is_some_and(|t| t >= started_at - 1.0)
            });
        }
        let mut board = Board::read(&plan, &containers);
        if let Some(earlier) = &previous {
            board.remember(earlier);
        }
        for d in watch.look(&plan, &mut board, &engine) {
            display.above(&draw(session, &d));
        }
        let elapsed = started.elapsed().as_secs_f64();
        display.show(&board, elapsed);
        let compose_failed = compose_status.is_some_and(|s| !s.success());
        let done = match board.verdict() {
            Verdict::Done => compose_status.is_some(),
            // Every service is ready, failed, or waits on one that failed: nothing more can
            // change the outcome, and Compose, waiting on a failed service's health, would
            // wait for the engine's verdict.
            Verdict::Failed => board.settled(),
            // Compose gave up before creating or starting some of them: nobody else will.
            _ => compose_failed && nothing_moving(&board),
        };
        if done {
            break (board, false);
        }
        if started.elapsed() > limit {
            break (board, true);
        }
        previous = Some(board);
        std::thread::sleep(POLL);
    };
    let elapsed = started.elapsed().as_secs_f64();
    display.finish(&board, elapsed);
    if compose_status.is_none() {
        // Left running, it would go on starting what the board has given up on.
        let _ = child.kill();
    }
    let status = child.wait().ok();
    let compose_said = said.join().unwrap_or_default();
    let _ = builds.join();

    let mut board = board;
    // Compose names the service it gave up on; a container that has since come back looks
    // fine on the board, and is the cause all the same.
    if compose_status.is_some_and(|s| !s.success()) {
        for service in blamed(&compose_said, &plan.project) {
            board.fail(&plan, &service, "Compose gave up on it");
        }
    }
    let verdict = board.verdict();
    if verdict == Verdict::Done && !timed_out {
        return Ok(None);
    }
    for d in diagnose::diagnose(&plan, &board, &engine, timed_out) {
        if !watch.told.contains_key(&d.service) {
            session.diagnostics.push(d.diagnostic);
        }
    }
    if status.is_some_and(|s| !s.success()) && compose_status.is_some() {
        // Compose's verdict is its last lines; BuildKit's progress (`#12 ...`) is not.
        let tail: Vec<&str> = compose_said
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .rev()
            .take(4)
            .collect();
        let lines: Vec<&str> = tail.into_iter().rev().collect();
        session.summary = Some(format!("docker compose up said:\n  {}", lines.join("\n  ")));
    }
    let failed = board
        .services
        .iter()
        .filter(|r| r.verdict == Verdict::Failed)
        .count();
    if failed > 0 {
        return Err(Error::Unhealthy { failed });
    }
    if status.is_some_and(|s| !s.success()) && compose_status.is_some() && !timed_out {
        // Nothing failed that muster can see: Compose's own error (a port taken, an image
        // that cannot be built) is the story, in the summary above.
        return Err(Error::Engine("docker compose up failed".to_owned()));
    }
    let pending = board
        .services
        .iter()
        .filter(|r| r.verdict != Verdict::Done)
        .count();
    Err(Error::NotUp { pending })
}

/// One diagnosis drawn as every muster error is, for stderr now.
fn draw(session: &Session, d: &Diagnosis) -> Vec<u8> {
    let mut buffer = if session.colored {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    session
        .sources
        .render_to(std::slice::from_ref(&d.diagnostic), &mut buffer);
    buffer.into_inner()
}

/// The services Compose's error names: `container P-S-1 is unhealthy`, `container P-S-1
/// exited (0)`.
fn blamed(said: &str, project: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in said.lines() {
        if let Some(rest) = line.split("dependency failed to start: container ").nth(1)
            && let Some(name) = rest
                .strip_suffix(" is unhealthy")
                .or_else(|| rest.split_once(" exited (").map(|(n, _)| n))
            && let Some(service) = name
                .strip_prefix(&format!("{project}-"))
                .and_then(|n| n.rsplit_once('-'))
                .map(|(s, _)| s.to_owned())
        {
            found.push(service);
        }
    }
    found.sort();
    found.dedup();
    found
}

/// No container is starting or restarting: the board will not change by itself.
fn nothing_moving(board: &Board) -> bool {
    !board
        .services
        .iter()
        .any(|r| matches!(r.state, State::Starting | State::Restarting))
}

#[cfg(test)]
mod tests {
    #[test]
    fn compose_names_the_container_it_gave_up_on() {
        let said = " Container shop-rabbitmq-1  Error\n\
            dependency failed to start: container shop-rabbitmq-1 exited (0)\n\
            dependency failed to start: container shop-postgres_ai-1 is unhealthy\n";
        assert_eq!(super::blamed(said, "shop"), ["postgres_ai", "rabbitmq"]);
        assert!(super::blamed(said, "other").is_empty());
    }
}
