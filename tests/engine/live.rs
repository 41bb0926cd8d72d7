//! `muster up`, `status` and `doctor` against the engine: the ecommerce example comes up with
//! a board that ends all healthy, and each broken catalogue is diagnosed with its cause and the
//! catalogue line to change.

use super::harness::{Engine, Stack, repo};
use std::process::Command;
use std::time::{Duration, Instant};

/// What one run of muster did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
    /// Each stderr line with the moment it arrived, in seconds since the epoch: when muster
    /// named a cause.
    pub stderr_lines: Vec<(f64, String)>,
}

fn epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:.1?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// `muster ARGS` in the stack's `shop/`, talking to `engine` as a user's shell would: its
/// `docker` first on PATH (Compose 2.40 from the test PATH's `docker-compose`), DOCKER_HOST set.
pub fn muster(engine: &Engine, stack: &mut Stack, args: &[&str]) -> Run {
    stack.started();
    let mut command = muster_command(engine, stack);
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("muster runs");
    let mut out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut out, &mut text).unwrap();
        text
    });
    let stderr = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .map(|l| (epoch(), l))
            .collect::<Vec<_>>()
    });
    let status = child.wait().expect("muster runs");
    let stderr_lines = stderr.join().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr_lines.iter().map(|(_, l)| format!("{l}\n")).collect(),
        took: started.elapsed(),
        stderr_lines,
    };
    eprintln!(
        "  muster {}: exit {} in {:.0?}",
        args.join(" "),
        run.code,
        run.took
    );
    // What muster printed, for a reader of the test log who wants to see it.
    if std::env::var_os("MUSTER_LIVE_SHOW").is_some() {
        eprintln!("{run}");
    }
    run
}

/// The muster under test: this build, or `MUSTER_LIVE_BIN` (another build, to measure what a
/// change changed).
pub fn muster_command(engine: &Engine, stack: &Stack) -> Command {
    let path = std::env::var("PATH").unwrap_or_default();
    let bin = std::env::var("MUSTER_LIVE_BIN").unwrap_or(env!("CARGO_BIN_EXE_muster").to_owned());
    let mut command = Command::new(bin);
    command
        .current_dir(stack.shop())
        .env("DOCKER_HOST", engine.host())
        .env("PATH", format!("{}:{path}", engine.bin().display()))
        .env_remove("DOCKER_CONTEXT");
    command
}

/// The line of `catalogue` that holds `snippet`, 1-based.
fn line_of(catalogue: &str, snippet: &str) -> usize {
    let at = catalogue
        .find(snippet)
        .unwrap_or_else(|| panic!("`{snippet}` is not in the catalogue"));
    catalogue[..at].matches('\n').count() + 1
}

/// `up` failed with exit 4, and its diagnosis of `service` says `words` and points at the
/// catalogue line holding `snippet`.
fn assert_diagnosed(run: &Run, catalogue: &str, words: &str, snippet: &str) {
    assert_eq!(run.code, 4, "{run}");
    let line = line_of(catalogue, snippet);
    let at = format!("services.toml:{line}:");
    let diagnosis = run
        .stderr
        .split("\nerror: ")
        .find(|d| d.contains(words))
        .unwrap_or_else(|| panic!("no diagnosis says `{words}`:\n{run}"));
    assert!(
        diagnosis.contains(&at),
        "the diagnosis does not point at line {line} (`{snippet}`):\n{run}"
    );
    eprintln!(
        "  diagnosed: {} (line {line})",
        diagnosis
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
    );
}

/// The final board, as the plain form prints it last: each service's state.
fn final_state(run: &Run, service: &str) -> String {
    let board = run.stdout.rsplit("\n\n").next().unwrap_or("");
    board
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(service)).then(|| words.collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| panic!("`{service}` is not on the final board:\n{}", run.stdout))
}

/// A fast timing, for the scenarios whose breakage is the timing itself: probes every 2 s,
/// unhealthy after 2 failures.
const FAST: &str = r#"healthcheck = { interval = "2s", timeout = "1s", retries = 2, start_period = "2s", start_interval = "1s" }"#;

/// A healthy branch beside each broken service, slower to come up than muster is to name the
/// broken one: `up` must go on waiting for it, and return with it healthy.
const SIDE: &str = r#"
[services.side]
kind = "http"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 12; exec python -m http.server 8000"]
health_path = "/"
"#;

/// How soon muster must name a cause, from the broken service's start, on the dev profile.
const NAMED_WITHIN: f64 = 15.0;

fn up_broken<'e>(engine: &'e Engine, files: &[(&str, &str)]) -> (Stack<'e>, Run) {
    let mut stack = Stack::new(engine, files);
    // stdout is a pipe here: the plain form, one line per change.
    let run = muster(engine, &mut stack, &["up", "--timeout", "150s"]);
    assert!(
        run.stdout.lines().any(|l| l.contains("s  ")
            && (l.contains(": unhealthy") || l.contains(": failing"))
            || l.contains(": exited")
            || l.contains(": restarting")),
        "no change line in the plain form:\n{run}"
    );
    (stack, run)
}

/// Seconds from `service`'s start to the first stderr line of muster's diagnosis saying `words`;
/// it must be within [`NAMED_WITHIN`]. A container the engine restarted counts from its
/// creation, a moment before its first start.
fn named_within(stack: &Stack, run: &Run, service: &str, words: &str) -> f64 {
    let c = stack.container(service);
    let time = |field: &str| {
        let text = c["State"][field]
            .as_str()
            .unwrap_or(c[field].as_str().unwrap_or(""));
        chrono_seconds(text)
    };
    let started = if c["RestartCount"].as_u64().unwrap_or(0) > 0 {
        time("Created")
    } else {
        time("StartedAt")
    };
    let named = run
        .stderr_lines
        .iter()
        .find(|(_, l)| l.starts_with("error: ") && l.contains(words))
        .unwrap_or_else(|| panic!("no diagnosis says `{words}`:\n{run}"))
        .0;
    let after = named - started;
    eprintln!("  `{service}` named {after:.1}s after its start: {words}");
    assert!(
        after <= NAMED_WITHIN,
        "`{service}` was named {after:.1}s after its start, over {NAMED_WITHIN}s:\n{run}"
    );
    after
}

/// The side branch came up: healthy on the final board, and in the engine when `up` returned.
fn side_healthy(stack: &Stack, run: &Run) {
    let state = final_state(run, "side");
    assert!(state.starts_with("healthy"), "side: {state}\n{run}");
    assert_eq!(
        super::harness::health(&stack.container("side")),
        "healthy",
        "{run}"
    );
}

/// Seconds since the epoch of an engine timestamp (RFC 3339, UTC).
fn chrono_seconds(text: &str) -> f64 {
    let out = Command::new("date")
        .args(["-u", "-d", text, "+%s.%N"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a time: {text}"))
}

// ---------------------------------------------------------------- the ecommerce example

/// The example's catalogue in the stack's `shop/`, so that `profiles/` beside it is the test's.
fn ecommerce_stack(engine: &Engine) -> Stack<'_> {
    let text = std::fs::read_to_string(repo().join("examples/ecommerce/services.toml")).unwrap();
    Stack::new(engine, &[("services.toml", &text)])
}

/// `muster up` ended with every service healthy or exited 0; the stack's time to ready, as the
/// board's header gives it.
fn all_up(run: &Run) -> f64 {
    assert_eq!(run.code, 0, "{run}");
    let board = run.stdout.rsplit("\n\n").next().unwrap_or("");
    let rows: Vec<&str> = board.lines().skip(2).collect();
    assert!(rows.len() >= 20, "{run}");
    for row in &rows {
        let state = row.split_whitespace().nth(1).unwrap_or("");
        let ok = state == "healthy" || row.contains("exited 0");
        assert!(ok, "not healthy on the final board: {row}\n{run}");
    }
    eprintln!("  final board:\n{board}");
    let head = board.lines().next().unwrap_or("");
    let text = head
        .split(" ready in ")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .unwrap_or_else(|| panic!("no time to ready in `{head}`"));
    // `27.3s`, or `1m02.5s`
    let (minutes, rest) = text.split_once('m').unwrap_or(("0", text));
    let seconds: f64 = rest.trim_end_matches('s').parse().expect("seconds");
    minutes.parse::<f64>().expect("minutes") * 60.0 + seconds
}

/// A fresh start of the stack, as `tune` makes one: containers removed, volumes kept.
fn down(stack: &Stack) {
    let out = stack
        .compose()
        .args(["down", "--remove-orphans", "-t", "10"])
        .output()
        .expect("docker-compose runs");
    assert!(out.status.success(), "{out:?}");
}

pub fn ecommerce_up(engine: &Engine) {
    let mut stack = ecommerce_stack(engine);
    // No false early failure: every service of the example comes up, on either profile.
    for profile in ["dev", "prod"] {
        let run = muster(engine, &mut stack, &["up", "--profile", profile, "--build"]);
        let total = all_up(&run);
        eprintln!("  {profile}: every service ready in {total:.1}s");
        down(&stack);
    }
    let run = muster(engine, &mut stack, &["up", "--profile", "prod"]);
    all_up(&run);

    let status = muster(
        engine,
        &mut stack,
        &["status", "--profile", "prod", "--json"],
    );
    assert_eq!(status.code, 0, "{status}");
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(json["verdict"], "done", "{status}");
    assert_eq!(json["diagnoses"], serde_json::json!([]));
    assert!(json["ready_in"].as_f64().is_some(), "{status}");
    let backend = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "backend")
        .unwrap();
    assert!(backend["ready_after"].as_f64().is_some(), "{status}");

    let doctor = muster(
        engine,
        &mut stack,
        &["doctor", "backend", "--profile", "prod"],
    );
    assert_eq!(doctor.code, 0, "{doctor}");
    assert!(doctor.stdout.contains("exit 0 after"), "{doctor}");
    assert!(doctor.stdout.contains("passed"), "{doctor}");
}

/// `muster tune` on the example under prod: three fresh starts measured, the proposals
/// written as `profiles/prod-tuned.toml`, which `explain` names as measured; the stack brought
/// up again with it comes up with nothing failing, and both times to ready are printed.
pub fn tune_ecommerce(engine: &Engine) {
    let mut stack = ecommerce_stack(engine);
    // Built and initialised once, so that each start measured below is a warm one.
    all_up(&muster(
        engine,
        &mut stack,
        &["up", "--profile", "prod", "--build"],
    ));
    down(&stack);
    let before = all_up(&muster(engine, &mut stack, &["up", "--profile", "prod"]));
    let tune = muster(
        engine,
        &mut stack,
        &["tune", "--profile", "prod", "--runs", "3", "--write"],
    );
    assert_eq!(tune.code, 0, "{tune}");
    eprintln!("  muster tune said:\n{}", tune.stdout);
    assert!(tune.stdout.contains("3 starts measured"), "{tune}");
    let written = std::fs::read_to_string(stack.shop().join("profiles/prod-tuned.toml"))
        .expect("tune --write wrote profiles/prod-tuned.toml");
    eprintln!("  profiles/prod-tuned.toml:\n{written}");
    assert!(written.contains("extends = \"prod\""), "{written}");

    let explain = muster(
        engine,
        &mut stack,
        &["explain", "backend", "--profile", "prod-tuned"],
    );
    assert_eq!(explain.code, 0, "{explain}");
    assert!(
        explain
            .stdout
            .lines()
            .any(|l| l.starts_with("healthcheck.start_period")
                && l.contains("profile prod-tuned [services.backend], measured")),
        "{explain}"
    );
    assert!(
        explain.stdout.contains("measured by muster tune on"),
        "{explain}"
    );

    let after = all_up(&muster(
        engine,
        &mut stack,
        &["up", "--profile", "prod-tuned"],
    ));
    // The figures, for the report: on a shared two-core machine the same start varies by half
    // (26 to 41 s under prod), more than tuning moves it, so no order is asserted between them.
    eprintln!("  every service ready: prod {before:.1}s, prod-tuned {after:.1}s");
}

/// `muster tune --running` on a small stack `up` started: the api listens 3 s after its start,
/// and the engine, probing every 2 s while it starts, cannot have seen it ready sooner.
pub fn tune_running(engine: &Engine) {
    let catalogue = r#"
[project]
name = "livetune"

[services.redis]
kind = "cache"
image = "redis:7.4"

[services.api]
kind = "http"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 3; exec python -m http.server 8000"]
health_path = "/"
depends_on = ["redis"]
"#;
    let mut stack = Stack::new(engine, &[("services.toml", catalogue)]);
    let up = muster(engine, &mut stack, &["up"]);
    assert_eq!(up.code, 0, "{up}");
    let tune = muster(engine, &mut stack, &["tune", "--running"]);
    assert_eq!(tune.code, 0, "{tune}");
    eprintln!("{}", tune.stdout);
    assert!(tune.stdout.contains("1 start measured"), "{tune}");
    let api = tune
        .stdout
        .lines()
        .find(|l| l.starts_with("api "))
        .unwrap_or_else(|| panic!("no row for api:\n{tune}"));
    let ready: f64 = api
        .split_whitespace()
        .nth(1)
        .and_then(|t| t.trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no time to ready: {api}"));
    assert!((3.0..10.0).contains(&ready), "{api}");
}

// ---------------------------------------------------------------- broken catalogues

/// An image built FROM nginx, named by a build argument only the environment fills: muster
/// cannot follow its Dockerfile, guesses python (and says so), which this image lacks; the
/// container has curl. On the dev profile's timing.
pub fn probe_tool_missing(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "livetool"

[services.web]
kind = "http"
build = {{ context = "web", args = {{ BASE_IMAGE = "${{WEB_BASE}}" }} }}
port = 80
health_path = "/"
{SIDE}"#
    );
    let (stack, run) = up_broken(
        engine,
        &[
            ("services.toml", &catalogue),
            ("web/Dockerfile", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"),
            (".env", "WEB_BASE=nginx:1.27\n"),
        ],
    );
    named_within(&stack, &run, "web", "which its image does not have");
    assert_diagnosed(
        &run,
        &catalogue,
        "runs `python`, which its image does not have",
        "[services.web]",
    );
    assert!(run.stderr.contains("probe = \"curl\""), "{run}");
    // Failed as soon as two probes said so, without waiting out start_period and the
    // engine's retries: more start time cannot bring a program into the image.
    assert_eq!(
        final_state(&run, "web").split_whitespace().next(),
        Some("failing")
    );
    side_healthy(&stack, &run);
}

/// `port` says 8000, the server listens on 8080: the probe, run again on 8080, passes.
pub fn wrong_port(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveport"

[services.api]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8080"
port = 8000
health_path = "/"
{SIDE}"#
    );
    let (mut stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "api", "but the service listens on 8080");
    assert_diagnosed(
        &run,
        &catalogue,
        "but the service listens on 8080",
        "port = 8000",
    );
    assert!(
        run.stderr.contains("the same probe on port 8080 passes"),
        "{run}"
    );
    side_healthy(&stack, &run);

    // The probe by hand says the same, with its exit code and time against the timeout.
    let doctor = muster(engine, &mut stack, &["doctor", "api"]);
    assert_eq!(doctor.code, 4, "{doctor}");
    assert!(doctor.stdout.contains("(timeout 5s)"), "{doctor}");
    assert!(doctor.stderr.contains("listens on 8080"), "{doctor}");

    // `status` reads the same evidence: the engine still says starting, muster says failed.
    let status = muster(engine, &mut stack, &["status", "--json"]);
    assert_eq!(status.code, 4, "{status}");
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(json["verdict"], "failed");
    assert_eq!(json["services"][0]["service"], "api");
    assert_eq!(json["services"][0]["verdict"], "failed");
    assert_eq!(json["diagnoses"][0]["cause"], "wrong-port");
    assert_eq!(
        json["diagnoses"][0]["line"],
        line_of(&catalogue, "port = 8000")
    );
    assert_eq!(json["services"][1]["state"], "healthy", "{status}");
    assert!(
        json["services"][1]["ready_after"].as_f64().unwrap_or(0.0) > 12.0,
        "side listens after 12 s: {status}"
    );

    // The engine as the current docker context names it, with no DOCKER_HOST: muster asks the
    // CLI, which resolves contexts (and ssh:// hosts) itself. DOCKER_CONFIG keeps the context
    // out of the machine's own ~/.docker.
    let config = tempfile::tempdir().expect("a temporary folder");
    for args in [
        vec![
            "context".to_owned(),
            "create".to_owned(),
            "muster-live".to_owned(),
            "--docker".to_owned(),
            format!("host={}", engine.host()),
        ],
        vec![
            "context".to_owned(),
            "use".to_owned(),
            "muster-live".to_owned(),
        ],
    ] {
        let out = engine
            .docker()
            .env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", config.path())
            .args(&args)
            .output()
            .expect("docker runs");
        assert!(out.status.success(), "docker {args:?}: {out:?}");
    }
    let out = muster_command(engine, &stack)
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", config.path())
        .args(["status", "--json"])
        .output()
        .expect("muster runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["services"][0]["verdict"], "failed", "{out:?}");
    eprintln!("  status through the current docker context: api failed");
}

/// An app that answers 404 on its health path: the server is up, the path is not there.
pub fn not_found(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "live404"

[services.api]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/healthz"
{SIDE}"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "api", "answers 404");
    assert_diagnosed(
        &run,
        &catalogue,
        "answers 404 to its probe on /healthz",
        "health_path = \"/healthz\"",
    );
    side_healthy(&stack, &run);
}

/// A server that takes 25 s to listen, with a start_period of 2 s: the engine's verdict, on
/// the catalogue's own fast timing (the dev profile's would wait out the server).
pub fn start_period_too_short(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveslow"

[services.model]
kind = "ai-model"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 25; exec python -m http.server 8000"]
health_path = "/"
{FAST}
"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(
        &stack,
        &run,
        "model",
        "starts slower than start_period allows",
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "starts slower than start_period allows",
        "healthcheck = {",
    );
    assert!(run.stderr.contains("connection refused"), "{run}");
    // While it was starting, the board said what the refusals suggested.
    assert!(
        run.stdout
            .contains("suspect: refused on port 8000: nothing listens yet"),
        "{run}"
    );
}

/// A server that listens only after 40 s, inside the dev profile's 60 s start_period for a
/// model server: refused, with nothing listening, is waited for, and `up` ends healthy.
pub fn slow_starter(engine: &Engine) {
    let catalogue = r#"
[project]
name = "liveslowok"

[services.model]
kind = "ai-model"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 40; exec python -m http.server 8000"]
health_path = "/"
"#;
    let mut stack = Stack::new(engine, &[("services.toml", catalogue)]);
    let run = muster(engine, &mut stack, &["up"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("suspect: refused on port 8000: nothing listens yet"),
        "the suspicion was shown while it started:\n{run}"
    );
    let state = final_state(&run, "model");
    assert!(state.starts_with("healthy"), "{run}");
    eprintln!("  final board: model {state}");
}

/// Redis with a password and no REDISCLI_AUTH: NOAUTH, which the probe's grep hides.
pub fn redis_noauth(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveauth"

[services.redis]
kind = "cache"
image = "redis:7.4"
command = "redis-server --requirepass secret"
env = {{ REDIS_PASSWORD = "secret" }}

[services.worker]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
depends_on = ["redis"]
{SIDE}"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "redis", "NOAUTH");
    assert_diagnosed(&run, &catalogue, "NOAUTH", "env = { REDIS_PASSWORD");
    assert!(run.stderr.contains("REDISCLI_AUTH"), "{run}");
    assert_diagnosed(
        &run,
        &catalogue,
        "`worker` never started",
        "depends_on = [\"redis\"]",
    );
    side_healthy(&stack, &run);
}

/// The Django backend with an ALLOWED_HOSTS that does not admit the probe's 127.0.0.1.
pub fn django_400(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "livehost"

[services.backend]
kind = "http"
build = "../backend"
command = "gunicorn config.wsgi:application --bind 0.0.0.0:8000"
env = {{ DJANGO_SECRET_KEY = "test", DJANGO_ALLOWED_HOSTS = "backend" }}
{SIDE}"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "backend", "answers 400 Bad Request");
    assert_diagnosed(
        &run,
        &catalogue,
        "answers 400 Bad Request",
        "DJANGO_ALLOWED_HOSTS = \"backend\"",
    );
    assert!(
        run.stderr.contains("ALLOWED_HOSTS must admit `127.0.0.1`"),
        "{run}"
    );
    side_healthy(&stack, &run);
}

/// A gateway whose health path redirects to a login page.
pub fn redirect_to_login(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveredirect"

[services.gateway]
kind = "http"
image = "nginx:1.27"
port = 80
health_path = "/admin"
volumes = ["./redirect.conf:/etc/nginx/conf.d/default.conf:ro"]
{SIDE}"#
    );
    let nginx = "server {\n  listen 80;\n  location /admin { return 302 /accounts/login/?next=/admin; }\n  location / { return 200 'ok'; }\n}\n";
    let (stack, run) = up_broken(
        engine,
        &[("services.toml", &catalogue), ("redirect.conf", nginx)],
    );
    named_within(&stack, &run, "gateway", "with a redirect");
    assert_diagnosed(
        &run,
        &catalogue,
        "with a redirect",
        "health_path = \"/admin\"",
    );
    assert!(run.stderr.contains("login page"), "{run}");
    side_healthy(&stack, &run);
}

/// A migrations job that exits 1: its dependents never start, their diagnosis leads to it,
/// and the branch beside them comes up.
pub fn job_fails(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "livejob"

[services.migrate]
kind = "job"
image = "python:3.12-slim"
command = ["python", "-c", "import sys; print('database connection failed: could not connect to server'); sys.exit(1)"]

[services.api]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
depends_on = ["migrate"]

[services.web]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
depends_on = ["api"]
{SIDE}"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "migrate", "`migrate` exited 1");
    assert_diagnosed(
        &run,
        &catalogue,
        "`migrate` exited 1",
        "command = [\"python\"",
    );
    assert!(run.stderr.contains("so `api`, `web` never start"), "{run}");
    assert!(run.stderr.contains("check `depends_on`"), "{run}");
    assert_diagnosed(
        &run,
        &catalogue,
        "`api` never started",
        "depends_on = [\"migrate\"]",
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "`web` never started",
        "depends_on = [\"api\"]",
    );
    assert!(run.stderr.contains("web -> api -> migrate"), "{run}");
    assert!(
        final_state(&run, "web").contains("never starts: migrate failed"),
        "{run}"
    );
    side_healthy(&stack, &run);
}

/// A service that exits at once under `restart: unless-stopped`: a restart loop, with its logs.
pub fn restart_loop(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveloop"

[services.api]
kind = "http"
image = "python:3.12-slim"
command = ["python", "-c", "raise SystemExit('config error: API_KEY is not set')"]
health_path = "/"
{SIDE}"#
    );
    let (stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    named_within(&stack, &run, "api", "restarting in a loop");
    assert_diagnosed(
        &run,
        &catalogue,
        "restarting in a loop",
        "command = [\"python\"",
    );
    assert!(run.stderr.contains("API_KEY is not set"), "{run}");
    side_healthy(&stack, &run);
}

/// Causes waiting may cure are waited for, until the engine's verdict or the deadline: a 503,
/// a probe that fails with nothing to say, a probe not run yet, a crash the engine restarted.
pub fn waited_for(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "livewait"

[services.busy]
kind = "http"
image = "nginx:1.27"
port = 80
health_path = "/health"
volumes = ["./busy.conf:/etc/nginx/conf.d/default.conf:ro"]
{FAST}

[services.falsy]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
healthcheck = {{ test = ["CMD", "false"], interval = "2s", timeout = "1s", retries = 2, start_period = "2s", start_interval = "1s" }}

[services.unready]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
healthcheck = {{ interval = "5m", start_period = "0s" }}

[services.again]
kind = "http"
image = "python:3.12-slim"
command = ["sh", "-c", "test -f /tmp/once || {{ touch /tmp/once; exit 1; }}; exec python -m http.server 8000"]
health_path = "/"
healthcheck = {{ interval = "5m", start_period = "0s" }}
"#
    );
    let busy = "server {\n  listen 80;\n  location /health { return 503; }\n}\n";
    let mut stack = Stack::new(
        engine,
        &[("services.toml", &catalogue), ("busy.conf", busy)],
    );
    let run = muster(engine, &mut stack, &["up", "--timeout", "15s"]);
    assert_diagnosed(
        &run,
        &catalogue,
        "answers 503 to its probe on /health",
        "health_path = \"/health\"",
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "fails with exit 1",
        "healthcheck = { test",
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "`unready` is starting and no probe has failed",
        "[services.unready]",
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "`again` exited and was restarted 1 time(s)",
        "[services.again]",
    );
    // A 503 can turn 200: shown as a suspicion while the engine still gave it time, failed on
    // the engine's verdict, not on its first two probes.
    let suspected = run
        .stdout
        .find("busy: starting, suspect: answers 503 on /health")
        .unwrap_or_else(|| panic!("the suspicion was not shown:\n{run}"));
    let failed = run
        .stdout
        .find("busy: unhealthy")
        .unwrap_or_else(|| panic!("the engine's verdict was not shown:\n{run}"));
    assert!(suspected < failed, "{run}");
    assert!(
        !run.stdout.contains("busy: failing"),
        "failed early:\n{run}"
    );
    let _ = stack;
}

/// Compose cannot start a container whose host port something else holds: `up` says what
/// Compose said; `doctor` names the container created and never started, and, once the project
/// is down, the one that has no container.
pub fn compose_refuses(engine: &Engine) {
    let catalogue = r#"
[project]
name = "livetaken"

[services.first]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
ports = ["18080:8000"]
"#;
    // Held by this test, outside the stack: no check of the catalogue can know.
    let _taken = std::net::TcpListener::bind("0.0.0.0:18080").expect("port 18080 is free");
    let mut stack = Stack::new(engine, &[("services.toml", catalogue)]);
    let run = muster(engine, &mut stack, &["up", "--timeout", "60s"]);
    assert_eq!(run.code, 6, "{run}");
    assert!(run.stderr.contains("address already in use"), "{run}");
    let doctor = muster(engine, &mut stack, &["doctor", "first"]);
    assert_eq!(doctor.code, 4, "{doctor}");
    assert!(
        doctor
            .stderr
            .contains("`first` was created but never started"),
        "{doctor}"
    );
    down(&stack);
    let doctor = muster(engine, &mut stack, &["doctor", "first"]);
    assert_eq!(doctor.code, 4, "{doctor}");
    assert!(
        doctor.stderr.contains("`first` has no container"),
        "{doctor}"
    );
}

// ---------------------------------------------------------------- the board on a terminal

/// `muster up` in a real terminal (tmux, 110 columns): the board is redrawn in place, so every
/// screen shows it once, never a scroll of old boards, and the last screen is the final board.
pub fn terminal_board(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "liveterm"

[services.redis]
kind = "cache"
image = "redis:7.4"
{FAST}

[services.api]
kind = "http"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 3; exec python -m http.server 8000"]
health_path = "/"
depends_on = ["redis"]
{FAST}
"#
    );
    let mut stack = Stack::new(engine, &[("services.toml", &catalogue)]);
    stack.started();
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", "muster-live-test"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux runs (apt-get install tmux): {e}"))
    };
    let path = std::env::var("PATH").unwrap_or_default();
    let script = format!(
        "cd {} && env DOCKER_HOST={} PATH={}:{path} {} up; echo \"muster-rc=$?\"; sleep 60",
        stack.shop().display(),
        engine.host(),
        engine.bin().display(),
        env!("CARGO_BIN_EXE_muster"),
    );
    let _ = tmux(&["kill-server"]);
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        "board",
        "-x",
        "110",
        "-y",
        "30",
        &script,
    ]);
    assert!(started.status.success(), "{started:?}");
    let mut screens: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let shot = tmux(&["capture-pane", "-p", "-t", "board"]);
        let screen = String::from_utf8_lossy(&shot.stdout).into_owned();
        let done = screen.contains("muster-rc=");
        if screens.last() != Some(&screen) {
            screens.push(screen);
        }
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = tmux(&["kill-server"]);
    let last = screens.last().cloned().unwrap_or_default();
    assert!(last.contains("muster-rc=0"), "{last}");
    for screen in &screens {
        assert!(
            screen.matches("liveterm (profile dev)").count() <= 1,
            "a board scrolled instead of being redrawn:\n{screen}"
        );
    }
    let moving = screens
        .iter()
        .filter(|s| s.contains("starting") || s.contains("created"))
        .count();
    assert!(
        moving >= 2,
        "the board was not seen changing in place: {} screens",
        screens.len()
    );
    assert!(
        last.contains("liveterm (profile dev): 2 of 2 ready"),
        "{last}"
    );
    for service in ["redis", "api"] {
        assert!(
            last.lines()
                .any(|l| l.trim_start().starts_with(service) && l.contains("healthy")),
            "{last}"
        );
    }
    let board: Vec<&str> = last.lines().filter(|l| !l.trim().is_empty()).collect();
    eprintln!(
        "  {} distinct screens; the last:\n    {}",
        screens.len(),
        board.join("\n    ")
    );
    if let Some(mid) = screens.iter().find(|s| s.contains("starting")) {
        let mid: Vec<&str> = mid.lines().filter(|l| !l.trim().is_empty()).collect();
        eprintln!("  one on the way:\n    {}", mid.join("\n    "));
    }
}

// ---------------------------------------------------------------- timeouts and kills

/// A probe slower than its timeout: the engine stops it and logs that it exceeded it; doctor
/// times the probe by hand against the same timeout.
pub fn probe_timeout(engine: &Engine) {
    let catalogue = r#"
[project]
name = "livetimeout"

[services.api]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
healthcheck = { test = ["CMD", "python", "-c", "import time; time.sleep(3)"], interval = "3s", timeout = "1s", retries = 2, start_period = "1s", start_interval = "1s" }
"#;
    let catalogue = &format!("{catalogue}{SIDE}");
    let (mut stack, run) = up_broken(engine, &[("services.toml", catalogue)]);
    named_within(&stack, &run, "api", "does not answer within its timeout");
    assert_diagnosed(
        &run,
        catalogue,
        "does not answer within its timeout of 1s: the engine stopped it",
        "timeout = \"1s\"",
    );
    side_healthy(&stack, &run);
    let doctor = muster(engine, &mut stack, &["doctor", "api"]);
    assert_eq!(doctor.code, 4, "{doctor}");
    // About 3 s, the probe's own sleep, against the 1 s the engine allows.
    assert!(doctor.stdout.contains("exit 0 after 3"), "{doctor}");
    assert!(doctor.stdout.contains("(timeout 1s): too slow"), "{doctor}");
    assert!(doctor.stderr.contains("run now, it took 3"), "{doctor}");
}

/// A process killed with SIGKILL, as the OOM killer does: exit 137.
pub fn killed(engine: &Engine) {
    let catalogue = r#"
[project]
name = "livekill"

[services.worker]
kind = "http"
image = "python:3.12-slim"
command = ["sh", "-c", "sleep 30 & kill -9 $$!; wait $$!"]
restart = "no"
"#;
    let catalogue = &format!("{catalogue}{SIDE}");
    let (stack, run) = up_broken(engine, &[("services.toml", catalogue)]);
    named_within(&stack, &run, "worker", "exited 137");
    assert_diagnosed(&run, catalogue, "exited 137", "[services.worker]");
    assert!(run.stderr.contains("OOM"), "{run}");
    side_healthy(&stack, &run);
}
