//! The files muster generates for an older Compose, judged by that Compose: Debian 13's
//! `docker-compose` package (Compose 2.26.1, a Go binary that `.ci/install-engine` extracts into
//! `.engine`), which loads and validates a file without a daemon (`config -q`). The engines
//! themselves judge the same files in `tests/engine.rs` (`matrix_...`).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(args: &[&str], out: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "muster {args:?} failed:\n{stderr}");
    stderr
}

/// `config -q` of `file` by `command` (a Compose), with a value for every `${VAR:?...}` the file requires,
/// so that interpolation runs as it would at `up`.
fn config(mut command: Command, file: &Path) -> std::process::Output {
    let text = std::fs::read_to_string(file).unwrap();
    command.arg("-f").arg(file).args(["config", "-q"]);
    for (i, _) in text.match_indices("${") {
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if text[i + 2 + name.len()..].starts_with(":?") {
            command.env(&name, "set-by-the-test");
        }
    }
    command.output().unwrap()
}

#[test]
fn compose_2_26_accepts_every_file_generated_for_it() {
    let compose = common::compose_2_26;
    let dir = tempfile::tempdir().unwrap();
    // The example's `env_file`, which Compose reads relative to the file, beside a copy of the
    // catalogue (whose relative paths `-o` points back at).
    std::fs::write(dir.path().join(".env"), "").unwrap();
    let mut checked = 0;
    for example in ["ecommerce", "minimal"] {
        let catalogue = dir.path().join(format!("{example}.toml"));
        std::fs::copy(
            repo().join(format!("examples/{example}/services.toml")),
            &catalogue,
        )
        .unwrap();
        for profile in ["dev", "prod"] {
            let out = dir.path().join(format!("{example}.{profile}.yml"));
            let said = generate(
                &[
                    "gen",
                    "-c",
                    catalogue.to_str().unwrap(),
                    "--profile",
                    profile,
                    "--requires",
                    "compose=2.26,engine=20.10",
                ],
                &out,
            );
            let text = std::fs::read_to_string(&out).unwrap();
            assert!(!text.contains("start_interval"), "{example} {profile}");
            assert!(
                said.contains("warning[older-target]: `healthcheck.start_interval` left out"),
                "{example} {profile}: {said}"
            );
            let loaded = config(compose(), &out);
            assert!(
                loaded.status.success(),
                "Compose 2.26.1 refused {example} under {profile}:\n{}",
                String::from_utf8_lossy(&loaded.stderr)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

/// The dependency options and a GPU, as a profile gives them, written for Compose 2.26: the
/// options it has are kept, `gpus` becomes the device request it acts on, and it loads the file.
#[test]
fn compose_2_26_loads_dependency_options_and_gpus_as_devices() {
    let compose = common::compose_2_26;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("services.toml"),
        r#"
[services.redis]
kind = "cache"
image = "redis:7.4"

[services.fraud]
kind = "ai-model"
image = "vllm/vllm-openai:v0.6.3"
depends_on = { redis = { restart = true, required = false } }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("profiles/gpu.toml"),
        "extends = \"prod\"\n[kinds.ai-model]\ncompose = { gpus = \"all\" }\n",
    )
    .unwrap();
    let out = dir.path().join("docker-compose.yml");
    let catalogue = dir.path().join("services.toml");
    let said = generate(
        &[
            "gen",
            "-c",
            catalogue.to_str().unwrap(),
            "--profile",
            "gpu",
            "--requires",
            "compose=2.26",
        ],
        &out,
    );
    assert!(said.contains("`gpus` rewritten for Compose 2.26"), "{said}");
    let loaded = compose()
        .arg("-f")
        .arg(&out)
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let model: serde_json::Value = serde_json::from_slice(&loaded.stdout).unwrap();
    let fraud = &model["services"]["fraud"];
    assert_eq!(fraud["depends_on"]["redis"]["restart"], true);
    assert_eq!(fraud["depends_on"]["redis"]["required"], false);
    assert!(fraud.get("gpus").is_none(), "{fraud}");
    let device = &fraud["deploy"]["resources"]["reservations"]["devices"][0];
    assert_eq!(
        device["capabilities"],
        serde_json::json!(["gpu"]),
        "{fraud}"
    );
    assert_eq!(device["count"], -1, "Compose reads `all` as -1: {fraud}");
}

/// The README's table of keys and releases says what `features::FEATURES` says, row by row.
#[test]
fn the_readme_table_lists_every_gated_key_with_its_release() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    // The table under its own heading: the catalogue's key table names some of the same keys.
    let section = readme
        .split("\n## The Compose and Engine you run\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a section `## The Compose and Engine you run`");
    for feature in muster::features::FEATURES {
        let key = feature.key.path().trim_start_matches('/');
        let row = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .find(|l| {
                l.split('|')
                    .nth(1)
                    .is_some_and(|c| c.contains(&format!("`{key}`")))
            })
            .unwrap_or_else(|| panic!("README's version table lacks `{key}`"));
        for (part, version) in [("Compose", feature.compose), ("Engine", feature.engine)] {
            if let Some(v) = version {
                let full = format!("{}.{}.{}", v.major, v.minor, v.patch);
                assert!(
                    row.contains(&full),
                    "README gives `{key}` another {part}: {row}"
                );
            }
        }
    }
}
