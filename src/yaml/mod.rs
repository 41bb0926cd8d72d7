//! YAML in and out, in one place: the writer of every file muster generates, the quick reader of
//! kind template output, and the parser for everything else.
//!
//! serde_yaml's value types sit behind this module: the rest of muster names [`Mapping`] and
//! [`Value`] from here and parses through [`parse`] and [`from_str`], so that moving to a
//! maintained fork (serde_yaml is archived) is a change to this file alone.

mod read;
mod write;

pub use serde_yaml::{Error, Mapping, Value};
pub use write::{to_string, write_entry, write_mapping_entry};

/// Any YAML text as a value.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str(text)
}

/// A YAML text that is usually in the small subset kind templates write: through the quick
/// reader when it is, else through serde_yaml, whose errors are then the ones reported.
pub fn parse(text: &str) -> Result<Value, Error> {
    match read::read(text) {
        Some(value) => {
            debug_assert_eq!(
                serde_yaml::from_str::<Value>(text).ok().as_ref(),
                Some(&value),
                "the quick reader and serde_yaml disagree on {text:?}"
            );
            Ok(value)
        }
        None => serde_yaml::from_str(text),
    }
}
