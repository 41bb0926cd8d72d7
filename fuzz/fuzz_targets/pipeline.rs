//! Any text as a catalogue, a user's profile and a user's kind templates, through load, resolve,
//! render, validate and every target's emitter: muster must answer with output or diagnostics,
//! never a panic, and all it emits must parse as YAML.
//!
//! An input is up to five parts, each after a line `%%`: the catalogue, `profiles/staging.toml`,
//! `templates/kinds/custom.yml.j2` (a kind of the user's own), `templates/kinds/http.yml.j2`
//! (a user's template replacing a built-in one) and the Dockerfile of every build. A catalogue
//! alone is an input too, so the examples seed the corpus as they are; its builds then read
//! python-slim's Dockerfile, as `tests/fuzz_corpus.rs` writes them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster::catalogue::Catalogue;
use muster::emit::Target;
use muster::kinds::Kinds;
use muster::pipeline::{self, Session};
use muster::profile::Profiles;
use muster::resolve::Provenance;
use std::path::Path;

const SEPARATOR: &str = "\n%%\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.splitn(5, SEPARATOR).collect();
    let catalogue = parts.first().copied().unwrap_or_default();
    let profile = parts.get(1).copied();
    let templates: Vec<(&str, &str)> = ["custom", "http"]
        .into_iter()
        .zip(parts.iter().skip(2).take(2).copied())
        .collect();
    let dockerfile = parts.get(4).copied().unwrap_or("FROM python:3.12-slim\n");
    let mut kinds = Kinds::built_in();
    for (kind, template) in &templates {
        kinds.add_user_template(
            kind,
            Path::new(&format!("templates/kinds/{kind}.yml.j2")),
            template.to_string(),
        );
    }
    let names: &[&str] = match profile {
        Some(_) => &["dev", "prod", "staging"],
        None => &["dev", "prod"],
    };
    for name in names {
        let mut session = Session::default();
        let mut profiles = Profiles::load(None, &mut session.sources, &mut session.diagnostics)
            .expect("built-in profiles need no I/O");
        if let Some(profile) = profile {
            profiles.add_text(
                "staging",
                Path::new("profiles/staging.toml"),
                profile.to_owned(),
                &mut session.sources,
                &mut session.diagnostics,
            );
        }
        let mut catalogue = Catalogue::parse(
            Path::new("services.toml"),
            catalogue.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        if let Some(catalogue) = &mut catalogue {
            let builds: Vec<_> = catalogue.builds().cloned().collect();
            for build in &builds {
                catalogue.dockerfiles.insert(build, dockerfile.to_owned());
            }
        }
        if let Ok(stack) = pipeline::build(
            catalogue,
            &profiles,
            &kinds,
            Some(name),
            Provenance::Record,
            &mut session,
        ) {
            for target in [Target::Compose, Target::Swarm, Target::Kubernetes] {
                let output = muster::emit::emit(
                    target,
                    &stack,
                    &session.sources,
                    &mut session.diagnostics,
                );
                // Kubernetes manifests are one document per object.
                for document in yaml_serde::Deserializer::from_str(&output) {
                    <yaml_serde::Value as serde::Deserialize>::deserialize(document)
                        .unwrap_or_else(|e| panic!("{target:?} output is not YAML: {e}\n{output}"));
                }
            }
        }
        // Drawing the diagnostics must not panic on any span either.
        let _ = session.render_diagnostics();
    }
});
