//! Drives the real `muster` binary: a catalogue and other files in a temporary folder, the
//! arguments, and the captured outcome.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_serde::Value;

pub struct Muster {
    dir: tempfile::TempDir,
    args: Vec<String>,
}

impl Muster {
    pub fn new() -> Self {
        Muster {
            dir: tempfile::tempdir().expect("a temporary folder"),
            args: Vec::new(),
        }
    }

    /// `services.toml` in the test's folder.
    pub fn catalogue(self, text: &str) -> Self {
        self.file("services.toml", text)
    }

    /// Any file in the test's folder (`profiles/staging.toml`, `templates/kinds/x.yml.j2`).
    pub fn file(self, path: &str, text: &str) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .output()
            .expect("muster runs");
        Run {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
            code: output.status.code().expect("muster exits, not killed"),
        }
    }
}

/// `muster gen` of `catalogue` under `profile`, which must succeed.
pub fn generate(catalogue: &str, profile: &str) -> Run {
    Muster::new()
        .catalogue(catalogue)
        .args(&["gen", "--profile", profile])
        .run()
        .success()
}

pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "muster failed:\n{}", self.stderr);
        self
    }

    /// Fails with exit code `code`, printing nothing on stdout.
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "a failed run printed:\n{}",
            self.stdout
        );
        self
    }

    /// Asserts that stderr says `needle`, showing the whole of stderr when it does not.
    pub fn says(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "expected {needle:?} on stderr:\n{}",
            self.stderr
        );
        self
    }

    pub fn yaml(&self) -> Value {
        yaml_serde::from_str(&self.stdout).expect("stdout is YAML")
    }

    pub fn service(&self, name: &str) -> Value {
        self.yaml()["services"][name].clone()
    }

    /// The healthcheck `test` of one service, as a list of strings.
    pub fn test(&self, name: &str) -> Vec<String> {
        let test = &self.service(name)["healthcheck"]["test"];
        yaml_serde::from_value(test.clone())
            .unwrap_or_else(|_| panic!("`{name}` has no healthcheck test list: {test:?}"))
    }
}

/// Runs a validator installed by `.ci/install`, failing loudly when it is missing: a test that
/// silently skips proves nothing.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is not on PATH: run `bash .ci/install` and test with \
         `PATH=\"$PWD/.venv/bin:$PATH\" cargo test`"
    );
    Command::new(name)
}

/// The Kubernetes release the manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// Validates Kubernetes manifests with `kubernetes-validate --strict`. It passes a file it could
/// not check with a warning, which proves nothing, so a warning or a skipped document fails too.
pub fn assert_kubernetes_valid<P: AsRef<std::ffi::OsStr>>(paths: &[P]) {
    let output = tool("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(paths)
        .output()
        .expect("kubernetes-validate runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "kubernetes-validate:\n{report}");
    assert!(
        !report.to_lowercase().contains("warn") && !report.contains("skipping"),
        "{report}"
    );
}

/// Validates a Compose file against the Compose Specification's own JSON Schema.
pub fn assert_valid_compose(path: &Path) {
    let output = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(path)
        .output()
        .expect("check-jsonschema runs");
    assert!(
        output.status.success(),
        "{} does not validate against the Compose Specification:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compose 2.26.1, Debian 13's `docker-compose` package, which `.ci/install` extracts into
/// `.engine` (`MUSTER_ENGINE_DIR` elsewhere): the loader of the older declared target. Fails,
/// saying how to install it, when it is missing or another version.
pub fn compose_2_26() -> Command {
    let engine = std::env::var_os("MUSTER_ENGINE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".engine"));
    let binary = engine.join("usr/libexec/docker/cli-plugins/docker-compose");
    assert!(
        binary.is_file(),
        "no Compose 2.26.1 at {}: run `bash .ci/install` (or set MUSTER_ENGINE_DIR)",
        binary.display()
    );
    let version = Command::new(&binary).arg("version").output().unwrap();
    let said = String::from_utf8_lossy(&version.stdout);
    assert!(said.contains("2.26.1"), "{} is {said}", binary.display());
    Command::new(binary)
}

/// Compares `generated` with the reviewed file at `path` (relative to the repository) and returns
/// the unified diff when they differ; under `MUSTER_BLESS=1` rewrites the file instead. A test
/// that checks several files collects the diffs and reports them all at once.
pub fn golden_diff(path: &str, generated: &str) -> Option<String> {
    let file = repo_root().join(path);
    if std::env::var_os("MUSTER_BLESS").is_some() {
        std::fs::write(&file, generated).unwrap();
        return None;
    }
    let golden = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with MUSTER_BLESS=1"));
    (golden != generated).then(|| {
        let diff = similar::TextDiff::from_lines(&golden, generated)
            .unified_diff()
            .header(path, "generated")
            .to_string();
        format!("{path} is stale (MUSTER_BLESS=1 rewrites it, then review the diff):\n{diff}")
    })
}

/// [`golden_diff`] for one file.
pub fn assert_golden(path: &str, generated: &str) {
    if let Some(diff) = golden_diff(path, generated) {
        panic!("{diff}");
    }
}
