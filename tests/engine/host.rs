//! The stack's host on the engine: `muster up` of a catalogue in a sibling folder of the file
//! it writes, whose build context, env file, bind mount and secret file are all relative paths.
//! Rebased, each names what it named from the catalogue: the image builds from the context, the
//! probe passes only because the bind mount serves the catalogue's folder (a wrong source would
//! be an empty folder the engine made), and the container holds the env file's variable and the
//! secret's text.

use super::harness::{Engine, Stack};
use super::live::muster;

/// The catalogue, in `app/` beside the stack's `shop/`, where the file is written.
const CATALOGUE: &str = r#"[project]
name = "rebased"

[services.web]
kind = "http"
build = "./web"
port = 8000
command = ["python", "-m", "http.server", "8000", "--directory", "/srv/static"]
env = { GREETING = "${GREETING:?set GREETING in .env}" }
env_file = ["./web.env"]
volumes = ["./static:/srv/static:ro"]
healthcheck = { interval = "2s", start_period = "10s", start_interval = "1s" }
compose = { secrets = ["token"] }

[secrets.token]
file = "./secrets/token.txt"
"#;

pub fn rebased_stack_builds_and_runs(engine: &Engine) {
    let mut stack = Stack::new(
        engine,
        &[
            ("../app/services.toml", CATALOGUE),
            ("../app/web/Dockerfile", "FROM python:3.12-slim\n"),
            (
                "../app/web.env",
                "FROM_ENV_FILE=read through ../app/web.env\n",
            ),
            ("../app/static/health/live", "ok\n"),
            ("../app/secrets/token.txt", "the secret's text\n"),
            // The `.env` Compose reads is the one beside the file it runs.
            (".env", "GREETING=hello\n"),
        ],
    );
    let run = muster(
        engine,
        &mut stack,
        &[
            "up",
            "-c",
            "../app/services.toml",
            "-o",
            "docker-compose.yml",
            "--build",
            "--timeout",
            "3m",
        ],
    );
    assert_eq!(run.code, 0, "{run}\n{}", stack.describe());
    let file = std::fs::read_to_string(&stack.file).unwrap();
    for rebased in [
        "build: ../app/web",
        "- ../app/web.env",
        "- ../app/static:/srv/static:ro",
        "file: ../app/secrets/token.txt",
    ] {
        assert!(file.contains(rebased), "{rebased} not in:\n{file}");
    }
    let web = stack.container("web");
    assert_eq!(web["State"]["Health"]["Status"], "healthy", "{web}");
    let env: Vec<&str> = web["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        env.contains(&"FROM_ENV_FILE=read through ../app/web.env"),
        "{env:?}"
    );
    assert!(env.contains(&"GREETING=hello"), "{env:?}");
    let id = web["Id"].as_str().unwrap();
    let secret = engine
        .docker()
        .args(["exec", id, "cat", "/run/secrets/token"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&secret.stdout),
        "the secret's text\n",
        "{}",
        String::from_utf8_lossy(&secret.stderr)
    );

    // The same stack with the variable missing is refused before Compose is called.
    std::fs::write(stack.shop().join(".env"), "").unwrap();
    let refused = muster(
        engine,
        &mut stack,
        &[
            "up",
            "-c",
            "../app/services.toml",
            "-o",
            "docker-compose.yml",
        ],
    );
    assert_eq!(refused.code, 1, "{refused}");
    assert!(
        refused
            .stderr
            .contains("required variable `GREETING` has no value"),
        "{refused}"
    );
}
