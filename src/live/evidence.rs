//! The evidence a diagnosis decides from, gathered before any decision: the board (every
//! container as `docker inspect` showed it), and what muster asked the container of one service
//! (its logs, its listening sockets, its HTTP clients, its server's answer to a bare ping, where
//! a redirect points, its probe run again). Gathering goes through [`Look`], which the engine
//! implements; [`super::diagnose::decide`] then reads an [`Evidence`] and nothing else, so each
//! cause is tested over evidence recorded on a real engine (`tests/fixtures/live/`).

use super::board::{Board, Row, State};
use super::engine::{Container, EngineError, Ran};
use super::plan::Planned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a diagnosis may ask of a container besides its `docker inspect`.
pub(crate) trait Look {
    /// The container's last `lines` log lines, stdout and stderr together; with `until` (an
    /// engine timestamp), those written before it.
    fn logs(&self, id: &str, lines: usize, until: Option<&str>) -> Vec<String>;
    /// Runs `argv` in the running container for at most `limit`.
    fn exec(&self, id: &str, argv: &[String], limit: Duration) -> Result<Ran, EngineError>;
}

/// Everything a diagnosis of one service reads.
pub(crate) struct Evidence<'a> {
    pub board: &'a Board,
    pub row: &'a Row,
    pub looks: &'a Looks,
    /// When the evidence was gathered, seconds since the epoch: the engine's clock is this
    /// machine's, or a remote engine's within the clock skew of the two.
    pub now: f64,
}

/// With `MUSTER_RECORD_EVIDENCE=DIR`, each evidence a diagnosis is decided from is written to
/// `DIR/PROJECT-SERVICE-MILLIS.json`: the real engine's record, from which the unit tests'
/// fixtures (`tests/fixtures/live/`) are taken. Nothing is written otherwise.
pub(crate) fn record(plan: &super::plan::Plan, ev: &Evidence) {
    let Some(dir) = std::env::var_os("MUSTER_RECORD_EVIDENCE") else {
        return;
    };
    let value = serde_json::json!({
        "catalogue": plan.catalogue_text,
        "profile": plan.profile,
        "service": ev.row.service,
        "now": ev.now,
        "containers": ev
            .board
            .services
            .iter()
            .filter_map(|r| r.container.as_ref().map(|c| &c.raw))
            .collect::<Vec<_>>(),
        "looks": ev.looks,
    });
    let name = format!(
        "{}-{}-{}.json",
        plan.project,
        ev.row.service,
        (ev.now * 1000.0) as u64
    );
    let text = serde_json::to_string_pretty(&value).expect("evidence serializes");
    // A record is an aid to whoever asked for it; failing to write one changes nothing else.
    let _ = std::fs::write(std::path::Path::new(&dir).join(name), text);
}

/// Evidence as [`record`] wrote it.
#[cfg(test)]
#[derive(Deserialize)]
pub(crate) struct Recorded {
    /// The catalogue the stack was generated from, and its profile.
    pub catalogue: String,
    pub profile: String,
    pub service: String,
    pub now: f64,
    pub containers: Vec<serde_json::Value>,
    pub looks: Looks,
}

/// What muster asked the container, each `None` when it did not need to ask.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Looks {
    /// Its last log lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<Vec<String>>,
    /// Its last log lines before its last start: what it said before it crashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_before_start: Option<Vec<String>>,
    /// `/proc/net/tcp` and `/proc/net/tcp6` as the container's kernel shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_tcp: Option<String>,
    /// Which of curl, wget, python, python3, bash it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<String>>,
    /// What its server answers a client that sends no password ([`crate::images::PasswordCheck`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_ping: Option<String>,
    /// Where its health path redirects to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Its probe run again with the port it listens on in place of the port it probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<Rerun>,
    /// The probe `doctor` ran by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<Manual>,
}

/// The probe, run on another port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Rerun {
    pub port: u16,
    pub exit: Option<i32>,
    pub output: String,
}

/// What a probe run by hand said, for `doctor`: read like the engine's own log entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manual {
    pub output: String,
    /// `None` when it did not finish within its limit.
    pub exit: Option<i32>,
    pub took: Duration,
}

/// What the probe's output says happened, read the same way when gathering and deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Said {
    /// The probe's program is not in the image.
    Missing(String),
    Status(u16),
    Refused,
    Other,
}

impl Said {
    pub(crate) fn of(output: &str, exit: i64) -> Said {
        if let Some(tool) = missing_tool(output, exit) {
            return Said::Missing(tool);
        }
        if let Some(status) = http_status(output) {
            return Said::Status(status);
        }
        if refused(&output.to_lowercase()) {
            return Said::Refused;
        }
        Said::Other
    }
}

/// Asks the container of `row` what a diagnosis of it will need, judged from what the board
/// already shows: a look costs a `docker exec` or `docker logs`, so only those that can change
/// the decision are made.
pub(crate) fn gather(s: &Planned, row: &Row, look: &dyn Look, manual: Option<Manual>) -> Looks {
    let mut looks = Looks {
        manual,
        ..Looks::default()
    };
    let Some(c) = &row.container else {
        return looks;
    };
    let stopped = matches!(row.state, State::Exited | State::Restarting)
        || c.state.oom_killed
        || c.state.exit_code == 137
        || row.restarts > 0;
    if stopped {
        looks.logs = Some(look.logs(&c.id, 12, None));
        if row.restarts > 0 && !c.state.started_at.is_empty() {
            looks.logs_before_start = Some(look.logs(&c.id, 10, Some(&c.state.started_at)));
        }
    }
    if c.state.status != "running" {
        return looks;
    }
    let last = last_failure(c, looks.manual.as_ref());
    let Some((output, exit)) = last else {
        return looks;
    };
    let said = Said::of(&output, exit);
    if let Some(check) = s.engine.as_deref().and_then(crate::images::password_check)
        && let Some(port) = s.port
    {
        let argv: Vec<String> = check
            .ping
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        looks.password_ping = look
            .exec(&c.id, &argv, Duration::from_secs(5))
            .ok()
            .map(|r| r.output);
    }
    match said {
        Said::Missing(_) => {
            let script = "for p in curl wget python python3 bash; do command -v $p >/dev/null 2>&1 && echo $p; done";
            let argv = ["sh", "-c", script].map(str::to_owned);
            looks.clients = look
                .exec(&c.id, &argv, Duration::from_secs(5))
                .ok()
                .filter(|r| r.exit == Some(0))
                .map(|r| r.output.lines().map(str::to_owned).collect());
        }
        Said::Status(status) if (300..400).contains(&status) => {
            if let Some(port) = s.port {
                let path = s.health_path.as_deref().unwrap_or("/");
                looks.location = location(look, c, port, path);
            }
        }
        Said::Refused => {
            let argv = ["cat", "/proc/net/tcp", "/proc/net/tcp6"].map(str::to_owned);
            let table = look
                .exec(&c.id, &argv, Duration::from_secs(5))
                .ok()
                .map(|r| r.output);
            if let (Some(table), Some(port)) = (&table, s.port) {
                looks.rerun = rerun(s, c, look, port, &parse_listening(table));
            }
            looks.net_tcp = table;
        }
        _ => {}
    }
    looks
}

/// The newest failed probe's output and exit code, the one run by hand first.
fn last_failure(c: &Container, manual: Option<&Manual>) -> Option<(String, i64)> {
    if let Some(m) = manual
        && m.exit != Some(0)
    {
        return Some((m.output.clone(), m.exit.map_or(-1, i64::from)));
    }
    c.state
        .health
        .as_ref()?
        .log
        .iter()
        .rev()
        .find(|p| p.exit_code != 0)
        .map(|p| (p.output.clone(), p.exit_code))
}

/// The probe run with each other port the container listens on in place of `port`, until one
/// passes: a probe that passes there proves the service serves on that port. Only a probe whose
/// command names `port` can be moved.
fn rerun(
    s: &Planned,
    c: &Container,
    look: &dyn Look,
    port: u16,
    listening: &[u16],
) -> Option<Rerun> {
    if listening.contains(&port) {
        return None;
    }
    let test = c.config.healthcheck.as_ref()?.test.clone();
    let argv = probe_argv(&test)?;
    let limit = s
        .healthcheck
        .map_or(Duration::from_secs(5), |t| t.timeout)
        .min(Duration::from_secs(5));
    let mut last = None;
    for other in listening.iter().take(3) {
        let moved: Vec<String> = argv.iter().map(|a| replace_port(a, port, *other)).collect();
        if moved == argv {
            return None;
        }
        let Ok(ran) = look.exec(&c.id, &moved, limit) else {
            continue;
        };
        let passed = ran.exit == Some(0);
        last = Some(Rerun {
            port: *other,
            exit: ran.exit,
            output: ran.output,
        });
        if passed {
            break;
        }
    }
    last
}

/// `text` with every `port` that stands as a number of its own (not inside a longer one)
/// replaced by `other`.
pub(crate) fn replace_port(text: &str, port: u16, other: u16) -> String {
    let needle = port.to_string();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(&needle) {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + needle.len()).copied();
            if !before.is_some_and(|b| b.is_ascii_digit())
                && !after.is_some_and(|b| b.is_ascii_digit())
            {
                out.push_str(&other.to_string());
                i += needle.len();
                continue;
            }
        }
        let ch = text[i..].chars().next().expect("within the text");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The argv that runs a healthcheck test the way the engine runs it; `None` for `NONE`.
pub(crate) fn probe_argv(test: &[String]) -> Option<Vec<String>> {
    match test.first().map(String::as_str) {
        Some("CMD") if test.len() > 1 => Some(test[1..].to_vec()),
        Some("CMD-SHELL") if test.len() > 1 => {
            Some(vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")])
        }
        _ => None,
    }
}

/// Where a redirect points, asked with a client the container has.
fn location(look: &dyn Look, c: &Container, port: u16, path: &str) -> Option<String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let tries: [Vec<String>; 2] = [
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            &url,
        ]
        .map(str::to_owned)
        .into(),
        [
            "python",
            "-c",
            &format!(
                "import http.client as h; c = h.HTTPConnection('127.0.0.1', {port}, timeout=5); \
                 c.request('GET', {}); print(c.getresponse().getheader('Location') or '')",
                serde_json::to_string(path).unwrap_or_default()
            ),
        ]
        .map(str::to_owned)
        .into(),
    ];
    tries.iter().find_map(|argv| {
        let r = look.exec(&c.id, argv, Duration::from_secs(5)).ok()?;
        let l = r.output.trim();
        (r.exit == Some(0) && !l.is_empty()).then(|| l.to_owned())
    })
}

/// The program a probe could not run, from the engine's or the shell's words.
pub(crate) fn missing_tool(output: &str, exit: i64) -> Option<String> {
    // exec form: `exec: "python": executable file not found in $PATH`
    if let Some(i) = output.find("executable file not found") {
        let before = &output[..i];
        let name = before.rsplit('"').nth(1)?;
        return Some(name.to_owned());
    }
    // shell form: `/bin/sh: 1: curl: not found`, `sh: curl: not found`, `bash: line 1: x: command not found`
    if exit == 127 || output.contains("not found") {
        for line in output.lines() {
            let line = line.trim();
            let Some(rest) = line
                .strip_suffix(": not found")
                .or_else(|| line.strip_suffix(": command not found"))
            else {
                continue;
            };
            return rest.rsplit(": ").next().map(str::to_owned);
        }
    }
    None
}

/// An HTTP status a probe's client reported, when it reported one.
pub(crate) fn http_status(output: &str) -> Option<u16> {
    let number_after = |marker: &str| {
        let i = output.find(marker)? + marker.len();
        output[i..]
            .trim_start()
            .get(..3)
            .and_then(|n| n.parse::<u16>().ok())
    };
    number_after("HTTP Error ")
        .or_else(|| number_after("returned error:"))
        .or_else(|| number_after("server returned error: HTTP/1.1"))
        .or_else(|| number_after("server returned error: HTTP/1.0"))
        .or_else(|| {
            // curl with --max-redirs 0: "Maximum (0) redirects followed"
            output.contains("redirects followed").then_some(302)
        })
}

/// Whether a (lowercased) probe output says nothing answered.
pub(crate) fn refused(out: &str) -> bool {
    [
        "connection refused",
        "errno 111",
        "could not connect",
        "couldn't connect",
        "failed to connect",
        "can't connect",
        "no response",
        "connection reset",
    ]
    .iter()
    .any(|m| out.contains(m))
}

/// The TCP ports in LISTEN state in a `/proc/net/tcp` table.
pub(crate) fn parse_listening(table: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ...; state 0A is LISTEN.
            if fields.len() < 4 || fields[3] != "0A" {
                return None;
            }
            let (address, port) = fields[1].rsplit_once(':')?;
            // Docker's embedded DNS server listens on 127.0.0.11, on a port of its own.
            if address == "0B00007F" {
                return None;
            }
            u16::from_str_radix(port, 16).ok()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_program_is_read_from_either_form() {
        let exec = "OCI runtime exec failed: exec failed: unable to start container process: \
                    exec: \"python\": executable file not found in $PATH: unknown";
        assert_eq!(missing_tool(exec, -1).as_deref(), Some("python"));
        assert_eq!(
            missing_tool("/bin/sh: 1: curl: not found\n", 127).as_deref(),
            Some("curl")
        );
        assert_eq!(
            missing_tool("bash: line 1: wget: command not found", 127).as_deref(),
            Some("wget")
        );
        assert_eq!(missing_tool("HTTP Error 404: Not Found", 1), None);
    }

    #[test]
    fn http_statuses_as_each_client_reports_them() {
        assert_eq!(
            http_status("urllib.error.HTTPError: HTTP Error 400: Bad Request"),
            Some(400)
        );
        assert_eq!(
            http_status("curl: (22) The requested URL returned error: 404"),
            Some(404)
        );
        assert_eq!(
            http_status("wget: server returned error: HTTP/1.1 500 Internal Server Error"),
            Some(500)
        );
        assert_eq!(
            http_status("curl: (47) Maximum (0) redirects followed"),
            Some(302)
        );
        assert_eq!(http_status("connection refused"), None);
    }

    #[test]
    fn listening_sockets_are_read_from_the_kernel_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
            0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n\
            1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 2 1\n\
            2: 0B00007F:8AF9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n\
            0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0\n";
        assert_eq!(parse_listening(table), [80, 8080]);
    }

    #[test]
    fn a_port_is_moved_only_where_it_stands_alone() {
        let probe = "curl -fsS http://127.0.0.1:8000/health?port=80001 --max-time 8000";
        assert_eq!(
            replace_port(probe, 8000, 8080),
            "curl -fsS http://127.0.0.1:8080/health?port=80001 --max-time 8080"
        );
        assert_eq!(
            replace_port("redis-cli -p 6380 ping", 6380, 6379),
            "redis-cli -p 6379 ping"
        );
        assert_eq!(replace_port("x18000y", 8000, 1), "x18000y");
    }

    #[test]
    fn a_test_runs_as_the_engine_runs_it() {
        let cmd = ["CMD", "pg_isready", "-p", "5432"].map(str::to_owned);
        assert_eq!(probe_argv(&cmd).unwrap(), ["pg_isready", "-p", "5432"]);
        let shell = ["CMD-SHELL", "redis-cli ping | grep -q PONG"].map(str::to_owned);
        assert_eq!(
            probe_argv(&shell).unwrap(),
            ["/bin/sh", "-c", "redis-cli ping | grep -q PONG"]
        );
        assert_eq!(probe_argv(&["NONE".to_owned()]), None);
    }
}
