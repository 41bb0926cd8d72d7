//! muster's output on a real Docker Engine 26 with Docker Compose 2.40: the generated files,
//! used verbatim, come up healthy in dependency order; the engine restarts what crashes,
//! probes notice what hangs, a failing job keeps its dependents down, autoheal restarts what
//! turns unhealthy, Swarm replaces a task whose probe fails, and the images teams build (node
//! alpine, distroless, ruby slim) are read by `muster images` and probed with what they hold.
//!
//! ```sh
//! bash .ci/install                                         # engine, images' tools, .venv
//! PATH="$PWD/.venv/bin:$PATH" cargo test --test engine     # every scenario
//! PATH="$PWD/.venv/bin:$PATH" cargo test --test engine -- swarm   # those whose name has `swarm`
//! ```
//!
//! One engine serves every scenario, so they run one after another (`harness = false`): the
//! engine starts (`engine/dockerd.sh`), the images are built or found in its cache
//! (`engine/images/`), and each scenario generates its stack into a copy of `engine/stack/`.
//! What is real and what stands in: `engine/README.md`.

mod engine {
    pub mod harness;
    pub mod host;
    pub mod live;
    pub mod order;
    pub mod probed;
}

use engine::harness::{Engine, Stack, health, repo, signal, stdout, wait_for};
use engine::{live, order, probed};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

type Scenario = fn(&Engine);

const SCENARIOS: &[(&str, Scenario)] = &[
    ("ecommerce_dev_comes_up_healthy_in_order", ecommerce_dev),
    (
        "matrix_each_declared_target_comes_up_on_its_engine_and_compose",
        version_matrix,
    ),
    (
        "ecommerce_prod_comes_up_healthy_in_order_and_heals_a_crash_not_a_hang",
        ecommerce_prod,
    ),
    (
        "failing_job_is_retried_and_keeps_its_dependents_down",
        failing_job,
    ),
    ("pool_logs_in_with_only_a_database_url", pool_database_url),
    (
        "secret_password_logs_in_and_stays_out_of_inspect",
        secret_password,
    ),
    ("autoheal_restarts_an_unhealthy_container", autoheal),
    (
        "swarm_tasks_turn_healthy_and_a_failing_task_is_replaced",
        swarm,
    ),
    (
        "swarm_job_retries_outlast_a_slow_database_behind_the_pool",
        swarm_chain_budget,
    ),
    (
        "swarm_publishes_without_the_host_address_and_puts_traefik_labels_on_the_service",
        swarm_ports_and_labels,
    ),
    (
        "gpu_and_model_requests_are_refused_by_an_engine_without_them",
        gpu_without_driver,
    ),
    (
        "images_are_read_and_probed_with_what_they_hold",
        probed::images_are_read_and_probed_with_what_they_hold,
    ),
    ("live_ecommerce_comes_up_all_healthy", live::ecommerce_up),
    ("live_tune_ecommerce", live::tune_ecommerce),
    ("live_tune_running", live::tune_running),
    ("live_probe_tool_missing", live::probe_tool_missing),
    ("live_wrong_port", live::wrong_port),
    ("live_not_found", live::not_found),
    ("live_start_period_too_short", live::start_period_too_short),
    ("live_slow_starter_is_waited_for", live::slow_starter),
    ("live_redis_noauth", live::redis_noauth),
    ("live_django_400", live::django_400),
    ("live_redirect_to_login", live::redirect_to_login),
    ("live_job_fails_dependents_never_start", live::job_fails),
    ("live_restart_loop", live::restart_loop),
    ("live_waited_for", live::waited_for),
    ("live_compose_refuses", live::compose_refuses),
    ("live_probe_timeout", live::probe_timeout),
    ("live_killed_exit_137", live::killed),
    ("live_terminal_board_redraws_in_place", live::terminal_board),
    (
        "host_rebased_stack_builds_and_runs",
        engine::host::rebased_stack_builds_and_runs,
    ),
];

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let chosen: Vec<_> = SCENARIOS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let engine = Engine::start();
    engine.build_images();
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, scenario) in chosen {
        eprintln!("scenario {name}");
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| scenario(&engine)));
        let took = started.elapsed();
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({took:.0?})");
            }
            Err(_) => {
                failed.push(*name);
                println!("test {name} ... FAILED ({took:.0?})");
            }
        }
    }
    drop(engine);
    println!();
    println!("engine: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- the ecommerce example

/// The example under `profile`, up and checked: every long-running service healthy, every job
/// exited 0, every dependency honoured in the order the engine started things.
fn ecommerce<'e>(engine: &'e Engine, profile: &str) -> Stack<'e> {
    ecommerce_for(engine, profile, &[])
}

/// [`ecommerce`], generated with `extra` arguments (`--requires ...`).
fn ecommerce_for<'e>(engine: &'e Engine, profile: &str, extra: &[&str]) -> Stack<'e> {
    let mut stack = Stack::new(engine, &[]);
    let catalogue = stack.ecommerce_catalogue();
    let mut args = vec!["gen", "-c", catalogue, "--profile", profile];
    args.extend(extra);
    stack.generate(&args, "docker-compose.yml");
    // A `shop` project some earlier run left up would be kept as it is, and its containers
    // would send no start events to check the order by.
    let _ = stack
        .compose()
        .args(["down", "-v", "--remove-orphans", "-t", "5"])
        .output();
    let watch = engine.watch(&["label=com.docker.compose.project=shop"]);
    stack.up_healthy();

    let jobs: Vec<String> = order::dependencies(&stack.file)
        .into_iter()
        .filter(|(_, _, condition)| condition == "service_completed_successfully")
        .map(|(_, job, _)| job)
        .collect();
    let containers = stack.containers();
    assert!(containers.len() >= 20, "{}", stack.describe());
    for (service, c) in &containers {
        if jobs.contains(service) {
            assert_eq!(
                c["State"]["Status"],
                "exited",
                "{service}\n{}",
                stack.describe()
            );
            assert_eq!(c["State"]["ExitCode"], 0, "{service}\n{}", stack.describe());
        } else {
            assert_eq!(
                c["State"]["Status"],
                "running",
                "{service}\n{}",
                stack.describe()
            );
            assert_eq!(health(c), "healthy", "{service}\n{}", stack.describe());
        }
    }
    let events = watch.events();
    for line in order::assert_started_in_order(&stack.file, &events) {
        eprintln!("  {line}");
    }
    stack
}

fn ecommerce_dev(engine: &Engine) {
    let stack = ecommerce(engine, "dev");
    // In dev the data services publish their ports for the laptop's tools, on its loopback only.
    for (service, port) in [("postgres", "5432/tcp"), ("rabbitmq", "15672/tcp")] {
        let bound = bindings(&stack.container(service));
        assert!(
            bound
                .iter()
                .any(|(p, ip, _)| p == port && ip == "127.0.0.1"),
            "{service}: {bound:?}"
        );
        assert!(
            bound.iter().all(|(_, ip, _)| !every_interface(ip)),
            "{service} is bound to every interface: {bound:?}"
        );
    }
    eprintln!("  dev: postgres and rabbitmq published on 127.0.0.1 only");
}

/// A container's host port bindings as the engine made them: (container port, host address,
/// host port).
fn bindings(container: &serde_json::Value) -> Vec<(String, String, String)> {
    let Some(ports) = container["NetworkSettings"]["Ports"].as_object() else {
        return Vec::new();
    };
    ports
        .iter()
        .flat_map(|(port, bound)| {
            bound.as_array().into_iter().flatten().map(move |b| {
                (
                    port.clone(),
                    b["HostIp"].as_str().unwrap_or_default().to_owned(),
                    b["HostPort"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

fn every_interface(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::")
}

/// The example's services whose kind holds data, read from the catalogue as a reader of it
/// would.
fn datastores() -> Vec<String> {
    let catalogue: toml::Table = toml::from_str(
        &std::fs::read_to_string(repo().join("examples/ecommerce/services.toml")).unwrap(),
    )
    .unwrap();
    catalogue["services"]
        .as_table()
        .unwrap()
        .iter()
        .filter(|(_, entry)| {
            ["db", "cache", "pool", "search", "vector-db", "broker"]
                .contains(&entry["kind"].as_str().unwrap())
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The two declared targets, each on its own engine and Compose: the example comes up healthy
/// on Engine 26 with Compose 2.40.3 for `compose=2.40,engine=26.1`, and on Debian 12's Engine
/// 20.10 with Compose 2.26.1 for `compose=2.26,engine=20.10`; the file for the newer pair is
/// refused by the older one, so the matrix is not a formality.
fn version_matrix(engine: &Engine) {
    let newest = ["--requires", "compose=2.40,engine=26.1"];
    let stack = ecommerce_for(engine, "dev", &newest);
    let file = std::fs::read_to_string(&stack.file).unwrap();
    assert!(
        file.contains("start_interval:"),
        "the newer pair keeps start_interval"
    );
    drop(stack);
    eprintln!("  Engine 26 + Compose 2.40.3: healthy");

    let older = engine.older();
    let version = stdout(
        older
            .docker()
            .args(["version", "--format", "{{.Server.Version}}"]),
    );
    assert!(
        version.starts_with("20.10."),
        "the older engine is {version}"
    );
    let stack = ecommerce_for(&older, "dev", &["--requires", "compose=2.26,engine=20.10"]);
    let file = std::fs::read_to_string(&stack.file).unwrap();
    assert!(!file.contains("start_interval"), "{file}");
    drop(stack);
    eprintln!("  Engine 20.10 + Compose 2.26.1: healthy");

    // The newer pair's file, as `gen` writes it by default, on the older pair.
    let mut refused = Stack::new(&older, &[]);
    let catalogue = refused.ecommerce_catalogue();
    refused.generate(
        &["gen", "-c", catalogue, "--profile", "dev"],
        "docker-compose.yml",
    );
    let output = refused.up();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "Engine 20.10 ran start_interval:\n{said}"
    );
    assert!(
        said.contains(
            "can't set healthcheck.start_interval as feature require Docker Engine v25 or later"
        ),
        "{said}"
    );
    eprintln!(
        "  the newer pair's file on the older pair: {}",
        said.lines().last().unwrap_or_default().trim()
    );
}

fn ecommerce_prod(engine: &Engine) {
    let stack = ecommerce(engine, "prod");

    // Closed by default: no datastore is bound to any host interface in prod, read from the
    // engine; the gateway, which is meant to be, is bound to every one, so the reading works.
    let datastores = datastores();
    assert!(datastores.len() >= 7, "{datastores:?}");
    for service in &datastores {
        let bound = bindings(&stack.container(service));
        assert!(bound.is_empty(), "{service} publishes {bound:?} in prod");
    }
    let gateway = bindings(&stack.container("gateway"));
    assert!(
        gateway
            .iter()
            .any(|(p, ip, _)| p == "80/tcp" && every_interface(ip)),
        "{gateway:?}"
    );
    eprintln!(
        "  prod: none of {} datastores publishes a port; the gateway is on {:?}",
        datastores.len(),
        gateway
    );
    // Grafana's admin password came from its Compose secret (GF_SECURITY_ADMIN_PASSWORD__FILE),
    // and is not in what `docker inspect` shows.
    let grafana = stack.container("grafana");
    let login = |password: &str| {
        stack
            .compose()
            .args([
                "exec",
                "-T",
                "grafana",
                "curl",
                "-fsS",
                "-o",
                "/dev/null",
                "-u",
            ])
            .arg(format!("admin:{password}"))
            .arg("http://127.0.0.1:3000/api/org")
            .status()
            .unwrap()
            .success()
    };
    assert!(
        login("grafana-test-password"),
        "the secret's password is refused"
    );
    assert!(!login("admin"), "the default password still works");
    assert!(!grafana.to_string().contains("grafana-test-password"));
    eprintln!("  grafana: admin logs in with the secret's password, absent from inspect");

    // A crash: the engine restarts the container under `restart: always`, and it turns healthy.
    let before = stack.container("redis");
    signal(&before, "KILL");
    let restarts = before["RestartCount"].as_i64().unwrap();
    wait_for(
        "redis restarted by the engine after its process was killed, and healthy again",
        Duration::from_secs(90),
        || {
            let c = stack.container("redis");
            (c["RestartCount"].as_i64() > Some(restarts) && health(&c) == "healthy").then_some(())
        },
        || stack.describe(),
    );
    eprintln!("  redis: killed, restarted by the engine, healthy again");

    // A hang: the probe times out and the container turns unhealthy; the engine does not
    // restart it (that is autoheal's or Swarm's job), and it is healthy once it answers again.
    let frozen = stack.container("redis");
    signal(&frozen, "STOP");
    let since = Instant::now();
    let unhealthy = wait_for(
        "a frozen redis turns unhealthy",
        Duration::from_secs(120),
        || {
            let c = stack.container("redis");
            (health(&c) == "unhealthy").then_some(c)
        },
        || stack.describe(),
    );
    eprintln!("  redis: frozen, unhealthy after {:.0?}", since.elapsed());
    assert_eq!(
        unhealthy["State"]["StartedAt"], frozen["State"]["StartedAt"],
        "the engine restarted an unhealthy container on its own"
    );
    signal(&unhealthy, "CONT");
    wait_for(
        "redis healthy again once it answers",
        Duration::from_secs(60),
        || (health(&stack.container("redis")) == "healthy").then_some(()),
        || stack.describe(),
    );
    eprintln!("  redis: answering again, healthy");

    // A recreated container on the data volume it had (a new image version, `--force-recreate`):
    // Elasticsearch skips its first-start TLS set-up and serves plain HTTP, and the probe must
    // follow.
    let before = stack.container("elasticsearch");
    stdout(
        stack
            .compose()
            .args(["up", "-d", "--no-deps", "--force-recreate", "elasticsearch"]),
    );
    wait_for(
        "elasticsearch, recreated on its data volume, healthy again",
        Duration::from_secs(150),
        || {
            let c = stack.container("elasticsearch");
            (c["Id"] != before["Id"] && health(&c) == "healthy").then_some(())
        },
        || stack.describe(),
    );
    eprintln!("  elasticsearch: recreated on its volume, healthy again");
}

// ---------------------------------------------------------------- GPUs

/// This engine has no GPU and no NVIDIA Container Toolkit: a service asking for a GPU is
/// created by Compose and refused by the engine when it starts, with the engine's own words,
/// while a service beside it that asks for none comes up. Nor has it Docker Model Runner, and
/// Compose refuses to start a stack with `models`. The limits the README documents.
fn gpu_without_driver(engine: &Engine) {
    let catalogue = r#"
name = "gpu"

[services.web]
kind = "http"
image = "nginx:1.27"

[services.model]
kind = "ai-model"
image = "nginx:1.27"
port = 80
health_path = "/"
gpus = 1
"#;
    let catalogue = catalogue.replacen("name = \"gpu\"", "[project]\nname = \"gpu\"", 1);
    let mut stack = Stack::new(engine, &[("services.toml", &catalogue)]);
    stack.generate(&["gen", "--profile", "dev"], "docker-compose.yml");
    let up = stack.up();
    let said = String::from_utf8_lossy(&up.stderr).into_owned();
    assert!(!up.status.success(), "a GPU request started: {said}");
    if let Some(line) = said.lines().find(|l| l.contains("device driver")) {
        eprintln!("  the engine: {}", line.trim());
    }
    assert!(
        said.contains("could not select device driver \"\" with capabilities: [[gpu]]"),
        "{said}"
    );
    assert_eq!(
        stack.container("model")["State"]["Status"],
        "created",
        "{}",
        stack.describe()
    );
    // `up --wait` gave up at once; the other service goes on to turn healthy.
    wait_for(
        "web turns healthy beside the refused GPU service",
        Duration::from_secs(60),
        || Some(()).filter(|_| health(&stack.container("web")) == "healthy"),
        || stack.describe(),
    );
    drop(stack);

    // Nor has it Docker Model Runner: Compose cannot serve a model, whatever binds it.
    let catalogue = r#"
[project]
name = "llm"

[models.llm]
model = "ai/smollm2"

[services.chat]
kind = "http"
image = "nginx:1.27"
models = ["llm"]
"#;
    let mut stack = Stack::new(engine, &[("services.toml", catalogue)]);
    stack.generate(&["gen", "--profile", "dev"], "docker-compose.yml");
    let up = stack.up();
    let said = String::from_utf8_lossy(&up.stderr).into_owned();
    eprintln!(
        "  compose: {}",
        said.trim().lines().last().unwrap_or_default()
    );
    assert!(!up.status.success(), "a model was served: {said}");
    assert!(
        said.contains("'models' support requires Docker Model plugin"),
        "{said}"
    );
}

// ---------------------------------------------------------------- jobs, pools, autoheal

/// A migrations job that cannot log in: `on-failure:3` runs it four times in all, then the
/// engine gives up, and the service that waits for it never starts.
fn failing_job(engine: &Engine) {
    let catalogue = r#"
[project]
name = "jobfail"

[services.postgres]
kind = "db"
image = "postgres:17"
env = { POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "right" }

[services.migrate]
kind = "job"
build = "../backend"
command = "python manage.py migrate --noinput"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "wrong", DJANGO_SECRET_KEY = "test" }
depends_on = ["postgres"]

[services.backend]
kind = "http"
build = "../backend"
command = "gunicorn config.wsgi:application --bind 0.0.0.0:8000"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "right", DJANGO_SECRET_KEY = "test", DJANGO_ALLOWED_HOSTS = "127.0.0.1" }
depends_on = ["migrate"]
"#;
    let mut stack = Stack::new(engine, &[("services.toml", catalogue)]);
    stack.generate(&["gen", "--profile", "prod"], "docker-compose.yml");
    let up = stack.up();
    assert!(
        !up.status.success(),
        "`up --wait` succeeded with a failing job"
    );
    let migrate = wait_for(
        "the engine gives up on migrate after 3 restarts",
        Duration::from_secs(120),
        || {
            let c = stack.container("migrate");
            (c["State"]["Status"] == "exited" && c["RestartCount"] == 3).then_some(c)
        },
        || stack.describe(),
    );
    assert_ne!(migrate["State"]["ExitCode"], 0);
    let logs = stdout(stack.compose().args(["logs", "migrate"]));
    assert!(
        logs.contains("password authentication failed"),
        "migrate failed for another reason:\n{logs}"
    );
    // Give the engine time to restart it a fourth time, which on-failure:3 forbids.
    std::thread::sleep(Duration::from_secs(5));
    let migrate = stack.container("migrate");
    assert_eq!(migrate["RestartCount"], 3, "{}", stack.describe());
    let backend = stack.container("backend");
    assert_eq!(
        backend["State"]["Status"],
        "created",
        "{}",
        stack.describe()
    );
    assert_eq!(
        backend["State"]["StartedAt"], "0001-01-01T00:00:00Z",
        "backend started although migrate failed"
    );
    eprintln!(
        "  migrate: exit {} after {} restarts; backend never started",
        migrate["State"]["ExitCode"], migrate["RestartCount"]
    );
}

/// A pool entry that gives only its DATABASE_URL, as a user who has never heard of AUTH_TYPE
/// writes it: the pool logs in to PostgreSQL 14+, and its probe proves it. With the md5 that
/// edoburu's image defaults to, asked for explicitly, the probe says what pg_isready hid.
fn pool_database_url(engine: &Engine) {
    let catalogue = |auth: &str| {
        format!(
            r#"
[project]
name = "pool"

[services.postgres]
kind = "db"
image = "postgres:17"
env = {{ POSTGRES_DB = "app", POSTGRES_USER = "app", POSTGRES_PASSWORD = "pw" }}

[services.pool]
kind = "pool"
image = "edoburu/pgbouncer:v1.24.1-p1"
env = {{ DATABASE_URL = "postgres://app:pw@postgres:5432/app" {auth} }}
depends_on = ["postgres"]

[services.query]
kind = "job"
image = "postgres:17"
command = ["psql", "postgres://app:pw@pool:5432/app", "-tAc", "SELECT 1"]
depends_on = ["pool"]
"#
        )
    };
    let mut stack = Stack::new(engine, &[("services.toml", &catalogue(""))]);
    stack.generate(&["gen", "--profile", "dev"], "docker-compose.yml");
    // `up --wait` fails on a container that exits, even with 0, unless a dependent waits for
    // it to complete: the query's own outcome is the test.
    stack.up();
    let query = wait_for(
        "the query through the pool ends",
        Duration::from_secs(60),
        || Some(stack.container("query")).filter(|c| c["State"]["Status"] == "exited"),
        || stack.describe(),
    );
    assert_eq!(query["State"]["ExitCode"], 0, "{}", stack.describe());
    assert_eq!(health(&stack.container("pool")), "healthy");
    drop(stack);

    let mut stack = Stack::new(
        engine,
        &[("services.toml", &catalogue(", AUTH_TYPE = \"md5\""))],
    );
    stack.generate(&["gen", "--profile", "dev"], "docker-compose.yml");
    let up = stack.up();
    assert!(
        !up.status.success(),
        "`up --wait` succeeded with md5 against scram"
    );
    let pool = stack.container("pool");
    assert_eq!(health(&pool), "unhealthy", "{}", stack.describe());
    let said = pool["State"]["Health"]["Log"].to_string();
    assert!(said.contains("password"), "the probe's output: {said}");
    assert_eq!(stack.container("query")["State"]["Status"], "created");
    eprintln!(
        "  md5 pool: unhealthy, the probe says {}",
        said.chars().take(160).collect::<String>()
    );
}

/// `env = { POSTGRES_PASSWORD = { secret = "./FILE" } }`: PostgreSQL initialises with the
/// password it reads through POSTGRES_PASSWORD_FILE, the migrations job and the backend log in
/// with the same file (their settings read `_FILE`), the backend's readiness endpoint queries
/// the database, and the password is in no container's `docker inspect`, where Compose would
/// have put a `${VAR}` value.
fn secret_password(engine: &Engine) {
    const PASSWORD: &str = "secret-test-password-31a9";
    let catalogue = r#"
[project]
name = "secret"

[services.postgres]
kind = "db"
image = "postgres:17"
env = { POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = { secret = "./secrets/pg_password.txt" } }

[services.migrate]
kind = "job"
build = "../backend"
command = "python manage.py migrate --noinput"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = { secret = "./secrets/pg_password.txt" }, DJANGO_SECRET_KEY = "test" }
depends_on = ["postgres"]

[services.backend]
kind = "http"
build = "../backend"
command = "gunicorn config.wsgi:application --bind 0.0.0.0:8000"
health_path = "/health/ready"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = { secret = "./secrets/pg_password.txt" }, DJANGO_SECRET_KEY = "test", DJANGO_ALLOWED_HOSTS = "127.0.0.1" }
depends_on = ["migrate"]
"#;
    let mut stack = Stack::new(
        engine,
        &[
            ("services.toml", catalogue),
            ("secrets/pg_password.txt", &format!("{PASSWORD}\n")),
        ],
    );
    stack.generate(&["gen", "--profile", "prod"], "docker-compose.yml");
    let file = std::fs::read_to_string(&stack.file).unwrap();
    assert!(
        !file.contains(PASSWORD),
        "the password is in the generated file"
    );
    stack.up_healthy();
    let migrate = stack.container("migrate");
    assert_eq!(migrate["State"]["ExitCode"], 0, "{}", stack.describe());
    // The backend is healthy only when its readiness query passed.
    assert_eq!(health(&stack.container("backend")), "healthy");
    for service in ["postgres", "migrate", "backend"] {
        let inspect = stack.container(service);
        let env = inspect["Config"]["Env"].to_string();
        assert!(
            env.contains("POSTGRES_PASSWORD_FILE=/run/secrets/pg_password"),
            "{service}: {env}"
        );
        assert!(
            !inspect.to_string().contains(PASSWORD),
            "{service}: the password is in `docker inspect`"
        );
    }
    // The server holds that password and no other: over the network (the image trusts its own
    // loopback, as initdb's default pg_hba.conf does), a login with it passes, one without fails.
    let query = |password: &str| {
        stack
            .compose()
            .args(["exec", "-T", "backend", "python", "-c"])
            .arg(
                "import sys, psycopg2\n\
                 c = psycopg2.connect(host='postgres', dbname='shop', user='shop', password=sys.argv[1]).cursor()\n\
                 c.execute('SELECT count(*) FROM shop_product')\n\
                 print(c.fetchone()[0])",
            )
            .arg(password)
            .output()
            .unwrap()
    };
    let with = query(PASSWORD);
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(!query("wrong").status.success(), "a wrong password logs in");
    eprintln!(
        "  postgres initialised from the secret; migrate exit 0, backend ready; {} products; \
         the password in no `docker inspect`",
        String::from_utf8_lossy(&with.stdout).trim()
    );
}

/// `autoheal = true`: a container that hangs is restarted by the autoheal service (a stand-in
/// for willfarrell/autoheal, doing what its script does), which reaches this engine through
/// the `/var/run/docker.sock` the generated file mounts.
fn autoheal(engine: &Engine) {
    let catalogue = r#"
[project]
name = "heal"

[services.redis]
kind = "cache"
image = "redis:7.4"
"#;
    let profile = "extends = \"prod\"\nautoheal = true\n";
    let mut stack = Stack::new(
        engine,
        &[
            ("services.toml", catalogue),
            ("profiles/prod-heal.toml", profile),
        ],
    );
    stack.generate(&["gen", "--profile", "prod-heal"], "docker-compose.yml");
    stack.up_healthy();
    // The socket is mounted read-only, which limits nothing asked through it: the restart
    // below goes through this mount.
    let healer = stack.container("autoheal");
    let socket = healer["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/var/run/docker.sock")
        .unwrap_or_else(|| panic!("no socket mount: {}", healer["Mounts"]));
    assert_eq!(socket["RW"], false, "{socket}");
    let frozen = stack.container("redis");
    assert_eq!(frozen["Config"]["Labels"]["autoheal"], "true");
    signal(&frozen, "STOP");
    let since = Instant::now();
    wait_for(
        "autoheal restarts the unhealthy redis, which turns healthy",
        Duration::from_secs(180),
        || {
            let c = stack.container("redis");
            (c["State"]["StartedAt"] != frozen["State"]["StartedAt"] && health(&c) == "healthy")
                .then_some(())
        },
        || stack.describe(),
    );
    eprintln!(
        "  redis: frozen, restarted by autoheal, healthy after {:.0?}",
        since.elapsed()
    );
}

// ---------------------------------------------------------------- swarm

/// The stack file on a single-node swarm of the same engine. This kernel has no IPVS, so a
/// service's virtual IP does not route between tasks: the test's profile asks for
/// `endpoint_mode: dnsrr` (DNS names each task directly), which a cluster with IPVS does not
/// need. Everything else is the generated file as it is.
fn swarm(engine: &Engine) {
    let catalogue = r#"
[project]
name = "swarm"

[services.postgres]
kind = "db"
image = "postgres:17"
env = { POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "pw" }

[services.redis]
kind = "cache"
image = "redis:7.4"

[services.migrate]
kind = "job"
build = "../backend"
image = "muster-test/backend:1"
command = "python manage.py migrate --noinput"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "pw", DJANGO_SECRET_KEY = "test" }
depends_on = ["postgres"]

[services.backend]
kind = "http"
build = "../backend"
image = "muster-test/backend:1"
command = "gunicorn config.wsgi:application --bind 0.0.0.0:8000"
env = { DATABASE_HOST = "postgres", DATABASE_PORT = "5432", POSTGRES_DB = "shop", POSTGRES_USER = "shop", POSTGRES_PASSWORD = "pw", DJANGO_SECRET_KEY = "test", DJANGO_ALLOWED_HOSTS = "127.0.0.1", GREETING = "{{ not a template }}" }
depends_on = ["postgres", "redis", "migrate"]

[services.whoami]                  # FROM scratch: the mounted client, filled in by a global service
kind = "http"
image = "traefik/whoami:v1.10.3"
port = 80
health_path = "/health"
probe = "mounted"
"#;
    let profile =
        "extends = \"prod\"\n[defaults]\ncompose = { deploy = { endpoint_mode = \"dnsrr\" } }\n";
    engine.build_dockerfile_images();
    let stack = Stack::new(
        engine,
        &[
            ("services.toml", catalogue),
            ("profiles/swarm-test.toml", profile),
        ],
    );
    // The image Swarm runs, built from the same catalogue's Compose file.
    stack.generate(&["gen", "--profile", "swarm-test"], "docker-compose.yml");
    stdout(stack.compose().args(["build", "backend"]));
    stack.generate(
        &["gen", "--profile", "swarm-test", "--target", "swarm"],
        "stack.yml",
    );

    let _swarm = Swarm::init(engine);
    stdout(
        engine
            .docker()
            .args(["stack", "deploy", "-c"])
            .arg(stack.shop().join("stack.yml"))
            .arg("swarm"),
    );
    let tasks = || -> Vec<(String, serde_json::Value)> {
        let ids = stdout(engine.docker().args([
            "ps",
            "-aq",
            "--filter",
            "label=com.docker.stack.namespace=swarm",
        ]));
        ids.lines()
            .filter_map(|id| {
                let c = engine.try_inspect(id)?;
                let service = c["Config"]["Labels"]["com.docker.swarm.service.name"]
                    .as_str()
                    .unwrap_or("?")
                    .trim_start_matches("swarm_")
                    .to_owned();
                Some((service, c))
            })
            .collect()
    };
    let show = || {
        tasks()
            .iter()
            .map(|(s, c)| {
                format!(
                    "  {s}: {} exit {} health {}",
                    c["State"]["Status"],
                    c["State"]["ExitCode"],
                    health(c)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
            + &stdout(engine.docker().args([
                "service",
                "ps",
                "--no-trunc",
                "swarm_migrate",
                "swarm_backend",
            ]))
    };
    wait_for(
        "every Swarm task healthy and the migrations job completed",
        Duration::from_secs(300),
        || {
            let all = tasks();
            let running = |name: &str| {
                all.iter().any(|(s, c)| {
                    s == name && c["State"]["Status"] == "running" && health(c) == "healthy"
                })
            };
            let done = all.iter().any(|(s, c)| {
                s == "migrate" && c["State"]["Status"] == "exited" && c["State"]["ExitCode"] == 0
            });
            let installer = all
                .iter()
                .any(|(s, c)| s == "muster-probe" && c["State"]["Status"] == "running");
            (done
                && installer
                && ["postgres", "redis", "backend", "whoami"]
                    .iter()
                    .all(|s| running(s)))
            .then_some(())
        },
        show,
    );
    let backend = tasks()
        .into_iter()
        .find(|(s, c)| s == "backend" && c["State"]["Status"] == "running")
        .unwrap()
        .1;
    let env = backend["Config"]["Env"].to_string();
    assert!(env.contains("GREETING={{ not a template }}"), "{env}");
    eprintln!("  whoami (scratch) healthy with the client the global muster-probe service copied");

    // A task whose probe fails is replaced by a new one, which turns healthy.
    let frozen = tasks()
        .into_iter()
        .find(|(s, c)| s == "redis" && c["State"]["Status"] == "running")
        .unwrap()
        .1;
    signal(&frozen, "STOP");
    let since = Instant::now();
    wait_for(
        "Swarm replaces the redis task whose probe fails",
        Duration::from_secs(180),
        || {
            tasks()
                .iter()
                .any(|(s, c)| s == "redis" && c["Id"] != frozen["Id"] && health(c) == "healthy")
                .then_some(())
        },
        show,
    );
    eprintln!(
        "  redis task frozen, replaced by a healthy one after {:.0?}",
        since.elapsed()
    );
}

/// A single-node swarm, left again (with its stacks) on drop.
struct Swarm<'e>(&'e Engine);

impl<'e> Swarm<'e> {
    fn init(engine: &'e Engine) -> Swarm<'e> {
        let _ = engine.docker().args(["swarm", "leave", "--force"]).output();
        stdout(
            engine
                .docker()
                .args(["swarm", "init", "--advertise-addr", "127.0.0.1"]),
        );
        Swarm(engine)
    }
}

impl Drop for Swarm<'_> {
    fn drop(&mut self) {
        let _ = self.0.docker().args(["stack", "rm", "swarm"]).output();
        let _ = self.0.docker().args(["swarm", "leave", "--force"]).output();
    }
}

/// The engine tests' Swarm profile: prod, with DNS round robin, since this kernel has no IPVS
/// for service virtual IPs.
const SWARM_PROFILE: &str =
    "extends = \"prod\"\n[defaults]\ncompose = { deploy = { endpoint_mode = \"dnsrr\" } }\n";

/// Tasks of the stack `stack`, by service: (service, container).
fn swarm_tasks(engine: &Engine, stack: &str) -> Vec<(String, serde_json::Value)> {
    let ids = stdout(engine.docker().args([
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.stack.namespace={stack}"),
    ]));
    let prefix = format!("{stack}_");
    ids.lines()
        .filter_map(|id| {
            let c = engine.try_inspect(id)?;
            let service = c["Config"]["Labels"]["com.docker.swarm.service.name"]
                .as_str()
                .unwrap_or("?")
                .trim_start_matches(&prefix)
                .to_owned();
            Some((service, c))
        })
        .collect()
}

/// Issue 31: a job behind a pool behind a database that starts late (its start held back 40 s
/// on purpose, within the 60 s start_period the catalogue gives it). Swarm starts all three at
/// once; the job's `on-failure:3` must still be retrying when the pool first lets it in. Its
/// delay, from the pool's 10 s start alone, was Swarm's 5 s: three retries in 20 s, all spent
/// before the database answered. Spread over the chain, the job completes, within the budget
/// `explain` prints, every round.
fn swarm_chain_budget(engine: &Engine) {
    let catalogue = r#"
[services.postgres]
kind = "db"
image = "postgres:17"
env = { POSTGRES_DB = "app", POSTGRES_USER = "app", POSTGRES_PASSWORD = "pw" }
entrypoint = ["sh", "-c", "sleep 40; exec docker-entrypoint.sh postgres"]
healthcheck = { start_period = "60s" }

[services.pool]
kind = "pool"
image = "edoburu/pgbouncer:v1.24.1-p1"
env = { DATABASE_URL = "postgres://app:pw@postgres:5432/app" }
depends_on = ["postgres"]

[services.query]
kind = "job"
image = "postgres:17"
command = ["psql", "postgres://app:pw@pool:5432/app", "-tAc", "SELECT 1"]
depends_on = ["pool"]
"#;
    let stack = Stack::new(
        engine,
        &[
            ("services.toml", catalogue),
            ("profiles/swarm-test.toml", SWARM_PROFILE),
        ],
    );
    stack.generate(
        &["gen", "--profile", "swarm-test", "--target", "swarm"],
        "stack.yml",
    );
    let explained = stdout(
        std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["explain", "query", "--profile", "swarm-test"])
            .current_dir(stack.shop()),
    );
    let budget = explained
        .lines()
        .find(|l| l.contains("max_attempts"))
        .unwrap_or_else(|| panic!("explain prints no budget:\n{explained}"))
        .to_owned();
    eprintln!("  {}", budget.trim());
    // `max_attempts 3 x delay 40s = 120s >= 120s`: the seconds the retries span.
    let spans: u64 = budget
        .split(" = ")
        .nth(1)
        .and_then(|s| s.split('s').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{budget}"));
    const ROUNDS: usize = 2;
    for round in 1..=ROUNDS {
        // A stack name per round: the network of the round before may still be on its way out
        // when the next swarm is made, and one of the same name makes the deploy fail.
        let name = format!("chain{round}");
        let _swarm = Swarm::init(engine);
        let deployed = Instant::now();
        stdout(
            engine
                .docker()
                .args(["stack", "deploy", "-c"])
                .arg(stack.shop().join("stack.yml"))
                .arg(&name),
        );
        let show = || {
            swarm_tasks(engine, &name)
                .iter()
                .map(|(s, c)| {
                    format!(
                        "  {s}: {} exit {} health {}",
                        c["State"]["Status"],
                        c["State"]["ExitCode"],
                        health(c)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        // Past the budget, the last attempt has run: the job completed by then or never will.
        let done = wait_for(
            "the query job completes",
            Duration::from_secs(spans + 90),
            || {
                let tasks = swarm_tasks(engine, &name);
                let query: Vec<&serde_json::Value> = tasks
                    .iter()
                    .filter(|(s, _)| s == "query")
                    .map(|(_, c)| c)
                    .collect();
                query
                    .iter()
                    .any(|c| c["State"]["Status"] == "exited" && c["State"]["ExitCode"] == 0)
                    .then_some(query.len())
            },
            show,
        );
        let took = deployed.elapsed();
        eprintln!(
            "  round {round}: the query completed on attempt {done} of 4, {took:.0?} after the deploy"
        );
        assert!(done <= 4, "{done} attempts:\n{}", show());
        assert!(
            took.as_secs() <= spans + 60,
            "completed after {took:?}, past the {spans}s budget"
        );
    }
}

/// Issue 26: a port published on 127.0.0.1 and Traefik's router labels. muster says that Swarm
/// drops the address, publishes the port as Swarm can (host mode, under the dnsrr this kernel
/// needs), and puts `traefik.*` on the service, where Traefik's Swarm provider reads labels;
/// `docker service inspect` shows each where muster said.
fn swarm_ports_and_labels(engine: &Engine) {
    let catalogue = r#"
[services.web]
kind = "http"
image = "nginx:1.27"
port = 80
ports = ["127.0.0.1:8089:80"]
labels = { "traefik.enable" = "true", "traefik.http.routers.web.rule" = "Host(`web.test`)", "com.example.team" = "web" }
"#;
    let stack = Stack::new(
        engine,
        &[
            ("services.toml", catalogue),
            ("profiles/swarm-test.toml", SWARM_PROFILE),
        ],
    );
    let said = stack.generate(
        &["gen", "--profile", "swarm-test", "--target", "swarm"],
        "stack.yml",
    );
    assert!(
        said.contains("127.0.0.1:8089:80") && said.contains("not on 127.0.0.1"),
        "{said}"
    );
    // A stack of its own name: a `swarm_default` network of the scenario before may still be
    // on its way out.
    let _swarm = Swarm::init(engine);
    stdout(
        engine
            .docker()
            .args(["stack", "deploy", "-c"])
            .arg(stack.shop().join("stack.yml"))
            .arg("edge"),
    );
    wait_for(
        "the web task healthy",
        Duration::from_secs(120),
        || {
            swarm_tasks(engine, "edge")
                .iter()
                .any(|(s, c)| s == "web" && health(c) == "healthy")
                .then_some(())
        },
        || {
            format!(
                "{:?}",
                swarm_tasks(engine, "edge")
                    .iter()
                    .map(|(s, c)| (s.clone(), health(c).to_owned()))
                    .collect::<Vec<_>>()
            )
        },
    );
    let inspect: serde_json::Value = serde_json::from_str(&stdout(
        engine.docker().args(["service", "inspect", "edge_web"]),
    ))
    .unwrap();
    let spec = &inspect[0]["Spec"];
    assert_eq!(spec["Labels"]["traefik.enable"], "true", "{spec}");
    assert_eq!(
        spec["Labels"]["traefik.http.routers.web.rule"],
        "Host(`web.test`)"
    );
    let container_labels = &spec["TaskTemplate"]["ContainerSpec"]["Labels"];
    assert_eq!(container_labels["com.example.team"], "web", "{spec}");
    assert!(
        container_labels.get("traefik.enable").is_none(),
        "{container_labels}"
    );
    let port = &spec["EndpointSpec"]["Ports"][0];
    assert_eq!(port["PublishedPort"], 8089, "{port}");
    assert_eq!(port["PublishMode"], "host", "{port}");
    eprintln!("  service labels: {}; port: {port}", spec["Labels"]);
}
