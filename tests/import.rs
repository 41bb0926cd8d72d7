//! `muster import`: drafts from Compose files, the round trip through `gen`, and the fixtures
//! under tests/fixtures/import/, written the way real projects write their Compose files.
//!
//! The round trip holds because the import recovers what the kind templates and the profile
//! would generate (the probe, a Celery command, timings and restart policies equal to the
//! profile's, `depends_on` conditions muster infers) and leaves it out, while what the file says
//! beyond that (ports, a health path, a port the probe targets, a Celery app) is kept.

mod common;

use common::{Muster, repo_root};

/// The draft of `compose` under `profile`, which must succeed.
fn import(compose: &str, profile: &str) -> String {
    Muster::new()
        .file("docker-compose.yml", compose)
        .args(&["import", "docker-compose.yml", "--profile", profile])
        .run()
        .success()
        .stdout
}

/// The draft of a fixture, imported in its own folder so that `extends.file` resolves.
fn import_fixture(name: &str) -> (String, toml::Table) {
    let dir = repo_root().join(format!("tests/fixtures/import/{name}"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(&dir)
        .args(["import", "docker-compose.yml"])
        .output()
        .expect("muster runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = stdout.parse::<toml::Table>().expect("the draft is TOML");
    (stdout, table)
}

fn service<'a>(draft: &'a toml::Table, name: &str) -> &'a toml::Table {
    draft["services"][name]
        .as_table()
        .unwrap_or_else(|| panic!("no service `{name}` in the draft"))
}

/// The comment block right above `[services.NAME]`.
fn comment_of<'a>(text: &'a str, name: &str) -> &'a str {
    let header = format!("[services.{name}]");
    let end = text.find(&header).expect("the service's table");
    let start = text[..end].rfind("\n\n").map_or(0, |i| i + 2);
    &text[start..end]
}

#[test]
fn gen_of_an_import_of_a_generated_file_gives_the_same_file() {
    for example in ["minimal", "ecommerce"] {
        for profile in ["dev", "prod"] {
            let golden = std::fs::read_to_string(
                repo_root().join(format!("tests/golden/{example}.{profile}.yml")),
            )
            .unwrap();
            let draft = import(&golden, profile);
            let again = common::Muster::new()
                .catalogue(&draft)
                .args(&["gen", "--profile", profile])
                .run()
                .success();
            assert!(
                again.stdout == golden,
                "{example} ({profile}) does not survive the round trip:\n{}\ndraft:\n{draft}",
                similar::TextDiff::from_lines(&golden, &again.stdout)
                    .unified_diff()
                    .header("golden", "gen of the import")
            );
        }
    }
}

#[test]
fn top_level_resources_survive_the_round_trip() {
    let catalogue = std::fs::read_to_string(
        repo_root().join("tests/cases/resources-declared.in/services.toml"),
    )
    .unwrap();
    let generated = common::Muster::new()
        .catalogue(&catalogue)
        .args(&["gen"])
        .run()
        .success()
        .stdout;
    let draft = import(&generated, "dev");
    let table: toml::Table = draft.parse().unwrap();
    assert_eq!(table["volumes"]["pgdata"]["external"].as_bool(), Some(true));
    assert_eq!(
        table["networks"]["backend"]["internal"].as_bool(),
        Some(true)
    );
    let again = common::Muster::new()
        .catalogue(&draft)
        .args(&["gen"])
        .run()
        .success()
        .stdout;
    assert!(
        again == generated,
        "{}\ndraft:\n{draft}",
        similar::TextDiff::from_lines(&generated, &again).unified_diff()
    );
}

#[test]
fn the_round_trip_leaves_out_what_muster_generates() {
    let golden =
        std::fs::read_to_string(repo_root().join("tests/golden/ecommerce.prod.yml")).unwrap();
    let draft: toml::Table = import(&golden, "prod").parse().unwrap();
    let worker = service(&draft, "celery_worker");
    assert_eq!(worker["kind"].as_str(), Some("celery-worker"));
    // The Celery command, the probe, the profile's timings, restart and logging are generated.
    for key in ["command", "healthcheck", "restart", "compose", "app"] {
        assert!(!worker.contains_key(key), "`{key}` kept: {worker:?}");
    }
    let pgbouncer = service(&draft, "pgbouncer");
    assert_eq!(
        pgbouncer["port"].as_integer(),
        Some(6432),
        "read off the probe"
    );
    assert_eq!(
        service(&draft, "gateway")["health_path"].as_str(),
        Some("/healthz")
    );
    assert_eq!(
        service(&draft, "recommendation")["kind"].as_str(),
        Some("ai-model")
    );
    assert_eq!(draft["project"]["default_profile"].as_str(), Some("prod"));
}

#[test]
fn anchors_merge_keys_and_celery_services_are_mapped() {
    let (text, draft) = import_fixture("django");
    assert_eq!(draft["project"]["name"].as_str(), Some("shop"));
    // `<<: *django` brought the build, env_file, environment (list form) and logging along.
    let web = service(&draft, "web");
    assert_eq!(web["kind"].as_str(), Some("http"));
    assert_eq!(web["build"]["context"].as_str(), Some("./backend"));
    assert_eq!(
        web["build"]["args"]["PYTHON_VERSION"].as_str(),
        Some("3.12")
    );
    assert_eq!(web["env_file"].as_array().unwrap().len(), 1);
    assert_eq!(
        web["env"]["DJANGO_SETTINGS_MODULE"].as_str(),
        Some("shop.settings.production")
    );
    assert_eq!(web["health_path"].as_str(), Some("/healthz/"));
    assert_eq!(
        web["compose"]["logging"]["driver"].as_str(),
        Some("json-file")
    );
    // The long form's `restart: true` is the catalogue's own option of that dependency.
    assert_eq!(
        web["depends_on"]["migrate"]["restart"].as_bool(),
        Some(true)
    );
    assert_eq!(
        web["depends_on"]["migrate"]["condition"].as_str(),
        Some("completed")
    );
    assert!(
        web.get("compose")
            .and_then(|c| c.get("depends_on"))
            .is_none()
    );
    assert_eq!(web["depends_on"]["redis"].as_str(), Some("started"));
    assert!(comment_of(&text, "web").contains("guessed"), "{text}");

    let worker = service(&draft, "worker");
    assert_eq!(worker["kind"].as_str(), Some("celery-worker"));
    assert_eq!(worker["app"].as_str(), Some("shop"));
    // Short `depends_on` waits for the start only, which the draft keeps and says.
    assert_eq!(worker["depends_on"]["db"].as_str(), Some("started"));
    assert!(comment_of(&text, "worker").contains("waits only for db, redis to start"));
    // No healthcheck in the source: neither the kind's probe, added unasked, nor `disable`,
    // which would turn off one the image declares.
    assert_eq!(worker["probe"].as_str(), Some("image"));
    assert!(!worker.contains_key("healthcheck"));
    assert_eq!(worker["compose"]["stop_grace_period"].as_str(), Some("2m"));
    assert_eq!(service(&draft, "beat")["kind"].as_str(), Some("beat"));

    let migrate = service(&draft, "migrate");
    assert_eq!(migrate["kind"].as_str(), Some("job"));
    assert_eq!(
        migrate["depends_on"].as_array().map(Vec::len),
        Some(1),
        "inferred: healthy"
    );
    assert!(
        !migrate.contains_key("restart"),
        "\"no\" is the dev profile's for a job"
    );

    let db = service(&draft, "db");
    assert_eq!(db["kind"].as_str(), Some("db"));
    assert_eq!(db["healthcheck"]["interval"].as_str(), Some("5s"));
    assert!(db["healthcheck"].get("start_period").is_none());
    assert_eq!(
        service(&draft, "redis")["healthcheck"]["test"].as_str(),
        Some("redis-cli ping")
    );
    assert!(text.contains("`x-django` is an extension field"));
    gen_passes(&text);
}

#[test]
fn extends_profiles_and_long_forms_are_mapped() {
    let (text, draft) = import_fixture("extends");
    // `extends` from another file: its environment merged key by key, its lists kept.
    let api = service(&draft, "api");
    assert_eq!(api["env"]["LOG_LEVEL"].as_str(), Some("debug"));
    assert_eq!(api["env"]["PYTHONUNBUFFERED"].as_str(), Some("1"));
    assert_eq!(api["labels"]["com.example.team"].as_str(), Some("platform"));
    assert_eq!(api["port"].as_integer(), Some(8080));
    assert_eq!(api["replicas"].as_integer(), Some(2));
    assert_eq!(
        api["compose"]["deploy"]["resources"]["limits"]["memory"].as_str(),
        Some("512M")
    );
    assert_eq!(
        api["restart"].as_str(),
        Some("no"),
        "the source has no restart policy"
    );
    // `extends` within the file, with a model server's start_period.
    let embedder = service(&draft, "embedder");
    assert_eq!(embedder["kind"].as_str(), Some("ai-model"));
    assert_eq!(embedder["replicas"].as_integer(), Some(1));
    assert_eq!(embedder["healthcheck"]["start_period"].as_str(), Some("2m"));
    // A long-form volume the short form can say, and one it cannot.
    assert_eq!(
        service(&draft, "cache")["volumes"][0].as_str(),
        Some("cachedata:/data")
    );
    let queue = service(&draft, "queue");
    assert_eq!(queue["kind"].as_str(), Some("broker"));
    assert!(queue["compose"]["volumes"].is_array());
    assert!(
        queue["compose"]["environment"].is_array(),
        "a value-less variable"
    );
    let adminer = service(&draft, "adminer");
    // Compose's profiles are the catalogue's `compose_profiles`, not muster's profiles.
    assert_eq!(adminer["compose_profiles"][0].as_str(), Some("debug"));
    assert!(
        adminer
            .get("compose")
            .is_none_or(|c| c.get("profiles").is_none())
    );
    assert!(text.contains("`version` is obsolete"));
    // A top-level volume's settings are carried in its own table; one without settings that
    // a service mounts is declared by `gen` anyway.
    assert_eq!(
        draft["volumes"]["queuedata"]["driver"].as_str(),
        Some("local")
    );
    assert!(draft["volumes"].get("cachedata").is_none());
    gen_passes(&text);
}

#[test]
fn known_images_without_healthchecks_and_network_settings_are_mapped() {
    let (text, draft) = import_fixture("observability");
    let prometheus = service(&draft, "prometheus");
    assert_eq!(prometheus["kind"].as_str(), Some("monitoring"));
    assert_eq!(prometheus["restart"].as_str(), Some("always"));
    assert_eq!(prometheus["probe"].as_str(), Some("image"));
    assert!(!prometheus.contains_key("healthcheck"));
    let grafana = service(&draft, "grafana");
    assert_eq!(
        grafana["env"]["GF_AUTH_ANONYMOUS_ENABLED"].as_str(),
        Some("true")
    );
    assert_eq!(
        grafana["compose"]["secrets"][0].as_str(),
        Some("grafana_admin")
    );
    assert_eq!(
        service(&draft, "jaeger")["kind"].as_str(),
        Some("monitoring")
    );
    // Node exporter is an engine of `monitoring` now that the table knows its image.
    let exporter = service(&draft, "node-exporter");
    assert_eq!(exporter["kind"].as_str(), Some("monitoring"));
    assert!(!comment_of(&text, "node-exporter").contains("guessed"));
    assert_eq!(exporter["compose"]["pid"].as_str(), Some("host"));
    let proxy = service(&draft, "proxy");
    assert_eq!(proxy["networks"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        proxy["compose"]["networks"]["public"]["ipv4_address"].as_str(),
        Some("172.28.0.10")
    );
    // The secret the service names is declared, so Compose accepts the generated file.
    assert_eq!(
        draft["secrets"]["grafana_admin"]["file"].as_str(),
        Some("./grafana_admin.txt")
    );
    gen_passes(&text);
}

/// `muster gen` accepts the draft as it is.
/// `muster gen` accepts the draft as it is, and the Compose loader the file it writes.
fn gen_passes(draft: &str) {
    let muster = Muster::new()
        .catalogue(draft)
        // What the fixtures' services read: their env files, the variable the django one
        // requires, the secret's file.
        .file(".env", "POSTGRES_PASSWORD=test\n")
        .file("common.env", "")
        .file("grafana_admin.txt", "admin\n")
        .args(&["gen", "-o", "docker-compose.yml"]);
    muster.run().success();
    let file = muster.path("docker-compose.yml");
    let loaded = common::tool("docker-compose")
        .arg("-f")
        .arg(&file)
        .args(["config", "-q"])
        .output()
        .expect("docker-compose runs");
    assert!(
        loaded.status.success(),
        "the Compose loader refuses the generated file:\n{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
}

#[test]
fn a_source_muster_refuses_is_drafted_and_said_so() {
    // Compose loads this file; `up` fails: the second replica finds port 8080 taken.
    let draft = import(
        "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n    deploy:\n      replicas: 3\n",
        "dev",
    );
    assert!(draft.contains("finds errors in this draft"), "{draft}");
    let run = Muster::new()
        .catalogue(&draft)
        .args(&["gen"])
        .run()
        .failure(1);
    assert!(
        run.stderr
            .contains("runs 3 replicas, but publishes host port 8080:80"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_yaml_points_at_its_line() {
    let run = Muster::new()
        .file(
            "docker-compose.yml",
            "services:\n  web:\n    image: [unclosed\n",
        )
        .args(&["import", "docker-compose.yml"])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains("invalid Compose file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("docker-compose.yml:"), "{}", run.stderr);
}

#[test]
fn a_missing_file_is_an_io_error_and_an_existing_output_is_never_replaced() {
    let run = Muster::new().args(&["import", "nope.yml"]).run().failure(3);
    assert!(run.stderr.contains("nope.yml"), "{}", run.stderr);
    let muster = Muster::new()
        .file(
            "docker-compose.yml",
            "services:\n  cache:\n    image: redis:7.4\n",
        )
        .file("services.toml", "# mine\n")
        .args(&["import", "docker-compose.yml", "-o", "services.toml"]);
    muster.run().failure(3);
    assert_eq!(
        std::fs::read_to_string(muster.path("services.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn extends_cycles_are_errors() {
    let run = Muster::new()
        .file(
            "docker-compose.yml",
            "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
        )
        .args(&["import", "docker-compose.yml"])
        .run()
        .failure(1);
    assert!(run.stderr.contains("circle"), "{}", run.stderr);
}
