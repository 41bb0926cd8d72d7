//! `muster check`: every validation `gen` does, plus the lints, with nothing written. For CI and
//! editors: the verdict is the exit code, the findings are on stderr, or on stdout as JSON or
//! SARIF.

use crate::config::{Format, Inputs};
use crate::diagnostic::{Diagnostic, Severity, SourceId};
use crate::error::Error;
use crate::findings::Findings;
use crate::host::{self, Contract, environment::Environment};
use crate::lint;
use crate::live::engine::Engine;
use crate::live::images::{self, Key};
use crate::lock::{self, Lock};
use crate::model::Lint;
use crate::pipeline::{self, Session};
use std::path::{Path, PathBuf};

/// The folder of `file`, `.` for a bare name.
pub(crate) fn folder(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `env_files`: hold the stack against this host too, with the variables of these files over
/// the process environment (`check --env-file`).
pub fn run(
    inputs: &Inputs,
    deny_warnings: bool,
    format: Format,
    env_files: Option<&[PathBuf]>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let result = pipeline::stack(inputs, session).and_then(|mut stack| {
        lint::lint(&stack, &mut session.diagnostics);
        let lock = stack
            .project
            .lock
            .as_ref()
            .map(|lock| compare_lock(&stack, lock, &inputs.catalogue, session));
        let contract = Contract::of(
            &mut stack,
            inputs.target,
            &session.sources,
            &mut session.diagnostics,
        );
        host::check::lints(&contract, &mut session.diagnostics);
        // The file `gen -o` writes by default, beside the catalogue, reads the `.env` there.
        let base = folder(&inputs.catalogue);
        let mut read: Vec<(PathBuf, Option<SourceId>)> = Vec::new();
        if let Some(files) = env_files {
            let env = Environment::read(
                std::env::vars(),
                files,
                &mut session.sources,
                &mut session.diagnostics,
            )?;
            host::check::check(
                &contract,
                &env,
                &base,
                &session.sources,
                &mut session.diagnostics,
            );
            read.extend(env.read.iter().map(|(p, s)| (p.clone(), Some(*s))));
        } else if let Some(default) = host::environment::default_env_file(&base.join("compose.yml"))
        {
            read.push((default, None));
        }
        host::check::tracked_env_files(&read, &mut session.diagnostics);
        if session.diagnostics.has_errors() {
            return Err(Error::Invalid);
        }
        Ok((stack.services.len(), stack.project.profile.clone(), lock))
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
            profile: result.as_ref().ok().map(|(_, p, _)| p.clone()),
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
    let (services, profile, lock) = result?;
    if deny_warnings && warnings > 0 {
        return Err(Error::Warnings { count: warnings });
    }
    session.summary = Some(format!(
        "checked {services} service{} under profile {profile}: {warnings} warning{}{}",
        if services == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        lock.map(|l| format!("; {l}")).unwrap_or_default(),
    ));
    Ok(None)
}

/// Compares each lock entry the stack uses with the image the engine the user's `docker`
/// talks to holds under its reference now: a rebuilt image, or a tag pulled again after it
/// moved, is a `stale-lock` warning at the entry. Without an engine there is nothing to compare
/// with, and the summary says so rather than saying nothing.
fn compare_lock(
    stack: &crate::validate::Stack,
    lock: &Lock,
    catalogue: &std::path::Path,
    session: &mut Session,
) -> String {
    let name = lock
        .path
        .file_name()
        .map_or_else(|| lock::FILE_NAME.into(), |n| n.to_string_lossy());
    let project = images::project_name(stack, catalogue);
    let subjects = images::subjects(stack, &project);
    let compared = match images::compare(&Engine::new(), lock, &subjects) {
        Ok(compared) => compared,
        Err(e) => return format!("{name} not compared with an engine ({e})"),
    };
    for stale in &compared.stale {
        let (entry, what) = match &stale.key {
            Key::Image(reference) => (lock.images.get(reference), format!("`{reference}`")),
            Key::Build(service) => (
                lock.builds.get(service),
                format!("`{}` (the build of `{service}`)", stale.reference),
            ),
        };
        let mut d = Diagnostic::warning(format!(
            "the engine holds another image under {what} than {name} read: {} now, {} then",
            images::short_id(&stale.now),
            images::short_id(&stale.locked)
        ))
        .with_lint(Lint::StaleLock)
        .with_note(
            "the probe was chosen from the programs of the image read then; run `muster images` \
             to read this one, and commit the lock file",
        );
        if let Some(entry) = entry {
            d = d.at(
                lock.source,
                Some(entry.span.clone()),
                "read from the old image",
            );
        }
        session.diagnostics.push(d);
    }
    let mut said = format!(
        "{name}: {} of {} image{} as read",
        compared.current,
        compared.current + compared.stale.len() + compared.absent,
        if compared.current + compared.stale.len() + compared.absent == 1 {
            ""
        } else {
            "s"
        }
    );
    if !compared.stale.is_empty() {
        said.push_str(&format!(", {} changed", compared.stale.len()));
    }
    if compared.absent > 0 {
        said.push_str(&format!(", {} not on this engine", compared.absent));
    }
    said
}
