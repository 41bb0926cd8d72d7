//! The Compose healthcheck as Kubernetes probes.
//!
//! - liveness: the health endpoint, or the healthcheck's command; `retries` failures in a row
//!   restart the container, as autoheal would under Compose and as Swarm does.
//! - readiness: the readiness endpoint (`ready_path`) for HTTP kinds, else the same command; a pod
//!   that is not ready gets no traffic through its Service.
//! - startup: the health check again, tried often enough during `start_period` that a slow
//!   starter is not restarted before it could have come up.

use super::interpolation;
use crate::compose_body::Healthcheck;
use crate::probe::Probe;
use crate::validate::StackService;
use crate::yaml::{Mapping, Value as Yaml};
use std::time::Duration;

use crate::model::{DOCKER_DEFAULT_RETRIES, HealthKey};

/// Why the probes cannot be written, and the healthcheck key it is about, if one.
pub struct ProbeError {
    pub message: String,
    pub key: Option<HealthKey>,
}

impl From<String> for ProbeError {
    fn from(message: String) -> Self {
        ProbeError { message, key: None }
    }
}

/// The container's probes, and what they read from the host's environment.
#[derive(Default)]
pub struct Probes {
    /// `(key, probe)` pairs, in the order they are written.
    pub probes: Vec<(&'static str, Mapping)>,
    /// Variables a shell probe reads that Compose fills from the host's environment: the
    /// container must have them (from the project's Secret) for the shell to read them.
    pub vars: Vec<String>,
    /// Variables written as their defaults.
    pub defaulted: Vec<String>,
}

/// The container's probes, from the healthcheck Compose will run.
pub fn probes(s: &StackService) -> Result<Probes, ProbeError> {
    let Some(hc) = s.rendered.body.healthcheck() else {
        return Ok(Probes::default());
    };
    // A probe's periods are numbers in the manifest: a duration Compose would have read from the
    // environment counts at its default, and without one it cannot be written.
    // Left out, a duration is Docker's default, as the engine reads it.
    let timing = |key: HealthKey| match hc.duration(key) {
        None => Ok(key.docker_default().unwrap_or_default()),
        Some(d) => d.value.ok_or_else(|| ProbeError {
            message: format!(
                "healthcheck {} `{}` is read from the environment, and a Kubernetes probe \
                 needs a number: give the variable a default (`${{VAR:-30s}}`)",
                key.name(),
                d.text
            ),
            key: Some(key),
        }),
    };
    let period = seconds(timing(HealthKey::Interval)?);
    let timeout = seconds(timing(HealthKey::Timeout)?);
    let retries = match &hc.retries {
        None => u64::from(DOCKER_DEFAULT_RETRIES),
        Some(count) => u64::from(count.value().ok_or_else(|| ProbeError {
            message: format!(
                "healthcheck retries `{count}` is read from the environment, and a Kubernetes \
                 probe needs a number: give the variable a default (`${{VAR:-3}}`)"
            ),
            key: Some(HealthKey::Retries),
        })?),
    }
    .max(1);
    let (live, ready, vars, defaulted) = handlers(s, &hc)?;

    let probe = |handler: &Mapping, period: u64, failures: u64| {
        let mut p = handler.clone();
        p.insert("periodSeconds".into(), period.into());
        p.insert("timeoutSeconds".into(), timeout.into());
        p.insert("failureThreshold".into(), failures.into());
        p
    };
    let mut out = vec![
        ("livenessProbe", probe(&live, period, retries)),
        ("readinessProbe", probe(&ready, period, retries)),
    ];
    let start_every = timing(HealthKey::StartInterval)?;
    if let Some((every, tries)) = startup(timing(HealthKey::StartPeriod)?, start_every) {
        out.push(("startupProbe", probe(&live, every, tries)));
    }
    Ok(Probes {
        probes: out,
        vars,
        defaulted,
    })
}

/// The startup probe that covers `start_period`, as `(periodSeconds, failureThreshold)`: tried
/// every `start_interval`, as the engine probes while a container starts; none without a
/// start_period. `muster tune` shows its proposals in these terms.
pub(crate) fn startup(start_period: Duration, start_interval: Duration) -> Option<(u64, u64)> {
    if start_period.is_zero() {
        return None;
    }
    let every = seconds(start_interval);
    let tries = start_period.as_millis().div_ceil(u128::from(every) * 1000);
    Some((every, u64::try_from(tries).unwrap_or(u64::MAX).max(1)))
}

/// Whole seconds, rounded up: Kubernetes counts in seconds and a zero means its default.
fn seconds(d: Duration) -> u64 {
    u64::try_from(d.as_millis().div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The liveness and readiness handlers. An HTTP kind whose probe a template chose gets
/// `httpGet`, which needs no client in the image; a test the user wrote, in the catalogue or in
/// the `compose` table, is run as written, as Compose runs it.
type Handlers = (Mapping, Mapping, Vec<String>, Vec<String>);

fn handlers(s: &StackService, hc: &Healthcheck) -> Result<Handlers, ProbeError> {
    let service = &s.rendered.service;
    if let (Probe::Http(_), true, Some(port), Some(health)) = (
        service.probe,
        hc.origin.is_template(),
        service.health_port,
        &service.health_path,
    ) {
        let ready = service.ready_path.as_deref().unwrap_or(health);
        return Ok((
            http_get(health, port),
            http_get(ready, port),
            Vec::new(),
            Vec::new(),
        ));
    }
    let (exec, vars, defaulted) = exec(&hc.test).map_err(|message| ProbeError {
        message,
        key: Some(HealthKey::Test),
    })?;
    Ok((exec.clone(), exec, vars, defaulted))
}

fn http_get(path: &str, port: u16) -> Mapping {
    // The kubelet sends the pod's IP as Host; the Compose probe sends 127.0.0.1, which is the
    // name a Django ALLOWED_HOSTS already admits for it.
    let text = format!(
        "httpGet:\n  path: {}\n  port: {port}\n  httpHeaders:\n    - name: Host\n      value: 127.0.0.1\n",
        serde_json::to_string(path).expect("a string serializes")
    );
    crate::yaml::from_str(&text).expect("the httpGet handler is valid YAML")
}

/// Compose's `test` as an `exec` handler, with the variables a shell test reads from the host
/// and those written as their defaults. `CMD` runs its argv, `CMD-SHELL` (and a plain string)
/// runs through `sh -c` as Docker does. Compose interpolates the test before the engine runs
/// it, and Kubernetes expands nothing in a probe: so `$$` (Compose's `$`) is a single `$` for
/// the container's shell, a default is written as such, and a host variable becomes the shell's
/// `${VAR}`, which the container gets from the project's Secret. An exec-form test has no shell
/// to read one.
fn exec(test: &[&str]) -> Result<(Mapping, Vec<String>, Vec<String>), String> {
    let words = test;
    let (shell_line, argv): (Option<&str>, Vec<&str>) = match words {
        ["CMD", argv @ ..] if !argv.is_empty() => (None, argv.to_vec()),
        ["CMD-SHELL", line, ..] => (Some(line), Vec::new()),
        _ => return Err(format!("healthcheck test {words:?} has no command to run")),
    };
    let mut vars = Vec::new();
    let mut defaulted = Vec::new();
    let command: Vec<Yaml> = match shell_line {
        Some(line) => {
            let parsed = interpolation::parse(line);
            if let Some(alt) = parsed.alternatives.first() {
                return Err(alternative(alt));
            }
            vars = parsed.vars();
            defaulted = parsed.defaulted.clone();
            ["sh", "-c"]
                .into_iter()
                .map(Yaml::from)
                .chain([Yaml::from(interpolation::shell(&parsed.atoms))])
                .collect()
        }
        None => argv
            .iter()
            .map(|w| {
                let parsed = interpolation::parse(w);
                if let Some(alt) = parsed.alternatives.first() {
                    return Err(alternative(alt));
                }
                defaulted.extend(parsed.defaulted.iter().cloned());
                interpolation::literal(&parsed.atoms)
                    .map(Yaml::from)
                    .map_err(|vars| {
                        format!(
                            "the exec-form healthcheck test reads `${{{}}}` from the host, and a \
                             Kubernetes probe has no shell to read it from the container: write \
                             the test as a string (CMD-SHELL), or give the variable a default",
                            vars[0]
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut exec = Mapping::new();
    exec.insert("command".into(), Yaml::Sequence(command));
    let mut handler = Mapping::new();
    handler.insert("exec".into(), Yaml::Mapping(exec));
    Ok((handler, vars, defaulted))
}

fn alternative(var: &str) -> String {
    format!(
        "the healthcheck test uses `${{{var}}}` with `:+` or `+`: its value depends on whether the \
         variable is set, which a manifest cannot say"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(test: &str) -> Vec<String> {
        let body = crate::compose_body::ComposeBody::read(
            crate::yaml::from_str(&format!("healthcheck: {{test: {test}}}")).unwrap(),
            crate::compose_body::TestOrigin::Passthrough,
        );
        let (handler, ..) = exec(&body.healthcheck().unwrap().test).unwrap();
        let words = handler["exec"]["command"].as_sequence().unwrap();
        words
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn exec_follows_docker_test_forms() {
        assert_eq!(argv(r#"["CMD", "pg_isready", "-q"]"#), ["pg_isready", "-q"]);
        assert_eq!(
            argv(r#"["CMD-SHELL", "celery inspect ping -d \"celery@$${HOSTNAME}\""]"#),
            ["sh", "-c", "celery inspect ping -d \"celery@${HOSTNAME}\""]
        );
        assert_eq!(
            argv(r#""curl -f x || exit 1""#),
            ["sh", "-c", "curl -f x || exit 1"]
        );
        assert!(exec(&["NONE"]).is_err());
    }

    #[test]
    fn a_startup_probe_covers_the_start_period_at_the_start_interval() {
        let s = Duration::from_secs;
        assert_eq!(startup(s(25), s(1)), Some((1, 25)));
        // 2.5 s is tried every 3 s, 10 times for 30 s.
        assert_eq!(startup(s(30), Duration::from_millis(2500)), Some((3, 10)));
        assert_eq!(startup(Duration::ZERO, s(5)), None);
    }

    #[test]
    fn seconds_round_up_and_are_never_zero() {
        assert_eq!(seconds(Duration::from_millis(500)), 1);
        assert_eq!(seconds(Duration::from_millis(1500)), 2);
        assert_eq!(seconds(Duration::ZERO), 1);
        assert_eq!(seconds(Duration::from_secs(90)), 90);
    }
}
