//! Any text as a catalogue, through load, resolve, render, validate and emit under both built-in
//! profiles: muster must answer with output or diagnostics, never a panic, and its output must
//! always parse as YAML.

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster::catalogue::Catalogue;
use muster::kinds::Kinds;
use muster::pipeline::{self, Session};
use muster::profile::Profiles;
use muster::resolve::Provenance;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let kinds = Kinds::built_in();
    for profile in ["dev", "prod"] {
        let mut session = Session::default();
        let profiles = Profiles::load(None, &mut session.sources, &mut session.diagnostics)
            .expect("built-in profiles need no I/O");
        let catalogue = Catalogue::parse(
            Path::new("services.toml"),
            text.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        if let Ok(stack) = pipeline::build(
            catalogue,
            &profiles,
            &kinds,
            Some(profile),
            Provenance::Record,
            &mut session,
        ) {
            let output = muster::emit::compose::emit(&stack);
            serde_yaml::from_str::<serde_yaml::Value>(&output).expect("generated output is YAML");
        }
        // Drawing the diagnostics must not panic on any span either.
        let _ = session.render_diagnostics();
    }
});
