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
    command.args(args);
    let started = Instant::now();
    let out = command.output().expect("muster runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
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

pub fn muster_command(engine: &Engine, stack: &Stack) -> Command {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
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

/// A catalogue with a fast timing: probes every 2 s, unhealthy after 2 failures.
const FAST: &str = r#"healthcheck = { interval = "2s", timeout = "1s", retries = 2, start_period = "2s", start_interval = "1s" }"#;

fn up_broken<'e>(engine: &'e Engine, files: &[(&str, &str)]) -> (Stack<'e>, Run) {
    let mut stack = Stack::new(engine, files);
    // stdout is a pipe here: the plain form, one line per change.
    let run = muster(engine, &mut stack, &["up", "--timeout", "120s"]);
    assert!(
        run.stdout.lines().any(|l| l.contains("s  ")
            && (l.ends_with(": unhealthy") || l.ends_with(": failing"))
            || l.contains(": exited")
            || l.contains(": restarting")),
        "no change line in the plain form:\n{run}"
    );
    (stack, run)
}

// ---------------------------------------------------------------- the ecommerce example

pub fn ecommerce_up(engine: &Engine) {
    let mut stack = Stack::new(engine, &[]);
    let catalogue = repo().join("examples/ecommerce/services.toml");
    let catalogue = catalogue.to_str().unwrap();
    let run = muster(
        engine,
        &mut stack,
        &[
            "up",
            "-c",
            catalogue,
            "--profile",
            "prod",
            "-o",
            "docker-compose.yml",
            "--build",
        ],
    );
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

    let status = muster(
        engine,
        &mut stack,
        &[
            "status",
            "-c",
            catalogue,
            "-o",
            "docker-compose.yml",
            "--json",
        ],
    );
    assert_eq!(status.code, 0, "{status}");
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(json["verdict"], "done", "{status}");
    assert_eq!(json["diagnoses"], serde_json::json!([]));

    let doctor = muster(
        engine,
        &mut stack,
        &[
            "doctor",
            "backend",
            "-c",
            catalogue,
            "-o",
            "docker-compose.yml",
        ],
    );
    assert_eq!(doctor.code, 0, "{doctor}");
    assert!(doctor.stdout.contains("exit 0 after"), "{doctor}");
    assert!(doctor.stdout.contains("passed"), "{doctor}");
}

// ---------------------------------------------------------------- broken catalogues

/// An image built FROM nginx: muster cannot know its tools and assumes python-slim, whose
/// `python` this image lacks; the container has curl.
pub fn probe_tool_missing(engine: &Engine) {
    let catalogue = format!(
        r#"
[project]
name = "livetool"

[services.web]
kind = "http"
build = "web"
port = 80
health_path = "/"
{FAST}
"#
    );
    let (_stack, run) = up_broken(
        engine,
        &[
            ("services.toml", &catalogue),
            ("web/Dockerfile", "FROM nginx:1.27\n"),
        ],
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "runs `python`, which its image does not have",
        "[services.web]",
    );
    assert!(run.stderr.contains("probe = \"curl\""), "{run}");
    // Failed as soon as two probes said so, without waiting out the engine's retries: more
    // start time cannot bring a program into the image.
    assert_eq!(
        final_state(&run, "web").split_whitespace().next(),
        Some("failing")
    );
}

/// `port` says 8000, the server listens on 8080.
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
{FAST}
"#
    );
    let (mut stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    assert_diagnosed(
        &run,
        &catalogue,
        "but the service listens on 8080",
        "port = 8000",
    );

    // The probe by hand says the same, with its exit code and time against the timeout.
    let doctor = muster(engine, &mut stack, &["doctor", "api"]);
    assert_eq!(doctor.code, 4, "{doctor}");
    assert!(doctor.stdout.contains("(timeout 1s)"), "{doctor}");
    assert!(doctor.stderr.contains("listens on 8080"), "{doctor}");

    let status = muster(engine, &mut stack, &["status", "--json"]);
    assert_eq!(status.code, 4, "{status}");
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(json["verdict"], "failed");
    assert_eq!(json["services"][0]["state"], "unhealthy");
    assert_eq!(json["diagnoses"][0]["cause"], "wrong-port");
    assert_eq!(
        json["diagnoses"][0]["line"],
        line_of(&catalogue, "port = 8000")
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
    assert_eq!(json["services"][0]["state"], "unhealthy", "{out:?}");
    eprintln!("  status through the current docker context: api unhealthy");
}

/// A server that takes 25 s to listen, with a start_period of 2 s.
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
    let (_stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    assert_diagnosed(
        &run,
        &catalogue,
        "starts slower than start_period allows",
        "healthcheck = {",
    );
    assert!(run.stderr.contains("connection refused"), "{run}");
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
{FAST}

[services.worker]
kind = "http"
image = "python:3.12-slim"
command = "python -m http.server 8000"
health_path = "/"
depends_on = ["redis"]
"#
    );
    let (_stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    assert_diagnosed(&run, &catalogue, "NOAUTH", "env = { REDIS_PASSWORD");
    assert!(run.stderr.contains("REDISCLI_AUTH"), "{run}");
    assert_diagnosed(
        &run,
        &catalogue,
        "`worker` never started",
        "depends_on = [\"redis\"]",
    );
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
{FAST}
"#
    );
    let (_stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
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
{FAST}
"#
    );
    let nginx = "server {\n  listen 80;\n  location /admin { return 302 /accounts/login/?next=/admin; }\n  location / { return 200 'ok'; }\n}\n";
    let (_stack, run) = up_broken(
        engine,
        &[("services.toml", &catalogue), ("redirect.conf", nginx)],
    );
    assert_diagnosed(
        &run,
        &catalogue,
        "with a redirect",
        "health_path = \"/admin\"",
    );
    assert!(run.stderr.contains("login page"), "{run}");
}

/// A migrations job that fails: its dependents never start, and their diagnosis leads to it.
pub fn job_fails(engine: &Engine) {
    let catalogue = r#"
[project]
name = "livejob"

[services.migrate]
kind = "job"
image = "python:3.12-slim"
command = ["python", "-c", "import sys; print('database connection failed: could not connect to server'); sys.exit(3)"]

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
"#;
    let (_stack, run) = up_broken(engine, &[("services.toml", catalogue)]);
    assert_diagnosed(
        &run,
        catalogue,
        "`migrate` exited 3",
        "command = [\"python\"",
    );
    assert!(run.stderr.contains("so `api`, `web` never start"), "{run}");
    assert!(run.stderr.contains("check `depends_on`"), "{run}");
    assert_diagnosed(
        &run,
        catalogue,
        "`api` never started",
        "depends_on = [\"migrate\"]",
    );
    assert_diagnosed(
        &run,
        catalogue,
        "`web` never started",
        "depends_on = [\"api\"]",
    );
    assert!(run.stderr.contains("web -> api -> migrate"), "{run}");
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
{FAST}
"#
    );
    let (_stack, run) = up_broken(engine, &[("services.toml", &catalogue)]);
    assert_diagnosed(
        &run,
        &catalogue,
        "restarting in a loop",
        "command = [\"python\"",
    );
    assert!(run.stderr.contains("API_KEY is not set"), "{run}");
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
    let (mut stack, run) = up_broken(engine, &[("services.toml", catalogue)]);
    assert_diagnosed(
        &run,
        catalogue,
        "does not answer within its timeout of 1s: the engine stopped it",
        "timeout = \"1s\"",
    );
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
    let (_stack, run) = up_broken(engine, &[("services.toml", catalogue)]);
    assert_diagnosed(&run, catalogue, "exited 137", "[services.worker]");
    assert!(run.stderr.contains("OOM"), "{run}");
}
