//! `muster import FILE`: a catalogue draft from an existing Compose file.
//!
//! Three steps. Read: YAML anchors and merge keys resolved, `extends` flattened, `x-` fields
//! set aside. Map: each service's kind and engine inferred from its image, command and
//! healthcheck, every Compose key muster models moved onto its catalogue key, and the rest kept
//! under `compose`. Minimize: the draft is run through the real pipeline under the profile the
//! file was written for, and whatever muster would generate anyway is left out: the kind's probe,
//! timings equal to the profile's, the profile's restart policy, a Celery command, `depends_on`
//! conditions muster infers. That is what makes `gen` of an import of a generated file give the
//! same file back, and what keeps a draft of a hand-written file short.
//!
//! Every service gets a comment saying where its kind came from, and what could not be carried
//! over.
//!
//! One file a step: [`read`] (the file, and the draft's entries from its services), [`map`]
//! (Compose keys onto catalogue keys), [`infer`] (the kind, the engine, and what the kind's
//! template needs), [`minimize`] (what the pipeline generates anyway, left out) and
//! [`write`](mod@write) (the draft as commented TOML).

mod infer;
mod map;
mod minimize;
mod read;
mod write;

use crate::config::Inputs;
use crate::error::Error;
use crate::kinds::Kinds;
use crate::pipeline::Session;
use crate::yaml::{Mapping, Value as Yaml};
use std::path::Path;

/// How `import -` names standard input, in diagnostics and in the draft's header; `extends`
/// files are then found from the current folder.
pub(crate) const STDIN: &str = "<stdin>";

/// The catalogue draft of the Compose file at `compose`, for `profile`, as commented TOML.
pub(crate) fn draft(
    inputs: &Inputs,
    compose: &Path,
    profile: &str,
    kinds: &Kinds,
    session: &mut Session,
) -> Result<String, Error> {
    let file = read::read(compose, session)?;
    let mut draft = CatalogueDraft::new(file, compose, kinds, session)?;
    draft.minimize(inputs, profile)?;
    Ok(draft.to_toml(compose, profile))
}

/// One service of the draft.
#[derive(Clone)]
struct DraftEntry {
    name: String,
    kind: String,
    /// Why this kind, for the comment above the entry.
    reason: String,
    guessed: bool,
    /// Catalogue keys (but `kind` and `compose`), as YAML values until the TOML is written.
    keys: Mapping,
    /// Compose keys muster does not model, passed through.
    compose: Mapping,
    /// Each dependency with the condition the source asked for (Compose's name).
    depends_on: Vec<(String, String)>,
    /// A dependency's `restart` and `required`, where the source says, by target.
    dependency_options: indexmap::IndexMap<String, Mapping>,
    /// The service as the source file defines it, `extends` applied.
    source: Mapping,
    notes: Vec<String>,
}

struct CatalogueDraft {
    project_name: Option<String>,
    entries: Vec<DraftEntry>,
    /// The top-level `volumes`, `networks`, `secrets` and `configs`, by section, each
    /// resource's settings as its catalogue table.
    resources: Mapping,
    notes: Vec<String>,
}

impl DraftEntry {
    fn set(&mut self, key: &str, value: Yaml) {
        self.keys.insert(Yaml::from(key), value);
    }

    fn test(&self) -> Option<&Yaml> {
        self.source.get("healthcheck").and_then(|h| h.get("test"))
    }
}
