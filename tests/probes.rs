//! Executes healthcheck probes against real servers on free loopback ports.

/// The harness, in tests/probes/.
mod probes {
    pub mod beat;
    pub mod celery;
    pub mod http;
    pub mod memcached;
    pub mod muster;
    pub mod postgres;
    pub mod process;
    pub mod rabbitmq;
    pub mod redis;
    pub mod runner;
}

use probes::beat::{self, Beat};
use probes::celery::{APP, CeleryWorker};
use probes::http::{HttpServer, Reply};
use probes::memcached::Memcached;
use probes::muster::{self as generated, healthcheck};
use probes::postgres::{Listen, PgBouncer, Postgres};
use probes::process::{free_port, scratch_dir, tool};
use probes::rabbitmq;
use probes::redis::Redis;
use probes::runner::Healthcheck;

const USER: &str = "shop";
const DATABASE: &str = "shop";
const PASSWORD: &str = "s3cret";

// Each catalogue sets `port` to the server's free port: the port the probe
// targets inside the container.

fn postgres_check(port: u16) -> Healthcheck {
    healthcheck(
        &format!(
            r#"
            [services.pg]
            kind = "db"
            image = "postgres:17"
            port = {port}
            env = {{ POSTGRES_USER = "{USER}", POSTGRES_DB = "{DATABASE}", POSTGRES_PASSWORD = "x" }}
            "#
        ),
        "pg",
    )
}

/// `env` is the pool's environment, as a TOML inline table's inside: the credentials the
/// probe logs in with.
fn pgbouncer_check(port: u16, env: &str) -> Healthcheck {
    healthcheck(
        &format!(
            r#"
            [services.pool]
            kind = "pool"
            image = "edoburu/pgbouncer"
            port = {port}
            env = {{ {env} }}
            "#
        ),
        "pool",
    )
}

/// `password` is what the service's environment gives redis-cli.
fn redis_check(port: u16, password: Option<&str>) -> Healthcheck {
    let env = password.map_or_else(String::new, |p| {
        format!("env = {{ REDISCLI_AUTH = \"{p}\" }}")
    });
    healthcheck(
        &format!(
            r#"
            [services.cache]
            kind = "cache"
            image = "redis:7"
            port = {port}
            {env}
            "#
        ),
        "cache",
    )
}

/// The probe as the node's container would run it: there the node's name
/// and epmd are the defaults, here the environment points the CLI at them.
fn rabbitmq_check(node_name: &str, node: &rabbitmq::Node) -> Healthcheck {
    healthcheck(
        r#"
        [services.mq]
        kind = "broker"
        image = "rabbitmq:3.13"
        "#,
        "mq",
    )
    .env("RABBITMQ_NODENAME", node_name)
    .env("ERL_EPMD_PORT", &node.epmd_port.to_string())
    // The image's `ENV HOME=/var/lib/rabbitmq`: the server's home, where its cookie is.
    .env(
        "HOME",
        probes::process::Account::lookup("rabbitmq")
            .home
            .to_str()
            .unwrap(),
    )
}

/// The probe as a worker container whose hostname is `hostname` runs it,
/// with the app module where the image's working directory would have it.
fn celery_check(broker: &Redis, worker: &CeleryWorker, hostname: &str) -> Healthcheck {
    healthcheck(
        &format!(
            r#"
            [services.worker]
            kind = "celery-worker"
            build = "."
            app = "{APP}"
            env = {{ CELERY_BROKER_URL = "{}" }}
            "#,
            broker.url()
        ),
        "worker",
    )
    .env("HOSTNAME", hostname)
    .env("PYTHONPATH", &worker.app_dir().to_string_lossy())
}

#[derive(Clone, Copy)]
enum Form {
    Curl,
    /// GNU wget.
    Wget,
    /// busybox's wget, as in Alpine images. Debian 12 builds busybox without
    /// FEATURE_WGET_TIMEOUT, and its wget crashes on `-T`, which Alpine's takes.
    BusyboxWget,
    Python,
    BashTcp,
}

fn http_check(form: Form, port: u16) -> Healthcheck {
    let probe = match form {
        Form::Curl => "curl",
        Form::Wget | Form::BusyboxWget => "wget",
        Form::Python => "python",
        Form::BashTcp => "bash-tcp",
    };
    healthcheck(
        &format!(
            r#"
            [services.api]
            kind = "http"
            build = "."
            port = {port}
            health_path = "/health/live"
            probe = "{probe}"
            "#
        ),
        "api",
    )
}

// --- PostgreSQL ---

#[test]
fn postgres_probe_healthy_when_running() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    postgres_check(pg.port()).assert_healthy();
}

#[test]
fn postgres_probe_unhealthy_when_stopped() {
    let mut pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    pg.stop();
    postgres_check(pg.port()).assert_unhealthy();
}

#[test]
fn postgres_probe_unhealthy_while_only_the_socket_listens() {
    // The image's init scripts run on such a server; a socket probe would
    // report healthy before the real server starts (docker-library/postgres#920).
    let pg = Postgres::start(USER, DATABASE, Listen::SocketOnly);
    postgres_check(pg.port()).assert_unhealthy();
}

// --- PgBouncer ---

const POOL_USER: &str = "DB_USER = \"shop\", DB_PASSWORD = \"\", DB_NAME = \"shop\"";

#[test]
fn pgbouncer_probe_logs_in_through_the_pool() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    pgbouncer_check(bouncer.port(), POOL_USER).assert_healthy();
}

#[test]
fn pgbouncer_probe_logs_in_with_a_database_url() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    // The URL names the database host; the probe goes to the pool on loopback instead.
    let url = "DATABASE_URL = \"postgres://shop@postgres:5432/shop\"";
    pgbouncer_check(bouncer.port(), url).assert_healthy();
}

#[test]
fn pgbouncer_probe_unhealthy_when_logins_fail() {
    // The pool listens, and pg_isready against it would say so; no login gets through.
    let mut pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    pg.stop();
    pgbouncer_check(bouncer.port(), POOL_USER).assert_unhealthy();
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    let stranger = "DB_USER = \"nobody\", DB_NAME = \"shop\"";
    pgbouncer_check(bouncer.port(), stranger).assert_unhealthy();
}

#[test]
fn pgbouncer_probe_without_credentials_only_sees_the_pooler_listen() {
    // The documented limit: with no user to log in as, pg_isready is all there is.
    let mut pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    pg.stop();
    pgbouncer_check(bouncer.port(), "").assert_healthy();
}

#[test]
fn pgbouncer_probe_unhealthy_when_pooler_stopped() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let mut bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    bouncer.stop();
    pgbouncer_check(bouncer.port(), POOL_USER).assert_unhealthy();
    pgbouncer_check(bouncer.port(), "").assert_unhealthy();
}

// --- Redis ---

#[test]
fn redis_probe_healthy_when_running() {
    let redis = Redis::start(None);
    redis_check(redis.port(), None).assert_healthy();
}

#[test]
fn redis_probe_unhealthy_when_stopped() {
    let mut redis = Redis::start(None);
    redis.stop();
    redis_check(redis.port(), None).assert_unhealthy();
}

#[test]
fn redis_probe_healthy_with_password() {
    let redis = Redis::start(Some(PASSWORD));
    redis_check(redis.port(), Some(PASSWORD)).assert_healthy();
}

#[test]
fn redis_probe_unhealthy_on_noauth() {
    // `redis-cli ping` exits 0 on the NOAUTH error: only the reply tells.
    let redis = Redis::start(Some(PASSWORD));
    redis_check(redis.port(), None).assert_unhealthy();
}

#[test]
fn redis_probe_unhealthy_on_wrong_password() {
    let redis = Redis::start(Some(PASSWORD));
    redis_check(redis.port(), Some("wrong")).assert_unhealthy();
}

// --- RabbitMQ ---

#[test]
fn rabbitmq_probe_healthy_when_running() {
    let node = rabbitmq::shared_node();
    rabbitmq_check(&node.name, node).assert_healthy();
}

#[test]
fn rabbitmq_probe_unhealthy_when_node_down() {
    // A name no node registered with this epmd: what a stopped node leaves.
    let node = rabbitmq::shared_node();
    rabbitmq_check("muster-probe-absent@localhost", node).assert_unhealthy();
}

// --- Celery ---

#[test]
fn celery_probe_healthy_when_worker_running() {
    let redis = Redis::start(None);
    let worker = CeleryWorker::start(&redis.url(), "worker-a");
    celery_check(&redis, &worker, "worker-a").assert_healthy();
}

#[test]
fn celery_probe_unhealthy_when_only_another_worker_runs() {
    // Without `-d celery@$HOSTNAME` any worker's reply would pass.
    let redis = Redis::start(None);
    let worker = CeleryWorker::start(&redis.url(), "worker-a");
    celery_check(&redis, &worker, "worker-b").assert_unhealthy();
}

#[test]
fn celery_probe_unhealthy_when_worker_stopped() {
    let redis = Redis::start(None);
    let mut worker = CeleryWorker::start(&redis.url(), "worker-a");
    worker.stop();
    celery_check(&redis, &worker, "worker-a").assert_unhealthy();
}

// --- HTTP probe forms: healthy only on 200 ---

/// Runs `form`'s probe against a server giving `reply`, or against a port
/// nobody listens on when `reply` is None, and checks the outcome.
fn check_http(form: Form, reply: Option<Reply>, assert: fn(&Healthcheck)) {
    let server = reply.map(HttpServer::start);
    let port = server.as_ref().map_or_else(free_port, HttpServer::port);
    let check = http_check(form, port);
    if let Form::BusyboxWget = form {
        let shims = scratch_dir();
        std::os::unix::fs::symlink(tool("busybox"), shims.path().join("wget"))
            .expect("cannot link busybox as wget");
        let path = std::env::var("PATH").unwrap_or_default();
        assert(&check.env("PATH", &format!("{}:{path}", shims.path().display())));
    } else {
        assert(&check);
    }
}

const OK: Option<Reply> = Some(Reply::Status(200));
const ERROR: Option<Reply> = Some(Reply::Status(500));
const REDIRECT: Option<Reply> = Some(Reply::RedirectToLogin);
const SILENT: Option<Reply> = Some(Reply::Silence);
const NOTHING_LISTENS: Option<Reply> = None;

#[test]
fn http_curl_probe_healthy_on_200() {
    check_http(Form::Curl, OK, Healthcheck::assert_healthy);
}

#[test]
fn http_curl_probe_unhealthy_on_500() {
    check_http(Form::Curl, ERROR, Healthcheck::assert_unhealthy);
}

#[test]
fn http_curl_probe_unhealthy_on_redirect() {
    check_http(Form::Curl, REDIRECT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_curl_probe_unhealthy_on_silence() {
    check_http(Form::Curl, SILENT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_curl_probe_unhealthy_when_nothing_listens() {
    check_http(Form::Curl, NOTHING_LISTENS, Healthcheck::assert_unhealthy);
}

#[test]
fn http_wget_probe_healthy_on_200() {
    check_http(Form::Wget, OK, Healthcheck::assert_healthy);
}

#[test]
fn http_wget_probe_unhealthy_on_500() {
    check_http(Form::Wget, ERROR, Healthcheck::assert_unhealthy);
}

/// busybox wget always follows redirects and has no option against it, so muster's wget
/// probe does too (documented on `probe::http_test`): a redirect to a page answering 200 passes.
#[test]
fn http_wget_probe_follows_redirects() {
    check_http(Form::Wget, REDIRECT, Healthcheck::assert_healthy);
}

#[test]
fn http_wget_probe_unhealthy_on_silence() {
    check_http(Form::Wget, SILENT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_wget_probe_unhealthy_when_nothing_listens() {
    check_http(Form::Wget, NOTHING_LISTENS, Healthcheck::assert_unhealthy);
}

#[test]
fn http_busybox_wget_probe_healthy_on_200() {
    check_http(Form::BusyboxWget, OK, Healthcheck::assert_healthy);
}

#[test]
fn http_busybox_wget_probe_unhealthy_on_500() {
    check_http(Form::BusyboxWget, ERROR, Healthcheck::assert_unhealthy);
}

/// busybox wget always follows redirects and has no option against it, so muster's wget
/// probe does too (documented on `probe::http_test`): a redirect to a page answering 200 passes.
#[test]
fn http_busybox_wget_probe_follows_redirects() {
    check_http(Form::BusyboxWget, REDIRECT, Healthcheck::assert_healthy);
}

#[test]
fn http_busybox_wget_probe_unhealthy_on_silence() {
    check_http(Form::BusyboxWget, SILENT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_busybox_wget_probe_unhealthy_when_nothing_listens() {
    check_http(
        Form::BusyboxWget,
        NOTHING_LISTENS,
        Healthcheck::assert_unhealthy,
    );
}

#[test]
fn http_python_probe_healthy_on_200() {
    check_http(Form::Python, OK, Healthcheck::assert_healthy);
}

#[test]
fn http_python_probe_unhealthy_on_500() {
    check_http(Form::Python, ERROR, Healthcheck::assert_unhealthy);
}

#[test]
fn http_python_probe_unhealthy_on_redirect() {
    check_http(Form::Python, REDIRECT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_python_probe_unhealthy_on_silence() {
    check_http(Form::Python, SILENT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_python_probe_unhealthy_when_nothing_listens() {
    check_http(Form::Python, NOTHING_LISTENS, Healthcheck::assert_unhealthy);
}

#[test]
fn http_bash_tcp_probe_healthy_on_200() {
    check_http(Form::BashTcp, OK, Healthcheck::assert_healthy);
}

#[test]
fn http_bash_tcp_probe_unhealthy_on_500() {
    check_http(Form::BashTcp, ERROR, Healthcheck::assert_unhealthy);
}

#[test]
fn http_bash_tcp_probe_unhealthy_on_redirect() {
    check_http(Form::BashTcp, REDIRECT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_bash_tcp_probe_unhealthy_on_silence() {
    check_http(Form::BashTcp, SILENT, Healthcheck::assert_unhealthy);
}

#[test]
fn http_bash_tcp_probe_unhealthy_when_nothing_listens() {
    check_http(
        Form::BashTcp,
        NOTHING_LISTENS,
        Healthcheck::assert_unhealthy,
    );
}

// --- The other kinds probed over HTTP, against a stand-in server speaking HTTP ---
//
// Elasticsearch, OpenSearch, Qdrant, Prometheus, Grafana and model servers cannot run on this
// machine; the closest honest stand-in is a local server answering the path the kind's probe
// asks for, with what the real one answers when ready or not.

/// `kind`'s probe as muster generates it for `snippet` (the rest of the service's table), pointed
/// at `reply`'s server, or at a port nobody listens on.
fn check_kind(snippet: &str, reply: Option<Reply>, assert: fn(&Healthcheck)) {
    let server = reply.map(HttpServer::start);
    let port = server.as_ref().map_or_else(free_port, HttpServer::port);
    let check = healthcheck(&format!("[services.s]\n{snippet}\nport = {port}\n"), "s");
    assert(&check);
}

const ELASTICSEARCH: &str = "kind = \"search\"\nengine = \"elasticsearch\"\nenv = { \"xpack.security.enabled\" = \"false\" }";
const OPENSEARCH: &str =
    "kind = \"search\"\nengine = \"opensearch\"\nenv = { DISABLE_SECURITY_PLUGIN = \"true\" }";
const QDRANT: &str = "kind = \"vector-db\"\nimage = \"qdrant/qdrant:v1.12.4\"";
const MODEL: &str = "kind = \"ai-model\"\nbuild = \".\"";
const PROMETHEUS: &str = "kind = \"monitoring\"\nimage = \"prom/prometheus:v2.55.1\"";
const GRAFANA: &str = "kind = \"monitoring\"\nimage = \"grafana/grafana:11.3.1\"";
/// Cluster health answers 408 when `wait_for_status` is not reached within its timeout.
const NOT_YET_YELLOW: Option<Reply> = Some(Reply::Status(408));
const NOT_READY: Option<Reply> = Some(Reply::Status(503));

#[test]
fn search_elasticsearch_probe_healthy_when_yellow_or_green() {
    check_kind(ELASTICSEARCH, OK, Healthcheck::assert_healthy);
}

#[test]
fn search_elasticsearch_probe_unhealthy_when_not_yet_yellow() {
    check_kind(ELASTICSEARCH, NOT_YET_YELLOW, Healthcheck::assert_unhealthy);
}

#[test]
fn search_opensearch_probe_healthy_when_yellow_or_green() {
    check_kind(OPENSEARCH, OK, Healthcheck::assert_healthy);
}

#[test]
fn search_opensearch_probe_unhealthy_when_nothing_listens() {
    check_kind(OPENSEARCH, NOTHING_LISTENS, Healthcheck::assert_unhealthy);
}

#[test]
fn vector_db_qdrant_probe_healthy_when_ready() {
    check_kind(QDRANT, OK, Healthcheck::assert_healthy);
}

#[test]
fn vector_db_qdrant_probe_unhealthy_while_collections_load() {
    check_kind(QDRANT, NOT_READY, Healthcheck::assert_unhealthy);
}

#[test]
fn ai_model_probe_healthy_once_the_model_is_loaded() {
    check_kind(MODEL, OK, Healthcheck::assert_healthy);
}

#[test]
fn ai_model_probe_unhealthy_while_the_model_loads() {
    check_kind(MODEL, NOT_READY, Healthcheck::assert_unhealthy);
}

#[test]
fn monitoring_prometheus_probe_healthy_when_serving() {
    check_kind(PROMETHEUS, OK, Healthcheck::assert_healthy);
}

#[test]
fn monitoring_prometheus_probe_unhealthy_when_failing() {
    check_kind(PROMETHEUS, ERROR, Healthcheck::assert_unhealthy);
}

#[test]
fn monitoring_grafana_probe_healthy_when_serving() {
    check_kind(GRAFANA, OK, Healthcheck::assert_healthy);
}

#[test]
fn monitoring_grafana_probe_unhealthy_when_silent() {
    check_kind(GRAFANA, SILENT, Healthcheck::assert_unhealthy);
}

// --- memcached: the real server ---

fn memcached_check(port: u16) -> Healthcheck {
    healthcheck(
        &format!("[services.mc]\nkind = \"cache\"\nengine = \"memcached\"\nport = {port}\n"),
        "mc",
    )
}

#[test]
fn memcached_probe_healthy_when_running() {
    let server = Memcached::start();
    memcached_check(server.port()).assert_healthy();
}

#[test]
fn memcached_probe_unhealthy_when_stopped() {
    let mut server = Memcached::start();
    let check = memcached_check(server.port());
    server.stop();
    check.assert_unhealthy();
}

// --- Celery beat: the real scheduler, started with the generated command ---

/// One test, not two: the schedule's path is fixed by the template, so two tests could not run
/// side by side.
#[test]
fn beat_probe_healthy_while_beat_runs_and_unhealthy_once_its_schedule_is_stale() {
    let broker = Redis::start(None);
    let catalogue = format!(
        "[services.beat]\nkind = \"beat\"\nbuild = \".\"\napp = \"{APP}\"\nenv = {{ CELERY_BROKER_URL = \"{}\" }}\n",
        broker.url()
    );
    let argv: Vec<String> =
        yaml_serde::from_value(generated::service(&catalogue, "beat")["command"].clone())
            .expect("beat's command is a list");
    let check = healthcheck(&catalogue, "beat");
    let mut scheduler = Beat::start(&argv, &broker.url());
    check.assert_healthy();
    scheduler.stop();
    // A beat that is stuck or gone stops rewriting its schedule; ten minutes is the threshold.
    beat::age_schedule(11);
    check.assert_unhealthy();
}
