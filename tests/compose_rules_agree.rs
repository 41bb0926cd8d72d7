//! Differential test: random stacks of services whose `compose` tables, kind templates and
//! Compose profiles write the values compose-go's schema, its loader's rules and the engine
//! judge (`network_mode: service:X`, `links`, `volumes_from`, `container_name`, `extra_hosts`,
//! `pull_policy`, port addresses, labels, healthcheck durations, mounts, replicas), each given
//! to muster as a catalogue and to the Compose 2.40.3 loader as the same services written by
//! hand. Compose's verdict is `config -q` under every selection (no `--profile`, then each
//! `--profile NAME` the stack uses): it refuses when any selection is refused. muster's is
//! `gen`'s exit code, and the file it writes must pass the loader under every selection too.
//!
//! The verdicts must be equal, with one exception the README lists: muster may refuse what the
//! loader accepts when every error it gives is a refusal of the engine at `up` (a host port or
//! a container name two services that run together take, a fixed host port under replicas, a
//! healthcheck duration under 1ms). The figures are printed (`--nocapture`):
//! `MUSTER_AGREE_CASES` sets how many stacks are tried (64 by default), `MUSTER_AGREE_SEED`
//! the seed (a fixed one by default, so that a run is repeatable).
//!
//! The loader runs with an empty environment, as on a machine without `.env`.

mod common;

use common::Muster;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{Value, json};

/// Service names: the stack's three, and one it does not have.
const NAMES: [&str; 4] = ["s0", "s1", "s2", "ghost"];

/// One generated service.
#[derive(Debug, Clone)]
struct Service {
    /// Rendered by the user's template kind `custom` rather than the built-in `http`.
    custom: bool,
    profiles: Vec<&'static str>,
    depends_on: Option<usize>,
    /// Keys of the `compose` table.
    compose: Vec<(&'static str, Value)>,
    /// Keys the `custom` template renders (none for `http`).
    template: Vec<(&'static str, Value)>,
}

/// The values a key may take, some of which Compose or the engine refuses. `{s}` is replaced
/// by a service name.
fn fragment() -> impl Strategy<Value = (&'static str, Value)> {
    let name = prop::sample::select(NAMES.to_vec());
    prop_oneof![
        (
            name.clone(),
            prop::sample::select(vec!["service:{s}", "host", "none"])
        )
            .prop_map(|(s, v)| ("network_mode", json!(v.replace("{s}", s)))),
        Just(("networks", json!(["backend"]))),
        (name.clone(), prop::sample::select(vec!["{s}", "{s}:alias"]))
            .prop_map(|(s, v)| ("links", json!([v.replace("{s}", s)]))),
        (
            name.clone(),
            prop::sample::select(vec!["{s}", "{s}:ro", "container:other"])
        )
            .prop_map(|(s, v)| ("volumes_from", json!([v.replace("{s}", s)]))),
        prop::sample::select(vec!["cn1", "cn2"]).prop_map(|v| ("container_name", json!(v))),
        prop::sample::select(vec![
            "db.internal",
            "db.internal=10.0.0.5",
            "=10.0.0.5",
            "db:10.0.0.5",
            "db=host-gateway"
        ])
        .prop_map(|v| ("extra_hosts", json!([v]))),
        prop::sample::select(vec![
            "always",
            "if-not-present",
            "if_not_present",
            "missing",
            "daily",
            "every_12h",
            "sometimes"
        ])
        .prop_map(|v| ("pull_policy", json!(v))),
        prop::sample::select(vec![
            json!(["8080:80"]),
            json!(["300.1.1.1:8080:80"]),
            json!(["127.0.0.1:8080:80"]),
            json!(["8081:80"]),
            json!([{"target": 80, "published": "8080"}]),
            json!([{"target": 80, "published": "8082", "host_ip": "1.2.3.999"}]),
        ])
        .prop_map(|v| ("ports", v)),
        prop::sample::select(vec![
            json!({"team": "x"}),
            json!({"team": ["x"]}),
            json!(["team=x"]),
            json!({"team": {"a": "b"}}),
        ])
        .prop_map(|v| ("labels", v)),
        prop::sample::select(vec!["500us", "1ms", "0s", "${I:-10us}", "2s"])
            .prop_map(|v| ("healthcheck", json!({"interval": v}))),
        prop::sample::select(vec![
            json!(["C:\\data:/data"]),
            json!(["/data", "./x:/data/"]),
            json!(["vol:/data"]),
            json!(["d:/logs:/logs:ro"]),
        ])
        .prop_map(|v| ("volumes", v)),
        prop::sample::select(vec!["/data", "/tmp"]).prop_map(|v| ("tmpfs", json!([v]))),
        prop::sample::select(vec![json!(2), json!("${R:-2}"), json!(1)])
            .prop_map(|v| ("deploy", json!({"replicas": v}))),
        prop::sample::select(vec![json!("yes"), json!("maybe"), json!(true)])
            .prop_map(|v| ("privileged", v)),
        prop::sample::select(vec!["0.5", "${C:-abc}", "2"]).prop_map(|v| ("cpus", json!(v))),
        Just(("x-extra", json!({"anything": 1}))),
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        any::<bool>(),
        prop::sample::select(vec![
            vec![],
            vec![],
            vec!["a"],
            vec!["b"],
            vec!["${P:-}"],
            vec!["${Q:-a}"],
        ]),
        prop::option::weighted(0.3, 0usize..3),
        prop::collection::vec(fragment(), 0..3),
    )
        .prop_map(|(custom, profiles, depends_on, fragments)| {
            // One value per key; a custom kind's template takes every other key.
            let mut compose = Vec::new();
            let mut template = Vec::new();
            for (i, (key, value)) in fragments.into_iter().enumerate() {
                if compose.iter().chain(&template).any(|(k, _)| *k == key) {
                    continue;
                }
                if custom && i % 2 == 1 {
                    template.push((key, value));
                } else {
                    compose.push((key, value));
                }
            }
            Service {
                custom,
                profiles,
                depends_on,
                compose,
                template,
            }
        })
}

fn stack() -> impl Strategy<Value = Vec<Service>> {
    prop::collection::vec(service(), 2..=3)
}

/// A JSON value as a TOML inline value.
fn toml_value(value: &Value) -> String {
    match value {
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

fn toml_key(key: &str) -> String {
    if key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

/// The stack as a catalogue, and the custom kind's template when a service uses it. The
/// template renders the first custom service's keys (a template is one per kind).
fn catalogue(services: &[Service]) -> (String, Option<String>) {
    let mut text = String::new();
    let template_keys = services
        .iter()
        .find(|s| s.custom)
        .map(|s| s.template.clone());
    for (i, s) in services.iter().enumerate() {
        text.push_str(&format!("[services.s{i}]\n"));
        text.push_str(if s.custom {
            "kind = \"custom\"\n"
        } else {
            "kind = \"http\"\n"
        });
        text.push_str("image = \"nginx:1.27\"\n");
        if !s.profiles.is_empty() {
            text.push_str(&format!(
                "compose_profiles = {}\n",
                toml_value(&json!(s.profiles))
            ));
        }
        if let Some(d) = s.depends_on {
            text.push_str(&format!("depends_on = [\"s{d}\"]\n"));
        }
        if !s.compose.is_empty() {
            let table: serde_json::Map<String, Value> = s
                .compose
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            text.push_str(&format!(
                "compose = {}\n",
                toml_value(&Value::Object(table))
            ));
        }
        text.push('\n');
    }
    let template = template_keys.map(|keys| {
        keys.iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect::<String>()
    });
    (text, template)
}

/// The same stack written by hand for Compose: each service's image, profiles, dependency,
/// template keys (the kind's, as muster renders them for every service of the kind) and
/// `compose` keys over them.
fn compose_file(services: &[Service]) -> String {
    let template = services
        .iter()
        .find(|s| s.custom)
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (i, s) in services.iter().enumerate() {
        let mut body = serde_json::Map::new();
        body.insert("image".into(), json!("nginx:1.27"));
        if !s.profiles.is_empty() {
            body.insert("profiles".into(), json!(s.profiles));
        }
        if let Some(d) = s.depends_on {
            body.insert("depends_on".into(), json!([format!("s{d}")]));
        }
        if s.custom {
            for (k, v) in &template {
                body.insert((*k).to_owned(), v.clone());
            }
        }
        for (k, v) in &s.compose {
            // The `compose` table merges mappings key by key over what is below it.
            match (body.get_mut(*k), v) {
                (Some(Value::Object(below)), Value::Object(over)) => {
                    for (kk, vv) in over {
                        below.insert(kk.clone(), vv.clone());
                    }
                }
                _ => {
                    body.insert((*k).to_owned(), v.clone());
                }
            }
        }
        out.insert(format!("s{i}"), Value::Object(body));
    }
    // muster declares the named volumes and networks its services use; by hand, so does this.
    serde_json::to_string(&json!({
        "services": out,
        "networks": {"backend": {}},
        "volumes": {"vol": {}},
    }))
    .unwrap()
}

/// Every profile name the stack uses, as Compose reads it with an empty environment.
fn selections(services: &[Service]) -> Vec<String> {
    let mut names: Vec<String> = services
        .iter()
        .flat_map(|s| &s.profiles)
        .map(|p| match *p {
            "${P:-}" => String::new(),
            "${Q:-a}" => "a".to_owned(),
            other => other.to_owned(),
        })
        .filter(|p| !p.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The loader's verdict on `file` under every selection: `Err` with the first refusal.
fn loader(file: &std::path::Path, profiles: &[String]) -> Result<(), String> {
    let mut selections: Vec<Option<&String>> = vec![None];
    selections.extend(profiles.iter().map(Some));
    for selection in selections {
        let mut command = common::tool("docker-compose");
        command.arg("-f").arg(file);
        if let Some(p) = selection {
            command.args(["--profile", p]);
        }
        let out = command
            .args(["config", "-q"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(format!(
                "{}: {}",
                selection.map_or("no --profile".to_owned(), |p| format!("--profile {p}")),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// The engine's refusals at `up` that muster reports and Compose's loader does not (README,
/// "Checking"): an error of muster's that says one of these is not a disagreement.
const ENGINE_REFUSALS: &[&str] = &[
    "already publishes",
    "both take the container name",
    "under a millisecond",
    "replicas, but publishes host port",
];

#[test]
fn muster_and_the_compose_loader_agree_on_random_stacks() {
    let cases: u32 = std::env::var("MUSTER_AGREE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let seed: u64 = std::env::var("MUSTER_AGREE_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(23);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = stack();
    let (mut tried, mut compared, mut engine_only) = (0, 0, 0);
    let (mut both_accept, mut both_refuse) = (0, 0);
    let mut disagreements = Vec::new();
    for _ in 0..cases {
        let services = strategy.new_tree(&mut runner).unwrap().current();
        tried += 1;
        let (text, template) = catalogue(&services);
        let profiles = selections(&services);
        let dir = tempfile::tempdir().unwrap();
        let by_hand = dir.path().join("by-hand.yml");
        std::fs::write(&by_hand, compose_file(&services)).unwrap();
        let compose = loader(&by_hand, &profiles);
        let mut m = Muster::new().catalogue(&text);
        if let Some(t) = &template {
            m = m.file(
                "templates/kinds/custom.yml.j2",
                &format!("image: nginx:1.27\n{t}"),
            );
        }
        let m = m.args(&["gen", "--profile", "prod", "-o", "compose.yml"]);
        let run = m.run();
        compared += profiles.len() + 1;
        let shown = || {
            format!(
                "catalogue:\n{text}\ntemplate:\n{}\nby hand:\n{}\n",
                template.clone().unwrap_or_default(),
                compose_file(&services)
            )
        };
        match (run.code == 0, &compose) {
            (true, Ok(())) => {
                both_accept += 1;
                if let Err(e) = loader(&m.path("compose.yml"), &profiles) {
                    disagreements.push(format!(
                        "muster wrote what Compose refuses ({e})\n{}",
                        shown()
                    ));
                }
            }
            (false, Err(_)) => both_refuse += 1,
            (false, Ok(())) => {
                let errors: Vec<&str> = run
                    .stderr
                    .lines()
                    .filter(|l| l.starts_with("error"))
                    .collect();
                if !errors.is_empty()
                    && errors
                        .iter()
                        .all(|e| ENGINE_REFUSALS.iter().any(|r| e.contains(r)))
                {
                    engine_only += 1;
                } else {
                    disagreements.push(format!(
                        "Compose accepts, muster refuses:\n{}{}",
                        run.stderr,
                        shown()
                    ));
                }
            }
            (true, Err(e)) => disagreements.push(format!(
                "Compose refuses ({e}), muster accepts:\n{}",
                shown()
            )),
        }
    }
    println!(
        "stacks tried: {tried}; loader runs compared: {compared}; both accept: {both_accept}; \
         both refuse: {both_refuse}; muster refuses what only the engine refuses: \
         {engine_only}; disagreements: {}",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n\n{}",
        disagreements.len(),
        disagreements.join("\n----\n")
    );
    // A generator that only ever produced one verdict would compare nothing.
    assert!(
        both_accept > 0 && both_refuse > 0,
        "the stacks must reach both verdicts"
    );
}
