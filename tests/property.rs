//! Property: any catalogue muster accepts yields a Compose file that parses as YAML, keeps every
//! service and value it was given, and validates against the Compose Specification; anything it
//! refuses, it refuses with exit code 1 and diagnostics, never a crash.
//!
//! Catalogues are random but shaped like real ones (every kind, dependencies on earlier services,
//! published ports, healthcheck overrides) with arbitrary strings wherever a user may write one.
//! The accepted outputs are validated together in one `check-jsonschema` run at the end, and
//! each by the Compose loader (`docker-compose config`).

mod common;

use common::{Muster, tool};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    kind: &'static str,
    source: String,
    env: Vec<(String, String)>,
    command: Option<Vec<String>>,
    depends_on: Vec<(usize, Option<&'static str>)>,
    host_port: Option<u16>,
    timing: Option<(u64, u64)>,
}

/// Kinds with the image or build line that makes each resolvable.
const KINDS: &[(&str, &str)] = &[
    ("db", "image = \"postgres:17\""),
    ("db", "image = \"mysql:8.4\""),
    ("cache", "image = \"redis:7.4\""),
    ("cache", "engine = \"memcached\""),
    ("pool", "image = \"edoburu/pgbouncer:v1.24.1-p1\""),
    ("search", "engine = \"opensearch\""),
    ("vector-db", "image = \"qdrant/qdrant:v1.12.4\""),
    ("broker", "image = \"rabbitmq:4.0-management\""),
    ("http", "build = \".\""),
    ("http", "image = \"nginx:1.27\""),
    ("ai-model", "build = \"../model\""),
    ("celery-worker", "build = \".\""),
    ("beat", "build = \".\""),
    ("monitoring", "image = \"prom/prometheus:v2.55.1\""),
    ("job", "build = \".\""),
];

fn entry() -> impl Strategy<Value = Entry> {
    (
        "[a-z][a-z0-9_-]{0,12}",
        0..KINDS.len(),
        prop::collection::vec(("[A-Z_][A-Z0-9_]{0,8}", any::<String>()), 0..4),
        prop::option::of(prop::collection::vec(any::<String>(), 1..4)),
        prop::collection::vec(
            (
                0usize..8,
                prop::option::of(prop::sample::select(vec![
                    "healthy",
                    "started",
                    "completed",
                ])),
            ),
            0..3,
        ),
        prop::option::of(1024u16..=65535),
        prop::option::of((2u64..120, 1u64..60)),
    )
        .prop_map(
            |(name, kind, env, command, depends_on, host_port, timing)| Entry {
                name,
                kind: KINDS[kind].0,
                source: KINDS[kind].1.to_owned(),
                env,
                command,
                depends_on,
                host_port,
                timing,
            },
        )
}

/// A TOML basic string uses JSON's escapes, except that TOML also forbids a raw DEL.
fn toml_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap()
        .replace('\u{7f}', "\\u007f")
}

fn catalogue(entries: &[Entry]) -> String {
    let mut text = String::new();
    for (i, e) in entries.iter().enumerate() {
        text.push_str(&format!(
            "[services.{}]\nkind = \"{}\"\n{}\n",
            e.name, e.kind, e.source
        ));
        if !e.env.is_empty() {
            let pairs: Vec<String> = e
                .env
                .iter()
                .map(|(k, v)| format!("{k} = {}", toml_string(v)))
                .collect();
            text.push_str(&format!("env = {{ {} }}\n", pairs.join(", ")));
        }
        if let Some(argv) = &e.command {
            let argv: Vec<String> = argv.iter().map(|a| toml_string(a)).collect();
            text.push_str(&format!("command = [{}]\n", argv.join(", ")));
        }
        // Only earlier services, so that the graph has no cycles by construction.
        let deps: Vec<String> = e
            .depends_on
            .iter()
            .filter(|(target, _)| *target < i)
            .map(|(target, condition)| match condition {
                Some(c) => format!("{} = \"{c}\"", entries[*target].name),
                None => format!("{} = \"started\"", entries[*target].name),
            })
            .collect();
        if !deps.is_empty() {
            text.push_str(&format!("depends_on = {{ {} }}\n", deps.join(", ")));
        }
        if let Some(port) = e.host_port {
            text.push_str(&format!("ports = [\"{port}:80\"]\n"));
        }
        if let Some((interval, timeout)) = e.timing {
            text.push_str(&format!(
                "healthcheck = {{ interval = \"{interval}s\", timeout = \"{timeout}s\" }}\n"
            ));
        }
    }
    text
}

#[test]
fn accepted_catalogues_give_valid_compose_files() {
    let outputs = tempfile::tempdir().unwrap();
    let accepted = RefCell::new(Vec::new());
    let refused = RefCell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(entry(), 1..8),
        prop::sample::select(vec!["dev", "prod"]),
    );
    runner
        .run(&strategy, |(entries, profile)| {
            let text = catalogue(&entries);
            let run = Muster::new()
                .catalogue(&text)
                .args(&["gen", "--profile", profile])
                .run();
            prop_assert!(
                run.code == 0 || run.code == 1,
                "exit {}:\n{}\n{text}",
                run.code,
                run.stderr
            );
            if run.code == 1 {
                prop_assert!(run.stdout.is_empty());
                prop_assert!(
                    run.stderr.contains("error"),
                    "refused without an error:\n{}",
                    run.stderr
                );
                *refused.borrow_mut() += 1;
                return Ok(());
            }
            let doc: serde_yaml::Value = serde_yaml::from_str(&run.stdout)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", run.stdout)))?;
            let services = doc["services"].as_mapping().expect("services");
            prop_assert_eq!(services.len(), entries.len());
            for e in &entries {
                let service = &doc["services"][e.name.as_str()];
                for (k, v) in &e.env {
                    prop_assert_eq!(
                        &service["environment"][k.as_str()],
                        &serde_yaml::Value::from(v.as_str())
                    );
                }
                if let Some(argv) = &e.command {
                    let emitted: Vec<String> =
                        serde_yaml::from_value(service["command"].clone()).unwrap();
                    prop_assert_eq!(&emitted, argv);
                }
            }
            let mut accepted = accepted.borrow_mut();
            let path = outputs.path().join(format!("{}.yml", accepted.len()));
            std::fs::write(&path, &run.stdout).unwrap();
            accepted.push(path);
            Ok(())
        })
        .unwrap();
    let accepted = accepted.into_inner();
    // Duplicate names, host ports or dependency conditions make some random catalogues invalid;
    // most must still get through, or the property says little.
    assert!(
        accepted.len() * 2 > refused.into_inner(),
        "too few catalogues accepted: {}",
        accepted.len()
    );
    // The Compose loader itself, file by file (given several, it would merge them). Values
    // are arbitrary text, so `$` in them is data here: read without interpolation.
    for path in &accepted {
        let output = tool("docker-compose")
            .arg("-f")
            .arg(path)
            .args(["config", "-q", "--no-interpolate"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the Compose loader refused {}:\n{}\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(path).unwrap()
        );
    }
    let output = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .args(&accepted)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
