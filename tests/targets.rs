//! `muster gen --target swarm|k8s`, and `autoheal` for plain Compose: the ecommerce example on
//! every target (golden files, validated by the targets' own schemas), and each mapping on a
//! small catalogue. `MUSTER_BLESS=1` rewrites the golden files; review their diff like code.

mod common;

use common::{Muster, Run, assert_valid_compose, golden_diff, repo_root};
use yaml_serde::Value;

/// The ecommerce example with an image beside every `build`, as a deployment to a cluster needs:
/// `registry.example.com/shop/NAME:1.0`, NAME being the build folder's. Derived rather than
/// copied, so that it follows the example as the example changes.
fn ecommerce_with_images() -> String {
    let example =
        std::fs::read_to_string(repo_root().join("examples/ecommerce/services.toml")).unwrap();
    let mut out = String::new();
    for line in example.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(context) = line
            .strip_prefix("build = \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            let name = context.rsplit('/').next().unwrap();
            out.push_str(&format!(
                "image = \"registry.example.com/shop/{name}:1.0\"\n"
            ));
        }
    }
    assert!(
        !out.lines().any(|l| l.starts_with("build = {")),
        "a build table in the example: teach ecommerce_with_images about it"
    );
    out
}

fn ecommerce(target: &str) -> Run {
    Muster::new()
        .catalogue(&ecommerce_with_images())
        .args(&["gen", "--profile", "prod", "--target", target])
        .run()
        .success()
}

fn gen_target(catalogue: &str, profile: &str, target: &str) -> Run {
    Muster::new()
        .catalogue(catalogue)
        .args(&["gen", "--profile", profile, "--target", target])
        .run()
}

/// The documents of a multi-document YAML, each parsed.
fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .skip(1)
        .map(|doc| yaml_serde::from_str(doc).unwrap_or_else(|e| panic!("{e}:\n{doc}")))
        .collect()
}

fn document<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn container(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

// ---------------------------------------------------------------- the example, on every target

#[test]
fn ecommerce_matches_its_swarm_and_k8s_golden_files() {
    let stale: Vec<String> = ["swarm", "k8s"]
        .iter()
        .filter_map(|target| {
            let path = format!("tests/golden/ecommerce.prod.{target}.yml");
            golden_diff(&path, &ecommerce(target).stdout)
        })
        .collect();
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn ecommerce_k8s_manifests_pass_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "k8s.yml", &ecommerce("k8s").stdout);
    common::assert_kubernetes_valid(&[&path]);
}

#[test]
fn ecommerce_swarm_file_is_valid_compose() {
    let dir = tempfile::tempdir().unwrap();
    assert_valid_compose(&write_temp(&dir, "stack.yml", &ecommerce("swarm").stdout));
}

#[test]
fn every_target_is_byte_identical_across_runs() {
    for target in ["compose", "swarm", "k8s"] {
        let first = ecommerce(target).stdout;
        assert_eq!(first, ecommerce(target).stdout, "{target}");
    }
}

// ---------------------------------------------------------------- swarm

/// What `docker stack deploy` ignores ("not supported for docker stack deploy" in the Compose
/// v3 reference) or rejects (docker/cli's schema has no top-level `name`, and only the short form
/// of `depends_on`, which Swarm ignores anyway).
const STACK_DEPLOY_IGNORES_OR_REJECTS: &[&str] = &[
    "build",
    "cgroup_parent",
    "container_name",
    "depends_on",
    "devices",
    "external_links",
    "links",
    "network_mode",
    "restart",
    "security_opt",
    "userns_mode",
];

fn assert_stack_deployable(stack: &Value) {
    assert!(stack.get("name").is_none(), "top-level name: {stack:?}");
    for (name, service) in stack["services"].as_mapping().unwrap() {
        for key in STACK_DEPLOY_IGNORES_OR_REJECTS {
            assert!(
                service.get(key).is_none(),
                "service {name:?} has `{key}`: {service:?}"
            );
        }
    }
}

#[test]
fn swarm_emits_nothing_stack_deploy_ignores_or_rejects() {
    assert_stack_deployable(&ecommerce("swarm").yaml());
    // Keys that reach the service through the `compose` escape hatch are left out too, with a
    // warning naming them.
    let run = gen_target(
        r#"
[project]
name = "shop"
[services.x]
kind = "cache"
image = "redis:7.4"
[services.cache]
kind = "cache"
image = "redis:7.4"
compose = { container_name = "shop-cache", links = ["x"], network_mode = "host", develop = { watch = [] }, stop_signal = "SIGINT" }
"#,
        "prod",
        "swarm",
    )
    .success();
    assert_stack_deployable(&run.yaml());
    assert_eq!(run.service("cache")["stop_signal"], "SIGINT");
    assert!(run.service("cache").get("develop").is_none());
    for key in ["container_name", "links", "network_mode", "develop"] {
        assert!(run.stderr.contains(&format!("`{key}`")), "{}", run.stderr);
    }
}

#[test]
fn swarm_restart_policy_follows_the_compose_restart() {
    let run = gen_target(
        r#"
[services.a]
kind = "cache"
image = "redis:7.4"
[services.b]
kind = "cache"
image = "redis:7.4"
restart = "unless-stopped"
[services.c]
kind = "cache"
image = "redis:7.4"
restart = "on-failure:5"
[services.d]
kind = "cache"
image = "redis:7.4"
restart = "no"
[services.e]
kind = "cache"
image = "redis:7.4"
restart = "on-failure"
"#,
        "prod",
        "swarm",
    )
    .success();
    let policy = |name: &str| run.service(name)["deploy"]["restart_policy"].clone();
    let expect = |text: &str| yaml_serde::from_str::<Value>(text).unwrap();
    assert_eq!(policy("a"), expect("condition: any"));
    assert_eq!(policy("b"), expect("condition: any"));
    assert_eq!(
        policy("c"),
        expect("{condition: on-failure, max_attempts: 5}")
    );
    assert_eq!(policy("d"), expect("condition: none"));
    assert_eq!(policy("e"), expect("condition: on-failure"));
}

/// Seconds of a duration the stack file writes in whole seconds or minutes (`75s`, `1m30s`).
fn seconds(value: &Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a duration: {value:?}"));
    let (minutes, rest) = text.split_once('m').unwrap_or(("0", text));
    minutes.parse::<u64>().unwrap() * 60 + rest.trim_end_matches('s').parse::<u64>().unwrap_or(0)
}

/// What Swarm needs of a bounded retry: `max_attempts x delay` reaches past the start of every
/// dependency along the slowest chain below the service (its `start_period` plus its first
/// probe, every `start_interval` while starting), read from the stack file itself, and not by
/// much more.
fn assert_budget_covers(stack: &Value, service: &str, chain: &[&str]) {
    let policy = &stack["services"][service]["deploy"]["restart_policy"];
    let delay = policy.get("delay").map_or(5, seconds);
    let spans = policy["max_attempts"].as_u64().unwrap() * delay;
    let needed: u64 = chain
        .iter()
        .map(|d| {
            let hc = &stack["services"][*d]["healthcheck"];
            seconds(&hc["start_period"]) + seconds(&hc["start_interval"])
        })
        .sum();
    assert!(
        spans >= needed && spans <= needed * 2 + 15,
        "{service}: {spans}s of retries for a chain of {needed}s: {policy:?}"
    );
}

#[test]
fn swarm_spreads_a_bounded_retry_over_the_chain_below_it() {
    // Swarm starts the job with everything below it; five-second retries were spent before
    // the database answered, and a delay from the direct dependency alone before the pool's.
    let catalogue = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
healthcheck = { start_period = "75s" }
[services.pool]
kind = "pool"
image = "edoburu/pgbouncer:v1.24.1-p1"
depends_on = ["db"]
[services.cache]
kind = "cache"
image = "redis:7.4"
[services.migrate]
kind = "job"
image = "registry.example.com/app:1"
depends_on = ["pool", "cache"]
[services.worker]
kind = "http"
image = "registry.example.com/app:1"
restart = "on-failure:5"
depends_on = ["db"]
[services.lone]
kind = "job"
image = "registry.example.com/app:1"
"#;
    let stack = gen_target(catalogue, "prod", "swarm").success().yaml();
    assert_budget_covers(&stack, "migrate", &["pool", "db"]);
    // A long-running service with a bounded policy must not give up either.
    assert_budget_covers(&stack, "worker", &["db"]);
    // Nothing to wait for: Swarm's own delay.
    assert_eq!(
        stack["services"]["lone"]["deploy"]["restart_policy"],
        yaml_serde::from_str::<Value>("{condition: on-failure, max_attempts: 3}").unwrap()
    );
    // `explain` shows the arithmetic of what was written.
    let explained = Muster::new()
        .catalogue(catalogue)
        .args(&["explain", "migrate", "--profile", "prod"])
        .run()
        .success()
        .stdout;
    let delay = seconds(&stack["services"]["migrate"]["deploy"]["restart_policy"]["delay"]);
    assert!(
        explained.contains("slowest chain below it: migrate -> pool -> db")
            && explained.contains(&format!("max_attempts 3 x delay {delay}s = {}s", 3 * delay)),
        "{explained}"
    );
}

#[test]
fn k8s_restates_compose_interpolation_or_says_it_cannot() {
    let catalogue = |env: &str| {
        format!(
            "[project]\nname = \"shop\"\n[services.web]\nkind = \"http\"\n\
             image = \"registry.example.com/web:1\"\nenv = {{ {env} }}\n"
        )
    };
    // A default is written as such, and said so; a required variable comes from the Secret.
    let run = gen_target(
        &catalogue(r#"LEVEL = "${LEVEL:-info}", URL = "redis://${HOST:-redis}:6379", PW = "${PW:?set it}""#),
        "prod",
        "k8s",
    )
    .success();
    let docs = documents(&run.stdout);
    let env = container(document(&docs, "Deployment", "web"))["env"].clone();
    let var = |name: &str| {
        env.as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(var("LEVEL")["value"], "info");
    assert_eq!(var("URL")["value"], "redis://redis:6379");
    assert_eq!(var("PW")["valueFrom"]["secretKeyRef"]["key"], "PW");
    assert!(
        run.stderr
            .contains("Kubernetes has no defaults: `${LEVEL}`, `${HOST}` written"),
        "{}",
        run.stderr
    );
    // An alternative and a variable in its own value cannot be restated.
    for (env, says) in [
        (r#"FLAG = "--x=${F:+on}""#, "`${F}` with `:+` or `+`"),
        (
            r#"PATH = "/app/bin:${PATH}""#,
            "uses `${PATH}` in its own value",
        ),
    ] {
        gen_target(&catalogue(env), "prod", "k8s")
            .failure(1)
            .says(says);
    }
}

#[test]
fn k8s_says_what_a_shared_claim_cannot_do() {
    let run = gen_target(
        r#"
[project]
name = "shop"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
volumes = ["pgdata:/var/lib/postgresql/data"]
[services.backup]
kind = "http"
image = "registry.example.com/backup:1"
volumes = ["pgdata:/backup/source:ro"]
[services.web]
kind = "http"
image = "registry.example.com/web:1"
replicas = 3
volumes = ["uploads:/srv/uploads"]
[services.reader]
kind = "http"
image = "registry.example.com/reader:1"
replicas = 2
volumes = ["models:/models:ro"]
"#,
        "prod",
        "k8s",
    )
    .success();
    run.says("service `backup` shares volume `pgdata` with `db`, whose pods each have a claim of their own");
    run.says("service `web` runs 3 replicas on the ReadWriteOnce claim `uploads`");
    // A read-only claim is ReadOnlyMany: replicas on many nodes are fine.
    assert!(!run.stderr.contains("`reader` runs"), "{}", run.stderr);
}

#[test]
fn k8s_postgres_keeps_its_data_below_the_claims_root() {
    let run = gen_target(
        r#"
[project]
name = "shop"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
volumes = ["pgdata:/var/lib/postgresql/data"]
[services.own]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw", PGDATA = "/var/lib/postgresql/data/mine" }
volumes = ["owndata:/var/lib/postgresql/data"]
[services.bare]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
"#,
        "prod",
        "k8s",
    )
    .success();
    let docs = documents(&run.stdout);
    let env = |name: &str| container(document(&docs, "StatefulSet", name))["env"].clone();
    let pgdata = |name: &str| {
        env(name)
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "PGDATA")
            .map(|e| e["value"].as_str().unwrap().to_owned())
    };
    // initdb refuses the claim's root, which holds lost+found.
    assert_eq!(
        pgdata("db").as_deref(),
        Some("/var/lib/postgresql/data/pgdata")
    );
    assert_eq!(
        pgdata("own").as_deref(),
        Some("/var/lib/postgresql/data/mine")
    );
    assert_eq!(pgdata("bare"), None);
}

#[test]
fn swarm_runs_a_job_as_a_replicated_job() {
    let run = gen_target(
        r#"
[services.migrate]
kind = "job"
image = "registry.example.com/app:1"
[services.seed]
kind = "job"
image = "registry.example.com/app:1"
compose = { deploy = { mode = "global-job" } }
[services.web]
kind = "http"
image = "registry.example.com/app:1"
"#,
        "prod",
        "swarm",
    )
    .success();
    assert_eq!(run.service("migrate")["deploy"]["mode"], "replicated-job");
    // A mode of the user's own is kept; a long-running service stays replicated.
    assert_eq!(run.service("seed")["deploy"]["mode"], "global-job");
    assert!(run.service("web")["deploy"].get("mode").is_none());
}

#[test]
fn swarm_keeps_a_literal_go_template_in_the_environment() {
    let run = gen_target(
        r#"
[services.web]
kind = "http"
image = "registry.example.com/web:1"
env = { GREETING = "{{ name }} and {{{", PLAIN = "no braces" }
volumes = ["./{{x}}:/data"]
"#,
        "prod",
        "swarm",
    )
    .success();
    let web = run.service("web");
    assert_eq!(
        web["environment"]["GREETING"],
        r#"{{"{{"}} name }} and {{"{{"}}{"#
    );
    assert_eq!(web["environment"]["PLAIN"], "no braces");
    assert_eq!(web["volumes"][0], r#"./{{"{{"}}x}}:/data"#);
    // Compose itself is not Swarm: its file keeps the value as written.
    let compose = gen_target(
        "[services.web]\nkind = \"http\"\nimage = \"w:1\"\nenv = { G = \"{{ name }}\" }\n",
        "prod",
        "compose",
    )
    .success();
    assert_eq!(compose.service("web")["environment"]["G"], "{{ name }}");
}

#[test]
fn swarm_keeps_healthchecks_and_replicas_and_warns_about_depends_on() {
    let run = gen_target(
        r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
[services.api]
kind = "http"
image = "registry.example.com/api:1"
replicas = 3
depends_on = ["db"]
"#,
        "prod",
        "swarm",
    )
    .success();
    let api = run.service("api");
    assert_eq!(api["deploy"]["replicas"], 3);
    assert_eq!(api["deploy"]["restart_policy"]["condition"], "any");
    assert!(api["healthcheck"]["test"].is_sequence());
    assert!(api.get("depends_on").is_none());
    assert!(
        run.stderr
            .contains("warning: `depends_on` is left out of the stack file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("depends_on = [\"db\"]"),
        "{}",
        run.stderr
    );
}

#[test]
fn swarm_and_k8s_refuse_a_service_with_only_a_build() {
    for target in ["swarm", "k8s"] {
        let run = gen_target(
            "[services.api]\nkind = \"http\"\nbuild = \"../api\"\n",
            "prod",
            target,
        )
        .failure(1);
        assert!(
            run.stderr
                .contains("error: service `api` has a `build` but no `image`"),
            "{target}: {}",
            run.stderr
        );
        // Points at the service in the catalogue.
        assert!(run.stderr.contains("[services.api]"), "{}", run.stderr);
    }
}

// ---------------------------------------------------------------- k8s

#[test]
fn k8s_workloads_follow_the_kind() {
    let docs = documents(&ecommerce("k8s").stdout);
    assert_eq!(
        document(&docs, "StatefulSet", "postgres")["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "pgdata"
    );
    for stateful in [
        "postgres-ai",
        "redis",
        "elasticsearch",
        "qdrant",
        "rabbitmq",
    ] {
        document(&docs, "StatefulSet", stateful);
        document(&docs, "Service", stateful);
    }
    for stateless in [
        "pgbouncer",
        "backend",
        "gateway",
        "celery-worker",
        "prometheus",
    ] {
        document(&docs, "Deployment", stateless);
    }
    // A one-shot task runs to completion once, retried as the prod profile says (on-failure:3).
    let migrate = document(&docs, "Job", "migrate");
    assert_eq!(migrate["spec"]["backoffLimit"], 3);
    assert_eq!(
        migrate["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    // No port, no Service.
    assert!(!docs.iter().any(|d| d["kind"] == "Service"
        && (d["metadata"]["name"] == "celery-worker" || d["metadata"]["name"] == "migrate")));
    // Only one beat may run: no rolling update that would start a second.
    assert_eq!(
        document(&docs, "Deployment", "celery-beat")["spec"]["strategy"]["type"],
        "Recreate"
    );
    let labels = &document(&docs, "Deployment", "backend")["metadata"]["labels"];
    for (key, value) in [
        ("name", "backend"),
        ("instance", "backend"),
        ("component", "http"),
        ("part-of", "shop"),
        ("managed-by", "muster"),
    ] {
        assert_eq!(labels[format!("app.kubernetes.io/{key}").as_str()], value);
    }
}

#[test]
fn k8s_http_kinds_probe_health_and_ready_paths() {
    let docs = documents(&ecommerce("k8s").stdout);
    let backend = container(document(&docs, "Deployment", "backend"));
    assert_eq!(backend["livenessProbe"]["httpGet"]["path"], "/health/live");
    assert_eq!(
        backend["readinessProbe"]["httpGet"]["path"],
        "/health/ready"
    );
    assert_eq!(backend["startupProbe"]["httpGet"]["path"], "/health/live");
    assert_eq!(backend["livenessProbe"]["httpGet"]["port"], 8000);
    // Jaeger's health endpoint has a port of its own.
    let jaeger = container(document(&docs, "Deployment", "jaeger"));
    assert_eq!(jaeger["livenessProbe"]["httpGet"]["port"], 13133);
    assert_eq!(jaeger["livenessProbe"]["httpGet"]["path"], "/status");
}

#[test]
fn k8s_exec_probes_run_the_compose_test_without_compose_escapes() {
    let run = gen_target(
        "[services.worker]\nkind = \"celery-worker\"\nimage = \"registry.example.com/w:1\"\n",
        "dev",
        "k8s",
    )
    .success();
    let compose = Muster::new()
        .catalogue(
            "[services.worker]\nkind = \"celery-worker\"\nimage = \"registry.example.com/w:1\"\n",
        )
        .args(&["gen", "--profile", "dev"])
        .run()
        .success()
        .test("worker");
    assert_eq!(compose[0], "CMD-SHELL");
    let docs = documents(&run.stdout);
    let probe: Vec<String> = yaml_serde::from_value(
        container(document(&docs, "Deployment", "worker"))["livenessProbe"]["exec"]["command"]
            .clone(),
    )
    .unwrap();
    assert_eq!(probe, ["sh", "-c", &compose[1].replace("$$", "$")]);
    assert!(probe[2].contains("celery@${HOSTNAME}"), "{probe:?}");
}

#[test]
fn k8s_probe_timing_comes_from_the_healthcheck() {
    let run = gen_target(
        r#"
[services.model]
kind = "ai-model"
image = "registry.example.com/model:1"
healthcheck = { interval = "20s", timeout = "4s", retries = 5, start_period = "95s", start_interval = "10s" }
"#,
        "prod",
        "k8s",
    )
    .success();
    let docs = documents(&run.stdout);
    let c = container(document(&docs, "Deployment", "model"));
    let probe = |key: &str, field: &str| c[key][field].as_u64().unwrap();
    assert_eq!(probe("livenessProbe", "periodSeconds"), 20);
    assert_eq!(probe("livenessProbe", "timeoutSeconds"), 4);
    assert_eq!(probe("livenessProbe", "failureThreshold"), 5);
    assert_eq!(probe("readinessProbe", "periodSeconds"), 20);
    // Probed every start_interval, for at least start_period.
    assert_eq!(probe("startupProbe", "periodSeconds"), 10);
    let covered =
        probe("startupProbe", "periodSeconds") * probe("startupProbe", "failureThreshold");
    assert!((95..105).contains(&covered), "{covered}");

    // Without a start_interval, Docker probes every 5 s while starting, and so does the kubelet.
    let run = Muster::new()
        .catalogue(
            "[services.model]\nkind = \"ai-model\"\nimage = \"registry.example.com/model:1\"\n\
             healthcheck = { interval = \"20s\", start_period = \"60s\" }\n",
        )
        .file("profiles/bare.toml", "[defaults]\nrestart = \"always\"\n")
        .args(&["gen", "--profile", "bare", "--target", "k8s"])
        .run()
        .success();
    let docs = documents(&run.stdout);
    let startup = &container(document(&docs, "Deployment", "model"))["startupProbe"];
    assert_eq!(
        (&startup["periodSeconds"], &startup["failureThreshold"]),
        (&Value::from(5), &Value::from(12)),
        "{startup:?}"
    );
}

#[test]
fn k8s_depends_on_waits_for_the_dependency_service() {
    let docs = documents(&ecommerce("k8s").stdout);
    let init =
        &document(&docs, "Deployment", "pgbouncer")["spec"]["template"]["spec"]["initContainers"];
    assert_eq!(init[0]["name"], "wait-for-postgres");
    let script = init[0]["command"][2].as_str().unwrap();
    assert!(script.contains("nc -z -w 2 postgres 5432"), "{script}");
    // A renamed dependency is waited for under its Kubernetes name.
    let recommendation = &document(&docs, "Deployment", "recommendation")["spec"]["template"]["spec"]
        ["initContainers"];
    assert_eq!(recommendation[0]["name"], "wait-for-postgres-ai");
}

#[test]
fn k8s_warns_about_what_it_cannot_express() {
    let run = ecommerce("k8s");
    for expected in [
        "bind mounts are left out of the Kubernetes manifests: `./gateway/nginx.conf",
        "Kubernetes pods cannot wait for a Job to complete",
        "`postgres-ai` in Kubernetes",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    let docs = documents(&run.stdout);
    let gateway = container(document(&docs, "Deployment", "gateway"));
    assert!(gateway.get("volumeMounts").is_none(), "{gateway:?}");
}

#[test]
fn k8s_reads_compose_variables_from_the_project_secret() {
    let run = ecommerce("k8s");
    assert!(
        run.stdout
            .contains("kubectl create secret generic shop-env --from-env-file=.env"),
        "{}",
        run.stdout
    );
    let docs = documents(&run.stdout);
    let backend = container(document(&docs, "Deployment", "backend"));
    let env: Vec<Value> = yaml_serde::from_value(backend["env"].clone()).unwrap();
    let position = |name: &str| env.iter().position(|e| e["name"] == name).unwrap();
    // `$(RABBITMQ_PASSWORD)` expands only from a variable defined before it.
    assert!(position("RABBITMQ_PASSWORD") < position("CELERY_BROKER_URL"));
    assert_eq!(
        env[position("RABBITMQ_PASSWORD")]["valueFrom"]["secretKeyRef"]["name"],
        "shop-env"
    );
    assert_eq!(
        env[position("CELERY_BROKER_URL")]["value"],
        "amqp://shop:$(RABBITMQ_PASSWORD)@rabbitmq:5672//"
    );
    assert_eq!(backend["envFrom"][0]["secretRef"]["name"], "shop-env");
    let postgres = container(document(&docs, "StatefulSet", "postgres"));
    let password = postgres["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "POSTGRES_PASSWORD")
        .unwrap();
    assert_eq!(
        password["valueFrom"]["secretKeyRef"]["key"],
        "POSTGRES_PASSWORD"
    );
}

#[test]
fn k8s_shares_claims_of_volumes_that_stateless_services_mount() {
    let docs = documents(&ecommerce("k8s").stdout);
    // chatbot and vision both mount `models` read-only: one claim, mountable on many nodes.
    let models = document(&docs, "PersistentVolumeClaim", "models");
    assert_eq!(models["spec"]["accessModes"][0], "ReadOnlyMany");
    assert_eq!(
        docs.iter()
            .filter(|d| d["kind"] == "PersistentVolumeClaim" && d["metadata"]["name"] == "models")
            .count(),
        1
    );
    let vision = &document(&docs, "Deployment", "vision")["spec"]["template"]["spec"];
    assert_eq!(
        vision["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "models"
    );
    assert_eq!(vision["containers"][0]["volumeMounts"][0]["readOnly"], true);
}

// ---------------------------------------------------------------- autoheal

const HEALING_PROFILE: &str = "extends = \"prod\"\nautoheal = true\n";

#[test]
fn autoheal_labels_services_with_healthchecks_and_adds_the_healer() {
    let catalogue = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
[services.migrate]
kind = "job"
image = "registry.example.com/app:1"
depends_on = ["db"]
"#;
    let run = Muster::new()
        .catalogue(catalogue)
        .file("profiles/heal.toml", HEALING_PROFILE)
        .args(&["gen", "--profile", "heal"])
        .run()
        .success();
    assert_eq!(run.service("db")["labels"]["autoheal"], "true");
    // Nothing to watch in a service without a healthcheck.
    assert!(run.service("migrate").get("labels").is_none());
    let healer = run.service("autoheal");
    assert_eq!(healer["image"], "willfarrell/autoheal:1.2.0");
    assert_eq!(healer["restart"], "always");
    assert_eq!(
        healer["environment"]["AUTOHEAL_CONTAINER_LABEL"],
        "autoheal"
    );
    assert_eq!(
        healer["volumes"][0],
        "/var/run/docker.sock:/var/run/docker.sock:ro"
    );
    let dir = tempfile::tempdir().unwrap();
    assert_valid_compose(&write_temp(&dir, "compose.yml", &run.stdout));

    // Off unless a profile asks: the built-in prod profile does not.
    let plain = common::generate(catalogue, "prod");
    assert!(plain.service("autoheal").is_null());
    assert!(plain.service("db").get("labels").is_none());
    // Swarm and Kubernetes replace unhealthy containers themselves.
    for target in ["swarm", "k8s"] {
        let run = Muster::new()
            .catalogue(catalogue)
            .file("profiles/heal.toml", HEALING_PROFILE)
            .args(&["gen", "--profile", "heal", "--target", target])
            .run()
            .success();
        assert!(
            !run.stdout.contains("autoheal"),
            "{target}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_catalogue_service_named_autoheal_is_kept_as_the_healer() {
    let run = Muster::new()
        .catalogue(
            "[services.db]\nkind = \"db\"\nimage = \"postgres:17\"\n\
             env = { POSTGRES_PASSWORD = \"pw\" }\n\
             [services.autoheal]\nkind = \"job\"\nimage = \"example/healer:2\"\n",
        )
        .file("profiles/heal.toml", HEALING_PROFILE)
        .args(&["gen", "--profile", "heal"])
        .run()
        .success();
    assert_eq!(run.service("autoheal")["image"], "example/healer:2");
}

// ---------------------------------------------------------------- every target says the same

/// Overrides in the `compose` table of the healthcheck, restart, command and volumes, on a kind
/// whose template probes by itself (`cache`), an HTTP kind (whose probe Kubernetes would
/// otherwise turn into `httpGet`) and a job. Each target must carry out what the Compose file
/// says, not what the catalogue's own keys would have given.
const OVERRIDDEN: &str = r#"
[project]
name = "shop"

[services.redis]
kind = "cache"
image = "redis:7.4"
compose = { healthcheck = { test = ["CMD", "redis-cli", "ping"], interval = "7s", timeout = "3s", retries = 4 } }

[services.web]
kind = "http"
image = "registry.example.com/web:1.0"
port = 8000
depends_on = ["redis"]
compose = { healthcheck = { test = ["CMD", "true"] }, restart = "on-failure:2", command = ["serve", "--port", "8000"], volumes = ["media:/srv/media"] }

[services.migrate]
kind = "job"
image = "registry.example.com/web:1.0"
compose = { restart = "on-failure:2", command = "python manage.py migrate --noinput" }
"#;

#[test]
fn every_target_says_what_the_compose_overrides_say() {
    let compose_text = gen_target(OVERRIDDEN, "prod", "compose").success().stdout;
    let dir = tempfile::tempdir().unwrap();
    assert_valid_compose(&write_temp(&dir, "compose.yml", &compose_text));
    let compose: Value = yaml_serde::from_str(&compose_text).unwrap();
    let swarm: Value =
        yaml_serde::from_str(&gen_target(OVERRIDDEN, "prod", "swarm").success().stdout).unwrap();
    let k8s = documents(&gen_target(OVERRIDDEN, "prod", "k8s").success().stdout);

    let strings = |v: &Value| -> Vec<String> { yaml_serde::from_value(v.clone()).unwrap() };
    for (service, workload, argv) in [
        ("redis", "StatefulSet", ["redis-cli", "ping"].as_slice()),
        ("web", "Deployment", ["true"].as_slice()),
    ] {
        let test = &compose["services"][service]["healthcheck"]["test"];
        let mut expected = vec!["CMD".to_owned()];
        expected.extend(argv.iter().map(|w| w.to_string()));
        assert_eq!(strings(test), expected, "compose {service}");
        assert_eq!(&swarm["services"][service]["healthcheck"]["test"], test);
        let container = container(document(&k8s, workload, service));
        for probe in ["livenessProbe", "readinessProbe"] {
            assert_eq!(
                strings(&container[probe]["exec"]["command"]),
                argv,
                "k8s {service} {probe}: {:?}",
                container[probe]
            );
        }
    }
    assert_eq!(
        compose["services"]["redis"]["healthcheck"]["interval"],
        "7s"
    );
    assert_eq!(swarm["services"]["redis"]["healthcheck"]["interval"], "7s");
    let redis = &container(document(&k8s, "StatefulSet", "redis"))["livenessProbe"];
    assert_eq!(
        (
            &redis["periodSeconds"],
            &redis["timeoutSeconds"],
            &redis["failureThreshold"]
        ),
        (&Value::from(7), &Value::from(3), &Value::from(4))
    );

    // Restart: Compose's policy, Swarm's restart_policy, and a Job's retries.
    for service in ["web", "migrate"] {
        assert_eq!(compose["services"][service]["restart"], "on-failure:2");
        let policy = &swarm["services"][service]["deploy"]["restart_policy"];
        assert_eq!(
            (&policy["condition"], &policy["max_attempts"]),
            (&Value::from("on-failure"), &Value::from(2)),
            "swarm {service}"
        );
    }
    let job = document(&k8s, "Job", "migrate");
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(
        job["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );

    // Command: as written for Compose and Swarm, as args (split like Compose) for Kubernetes.
    let serve = ["serve", "--port", "8000"];
    assert_eq!(strings(&compose["services"]["web"]["command"]), serve);
    assert_eq!(strings(&swarm["services"]["web"]["command"]), serve);
    let web = container(document(&k8s, "Deployment", "web"));
    assert_eq!(strings(&web["args"]), serve);
    assert_eq!(
        strings(&container(job)["args"]),
        ["python", "manage.py", "migrate", "--noinput"]
    );

    // Volumes: the named volume the passthrough mounts is declared, or claimed, on every target.
    for file in [&compose, &swarm] {
        assert!(
            file["volumes"].get("media").is_some(),
            "{:?}",
            file["volumes"]
        );
        assert_eq!(
            strings(&file["services"]["web"]["volumes"]),
            ["media:/srv/media"]
        );
    }
    document(&k8s, "PersistentVolumeClaim", "media");
    assert_eq!(web["volumeMounts"][0]["mountPath"], "/srv/media");
    assert_eq!(web["volumeMounts"][0]["name"], "media");
}

// ---------------------------------------------------------------- top-level resources

const RESOURCES: &str = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD_FILE = "/run/secrets/db_password" }
volumes = ["pgdata:/var/lib/postgresql/data"]
networks = ["backend"]
compose = { secrets = ["db_password"], configs = [{ source = "initdb", target = "/docker-entrypoint-initdb.d/init.sql" }] }

[volumes.pgdata]
driver = "local"
labels = { "com.example.backup" = "nightly" }

[networks.backend]
driver = "overlay"
attachable = true

[secrets.db_password]
file = "./db_password.txt"

[configs.initdb]
file = "./init.sql"
"#;

#[test]
fn swarm_carries_every_top_level_resource_and_refuses_a_value_stack_deploy_cannot_read() {
    let stack = gen_target(RESOURCES, "prod", "swarm").success().yaml();
    assert_stack_deployable(&stack);
    assert_eq!(
        stack["volumes"]["pgdata"]["labels"]["com.example.backup"],
        "nightly"
    );
    assert_eq!(stack["networks"]["backend"]["attachable"], true);
    assert_eq!(stack["secrets"]["db_password"]["file"], "./db_password.txt");
    assert_eq!(stack["configs"]["initdb"]["file"], "./init.sql");
    assert_eq!(stack["services"]["db"]["secrets"][0], "db_password");
    let dir = tempfile::tempdir().unwrap();
    let text = gen_target(RESOURCES, "prod", "swarm").stdout;
    assert_valid_compose(&write_temp(&dir, "stack.yml", &text));

    // `docker stack deploy` reads a secret's value from `file` only (docker/docs#23678).
    let from_env = RESOURCES.replace(
        r#"file = "./db_password.txt""#,
        r#"environment = "DB_PASSWORD""#,
    );
    gen_target(&from_env, "prod", "swarm")
        .failure(1)
        .says("secret `db_password` takes its value from `environment`")
        .says("services.toml:18:1");
    // Compose itself takes it.
    gen_target(&from_env, "prod", "compose").success();
}

#[test]
fn k8s_writes_a_configmap_for_inline_content_and_points_at_what_it_cannot_write() {
    let inline = RESOURCES.replace(
        r#"file = "./init.sql""#,
        r#"content = "CREATE DATABASE shop;""#,
    );
    let run = gen_target(&inline, "prod", "k8s").success();
    let docs = documents(&run.stdout);
    let map = document(&docs, "ConfigMap", "initdb");
    assert_eq!(map["data"]["initdb"], "CREATE DATABASE shop;");
    run.says("secret `db_password` is not written for Kubernetes")
        .says("kubectl create secret generic db-password --from-file=db_password=./db_password.txt")
        .says("network `backend` has no counterpart on Kubernetes")
        .says("volume `pgdata`'s driver");
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "k8s.yml", &run.stdout);
    common::assert_kubernetes_valid(&[&path]);
}

// ---------------------------------------------------------------- GPUs, whoever wrote them

/// A GPU request in the `compose` table is the service's `gpus` on every target, as it is in the
/// Compose file: Swarm reserves it, Kubernetes limits the container to it.
#[test]
fn a_gpu_request_in_the_compose_table_reaches_swarm_and_kubernetes() {
    let catalogue = r#"
[project]
name = "shop"
[services.model]
kind = "ai-model"
image = "vllm/vllm-openai:v0.6.3"
compose = { gpus = [{ count = 2 }] }
"#;
    let compose = gen_target(catalogue, "prod", "compose").success();
    assert_eq!(compose.service("model")["gpus"][0]["count"], 2);
    let swarm = gen_target(catalogue, "prod", "swarm").success();
    assert_eq!(
        swarm.service("model")["deploy"]["resources"]["reservations"]["generic_resources"][0]["discrete_resource_spec"],
        yaml_serde::from_str::<Value>("{kind: gpu, value: 2}").unwrap(),
        "{}",
        swarm.stdout
    );
    let k8s = gen_target(catalogue, "prod", "k8s").success();
    let docs = documents(&k8s.stdout);
    assert_eq!(
        container(document(&docs, "Deployment", "model"))["resources"]["limits"]["nvidia.com/gpu"],
        2,
        "{}",
        k8s.stdout
    );
    // The `compose` table's request wins over the entry's, as it does in the Compose file.
    let both = catalogue.replace("compose =", "gpus = 1\ncompose =");
    let k8s = gen_target(&both, "prod", "k8s").success();
    let docs = documents(&k8s.stdout);
    assert_eq!(
        container(document(&docs, "Deployment", "model"))["resources"]["limits"]["nvidia.com/gpu"],
        2
    );
}

// ---------------------------------------------------------------- Kubernetes names

/// Names Compose takes and the API server does not: a StatefulSet of 60 characters (its pods'
/// revision-hash label would pass 63), an init container `wait-for-` + 60, capitals and `.`.
/// Each is shortened with a hash, the same on every run, and every name passes the API server's
/// rules as well as the schema.
#[test]
fn k8s_names_meet_every_length_and_character_rule() {
    let long = format!("orders_{}", "x".repeat(53));
    let catalogue = format!(
        r#"
[project]
name = "shop"
[services.{long}]
kind = "db"
image = "postgres:17"
env = {{ POSTGRES_PASSWORD = "${{POSTGRES_PASSWORD:?set it}}" }}
volumes = ["{long}:/var/lib/postgresql/data"]
[services."Web.App"]
kind = "http"
image = "registry.example.com/web:1"
probe = "curl"
depends_on = ["{long}"]
labels = {{ "com.example.team" = "web", "not a key" = "x" }}
"#
    );
    let run = gen_target(&catalogue, "prod", "k8s").success();
    common::assert_kubernetes_api_rules(&run.stdout);
    let dir = tempfile::tempdir().unwrap();
    common::assert_kubernetes_valid(&[&write_temp(&dir, "k8s.yml", &run.stdout)]);
    let docs = documents(&run.stdout);
    let set = docs
        .iter()
        .find(|d| d["kind"] == "StatefulSet")
        .expect("a StatefulSet");
    let name = set["metadata"]["name"].as_str().unwrap();
    assert!(name.len() <= 52 && name.starts_with("orders-xxx"), "{name}");
    let init = &document(&docs, "Deployment", "web-app")["spec"]["template"]["spec"]["initContainers"]
        [0]["name"];
    assert!(init.as_str().unwrap().len() <= 63, "{init:?}");
    assert_eq!(run.stdout, gen_target(&catalogue, "prod", "k8s").stdout);
    run.says("shortened to 52 characters")
        .says("label `not a key` is no Kubernetes annotation key");
}

#[test]
fn k8s_refuses_two_names_that_meet() {
    let run = gen_target(
        r#"
[services.a]
kind = "http"
image = "registry.example.com/a:1"
probe = "curl"
volumes = ["my_data:/a", "my-data:/b"]
"#,
        "prod",
        "k8s",
    )
    .failure(1);
    run.says("volumes `my_data` and `my-data` would both be the claim `my-data`");
    gen_target(
        "[services.my_api]\nkind = \"http\"\nimage = \"r/a:1\"\nprobe = \"curl\"\n\
         [services.my-api]\nkind = \"http\"\nimage = \"r/a:1\"\nprobe = \"curl\"\n",
        "prod",
        "k8s",
    )
    .failure(1)
    .says("services `my_api` and `my-api` would both be `my-api`");
}

/// The API-rule checker of the tests finds what it is for: a manifest the API server refuses.
#[test]
fn the_api_rule_checker_finds_what_the_api_server_refuses() {
    let bad = format!(
        "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {}\nspec:\n  template:\n    \
         spec:\n      containers:\n        - name: Web\n          volumeMounts:\n            - name: \
         data\n          ports:\n            - containerPort: 80\n              name: a-very-long-port-name\n",
        "s".repeat(53)
    );
    let found = common::kubernetes_api_violations(&bad);
    for rule in [
        "not a valid name for its kind",
        "container name is not a DNS-1123 label",
        "mounts a volume the pod does not have",
        "port name is not an IANA service name",
    ] {
        assert!(found.iter().any(|f| f.contains(rule)), "{rule}: {found:?}");
    }
}

// ---------------------------------------------------------------- Kubernetes as a folder

/// `-o DIR/` writes one file per object and a kustomization.yaml that kubectl's kustomize builds
/// into the same objects the one-file output has; a second run removes what the stack no longer
/// has (and says so), leaves other files alone, and a file of the user's in the way stops it
/// before anything is written.
#[test]
fn k8s_folder_is_a_kustomization_kubectl_builds() {
    let m = Muster::new().catalogue(&ecommerce_with_images()).args(&[
        "gen",
        "--profile",
        "prod",
        "--target",
        "k8s",
        "-o",
        "k8s/",
    ]);
    m.run().success();
    let dir = m.path("k8s");
    let names: Vec<String> = {
        let mut n: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    assert!(
        names.contains(&"kustomization.yaml".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"statefulset-postgres.yaml".to_owned()),
        "{names:?}"
    );
    // The objects the one file has, no more and no fewer.
    let objects = |docs: &[Value]| {
        let mut set: Vec<(String, String)> = docs
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_owned(),
                    d["metadata"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        set.sort();
        set
    };
    let single = documents(&ecommerce("k8s").stdout);
    let built = common::tool("kubectl")
        .args(["kustomize"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "kubectl kustomize:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let built: Vec<Value> = yaml_serde::Deserializer::from_slice(&built.stdout)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .collect();
    assert_eq!(objects(&built), objects(&single));
    let object_files: Vec<std::path::PathBuf> = names
        .iter()
        .filter(|n| *n != "kustomization.yaml")
        .map(|n| dir.join(n))
        .collect();
    common::assert_kubernetes_valid(&object_files);

    // Stale files of muster's go; the user's stay; --check sees the difference.
    std::fs::write(dir.join("notes.yaml"), "mine: true\n").unwrap();
    let fewer = ecommerce_with_images().replace(
        "[services.jaeger]",
        "[services.jaeger]\nonly_in = [\"dev\"]",
    );
    let m2 = Muster::new().catalogue(&fewer).args(&[
        "gen",
        "--profile",
        "prod",
        "--target",
        "k8s",
        "-o",
        "k8s/",
        "--check",
    ]);
    copy_folder(&dir, &m2.path("k8s"));
    let stale = m2.run();
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert!(
        stale.stdout.contains("deployment-jaeger.yaml"),
        "{}",
        stale.stdout
    );
    let m3 = Muster::new().catalogue(&fewer).args(&[
        "gen",
        "--profile",
        "prod",
        "--target",
        "k8s",
        "-o",
        "k8s/",
    ]);
    copy_folder(&dir, &m3.path("k8s"));
    m3.run()
        .success()
        .says("removed from k8s/, which muster wrote for objects the stack no longer has: deployment-jaeger.yaml, service-jaeger.yaml");
    assert!(!m3.path("k8s/deployment-jaeger.yaml").exists());
    assert!(m3.path("k8s/notes.yaml").exists());
    let kustomization = std::fs::read_to_string(m3.path("k8s/kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("jaeger"), "{kustomization}");

    // A file of the user's where muster would write: nothing is written.
    std::fs::write(m3.path("k8s/statefulset-postgres.yaml"), "# mine\n").unwrap();
    let before = std::fs::read_to_string(m3.path("k8s/kustomization.yaml")).unwrap();
    let refused = Muster::new().catalogue(&ecommerce_with_images()).args(&[
        "gen",
        "--profile",
        "prod",
        "--target",
        "k8s",
        "-o",
        "k8s/",
    ]);
    copy_folder(&m3.path("k8s"), &refused.path("k8s"));
    refused
        .run()
        .failure(3)
        .says("a file muster did not write is in the way; nothing was written");
    assert_eq!(
        std::fs::read_to_string(refused.path("k8s/kustomization.yaml")).unwrap(),
        before
    );
}

fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

// ------------------------------------------------------------------------- the mounted probe

/// A distroless service (no client: the mounted probe) and one with busybox wget of its own.
const MOUNTED: &str = r#"
[services.api]
kind = "http"
image = "registry.example.com/shop/api:1.0"
probe = "mounted"
port = 8080
health_path = "/healthz"

[services.web]
kind = "http"
image = "node:20-alpine"
port = 3000
"#;

#[test]
fn swarm_fills_the_mounted_probe_on_every_node_and_stack_deploy_reads_it() {
    let run = gen_target(MOUNTED, "prod", "swarm").success();
    let stack = run.yaml();
    assert_stack_deployable(&stack);
    let api = &stack["services"]["api"];
    assert_eq!(
        api["volumes"],
        yaml_serde::from_str::<Value>("[muster-probe:/muster-probe:ro]").unwrap()
    );
    assert!(api.get("depends_on").is_none());
    assert!(stack["services"]["web"].get("volumes").is_none());
    let installer = &stack["services"]["muster-probe"];
    assert_eq!(installer["deploy"]["mode"], "global");
    assert_eq!(installer["image"], "busybox:1.37.0-musl");
    assert!(stack["volumes"].get("muster-probe").is_some());
    // docker/cli's own stack loader: it refuses an unknown key or mode, and turns `$$` into `$`.
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "stack.yml", &run.stdout);
    let read = common::tool("docker")
        .args(["stack", "config", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&read.stdout);
    assert!(
        read.status.success(),
        "docker stack config refused it:\n{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert!(said.contains("wait $!; done"), "{said}");
}

#[test]
fn k8s_probes_a_service_without_a_client_from_the_kubelet() {
    let run = gen_target(MOUNTED, "prod", "k8s").success();
    let docs = documents(&run.stdout);
    let api = container(document(&docs, "Deployment", "api"));
    assert_eq!(api["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(api["livenessProbe"]["httpGet"]["port"], 8080);
    assert!(api.get("volumeMounts").is_none(), "{api:?}");
    assert!(!run.stdout.contains("muster-probe"), "{}", run.stdout);
}

#[test]
fn explain_names_the_mounted_probe_as_what_adds_its_keys() {
    let catalogue = format!("[project]\nrequires = {{ engine = \"26.1\" }}\n{MOUNTED}");
    let listing = Muster::new()
        .catalogue(&catalogue)
        .args(&["explain", "api"])
        .run()
        .success()
        .stdout;
    for key in ["volumes", "depends_on.muster-probe.condition"] {
        let row = listing
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no row for `{key}`:\n{listing}"));
        assert!(row.contains("muster's mounted probe"), "{row}");
    }
}

/// `env = { X = { secret = "./FILE" } }`: on every target the container reads the same file
/// through the same variable, and no target carries the value. A secret the `compose` table
/// mounts elsewhere is mounted there on Kubernetes too.
#[test]
fn every_target_mounts_an_env_secret_where_its_file_variable_points() {
    let catalogue = r#"
[project]
name = "shop"

[secrets.tls_key]
file = "./tls.key"

[services.postgres]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = { secret = "./secrets/pg_password.txt" } }
compose = { secrets = [{ source = "tls_key", target = "/etc/ssl/private/server.key" }, { source = "tls_key", target = "/etc/ssl/private/copy.key" }] }
"#;
    for target in ["compose", "swarm"] {
        let run = gen_target(catalogue, "prod", target).success();
        let file = run.yaml();
        let pg = &file["services"]["postgres"];
        assert_eq!(
            pg["environment"]["POSTGRES_PASSWORD_FILE"], "/run/secrets/pg_password",
            "{target}"
        );
        assert_eq!(pg["secrets"][0]["source"], "tls_key", "{target}");
        assert_eq!(pg["secrets"][2], "pg_password", "{target}");
        assert_eq!(
            file["secrets"]["pg_password"]["file"], "./secrets/pg_password.txt",
            "{target}"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_valid_compose(&write_temp(&dir, "file.yml", &run.stdout));
        if target == "swarm" {
            assert_stack_deployable(&file);
        }
    }
    let run = gen_target(catalogue, "prod", "k8s").success();
    run.says(
        "kubectl create secret generic pg-password --from-file=pg_password=./secrets/pg_password.txt",
    )
    .says("kubectl create secret generic tls-key --from-file=tls_key=./tls.key");
    assert!(!run.stderr.contains("`secrets` left out"), "{}", run.stderr);
    let docs = documents(&run.stdout);
    let pod = &document(&docs, "StatefulSet", "postgres")["spec"]["template"]["spec"];
    let mounts = pod["containers"][0]["volumeMounts"].as_sequence().unwrap();
    let mount = |path: &str| {
        mounts
            .iter()
            .find(|m| m["mountPath"] == path)
            .unwrap_or_else(|| panic!("nothing mounted at {path}: {mounts:?}"))
    };
    assert_eq!(mount("/run/secrets/pg_password")["subPath"], "pg_password");
    assert_eq!(mount("/etc/ssl/private/server.key")["subPath"], "tls_key");
    assert_eq!(mount("/etc/ssl/private/copy.key")["subPath"], "tls_key");
    // One volume for a secret mounted twice: a pod refuses two volumes of one name.
    assert_eq!(pod["volumes"].as_sequence().unwrap().len(), 2, "{pod:?}");
    let volume = |name: &Value| {
        pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| &v["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        volume(&mount("/run/secrets/pg_password")["name"])["secret"]["secretName"],
        "pg-password"
    );
    let env = container(document(&docs, "StatefulSet", "postgres"))["env"].clone();
    assert!(
        env.as_sequence()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "POSTGRES_PASSWORD_FILE"
                && e["value"] == "/run/secrets/pg_password"),
        "{env:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "k8s.yml", &run.stdout);
    common::assert_kubernetes_valid(&[&path]);
}
