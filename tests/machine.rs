//! `muster check --format json` and `--format sarif`: every error and lint with its file, line
//! and column, and a SARIF log that Microsoft's SARIF Multitool (the validator behind GitHub's
//! code scanning ingestion rules) accepts.

mod common;

use common::{Muster, repo_root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Multitool's Linux build, installed by `.ci/install` from npm into `.npm-tools/`.
fn multitool() -> PathBuf {
    let path = repo_root()
        .join(".npm-tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    assert!(
        path.is_file(),
        "the SARIF Multitool is not at {}: run `bash .ci/install`",
        path.display()
    );
    path
}

/// The Multitool's findings about the log at `sarif`, but the one it makes of every log whose
/// tool has no home page (`informationUri`): muster has none to give yet.
fn validate(sarif: &Path) -> Vec<String> {
    let out = sarif.with_extension("validation.sarif");
    let run = Command::new(multitool())
        .arg("validate")
        .arg(sarif)
        .arg("-o")
        .arg(&out)
        .args(["--log", "ForceOverwrite"])
        // .NET wants ICU for culture data unless told not to; the machine may have none.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the Multitool runs");
    assert!(run.status.success(), "the Multitool failed: {run:?}");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["message"]["id"] != "Warning_ProvideToolnformationUri")
        .map(|r| {
            format!(
                "{} {}: {}",
                r["ruleId"], r["level"], r["message"]["arguments"]
            )
        })
        .collect()
}

/// A prod catalogue with lints on three services, and a profile of the user's.
const LINTED: &str = r#"[services.db]
kind = "db"
image = "postgres"
env = { POSTGRES_PASSWORD = "hunter2" }

[services.model]
kind = "ai-model"
build = "./model"
healthcheck = { timeout = "20s", start_period = "10s" }

[services.web]
kind = "http"
image = "nginx:1.27"
restart = "on-failure"
depends_on = ["model"]
"#;

/// Errors in the catalogue and in a user's profile, in one run.
const BROKEN: &str = r#"[services.web]
kind = "http"
image = "nginx:1.27"
depends_on = ["db"]
healthcheck = { interval = "5 seconds" }
"#;

fn check(muster: Muster, format: &str) -> (Value, i32) {
    let run = muster
        .args(&["check", "--profile", "prod", "--format", format])
        .run();
    let value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    (value, run.code)
}

/// (file, line, column, message) of each diagnostic of the JSON format.
fn json_places(json: &Value) -> Vec<(String, u64, u64, String)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let l = &d["location"];
            (
                l["file"].as_str().unwrap().to_owned(),
                // A finding about the whole stack names the catalogue alone; SARIF words that as
                // the whole file, from line 1.
                l["line"].as_u64().unwrap_or(1),
                l["column"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sarif_places(sarif: &Value) -> Vec<(String, u64, u64, String)> {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            let text = r["message"]["text"].as_str().unwrap();
            (
                p["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                p["region"]["startLine"].as_u64().unwrap_or(0),
                p["region"]["startColumn"].as_u64().unwrap_or(0),
                text.lines().next().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn json_and_sarif_place_every_lint() {
    let muster = || Muster::new().catalogue(LINTED);
    let (json, code) = check(muster(), "json");
    assert_eq!(code, 0);
    let places = json_places(&json);
    let lints: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["lint"]
                .as_str()
                .expect("every warning here is a named lint")
        })
        .collect();
    for lint in [
        "unpinned-image",
        "plain-secret",
        "slow-probe-timeout",
        "short-start-period",
        "restart-not-always",
        "no-autoheal",
    ] {
        assert!(lints.contains(&lint), "{lint} missing from {lints:?}");
    }
    // A lint about a value points at the value, where the catalogue wrote it.
    assert!(places.contains(&(
        "services.toml".to_owned(),
        9,
        27,
        "service `model`: healthcheck timeout 20s is over 10s: a hung probe holds dependents back that long each time".to_owned()
    )), "{places:#?}");

    let (sarif, code) = check(muster(), "sarif");
    assert_eq!(code, 0);
    assert_eq!(sarif_places(&sarif), places, "SARIF and JSON disagree");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        assert_eq!(r["level"], "warning");
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lints.sarif");
    std::fs::write(&file, serde_json::to_string(&sarif).unwrap()).unwrap();
    assert_eq!(validate(&file), Vec::<String>::new());
}

#[test]
fn json_and_sarif_place_errors_in_every_file() {
    let muster = || {
        Muster::new()
            .catalogue(&format!(
                "[project]\ndefault_profile = \"prod\"\n\n{BROKEN}"
            ))
            .file(
                "profiles/prod.toml",
                "extends = \"dev\"\n[defaults]\nrestart = \"sometimes\"\n",
            )
    };
    let (json, code) = check(muster(), "json");
    assert_eq!(code, 1, "{json}");
    let places = json_places(&json);
    assert!(json["errors"].as_u64().unwrap() >= 2, "{json:#}");
    let files: Vec<&str> = places.iter().map(|p| p.0.as_str()).collect();
    assert!(files.contains(&"services.toml"), "{places:#?}");
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("prod.toml") && f.starts_with("profiles")),
        "the profile's error is not in the profile: {places:#?}"
    );
    assert!(
        places.contains(&(
            "profiles/prod.toml".to_owned(),
            3,
            11,
            "invalid restart policy \"sometimes\"".to_owned()
        )),
        "{places:#?}"
    );

    let (sarif, code) = check(muster(), "sarif");
    assert_eq!(code, 1);
    assert_eq!(sarif_places(&sarif), places);
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(r["level"], "error", "{r}");
        assert_eq!(r["ruleId"], "error", "{r}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("errors.sarif");
    std::fs::write(&file, serde_json::to_string(&sarif).unwrap()).unwrap();
    assert_eq!(validate(&file), Vec::<String>::new());

    // The validator is not a rubber stamp: the same log without the tool's required name fails.
    let mut broken = sarif.clone();
    broken["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    std::fs::write(&file, serde_json::to_string(&broken).unwrap()).unwrap();
    let findings = validate(&file);
    assert!(
        findings.iter().any(|f| f.contains("JSON1002")),
        "the Multitool missed a missing tool name: {findings:?}"
    );
}

#[test]
fn every_lint_is_listed_and_documented() {
    let run = Muster::new()
        .args(&["check", "--list-lints"])
        .run()
        .success();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty() && !l.starts_with("allow "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(names.len() >= 10, "{}", run.stdout);
    for name in names {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README's lint table lacks `{name}`"
        );
        assert!(
            run.stdout.contains(&format!("{name}  ")),
            "`{name}` has no description"
        );
    }
}
