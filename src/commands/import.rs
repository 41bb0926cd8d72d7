//! `muster import FILE`: a catalogue draft from an existing Compose file (the steps are in
//! `crate::import`), on stdout or written to `-o FILE`, which must not exist yet.

use crate::config::Inputs;
use crate::error::Error;
use crate::pipeline::Session;
use std::path::Path;

pub fn run(
    inputs: &Inputs,
    compose: Option<&Path>,
    output: Option<&Path>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let compose = compose.unwrap_or(Path::new(crate::import::STDIN));
    let kinds = super::kinds(inputs)?;
    let profile = inputs.profile.clone().unwrap_or_else(|| "dev".to_owned());
    let text = crate::import::draft(inputs, compose, &profile, &kinds, session)?;
    match output {
        None => Ok(Some(text)),
        Some(path) => {
            write_new(path, &text)?;
            Ok(None)
        }
    }
}

/// A catalogue is edited by hand: an import never replaces one.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}
