//! YAML in and out, in one place: the writer of every file muster generates, the quick reader of
//! kind template output, and the parser for everything else.
//!
//! The parser and its value types are yaml_serde's (the YAML organization's maintained fork of the
//! archived serde_yaml) and sit behind this module: the rest of muster names [`Mapping`] and
//! [`Value`] from here and parses through [`parse`] and [`from_str`], so that moving to another
//! reader is a change to this folder alone.

mod read;
mod write;

pub use write::{to_string, write_entry, write_mapping_entry};
pub use yaml_serde::{Error, Mapping, Value};

/// Any YAML text as a value.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    yaml_serde::from_str(text)
}

/// A YAML text that is usually in the small subset kind templates write: through the quick
/// reader when it is, else through yaml_serde, whose errors are then the ones reported.
pub fn parse(text: &str) -> Result<Value, Error> {
    match read::read(text) {
        Some(value) => {
            debug_assert_eq!(
                yaml_serde::from_str::<Value>(text).ok().as_ref(),
                Some(&value),
                "the quick reader and yaml_serde disagree on {text:?}"
            );
            Ok(value)
        }
        None => yaml_serde::from_str(text),
    }
}
