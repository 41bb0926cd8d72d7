//! The examples' generated files, compared byte for byte with reviewed golden files, and
//! validated against the Compose Specification. `MUSTER_BLESS=1` rewrites the golden files;
//! review their diff like code before committing it.

mod common;

use common::{assert_valid_compose, golden_diff, repo_root};
use std::process::Command;

const CASES: &[(&str, &str)] = &[
    ("ecommerce", "dev"),
    ("ecommerce", "prod"),
    ("minimal", "dev"),
    ("minimal", "prod"),
];

fn generate(example: &str, profile: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(repo_root())
        .args(["gen", "--profile", profile, "-c"])
        .arg(format!("examples/{example}/services.toml"))
        .output()
        .expect("muster runs");
    assert!(
        output.status.success(),
        "{example} ({profile}) failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "warnings for {example}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn examples_match_their_golden_files() {
    let stale: Vec<String> = CASES
        .iter()
        .filter_map(|(example, profile)| {
            let path = format!("tests/golden/{example}.{profile}.yml");
            golden_diff(&path, &generate(example, profile))
        })
        .collect();
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn golden_files_are_valid_compose() {
    for (example, profile) in CASES {
        assert_valid_compose(&repo_root().join(format!("tests/golden/{example}.{profile}.yml")));
    }
}

#[test]
fn generation_is_byte_identical_across_runs() {
    for (example, profile) in CASES {
        let first = generate(example, profile);
        for _ in 0..3 {
            assert_eq!(first, generate(example, profile), "{example} ({profile})");
        }
    }
}
