//! The fuzzer's inputs replayed through the real binary, with the Compose loader as the judge:
//! every Compose and Swarm file `muster gen` writes with exit 0 for one of them passes
//! `docker-compose config -q`. The fuzz target (`fuzz/fuzz_targets/pipeline.rs`) only asks that
//! the output parse as YAML, which says nothing of whether Compose takes it.
//!
//! An input is up to five parts, each after a line `%%`, as the fuzz target reads them: the
//! catalogue, `profiles/staging.toml`, `templates/kinds/custom.yml.j2`,
//! `templates/kinds/http.yml.j2` and the Dockerfile of every build; here they are written as
//! those files next to the catalogue, where `muster` finds a user's profiles and templates, and
//! the Dockerfile (python-slim's when the input has none) in each build context.
//!
//! By default the committed seeds (`fuzz/corpus/pipeline/`). `MUSTER_FUZZ_CORPUS=DIR` replays a
//! local run's corpus instead, e.g. after `cargo fuzz run pipeline DIR`:
//! `MUSTER_FUZZ_CORPUS=/tmp/corpus PATH="$PWD/.venv/bin:$PATH" cargo test --test fuzz_corpus -- --nocapture`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SEPARATOR: &str = "\n%%\n";

#[test]
fn every_file_generated_from_a_fuzz_input_passes_the_compose_loader() {
    let dir = std::env::var_os("MUSTER_FUZZ_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("fuzz/corpus/pipeline"));
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    inputs.sort();
    let (mut replayed, mut written) = (0, 0);
    for input in &inputs {
        let Ok(text) = std::fs::read_to_string(input) else {
            continue; // The fuzzer skips input that is not UTF-8 too.
        };
        replayed += 1;
        written += replay(input, &text);
    }
    println!(
        "{replayed} inputs of {} replayed, {written} files written and accepted by Compose",
        dir.display()
    );
    if std::env::var_os("MUSTER_FUZZ_CORPUS").is_none() {
        // The seeds are chosen to generate: at least the examples must be among the checked.
        assert!(
            written >= 8,
            "only {written} files were generated from the seeds"
        );
    }
}

/// Generates every profile and both Compose-file targets for one input; returns how many files
/// muster wrote (each then accepted by the loader).
fn replay(input: &Path, text: &str) -> usize {
    // The catalogue in `project/`, so that a context outside it (`../backend`) is still inside
    // the temporary folder.
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("project");
    std::fs::create_dir(&work).unwrap();
    let parts: Vec<&str> = text.splitn(5, SEPARATOR).collect();
    let catalogue = parts.first().copied().unwrap_or_default();
    std::fs::write(work.join("services.toml"), catalogue).unwrap();
    let dockerfile = parts.get(4).copied().unwrap_or(common::DEFAULT_DOCKERFILE);
    common::write_dockerfiles(&work, catalogue, dockerfile);
    let mut parts = parts.into_iter().skip(1);
    let profile = parts.next();
    if let Some(profile) = profile {
        std::fs::create_dir(work.join("profiles")).unwrap();
        std::fs::write(work.join("profiles/staging.toml"), profile).unwrap();
    }
    let kinds = work.join("templates/kinds");
    for (kind, template) in ["custom", "http"].into_iter().zip(parts.take(2)) {
        std::fs::create_dir_all(&kinds).unwrap();
        std::fs::write(kinds.join(format!("{kind}.yml.j2")), template).unwrap();
    }
    let profiles: &[&str] = match profile {
        Some(_) => &["dev", "prod", "staging"],
        None => &["dev", "prod"],
    };
    let mut written = 0;
    for profile in profiles {
        for target in ["compose", "swarm"] {
            let out = work.join(format!("{profile}-{target}.yml"));
            let status = Command::new(env!("CARGO_BIN_EXE_muster"))
                .args(["gen", "--profile", profile, "--target", target, "-o"])
                .arg(&out)
                .current_dir(&work)
                .output()
                .unwrap();
            if !status.status.success() {
                continue;
            }
            let loader = |extra: &[&str]| {
                common::tool("docker-compose")
                    .arg("-f")
                    .arg(&out)
                    .args(["config", "-q"])
                    .args(extra)
                    .output()
                    .unwrap()
            };
            let mut compose = loader(&[]);
            // A `${VAR}` without a default, or a required one, is the environment's to fill.
            let said = String::from_utf8_lossy(&compose.stderr);
            if said.contains("variable is not set") || said.contains("required variable") {
                compose = loader(&["--no-interpolate"]);
            }
            assert!(
                compose.status.success(),
                "{} ({profile}, {target}): the Compose loader refused what muster wrote:\n{}\n{}",
                input.display(),
                String::from_utf8_lossy(&compose.stderr),
                std::fs::read_to_string(&out).unwrap_or_default()
            );
            written += 1;
        }
    }
    written
}
