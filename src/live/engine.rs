//! The engine, reached through the user's own `docker` CLI and its JSON output.
//!
//! The CLI, not an Engine API client: it already knows every way the user reaches an engine
//! (`DOCKER_HOST`, `DOCKER_CONTEXT` and the current context, `ssh://` hosts through its
//! connection helper, TLS settings), and `docker compose up` has to run through it anyway, as
//! Compose has no API of its own. One tool for both means `up`, `status` and `doctor` talk to
//! the very engine the user's `docker ps` shows.

use serde::Deserialize;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What went wrong reaching the engine.
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Engine {
    docker: String,
    /// `docker compose` when the CLI has the plugin, else the standalone `docker-compose`.
    compose: Vec<String>,
}

impl Engine {
    /// The `docker` on PATH, as the user's shell would run it.
    pub fn new() -> Engine {
        Engine {
            docker: "docker".to_owned(),
            compose: Vec::new(),
        }
    }

    /// Finds Compose once, for `up`: the plugin first, as `docker compose` is what users type.
    pub fn with_compose(mut self) -> Result<Engine, EngineError> {
        let plugin = Command::new(&self.docker)
            .args(["compose", "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        self.compose = if plugin {
            vec![self.docker.clone(), "compose".to_owned()]
        } else if Command::new("docker-compose")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            vec!["docker-compose".to_owned()]
        } else {
            return Err(EngineError(
                "neither `docker compose` nor `docker-compose` runs: install Docker Compose v2"
                    .to_owned(),
            ));
        };
        Ok(self)
    }

    fn docker(&self) -> Command {
        Command::new(&self.docker)
    }

    fn output(&self, mut command: Command) -> Result<Output, EngineError> {
        let shown = format!("{command:?}");
        command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| EngineError(format!("cannot run {shown}: {e}")))
    }

    /// Every container of the Compose project, stopped ones included.
    pub fn containers(&self, project: &str) -> Result<Vec<Container>, EngineError> {
        let mut ps = self.docker();
        ps.args(["ps", "-aq", "--no-trunc", "--filter"])
            .arg(format!("label=com.docker.compose.project={project}"));
        let out = self.output(ps)?;
        if !out.status.success() {
            return Err(EngineError(format!(
                "cannot list containers: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut inspect = self.docker();
        inspect.arg("inspect").args(&ids);
        // A container removed between `ps` and `inspect` makes inspect fail for all; what
        // it printed for the others is still good.
        let out = self.output(inspect)?;
        let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        Ok(all.into_iter().filter_map(Container::from_json).collect())
    }

    /// Runs `argv` in the running container, as its user, for at most `limit`.
    pub fn exec(&self, id: &str, argv: &[String], limit: Duration) -> Result<Ran, EngineError> {
        let mut exec = self.docker();
        exec.args(["exec", id]).args(argv);
        run_for(exec, limit)
    }

    /// `docker events` of the project's containers, as JSON lines: what both readers ask.
    fn container_events(&self, project: &str) -> Command {
        let mut events = self.docker();
        events
            .args(["events", "--format", "{{json .}}", "--filter", "type=container"])
            .arg("--filter")
            .arg(format!("label=com.docker.compose.project={project}"));
        events
    }

    /// `docker events` for the project's containers, streamed as JSON lines from now on: an
    /// engine answers a later `--since` from its last 256 events only, which the probes of a
    /// stack fill in a minute.
    pub fn events(&self, project: &str) -> Result<Child, EngineError> {
        let mut events = self.container_events(project);
        events
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        events
            .spawn()
            .map_err(|e| EngineError(format!("cannot run docker events: {e}")))
    }

    /// The project's container events between two moments (seconds since the epoch), as far
    /// as the engine still holds them: its last 256.
    pub fn events_between(
        &self,
        project: &str,
        since: f64,
        until: f64,
    ) -> Result<String, EngineError> {
        let mut events = self.container_events(project);
        events
            .args([
                "--since",
                &format!("{since:.3}"),
                "--until",
                &format!("{until:.3}"),
            ]);
        let out = self.output(events)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `docker compose -f FILE ARGS`, run to its end: `down` between `tune`'s runs.
    pub fn compose(&self, file: &Path, args: &[&str]) -> Result<Output, EngineError> {
        let (program, pre) = self
            .compose
            .split_first()
            .expect("with_compose found Compose");
        let mut command = Command::new(program);
        command.args(pre).arg("-f").arg(file).args(args);
        self.output(command)
    }

    /// `docker compose -f FILE up -d ARGS`, started, not waited for: Compose waits for each
    /// dependency's condition before starting its dependents, so it runs while the board does.
    /// `env_files` are given to Compose as `--env-file`; none leaves it the `.env` beside
    /// `file`.
    pub fn compose_up(
        &self,
        file: &Path,
        env_files: &[std::path::PathBuf],
        args: &[String],
    ) -> Result<Child, EngineError> {
        let (program, pre) = self
            .compose
            .split_first()
            .expect("with_compose found Compose");
        let mut up = Command::new(program);
        up.args(pre);
        for env_file in env_files {
            up.arg("--env-file").arg(env_file);
        }
        up.arg("-f")
            .arg(file)
            .args(["up", "-d"])
            .args(args.iter().map(OsStr::new))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        up.spawn()
            .map_err(|e| EngineError(format!("cannot run {program}: {e}")))
    }
}

/// What became of a `docker image inspect`.
#[derive(Debug)]
pub enum Inspected {
    Found(Box<Image>),
    /// The engine holds no image of that reference.
    Missing,
}

impl Engine {
    /// The image the engine holds under `reference` (a name or an ID).
    pub fn image(&self, reference: &str) -> Result<Inspected, EngineError> {
        let mut inspect = self.docker();
        inspect.args(["image", "inspect", "--"]).arg(reference);
        let out = self.output(inspect)?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            // "Error: No such image: x" (CLI 28), "Error response from daemon: No such image".
            if said.to_lowercase().contains("no such image") {
                return Ok(Inspected::Missing);
            }
            return Err(EngineError(format!(
                "cannot inspect image `{reference}`: {}",
                said.trim()
            )));
        }
        let mut found: Vec<Image> = serde_json::from_slice(&out.stdout).map_err(|e| {
            EngineError(format!(
                "cannot read `docker image inspect {reference}`: {e}"
            ))
        })?;
        match found.pop() {
            Some(image) => Ok(Inspected::Found(Box::new(image))),
            None => Ok(Inspected::Missing),
        }
    }

    /// Hands the image's file system, as the tar stream of `docker export`, to `read`. The image
    /// is never run: a container is created from it (with an entrypoint that does not exist, so
    /// that an image without a command can be created too), exported and removed.
    pub fn read_filesystem<T>(
        &self,
        image_id: &str,
        read: impl FnOnce(&mut dyn std::io::Read) -> std::io::Result<T>,
    ) -> Result<T, EngineError> {
        let mut create = self.docker();
        create
            .args(["create", "--pull", "never", "--network", "none"])
            .args(["--label", "muster.images=read", "--entrypoint"])
            .arg("/muster-reads-this-image-without-running-it")
            .arg(image_id);
        let out = self.output(create)?;
        if !out.status.success() {
            return Err(EngineError(format!(
                "cannot create a container of {image_id} to read its files: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let container = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let result = self.export(&container, read);
        let mut remove = self.docker();
        remove.args(["rm", "-f", &container]);
        let removed = self.output(remove);
        let read = result?;
        match removed {
            Ok(out) if out.status.success() => Ok(read),
            Ok(out) => Err(EngineError(format!(
                "cannot remove container {container}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
            Err(e) => Err(e),
        }
    }

    fn export<T>(
        &self,
        container: &str,
        read: impl FnOnce(&mut dyn std::io::Read) -> std::io::Result<T>,
    ) -> Result<T, EngineError> {
        let mut export = self.docker();
        export
            .args(["export", container])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = export
            .spawn()
            .map_err(|e| EngineError(format!("cannot run docker export: {e}")))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let errors = std::thread::spawn(move || read_all(&mut stderr));
        let read = read(&mut stdout);
        // A reader that stopped early must not leave export blocked on a full pipe.
        if read.is_err() {
            let _ = child.kill();
        }
        drop(stdout);
        let status = child
            .wait()
            .map_err(|e| EngineError(format!("docker export: {e}")))?;
        let said = errors.join().unwrap_or_default();
        match read {
            Ok(value) if status.success() => Ok(value),
            Ok(_) => Err(EngineError(format!(
                "docker export {container} failed: {}",
                said.trim()
            ))),
            Err(e) => Err(EngineError(format!(
                "cannot read the files of container {container}: {e}"
            ))),
        }
    }
}

/// The parts of `docker image inspect` the lock file records.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    pub id: String,
    #[serde(default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<ImageConfig>,
}

/// An image's configuration: what its Dockerfile's `USER`, `ENV`, `ENTRYPOINT`, `CMD`,
/// `EXPOSE`, `HEALTHCHECK` and `SHELL` left.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub healthcheck: Option<HealthConfig>,
    #[serde(default)]
    pub shell: Option<Vec<String>>,
}

impl super::evidence::Look for Engine {
    fn logs(&self, id: &str, lines: usize, until: Option<&str>) -> Vec<String> {
        let mut logs = self.docker();
        logs.arg("logs");
        if let Some(until) = until {
            logs.args(["--until", until]);
        }
        logs.args(["--tail", &lines.to_string(), id]);
        match self.output(logs) {
            Ok(out) => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                text.lines().map(str::to_owned).collect()
            }
            Err(_) => Vec::new(),
        }
    }

    fn exec(&self, id: &str, argv: &[String], limit: Duration) -> Result<Ran, EngineError> {
        Engine::exec(self, id, argv, limit)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// What a command in a container did.
#[derive(Debug, Clone)]
pub struct Ran {
    pub output: String,
    /// `None` when it did not finish within its limit.
    pub exit: Option<i32>,
    pub took: Duration,
}

fn run_for(mut command: Command, limit: Duration) -> Result<Ran, EngineError> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EngineError(format!("cannot run {shown}: {e}")))?;
    let started = Instant::now();
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let readers = (
        std::thread::spawn(move || read_all(&mut stdout)),
        std::thread::spawn(move || read_all(&mut stderr)),
    );
    let exit = loop {
        if let Some(status) = child.try_wait().map_err(|e| EngineError(e.to_string()))? {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let mut output = readers.0.join().unwrap_or_default();
    output.push_str(&readers.1.join().unwrap_or_default());
    Ok(Ran { output, exit, took })
}

fn read_all(r: &mut impl std::io::Read) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The parts of `docker inspect` the board and the diagnoses read, and the whole of it, which
/// recorded evidence keeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    #[serde(skip)]
    pub raw: serde_json::Value,
    pub id: String,
    #[serde(default)]
    pub created: String,
    pub state: State,
    #[serde(default)]
    pub restart_count: u32,
    pub config: Config,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub status: String,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(rename = "OOMKilled", default)]
    pub oom_killed: bool,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: String,
    pub health: Option<Health>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    #[serde(default)]
    pub failing_streak: u32,
    #[serde(default)]
    pub log: Vec<Probe>,
}

/// One probe the engine ran, from its health log (the last five are kept).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Probe {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    #[serde(default)]
    pub output: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    #[serde(default)]
    pub labels: std::collections::HashMap<String, String>,
    pub healthcheck: Option<HealthConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    #[serde(default)]
    pub test: Vec<String>,
}

impl Container {
    /// One container of `docker inspect`'s list; `None` for JSON that is not one.
    pub fn from_json(raw: serde_json::Value) -> Option<Container> {
        let mut c: Container = serde_json::from_value(raw.clone()).ok()?;
        c.raw = raw;
        Some(c)
    }

    pub fn service(&self) -> &str {
        self.config
            .labels
            .get("com.docker.compose.service")
            .map_or("", String::as_str)
    }

    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }
}

impl Probe {
    /// How long the probe ran.
    pub fn took(&self) -> Option<Duration> {
        let (start, end) = (timestamp(&self.start)?, timestamp(&self.end)?);
        Some(Duration::from_secs_f64((end - start).max(0.0)))
    }
}

/// Seconds since the epoch of one of the engine's RFC 3339 timestamps (always UTC, `Z`);
/// `None` for the zero time it gives a container that never started.
pub fn timestamp(text: &str) -> Option<f64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if y <= 1 {
        return None;
    }
    let time = time.trim_end_matches('Z');
    let (time, offset) = match time.rfind(['+', '-']) {
        Some(i) if i >= 8 => {
            let (t, o) = time.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            (
                t,
                sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
            )
        }
        _ => (time, 0),
    };
    let mut t = time.splitn(3, ':');
    let (h, min, s) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60 - offset) as f64 + s)
}

/// Seconds since the epoch, now.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timestamps_are_read_to_the_nanosecond() {
        assert_eq!(timestamp("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(timestamp("2026-12-01T18:10:00Z"), Some(1_796_148_600.0));
        let t = timestamp("2026-12-01T18:10:00.250000000Z").unwrap();
        assert!((t - 1_796_148_600.25).abs() < 1e-6);
        assert_eq!(
            timestamp("2026-12-01T19:10:00+01:00"),
            Some(1_796_148_600.0)
        );
        assert_eq!(timestamp("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn a_run_past_its_limit_is_stopped_and_says_so() {
        let mut sleep = Command::new("sleep");
        sleep.arg("5");
        let ran = run_for(sleep, Duration::from_millis(200)).unwrap();
        assert_eq!(ran.exit, None);
        assert!(ran.took < Duration::from_secs(2));
        let ran = run_for(Command::new("true"), Duration::from_secs(5)).unwrap();
        assert_eq!(ran.exit, Some(0));
    }
}
