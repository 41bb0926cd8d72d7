//! `muster gen`: the Compose file (or the Swarm stack file, or the Kubernetes manifests), on
//! stdout or written atomically to `-o FILE`, or compared with it under `--check`.

use crate::config::Inputs;
use crate::emit::{self, Target};
use crate::error::Error;
use crate::pipeline::{self, Session};
use std::io::Write;
use std::path::Path;

/// Writes the output to `-o FILE`, or to `stdout` when there is none.
pub fn run(
    inputs: &Inputs,
    output: Option<&Path>,
    check: bool,
    target: Target,
    session: &mut Session,
    stdout: &mut dyn Write,
) -> Result<(), Error> {
    // Never freed: the process exits as soon as the output is written, and the system takes
    // its pages back at once, whereas freeing the stack map by map cost 5% of `muster gen`
    // (BENCHMARKS.md). `muster gen` runs once per process, so nothing accumulates.
    let stack = std::mem::ManuallyDrop::new(pipeline::stack(inputs, session)?);
    // A Compose file is written as it is produced: its emitter finds no problems, and the stack
    // is already valid. The other targets report what they cannot express while emitting, so
    // their text is complete, and checked, before any of it is written.
    let text = match target {
        Target::Compose => None,
        _ => Some(emit::emit(target, &stack, &mut session.diagnostics)),
    };
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let write = |sink: &mut dyn Write| match &text {
        Some(text) => sink.write_all(text.as_bytes()),
        None => emit::compose::write(&stack, sink),
    };
    match (output, check) {
        (None, _) => crate::output::write_stdout(stdout, write),
        (Some(path), false) => {
            crate::output::write_atomic_with(path, write).map_err(Error::io("write", path))
        }
        (Some(path), true) => {
            let text = text.unwrap_or_else(|| emit::compose::emit(&stack));
            let current = match std::fs::read_to_string(path) {
                Ok(current) => current,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(Error::io("read", path)(e)),
            };
            if current == text {
                return Ok(());
            }
            let name = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&current, &text)
                .unified_diff()
                .header(&name, &format!("{name} (generated)"))
                .to_string();
            Err(Error::Stale {
                path: path.to_owned(),
                diff,
            })
        }
    }
}
