//! The catalogue's JSON Schema: the committed file is the generated one, and two independent
//! validators (Taplo, the editor engine, and check-jsonschema) agree with muster's own loader on
//! what is a valid catalogue. `MUSTER_BLESS=1` rewrites `muster.schema.json`.

mod common;

use common::{Muster, assert_golden, repo_root, tool};
use std::path::Path;

const EXAMPLES: [&str; 2] = [
    "examples/minimal/services.toml",
    "examples/ecommerce/services.toml",
];

/// Catalogues the loader rejects, each for one key or value the schema must reject too.
const BROKEN: &[(&str, &str)] = &[
    ("misspelled key", "kind = \"db\"\nimgae = \"postgres:17\"\n"),
    (
        "unknown kind",
        "kind = \"database\"\nimage = \"postgres:17\"\n",
    ),
    ("no kind", "image = \"postgres:17\"\n"),
    ("port 0", "kind = \"http\"\nbuild = \".\"\nport = 0\n"),
    (
        "port too large",
        "kind = \"http\"\nbuild = \".\"\nport = 70000\n",
    ),
    (
        "duration without unit",
        "kind = \"db\"\nhealthcheck = { interval = \"30\" }\n",
    ),
    (
        "misspelled healthcheck key",
        "kind = \"db\"\nhealthcheck = { start_perod = \"30s\" }\n",
    ),
    (
        "unknown restart policy",
        "kind = \"db\"\nrestart = \"sometimes\"\n",
    ),
    (
        "unknown probe",
        "kind = \"http\"\nbuild = \".\"\nprobe = \"telnet\"\n",
    ),
    (
        "unknown dependency condition",
        "kind = \"http\"\nbuild = \".\"\ndepends_on = { x = \"ready\" }\n",
    ),
    (
        "kind in a profile override",
        "kind = \"db\"\nprofiles.prod = { kind = \"cache\" }\n",
    ),
    (
        "nested profile override",
        "kind = \"db\"\nprofiles.prod = { profiles = {} }\n",
    ),
    (
        "unknown build key",
        "kind = \"http\"\nbuild = { context = \".\", file = \"Dockerfile\" }\n",
    ),
    (
        "reset of a key that is not one",
        "kind = \"job\"\nbuild = \".\"\nreset = [\"gpu\"]\n",
    ),
    (
        "reset of one item of a list",
        "kind = \"job\"\nbuild = \".\"\nreset = [\"ports.8080\"]\n",
    ),
    (
        "override of a healthcheck key there is not",
        "kind = \"job\"\nbuild = \".\"\nhealthcheck = { retries = 3 }\noverride = [\"healthcheck.retry\"]\n",
    ),
    (
        "gpus = false",
        "kind = \"job\"\nbuild = \".\"\ngpus = false\n",
    ),
    (
        "unknown lint allowed",
        "kind = \"job\"\nbuild = \".\"\n\n[project]\nallow = [\"no-autohael\"]\n",
    ),
];

/// Every shape the hand-written `Deserialize` impls accept, which the schema must accept too.
const VALID: &str = r#"#:schema ./muster.schema.json
[project]
name = "shop"
default_profile = "prod"
allow = ["no-autoheal", "restart-not-always"]

[services.x]
kind = "job"
build = "."

[services.web]
kind = "http"
build = { context = ".", dockerfile = "Dockerfile", target = "app", args = { V = 1, DEBUG = false } }
command = ["gunicorn", "app"]
entrypoint = "/entrypoint.sh"
env = { WORKERS = 4, DEBUG = true, NAME = "web" }
env_file = [".env"]
restart = "on-failure:5"
probe = "wget"
healthcheck = { test = "wget -q -O- http://127.0.0.1:8000/", interval = "1m30s", timeout = "500ms", retries = 5, start_period = "2m", start_interval = "1s" }
depends_on = { x = "service_completed_successfully" }
profiles.prod = { replicas = 2, restart = "always", reset = ["env.DEBUG", "healthcheck.start_interval", "compose.deploy.resources"], override = ["depends_on"], depends_on = ["x"] }
profiles.dev = { override = ["env_file", "build.target"], env_file = ".env.dev", build = { context = ".", target = "dev" } }
compose = { stop_grace_period = "60s", deploy = { resources = { limits = { memory = "1g" } } } }

[volumes.pgdata]
external = true
name = "shop_pgdata"

[volumes.nfs]
driver = "local"
driver_opts = { type = "nfs", o = "addr=10.0.0.1,rw", device = ":/export", size = 10 }
labels = { "com.example.backup" = "nightly" }

[networks.backend]
internal = "${INTERNAL:-true}"
enable_ipv6 = true
ipam = { driver = "default", config = [{ subnet = "172.28.0.0/16", gateway = "172.28.0.1", aux_addresses = { router = "172.28.1.5" } }] }

[secrets.db_password]
file = "./db_password.txt"

[configs.initdb]
content = "CREATE DATABASE shop;"
"#;

fn broken_catalogue(body: &str) -> String {
    format!("#:schema ./muster.schema.json\n[services.x]\n{body}")
}

/// The schema as `muster schema` prints it with no templates folder of the user's.
fn generated_schema() -> String {
    Muster::new().args(&["schema"]).run().success().stdout
}

fn committed_schema_path() -> std::path::PathBuf {
    repo_root().join("muster.schema.json")
}

#[test]
fn committed_schema_is_the_generated_one() {
    assert_golden("muster.schema.json", &generated_schema());
}

#[test]
fn every_key_has_a_description_and_an_example() {
    let schema: serde_json::Value = serde_json::from_str(&generated_schema()).unwrap();
    let mut missing = Vec::new();
    check_properties(&schema, "", &mut missing);
    assert!(missing.is_empty(), "keys without docs: {missing:#?}");

    fn check_properties(schema: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        if let Some(properties) = schema["properties"].as_object() {
            assert_eq!(
                schema["additionalProperties"],
                serde_json::Value::Bool(false),
                "{at} accepts unknown keys"
            );
            for (key, property) in properties {
                let path = format!("{at}.{key}");
                let documented = property["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
                    && property["examples"]
                        .as_array()
                        .is_some_and(|e| !e.is_empty());
                if !documented {
                    missing.push(path.clone());
                }
                check_properties(property, &path, missing);
            }
        }
        for key in ["anyOf", "additionalProperties"] {
            match &schema[key] {
                serde_json::Value::Array(alternatives) => {
                    for a in alternatives {
                        check_properties(a, at, missing);
                    }
                }
                object @ serde_json::Value::Object(_) => check_properties(object, at, missing),
                _ => {}
            }
        }
        if let Some(definitions) = schema["definitions"].as_object() {
            for (name, definition) in definitions {
                check_properties(definition, &format!("#{name}"), missing);
            }
        }
    }
}

#[test]
fn user_kinds_join_the_kind_enum() {
    let run = Muster::new()
        .file(
            "templates/kinds/ml-batch.yml.j2",
            "image: {{ service.image }}\n",
        )
        .args(&["schema"])
        .run()
        .success();
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let kinds = &schema["properties"]["services"]["additionalProperties"]["properties"]["kind"];
    let names: Vec<&str> = kinds["enum"]
        .as_array()
        .expect("`kind` is an enum")
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    assert!(names.contains(&"db") && names.contains(&"job"), "{names:?}");
    assert_eq!(names.last(), Some(&"ml-batch"));
    assert_eq!(
        kinds["x-taplo"]["docs"]["enumValues"]
            .as_array()
            .map(Vec::len),
        Some(names.len()),
        "one doc per kind for Taplo's completion list"
    );
}

/// A folder holding the committed schema and `catalogue`, as `services.toml`.
fn beside_schema(catalogue: &str) -> Muster {
    let schema = std::fs::read_to_string(committed_schema_path()).unwrap();
    Muster::new()
        .catalogue(catalogue)
        // The stage the valid shapes' `target` names, with the `wget` their `probe` asks for.
        .file("Dockerfile", "FROM node:22-alpine AS app\n")
        .file("muster.schema.json", &schema)
}

fn taplo_check(dir: &Path, files: &[&Path]) -> std::process::Output {
    let schema = format!("file://{}", committed_schema_path().display());
    tool("taplo")
        .args(["check", "--schema", &schema])
        .args(files)
        .current_dir(dir)
        // Keeps Taplo's INFO lines about the files it found out of a failure's message.
        .env("RUST_LOG", "error")
        .output()
        .expect("taplo runs")
}

fn check_jsonschema(files: &[&Path]) -> std::process::Output {
    tool("check-jsonschema")
        .arg("--schemafile")
        .arg(committed_schema_path())
        .args(files)
        .output()
        .expect("check-jsonschema runs")
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn taplo_and_check_jsonschema_accept_the_examples_and_every_valid_shape() {
    let valid = beside_schema(VALID).args(&["gen"]);
    valid.run().success();
    let mut files: Vec<std::path::PathBuf> = EXAMPLES.iter().map(|e| repo_root().join(e)).collect();
    files.push(valid.path("services.toml"));
    let files: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let taplo = taplo_check(repo_root(), &files);
    assert!(taplo.status.success(), "taplo check:\n{}", text(&taplo));
    let jsonschema = check_jsonschema(&files);
    assert!(
        jsonschema.status.success(),
        "check-jsonschema:\n{}",
        text(&jsonschema)
    );
}

#[test]
fn taplo_and_check_jsonschema_reject_what_the_loader_rejects() {
    let cases: Vec<Muster> = BROKEN
        .iter()
        .map(|(_, body)| beside_schema(&broken_catalogue(body)).args(&["gen"]))
        .collect();
    let paths: Vec<std::path::PathBuf> = cases.iter().map(|c| c.path("services.toml")).collect();
    // One run for all: check-jsonschema names each file it rejects, and starts slowly.
    let jsonschema = check_jsonschema(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    let jsonschema = text(&jsonschema);
    for (((what, _), case), path) in BROKEN.iter().zip(&cases).zip(&paths) {
        assert_eq!(case.run().code, 1, "muster accepts a catalogue with {what}");
        let taplo = taplo_check(path.parent().unwrap(), &[path]);
        assert!(
            !taplo.status.success(),
            "taplo accepts a catalogue with {what}"
        );
        assert!(
            jsonschema.contains(&path.display().to_string()),
            "check-jsonschema accepts a catalogue with {what}:\n{jsonschema}"
        );
    }
}

#[test]
fn taplo_names_the_misspelled_key_and_the_unknown_kind() {
    for (body, culprit) in [
        ("kind = \"db\"\nimgae = \"postgres:17\"\n", "imgae"),
        ("kind = \"database\"\nimage = \"postgres:17\"\n", "database"),
    ] {
        let case = beside_schema(&broken_catalogue(body));
        let path = case.path("services.toml");
        let taplo = taplo_check(path.parent().unwrap(), &[&path]);
        assert!(
            text(&taplo).contains(culprit),
            "taplo does not name `{culprit}`:\n{}",
            text(&taplo)
        );
    }
}

#[test]
fn schema_o_writes_the_printed_schema_and_check_stops_warning() {
    let muster = || {
        Muster::new()
            .catalogue("#:schema ./muster.schema.json\n[services.nightly]\nkind = \"batch\"\nimage = \"busybox:1.37\"\n")
            .file("templates/kinds/batch.yml.j2", "image: {{ service.image }}\n")
            .file("muster.schema.json", &generated_schema())
    };
    let stale = muster().args(&["check"]).run().success();
    stale
        .says("warning[stale-schema]: muster.schema.json is out of date: it does not list `batch`");
    stale.says("run `muster schema -o muster.schema.json`");

    let printed = muster().args(&["schema"]).run().success().stdout;
    let writer = muster().args(&["schema", "-o", "muster.schema.json"]);
    let run = writer.run().success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run.says("wrote muster.schema.json");
    let written = std::fs::read_to_string(writer.path("muster.schema.json")).unwrap();
    assert_eq!(written, printed);
    assert!(written.contains("\"batch\""));

    // The same folder, now in sync: nothing to warn about.
    let synced = Muster::new()
        .catalogue("[services.nightly]\nkind = \"batch\"\nimage = \"busybox:1.37\"\n")
        .file(
            "templates/kinds/batch.yml.j2",
            "image: {{ service.image }}\n",
        )
        .file("muster.schema.json", &written)
        .args(&["check"])
        .run()
        .success();
    assert!(!synced.stderr.contains("stale-schema"), "{}", synced.stderr);
}
