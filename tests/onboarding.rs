//! `muster add`, `muster init` and `muster kinds`: a new service is one command, a new project
//! one more, and the defaults a kind gets are listed from the same machinery `gen` runs.

mod common;

use common::{Muster, tool};

/// Comments, odd spacing, a dotted key and no newline at the end: all must survive `add`.
const COMMENTED: &str = "#:schema ./muster.schema.json
# The shop's services.   Two spaces after the period, on purpose.

[project]
name = \"shop\"   # the Compose project

[services.redis]   # the cache
kind = \"cache\"
image = \"redis:7.4\"
profiles.dev.ports = [ \"6379:6379\" ]

# ---- data
[services.postgres]
kind = \"db\"
image = \"postgres:17\"   # pinned
env = { POSTGRES_PASSWORD = \"${POSTGRES_PASSWORD:?set it}\" }
# a trailing comment, no newline after it";

const ADD_FRAUD: [&str; 9] = [
    "add",
    "ai-model",
    "fraud",
    "--port",
    "8005",
    "--build",
    "../ai-services/fraud",
    "--depends-on",
    "redis",
];

#[test]
fn add_appends_an_entry_and_keeps_every_existing_byte() {
    let muster = Muster::new()
        .catalogue(COMMENTED)
        .file(
            "../ai-services/fraud/Dockerfile",
            common::DEFAULT_DOCKERFILE,
        )
        .args(&ADD_FRAUD);
    let run = muster.run().success();
    assert_eq!(run.stdout, "");
    let updated = std::fs::read(muster.path("services.toml")).unwrap();
    assert!(
        updated.starts_with(COMMENTED.as_bytes()),
        "the old text is not a prefix of the new:\n{}",
        String::from_utf8_lossy(&updated)
    );
    assert_eq!(
        String::from_utf8_lossy(&updated[COMMENTED.len()..]),
        "\n\n[services.fraud]\nkind = \"ai-model\"\nbuild = \"../ai-services/fraud\"\n\
         port = 8005\ndepends_on = [\"redis\"]\n"
    );
}

/// A build whose Dockerfile is not there yet (the service is written next) still generates, as
/// `gen` would: `add` writes the entry and says that its probe is a guess until muster can read
/// the Dockerfile or `probe` is set.
#[test]
fn add_writes_a_build_whose_dockerfile_is_not_there_yet_and_says_so() {
    let muster = Muster::new().catalogue(COMMENTED).args(&ADD_FRAUD);
    let run = muster.run().success();
    run.says("warning[unknown-image]");
    run.says("its Dockerfile `../ai-services/fraud/Dockerfile` cannot be read here");
    let catalogue = std::fs::read_to_string(muster.path("services.toml")).unwrap();
    assert!(catalogue.starts_with(COMMENTED), "{catalogue}");
    assert!(catalogue.contains("[services.fraud]"), "{catalogue}");
}

#[test]
fn gen_turns_the_added_entry_into_a_complete_service() {
    let muster = Muster::new()
        .catalogue(COMMENTED)
        .file(
            "../ai-services/fraud/Dockerfile",
            common::DEFAULT_DOCKERFILE,
        )
        .args(&ADD_FRAUD);
    muster.run().success();
    let run = Muster::new()
        .catalogue(&std::fs::read_to_string(muster.path("services.toml")).unwrap())
        .args(&["gen", "--profile", "prod"])
        .run()
        .success();
    let fraud = run.service("fraud");
    assert_eq!(fraud["build"], "../ai-services/fraud");
    assert_eq!(fraud["restart"], "always");
    assert_eq!(fraud["depends_on"]["redis"]["condition"], "service_healthy");
    assert_eq!(fraud["healthcheck"]["start_period"], "60s");
    let test = run.test("fraud").join(" ");
    assert!(
        test.contains("http://127.0.0.1:8005/health/live"),
        "the probe targets the given port: {test}"
    );
}

#[test]
fn add_refuses_a_duplicate_an_unknown_kind_and_an_unknown_dependency() {
    for (args, message) in [
        (
            &["add", "cache", "redis", "--image", "valkey/valkey:8.0"][..],
            "service `redis` already exists",
        ),
        (
            &["add", "ai-modle", "fraud", "--build", "."][..],
            "did you mean `ai-model`?",
        ),
        (
            &["add", "http", "web", "--build", ".", "--depends-on", "web"][..],
            "cannot depend on itself",
        ),
        (
            &["add", "http", "web api", "--build", "."][..],
            "invalid service name",
        ),
        // Only the whole pipeline can tell: an `http` service needs an image or a build.
        (
            &["add", "http", "web"][..],
            "service `web` needs an `image` or a `build`",
        ),
        (&["add", "db", "store"][..], "cannot tell which db engine"),
    ] {
        let muster = Muster::new().catalogue(COMMENTED).args(args);
        let run = muster.run().failure(1);
        assert!(
            run.stderr.contains(message),
            "{args:?}: expected {message:?} in:\n{}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_to_string(muster.path("services.toml")).unwrap(),
            COMMENTED,
            "{args:?} changed the file"
        );
    }
}

#[test]
fn add_takes_a_service_not_written_yet_with_a_warning_and_its_turn_comes() {
    // `postgress` is a typo or a service still to come: either way the entry is written, the
    // warning says what gen will need and what was meant.
    let muster = Muster::new()
        .catalogue(COMMENTED)
        .file("Dockerfile", common::DEFAULT_DOCKERFILE)
        .args(&[
            "add",
            "http",
            "web",
            "--build",
            ".",
            "--depends-on",
            "redis,postgress",
        ]);
    let run = muster.run().success();
    run.says("warning: `--depends-on postgress`: services.toml has no service `postgress` yet");
    run.says("did you mean `postgres`?");
    run.says("added service `web` to services.toml: kind http; build .; depends on redis, postgress (not written yet)");
    let written = std::fs::read_to_string(muster.path("services.toml")).unwrap();
    Muster::new()
        .catalogue(&written)
        .args(&["gen"])
        .run()
        .failure(1)
        .says("service `web` depends on `postgress`, which the catalogue does not define");
    // Adding it next is refused by nothing the first add left behind.
    let next = Muster::new().catalogue(&written).args(&[
        "add",
        "db",
        "postgress",
        "--image",
        "postgres:17",
        "--env",
        "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:?set it in .env}",
    ]);
    next.run().success();
    Muster::new()
        .catalogue(&std::fs::read_to_string(next.path("services.toml")).unwrap())
        .args(&["gen"])
        .run()
        .success();
}

#[test]
fn add_points_at_the_existing_entry_of_a_duplicate() {
    let run = Muster::new()
        .catalogue(COMMENTED)
        .args(&["add", "db", "postgres"])
        .run()
        .failure(1);
    assert!(run.stderr.contains("services.toml:13:11"), "{}", run.stderr);
}

#[test]
fn add_refuses_flags_that_contradict_each_other() {
    let muster = Muster::new()
        .catalogue(COMMENTED)
        .args(&["add", "http", "web", "--image", "nginx", "--build", "."]);
    muster.run().failure(2);
    let muster = Muster::new()
        .catalogue(COMMENTED)
        .args(&["add", "http", "web", "--build", ".", "--port", "0"]);
    muster.run().failure(2);
}

#[test]
fn init_writes_a_catalogue_that_generates_and_the_schema_it_names() {
    let muster = Muster::new().args(&["init"]);
    muster.run().success();
    let catalogue = std::fs::read_to_string(muster.path("services.toml")).unwrap();
    assert!(catalogue.starts_with("#:schema ./muster.schema.json\n"));
    let schema = std::fs::read_to_string(muster.path("muster.schema.json")).unwrap();
    let generated = Muster::new().args(&["schema"]).run().success().stdout;
    assert_eq!(schema, generated);
    Muster::new()
        .catalogue(&catalogue)
        .args(&["gen"])
        .run()
        .success();
    let taplo = || {
        tool("taplo")
            .args(["check", "services.toml"])
            .current_dir(muster.path(""))
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let accepted = taplo();
    assert!(
        accepted.status.success(),
        "taplo does not accept the starter:\n{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    // Proves that Taplo found the schema through the `#:schema` line alone.
    std::fs::write(muster.path("services.toml"), catalogue + "imgae = \"x\"\n").unwrap();
    assert!(!taplo().status.success(), "taplo ignores the #:schema line");
}

#[test]
fn init_beside_a_catalogue_path_and_never_over_a_file() {
    let muster = Muster::new()
        .file("deploy/muster.schema.json", "{}")
        .args(&["init", "-c", "deploy/services.toml"]);
    let run = muster.run().failure(1);
    assert!(
        run.stderr.contains("muster.schema.json already exists"),
        "{}",
        run.stderr
    );
    assert!(
        !muster.path("deploy/services.toml").exists(),
        "a refused init wrote the catalogue"
    );
    assert_eq!(
        std::fs::read_to_string(muster.path("deploy/muster.schema.json")).unwrap(),
        "{}"
    );
}

/// The `muster kinds` rows of one kind, engine and profile, as columns.
/// The row of `kinds --format json` for one kind, engine and profile, in the order of the
/// human table's columns, `-` for null.
fn kinds_row(json: &str, kind: &str, engine: &str, profile: &str) -> Vec<String> {
    const KEYS: [&str; 12] = [
        "kind",
        "origin",
        "engine",
        "default_image",
        "probe",
        "profile",
        "restart",
        "interval",
        "timeout",
        "retries",
        "start_period",
        "start_interval",
    ];
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(json).expect("kinds --format json is a list of objects");
    let cells = |row: &serde_json::Map<String, serde_json::Value>| -> Vec<String> {
        KEYS.iter()
            .map(|k| row[*k].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    rows.iter()
        .map(cells)
        .find(|cells| cells[0] == kind && cells[2] == engine && cells[5] == profile)
        .unwrap_or_else(|| panic!("no row for {kind} {engine} {profile} in:\n{json}"))
}

#[test]
fn kinds_lists_every_kind_with_its_defaults_per_profile() {
    let run = Muster::new()
        .args(&["kinds", "--format", "json"])
        .run()
        .success();
    let table = &run.stdout;
    for kind in [
        "db",
        "cache",
        "pool",
        "search",
        "vector-db",
        "broker",
        "http",
        "ai-model",
        "celery-worker",
        "beat",
        "monitoring",
        "job",
    ] {
        assert!(
            table.contains(&format!("\"kind\": \"{kind}\"")),
            "`{kind}` is missing:\n{table}"
        );
    }
    // KIND ORIGIN ENGINE IMAGE PROBE PROFILE RESTART INTERVAL TIMEOUT RETRIES START_PERIOD START_INTERVAL
    assert_eq!(
        kinds_row(table, "db", "postgres", "dev"),
        [
            "db",
            "built-in",
            "postgres",
            "postgres:17",
            "native",
            "dev",
            "unless-stopped",
            "10s",
            "5s",
            "3",
            "30s",
            "2s"
        ]
    );
    assert_eq!(
        kinds_row(table, "db", "postgres", "prod"),
        [
            "db",
            "built-in",
            "postgres",
            "postgres:17",
            "native",
            "prod",
            "always",
            "10s",
            "5s",
            "3",
            "60s",
            "5s"
        ]
    );
    assert_eq!(
        kinds_row(table, "job", "-", "prod"),
        [
            "job",
            "built-in",
            "-",
            "-",
            "none",
            "prod",
            "on-failure:3",
            "-",
            "-",
            "-",
            "-",
            "-"
        ]
    );
    // A build's client is the one its Dockerfile gives it: no one client for the kind.
    assert_eq!(kinds_row(table, "ai-model", "-", "dev")[4], "auto");
    // The profiles turn the model cache on for model servers, at each image's own path.
    let rows: Vec<serde_json::Value> = serde_json::from_str(table).unwrap();
    let cache = |kind: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["profile"] == "prod")
            .map(|r| r["model_cache"].clone())
            .unwrap()
    };
    let ai = cache("ai-model");
    assert!(
        ai.as_str()
            .is_some_and(|c| c.contains("ollama/ollama /root/.ollama")),
        "{ai}"
    );
    assert_eq!(cache("http"), serde_json::Value::Null);
}

#[test]
fn kinds_fits_an_80_column_terminal() {
    let run = Muster::new().args(&["kinds"]).run().success();
    let widest = run.stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 80, "a line of {widest} columns:\n{}", run.stdout);
    // Each kind and engine is a block that names them, then a row per profile.
    let db = run
        .stdout
        .split("\n\n")
        .find(|b| b.starts_with("db, engine postgres (built-in)\n"))
        .unwrap_or_else(|| panic!("no block for db/postgres:\n{}", run.stdout));
    assert!(db.contains("\n  image postgres:17, probe native\n"), "{db}");
    let prod: Vec<&str> = db
        .lines()
        .find(|l| l.trim_start().starts_with("prod "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(prod, ["prod", "always", "10s", "5s", "3", "60s", "5s"]);
}

#[test]
fn kinds_shows_the_users_kinds_and_profiles() {
    let run = Muster::new()
        .file(
            "templates/kinds/ml-batch.yml.j2",
            "image: {{ service.image }}\n",
        )
        .file(
            "profiles/dev.toml",
            "[defaults]\nrestart = \"always\"\nhealthcheck = { interval = \"7s\" }\n",
        )
        .args(&["kinds", "--format", "json"])
        .run()
        .success();
    let row = kinds_row(&run.stdout, "ml-batch", "-", "dev");
    assert_eq!(&row[..2], ["ml-batch", "user"]);
    assert_eq!(&row[6..8], ["always", "7s"]);
}
