//! Focused behaviour of `muster gen`: each kind's probe, restart per profile, dependency
//! conditions, escaping, layering, and what happens to files when generation fails.

mod common;

use common::{Muster, assert_valid_compose, generate};
use yaml_serde::Value;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The curl probe muster writes for `url`: fails on >= 400 and on redirects, bounded to 4 s.
fn curl(url: &str) -> Vec<String> {
    strings(&[
        "CMD",
        "curl",
        "-fsSL",
        "--max-redirs",
        "0",
        "-o",
        "/dev/null",
        "--max-time",
        "4",
        url,
    ])
}

// ---------------------------------------------------------------- probes, one per engine

#[test]
fn postgres_probe_uses_tcp_and_container_variables() {
    let run = generate(
        "[services.pg]\nkind = \"db\"\nimage = \"postgres:17\"\nenv = { POSTGRES_PASSWORD = \"pw\" }\n",
        "dev",
    );
    assert_eq!(
        run.test("pg"),
        strings(&[
            "CMD-SHELL",
            r#"pg_isready -h 127.0.0.1 -p 5432 -U "$${POSTGRES_USER:-postgres}" -d "$${POSTGRES_DB:-$${POSTGRES_USER:-postgres}}""#
        ])
    );
}

/// Render reuses a built-in template's output between services that agree on every field the
/// template reads; services that differ in one of them get their own.
#[test]
fn services_of_one_kind_differing_in_what_the_template_reads_get_their_own_probe() {
    let run = generate(
        r#"
[services.a]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
[services.b]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
port = 5433
[services.c]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
[services.w1]
kind = "celery-worker"
build = "."
app = "one"
[services.w2]
kind = "celery-worker"
build = "."
app = "two"
"#,
        "dev",
    );
    assert!(run.test("a")[1].contains(" -p 5432 "));
    assert!(run.test("b")[1].contains(" -p 5433 "));
    assert!(run.test("c")[1].contains(" -p 5432 "));
    assert!(run.test("w1")[1].starts_with("celery -A one "));
    assert!(run.test("w2")[1].starts_with("celery -A two "));
}

#[test]
fn pgvector_image_is_probed_as_postgres() {
    let run = generate(
        "[services.v]\nkind = \"db\"\nimage = \"pgvector/pgvector:pg17\"\nport = 5433\nenv = { POSTGRES_PASSWORD = \"pw\" }\n",
        "dev",
    );
    assert!(run.test("v")[1].starts_with("pg_isready -h 127.0.0.1 -p 5433 "));
}

#[test]
fn mysql_mariadb_and_mongo_probes() {
    let run = generate(
        r#"
[services.my]
kind = "db"
image = "mysql:8.4"
env = { MYSQL_ROOT_PASSWORD = "pw" }
[services.maria]
kind = "db"
image = "mariadb:11.4"
env = { MARIADB_ROOT_PASSWORD = "pw" }
[services.mongo]
kind = "db"
engine = "mongo"
"#,
        "dev",
    );
    assert_eq!(
        run.test("my"),
        strings(&[
            "CMD",
            "mysqladmin",
            "ping",
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "--protocol=tcp",
            "--silent"
        ])
    );
    assert_eq!(
        run.test("maria"),
        strings(&["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"])
    );
    assert_eq!(run.service("mongo")["image"], "mongo:7.0");
    assert_eq!(
        run.test("mongo"),
        strings(&[
            "CMD",
            "mongosh",
            "--quiet",
            "--host",
            "127.0.0.1",
            "--port",
            "27017",
            "--eval",
            "quit(db.adminCommand('ping').ok ? 0 : 1)"
        ])
    );
}

#[test]
fn redis_and_valkey_probes_check_the_reply_for_pong() {
    let run = generate(
        "[services.r]\nkind = \"cache\"\nimage = \"redis:7.4\"\n[services.v]\nkind = \"cache\"\nimage = \"valkey/valkey:8.0\"\n",
        "dev",
    );
    assert_eq!(
        run.test("r"),
        strings(&[
            "CMD-SHELL",
            "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"
        ])
    );
    assert_eq!(
        run.test("v"),
        strings(&[
            "CMD-SHELL",
            "valkey-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"
        ])
    );
}

#[test]
fn memcached_probe_speaks_its_protocol_in_bash() {
    let run = generate(
        "[services.m]\nkind = \"cache\"\nengine = \"memcached\"\n",
        "dev",
    );
    let test = run.test("m");
    assert_eq!(&test[..3], ["CMD", "bash", "-c"]);
    assert!(
        test[3].starts_with("exec 3<>/dev/tcp/127.0.0.1/11211 "),
        "{}",
        test[3]
    );
    assert!(test[3].contains("[[ $$line == VERSION* ]]"), "{}", test[3]);
}

#[test]
fn memcached_alpine_has_no_bash_and_is_refused() {
    let run = Muster::new()
        .catalogue("[services.m]\nkind = \"cache\"\nimage = \"memcached:1.6-alpine\"\n")
        .args(&["gen"])
        .run()
        .failure(1);
    // The image's tools are checked by the probe-tool test below; here the refusal must be loud.
    run.says("bash");
}

#[test]
fn pgbouncer_probe_logs_in_through_the_pooler_port() {
    let run = generate("[services.pool]\nkind = \"pool\"\nport = 6432\n", "dev");
    let pool = run.service("pool");
    assert_eq!(pool["image"], "edoburu/pgbouncer:v1.24.1-p1");
    // The image's md5 default cannot log in to PostgreSQL 14 or later.
    assert_eq!(pool["environment"]["AUTH_TYPE"], "scram-sha-256");
    let test = run.test("pool");
    assert_eq!(test[0], "CMD-SHELL");
    for login in [
        "psql -h 127.0.0.1 -p 6432 -U \"$${DB_USER}\"",
        "sed -E 's#@[^/?]*#@127.0.0.1:6432#'",
        "else pg_isready -h 127.0.0.1 -p 6432; fi",
    ] {
        assert!(test[1].contains(login), "{login} in {}", test[1]);
    }
    // An AUTH_TYPE of the entry's own is kept.
    let own = generate(
        "[services.pool]\nkind = \"pool\"\nenv = { AUTH_TYPE = \"md5\" }\n",
        "dev",
    );
    assert_eq!(own.service("pool")["environment"]["AUTH_TYPE"], "md5");
}

#[test]
fn elasticsearch_probe_follows_its_security_setting() {
    let run = generate(
        r#"
[services.secure]
kind = "search"
engine = "elasticsearch"
[services.open]
kind = "search"
engine = "elasticsearch"
env = { "xpack.security.enabled" = false }
"#,
        "dev",
    );
    let secure = &run.test("secure")[1];
    // HTTPS with the CA where the first start made one; plain HTTP with the user otherwise (a
    // node recreated on its data volume skips that set-up).
    assert!(
        secure.starts_with(
            "if [ -f /usr/share/elasticsearch/config/certs/http_ca.crt ]; then curl -fsS "
        ),
        "{secure}"
    );
    assert!(secure.contains("--cacert /usr/share/elasticsearch/config/certs/http_ca.crt"));
    assert!(secure.contains(
        "else curl -fsS -o /dev/null --max-time 10 -u \"elastic:$${ELASTIC_PASSWORD}\" \
         'http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=9s'; fi"
    ));
    assert!(secure.contains(r#"-u "elastic:$${ELASTIC_PASSWORD}""#));
    assert!(
        secure
            .contains("'https://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=9s'")
    );
    let open = &run.test("open")[1];
    assert!(
        open.contains("'http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow"),
        "{open}"
    );
    assert!(!open.contains("-u "), "{open}");
    // `false` in TOML is written as the string Elasticsearch reads.
    assert_eq!(
        run.service("open")["environment"]["xpack.security.enabled"],
        "false"
    );
}

#[test]
fn opensearch_probe_uses_the_admin_password() {
    let run = generate(
        "[services.os]\nkind = \"search\"\nengine = \"opensearch\"\n",
        "dev",
    );
    assert!(run.test("os")[1].contains(
        r#"-k -u "admin:$${OPENSEARCH_INITIAL_ADMIN_PASSWORD}" 'https://127.0.0.1:9200/"#
    ));
}

#[test]
fn qdrant_probe_needs_neither_curl_nor_wget() {
    let run = generate("[services.q]\nkind = \"vector-db\"\n", "dev");
    let test = run.test("q");
    assert_eq!(&test[..3], ["CMD", "bash", "-c"]);
    assert!(test[3].contains("/dev/tcp/127.0.0.1/6333"));
    assert!(test[3].contains("/readyz"));
    assert!(!test[3].contains("curl") && !test[3].contains("wget"));
}

#[test]
fn qdrant_refuses_a_client_its_image_lacks() {
    let run = Muster::new()
        .catalogue("[services.q]\nkind = \"vector-db\"\nprobe = \"curl\"\n")
        .args(&["gen"])
        .run()
        .failure(1);
    run.says("the image has no `curl`");
    run.says("services.toml:3:9");
}

#[test]
fn rabbitmq_probe_and_its_long_timeout() {
    let run = generate("[services.mq]\nkind = \"broker\"\n", "prod");
    assert_eq!(
        run.test("mq"),
        strings(&[
            "CMD-SHELL",
            "test -f \"$${HOME}/.erlang.cookie\" && rabbitmq-diagnostics -q ping"
        ])
    );
    assert_eq!(run.service("mq")["healthcheck"]["timeout"], "10s");
}

#[test]
fn http_services_get_the_client_their_image_has() {
    let run = Muster::new()
        .catalogue(
            r#"
[services.built]
kind = "http"
build = "."
[services.nginx]
kind = "http"
image = "nginx:1.27"
health_path = "/healthz"
[services.slim]
kind = "http"
image = "python:3.12-slim"
port = 9000
[services.forced]
kind = "http"
build = "web"
probe = "wget"
"#,
        )
        // A build FROM node's alpine tag has busybox wget and no python: its Dockerfile says so.
        .file("web/Dockerfile", "FROM node:22-alpine\nCOPY . /app\n")
        .args(&["gen", "--profile", "dev"])
        .run()
        .success();
    let built = run.test("built");
    assert_eq!(built[..3], strings(&["CMD", "python", "-c"]));
    assert!(
        built[3].ends_with(r#".open("http://127.0.0.1:8000/health/live", timeout=4)"#),
        "{}",
        built[3]
    );
    assert_eq!(run.test("nginx"), curl("http://127.0.0.1:80/healthz"));
    assert!(run.test("slim")[3].contains("http://127.0.0.1:9000/health/live"));
    assert_eq!(
        run.test("forced"),
        strings(&[
            "CMD",
            "wget",
            "-q",
            "--spider",
            "http://127.0.0.1:8000/health/live"
        ])
    );
}

#[test]
fn celery_worker_pings_its_own_node() {
    let run = generate(
        "[services.w]\nkind = \"celery-worker\"\nbuild = \".\"\napp = \"proj\"\n",
        "prod",
    );
    let w = run.service("w");
    assert_eq!(
        run.test("w"),
        strings(&[
            "CMD-SHELL",
            r#"celery -A proj inspect ping -d "celery@$${HOSTNAME}" --timeout 4"#
        ])
    );
    assert_eq!(
        w["command"],
        yaml_serde::to_value(["celery", "-A", "proj", "worker", "--loglevel=INFO"]).unwrap()
    );
    assert_eq!(w["healthcheck"]["timeout"], "10s");
}

#[test]
fn beat_is_checked_by_its_schedule_file_without_pgrep() {
    let run = generate("[services.b]\nkind = \"beat\"\nbuild = \".\"\n", "dev");
    let b = run.service("b");
    let command: Vec<String> = yaml_serde::from_value(b["command"].clone()).unwrap();
    assert!(
        command.ends_with(&strings(&["--schedule", "/tmp/celerybeat-schedule"])),
        "{command:?}"
    );
    let test = run.test("b");
    assert_eq!(&test[..3], ["CMD", "python", "-c"]);
    assert!(test[3].contains("glob.glob('/tmp/celerybeat-schedule*')"));
    assert!(test[3].contains("> 600"));
    assert!(!test.join(" ").contains("pgrep"));
}

#[test]
fn monitoring_probes_use_each_images_endpoint_and_client() {
    let run = generate(
        r#"
[services.prom]
kind = "monitoring"
image = "prom/prometheus:v2.55.1"
[services.graf]
kind = "monitoring"
image = "grafana/grafana:11.3.1"
[services.j2]
kind = "monitoring"
image = "jaegertracing/jaeger:2.1.0"
[services.j1]
kind = "monitoring"
image = "jaegertracing/all-in-one:1.62.0"
"#,
        "dev",
    );
    let wget = |url: &str| strings(&["CMD", "wget", "-q", "--spider", url]);
    assert_eq!(run.test("prom"), wget("http://127.0.0.1:9090/-/healthy"));
    assert_eq!(run.test("graf"), curl("http://127.0.0.1:3000/api/health"));
    assert_eq!(run.test("j2"), wget("http://127.0.0.1:13133/status"));
    assert_eq!(run.test("j1"), wget("http://127.0.0.1:14269/"));
}

#[test]
fn a_job_has_no_healthcheck() {
    let run = generate("[services.m]\nkind = \"job\"\nbuild = \".\"\n", "dev");
    assert_eq!(run.service("m")["healthcheck"], Value::Null);
}

// ---------------------------------------------------------------- restart

#[test]
fn restart_follows_the_profile_and_the_kind() {
    let catalogue = "[services.web]\nkind = \"http\"\nbuild = \".\"\n[services.mig]\nkind = \"job\"\nbuild = \".\"\n";
    let dev = generate(catalogue, "dev");
    assert_eq!(dev.service("web")["restart"], "unless-stopped");
    assert_eq!(dev.service("mig")["restart"], "no");
    // Unquoted, YAML 1.1 readers see `no` as false.
    assert!(
        dev.stdout.contains("    restart: \"no\"\n"),
        "{}",
        dev.stdout
    );
    let prod = generate(catalogue, "prod");
    assert_eq!(prod.service("web")["restart"], "always");
    assert_eq!(prod.service("mig")["restart"], "on-failure:3");
}

#[test]
fn an_entry_and_its_profile_override_beat_the_profile() {
    let catalogue = r#"
[services.web]
kind = "http"
build = "."
restart = "on-failure"
profiles.prod = { restart = "unless-stopped", healthcheck = { retries = 5 } }
"#;
    let web = generate(catalogue, "prod").service("web");
    assert_eq!(web["restart"], "unless-stopped");
    assert_eq!(web["healthcheck"]["retries"], 5);
    // Only the key the override names changes; the rest of the healthcheck stays the profile's.
    assert_eq!(web["healthcheck"]["interval"], "30s");
    // Without an override for dev, the entry's own value beats the dev profile's.
    assert_eq!(
        generate(catalogue, "dev").service("web")["restart"],
        "on-failure"
    );
}

// ---------------------------------------------------------------- depends_on

const GRAPH: &str = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }
[services.mig]
kind = "job"
build = "."
depends_on = ["db"]
[services.plain]
kind = "http"
build = "."
healthcheck = { disable = true }
[services.app]
kind = "http"
build = "."
depends_on = ["db", "mig", "plain"]
"#;

#[test]
fn list_dependencies_infer_their_condition() {
    let app = generate(GRAPH, "dev").service("app");
    let condition = |target: &str| app["depends_on"][target]["condition"].clone();
    assert_eq!(condition("db"), "service_healthy");
    assert_eq!(condition("mig"), "service_completed_successfully");
    assert_eq!(condition("plain"), "service_started");
}

#[test]
fn table_dependencies_are_taken_as_written() {
    let catalogue = GRAPH.replace(
        "depends_on = [\"db\", \"mig\", \"plain\"]",
        "depends_on = { db = \"started\", mig = \"completed\", plain = \"started\" }",
    );
    let app = generate(&catalogue, "dev").service("app");
    assert_eq!(app["depends_on"]["db"]["condition"], "service_started");
    assert_eq!(
        app["depends_on"]["mig"]["condition"],
        "service_completed_successfully"
    );
}

#[test]
fn healthy_asked_of_a_service_without_healthcheck_names_both() {
    let catalogue = GRAPH.replace(
        "depends_on = [\"db\", \"mig\", \"plain\"]",
        "depends_on = { plain = \"healthy\" }",
    );
    let run = Muster::new()
        .catalogue(&catalogue)
        .args(&["gen"])
        .run()
        .failure(1);
    run.says("service `app` waits for `plain` to be healthy, but `plain` has no healthcheck");
    run.says("services.toml:17:16");
}

// ---------------------------------------------------------------- escaping

#[test]
fn container_variables_keep_their_double_dollar_and_host_variables_their_single() {
    let run = generate(
        "[services.pg]\nkind = \"db\"\nimage = \"postgres:17\"\nenv = { POSTGRES_PASSWORD = \"${PG_PASSWORD:?set it}\" }\n",
        "dev",
    );
    assert!(
        run.stdout.contains(r#"-U \"$${POSTGRES_USER:-postgres}\""#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("POSTGRES_PASSWORD: ${PG_PASSWORD:?set it}\n")
    );
}

#[test]
fn hostile_values_cannot_change_structure_or_types() {
    let hostile = [
        "it's \"quoted\"",
        "a: b",
        "line one\nline two: 2\n- item",
        "{{ service.name }}",
        "{% raw %}",
        "$HOME and $$",
        "yes",
        "null",
        "~",
        "0o17",
        "- dash",
        "#comment",
        "&anchor *alias",
        "]}[{",
        // Characters YAML does not count as printable, or reads as line breaks (YAML 1.1).
        "del\u{7f} nel\u{85} c1\u{9b}",
        "ls\u{2028}ps\u{2029}",
        "\u{feff}bom",
        // YAML 1.1's value and merge keys (found by the property test).
        "=",
        "<<",
    ];
    let mut catalogue = String::from("[services.app]\nkind = \"http\"\nbuild = \".\"\n");
    catalogue.push_str("env = { ");
    for (i, value) in hostile.iter().enumerate() {
        catalogue.push_str(&format!("V{i} = {}, ", toml_string(value)));
    }
    catalogue.push_str("}\n");
    let argv: Vec<String> = hostile.iter().map(|v| toml_string(v)).collect();
    catalogue.push_str(&format!("command = [{}]\n", argv.join(", ")));
    catalogue.push_str(&format!(
        "labels = {{ {} = {} }}\n",
        toml_string("x: y\nz"),
        toml_string("yes")
    ));

    for profile in ["dev", "prod"] {
        let run = generate(&catalogue, profile);
        let doc = run.yaml();
        assert_eq!(doc["services"].as_mapping().unwrap().len(), 1);
        let app = &doc["services"]["app"];
        for (i, value) in hostile.iter().enumerate() {
            assert_eq!(
                app["environment"][format!("V{i}").as_str()],
                Value::from(*value),
                "V{i}"
            );
        }
        let command: Vec<String> = yaml_serde::from_value(app["command"].clone()).unwrap();
        assert_eq!(command, strings(&hostile));
        assert_eq!(app["labels"]["x: y\nz"], Value::from("yes"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("compose.yml");
        std::fs::write(&file, &run.stdout).unwrap();
        assert_valid_compose(&file);
    }
}

fn toml_string(value: &str) -> String {
    // A TOML basic string uses JSON's escapes, except that TOML also forbids a raw DEL.
    serde_json::to_string(value)
        .unwrap()
        .replace('\u{7f}', "\\u007f")
}

#[test]
fn hostile_service_names_are_refused_where_they_are_written() {
    for name in [
        "\"a b\"",
        "\"x:y\"",
        "\"{{x}}\"",
        "\"-dash\"",
        "\"new\\nline\"",
    ] {
        let run = Muster::new()
            .catalogue(&format!(
                "[services.{name}]\nkind = \"job\"\nbuild = \".\"\n"
            ))
            .args(&["gen"])
            .run()
            .failure(1);
        run.says("invalid service name").says("services.toml:1:11");
    }
}

#[test]
fn yaml_keywords_as_names_stay_strings() {
    let run = generate(
        "[services.yes]\nkind = \"job\"\nbuild = \".\"\n[services.null]\nkind = \"job\"\nbuild = \".\"\ndepends_on = [\"yes\"]\n",
        "dev",
    );
    let services = run.yaml()["services"].as_mapping().unwrap().clone();
    let names: Vec<&Value> = services.keys().collect();
    assert_eq!(names, [&Value::from("yes"), &Value::from("null")]);
    assert_eq!(
        run.service("null")["depends_on"]["yes"]["condition"],
        "service_completed_successfully"
    );
}

#[test]
fn probe_paths_and_apps_cannot_inject_shell() {
    for (key, value) in [
        ("health_path", "/x; rm -rf /"),
        ("health_path", "health"),
        ("app", "x; id"),
    ] {
        let run = Muster::new()
            .catalogue(&format!(
                "[services.w]\nkind = \"http\"\nbuild = \".\"\n{key} = {value:?}\n"
            ))
            .args(&["gen"])
            .run()
            .failure(1);
        run.says("services.toml:4:");
    }
}

// ---------------------------------------------------------------- onboarding

#[test]
fn a_new_ai_service_is_one_four_line_entry() {
    let entry =
        "[services.fraud]\nkind = \"ai-model\"\nbuild = \"../ai-services/fraud\"\nport = 8005\n";
    assert_eq!(entry.lines().count(), 4);
    let catalogue = format!(
        "[services.redis]\nkind = \"cache\"\nimage = \"redis:7.4\"\n\n{entry}depends_on = [\"redis\"]\n"
    );
    for (profile, restart) in [("dev", "unless-stopped"), ("prod", "always")] {
        let fraud = generate(&catalogue, profile).service("fraud");
        assert_eq!(fraud["build"], "../ai-services/fraud");
        assert_eq!(fraud["restart"], restart);
        let test: Vec<String> =
            yaml_serde::from_value(fraud["healthcheck"]["test"].clone()).unwrap();
        assert_eq!(test[..3], strings(&["CMD", "python", "-c"]));
        assert!(
            test[3].contains(".open(\"http://127.0.0.1:8005/health/live\""),
            "{}",
            test[3]
        );
        assert_eq!(fraud["healthcheck"]["start_period"], "60s");
        assert_eq!(fraud["depends_on"]["redis"]["condition"], "service_healthy");
    }
}

// ---------------------------------------------------------------- layering and user files

#[test]
fn user_profiles_extend_and_user_templates_add_kinds() {
    let run = Muster::new()
        .catalogue("[project]\ndefault_profile = \"staging\"\n[services.mail]\nkind = \"smtp\"\nimage = \"axllent/mailpit:v1.21\"\nport = 1025\n")
        .file(
            "profiles/staging.toml",
            "extends = \"prod\"\n[defaults]\nrestart = \"unless-stopped\"\n[kinds.smtp]\nhealthcheck = { interval = \"15s\" }\n",
        )
        .file(
            "templates/kinds/smtp.yml.j2",
            "healthcheck:\n  test: {{ [\"CMD\", \"/mailpit\", \"readyz\", \"--port\", service.port ~ \"\"] }}\n",
        )
        .args(&["gen"])
        .run()
        .success();
    let mail = run.service("mail");
    assert!(
        run.stdout
            .starts_with("# Generated by muster from services.toml (profile: staging)")
    );
    assert_eq!(mail["restart"], "unless-stopped");
    assert_eq!(mail["healthcheck"]["interval"], "15s");
    assert_eq!(mail["healthcheck"]["timeout"], "5s"); // from prod, through extends
    assert_eq!(mail["logging"]["driver"], "json-file");
    assert_eq!(
        run.test("mail"),
        strings(&["CMD", "/mailpit", "readyz", "--port", "1025"])
    );
}

#[test]
fn a_user_template_overrides_a_built_in_kind() {
    let run = Muster::new()
        .catalogue("[services.c]\nkind = \"cache\"\nimage = \"redis:7.4\"\n")
        .file(
            "templates/kinds/cache.yml.j2",
            "healthcheck:\n  test: [\"CMD\", \"curl\", \"-f\", \"http://127.0.0.1:6379\"]\n",
        )
        .args(&["gen"])
        .run()
        .success();
    assert_eq!(
        run.test("c"),
        strings(&["CMD", "curl", "-f", "http://127.0.0.1:6379"])
    );
    // redis:7.4 has no curl; the user's template may know better, so it is a warning, not an
    // error. (It does have `/bin/true`: coreutils is in every Debian image.)
    run.says("warning[probe-program-missing]: the healthcheck of `c` runs `curl`");
}

#[test]
fn compose_passthrough_is_merged_last() {
    let run = generate(
        r#"
[services.w]
kind = "http"
build = "."
compose = { user = "1000:1000", logging = { options = { max-size = "50m" } }, healthcheck = { interval = "15s" } }
"#,
        "prod",
    );
    let w = run.service("w");
    assert_eq!(w["user"], "1000:1000");
    assert_eq!(w["logging"]["options"]["max-size"], "50m");
    assert_eq!(w["logging"]["options"]["max-file"], "3"); // the profile's, deep-merged
    assert_eq!(w["healthcheck"]["interval"], "15s");
    assert!(w["healthcheck"]["test"].is_sequence());
}

#[test]
fn services_keep_catalogue_order_and_volumes_are_declared() {
    let run = generate(
        "[services.zeta]\nkind = \"job\"\nbuild = \".\"\nvolumes = [\"zdata:/z\", \"./local:/l\"]\n[services.alpha]\nkind = \"job\"\nbuild = \".\"\nvolumes = [\"adata:/a\", \"zdata:/z2\"]\nnetworks = [\"back\"]\n",
        "dev",
    );
    let doc = run.yaml();
    let names: Vec<&str> = doc["services"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(names, ["zeta", "alpha"]);
    let volumes: Vec<&str> = doc["volumes"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(volumes, ["zdata", "adata"]);
    assert!(doc["networks"]["back"].is_mapping());
}

// ---------------------------------------------------------------- output files

const BROKEN: &str = "[services.a]\nkind = \"http\"\nbuild = \".\"\ndepends_on = [\"nope\"]\n";
const FINE: &str = "[services.a]\nkind = \"http\"\nbuild = \".\"\nhealth_path = \"/health/live\"\n";

#[test]
fn a_failed_generation_leaves_the_output_file_untouched() {
    let muster = Muster::new()
        .catalogue(BROKEN)
        .file("compose.yml", "old contents\n")
        .args(&["gen", "-o", "compose.yml"]);
    let run = muster.run().failure(1);
    run.says("depends on `nope`");
    assert_eq!(
        std::fs::read_to_string(muster.path("compose.yml")).unwrap(),
        "old contents\n"
    );
    // Beside the build's Dockerfile, which the test wrote.
    let leftovers = std::fs::read_dir(muster.path(".")).unwrap().count();
    assert_eq!(
        leftovers, 3,
        "only the catalogue, its build's Dockerfile and the old file remain"
    );
}

/// The Compose file goes to stdout as it is produced; a full disk there is an I/O failure
/// (exit 3), and a reader that stops reading (`| head`) is not a failure at all.
#[test]
fn stdout_that_cannot_be_written_is_an_io_failure_and_a_closed_pipe_is_not() {
    use std::process::{Command, Stdio};
    let muster = Muster::new().catalogue(FINE);
    let catalogue = muster.path("services.toml");
    let full = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["gen", "-c"])
        .arg(&catalogue)
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert!(stderr.contains("error: cannot write to stdout"), "{stderr}");

    // More than a pipe holds (64 KiB), so that some of it is written after the reader left.
    let many: String = (0..400)
        .map(|i| {
            format!(
                "[services.s{i}]\nkind = \"http\"\nbuild = \".\"\nhealth_path = \"/health/live\"\n"
            )
        })
        .collect();
    let muster = Muster::new().catalogue(&many);
    let mut closed = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["gen", "-c"])
        .arg(muster.path("services.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(closed.stdout.take());
    let closed = closed.wait_with_output().unwrap();
    assert_eq!(closed.status.code(), Some(0));
    assert!(
        closed.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
}

/// A stdout closed before muster starts (`muster gen >&-`) is an I/O failure, exit 3, whatever
/// the size of the output: Rust's runtime would quietly write it all to `/dev/null`. A command
/// that prints nothing on stdout (`gen -o FILE`) does not care.
#[test]
fn a_stdout_closed_at_the_start_is_an_io_failure() {
    use std::process::Command;
    let muster = Muster::new().catalogue(FINE);
    for (args, code) in [
        ("gen", 3),
        ("check --format json", 3),
        ("gen -o out.yml", 0),
    ] {
        let run = Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} >&-"))
            .arg(env!("CARGO_BIN_EXE_muster"))
            .current_dir(muster.path("."))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(code), "{args}: {stderr}");
        if code == 3 {
            assert!(
                stderr.contains("error: cannot write to stdout: Bad file descriptor"),
                "{args}: {stderr}"
            );
        }
    }
    assert!(muster.path("out.yml").exists());
}

/// Diagnostics longer than a pipe holds, read by a reader that leaves early (`muster check 2>&1
/// | head -2`): muster neither panics (exit 101) nor changes its verdict.
#[test]
fn a_stderr_whose_reader_leaves_keeps_the_exit_code() {
    use std::process::{Command, Stdio};
    let many: String = (0..400)
        .map(|i| format!("[services.s{i}]\nkind = \"http\"\nimage = \"example/app{i}\"\n"))
        .collect();
    let muster = Muster::new().catalogue(&many);
    for (args, code) in [
        (&["check"][..], 0),
        (&["check", "--deny-warnings"][..], 1),
        (&["gen", "--profile", "prod", "-o", "out.yml"][..], 0),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .current_dir(muster.path("."))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before muster writes its first warning.
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn output_is_written_whole_and_checked_for_drift() {
    let muster = Muster::new()
        .catalogue(FINE)
        .args(&["gen", "-o", "compose.yml"]);
    muster.run().success();
    let written = std::fs::read_to_string(muster.path("compose.yml")).unwrap();
    let printed = Muster::new()
        .catalogue(FINE)
        .args(&["gen"])
        .run()
        .success()
        .stdout;
    // Beside the catalogue, the file is what stdout shows, less stdout's note on its paths.
    assert_eq!(written, without_paths_note(&printed));
    assert_ne!(
        written, printed,
        "stdout says its paths are the catalogue's"
    );

    let check = Muster::new()
        .catalogue(FINE)
        .file("compose.yml", &written)
        .args(&["gen", "-o", "compose.yml", "--check"]);
    check.run().success();
    let stale = Muster::new()
        .catalogue(FINE)
        .file("compose.yml", &written.replace("unless-stopped", "always"))
        .args(&["gen", "-o", "compose.yml", "--check"]);
    let run = stale.run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The diff is the command's output, on stdout as `rustfmt --check` prints its own.
    assert!(
        run.stdout
            .contains("-    restart: always\n+    restart: unless-stopped"),
        "{}",
        run.stdout
    );
    run.says("out of date");
}

#[test]
fn a_missing_catalogue_is_an_io_error() {
    let run = Muster::new()
        .args(&["gen", "-c", "nowhere.toml"])
        .run()
        .failure(3);
    run.says("cannot read the catalogue nowhere.toml");
}

#[test]
fn unknown_kinds_get_a_suggestion() {
    let run = Muster::new()
        .catalogue("[services.a]\nkind = \"ai_model\"\nbuild = \".\"\n")
        .args(&["gen"])
        .run()
        .failure(1);
    run.says("unknown kind `ai_model`");
    run.says("did you mean `ai-model`?");
}

// ---------------------------------------------------------------- pre-commit hooks

/// The hooks `.pre-commit-hooks.yaml` offers run muster's real command lines: each `entry`
/// (with the arguments its comment tells users to add) passes on a current catalogue and file,
/// and the drift hook fails on a stale one.
#[test]
fn pre_commit_hooks_run_real_command_lines() {
    let text = std::fs::read_to_string(common::repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<yaml_serde::Mapping> = yaml_serde::from_str(&text).unwrap();
    let entry = |id: &str| -> Vec<String> {
        let hook = hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook `{id}`"));
        let words: Vec<String> = hook["entry"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(words[0], "muster", "{id} runs muster");
        words[1..].to_vec()
    };
    let args = |words: &[String], extra: &[&str]| -> Vec<String> {
        words
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |words: Vec<String>, compose: &str| {
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        Muster::new()
            .catalogue(FINE)
            .file("docker-compose.yml", compose)
            .args(&refs)
            .run()
    };
    let current = without_paths_note(
        &Muster::new()
            .catalogue(FINE)
            .args(&["gen", "--profile", "prod"])
            .run()
            .success()
            .stdout,
    );
    let drift = ["--profile", "prod", "-o", "docker-compose.yml"];

    assert_eq!(run(entry("muster-check"), &current).code, 0);
    assert_eq!(
        run(args(&entry("muster-gen-check"), &drift), &current).code,
        0
    );
    let stale = run(args(&entry("muster-gen-check"), &drift), "# stale\n");
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert!(
        stale.stdout.starts_with("--- docker-compose.yml\n"),
        "{}",
        stale.stdout
    );
    stale.says("out of date");
}

/// Runs muster in `dir` as a user without the right to read or write what the test locked;
/// root reads everything, so as root the run drops to `nobody` through setpriv (util-linux).
fn run_unprivileged(dir: &std::path::Path, args: &[&str]) -> common::Run {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("muster");
    std::fs::copy(env!("CARGO_BIN_EXE_muster"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = if unsafe { libc::geteuid() } == 0 {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let output = command
        .args(args)
        .current_dir(dir)
        .output()
        .expect("setpriv runs (util-linux)");
    common::Run {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}

#[test]
fn permission_errors_name_the_file_not_its_folder_or_a_temporary() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        root.join("services.toml"),
        "[services.web]\nkind = \"http\"\nbuild = \".\"\nhealth_path = \"/health/live\"\n",
    )
    .unwrap();
    std::fs::write(root.join("Dockerfile"), "FROM python:3.12-slim\n").unwrap();
    std::fs::create_dir(root.join("profiles")).unwrap();
    let profile = root.join("profiles/staging.toml");
    std::fs::write(&profile, "extends = \"dev\"\n").unwrap();
    std::fs::set_permissions(&profile, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = run_unprivileged(root, &["gen"]).failure(3);
    run.says("error: cannot read the profile profiles/staging.toml: Permission denied");

    // A folder the user cannot write to: the message names the output, not `.tmpXXXX`.
    std::fs::set_permissions(&profile, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = run_unprivileged(root, &["gen", "-o", "compose.yml"]);
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = run.failure(3);
    run.says("error: cannot write compose.yml: Permission denied");
    assert!(!run.stderr.contains(".tmp"), "{}", run.stderr);

    // A Dockerfile muster cannot read: the file is still written (Compose needs no Dockerfile to
    // load it), and the warning at the build names the file and why.
    let dockerfile = root.join("Dockerfile");
    std::fs::set_permissions(&dockerfile, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = run_unprivileged(root, &["gen"]).success();
    run.says("warning[unknown-image]");
    run.says("its Dockerfile `./Dockerfile` cannot be read here (Permission denied");
    run.says("services.toml:3:9");
    assert!(run.stdout.contains("services:"), "{}", run.stdout);
}

// ---------------------------------------------------------------- every error in one run

/// `n` services, each with the unknown key `replica`, written as `[services.NAME]` sections.
fn misspelt_services(n: usize) -> String {
    (0..n)
        .map(|i| format!("[services.s{i}]\nkind = \"cache\"\nimage = \"redis:7.4\"\nreplica = 1\n"))
        .collect()
}

#[test]
fn every_shape_error_of_a_file_is_reported_up_to_fifty() {
    let run = Muster::new()
        .catalogue(&misspelt_services(50))
        .args(&["check"])
        .run()
        .failure(1);
    assert_eq!(run.stderr.matches("unknown field `replica`").count(), 50);
    assert_eq!(run.stderr.matches("did you mean `replicas`?").count(), 50);
    assert!(!run.stderr.contains("stopped after"), "{}", run.stderr);
    // Each at its own service's line: `replica` is line 4 of each four-line section.
    for i in [0, 25, 49] {
        run.says(&format!("services.toml:{}:1", 4 * i + 4));
    }

    let run = Muster::new()
        .catalogue(&misspelt_services(51))
        .args(&["check"])
        .run()
        .failure(1);
    assert_eq!(run.stderr.matches("unknown field `replica`").count(), 50);
    run.says("error: stopped after 50 errors in this catalogue; fix these and run again");
}

/// A mistake in a table's header, in a section under it and in a table a header makes
/// implicitly: each is found where it is written, and none drops more than its own key.
#[test]
fn shape_errors_in_section_headers_are_reported_each_once() {
    let run = Muster::new()
        .catalogue(
            "[services.web]\nkind = \"http\"\nimage = \"nginx:1.27\"\n\
             [services.web.healthchek]\ninterval = \"5s\"\n\
             [servics.db]\nkind = \"db\"\n\
             [services.cache]\nkind = \"cache\"\nimage = \"redis:7.4\"\n\
             [services.cache.healthcheck]\ndisable = \"x\"\n\
             [services.api]\nkind = \"http\"\n\
             [services.api.build]\ndockerfile = \"Dockerfile\"\n",
        )
        .args(&["check"])
        .run()
        .failure(1);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 4, "{}", run.stderr);
    run.says("unknown field `healthchek`")
        .says("services.toml:4:15")
        .says("unknown field `servics`")
        .says("services.toml:6:2")
        .says("invalid type: string \"x\", expected a boolean")
        .says("services.toml:12:11")
        .says("missing field `context`")
        .says("services.toml:15:1");
}

#[test]
fn one_run_shows_at_most_fifty_errors_the_first_in_the_file() {
    // Sixty services, each naming a dependency that does not exist: errors of the validate
    // stage, found in catalogue order, cut at fifty with a last word saying so.
    let catalogue: String = (0..60)
        .map(|i| {
            format!("[services.s{i:02}]\nkind = \"job\"\nbuild = \".\"\ndepends_on = [\"gone{i:02}\"]\n\n")
        })
        .collect();
    let run = Muster::new()
        .catalogue(&catalogue)
        .args(&["check"])
        .run()
        .failure(1);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 51, "{}", run.stderr);
    assert!(
        errors[0].contains("`s00` depends on `gone00`"),
        "{}",
        errors[0]
    );
    assert!(
        errors[49].contains("`s49` depends on `gone49`"),
        "{}",
        errors[49]
    );
    assert_eq!(
        errors[50],
        "error: stopped after 50 errors; fix these and run again"
    );
}

/// A file printed on stdout as `gen -o` writes it beside the catalogue: without the header's
/// second line, which says on stdout alone that its paths are the catalogue's.
fn without_paths_note(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("# Relative paths are "))
        .map(|l| format!("{l}\n"))
        .collect()
}
