//! `muster check`: every validation `gen` does, plus the lints, with nothing written. For CI and
//! editors: the verdict is the exit code, the findings are on stderr.

use crate::config::Inputs;
use crate::error::Error;
use crate::lint;
use crate::pipeline::{self, Session};

pub fn run(
    inputs: &Inputs,
    deny_warnings: bool,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let stack = pipeline::stack(inputs, session)?;
    lint::lint(&stack, &mut session.diagnostics);
    let warnings = session.diagnostics.as_slice().len();
    if deny_warnings && warnings > 0 {
        return Err(Error::Warnings { count: warnings });
    }
    let services = stack.services.len();
    session.summary = Some(format!(
        "checked {services} service{} under profile {}: {warnings} warning{}",
        if services == 1 { "" } else { "s" },
        stack.project.profile,
        if warnings == 1 { "" } else { "s" },
    ));
    Ok(None)
}
