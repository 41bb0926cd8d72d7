//! `muster schema`: the catalogue's JSON Schema, with the kinds of the templates folder.

use crate::config::Inputs;
use crate::error::Error;
use crate::schema;

pub fn run(inputs: &Inputs) -> Result<Option<String>, Error> {
    let kinds = super::kinds(inputs)?;
    Ok(Some(schema::to_json(&schema::catalogue_schema(&kinds))))
}
