//! The shape ARCHITECTURE.md promises, checked on the source: what a kind is like is asked of its
//! traits, never of its name, and serde_yaml is named in the `yaml` module alone.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of `src/`, with its file relative to `src/`, outside the files `allowed` names.
fn lines_outside(allowed: &[&str]) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed.iter().any(|a| name.starts_with(a)) {
            continue;
        }
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            out.push((name.clone(), line.to_owned()));
        }
    }
    assert!(out.len() > 1000, "src/ was not found or read");
    out
}

#[test]
fn no_stage_tells_a_kind_by_its_name() {
    // The kinds table declares them; import infers a kind's name from a Compose file.
    let by_name: Vec<String> = lines_outside(&["kinds.rs", "import/"])
        .into_iter()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or_default();
            ["kind == \"", "kind != \"", "kind.as_str() == \""]
                .iter()
                .any(|p| code.contains(p))
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        by_name.is_empty(),
        "a stage tests a kind by its name; give the kind a trait in kinds.rs instead:\n{}",
        by_name.join("\n")
    );
}

#[test]
fn no_stage_after_resolve_reads_the_kinds_table() {
    // What they need of a kind is on each resolved service (`Service::traits`).
    let after_resolve = ["emit/", "validate/", "compose_body/", "lint.rs"];
    let excluded = ["kinds.rs", "import/", "commands/", "pipeline.rs"];
    let reads: Vec<String> = lines_outside(&excluded)
        .into_iter()
        .filter(|(file, line)| {
            let code = line.split("//").next().unwrap_or_default();
            after_resolve.iter().any(|a| file.starts_with(a))
                && (code.contains("Kinds::") || code.contains("kinds::"))
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        reads.is_empty(),
        "a stage after resolve reaches back into the kinds table:\n{}",
        reads.join("\n")
    );
}

#[test]
fn serde_yaml_is_named_only_behind_the_yaml_module() {
    let offending: Vec<String> = lines_outside(&["yaml/"])
        .into_iter()
        .filter(|(_, line)| {
            line.split("//")
                .next()
                .unwrap_or_default()
                .contains("serde_yaml")
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "serde_yaml named outside src/yaml/ (use crate::yaml):\n{}",
        offending.join("\n")
    );
}
