//! Executes healthcheck probes against real servers on free loopback ports.

/// The harness, in tests/probes/.
mod probes {
    pub mod celery;
    pub mod http;
    pub mod postgres;
    pub mod process;
    pub mod rabbitmq;
    pub mod redis;
    pub mod runner;
}

use std::time::Duration;

use probes::celery::CeleryWorker;
use probes::http::{HttpServer, Reply};
use probes::postgres::{Listen, PgBouncer, Postgres};
use probes::process::{free_port, scratch_dir, tool};
use probes::rabbitmq;
use probes::redis::Redis;
use probes::runner::Healthcheck;

const USER: &str = "shop";
const DATABASE: &str = "shop";
const TIMEOUT: Duration = Duration::from_secs(10);

fn hand_written(test: &str) -> Healthcheck {
    Healthcheck::new(&serde_yaml::from_str(test).expect("valid YAML"), TIMEOUT)
}

fn postgres_check(port: u16) -> Healthcheck {
    hand_written(&format!(
        r#"["CMD-SHELL", "pg_isready -h 127.0.0.1 -p {port} -U \"$${{POSTGRES_USER:-postgres}}\" -d \"$${{POSTGRES_DB:-$${{POSTGRES_USER:-postgres}}}}\""]"#
    ))
    .env("POSTGRES_USER", USER)
    .env("POSTGRES_DB", DATABASE)
    .env("POSTGRES_PASSWORD", "x")
}

fn pgbouncer_check(port: u16) -> Healthcheck {
    hand_written(&format!(
        r#"["CMD", "pg_isready", "-h", "127.0.0.1", "-p", "{port}"]"#
    ))
}

fn redis_check(port: u16) -> Healthcheck {
    hand_written(&format!(
        r#"["CMD-SHELL", "redis-cli -h 127.0.0.1 -p {port} ping | grep -q PONG"]"#
    ))
}

fn rabbitmq_check() -> Healthcheck {
    hand_written(r#"["CMD", "rabbitmq-diagnostics", "-q", "ping"]"#)
}

fn celery_check(broker_url: &str) -> Healthcheck {
    hand_written(
        r#"["CMD-SHELL", "celery -A config inspect ping -d \"celery@$${HOSTNAME}\" --timeout 5"]"#,
    )
    .env("CELERY_BROKER_URL", broker_url)
}

#[derive(Clone, Copy)]
enum Form {
    Curl,
    Wget,
    BusyboxWget,
    Python,
    BashTcp,
}

fn http_check(form: Form, port: u16) -> Healthcheck {
    let url = format!("http://127.0.0.1:{port}/health/live");
    match form {
        Form::Curl => hand_written(&format!(
            r#"["CMD", "curl", "-fsS", "-o", "/dev/null", "--max-time", "5", "{url}"]"#
        )),
        Form::Wget | Form::BusyboxWget => {
            hand_written(&format!(r#"["CMD", "wget", "-q", "--spider", "{url}"]"#))
        }
        Form::Python => hand_written(&format!(
            r#"["CMD", "python", "-c", "import urllib.request as u; u.urlopen('{url}', timeout=5)"]"#
        )),
        Form::BashTcp => hand_written(&format!(
            r#"["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET /health/live HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && IFS= read -r -t 5 status <&3 && case \"$$status\" in *' 200 '*) exit 0;; esac; exit 1"]"#
        )),
    }
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

#[test]
fn pgbouncer_probe_healthy_when_pooler_and_backend_run() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    pgbouncer_check(bouncer.port()).assert_healthy();
}

#[test]
fn pgbouncer_probe_healthy_even_when_backend_down() {
    let mut pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    pg.stop();
    pgbouncer_check(bouncer.port()).assert_healthy();
}

#[test]
fn pgbouncer_probe_unhealthy_when_pooler_stopped() {
    let pg = Postgres::start(USER, DATABASE, Listen::Loopback);
    let mut bouncer = PgBouncer::start(pg.port(), USER, DATABASE);
    bouncer.stop();
    pgbouncer_check(bouncer.port()).assert_unhealthy();
}

// --- Redis ---

#[test]
fn redis_probe_healthy_when_running() {
    let redis = Redis::start(None);
    redis_check(redis.port()).assert_healthy();
}

#[test]
fn redis_probe_unhealthy_when_stopped() {
    let mut redis = Redis::start(None);
    redis.stop();
    redis_check(redis.port()).assert_unhealthy();
}

#[test]
fn redis_probe_healthy_with_password() {
    let redis = Redis::start(Some("s3cret"));
    redis_check(redis.port())
        .env("REDISCLI_AUTH", "s3cret")
        .assert_healthy();
}

#[test]
fn redis_probe_unhealthy_on_noauth() {
    // `redis-cli ping` exits 0 on the NOAUTH error: only the reply tells.
    let redis = Redis::start(Some("s3cret"));
    redis_check(redis.port()).assert_unhealthy();
}

#[test]
fn redis_probe_unhealthy_on_wrong_password() {
    let redis = Redis::start(Some("s3cret"));
    redis_check(redis.port())
        .env("REDISCLI_AUTH", "wrong")
        .assert_unhealthy();
}

// --- RabbitMQ ---

#[test]
fn rabbitmq_probe_healthy_when_running() {
    let node = rabbitmq::shared_node();
    rabbitmq_check()
        .env("RABBITMQ_NODENAME", &node.name)
        .env("ERL_EPMD_PORT", &node.epmd_port.to_string())
        .assert_healthy();
}

#[test]
fn rabbitmq_probe_unhealthy_when_node_down() {
    // A name no node registered with this epmd: what a stopped node leaves.
    let node = rabbitmq::shared_node();
    rabbitmq_check()
        .env("RABBITMQ_NODENAME", "muster-probe-absent@localhost")
        .env("ERL_EPMD_PORT", &node.epmd_port.to_string())
        .assert_unhealthy();
}

// --- Celery ---

#[test]
fn celery_probe_healthy_when_worker_running() {
    let redis = Redis::start(None);
    let worker = CeleryWorker::start(&redis.url(), "worker-a");
    celery_check(&redis.url())
        .env("HOSTNAME", "worker-a")
        .env("PYTHONPATH", &worker.app_dir().to_string_lossy())
        .assert_healthy();
}

#[test]
fn celery_probe_unhealthy_when_only_another_worker_runs() {
    // Without `-d celery@$HOSTNAME` any worker's reply would pass.
    let redis = Redis::start(None);
    let worker = CeleryWorker::start(&redis.url(), "worker-a");
    celery_check(&redis.url())
        .env("HOSTNAME", "worker-b")
        .env("PYTHONPATH", &worker.app_dir().to_string_lossy())
        .assert_unhealthy();
}

#[test]
fn celery_probe_unhealthy_when_worker_stopped() {
    let redis = Redis::start(None);
    let mut worker = CeleryWorker::start(&redis.url(), "worker-a");
    worker.stop();
    celery_check(&redis.url())
        .env("HOSTNAME", "worker-a")
        .env("PYTHONPATH", &worker.app_dir().to_string_lossy())
        .assert_unhealthy();
}

// --- HTTP probe forms: healthy only on 200 ---

/// Runs `form`'s probe against a server giving `reply`, or against a port
/// nobody listens on when `reply` is None, and checks the outcome.
fn check_http(form: Form, reply: Option<Reply>, assert: fn(&Healthcheck)) {
    let server = reply.map(HttpServer::start);
    let port = server.as_ref().map_or_else(free_port, HttpServer::port);
    let check = http_check(form, port);
    if let Form::BusyboxWget = form {
        // Alpine-based images have busybox's wget, whose options and error
        // handling differ from GNU wget's.
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
