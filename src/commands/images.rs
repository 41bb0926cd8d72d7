//! `muster images`: reads every image the stack runs from the engine the user's `docker` talks
//! to (its configuration, and the programs on its `PATH`, without running it) and writes what it
//! found, by image ID, to the lock file beside the catalogue.

use crate::config::Inputs;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::live::engine::Engine;
use crate::live::images::{self, Key, Subject};
use crate::lock::{self, Entry, Lock};
use crate::pipeline::{self, Session};
use crate::validate::Stack;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// `output`: the file to write, `None` for stdout.
pub fn run(
    inputs: &Inputs,
    output: Option<&Path>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let stack = pipeline::stack_without_lock(inputs, session)?;
    // The lints judge the probes chosen without the lock this command is about to write: for
    // an image it reads, what they say no longer holds.
    session
        .diagnostics
        .retain(|d| d.severity == crate::diagnostic::Severity::Error);
    let project = images::project_name(&stack, &inputs.catalogue);
    let subjects = images::subjects(&stack, &project);
    let old = old_lock(&inputs.catalogue);
    let engine = Engine::new();
    let (mut by_reference, mut by_service) = (BTreeMap::new(), BTreeMap::new());
    let mut report = String::new();
    let (mut read, mut kept, mut absent) = (0, 0, 0);
    for subject in &subjects {
        let label = label(subject);
        let found = images::read(&engine, subject).map_err(|e| Error::Engine(e.to_string()))?;
        let entry = match found {
            Some(entry) => {
                read += 1;
                let _ = writeln!(report, "{label}: {}", described(&entry));
                entry
            }
            None => match old.as_ref().and_then(|l| locked(l, &subject.key)) {
                Some(entry) => {
                    kept += 1;
                    let _ = writeln!(
                        report,
                        "{label}: not on this engine; its entry is kept as it was ({})",
                        images::short_id(&entry.id)
                    );
                    entry.clone()
                }
                None => {
                    absent += 1;
                    let _ = writeln!(report, "{label}: not on this engine");
                    session.diagnostics.push(missing(&stack, subject));
                    continue;
                }
            },
        };
        match &subject.key {
            Key::Image(reference) => by_reference.insert(reference.clone(), entry),
            Key::Build(service) => by_service.insert(service.clone(), entry),
        };
    }
    let text = lock::render(&by_reference, &by_service);
    let written = by_reference.len() + by_service.len();
    let summary = format!(
        "{read} image{} read, {kept} kept, {absent} not on this engine",
        if read == 1 { "" } else { "s" }
    );
    match output {
        Some(path) => {
            crate::output::write_atomic(path, text.as_bytes())
                .map_err(Error::io("write the lock file", path))?;
            crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
                out.write_all(report.as_bytes())
            })?;
            session.summary = Some(format!(
                "wrote {} ({written} entr{}): {summary}",
                path.display(),
                if written == 1 { "y" } else { "ies" }
            ));
            Ok(None)
        }
        None => {
            eprint!("{report}");
            session.summary = Some(summary);
            Ok(Some(text))
        }
    }
}

/// The lock file as it was, for the entries of images this engine does not hold. One muster
/// cannot read is replaced whole.
fn old_lock(catalogue: &Path) -> Option<Lock> {
    let path = lock::beside(catalogue);
    let mut sources = crate::diagnostic::Sources::default();
    let mut diagnostics = crate::diagnostic::Diagnostics::default();
    Lock::load(&path, &mut sources, &mut diagnostics)
        .ok()
        .flatten()
}

fn locked<'l>(lock: &'l Lock, key: &Key) -> Option<&'l Entry> {
    match key {
        Key::Image(reference) => lock.images.get(reference),
        Key::Build(service) => lock.builds.get(service),
    }
    .map(|l| &l.entry)
}

/// `node:20-alpine (web, admin)`, or `shop-api (the build of api)`.
fn label(subject: &Subject) -> String {
    match &subject.key {
        Key::Image(reference) => format!("{reference} ({})", subject.services.join(", ")),
        Key::Build(service) => format!("{} (the build of {service})", subject.reference),
    }
}

/// One line of what an image holds.
fn described(entry: &Entry) -> String {
    let programs = if entry.programs.is_empty() {
        "no shell and no client (probed with the mounted one)".to_owned()
    } else {
        entry.programs.join(" ")
    };
    let mut line = format!("{} {}", images::short_id(&entry.id), entry.platform);
    if let Some(user) = &entry.user {
        let _ = write!(line, ", user {user}");
    }
    if entry.healthcheck.as_deref().is_some_and(|t| t != ["NONE"]) {
        line.push_str(", its own HEALTHCHECK");
    }
    let _ = write!(line, "; programs: {programs}");
    line
}

/// An image of the stack the engine does not hold: gen falls back on muster's table for it.
fn missing(stack: &Stack, subject: &Subject) -> Diagnostic {
    let first = &subject.services[0];
    let how = match subject.key {
        Key::Build(_) => "docker compose build",
        Key::Image(_) => "docker compose pull",
    };
    let mut d = Diagnostic::warning(format!(
        "image `{}` of `{first}` is not on this engine, so the lock file has no entry for it",
        subject.reference
    ))
    .with_note(format!(
        "run `{how}` first, then `muster images` again; until then gen knows it only from \
         muster's own table"
    ));
    if let Some(s) = stack
        .services
        .iter()
        .find(|s| s.rendered.service.name == *first)
    {
        d = d.at(
            stack.project.catalogue_source,
            Some(s.rendered.service.name_span.clone()),
            "this service",
        );
    }
    d
}
