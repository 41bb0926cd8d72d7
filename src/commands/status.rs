//! `muster status`: the board of a project already running, once, with the diagnosis of every
//! service that is not up; `--json` gives both to machines.

use crate::config::Inputs;
use crate::error::Error;
use crate::live::board::{Board, Verdict};
use crate::live::engine::Engine;
use crate::live::watch::Watch;
use crate::live::{self, diagnose};
use crate::pipeline::Session;
use std::path::Path;

pub fn run(
    inputs: &Inputs,
    file: &Path,
    json: bool,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let (_, plan) = live::load(inputs, file, session)?;
    let engine = Engine::new();
    let containers = engine
        .containers(&plan.project)
        .map_err(|e| Error::Engine(e.to_string()))?;
    if containers.is_empty() {
        session.summary = Some(format!(
            "no container of project `{}` on this engine: start it with `muster up`",
            plan.project
        ));
    }
    let mut board = Board::read(&plan, &containers);
    // The same reading as `up`'s: a starting service whose probes prove a cause time cannot
    // cure has failed; one whose probes suggest a cause shows it.
    let mut watch = Watch::new(false);
    let mut diagnoses = watch.look(&plan, &mut board, &engine);
    diagnoses.extend(
        diagnose::diagnose(&plan, &board, &engine, false)
            .into_iter()
            .filter(|d| !watch.told.contains_key(&d.service)),
    );
    let order = |name: &str| board.services.iter().position(|r| r.service == name);
    diagnoses.sort_by_key(|d| order(&d.service));
    let text = if json {
        let value = serde_json::json!({
            "project": board.project,
            "profile": board.profile,
            "verdict": board.verdict(),
            "ready_in": board.ready_in,
            "services": board.services,
            "diagnoses": diagnoses
                .iter()
                .map(|d| d.to_json(&plan, &session.sources))
                .collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&value).expect("the board serializes");
        text.push('\n');
        text
    } else {
        for d in &diagnoses {
            session.diagnostics.push(d.diagnostic.clone());
        }
        let mut text = board.lines(None).join("\n");
        text.push('\n');
        text
    };
    // The board is the answer whatever it says: printed before the verdict's exit code.
    crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
        out.write_all(text.as_bytes())
    })?;
    let count = |v: Verdict| board.services.iter().filter(|r| r.verdict == v).count();
    match board.verdict() {
        Verdict::Done => Ok(None),
        Verdict::Failed => Err(Error::Unhealthy {
            failed: count(Verdict::Failed),
        }),
        Verdict::Pending | Verdict::Blocked => Err(Error::NotUp {
            pending: count(Verdict::Pending),
        }),
    }
}
