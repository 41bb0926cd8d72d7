//! Runs a Compose healthcheck `test` the way the engine does inside a container.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{ErrorKind, Read, Seek};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use yaml_serde::Value;

use super::process::{INSTALL_HINT, LiveGroup, SIGKILL, signal_group, wait_timeout};

/// SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV.
const CRASH_SIGNALS: [i32; 5] = [4, 6, 7, 8, 11];

/// A healthcheck ready to execute: the program's argv after Compose's
/// interpolation, its time limit and the container environment it sees.
pub struct Healthcheck {
    argv: Vec<String>,
    timeout: Duration,
    env: BTreeMap<String, String>,
}

pub enum Verdict {
    Exited(ExitStatus),
    TimedOut,
}

pub struct Outcome {
    pub verdict: Verdict,
    pub output: String,
}

impl Outcome {
    pub fn is_healthy(&self) -> bool {
        matches!(&self.verdict, Verdict::Exited(status) if status.success())
    }
}

impl Healthcheck {
    /// `test` is the healthcheck's `test` value: `["CMD", argv...]`,
    /// `["CMD-SHELL", command]` or a plain string, which means CMD-SHELL.
    pub fn new(test: &Value, timeout: Duration) -> Healthcheck {
        Healthcheck {
            argv: argv(test).unwrap_or_else(|e| panic!("bad healthcheck test {test:?}: {e}")),
            timeout,
            env: BTreeMap::new(),
        }
    }

    /// Adds a variable to the environment the probe runs in, as the
    /// container would have it (no Compose escaping).
    pub fn env(mut self, name: &str, value: &str) -> Healthcheck {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn run(&self) -> Outcome {
        let mut output = tempfile::tempfile().expect("cannot create a temporary file");
        let mut command = Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            // PATH finds the tools an image would have; nothing else leaks in.
            .env_clear()
            .envs(["PATH", "HOME"].map(|name| (name, std::env::var_os(name).unwrap_or_default())))
            .envs(&self.env)
            .stdin(std::process::Stdio::null())
            .stdout(output.try_clone().expect("cannot duplicate a file handle"))
            .stderr(output.try_clone().expect("cannot duplicate a file handle"))
            // A group of its own, so that a timeout kills the probe's children too.
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                panic!(
                    "probe program `{}` is not installed; {INSTALL_HINT}",
                    self.argv[0]
                )
            }
            Err(e) => panic!("cannot run {self}: {e}"),
        };
        let live = LiveGroup::register(child.id());
        let verdict = match wait_timeout(&mut child, self.timeout) {
            Some(status) => Verdict::Exited(status),
            None => Verdict::TimedOut,
        };
        // Kills what the probe left behind as well as a timed-out probe.
        signal_group(child.id(), SIGKILL);
        let _ = child.wait();
        drop(live);
        let mut text = String::new();
        output.rewind().expect("cannot rewind the probe output");
        output
            .read_to_string(&mut text)
            .expect("probe output is not UTF-8");
        Outcome {
            verdict,
            output: text,
        }
    }

    pub fn assert_healthy(&self) {
        let outcome = self.checked_run();
        assert!(
            outcome.is_healthy(),
            "expected healthy, got {}",
            self.report(&outcome)
        );
    }

    pub fn assert_unhealthy(&self) {
        let outcome = self.checked_run();
        assert!(
            !outcome.is_healthy(),
            "expected unhealthy, got {}",
            self.report(&outcome)
        );
    }

    /// A missing or crashing tool makes any probe fail, which would let an
    /// "unhealthy" test pass for the wrong reason: it is a broken machine,
    /// not a verdict on the server.
    fn checked_run(&self) -> Outcome {
        let outcome = self.run();
        let status = match &outcome.verdict {
            Verdict::Exited(status) => status,
            Verdict::TimedOut => return outcome,
        };
        // dash, bash and busybox sh on a command they cannot find.
        let shell_missed_a_command = outcome
            .output
            .lines()
            .any(|line| line.ends_with(": not found") || line.ends_with(": command not found"));
        if status.code() == Some(127) || shell_missed_a_command {
            panic!(
                "a probe tool is missing; {INSTALL_HINT}\n{}",
                self.report(&outcome)
            );
        }
        // Killed by a fault signal, or a shell reporting that of its command.
        let signal = status.signal().or(status.code().map(|code| code - 128));
        if signal.is_some_and(|signal| CRASH_SIGNALS.contains(&signal)) {
            panic!("the probe crashed\n{}", self.report(&outcome));
        }
        outcome
    }

    fn report(&self, outcome: &Outcome) -> String {
        let verdict = match &outcome.verdict {
            Verdict::Exited(status) => status.to_string(),
            Verdict::TimedOut => format!("timed out after {:?}", self.timeout),
        };
        format!("{verdict} from {self}\noutput:\n{}", outcome.output)
    }
}

impl fmt::Display for Healthcheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} with {:?}", self.argv, self.env)
    }
}

/// The argv the engine executes for a healthcheck `test` value.
fn argv(test: &Value) -> Result<Vec<String>, String> {
    let items = match test {
        Value::String(command) => return Ok(shell(interpolate(command)?)),
        Value::Sequence(items) => items,
        _ => return Err("neither a string nor a list".into()),
    };
    let words = items
        .iter()
        .map(|item| match item {
            Value::String(word) => interpolate(word),
            _ => Err(format!("{item:?} is not a string")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    match words.split_first() {
        Some((form, rest)) if form == "CMD" && !rest.is_empty() => Ok(rest.to_vec()),
        // The engine passes only the first element to the shell and drops the rest.
        Some((form, [command, ..])) if form == "CMD-SHELL" => Ok(shell(command.clone())),
        Some((form, _)) if form == "NONE" => Err("the healthcheck is disabled".into()),
        _ => Err("expected CMD with a program or CMD-SHELL with a command".into()),
    }
}

fn shell(command: String) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), command]
}

/// Undoes Compose's interpolation for values without host variables: `$$` is
/// a literal `$`. Any other `$` would be replaced from the host environment
/// when the file is read, which a generated probe must never rely on.
pub fn interpolate(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
        } else if chars.next() == Some('$') {
            out.push('$');
        } else {
            return Err(format!(
                "{value:?} has a single `$`, which Compose interpolates from the host"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        yaml_serde::from_str(text).expect("valid YAML")
    }

    fn check(test: &str) -> Healthcheck {
        Healthcheck::new(&yaml(test), Duration::from_secs(5))
    }

    #[test]
    fn runner_reads_a_plain_string_as_cmd_shell() {
        assert_eq!(
            argv(&yaml("'exit 0'")).unwrap(),
            ["/bin/sh", "-c", "exit 0"]
        );
    }

    #[test]
    fn runner_passes_only_the_first_cmd_shell_element_to_the_shell() {
        let test = yaml(r#"["CMD-SHELL", "exit 3", "ignored"]"#);
        assert_eq!(argv(&test).unwrap(), ["/bin/sh", "-c", "exit 3"]);
    }

    #[test]
    fn runner_turns_double_dollars_into_one() {
        let test = yaml(r#"["CMD-SHELL", "test \"$${PROBE_VALUE}\" = 'a$$b'"]"#);
        assert_eq!(argv(&test).unwrap()[2], r#"test "${PROBE_VALUE}" = 'a$b'"#);
        check(r#"["CMD-SHELL", "test \"$${PROBE_VALUE}\" = 'a$$b'"]"#)
            .env("PROBE_VALUE", "a$b")
            .assert_healthy();
    }

    #[test]
    fn runner_rejects_a_single_dollar() {
        assert!(argv(&yaml(r#"["CMD-SHELL", "echo $HOME"]"#)).is_err());
        assert!(argv(&yaml(r#"["CMD", "echo", "${HOME}"]"#)).is_err());
    }

    #[test]
    fn runner_rejects_disabled_and_empty_tests() {
        assert!(argv(&yaml(r#"["NONE"]"#)).is_err());
        assert!(argv(&yaml(r#"["CMD"]"#)).is_err());
        assert!(argv(&yaml("[]")).is_err());
    }

    #[test]
    fn runner_execs_cmd_without_a_shell() {
        // A shell would expand the variable and the pipe; exec passes them on.
        let outcome = check(r#"["CMD", "printf", "%s", "$${HOME} | x"]"#).run();
        assert!(outcome.is_healthy());
        assert_eq!(outcome.output, "${HOME} | x");
    }

    #[test]
    fn runner_reports_a_non_zero_exit_as_unhealthy() {
        check(r#"["CMD-SHELL", "exit 1"]"#).assert_unhealthy();
    }

    #[test]
    fn runner_hides_the_test_process_environment() {
        // Variables of the test process (PGPORT, REDISCLI_AUTH, ...) must not
        // make a probe pass by accident.
        let outcome = check(r#"["CMD", "env"]"#).env("ADDED", "1").run();
        let names: Vec<_> = outcome
            .output
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["ADDED", "HOME", "PATH"]);
    }

    #[test]
    fn runner_reports_a_timeout_as_unhealthy_and_kills_the_probes_children() {
        let outcome = Healthcheck::new(
            &yaml(r#"["CMD-SHELL", "sleep 60 & echo $$!; wait"]"#),
            Duration::from_millis(500),
        )
        .run();
        assert!(matches!(outcome.verdict, Verdict::TimedOut));
        let orphan = format!("/proc/{}/stat", outcome.output.trim());
        let gone_or_zombie =
            || std::fs::read_to_string(&orphan).map_or(true, |stat| stat.contains(") Z "));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !gone_or_zombie() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(gone_or_zombie(), "the probe's background sleep survived it");
    }

    #[test]
    #[should_panic(expected = "bash .ci/install")]
    fn runner_fails_instead_of_reporting_unhealthy_when_a_tool_is_missing() {
        check(r#"["CMD-SHELL", "muster-no-such-tool | grep -q x"]"#).assert_unhealthy();
    }

    #[test]
    #[should_panic(expected = "crashed")]
    fn runner_fails_instead_of_reporting_unhealthy_when_a_probe_crashes() {
        check(r#"["CMD-SHELL", "kill -SEGV $$$$"]"#).assert_unhealthy();
    }
}
