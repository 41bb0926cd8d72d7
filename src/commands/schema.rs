//! `muster schema`: the catalogue's JSON Schema, with the kinds of the templates folder, on
//! stdout or written atomically to `-o FILE`.

use crate::config::Inputs;
use crate::error::Error;
use crate::pipeline::Session;
use crate::schema;
use std::path::Path;

pub fn run(
    inputs: &Inputs,
    output: Option<&Path>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let kinds = super::kinds(inputs)?;
    let text = schema::to_json(&schema::catalogue_schema(&kinds));
    let Some(path) = output else {
        return Ok(Some(text));
    };
    crate::output::write_atomic(path, text.as_bytes()).map_err(Error::io("write", path))?;
    session.summary = Some(format!("wrote {}", path.display()));
    Ok(None)
}
