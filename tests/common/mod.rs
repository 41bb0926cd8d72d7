//! Drives the real `muster` binary: a catalogue and other files in a temporary folder, the
//! arguments, and the captured outcome.

#![allow(dead_code)] // Each test crate uses its own part of this module.

use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_serde::Value;

pub struct Muster {
    /// Holds `project/`, where muster runs, so that a build context outside it (`../backend`)
    /// is still inside the test's own folder.
    dir: tempfile::TempDir,
    args: Vec<String>,
}

/// The Dockerfile a build context gets when the test writes none: the python-slim base of the
/// services muster was made for, so that tests about other things see the probe they expect.
pub const DEFAULT_DOCKERFILE: &str = "FROM python:3.12-slim\n";

impl Muster {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir(dir.path().join("project")).unwrap();
        Muster {
            dir,
            args: Vec::new(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    /// `services.toml` in the test's folder, and [`DEFAULT_DOCKERFILE`] in each build context
    /// it names that has no Dockerfile yet (write one with [`Muster::file`] after this to say
    /// otherwise).
    pub fn catalogue(self, text: &str) -> Self {
        let this = self.file("services.toml", text);
        write_dockerfiles(&this.root(), text, DEFAULT_DOCKERFILE);
        this
    }

    /// Any file in the test's folder (`profiles/staging.toml`, `templates/kinds/x.yml.j2`).
    pub fn file(self, path: &str, text: &str) -> Self {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    pub fn run(&self) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(&self.args)
            .current_dir(self.root())
            .output()
            .expect("muster runs");
        Run {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
            code: output.status.code().expect("muster exits, not killed"),
        }
    }
}

/// `dockerfile` in each build context `catalogue` (the text of a `services.toml` in `root`)
/// names that has no Dockerfile yet; a catalogue that does not parse names none.
pub fn write_dockerfiles(root: &Path, catalogue: &str, dockerfile: &str) {
    let Ok(table) = catalogue.parse::<toml::Table>() else {
        return;
    };
    let mut builds = Vec::new();
    let services = table.get("services").and_then(|s| s.as_table());
    for (_, spec) in services.into_iter().flatten() {
        let overrides = spec.get("profiles").and_then(|p| p.as_table());
        for layer in std::iter::once(spec).chain(overrides.into_iter().flat_map(|o| o.values())) {
            match layer.get("build") {
                Some(toml::Value::String(context)) => builds.push((context.clone(), None)),
                Some(toml::Value::Table(build)) if !build.contains_key("dockerfile_inline") => {
                    let context = build.get("context").and_then(|c| c.as_str()).unwrap_or(".");
                    let name = build.get("dockerfile").and_then(|d| d.as_str());
                    builds.push((context.to_owned(), name.map(str::to_owned)));
                }
                _ => {}
            }
        }
    }
    for (context, name) in builds {
        // A context from the environment or a URL is not a folder to write into.
        if context.contains(['$', ':']) {
            continue;
        }
        let path = root
            .join(context)
            .join(name.as_deref().unwrap_or("Dockerfile"));
        if !path.exists() && std::fs::create_dir_all(path.parent().unwrap()).is_ok() {
            let _ = std::fs::write(path, dockerfile);
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
    // What the schema does not say, the API server still refuses.
    for path in paths {
        let path = std::path::Path::new(path.as_ref());
        let files: Vec<PathBuf> = if path.is_dir() {
            std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect()
        } else {
            vec![path.to_owned()]
        };
        for file in files {
            assert_kubernetes_api_rules(&std::fs::read_to_string(&file).unwrap());
        }
    }
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

/// The rules the Kubernetes API server holds manifests to that its OpenAPI schema (and so
/// `kubernetes-validate`) does not: each violation in `text`, a multi-document YAML. The rules
/// are kubernetes/apimachinery's `pkg/util/validation/validation.go` (`IsDNS1123Label`,
/// `IsDNS1123Subdomain`, `IsDNS1035Label`, `IsQualifiedName`, `IsValidLabelValue`,
/// `IsValidPortName`, `IsEnvVarName`) as kubernetes/kubernetes applies them in
/// `pkg/apis/core/validation` (names of objects, containers, volumes and ports, unique
/// container and volume names in a pod, mounts of declared volumes) and `pkg/apis/apps` and
/// `batch` validation (a StatefulSet's name leaves room in the 63 of its pods'
/// `controller-revision-hash` label for `-` and a 10-character hash: 52; a Job's name is its pods'
/// `job-name` label value: 63).
pub fn kubernetes_api_violations(text: &str) -> Vec<String> {
    fn dns1123_label(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    }
    fn dns1123_subdomain(s: &str) -> bool {
        s.len() <= 253 && s.split('.').all(dns1123_label)
    }
    fn dns1035_label(s: &str) -> bool {
        dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
    }
    fn label_value(s: &str) -> bool {
        s.is_empty()
            || (s.len() <= 63
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
    }
    fn qualified_name(s: &str) -> bool {
        let (prefix, name) = match s.split_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, s),
        };
        !name.is_empty()
            && label_value(name)
            && prefix.is_none_or(|p| !p.is_empty() && dns1123_subdomain(p))
    }
    fn port_name(s: &str) -> bool {
        s.len() <= 15
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && s.chars().any(|c| c.is_ascii_lowercase())
            && !s.contains("--")
            && !s.starts_with('-')
            && !s.ends_with('-')
    }
    fn env_name(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    }
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut out = Vec::new();
    for (i, doc) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let doc = <Value as serde::Deserialize>::deserialize(doc).expect("a manifest is YAML");
        if doc.is_null() {
            continue;
        }
        let kind = str_of(&doc["kind"]);
        let name = str_of(&doc["metadata"]["name"]);
        let at = format!("document {i} ({kind} {name})");
        let mut fail = |rule: &str, what: &str| out.push(format!("{at}: {what}: {rule}"));
        let name_ok = match kind.as_str() {
            "Service" => dns1035_label(&name),
            "StatefulSet" => dns1123_label(&name) && name.len() <= 52,
            "Job" => dns1123_subdomain(&name) && name.len() <= 63,
            _ => dns1123_subdomain(&name),
        };
        if !name_ok {
            fail("not a valid name for its kind", &name);
        }
        let mut label_maps = vec![
            &doc["metadata"]["labels"],
            &doc["spec"]["selector"],
            &doc["spec"]["selector"]["matchLabels"],
            &doc["spec"]["template"]["metadata"]["labels"],
        ];
        label_maps.retain(|m| m.is_mapping() && m.get("matchLabels").is_none());
        for labels in label_maps {
            for (k, v) in labels.as_mapping().unwrap() {
                if !qualified_name(&str_of(k)) {
                    fail("label key is not a qualified name", &str_of(k));
                }
                if !label_value(&str_of(v)) {
                    fail("label value is not valid", &str_of(v));
                }
            }
        }
        for annotations in [
            &doc["metadata"]["annotations"],
            &doc["spec"]["template"]["metadata"]["annotations"],
        ] {
            for (k, _) in annotations.as_mapping().into_iter().flatten() {
                if !qualified_name(&str_of(k)) {
                    fail("annotation key is not a qualified name", &str_of(k));
                }
            }
        }
        let pod = &doc["spec"]["template"]["spec"];
        if pod.is_mapping() {
            let mut names = std::collections::HashSet::new();
            let containers = ["initContainers", "containers"]
                .iter()
                .flat_map(|k| pod[*k].as_sequence().cloned().unwrap_or_default())
                .collect::<Vec<_>>();
            let mut volumes: Vec<String> = pod["volumes"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|v| str_of(&v["name"]))
                .collect();
            let mut seen = std::collections::HashSet::new();
            for v in &volumes {
                if !dns1123_label(v) {
                    fail("volume name is not a DNS-1123 label", v);
                }
                if !seen.insert(v.clone()) {
                    fail("volume name is not unique in the pod", v);
                }
            }
            for t in doc["spec"]["volumeClaimTemplates"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let claim = str_of(&t["metadata"]["name"]);
                if !dns1123_label(&claim) {
                    fail("claim template name is not a DNS-1123 label", &claim);
                }
                volumes.push(claim);
            }
            for c in &containers {
                let cname = str_of(&c["name"]);
                if !dns1123_label(&cname) {
                    fail("container name is not a DNS-1123 label", &cname);
                }
                if !names.insert(cname.clone()) {
                    fail("container name is not unique in the pod", &cname);
                }
                for p in c["ports"].as_sequence().into_iter().flatten() {
                    if let Some(pname) = p["name"].as_str()
                        && !port_name(pname)
                    {
                        fail("port name is not an IANA service name (at most 15)", pname);
                    }
                }
                for e in c["env"].as_sequence().into_iter().flatten() {
                    if !env_name(&str_of(&e["name"])) {
                        fail(
                            "environment variable name is not valid",
                            &str_of(&e["name"]),
                        );
                    }
                }
                for m in c["volumeMounts"].as_sequence().into_iter().flatten() {
                    if !volumes.contains(&str_of(&m["name"])) {
                        fail("mounts a volume the pod does not have", &str_of(&m["name"]));
                    }
                }
            }
        }
        if kind == "Service" {
            let ports = doc["spec"]["ports"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            if ports.len() > 1 && ports.iter().any(|p| p["name"].as_str().is_none()) {
                fail("a Service with several ports names each", &name);
            }
        }
    }
    out
}

/// [`kubernetes_api_violations`] must find none.
pub fn assert_kubernetes_api_rules(text: &str) {
    let found = kubernetes_api_violations(text);
    assert!(
        found.is_empty(),
        "the API server would refuse:\n{}",
        found.join("\n")
    );
}

/// Where muster's list of the variables a generated file reads (`muster env --format json`
/// with `args`, in `dir`) and Compose's (`docker-compose config --variables --format json` of
/// `file` there, Compose 2.40.3) disagree: name by name, the required flag, the default and the
/// alternate value. Empty when they agree.
///
/// Compose 2.40.3 keeps, of a variable read in several places, whichever occurrence its walk
/// over Go maps meets last, in an order that changes between runs (compose-go 2.9.1
/// `recurseExtract`): where the uses differ, Compose's answer must be one of them. Variables a
/// secret or config reads by name (`environment = "NAME"`) are muster's alone: Compose's list
/// holds interpolated ones only.
pub fn variables_disagree(dir: &Path, args: &[&str], file: &str) -> Vec<String> {
    let env = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(dir)
        .arg("env")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("muster runs");
    assert!(
        env.status.success(),
        "muster env {args:?}: {}",
        String::from_utf8_lossy(&env.stderr)
    );
    let ours: serde_json::Value = serde_json::from_slice(&env.stdout).expect("JSON");
    let compose = tool("docker-compose")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["-f", file, "config", "--variables", "--format", "json"])
        .output()
        .expect("docker-compose runs");
    assert!(
        compose.status.success(),
        "config --variables of {file}: {}",
        String::from_utf8_lossy(&compose.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&compose.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&compose.stdout)));
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut ours_by_name: std::collections::BTreeMap<String, Vec<(bool, String, String)>> =
        Default::default();
    for v in ours["variables"].as_array().expect("variables") {
        for u in v["uses"].as_array().unwrap() {
            if u["reader"] == "interpolation" {
                ours_by_name.entry(text(&v["name"])).or_default().push((
                    u["required"].as_bool().unwrap(),
                    text(&u["default"]),
                    text(&u["alternate"]),
                ));
            }
        }
    }
    let theirs = theirs.as_object().cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    for (name, uses) in &ours_by_name {
        match theirs.get(name) {
            None => wrong.push(format!("{name}: muster lists it, Compose does not")),
            Some(t) => {
                let said = (
                    t["Required"].as_bool().unwrap_or_default(),
                    text(&t["DefaultValue"]),
                    text(&t["PresenceValue"]),
                );
                if !uses.contains(&said) {
                    wrong.push(format!(
                        "{name}: Compose says {said:?}, muster's uses are {uses:?}"
                    ));
                }
            }
        }
    }
    for name in theirs.keys() {
        if !ours_by_name.contains_key(name) {
            wrong.push(format!("{name}: Compose lists it, muster does not"));
        }
    }
    wrong
}
