//! `muster doctor SERVICE`: the service's probe, run now inside its container as the engine
//! runs it, with its output, exit code and time against the timeout, then the diagnosis.

use crate::config::Inputs;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::live;
use crate::live::board::Board;
use crate::live::diagnose::{self, secs};
use crate::live::engine::Engine;
use crate::live::evidence::{Manual, probe_argv};
use crate::pipeline::Session;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// How much of a probe's output is shown.
const SHOWN_LINES: usize = 8;

pub fn run(
    inputs: &Inputs,
    file: &Path,
    name: &str,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let (_, plan) = live::load(inputs, file, session)?;
    let Some(service) = plan.service(name) else {
        let names: Vec<&str> = plan.services.iter().map(|s| s.name.as_str()).collect();
        let mut d = Diagnostic::error(format!("the catalogue has no service `{name}`"))
            .with_note(format!("services: {}", names.join(", ")));
        if let Some(hint) = crate::suggest::did_you_mean(name, names.iter().copied()) {
            d = d.with_note(hint);
        }
        session.diagnostics.push(d);
        return Err(Error::Invalid);
    };
    let engine = Engine::new();
    let containers = engine
        .containers(&plan.project)
        .map_err(|e| Error::Engine(e.to_string()))?;
    let board = Board::read(&plan, &containers);
    let row = board.row(name).expect("every planned service has a row");
    let mut out = format!("{name}: {}", row.state_text());
    let running = row
        .container
        .as_ref()
        .filter(|c| c.state.status == "running");
    let manual = match running {
        Some(c) => {
            let test = c
                .config
                .healthcheck
                .as_ref()
                .map(|h| h.test.clone())
                .unwrap_or_default();
            let argv: Vec<String> = probe_argv(&test).unwrap_or_default();
            if argv.is_empty() {
                let _ = writeln!(out, "\n`{name}` has no healthcheck to run");
                None
            } else {
                let timeout = service
                    .healthcheck
                    .map_or(Duration::from_secs(30), |t| t.timeout);
                let _ = writeln!(
                    out,
                    " (container {})\nprobe: {}",
                    c.short_id(),
                    shown(&test)
                );
                // Past the timeout, so that a slow probe's own time can be told.
                let ran = engine
                    .exec(&c.id, &argv, timeout * 2 + Duration::from_secs(10))
                    .map_err(|e| Error::Engine(e.to_string()))?;
                let verdict = match ran.exit {
                    Some(0) if ran.took <= timeout => "passed",
                    Some(_) if ran.took > timeout => "too slow: the engine stops it at the timeout",
                    Some(_) => "failed",
                    None => "did not finish: the engine stops it at the timeout",
                };
                let exit = ran
                    .exit
                    .map_or_else(|| "none".to_owned(), |e| e.to_string());
                let _ = writeln!(
                    out,
                    "exit {exit} after {} (timeout {}): {verdict}",
                    secs(ran.took),
                    secs(timeout)
                );
                let text = ran.output.trim_end();
                let lines: Vec<&str> = text.lines().collect();
                // A client's traceback ends with what went wrong; its start is the client's.
                let shown = &lines[lines.len().saturating_sub(SHOWN_LINES)..];
                match (lines.len(), shown.len()) {
                    (0, _) => out.push_str("output: none\n"),
                    (all, n) if all > n => {
                        let _ = writeln!(out, "output (its last {n} of {all} lines):");
                    }
                    _ => out.push_str("output:\n"),
                }
                for line in shown {
                    let _ = writeln!(out, "  | {line}");
                }
                Some(Manual {
                    output: ran.output,
                    exit: ran.exit,
                    took: ran.took,
                })
            }
        }
        None => {
            out.push_str(": not running, so its probe cannot run\n");
            None
        }
    };
    crate::output::write_stdout(&mut std::io::stdout().lock(), |o| {
        o.write_all(out.as_bytes())
    })?;
    let passed = manual.as_ref().is_some_and(|m| {
        m.exit == Some(0) && m.took <= service.healthcheck.map_or(Duration::MAX, |t| t.timeout)
    });
    if passed && row.verdict != live::board::Verdict::Failed {
        return Ok(None);
    }
    let d = diagnose::one(&plan, &board, &engine, service, row, manual);
    session.diagnostics.push(d.diagnostic);
    Err(Error::Unhealthy { failed: 1 })
}

/// A healthcheck test as the engine holds it, readable.
fn shown(test: &[String]) -> String {
    match test.first().map(String::as_str) {
        Some("CMD-SHELL") => format!("CMD-SHELL {}", test[1..].join(" ")),
        Some("CMD") => format!(
            "CMD {}",
            shlex::try_join(test[1..].iter().map(String::as_str)).unwrap_or_default()
        ),
        _ => test.join(" "),
    }
}
