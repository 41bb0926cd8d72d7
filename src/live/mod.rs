//! Live health: the generated stack as the engine runs it. `up` starts it and watches every
//! service come up, `status` shows the same board once, `doctor` runs one probe by hand; when
//! something is not up, [`diagnose`] says why and which catalogue line to change.
//!
//! - [`plan`]: what the pipeline decided, in the one module that reads its types;
//! - [`engine`]: the user's `docker` CLI and its JSON;
//! - [`board`]: each service's state against the plan;
//! - [`display`]: the board redrawn in place on a terminal, one line per change elsewhere;
//! - [`evidence`]: what the engine shows of a service, gathered before any decision;
//! - [`diagnose`]: the [`cause`] of a service not up, decided from the evidence alone;
//! - [`watch`]: the evidence read as it comes while the stack comes up;
//! - [`tune`]: probe timings measured from the engine's events, and the timings they suggest.

pub mod board;
pub(crate) mod cause;
pub(crate) mod diagnose;
pub mod display;
pub mod engine;
pub(crate) mod evidence;
pub mod image_fs;
pub mod images;
pub mod plan;
pub(crate) mod tune;
pub(crate) mod watch;

use crate::config::Inputs;
use crate::error::Error;
use crate::pipeline::{self, Session};
use crate::resolve::Provenance;
use crate::validate::Stack;
use plan::Plan;
use std::path::Path;
use std::time::Duration;

/// The stack (with provenance, so a diagnosis can say which layer set a value) and its plan.
pub fn load(inputs: &Inputs, file: &Path, session: &mut Session) -> Result<(Stack, Plan), Error> {
    let inputs = Inputs {
        provenance: Provenance::Record,
        ..inputs.clone()
    };
    let stack = pipeline::stack(&inputs, session)?;
    let dir = std::fs::canonicalize(
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
    .ok()
    .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
    .unwrap_or_default();
    let plan = Plan::new(&stack, &session.sources, &dir);
    Ok((stack, plan))
}

/// How long `up` waits before giving up, when not told: long enough for every chain of
/// dependencies to turn healthy, or unhealthy for certain, one service after another, and a
/// margin for Compose to build or create what it must.
pub fn deadline(plan: &Plan) -> Duration {
    let mut ready: Vec<(String, Duration)> = Vec::new();
    for s in &plan.services {
        let own = match s.healthcheck {
            Some(t) => t.start_period + (t.interval + t.timeout) * (t.retries + 1),
            None if s.job => Duration::from_secs(120),
            None => Duration::from_secs(10),
        };
        let after = s
            .depends_on
            .iter()
            .filter_map(|w| ready.iter().find(|(n, _)| *n == w.target).map(|(_, d)| *d))
            .max()
            .unwrap_or_default();
        ready.push((s.name.clone(), after + own));
    }
    ready.into_iter().map(|(_, d)| d).max().unwrap_or_default() + Duration::from_secs(120)
}
