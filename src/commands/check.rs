//! `muster check`: every validation `gen` does, plus the lints, with nothing written. For CI and
//! editors: the verdict is the exit code, the findings are on stderr, or on stdout as JSON or
//! SARIF.

use crate::config::{Format, Inputs};
use crate::diagnostic::Severity;
use crate::error::Error;
use crate::findings::Findings;
use crate::lint;
use crate::pipeline::{self, Session};

pub fn run(
    inputs: &Inputs,
    deny_warnings: bool,
    format: Format,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let result = pipeline::stack(inputs, session).map(|stack| {
        lint::lint(&stack, &mut session.diagnostics);
        (stack.services.len(), stack.project.profile.clone())
    });
    // The lints among the rest, in file and line order.
    session.order_diagnostics();
    session.drop_allowed();
    let warnings = session
        .diagnostics
        .as_slice()
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if format != Format::Human {
        // A file that cannot be read is not a finding: it is reported on stderr alone.
        if let Err(error @ (Error::Io { .. } | Error::NoCatalogue { .. })) = result {
            return Err(error);
        }
        let findings = Findings {
            diagnostics: session.diagnostics.as_slice(),
            sources: &session.sources,
            catalogue: inputs.catalogue.display().to_string(),
            profile: result.as_ref().ok().map(|(_, p)| p.clone()),
        };
        let text = match format {
            Format::Json => findings.to_json(),
            _ => findings.to_sarif(),
        };
        session.machine_output = true;
        crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
            out.write_all(text.as_bytes())
        })?;
    }
    let (services, profile) = result?;
    if deny_warnings && warnings > 0 {
        return Err(Error::Warnings { count: warnings });
    }
    session.summary = Some(format!(
        "checked {services} service{} under profile {profile}: {warnings} warning{}",
        if services == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    ));
    Ok(None)
}
