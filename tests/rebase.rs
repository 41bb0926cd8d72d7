//! Paths follow the output: a file written with `-o` into another folder names, through the
//! Compose loader itself, the same build context, Dockerfile, bind sources, env file and secret
//! file as the catalogue did, from every kind of destination (the catalogue's own folder, a
//! sibling, a parent, an absolute path, a folder reached through a symbolic link). The loader
//! (`docker-compose config --format json`, Compose 2.40.3) resolves each relative path against
//! the file's folder; the test compares what it resolved with the catalogue's folder joined to
//! what the catalogue wrote.

mod common;

use std::path::{Component, Path, PathBuf};
use std::process::Command;

const CATALOGUE: &str = r#"[services.web]
kind = "http"
build = { context = "./web", dockerfile = "../docker/web.Dockerfile" }
env_file = ["./config/web.env"]
volumes = ["./config/nginx.conf:/etc/nginx/nginx.conf:ro", "../shared:/shared", "data:/data", "/srv:/srv"]
compose = { secrets = ["api_key"] }

[secrets.api_key]
file = "./secrets/api_key.txt"
"#;

/// A project laid out as the catalogue expects: `project/` with the catalogue, and a `shared/`
/// folder beside it.
fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    for (path, text) in [
        ("project/services.toml", CATALOGUE),
        ("project/web/app.py", "print('hi')\n"),
        ("project/docker/web.Dockerfile", "FROM python:3.12-slim\n"),
        ("project/config/web.env", "FROM_ENV_FILE=yes\n"),
        ("project/config/nginx.conf", "events {}\n"),
        ("project/secrets/api_key.txt", "k\n"),
        ("shared/readme", "shared\n"),
    ] {
        std::fs::create_dir_all(p.join(path).parent().unwrap()).unwrap();
        std::fs::write(p.join(path), text).unwrap();
    }
    root
}

/// `path` with `.` and `..` resolved as text, as Compose resolves them.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What the loader resolved, reading `file` as `docker compose -f file` would from `cwd`.
fn resolved(cwd: &Path, file: &str) -> serde_json::Value {
    let out = common::tool("docker-compose")
        .current_dir(cwd)
        .args(["-f", file, "config", "--format", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the loader refused {file} (from {}):\n{}",
        cwd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Generates from `project/` (the current folder `cwd`, relative to the root) into `output`,
/// and checks every path the loader resolves.
fn check_destination(root: &Path, cwd: &str, catalogue: &str, output: &str) -> String {
    let cwd = root.join(cwd);
    let run = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(&cwd)
        .args(["gen", "-c", catalogue, "-o", output])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "muster gen -o {output}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc = resolved(&cwd, output);
    let web = &doc["services"]["web"];
    let project = root.join("project");
    let at = |p: &str| lexical(&project.join(p)).to_string_lossy().into_owned();
    let context = web["build"]["context"].as_str().unwrap();
    assert_eq!(context, at("web"), "build context, written to {output}");
    // The Dockerfile is read relative to the context: muster leaves it as written.
    let dockerfile = web["build"]["dockerfile"].as_str().unwrap();
    assert_eq!(dockerfile, "../docker/web.Dockerfile");
    assert!(Path::new(context).join(dockerfile).is_file());
    let sources: Vec<&str> = web["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            at("config/nginx.conf").as_str(),
            at("../shared").as_str(),
            "data",
            "/srv"
        ],
        "written to {output}"
    );
    assert_eq!(web["environment"]["FROM_ENV_FILE"], "yes", "env_file");
    assert_eq!(
        doc["secrets"]["api_key"]["file"].as_str().unwrap(),
        at("secrets/api_key.txt")
    );
    let written = lexical(&cwd.join(output));
    std::fs::read_to_string(&written).unwrap()
}

#[test]
fn every_destination_names_the_same_files() {
    let root = project();
    let r = root.path();
    std::fs::create_dir_all(r.join("deploy")).unwrap();
    std::fs::create_dir_all(r.join("elsewhere/real")).unwrap();
    std::os::unix::fs::symlink("../elsewhere/real", r.join("project/linked")).unwrap();
    let out_of_tree = tempfile::tempdir().unwrap();
    let absolute = out_of_tree.path().join("compose.yml");

    let beside = check_destination(r, "project", "services.toml", "compose.yml");
    assert!(beside.contains("context: ./web\n"), "{beside}");
    let sibling = check_destination(r, "project", "services.toml", "../deploy/compose.yml");
    assert!(sibling.contains("context: ../project/web\n"), "{sibling}");
    assert!(sibling.contains("- ../shared:/shared\n"), "{sibling}");
    let parent = check_destination(r, ".", "project/services.toml", "compose.yml");
    assert!(parent.contains("context: ./project/web\n"), "{parent}");
    let child = check_destination(r, "project", "services.toml", "linked/compose.yml");
    assert!(child.contains("context: ../web\n"), "{child}");
    // Written through the link into the folder it leads to.
    assert!(r.join("elsewhere/real/compose.yml").is_file());
    let far = check_destination(r, "project", "services.toml", absolute.to_str().unwrap());
    assert!(far.contains("- ../"), "{far}");
    // The same paths from the absolute path given to Compose, not only from where muster ran.
    resolved(Path::new("/"), absolute.to_str().unwrap());
    // On stdout the paths are the catalogue's, and the header says so.
    let stdout = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(r.join("project"))
        .arg("gen")
        .output()
        .unwrap();
    let stdout = String::from_utf8(stdout.stdout).unwrap();
    assert!(stdout.contains("context: ./web\n"));
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains("Relative paths are")
    );
    assert!(!beside.contains("Relative paths are"));
}

#[test]
fn check_compares_the_rebased_file() {
    let root = project();
    let r = root.path();
    std::fs::create_dir_all(r.join("deploy")).unwrap();
    let generate = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_muster"))
            .current_dir(r.join("project"))
            .args(["gen", "-o", "../deploy/compose.yml"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(generate(&[]).status.success());
    let fresh = generate(&["--check"]);
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stdout)
    );
    // The same file as the catalogue's folder would have it is stale there.
    let as_given = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(r.join("project"))
        .arg("gen")
        .output()
        .unwrap();
    std::fs::write(r.join("deploy/compose.yml"), &as_given.stdout).unwrap();
    let stale = generate(&["--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&stale.stdout);
    assert!(
        diff.contains("-    build:\n") || diff.contains("+      context: ../project/web"),
        "{diff}"
    );
}
