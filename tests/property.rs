//! Property: any catalogue muster accepts yields, for each target, a file that parses as YAML,
//! keeps every service and value it was given, and that the target's own loader accepts;
//! anything it refuses, it refuses with exit code 1 and diagnostics, never a crash.
//!
//! Catalogues are random but shaped like real ones (every kind, a kind and an override of a
//! built-in kind from the user's templates folder, dependencies on earlier services, published
//! ports, healthcheck overrides, values Compose interpolates) with arbitrary strings wherever a
//! user may write one. Each case is generated for one target. The Compose and Swarm files are
//! read by the Compose loader (`docker-compose config`, with interpolation, each file alone) and
//! validated together in one `check-jsonschema` run; the Kubernetes manifests together in one
//! `kubernetes-validate --strict` run. Each Compose and Swarm file is also read by
//! `docker-compose config --variables`, whose list must be `muster env`'s.

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
    host_port: Option<Value>,
    timing: Option<(Value, Value)>,
}

/// A value as the catalogue writes it: a literal, or a Compose variable with the literal as its
/// default, which Compose resolves when the variable is unset (as it is when the outputs are
/// checked) and muster must accept and check at the default.
#[derive(Debug, Clone)]
struct Value {
    literal: String,
    variable: Option<String>,
}

impl Value {
    fn text(&self) -> String {
        match &self.variable {
            Some(v) => format!("${{{v}:-{}}}", self.literal),
            None => self.literal.clone(),
        }
    }
}

/// `literal`, written as itself or as `${VAR:-literal}`: each field that Compose interpolates
/// is one `interpolated(...)` in [`entry`].
fn interpolated(literal: impl Strategy<Value = String>) -> impl Strategy<Value = Value> {
    (literal, prop::option::of("[A-Z][A-Z0-9_]{0,8}"))
        .prop_map(|(literal, variable)| Value { literal, variable })
}

/// The user's own kind: built from parts a team writes (labels from its variables, a YAML anchor
/// merged into another key, its own command and healthcheck), with arbitrary values where the
/// template language and YAML allow them.
#[derive(Debug, Clone)]
struct UserKind {
    labels: Vec<(String, String)>,
    merge: bool,
    command: Option<Vec<String>>,
    interval: Option<Value>,
}

/// What a template may write as a literal YAML value: no template delimiters.
const TEMPLATE_TEXT: &str = "[a-zA-Z0-9 _.:/=@-]{0,16}";

fn user_kind() -> impl Strategy<Value = UserKind> {
    (
        prop::collection::vec(("[a-z][a-z0-9.]{0,8}", TEMPLATE_TEXT), 0..3),
        any::<bool>(),
        prop::option::of(prop::collection::vec(TEMPLATE_TEXT, 1..3)),
        prop::option::of(interpolated((1u64..90).prop_map(|s| format!("{s}s")))),
    )
        .prop_map(|(labels, merge, command, interval)| UserKind {
            labels,
            merge,
            command,
            interval,
        })
}

impl UserKind {
    fn template(&self) -> String {
        let mut t = String::from("{# The team's mail catcher. -#}\n");
        if self.merge {
            t.push_str("environment: &common\n  MP_MAX_MESSAGES: \"500\"\n");
        }
        t.push_str("labels:\n");
        if self.merge {
            t.push_str("  <<: *common\n");
        }
        t.push_str("  com.example.service: {{ service.name }}\n");
        for (k, v) in &self.labels {
            t.push_str(&format!(
                "  com.example.{k}: {}\n",
                serde_json::to_string(v).unwrap()
            ));
        }
        if let Some(argv) = &self.command {
            t.push_str(&format!(
                "command: {}\n",
                serde_json::to_string(argv).unwrap()
            ));
        }
        t.push_str("healthcheck:\n  test: [\"CMD\", \"/mailpit\", \"readyz\"]\n");
        if let Some(interval) = &self.interval {
            t.push_str(&format!("  interval: {:?}\n", interval.text()));
        }
        t
    }
}

/// A user's template replacing the built-in `http` one, as a team adds keys to every service.
const HTTP_TEMPLATE: &str = "{# Ours: the built-in probe, and a grace period for requests in flight. -#}
healthcheck:
  test: {{ http_probe(service.probe, service.health_port, service.health_path, service.probe_timeout) }}
stop_grace_period: 20s
labels:
  com.example.kind: http
";

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
    ("mail", "image = \"axllent/mailpit:v1.21\""),
];

fn entry() -> impl Strategy<Value = Entry> {
    (
        "[a-z][a-zA-Z0-9_-]{0,60}",
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
        prop::option::of(interpolated((1024u16..=65535).prop_map(|p| p.to_string()))),
        prop::option::of((
            interpolated((2u64..120).prop_map(|s| format!("{s}s"))),
            interpolated((1u64..60).prop_map(|s| format!("{s}s"))),
        )),
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

/// The catalogue of `entries`. Swarm and Kubernetes run images only, so for them (`pushed`) a
/// service that is built also names the image it is pushed as.
fn catalogue(entries: &[Entry], pushed: bool) -> String {
    let mut text = String::new();
    for (i, e) in entries.iter().enumerate() {
        text.push_str(&format!(
            "[services.{}]\nkind = \"{}\"\n{}\n",
            e.name, e.kind, e.source
        ));
        if pushed && e.source.starts_with("build") {
            text.push_str(&format!("image = \"registry.example.com/app{i}:1.0\"\n"));
        }
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
        if let Some(port) = &e.host_port {
            text.push_str(&format!("ports = [\"{}:80\"]\n", port.text()));
        }
        if let Some((interval, timeout)) = &e.timing {
            text.push_str(&format!(
                "healthcheck = {{ interval = \"{}\", timeout = \"{}\" }}\n",
                interval.text(),
                timeout.text()
            ));
        }
    }
    text
}

/// The target names of `muster gen --target`, and the file each case's output goes to.
const TARGETS: &[&str] = &["compose", "swarm", "k8s"];

#[test]
fn accepted_catalogues_give_files_each_target_accepts() {
    let outputs = tempfile::tempdir().unwrap();
    // The paths written for each target, in `TARGETS` order.
    let accepted = RefCell::new(vec![Vec::new(); TARGETS.len()]);
    let refused = RefCell::new(0usize);
    // Where `muster env` and Compose's `config --variables` disagree on an accepted file.
    let variables = RefCell::new(Vec::<String>::new());
    let variables_checked = RefCell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(entry(), 1..8),
        prop::sample::select(vec!["dev", "prod"]),
        user_kind(),
        any::<bool>(),
        0..TARGETS.len(),
    );
    runner
        .run(&strategy, |(entries, profile, mail, own_http, target)| {
            let text = catalogue(&entries, TARGETS[target] != "compose");
            let mut muster = Muster::new()
                .catalogue(&text)
                .file("templates/kinds/mail.yml.j2", &mail.template());
            if own_http {
                muster = muster.file("templates/kinds/http.yml.j2", HTTP_TEMPLATE);
            }
            let muster = muster.args(&["gen", "--profile", profile, "--target", TARGETS[target]]);
            let run = muster.run();
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
            // Kubernetes manifests are one YAML document per object; each must parse.
            let documents = yaml_serde::Deserializer::from_str(&run.stdout)
                .map(<yaml_serde::Value as serde::Deserialize>::deserialize)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", run.stdout)))?;
            if TARGETS[target] != "k8s" {
                let doc = &documents[0];
                let services = doc["services"].as_mapping().expect("services");
                prop_assert_eq!(services.len(), entries.len());
                for e in &entries {
                    let service = &doc["services"][e.name.as_str()];
                    for (k, v) in &e.env {
                        // Swarm reads environment values as Go templates, where a literal `{{`
                        // is written `{{"{{"}}`.
                        let v = match TARGETS[target] {
                            "swarm" => v.replace("{{", r#"{{"{{"}}"#),
                            _ => v.clone(),
                        };
                        prop_assert_eq!(
                            &service["environment"][k.as_str()],
                            &yaml_serde::Value::from(v)
                        );
                    }
                    if let Some(argv) = &e.command {
                        let emitted: Vec<String> =
                            yaml_serde::from_value(service["command"].clone()).unwrap();
                        prop_assert_eq!(&emitted, argv);
                    }
                }
            }
            if TARGETS[target] != "k8s" {
                std::fs::write(muster.path("out.yml"), &run.stdout).unwrap();
                let args = ["--profile", profile, "--target", TARGETS[target]];
                for w in common::variables_disagree(&muster.path("."), &args, "out.yml") {
                    variables.borrow_mut().push(format!("{w}\n{text}"));
                }
                *variables_checked.borrow_mut() += 1;
            }
            let mut accepted = accepted.borrow_mut();
            let count: usize = accepted.iter().map(Vec::len).sum();
            let path = outputs
                .path()
                .join(format!("{count}.{}.yml", TARGETS[target]));
            std::fs::write(&path, &run.stdout).unwrap();
            accepted[target].push(path);
            Ok(())
        })
        .unwrap();
    let variables = variables.into_inner();
    assert!(
        variables.is_empty(),
        "muster env disagrees with config --variables:\n{}",
        variables.join("\n")
    );
    assert!(variables_checked.into_inner() > 20);
    let [compose, swarm, k8s]: [Vec<_>; 3] = accepted.into_inner().try_into().unwrap();
    let accepted = compose.len() + swarm.len() + k8s.len();
    // Duplicate names, host ports or dependency conditions make some random catalogues invalid;
    // most must still get through, or the property says little.
    assert!(
        accepted * 2 > refused.into_inner(),
        "too few catalogues accepted: {accepted}"
    );
    assert!(
        [&compose, &swarm, &k8s]
            .iter()
            .all(|files| !files.is_empty()),
        "every target must have accepted outputs: {} compose, {} swarm, {} k8s",
        compose.len(),
        swarm.len(),
        k8s.len()
    );
    // The Compose loader itself, file by file (given several, it would merge them), with the
    // variables unset so that each `${VAR:-default}` takes its default, as on a fresh checkout.
    // A stack file for `docker stack deploy` is a Compose file too.
    let home = tempfile::tempdir().unwrap();
    for path in compose.iter().chain(&swarm) {
        let output = tool("docker-compose")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", home.path())
            .arg("-f")
            .arg(path)
            .args(["config", "-q"])
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
        .args(compose.iter().chain(&swarm))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    common::assert_kubernetes_valid(&k8s);
}

// ------------------------------------------------ Kubernetes reads interpolation as Compose does

/// One piece of a command line: a word, a quoted phrase, or a reference in one of Compose's
/// forms, some with a default or a message that holds spaces.
#[derive(Debug, Clone)]
enum Piece {
    Word(String),
    Quoted(String),
    /// `${V}`, `$V`, `${V:?message}`: set in the environment.
    Set {
        var: usize,
        form: u8,
    },
    /// `${V:-default}`, `${V-default}`: unset, so the default is read.
    Defaulted {
        var: usize,
        default: String,
        quoted: bool,
    },
    /// `$$NAME`: a literal `$` for the container.
    Escaped(String),
}

impl Piece {
    fn text(&self) -> String {
        let name = |v: &usize| format!("V{v}");
        match self {
            Piece::Word(w) => w.clone(),
            Piece::Quoted(q) => format!("'{q}'"),
            Piece::Set { var, form } => match form % 3 {
                0 => format!("${{{}}}", name(var)),
                1 => format!("${}", name(var)),
                _ => format!("${{{}:?set {} in .env}}", name(var), name(var)),
            },
            Piece::Defaulted {
                var,
                default,
                quoted,
            } => {
                let r = format!("${{D{var}:-{default}}}");
                if *quoted { format!("\"{r}\"") } else { r }
            }
            Piece::Escaped(n) => format!("$${n}"),
        }
    }
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        "[a-z0-9./=-]{1,8}".prop_map(Piece::Word),
        "[a-z0-9 ]{0,8}".prop_map(Piece::Quoted),
        (0usize..3, any::<u8>()).prop_map(|(var, form)| Piece::Set { var, form }),
        (0usize..3, "[a-z0-9 -]{0,8}", any::<bool>()).prop_map(|(var, default, quoted)| {
            Piece::Defaulted {
                var,
                default,
                quoted,
            }
        }),
        "[A-Z]{1,5}".prop_map(Piece::Escaped),
    ]
}

/// Kubernetes' expansion of `$(VAR)` in `env`, `command` and `args`
/// (kubernetes/third_party/forked/golang/expansion: `$$` is `$`, `$(NAME)` a defined variable's
/// value, anything else as written).
fn k8s_expand(text: &str, vars: &std::collections::HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(after) = after.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some(value) = vars.get(&inner[..end])
        {
            out.push_str(value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Random command lines, images and environment values with Compose interpolation in every
/// form, and service names of any length and case. With each variable that has a default unset
/// and each other one set (to a value without spaces or quotes, which Compose would split
/// again: see the README), the argv, image and environment the Kubernetes pod gets, expanded as
/// the kubelet expands them from the project's Secret, are those Compose 2.40.3's `config`
/// reads from the Compose file; and every manifest passes `kubernetes-validate --strict` and
/// the API server's rules.
#[test]
fn kubernetes_reads_interpolation_as_compose_does() {
    let manifests = RefCell::new(Vec::new());
    let outputs = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        "[a-z][a-zA-Z0-9_-]{0,60}",
        prop::collection::vec(piece(), 1..7),
        prop::collection::vec("[A-Za-z0-9_.-]{1,10}", 3),
        prop::option::of(0usize..3),
        prop::collection::vec((0usize..3, "[a-z0-9 ]{0,6}"), 0..3),
    );
    runner
        .run(&strategy, |(name, pieces, values, tag, env)| {
            let line: Vec<String> = pieces.iter().map(Piece::text).collect();
            let line = line.join(" ");
            let image = match tag {
                Some(var) => format!("registry.example.com/app:${{D{var}:-1.{var}}}"),
                None => "registry.example.com/app:1.0".to_owned(),
            };
            let env: Vec<String> = env
                .iter()
                .enumerate()
                .map(|(i, (var, text))| {
                    format!(
                        "E{i} = {}",
                        toml_string(&format!("{text}${{V{var}}}-${{D{var}:-d}}"))
                    )
                })
                .collect();
            let catalogue = format!(
                "[project]\nname = \"shop\"\n[services.{name}]\nkind = \"http\"\nimage = {}\n\
                 probe = \"curl\"\ncommand = {}\nenv = {{ {} }}\n",
                toml_string(&image),
                toml_string(&line),
                env.join(", ")
            );
            let generate = |target: &str| {
                Muster::new()
                    .catalogue(&catalogue)
                    .args(&["gen", "--profile", "prod", "--target", target])
                    .run()
            };
            let compose = generate("compose");
            let k8s = generate("k8s");
            prop_assert_eq!(compose.code, 0, "{}\n{}", compose.stderr, catalogue);
            prop_assert_eq!(k8s.code, 0, "{}\n{}", k8s.stderr, catalogue);
            // Compose's reading, with the V variables set and the D ones unset.
            let file = outputs
                .path()
                .join(format!("{}.compose.yml", manifests.borrow().len()));
            std::fs::write(&file, &compose.stdout).unwrap();
            let mut loader = tool("docker-compose");
            loader
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap())
                .env("HOME", outputs.path());
            for (i, v) in values.iter().enumerate() {
                loader.env(format!("V{i}"), v);
            }
            let read = loader
                .arg("-f")
                .arg(&file)
                .args(["config", "--format", "json"])
                .output()
                .unwrap();
            prop_assert!(
                read.status.success(),
                "{}",
                String::from_utf8_lossy(&read.stderr)
            );
            let model: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
            let service = &model["services"][name.as_str()];
            // The kubelet's reading, from a Secret holding the same values.
            let secret: std::collections::HashMap<String, String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("V{i}"), v.clone()))
                .collect();
            let docs: Vec<yaml_serde::Value> = yaml_serde::Deserializer::from_str(&k8s.stdout)
                .map(|d| <yaml_serde::Value as serde::Deserialize>::deserialize(d).unwrap())
                .collect();
            let workload = docs
                .iter()
                .find(|d| d["kind"] == "Deployment")
                .expect("a Deployment");
            let container = &workload["spec"]["template"]["spec"]["containers"][0];
            let mut vars: std::collections::HashMap<String, String> = Default::default();
            for e in container["env"].as_sequence().into_iter().flatten() {
                let key = e["name"].as_str().unwrap().to_owned();
                let value = match e["valueFrom"]["secretKeyRef"]["key"].as_str() {
                    Some(k) => secret.get(k).cloned().unwrap_or_default(),
                    None => k8s_expand(e["value"].as_str().unwrap(), &vars),
                };
                vars.insert(key, value);
            }
            let args: Vec<String> = container["args"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|a| k8s_expand(a.as_str().unwrap(), &vars))
                .collect();
            // `config` writes a file Compose can read again, so each `$` of a value is `$$` there.
            let unescape = |v: &str| v.replace("$$", "$");
            let compose_args: Vec<String> =
                serde_json::from_value::<Vec<String>>(service["command"].clone())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| unescape(a))
                    .collect();
            prop_assert_eq!(&args, &compose_args, "{}\n{}", line, k8s.stdout);
            prop_assert_eq!(
                container["image"].as_str().unwrap(),
                service["image"].as_str().unwrap()
            );
            for (key, value) in service["environment"].as_object().into_iter().flatten() {
                let value = value.as_str().map(unescape);
                prop_assert_eq!(vars.get(key).cloned(), value, "{}", key);
            }
            let path = outputs
                .path()
                .join(format!("{}.k8s.yml", manifests.borrow().len()));
            std::fs::write(&path, &k8s.stdout).unwrap();
            manifests.borrow_mut().push(path);
            Ok(())
        })
        .unwrap();
    let manifests = manifests.into_inner();
    assert!(!manifests.is_empty());
    common::assert_kubernetes_valid(&manifests);
}
