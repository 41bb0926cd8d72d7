//! The images teams really run, probed with what each holds: services built FROM node:20-alpine
//! (busybox wget), from a multi-stage Go build ending in distroless static (no shell, no client),
//! FROM ruby:3.3-slim (bash, no client), and a published image muster has no row for
//! (traefik/whoami, FROM scratch). Each entry says only `kind`, `build` or `image`, `port` and
//! `health_path`; `muster images` reads the images into muster.lock, and the file gen writes from
//! it comes up healthy, turns unhealthy where the apps answer 500, and `check` notices a rebuild.

use super::harness::{Engine, Stack, health, run, stdout, wait_for};
use super::live::muster;
use std::collections::BTreeSet;
use std::time::Duration;

/// The four services; `health_path` is the one their own apps serve, or `/broken` (500).
fn catalogue(broken: bool) -> String {
    let path = if broken { "/broken" } else { "/healthz" };
    format!(
        r#"[project]
name = "probed"
requires = {{ engine = "26.1" }}   # Engine 26: no image mounts, so the mounted probe's installer

[services.web]                     # FROM node:20-alpine
kind = "http"
build = "../probed/web"
port = 3000
health_path = "{path}"

[services.api]                     # FROM golang AS build, then FROM gcr.io/distroless/static
kind = "http"
build = "../probed/api"
port = 8080
health_path = "{path}"

[services.orders]                  # FROM ruby:3.3-slim
kind = "http"
build = "../probed/orders"
port = 4567
health_path = "{path}"

[services.whoami]                  # a published image muster has no row for
kind = "http"
image = "traefik/whoami:v1.10.3"
port = 80
health_path = "/health"
"#
    )
}

/// Probes every second, unhealthy after two failures: each step takes seconds, not minutes.
const FAST: &str = r#"extends = "dev"

[defaults]
healthcheck = { interval = "2s", timeout = "2s", retries = 2, start_period = "2s", start_interval = "1s" }
"#;

pub fn images_are_read_and_probed_with_what_they_hold(engine: &Engine) {
    engine.build_dockerfile_images();
    let mut stack = Stack::new(
        engine,
        &[
            ("services.toml", &catalogue(false)),
            ("profiles/fast.toml", FAST),
        ],
    );
    // The builds, from a first file: Compose builds what the catalogue names, whatever it probes.
    stack.generate(&["gen", "--profile", "fast"], "docker-compose.yml");
    run(stack.compose().args(["build", "--quiet"]));

    // muster images: the lock file says what each image holds.
    let images = muster(engine, &mut stack, &["images", "--profile", "fast"]);
    assert_eq!(images.code, 0, "{images}");
    let text = std::fs::read_to_string(stack.shop().join("muster.lock")).unwrap();
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let entry = |table: &str, key: &str| -> toml::Table {
        lock[table][key]
            .as_table()
            .unwrap_or_else(|| panic!("no [{table}.{key:?}] in muster.lock:\n{text}"))
            .clone()
    };
    let strings = |e: &toml::Table, key: &str| -> Vec<String> {
        e.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let subjects = [
        ("builds", "web", "probed-web"),
        ("builds", "api", "probed-api"),
        ("builds", "orders", "probed-orders"),
        ("images", "traefik/whoami:v1.10.3", "traefik/whoami:v1.10.3"),
    ];
    for (table, key, reference) in subjects {
        let e = entry(table, key);
        let id = stdout(
            engine
                .docker()
                .args(["image", "inspect", "--format", "{{.Id}}", reference]),
        );
        assert_eq!(e["id"].as_str(), Some(id.trim()), "{reference}");
        let locked: BTreeSet<String> = strings(&e, "programs").into_iter().collect();
        let held = programs_held(engine, reference);
        assert_eq!(
            locked, held,
            "{reference}: muster.lock says {locked:?}, the image holds {held:?}"
        );
        eprintln!("  {reference}: {locked:?}, as the image holds");
    }
    let web = entry("builds", "web");
    assert!(strings(&web, "programs").contains(&"wget".to_owned()));
    for absent in ["curl", "bash", "python", "python3"] {
        assert!(!strings(&web, "programs").contains(&absent.to_owned()));
    }
    assert_eq!(web["user"].as_str(), Some("node"));
    let api = entry("builds", "api");
    assert!(strings(&api, "programs").is_empty(), "{api:?}");
    assert_eq!(api["user"].as_str(), Some("nonroot:nonroot"));
    assert_eq!(api["exposed"].as_array().map(Vec::len), Some(1));
    let orders = strings(&entry("builds", "orders"), "programs");
    assert!(orders.contains(&"bash".to_owned()), "{orders:?}");
    let whoami = entry("images", "traefik/whoami:v1.10.3");
    assert!(strings(&whoami, "programs").is_empty());
    assert_eq!(strings(&whoami, "entrypoint"), ["/whoami"]);

    // gen prefers the lock: each service gets the client its image has, and none a python probe.
    stack.generate(&["gen", "--profile", "fast"], "docker-compose.yml");
    let file = std::fs::read_to_string(&stack.file).unwrap();
    assert!(!file.contains("python"), "{file}");
    let compose: yaml_serde::Value = yaml_serde::from_str(&file).unwrap();
    let program = |service: &str| {
        compose["services"][service]["healthcheck"]["test"][1]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mounted = muster::mounted_probe::PROGRAM;
    assert_eq!(program("web"), "wget");
    assert_eq!(program("api"), mounted);
    assert_eq!(program("orders"), "bash");
    assert_eq!(program("whoami"), mounted);

    // The file as it is, on the engine: every service healthy, the installer done first.
    stack.up_healthy();
    for service in ["web", "api", "orders", "whoami"] {
        let c = stack.container(service);
        assert_eq!(health(&c), "healthy", "{service}\n{}", stack.describe());
    }
    let installer = stack.container("muster-probe");
    assert_eq!(installer["State"]["ExitCode"], 0, "{}", stack.describe());
    let finished = timestamp(&installer["State"]["FinishedAt"]);
    for service in ["api", "whoami"] {
        let started = timestamp(&stack.container(service)["State"]["StartedAt"]);
        assert!(
            started >= finished,
            "{service} started before the installer had copied the client"
        );
    }
    eprintln!(
        "  web (wget), api (mounted), orders (bash), whoami (mounted): healthy; the installer \
         exited 0 {:.1}s before api started",
        timestamp(&stack.container("api")["State"]["StartedAt"]) - finished
    );
    let check = muster(engine, &mut stack, &["check", "--profile", "fast"]);
    assert_eq!(check.code, 0, "{check}");
    assert!(
        check.stderr.contains("muster.lock: 4 of 4 images as read"),
        "{check}"
    );

    // The apps answer 500: each probe says so, and the service turns unhealthy.
    std::fs::write(stack.shop().join("services.toml"), catalogue(true)).unwrap();
    stack.generate(&["gen", "--profile", "fast"], "docker-compose.yml");
    let up = stack.up();
    assert!(
        !up.status.success(),
        "up --wait passed with apps answering 500"
    );
    for service in ["web", "api", "orders"] {
        let c = wait_for(
            &format!("{service}, answering 500, turns unhealthy"),
            Duration::from_secs(60),
            || Some(stack.container(service)).filter(|c| health(c) == "unhealthy"),
            || stack.describe(),
        );
        let log = c["State"]["Health"]["Log"].to_string();
        // busybox wget: "server returned error: HTTP/1.1 500"; bash: the status line is not 200.
        assert!(
            log.contains("500") || service == "orders",
            "{service}: {log}"
        );
    }
    assert_eq!(health(&stack.container("whoami")), "healthy");
    eprintln!("  /broken (500): web, api and orders unhealthy; whoami healthy");

    // A rebuilt image: the lock is stale, and check says so at its entry.
    let server = stack.shop().join("../probed/web/server.js");
    let mut source = std::fs::read_to_string(&server).unwrap();
    source.push_str("// rebuilt\n");
    std::fs::write(&server, source).unwrap();
    run(stack.compose().args(["build", "--quiet", "web"]));
    let check = muster(engine, &mut stack, &["check", "--profile", "fast"]);
    assert_eq!(check.code, 0, "{check}");
    assert!(check.stderr.contains("warning[stale-lock]"), "{check}");
    assert!(check.stderr.contains("`probed-web`"), "{check}");
    assert!(check.stderr.contains("muster.lock:"), "{check}");
    let denied = muster(
        engine,
        &mut stack,
        &["check", "--profile", "fast", "--deny-warnings"],
    );
    assert_eq!(denied.code, 1, "{denied}");
    let again = muster(engine, &mut stack, &["images", "--profile", "fast"]);
    assert_eq!(again.code, 0, "{again}");
    let check = muster(engine, &mut stack, &["check", "--profile", "fast"]);
    assert!(!check.stderr.contains("stale-lock"), "{check}");
    eprintln!("  web rebuilt: check warns stale-lock; muster images again, and it is current");

    // The newest Compose and Engine's form, an image mount, is refused by this Engine 26.
    stack.generate(
        &[
            "gen",
            "--profile",
            "fast",
            "--requires",
            "compose=2.40,engine=28.0",
        ],
        "docker-compose.yml",
    );
    assert!(
        std::fs::read_to_string(&stack.file)
            .unwrap()
            .contains("type: image")
    );
    let up = stack.up();
    let said = String::from_utf8_lossy(&up.stderr);
    assert!(!up.status.success(), "Engine 26 ran an image mount");
    assert!(
        said.contains("volume with type=image require Docker Engine v28 or later"),
        "{said}"
    );
    eprintln!("  the image mount on Engine 26: refused by Compose, as the version table says");
}

/// Which of the programs muster looks for the image holds, asked another way than muster asks:
/// `command -v` in a container of it where it has a shell, else GNU tar's listing of its files.
fn programs_held(engine: &Engine, reference: &str) -> BTreeSet<String> {
    let wanted = muster::images::probe_programs();
    let script = format!(
        "for p in {}; do command -v \"$p\" >/dev/null 2>&1 && echo \"$p\"; done; true",
        wanted.join(" ")
    );
    let ran = engine
        .docker()
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "sh",
            reference,
            "-c",
        ])
        .arg(&script)
        .output()
        .expect("docker runs");
    if ran.status.success() {
        return String::from_utf8_lossy(&ran.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
    }
    // No shell: list the files, and no name muster looks for may be among them anywhere.
    let id = stdout(
        engine
            .docker()
            .args(["create", "--entrypoint", "/none", reference]),
    );
    let id = id.trim();
    let mut export = engine
        .docker()
        .args(["export", id])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docker export runs");
    let listing = std::process::Command::new("tar")
        .arg("-t")
        .stdin(export.stdout.take().expect("piped"))
        .output()
        .expect("tar runs");
    assert!(
        export.wait().unwrap().success(),
        "docker export {id} failed"
    );
    run(engine.docker().args(["rm", "-f", id]));
    let names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(|l| {
            l.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(!names.is_empty(), "{reference}: an empty listing");
    wanted
        .iter()
        .filter(|w| names.iter().any(|n| n == *w))
        .map(|w| (*w).to_owned())
        .collect()
}

fn timestamp(value: &serde_json::Value) -> f64 {
    muster::live::engine::timestamp(value.as_str().unwrap_or_default())
        .expect("an engine timestamp")
}
