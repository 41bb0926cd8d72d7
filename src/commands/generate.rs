//! `muster gen`: the Compose file (or the Swarm stack file, or the Kubernetes manifests), on
//! stdout or written atomically to `-o FILE`, or compared with it under `--check`.

use crate::config::Inputs;
use crate::emit::{self, Target};
use crate::error::Error;
use crate::pipeline::{self, Session};
use std::path::Path;

pub fn run(
    inputs: &Inputs,
    output: Option<&Path>,
    check: bool,
    target: Target,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let stack = pipeline::stack(inputs, session)?;
    let text = emit::emit(target, &stack, &mut session.diagnostics);
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    match (output, check) {
        (None, _) => Ok(Some(text)),
        (Some(path), false) => {
            crate::output::write_atomic(path, text.as_bytes()).map_err(Error::io("write", path))?;
            Ok(None)
        }
        (Some(path), true) => {
            let current = match std::fs::read_to_string(path) {
                Ok(current) => current,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(Error::io("read", path)(e)),
            };
            if current == text {
                return Ok(None);
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
