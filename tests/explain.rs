//! `muster explain NAME`: every emitted key of one service with the layer that set it.

mod common;

use common::Muster;

const CATALOGUE: &str = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "secret" }
profiles.dev = { ports = ["5432:5432"] }
compose = { shm_size = "256m" }

[services.migrate]
kind = "job"
build = "."
depends_on = ["db"]

[services.worker]
kind = "celery-worker"
build = "."
healthcheck = { retries = 5 }
depends_on = { db = "started" }
"#;

fn explain(name: &str, profile: &str) -> String {
    Muster::new()
        .catalogue(CATALOGUE)
        .args(&["explain", name, "--profile", profile])
        .run()
        .success()
        .stdout
}

/// The "set by" column of the row for `key`.
fn set_by(listing: &str, key: &str) -> String {
    let row = listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no row for `{key}`:\n{listing}"));
    let rest = row[key.len()..].trim_start();
    // The value is JSON and starts with `"`, `[`, `{` or a digit; the origin comes before it.
    let end = rest.find("  ").unwrap_or(rest.len());
    rest[..end].trim().to_owned()
}

#[test]
fn every_layer_is_named() {
    let dev = explain("db", "dev");
    assert_eq!(set_by(&dev, "image"), "catalogue");
    assert_eq!(set_by(&dev, "ports"), "catalogue profiles.dev");
    assert_eq!(set_by(&dev, "restart"), "profile dev [defaults]");
    assert_eq!(set_by(&dev, "environment.POSTGRES_PASSWORD"), "catalogue");
    assert_eq!(set_by(&dev, "healthcheck.test"), "kind template");
    assert_eq!(
        set_by(&dev, "healthcheck.interval"),
        "profile dev [kinds.db]"
    );
    assert_eq!(
        set_by(&dev, "healthcheck.timeout"),
        "profile dev [defaults]"
    );
    assert_eq!(set_by(&dev, "shm_size"), "compose in catalogue");
    assert!(dev.contains("<built-in>/profiles/dev.toml"), "{dev}");
    assert!(
        dev.contains("<built-in>/templates/kinds/db.yml.j2"),
        "{dev}"
    );

    let prod = explain("db", "prod");
    assert!(
        !prod.contains("ports"),
        "the dev override is not applied:\n{prod}"
    );
    assert_eq!(
        set_by(&prod, "healthcheck.start_period"),
        "profile prod [kinds.db]"
    );
    assert_eq!(
        set_by(&prod, "logging.driver"),
        "compose in profile prod [defaults]"
    );
}

#[test]
fn template_values_and_dependency_conditions_are_explained() {
    let worker = explain("worker", "prod");
    assert_eq!(set_by(&worker, "command"), "kind template");
    assert_eq!(set_by(&worker, "healthcheck.retries"), "catalogue");
    assert_eq!(
        set_by(&worker, "stop_grace_period"),
        "compose in profile prod [kinds.celery-worker]"
    );
    assert_eq!(set_by(&worker, "depends_on.db.condition"), "catalogue");
    let migrate = explain("migrate", "dev");
    assert_eq!(
        set_by(&migrate, "depends_on.db.condition"),
        "catalogue, inferred: db has a healthcheck"
    );
    assert_eq!(set_by(&migrate, "restart"), "profile dev [kinds.job]");
}

#[test]
fn the_listing_is_the_emitted_service_and_deterministic() {
    let first = explain("db", "dev");
    assert_eq!(first, explain("db", "dev"));
    let generated = common::generate(CATALOGUE, "dev");
    let emitted = generated.service("db");
    let keys: Vec<&str> = emitted
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    let listed: Vec<&str> = first
        .lines()
        .skip_while(|l| !l.starts_with("key "))
        .skip(1)
        .map(|l| l.split(['.', ' ']).next().unwrap())
        .fold(Vec::new(), |mut acc, k| {
            if acc.last() != Some(&k) {
                acc.push(k);
            }
            acc
        });
    assert_eq!(listed, keys, "{first}");
}

#[test]
fn an_unknown_service_is_an_error_with_a_suggestion() {
    let run = Muster::new()
        .catalogue(CATALOGUE)
        .args(&["explain", "dv"])
        .run()
        .failure(1);
    assert!(run.stderr.contains("no service `dv`"), "{}", run.stderr);
    assert!(run.stderr.contains("db"), "{}", run.stderr);
}
