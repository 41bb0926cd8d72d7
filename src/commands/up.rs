//! `muster up`: the Compose file written as `gen -o` writes it, `docker compose up -d` on it,
//! and a live board until every service is healthy or completed, one fails, or the deadline
//! passes; then the diagnosis of each service that is not up.

use crate::config::{Inputs, Up};
use crate::emit;
use crate::error::Error;
use crate::live::board::{Board, Verdict};
use crate::live::display::Display;
use crate::live::engine::Engine;
use crate::live::{self, diagnose};
use crate::pipeline::Session;
use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

/// How often the engine is asked: probes run every few seconds at the fastest, and each look
/// costs two `docker` processes.
const POLL: Duration = Duration::from_millis(1000);

pub fn run(inputs: &Inputs, up: &Up, session: &mut Session) -> Result<Option<String>, Error> {
    let limit = match &up.timeout {
        Some(text) => Some(
            crate::model::duration::parse(text)
                .map_err(|e| Error::Engine(format!("--timeout {text}: {e}")))?,
        ),
        None => None,
    };
    let (stack, plan) = live::load(inputs, &up.file, session)?;
    crate::output::write_atomic_with(&up.file, |sink| emit::compose::write(&stack, sink))
        .map_err(Error::io("write", &up.file))?;
    drop(stack);
    let engine = Engine::new()
        .with_compose()
        .map_err(|e| Error::Engine(e.to_string()))?;
    let limit = limit.unwrap_or_else(|| live::deadline(&plan));
    let mut child = engine
        .compose_up(&up.file, &up.compose_args)
        .map_err(|e| Error::Engine(e.to_string()))?;
    // Compose reports its progress on stderr; kept, not shown, so it cannot tear the board,
    // and printed when it fails.
    let mut compose_err = child.stderr.take().expect("piped");
    let mut compose_out = child.stdout.take().expect("piped");
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = compose_err.read_to_string(&mut text);
        let _ = compose_out.read_to_string(&mut text);
        text
    });

    let started = Instant::now();
    let mut display = Display::new(!up.plain && std::io::stdout().is_terminal());
    let mut compose_status = None;
    let mut failed_since: Option<Instant> = None;
    let (board, timed_out) = loop {
        if compose_status.is_none() {
            compose_status = child.try_wait().ok().flatten();
        }
        let containers = engine
            .containers(&plan.project)
            .map_err(|e| Error::Engine(e.to_string()))?;
        let board = Board::read(&plan, &containers);
        let elapsed = started.elapsed().as_secs_f64();
        display.show(&board, elapsed);
        let compose_failed = compose_status.is_some_and(|s| !s.success());
        match board.verdict() {
            Verdict::Done if compose_status.is_some() => break (board, false),
            // One failure ends the wait, after a moment in which Compose, which gives up on
            // a failed dependency at once, can say so itself.
            Verdict::Failed => {
                let since = *failed_since.get_or_insert_with(Instant::now);
                if compose_status.is_some() || since.elapsed() > Duration::from_secs(3) {
                    break (board, false);
                }
            }
            // Compose gave up before creating or starting some of them: nobody else will.
            _ if compose_failed && nothing_moving(&board) => break (board, false),
            _ => {}
        }
        if started.elapsed() > limit {
            break (board, true);
        }
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

    let verdict = board.verdict();
    if verdict == Verdict::Done && !timed_out {
        return Ok(None);
    }
    for d in diagnose::diagnose(&plan, &board, &engine, timed_out) {
        session.diagnostics.push(d.diagnostic);
    }
    if status.is_some_and(|s| !s.success()) && compose_status.is_some() {
        let tail: Vec<&str> = compose_said
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(6)
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

/// No container is starting or restarting: the board will not change by itself.
fn nothing_moving(board: &Board) -> bool {
    use crate::live::board::State;
    !board
        .services
        .iter()
        .any(|r| matches!(r.state, State::Starting | State::Restarting))
}
