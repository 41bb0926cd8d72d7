//! The stack's contract with its host, against the real Compose: `muster env` lists exactly
//! the variables `docker-compose config --variables` (Compose 2.40.3) finds in the generated
//! file, for both examples under every profile and target; a `.env` filled in from
//! `muster env --example` makes the loader accept the file; an empty one is refused by muster,
//! every missing name in one run, before Compose is called.

mod common;

use common::{repo_root, tool, variables_disagree};
use std::path::Path;
use std::process::Command;

/// The examples, each with the profiles it is generated for.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("ecommerce", &["dev", "prod"]),
    ("minimal", &["dev", "prod"]),
];

/// Compose and Swarm files are Compose files, read by the same loader.
const TARGETS: &[&str] = &["compose", "swarm"];

fn muster(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("muster runs")
}

/// The example laid out with what its paths name: the ecommerce one inside the real-engine
/// tests' stack (its builds, gateway and monitoring files), the minimal one with a Dockerfile.
fn laid_out(example: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = if example == "ecommerce" {
        copy_dir(&repo_root().join("tests/engine/stack"), tmp.path());
        tmp.path().join("shop")
    } else {
        let dir = tmp.path().join(example);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM python:3.12-slim\n").unwrap();
        dir
    };
    std::fs::copy(
        repo_root().join(format!("examples/{example}/services.toml")),
        dir.join("services.toml"),
    )
    .unwrap();
    // Swarm runs images only: each build also names the image it is pushed as.
    let catalogue = std::fs::read_to_string(dir.join("services.toml")).unwrap();
    let pushed: String = catalogue
        .lines()
        .map(|line| match line.strip_prefix("build = \"") {
            Some(rest) => {
                let name = rest
                    .trim_end_matches('"')
                    .rsplit('/')
                    .next()
                    .unwrap_or("app");
                let name = if name == "." { "app" } else { name };
                format!("{line}\nimage = \"registry.example.com/{name}:1.0\"\n")
            }
            None => format!("{line}\n"),
        })
        .collect();
    std::fs::write(dir.join("pushed.toml"), pushed).unwrap();
    // The engine tests' own `.env` is theirs; these tests write the one they need.
    let _ = std::fs::remove_file(dir.join(".env"));
    (tmp, dir)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_variables_are_those_compose_finds_in_the_examples() {
    let mut wrong = Vec::new();
    let mut listed = 0;
    for (example, profiles) in EXAMPLES {
        let (_tmp, dir) = laid_out(example);
        for profile in *profiles {
            for target in TARGETS {
                let catalogue = match *target {
                    "swarm" => "pushed.toml",
                    _ => "services.toml",
                };
                let args = ["-c", catalogue, "--profile", profile, "--target", target];
                let generated = muster(&dir, &[&["gen", "-o", "out.yml"], &args[..]].concat());
                assert!(
                    generated.status.success(),
                    "{}",
                    String::from_utf8_lossy(&generated.stderr)
                );
                for w in variables_disagree(&dir, &args, "out.yml") {
                    wrong.push(format!("{example} {profile} {target}: {w}"));
                }
                listed += 1;
            }
        }
    }
    assert_eq!(listed, 8);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The loader's verdict on `file` in `dir`, reading the `.env` there as `up` would, with no
/// other variable set.
fn loader(dir: &Path, file: &str) -> (bool, String) {
    let out = tool("docker-compose")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["-f", file, "config", "-q"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_filled_example_passes_the_loader_and_an_empty_env_is_refused_first() {
    for (example, profiles) in EXAMPLES {
        for profile in *profiles {
            let (_tmp, dir) = laid_out(example);
            let example_env = muster(
                &dir,
                &[
                    "env",
                    "--profile",
                    profile,
                    "--example",
                    "-o",
                    ".env.example",
                ],
            );
            assert!(example_env.status.success());
            let text = std::fs::read_to_string(dir.join(".env.example")).unwrap();
            let required: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_suffix('='))
                .filter(|l| !l.starts_with('#'))
                .map(str::to_owned)
                .collect();
            assert!(!required.is_empty(), "{example} {profile}:\n{text}");

            // Empty: muster names every required variable, in one run, and calls nothing.
            std::fs::write(dir.join(".env"), "").unwrap();
            assert!(
                muster(&dir, &["gen", "--profile", profile, "-o", "compose.yml"])
                    .status
                    .success()
            );
            let (ok, said) = loader(&dir, "compose.yml");
            assert!(!ok, "the loader accepted an empty .env: {said}");
            let check = muster(&dir, &["check", "--profile", profile, "--env-file", ".env"]);
            assert_eq!(check.status.code(), Some(1));
            let stderr = String::from_utf8_lossy(&check.stderr);
            for name in &required {
                assert!(
                    stderr.contains(&format!("required variable `{name}` has no value")),
                    "{example} {profile}: {name} not named:\n{stderr}"
                );
            }
            assert!(!stderr.contains("does not exist"), "{stderr}");
            let up = Command::new(env!("CARGO_BIN_EXE_muster"))
                .current_dir(&dir)
                .env("PATH", "/nonexistent")
                .args(["up", "--profile", profile])
                .output()
                .unwrap();
            let up_said = String::from_utf8_lossy(&up.stderr);
            // Exit 6 would mean it went looking for Compose.
            assert_eq!(up.status.code(), Some(1), "{up_said}");
            for name in &required {
                assert!(up_said.contains(&format!("`{name}`")), "{up_said}");
            }

            // Filled from the example: the loader accepts it, and muster finds nothing missing.
            let filled: String = text
                .lines()
                .map(|l| match l.strip_suffix('=') {
                    Some(name) if !l.starts_with('#') => format!("{name}=filled-{name}\n"),
                    _ => format!("{l}\n"),
                })
                .collect();
            std::fs::write(dir.join(".env"), filled).unwrap();
            let (ok, said) = loader(&dir, "compose.yml");
            assert!(
                ok,
                "{example} {profile}: the loader refused the filled .env: {said}"
            );
            let check = muster(&dir, &["check", "--profile", profile, "--env-file", ".env"]);
            assert!(
                check.status.success(),
                "{example} {profile}: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
}

/// `tracked-env-file`: asked of git itself. A `.env` git tracks is warned of; one it ignores,
/// or one outside a checkout, is not.
#[test]
fn a_tracked_env_file_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = "[services.db]\nkind = \"db\"\nimage = \"postgres:17\"\n\
                     env = { POSTGRES_PASSWORD = \"${PG_PASSWORD:?set it in .env}\" }\n";
    std::fs::write(dir.path().join("services.toml"), catalogue).unwrap();
    std::fs::write(dir.path().join(".env"), "PG_PASSWORD=hunter2\n").unwrap();
    let check = |args: &[&str]| {
        let out = muster(dir.path(), &[&["check"], args].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).contains("warning[tracked-env-file]")
    };
    assert!(!check(&[]), "outside a checkout");
    let git = |args: &[&str]| {
        let out = tool("git")
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    assert!(!check(&[]), "untracked");
    git(&["add", ".env"]);
    assert!(check(&[]), "tracked, read beside the catalogue");
    assert!(
        check(&["--env-file", ".env"]),
        "tracked, given by --env-file"
    );
    git(&["rm", "-q", "--cached", ".env"]);
    std::fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
    assert!(!check(&["--env-file", ".env"]), "ignored");
}
