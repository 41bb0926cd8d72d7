//! Bad input, as data: each folder under `tests/cases/` holds the files of one case (a catalogue,
//! and any profiles or templates it needs), `args` (one argument a line; default `gen`) and the
//! expected outcome: `stderr`, and `code` (the exit code). stdout must be empty whenever the
//! code is not 0, and a `compose.yml` a case starts with must come out untouched.
//! `MUSTER_BLESS=1` rewrites `stderr` and `code`; review them like code.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXPECTED: &[&str] = &["args", "stderr", "code"];

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("tests/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// Copies the case's input files (not its expectations) into a fresh folder.
fn copy_inputs(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if EXPECTED.contains(&name.to_str().unwrap()) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_inputs(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn bad_input_cases() {
    let bless = std::env::var_os("MUSTER_BLESS").is_some();
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the suite must cover every kind of mistake"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        copy_inputs(case, dir.path());
        let compose_before = std::fs::read(dir.path().join("compose.yml")).ok();
        let args = std::fs::read_to_string(case.join("args")).unwrap_or_else(|_| "gen\n".into());
        let output = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args.lines().filter(|l| !l.is_empty()))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let code = output.status.code().expect("muster exits, not killed");
        let stderr = String::from_utf8(output.stderr).unwrap();
        if bless {
            std::fs::write(case.join("stderr"), &stderr).unwrap();
            std::fs::write(case.join("code"), format!("{code}\n")).unwrap();
            continue;
        }
        let expected_code: i32 = std::fs::read_to_string(case.join("code"))
            .unwrap_or_else(|_| panic!("{name}: no `code`; run with MUSTER_BLESS=1"))
            .trim()
            .parse()
            .unwrap();
        let expected_stderr = std::fs::read_to_string(case.join("stderr")).unwrap_or_default();
        if code != expected_code {
            failures.push(format!(
                "{name}: exit {code}, expected {expected_code}\n{stderr}"
            ));
        }
        if stderr != expected_stderr {
            let diff = similar::TextDiff::from_lines(&expected_stderr, &stderr)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            failures.push(format!("{name}: stderr differs\n{diff}"));
        }
        if code != 0 && !output.stdout.is_empty() {
            failures.push(format!("{name}: printed on stdout although it failed"));
        }
        if compose_before.is_some()
            && std::fs::read(dir.path().join("compose.yml")).ok() != compose_before
        {
            failures.push(format!("{name}: changed compose.yml although it failed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
