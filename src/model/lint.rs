//! The lint registry: every lint muster has, declared once with its name, its default severity
//! and the text that `muster check --list-lints`, the SARIF rules, the schema's `allow` docs and
//! the README's table show (as ruff's rule registry does). A lint is a [`Lint`], never a string:
//! a misspelt lint is a compile error, and `[project] allow` / `--allow` are read into `Lint`s
//! where they are written.
//!
//! Adding a lint is one entry below, and its README row (the test at the bottom prints the table
//! to paste); the stage that finds it pushes `Diagnostic::warning(..).with_lint(Lint::NewOne)`.

use super::Severity;
use std::fmt;
use std::str::FromStr;

macro_rules! lints {
    ($(
        $(#[$meta:meta])*
        $variant:ident = $name:literal {
            level: $level:expr,
            checks: $checks:literal,
            why: $why:literal $(,)?
        }
    ),* $(,)?) => {
        /// A named lint: a catalogue that generates a valid file but runs badly.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Lint {
            $($(#[$meta])* $variant,)*
        }

        impl Lint {
            /// Every lint, in the order `--list-lints` and the README show them.
            pub const ALL: &'static [Lint] = &[$(Lint::$variant,)*];

            /// The name `allow` and `--allow` take, and the code diagnostics show.
            pub const fn name(self) -> &'static str {
                match self { $(Lint::$variant => $name,)* }
            }

            /// What it checks.
            pub const fn checks(self) -> &'static str {
                match self { $(Lint::$variant => $checks,)* }
            }

            /// Why it matters.
            pub const fn why(self) -> &'static str {
                match self { $(Lint::$variant => $why,)* }
            }

            /// How it is reported unless a team allows it.
            pub const fn level(self) -> Severity {
                match self { $(Lint::$variant => $level,)* }
            }
        }
    };
}

use Severity::Warning;

lints! {
    SlowProbeTimeout = "slow-probe-timeout" {
        level: Warning,
        checks: "a healthcheck timeout over 10s",
        why: "a hung probe holds dependents back that long each time",
    },
    FewRetries = "few-retries" {
        level: Warning,
        checks: "healthcheck retries under 3",
        why: "one slow answer marks the service unhealthy",
    },
    ShortStartPeriod = "short-start-period" {
        level: Warning,
        checks: "a start_period under 30s for a kind slow to start (model servers, search engines)",
        why: "the service is marked unhealthy while it is still loading",
    },
    SingleDollar = "single-dollar" {
        level: Warning,
        checks: "a single `$` in a healthcheck you wrote, or a shell-style `$NAME` in a `command` or `entrypoint`",
        why: "Compose fills it from the host's environment, not the container's (`${NAME}` there reads as meant for Compose)",
    },
    CommandCut = "command-cut" {
        level: Warning,
        checks: "a `command` or `entrypoint` string with an unquoted `;`, `&`, `|`, `<` or `>`",
        why: "Compose splits the string into words, not as a shell, and drops everything from that character on without a word",
    },
    RestartNotAlways = "restart-not-always" {
        level: Warning,
        checks: "a restart policy other than `always` in a production profile (jobs excepted)",
        why: "`always` brings a service back after a crash and after a reboot",
    },
    UnpinnedImage = "unpinned-image" {
        level: Warning,
        checks: "a `latest` or untagged image in a production profile",
        why: "`latest` changes under you: two hosts, or two days, run different code",
    },
    PlainSecret = "plain-secret" {
        level: Warning,
        checks: "a secret written as a plain value rather than read from a variable or a secret, in a production profile: a PASSWORD, SECRET, TOKEN, API_KEY or PRIVATE_KEY in `env`, `build.args` or the `compose` table's environment (not a `_FILE` path, a number or a flag), or a value shaped like a known token or key (`ghp_...`, `AKIA...`, `sk_live_...`, a PEM private key) anywhere in a service",
        why: "the secret ends up in the repository and in the generated file (a build argument in the image's history too)",
    },
    UrlCredentials = "url-credentials" {
        level: Warning,
        checks: "a password inside a URL in `env` (`postgres://app:hunter2@db/app`) in a production profile, unless it is interpolated",
        why: "the password ends up in the repository and in the generated file, where no secret scanner looks for it",
    },
    TrustAuth = "trust-auth" {
        level: Warning,
        checks: "POSTGRES_HOST_AUTH_METHOD=trust in a production profile",
        why: "Postgres then lets anyone who reaches its port in as any user, without a password",
    },
    DatastorePublished = "datastore-published" {
        level: Warning,
        checks: "a datastore (db, cache, pool, search, vector-db, broker) publishing a port on every interface of the host in a production profile",
        why: "Docker opens a published port in the firewall ahead of the host's own rules: whoever reaches the host reaches the data; `127.0.0.1:PORT:PORT` or a private address is the fix",
    },
    AuthOff = "auth-off" {
        level: Warning,
        checks: "a datastore whose image runs without authentication in a production profile: Redis without `--requirepass`, Elasticsearch with `xpack.security.enabled=false`, RabbitMQ's guest user, Qdrant without an API key, MongoDB without a root user, an empty MySQL or MariaDB root password, PgBouncer's `trust`",
        why: "anyone who reaches its port reads and writes its data, another container of the stack or a published port's visitor alike",
    },
    DockerSocket = "docker-socket" {
        level: Warning,
        checks: "the Docker socket (`docker.sock`, or the `/run` folder that holds it) mounted into a service in a production profile, read-only or not",
        why: "whoever controls the container controls the engine and so the host; `:ro` does not limit the API; muster's own `autoheal` is the one mount it writes",
    },
    Privileged = "privileged" {
        level: Warning,
        checks: "`privileged` or `cap_add: [ALL]` in a production profile",
        why: "every capability and device, without seccomp or AppArmor: root in the container is root on the host",
    },
    HostNamespace = "host-namespace" {
        level: Warning,
        checks: "`network_mode`, `pid` or `ipc` set to `host` in a production profile",
        why: "the container shares the host's network (listening past the port publishing and its firewall rules), its processes or its shared memory",
    },
    AdminUiPublished = "admin-ui-published" {
        level: Warning,
        checks: "a management UI published on every interface of the host in a production profile: RabbitMQ's 15672, Flower, pgAdmin, Grafana with the default admin password",
        why: "a console that administers the service faces whoever reaches the host; bind it to 127.0.0.1 and tunnel to it",
    },
    UnprobedDependency = "unprobed-dependency" {
        level: Warning,
        checks: "a service others depend on that has no healthcheck",
        why: "its dependents wait only until it has started, not until it is ready",
    },
    NoAutoheal = "no-autoheal" {
        level: Warning,
        checks: "a production profile without `autoheal = true`",
        why: "outside Swarm, Docker restarts containers that exit, never ones that turn unhealthy",
    },
    ProbeProgramMissing = "probe-program-missing" {
        level: Warning,
        checks: "a healthcheck you wrote that calls a program the image does not have",
        why: "a probe that cannot run never turns healthy (unless the image has more than muster knows)",
    },
    UnknownImage = "unknown-image" {
        level: Warning,
        checks: "an image muster cannot tell the programs of (an image it does not know, a build FROM one, a Dockerfile it cannot follow), probed with python because `probe` is `auto`",
        why: "a python probe in an image without python never turns healthy; `probe` says which client it has",
    },
    HealthPathAssumed = "health-path-assumed" {
        level: Warning,
        checks: "an HTTP-probed service running your own code (a build, or a base image such as python or node) with no `health_path`",
        why: "muster's default `/health/live` is a guess: an app that does not serve it never turns healthy",
    },
    JobWithoutCommand = "job-without-command" {
        level: Warning,
        checks: "a `job` built from your code with no `command`",
        why: "it runs the image's own CMD, usually the app's server, which never exits: its dependents wait for ever",
    },
    HealthEndpointOff = "health-endpoint-off" {
        level: Warning,
        checks: "an image whose health endpoint is off by default (Traefik's ping, Keycloak's health) with nothing in `env` or `command` turning it on",
        why: "the probe then fails for ever, unless a configuration file muster cannot read enables it",
    },
    ProviderLabelsMisplaced = "provider-labels-misplaced" {
        level: Warning,
        checks: "a label a reverse proxy reads (`traefik.*`) written in `deploy.labels` instead of `labels`",
        why: "Compose never puts `deploy.labels` on a container, so Traefik's Docker provider does not see it; in `labels` muster writes it where each target's provider reads it (`deploy.labels` for Swarm)",
    },
    StaleSchema = "stale-schema" {
        level: Warning,
        checks: "a muster.schema.json beside the catalogue that lists other kinds than it can use",
        why: "editors then flag a kind of your templates folder as unknown, or offer a removed one",
    },
    OptionalNeverReady = "optional-never-ready" {
        level: Warning,
        checks: "an optional dependency (`required = false`) asked to be `healthy` without a healthcheck",
        why: "Compose starts the dependent at once instead of waiting, whatever the condition says",
    },
    ShadowedMount = "shadowed-mount" {
        level: Warning,
        checks: "two mounts on one container path in one `volumes` list",
        why: "Compose keeps only the last and drops the others without a word",
    },
    StaleLock = "stale-lock" {
        level: Warning,
        checks: "a muster.lock entry whose reference the engine now holds another image under (rebuilt, or pulled with a moved tag)",
        why: "gen chooses the probe from the old image's programs, which the new one may lack: run `muster images` again",
    },
    RequiredWithoutMessage = "required-without-message" {
        level: Warning,
        checks: "a required variable without a message (`${NAME:?}`, `${NAME?}`)",
        why: "Compose then refuses the file with \"required variable NAME is missing a value\" and no word on what it is for or where to get it",
    },
    TrackedEnvFile = "tracked-env-file" {
        level: Warning,
        checks: "a `.env` the generated file reads (or an `--env-file`) that git tracks, in a git checkout",
        why: "the values the stack keeps out of the file, its secrets among them, are then in the repository after all",
    },
    MissingBindSource = "missing-bind-source" {
        level: Warning,
        checks: "a bind mount whose source does not exist on the host, where the engine creates it (short syntax, or `create_host_path`), in `check --env-file` and `up`",
        why: "the engine makes an empty folder owned by root there: a configuration file meant for the container arrives as a folder",
    },
    PathFromEnvironment = "path-from-environment" {
        level: Warning,
        checks: "a relative path Compose takes from the environment (`${DATA_DIR:-./data}`) in a file written to another folder than the catalogue's",
        why: "muster rebases the paths it can read; this one Compose resolves against the file's folder, whatever the catalogue meant",
    },
    OlderTarget = "older-target" {
        level: Warning,
        checks: "a key the declared Compose or Engine (`[project] requires`) cannot do, left out or rewritten",
        why: "the service runs without it there: the warning says what that changes",
    },
}

impl Lint {
    /// The production lints about who gets in: the README's "Production, closed by default"
    /// table lists them, row for row (`tests/production.rs`).
    pub const CLOSED_BY_DEFAULT: &'static [Lint] = &[
        Lint::DatastorePublished,
        Lint::AuthOff,
        Lint::AdminUiPublished,
        Lint::DockerSocket,
        Lint::Privileged,
        Lint::HostNamespace,
        Lint::TrustAuth,
        Lint::PlainSecret,
        Lint::UrlCredentials,
    ];

    /// The lint named `name`, as `allow` and `--allow` write it.
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|l| l.name() == name)
    }

    /// The names of every lint, for completions, the schema and did-you-mean.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Lint::ALL.iter().map(|l| l.name())
    }

    /// `muster check --list-lints`: one lint a paragraph, its name first.
    pub fn list() -> String {
        let width = Lint::names().map(str::len).max().unwrap_or(0);
        let mut out = String::new();
        for l in Lint::ALL {
            out.push_str(&format!(
                "{:width$}  {}\n{:width$}  why: {}\n",
                l.name(),
                l.checks(),
                "",
                l.why()
            ));
        }
        out.push_str(
            "\nallow one for the catalogue with `[project] allow = [\"NAME\"]`, or for one run \
             with `--allow NAME`\n",
        );
        out
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Lint {
    type Err = String;

    fn from_str(name: &str) -> Result<Lint, String> {
        Lint::from_name(name).ok_or_else(|| format!("unknown lint {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for l in Lint::ALL {
            assert!(seen.insert(l.name()), "{} declared twice", l.name());
            assert!(
                l.name().chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                l.name()
            );
            assert_eq!(Lint::from_name(l.name()), Some(*l));
        }
        assert_eq!(Lint::from_name("no-such-lint"), None);
    }

    /// The README's table under "Lints by name" is the registry's: a lint added, renamed or
    /// reworded here and not there fails, and the message holds the table to paste. The lints
    /// of "Production, closed by default" are in that section's table instead
    /// (`tests/production.rs` holds it).
    #[test]
    fn the_readme_lists_every_lint_as_declared() {
        let cell = |text: &str| text.replace('|', "\\|");
        let mut table = String::from("| lint | checks | why |\n| --- | --- | --- |\n");
        for l in Lint::ALL
            .iter()
            .filter(|l| !Lint::CLOSED_BY_DEFAULT.contains(l))
        {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                l.name(),
                cell(l.checks()),
                cell(l.why())
            ));
        }
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&table),
            "README.md's table under \"Lints by name\" differs from src/model/lint.rs; paste \
             this:\n{table}"
        );
    }
}
