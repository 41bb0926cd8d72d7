//! The causes a live diagnosis can name, in one registry: each one's code (the `cause` of
//! `status --json`), whether more waiting can cure it, what evidence recognises it and which
//! catalogue key its diagnosis points at. The README's cause table is checked against it.

use serde::Serialize;

/// Why a service is not up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub(crate) enum Cause {
    ProbeToolMissing,
    ProbeTimeout,
    WrongPort,
    StartPeriodTooShort,
    PasswordMissing,
    Http400,
    HttpRedirect,
    HttpNotFound,
    HttpStatus,
    ProbeFailed,
    Killed,
    RestartLoop,
    Exited,
    Restarted,
    DependencyFailed,
    NotCreated,
    NotStarted,
    NotHealthyYet,
}

/// What the registry says of one cause. The README's columns are read by the test that holds
/// the README's table to this registry, nothing else.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Info {
    pub code: &'static str,
    /// Whether a service can still come up by itself: `false` means time brings nothing, so
    /// `up` names the cause as soon as the evidence proves it.
    pub waiting_can_cure: bool,
    /// The README's "recognised by" column.
    pub recognised_by: &'static str,
    /// The README's "points at" column.
    pub points_at: &'static str,
    /// The README's "cause" column.
    pub title: &'static str,
}

impl Cause {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) const ALL: [Cause; 18] = [
        Cause::ProbeToolMissing,
        Cause::ProbeTimeout,
        Cause::WrongPort,
        Cause::StartPeriodTooShort,
        Cause::PasswordMissing,
        Cause::Http400,
        Cause::HttpRedirect,
        Cause::HttpNotFound,
        Cause::HttpStatus,
        Cause::ProbeFailed,
        Cause::Killed,
        Cause::RestartLoop,
        Cause::Exited,
        Cause::Restarted,
        Cause::DependencyFailed,
        Cause::NotCreated,
        Cause::NotStarted,
        Cause::NotHealthyYet,
    ];

    pub(crate) fn info(self) -> Info {
        let (code, waiting_can_cure, title, recognised_by, points_at) = match self {
            Cause::ProbeToolMissing => (
                "probe-tool-missing",
                false,
                "probe program missing from the image",
                "`executable file not found` (exec form) or `sh: curl: not found` (shell form) in the health log; muster then asks the container which of curl, wget, python, bash it has",
                "`probe` (or the service, with the `probe = \"...\"` that will work)",
            ),
            Cause::ProbeTimeout => (
                "probe-timeout",
                true,
                "probe timing out",
                "the engine's `Health check exceeded timeout`, \"context deadline exceeded\", or a probe that ran as long as `timeout`; `doctor` times it to its end",
                "`healthcheck.timeout`",
            ),
            Cause::WrongPort => (
                "wrong-port",
                false,
                "wrong port",
                "connection refused, while the container's `/proc/net/tcp` shows it listening on another port and the probe, run again with that port, passes (before the engine gives up, only that proof counts)",
                "`port`",
            ),
            Cause::StartPeriodTooShort => (
                "start-period-too-short",
                true,
                "`start_period` too short",
                "connection refused after `start_period`, with nothing listening yet (or listening by now)",
                "`healthcheck.start_period`, with a value",
            ),
            Cause::PasswordMissing => (
                "redis-noauth",
                false,
                "Redis `NOAUTH`",
                "a Redis or Valkey probe failing while a bare `ping` in the container answers NOAUTH (the probe's `grep` hides it from the log)",
                "`env` (`REDISCLI_AUTH`)",
            ),
            Cause::Http400 => (
                "http-400",
                false,
                "HTTP 400 (Django `ALLOWED_HOSTS`)",
                "the client's `HTTP Error 400` / `returned error: 400`",
                "`env.DJANGO_ALLOWED_HOSTS`",
            ),
            Cause::HttpRedirect => (
                "http-redirect",
                false,
                "redirect (a login page)",
                "a 3xx, or curl's `Maximum (0) redirects followed`; muster asks the service where it redirects",
                "`health_path`",
            ),
            Cause::HttpNotFound => (
                "http-404",
                false,
                "HTTP 404 or 410: no such health path",
                "the status the client reports",
                "`health_path`",
            ),
            Cause::HttpStatus => (
                "http-status",
                true,
                "other HTTP status (401, 403, 503, ...)",
                "the status the client reports",
                "`health_path`",
            ),
            Cause::ProbeFailed => (
                "probe-failed",
                true,
                "probe failing otherwise",
                "a failed probe none of the above explains",
                "`healthcheck.test`",
            ),
            Cause::Killed => (
                "killed",
                false,
                "killed, out of memory",
                "exit 137 or `OOMKilled`",
                "`compose` (`mem_limit`)",
            ),
            Cause::RestartLoop => (
                "restart-loop",
                false,
                "restart loop",
                "3 restarts under a policy without a limit, or `restarting`; the container's last log lines",
                "`command`",
            ),
            Cause::Exited => (
                "exited",
                false,
                "exited (a failed job)",
                "`exited N`; its last log lines, with a hint for \"password authentication failed\" and \"database connection failed\" / \"could not connect\" (check `depends_on` and the dependency's healthcheck)",
                "`command`",
            ),
            Cause::Restarted => (
                "restarted",
                true,
                "crashed and came back",
                "Compose gave up on a container that has since restarted; its log lines before the restart",
                "the service",
            ),
            Cause::DependencyFailed => (
                "dependency-failed",
                false,
                "a dependent stuck",
                "`created`, waiting for a dependency that failed: the chain followed to the root cause",
                "the `depends_on` entry",
            ),
            Cause::NotCreated => (
                "not-created",
                true,
                "not created",
                "no container: Compose's own output says why",
                "the service",
            ),
            Cause::NotStarted => (
                "not-started",
                true,
                "created, never started",
                "a container in `created` that waits for nothing",
                "the service",
            ),
            Cause::NotHealthyYet => (
                "not-healthy-yet",
                true,
                "not healthy yet",
                "`starting` with no failed probe when the deadline passed",
                "the service",
            ),
        };
        Info {
            code,
            waiting_can_cure,
            recognised_by,
            points_at,
            title,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        self.info().code
    }

    /// Whether time alone can still bring the service up.
    pub(crate) fn waiting_can_cure(self) -> bool {
        self.info().waiting_can_cure
    }
}

impl From<Cause> for &'static str {
    fn from(cause: Cause) -> &'static str {
        cause.code()
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table, row by row, against the registry: a cause added, renamed or
    /// reworded in one place and not the other fails here.
    #[test]
    fn the_readme_cause_table_is_the_registry() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("| cause | waiting cures it | recognised by | points at |")
            .expect("the README has the cause table");
        let rows: Vec<&str> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let expected: Vec<String> = Cause::ALL
            .iter()
            .map(|c| {
                let i = c.info();
                format!(
                    "| {} (`{}`) | {} | {} | {} |",
                    i.title,
                    i.code,
                    if i.waiting_can_cure { "may" } else { "no" },
                    i.recognised_by,
                    i.points_at
                )
            })
            .collect();
        assert_eq!(rows, expected, "README.md's cause table");
    }

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut codes: Vec<&str> = Cause::ALL.iter().map(|c| c.code()).collect();
        assert!(codes.iter().all(|c| {
            c.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        }));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Cause::ALL.len());
    }
}
