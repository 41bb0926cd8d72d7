//! What muster knows about the images it generates services for: which engine an image runs, the
//! port it listens on, where its health endpoint is, and which programs exist inside it.
//!
//! The tool lists are the ground truth probes are chosen from (see `probe.rs`) and checked
//! against (see the `probe_tools` tests): a probe that calls a program its image lacks can never
//! turn healthy. Facts come from the images' Dockerfiles, as collected in the project's
//! healthcheck reference.

/// An image reference split into the parts muster reasons about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The repository path without the registry host: `postgres`, `qdrant/qdrant`,
    /// `elasticsearch/elasticsearch` (from `docker.elastic.co/...`).
    pub repository: &'a str,
    pub tag: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(reference: &'a str) -> Self {
        let without_digest = reference.split('@').next().unwrap_or(reference);
        // A tag follows the last `:` only when no `/` comes after it; otherwise that `:` belongs
        // to a registry port (`localhost:5000/app`).
        let (name, tag) = match without_digest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
            _ => (without_digest, None),
        };
        // The first component is a registry host when it looks like one (Docker's own rule).
        let repository = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                rest
            }
            _ => name,
        };
        let repository = repository.strip_prefix("library/").unwrap_or(repository);
        ImageRef { repository, tag }
    }
}

/// Why Docker would refuse `reference` ("invalid reference format"), if it would: a path in
/// lower case, components of letters, digits and `.`, `_`, `-` separators, an optional
/// registry host first, a tag of up to 128 word characters, dots and dashes, or a digest.
pub fn reference_problem(reference: &str) -> Option<String> {
    if reference.is_empty() || reference.chars().any(char::is_whitespace) {
        return Some("an image reference has no spaces".to_owned());
    }
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && !digest.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        })
    {
        return Some(format!(
            "`@{digest}` is not a digest (`@sha256:` and its hex)"
        ));
    }
    let (path, tag) = match name.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (name, None),
    };
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Some(format!(
                "`{tag}` is not a tag: letters, digits, `_`, `.` and `-`, up to 128"
            ));
        }
    }
    let mut components: Vec<&str> = path.split('/').collect();
    // The first component is a registry host when it looks like one, and may have capitals.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost")
    {
        components.remove(0);
    }
    for component in components {
        let valid = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Some(if component.chars().any(|c| c.is_ascii_uppercase()) {
                format!("`{component}` has capitals: an image's path is lower case")
            } else {
                format!(
                    "`{component}` is not a path component: lower-case letters, digits and `.`, `_`, `-` between them"
                )
            });
        }
    }
    None
}

/// An HTTP endpoint that reports health, on a port that may differ from the service port
/// (Jaeger's admin port, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthEndpoint {
    pub port: u16,
    pub path: &'static str,
}

/// A setting without which an image does not serve its health endpoint (Traefik's `/ping`,
/// Keycloak's `/health/ready`): an environment variable set to `true`, or a flag in `command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSwitch {
    pub env: &'static str,
    pub flag: &'static str,
}

impl HealthSwitch {
    /// Whether the service's environment or command turns the endpoint on. A configuration file
    /// can do it too, which muster cannot read: a switch that is off is a warning, not an error.
    pub fn is_on<'a>(&self, env: impl Fn(&str) -> Option<&'a str>, command: &[&str]) -> bool {
        env(self.env).is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || command
                .iter()
                .any(|word| *word == self.flag || word.strip_prefix(self.flag) == Some("=true"))
    }
}

/// The tools of the tags whose name contains `tag` (`alpine`, `slim`, `debug`), where they differ
/// from the default tag's.
#[derive(Debug)]
pub struct Variant {
    pub tag: &'static str,
    pub tools: &'static [&'static str],
}

/// One known image family.
#[derive(Debug)]
pub struct ImageFacts {
    /// Repository paths (registry stripped) that this row describes.
    pub repositories: &'static [&'static str],
    /// The engine it runs, for images that run one of muster's engines.
    pub engine: Option<&'static str>,
    /// The reference muster uses when an engine is named without an image.
    pub default_image: Option<&'static str>,
    pub port: Option<u16>,
    pub health: Option<HealthEndpoint>,
    /// What must be set for `health` to answer at all, where the image does not serve it by
    /// default.
    pub health_switch: Option<HealthSwitch>,
    /// Programs on the default tag's PATH that probes may use. Empty for an image without a shell
    /// (distroless): only an exec-form test of a binary the app ships can run there.
    pub tools: &'static [&'static str],
    /// Where a model server keeps the weights it downloads, for the `model_cache` volume.
    pub model_cache: Option<&'static str>,
    /// Tags whose tools differ, most specific first (`alpine-slim` before `alpine`): busybox
    /// replaces bash and coreutils, a slim tag drops curl.
    pub variants: &'static [Variant],
}

impl ImageFacts {
    pub fn tools_for(&self, image: &ImageRef) -> &'static [&'static str] {
        let tag = image.tag.unwrap_or_default();
        self.variants
            .iter()
            .find(|v| tag.contains(v.tag))
            .map_or(self.tools, |v| v.tools)
    }
}

/// Program names on an image's PATH. Static: muster asks only about the programs it can probe
/// with and the engines' own tools, so every name it records is one of its own tables'.
pub type Tools = std::borrow::Cow<'static, [&'static str]>;

/// What muster knows of the image a service runs, wherever it learned it: a row of [`IMAGES`]
/// (with its tag's variant), a Dockerfile (its base's row and what its stages add or remove), or
/// a lock-file entry read from the image itself. The probe is chosen from this alone, so each
/// source of facts produces one and nothing downstream asks where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFacts {
    /// The programs a probe may call.
    pub programs: Programs,
    /// The user the container runs as (`USER`), where the image sets one; probes run as it.
    pub user: Option<String>,
    /// The image's `SHELL` in exec form, where it sets one: a `CMD-SHELL` test runs through it
    /// instead of `/bin/sh -c`.
    pub shell: Option<Vec<String>>,
    /// The container ports the image declares (`EXPOSE`), in the order declared.
    pub exposed: Vec<u16>,
    pub healthcheck: ImageHealthcheck,
}

/// Which programs an image has, as far as muster can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Programs {
    /// These and no other program a probe could use: an empty list is an image without a shell
    /// or a client (distroless, scratch).
    Exactly(Tools),
    /// At least these (installed or copied by a Dockerfile muster followed), on a base whose
    /// other programs muster cannot tell, for the reason given. Nothing at all is known when the
    /// list is empty.
    AtLeast(Tools, CannotTell),
}

/// Why muster cannot tell which programs an image has: a sentence fragment that completes
/// "muster cannot tell which programs the image has: ..." (`it does not know image `x:1``,
/// `the Dockerfile's base `${BASE}` has no default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotTell(pub String);

/// The image's own `HEALTHCHECK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageHealthcheck {
    /// Not recorded: the table does not say (its rows describe tools, not healthchecks).
    #[default]
    Unknown,
    /// The image declares one (`HEALTHCHECK CMD ...`): it runs unless the service replaces it.
    Declared,
    /// It has none: never declared, or turned off (`HEALTHCHECK NONE`).
    Off,
}

impl ProbeFacts {
    /// Facts with nothing known but `programs`.
    pub fn of(programs: Programs) -> Self {
        ProbeFacts {
            programs,
            user: None,
            shell: None,
            exposed: Vec::new(),
            healthcheck: ImageHealthcheck::Unknown,
        }
    }

    /// A table row's facts for `image`, its tag's variant applied.
    pub fn from_table(facts: &'static ImageFacts, image: &ImageRef) -> Self {
        Self::of(Programs::Exactly(Tools::Borrowed(facts.tools_for(image))))
    }

    /// Nothing known, for `reason`.
    pub fn cannot_tell(reason: impl Into<String>) -> Self {
        Self::of(Programs::AtLeast(
            Tools::Borrowed(&[]),
            CannotTell(reason.into()),
        ))
    }
}

impl Programs {
    /// The programs known to be there (all of them, or at least these).
    pub fn known(&self) -> &[&'static str] {
        match self {
            Programs::Exactly(tools) | Programs::AtLeast(tools, _) => tools,
        }
    }

    /// The whole list, when muster knows it.
    pub fn exactly(&self) -> Option<&Tools> {
        match self {
            Programs::Exactly(tools) => Some(tools),
            Programs::AtLeast(..) => None,
        }
    }

    /// Why muster cannot tell the whole list, when it cannot.
    pub fn cannot_tell(&self) -> Option<&CannotTell> {
        match self {
            Programs::Exactly(_) => None,
            Programs::AtLeast(_, why) => Some(why),
        }
    }
}

/// Programs a probe may run that no row below needs to list: the HTTP clients and shells (and
/// the names they go by: busybox, python3, nc), looked for in every image.
const CLIENTS: &[&str] = &[
    "sh", "bash", "busybox", "curl", "wget", "python", "python3", "nc", "node", "grep",
];

/// Every program muster may look for in an image: [`CLIENTS`] and each program a row of
/// [`IMAGES`] lists, sorted. `muster images` records which of these an image has, and a lock file
/// may name no other.
pub fn probe_programs() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = CLIENTS
        .iter()
        .copied()
        .chain(IMAGES.iter().flat_map(|row| {
            row.tools
                .iter()
                .chain(row.variants.iter().flat_map(|v| v.tools.iter()))
                .copied()
        }))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// `name` as one of [`probe_programs`], if it is one.
pub fn probe_program(name: &str) -> Option<&'static str> {
    probe_programs().into_iter().find(|p| *p == name)
}

/// The known images. The first row of an engine gives that engine's default image.
pub static IMAGES: &[ImageFacts] = &[
    ImageFacts {
        repositories: &["postgres"],
        engine: Some("postgres"),
        default_image: Some("postgres:17"),
        port: Some(5432),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "pg_isready", "psql"],
        }],
    },
    ImageFacts {
        repositories: &["pgvector/pgvector"],
        engine: Some("postgres"),
        default_image: None,
        port: Some(5432),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["mysql"],
        engine: Some("mysql"),
        default_image: Some("mysql:8.4"),
        port: Some(3306),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "mysqladmin", "mysql"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["mariadb"],
        engine: Some("mariadb"),
        default_image: Some("mariadb:11.4"),
        port: Some(3306),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "healthcheck.sh", "mariadb-admin"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["mongo"],
        engine: Some("mongo"),
        default_image: Some("mongo:7.0"),
        port: Some(27017),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "mongosh"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["redis"],
        engine: Some("redis"),
        default_image: Some("redis:7.4"),
        port: Some(6379),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "redis-cli"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "redis-cli"],
        }],
    },
    ImageFacts {
        repositories: &["valkey/valkey"],
        engine: Some("valkey"),
        default_image: Some("valkey/valkey:8.0"),
        port: Some(6379),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "valkey-cli", "redis-cli"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "valkey-cli", "redis-cli"],
        }],
    },
    ImageFacts {
        repositories: &["memcached"],
        engine: Some("memcached"),
        default_image: Some("memcached:1.6"),
        port: Some(11211),
        health: None,
        health_switch: None,
        tools: &["sh", "bash"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget"],
        }],
    },
    ImageFacts {
        repositories: &["edoburu/pgbouncer"],
        engine: Some("pgbouncer"),
        default_image: Some("edoburu/pgbouncer:v1.24.1-p1"),
        port: Some(5432),
        health: None,
        health_switch: None,
        // Alpine-based on every tag (busybox: sh, grep, sed, wget), with postgresql-client.
        tools: &["sh", "grep", "sed", "wget", "pg_isready", "psql"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["elasticsearch", "elasticsearch/elasticsearch"],
        engine: Some("elasticsearch"),
        default_image: Some("docker.elastic.co/elasticsearch/elasticsearch:8.15.3"),
        port: Some(9200),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["opensearchproject/opensearch"],
        engine: Some("opensearch"),
        default_image: Some("opensearchproject/opensearch:2.18.0"),
        port: Some(9200),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["qdrant/qdrant"],
        engine: Some("qdrant"),
        default_image: Some("qdrant/qdrant:v1.12.4"),
        port: Some(6333),
        health: Some(HealthEndpoint {
            port: 6333,
            path: "/readyz",
        }),
        health_switch: None,
        // The maintainers refused to add curl or wget (qdrant#3491, #4250): bash is the client.
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &["rabbitmq"],
        engine: Some("rabbitmq"),
        default_image: Some("rabbitmq:4.0-management"),
        port: Some(5672),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "rabbitmq-diagnostics", "rabbitmqctl"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "rabbitmq-diagnostics", "rabbitmqctl"],
        }],
    },
    ImageFacts {
        repositories: &["prom/prometheus"],
        engine: Some("prometheus"),
        default_image: Some("prom/prometheus:v2.55.1"),
        port: Some(9090),
        health: Some(HealthEndpoint {
            port: 9090,
            path: "/-/healthy",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "promtool"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        repositories: &[
            "grafana/grafana",
            "grafana/grafana-oss",
            "grafana/grafana-enterprise",
        ],
        engine: Some("grafana"),
        default_image: Some("grafana/grafana:11.3.1"),
        port: Some(3000),
        health: Some(HealthEndpoint {
            port: 3000,
            path: "/api/health",
        }),
        health_switch: None,
        tools: &["sh", "grep", "curl", "wget"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        // Jaeger v2: the health check extension listens on its own port.
        repositories: &["jaegertracing/jaeger"],
        engine: Some("jaeger"),
        default_image: Some("jaegertracing/jaeger:2.1.0"),
        port: Some(16686),
        health: Some(HealthEndpoint {
            port: 13133,
            path: "/status",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        // Jaeger v1 (retired upstream, jaeger#7702): the admin port serves health.
        repositories: &["jaegertracing/all-in-one"],
        engine: Some("jaeger"),
        default_image: None,
        port: Some(16686),
        health: Some(HealthEndpoint {
            port: 14269,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        variants: &[],
    },
    ImageFacts {
        // python:3.x-slim, the base of the Django, FastAPI and model-serving services.
        repositories: &["python"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "python"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "python"],
        }],
    },
    // nginx: the Debian tag installs curl with nginx and keeps it; `alpine` adds curl back
    // ("to make registering on DNS SD easier"); `alpine-slim` has busybox wget only. The default
    // server answers `/` with its welcome page. [nginxinc/docker-nginx: mainline/debian/Dockerfile,
    // mainline/alpine/Dockerfile, mainline/alpine-slim/Dockerfile]
    ImageFacts {
        repositories: &["nginx"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 80,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        variants: &[
            Variant {
                tag: "alpine-slim",
                tools: &["sh", "grep", "wget"],
            },
            Variant {
                tag: "alpine",
                tools: &["sh", "grep", "wget", "curl"],
            },
        ],
    },
    // Apache httpd: Debian slim with only its libraries (wget is a build dependency, purged);
    // the alpine tag has busybox. `/` serves the default "It works!" page.
    // [docker-library/httpd: 2.4/Dockerfile, 2.4/alpine/Dockerfile]
    ImageFacts {
        repositories: &["httpd"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 80,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget"],
        }],
    },
    // Caddy: alpine (busybox wget); curl is installed only from 2.11 on, so it is left out and
    // every tag gets wget. Sites have no health endpoint of their own; the admin API, on
    // localhost:2019 unless the config moves it, always mounts `/metrics` and accepts the host
    // `127.0.0.1:2019`. [caddyserver/caddy-docker: 2.11/alpine/Dockerfile, Dockerfile.tmpl
    // (#435 added curl); caddyserver/caddy: admin.go (DefaultAdminListen, allowedOrigins),
    // modules/metrics/adminmetrics.go]
    ImageFacts {
        repositories: &["caddy"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 2019,
            path: "/metrics",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "caddy"],
        model_cache: None,
        variants: &[],
    },
    // Traefik: alpine (busybox wget). `/ping` answers on the `traefik` entry point (8080) only
    // when ping is enabled (`--ping`, `TRAEFIK_PING=true` or `ping:` in the static config).
    // [traefik/traefik-library-image: v3.7/alpine/Dockerfile, entrypoint.sh;
    // doc.traefik.io/traefik/operations/ping]
    ImageFacts {
        repositories: &["traefik"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 8080,
            path: "/ping",
        }),
        health_switch: Some(HealthSwitch {
            env: "TRAEFIK_PING",
            flag: "--ping",
        }),
        tools: &["sh", "grep", "wget", "traefik"],
        model_cache: None,
        variants: &[],
    },
    // MinIO: ubi9-micro with a static curl copied in (not on s390x), minio and mc; the
    // entrypoint is `#!/bin/sh`. Liveness is `/minio/health/live` on the S3 port.
    // [minio/minio: Dockerfile.release, dockerscripts/download-static-curl.sh,
    // dockerscripts/docker-entrypoint.sh, cmd/healthcheck-router.go, cmd/generic-handlers.go]
    ImageFacts {
        repositories: &["minio/minio"],
        engine: None,
        default_image: None,
        port: Some(9000),
        health: Some(HealthEndpoint {
            port: 9000,
            path: "/minio/health/live",
        }),
        health_switch: None,
        tools: &["sh", "curl", "minio", "mc"],
        model_cache: None,
        variants: &[],
    },
    // Ollama: ubuntu:24.04 with ca-certificates and GPU libraries only: no curl or wget, bash
    // is the client. `/` answers 200 "Ollama is running". [ollama/ollama: Dockerfile (last
    // stage), server/routes.go]
    ImageFacts {
        repositories: &["ollama/ollama"],
        engine: None,
        default_image: None,
        port: Some(11434),
        health: Some(HealthEndpoint {
            port: 11434,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "ollama"],
        // `docker run -v ollama:/root/.ollama` in Ollama's Docker instructions; its default
        // OLLAMA_MODELS is `$HOME/.ollama/models`, and the image runs as root.
        model_cache: Some("/root/.ollama"),
        variants: &[],
    },
    // vLLM's OpenAI server: nvidia/cuda ubuntu22.04 with curl, wget and python3 (no `python`),
    // `vllm serve` on 8000, whose `/health` fails once the engine is dead.
    // [vllm-project/vllm: docker/Dockerfile (vllm-base, vllm-openai); its API router's
    // `@router.get("/health")`]
    ImageFacts {
        repositories: &["vllm/vllm-openai"],
        engine: None,
        default_image: None,
        port: Some(8000),
        health: Some(HealthEndpoint {
            port: 8000,
            path: "/health",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "python3"],
        // vLLM downloads from the Hugging Face hub into HF_HOME, `/root/.cache/huggingface` as
        // root: its Docker deployment page mounts `~/.cache/huggingface` there.
        model_cache: Some("/root/.cache/huggingface"),
        variants: &[],
    },
    // MailHog: alpine:3 (busybox wget) running as user mailhog; the UI on 8025 serves `/`.
    // [mailhog/MailHog: Dockerfile, vendor/github.com/mailhog/MailHog-UI/web/web.go]
    ImageFacts {
        repositories: &["mailhog/mailhog"],
        engine: None,
        default_image: None,
        port: Some(8025),
        health: Some(HealthEndpoint {
            port: 8025,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "MailHog"],
        model_cache: None,
        variants: &[],
    },
    // Mailpit: alpine (busybox wget), the binary at `/mailpit`, off PATH. `/readyz` on 8025 is
    // what its own HEALTHCHECK (`/mailpit readyz`) asks; `MP_WEBROOT` moves it.
    // [axllent/mailpit: Dockerfile, server/server.go, cmd/readyz.go]
    ImageFacts {
        repositories: &["axllent/mailpit"],
        engine: None,
        default_image: None,
        port: Some(8025),
        health: Some(HealthEndpoint {
            port: 8025,
            path: "/readyz",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        variants: &[],
    },
    // Keycloak: ubi9-micro with Java and bash, no curl (keycloak#17438, #39373: not to be
    // added); its docs give a bash `/dev/tcp` check (keycloak#38131). Since 25 the health
    // endpoints are on the management port 9000, and only with `health-enabled`.
    // [keycloak/keycloak: quarkus/container/Dockerfile; keycloak.org/observability/health]
    ImageFacts {
        repositories: &["keycloak/keycloak"],
        engine: None,
        default_image: None,
        port: Some(8080),
        health: Some(HealthEndpoint {
            port: 9000,
            path: "/health/ready",
        }),
        health_switch: Some(HealthSwitch {
            env: "KC_HEALTH_ENABLED",
            flag: "--health-enabled",
        }),
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        variants: &[],
    },
    // Node: the default tag is buildpack-deps (curl, wget); `slim` installs curl and wget to
    // fetch node, then purges them; alpine deletes its curl build dependency, leaving busybox.
    // The app's port and health path are its own. [nodejs/docker-node: 22/bookworm/Dockerfile,
    // 22/bookworm-slim/Dockerfile, 22/alpine3.23/Dockerfile; docker-library/buildpack-deps:
    // debian/bookworm/curl/Dockerfile]
    ImageFacts {
        repositories: &["node"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "node"],
        model_cache: None,
        variants: &[
            Variant {
                tag: "alpine",
                tools: &["sh", "grep", "wget", "node"],
            },
            Variant {
                tag: "slim",
                tools: &["sh", "bash", "grep", "node"],
            },
        ],
    },
    // Go: buildpack-deps:*-scm (curl, wget) or alpine (busybox wget), for `go run` in dev; a Go
    // app ships FROM distroless or scratch instead. [docker-library/golang: 1.27/bookworm/
    // Dockerfile, 1.27/alpine3.24/Dockerfile]
    ImageFacts {
        repositories: &["golang"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "go"],
        model_cache: None,
        variants: &[Variant {
            tag: "alpine",
            tools: &["sh", "grep", "wget", "go"],
        }],
    },
    // Distroless python3: no shell, `/usr/bin/python` linked to the interpreter, so the python
    // probe (exec form) runs. `:debug` tags add busybox on PATH. [GoogleContainerTools/
    // distroless: README.md, python3/python.bzl, static/static.bzl]
    ImageFacts {
        repositories: &["distroless/python3*"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["python"],
        model_cache: None,
        variants: &[Variant {
            tag: "debug",
            tools: &["sh", "grep", "wget", "python"],
        }],
    },
    // Every other distroless image (static, base, cc, java, nodejs): no shell and no client, so
    // no probe muster writes can run; `:debug` tags add busybox (sh, wget) on PATH.
    // [GoogleContainerTools/distroless: README.md, static/static.bzl, base/testdata/debug.yaml]
    ImageFacts {
        repositories: &["distroless/*"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &[],
        model_cache: None,
        variants: &[Variant {
            tag: "debug",
            tools: &["sh", "grep", "wget"],
        }],
    },
];

/// A server that may demand a password its probe's client then has to send, and how to tell:
/// the probe pipes the reply into `grep` (`redis-cli ping` exits 0 on a refusal), so its output
/// hides the refusal and the live diagnosis asks the server itself.
#[derive(Debug)]
pub struct PasswordCheck {
    pub engine: &'static str,
    /// The command that asks the server with no password, `{port}` standing for its port.
    pub ping: &'static [&'static str],
    /// What the server answers a client that sent none.
    pub refusal: &'static str,
    /// Where the client reads the password from: never argv, where `ps` would show it.
    pub env: &'static str,
}

/// The servers [`PasswordCheck`] knows. valkey-cli, forked from redis-cli, kept its
/// `REDISCLI_AUTH`.
pub static PASSWORD_CHECKS: &[PasswordCheck] = &[
    PasswordCheck {
        engine: "redis",
        ping: &["redis-cli", "-h", "127.0.0.1", "-p", "{port}", "ping"],
        refusal: "NOAUTH",
        env: "REDISCLI_AUTH",
    },
    PasswordCheck {
        engine: "valkey",
        ping: &["valkey-cli", "-h", "127.0.0.1", "-p", "{port}", "ping"],
        refusal: "NOAUTH",
        env: "REDISCLI_AUTH",
    },
];

/// How to tell whether `engine`'s server wants a password, where muster knows.
pub fn password_check(engine: &str) -> Option<&'static PasswordCheck> {
    PASSWORD_CHECKS.iter().find(|c| c.engine == engine)
}

/// The facts for an image reference, if muster knows its repository. A repository written with a
/// final `*` covers a family named by prefix (`distroless/static-debian12`, `-debian13`, ...);
/// the first row that matches wins.
pub fn lookup(image: &ImageRef) -> Option<&'static ImageFacts> {
    IMAGES.iter().find(|facts| {
        facts
            .repositories
            .iter()
            .any(|r| match r.strip_suffix('*') {
                Some(prefix) => image.repository.starts_with(prefix),
                None => *r == image.repository,
            })
    })
}

/// The facts for an engine's default image.
pub fn for_engine(engine: &str) -> Option<&'static ImageFacts> {
    IMAGES
        .iter()
        .find(|facts| facts.engine == Some(engine) && facts.default_image.is_some())
}

/// Where an engine's image keeps its data, when it refuses to initialise a data directory that
/// is not empty: a fresh Kubernetes claim has `lost+found` at its root, so the manifest points the
/// variable at a subdirectory of the mount instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataDir {
    /// The mount point the image's documentation gives for its volume.
    pub path: &'static str,
    /// The variable that moves the data directory.
    pub variable: &'static str,
    /// The subdirectory of `path` it is moved to.
    pub subdirectory: &'static str,
}

/// The engines whose image needs an empty data directory. PostgreSQL's initdb refuses a
/// non-empty one ("directory exists but is not empty"); the postgres image's documentation
/// (docker-library/docs, postgres, PGDATA) recommends PGDATA in a subdirectory of the mount for
/// exactly the `lost+found` of a mounted file system.
const DATA_DIRS: &[(&str, DataDir)] = &[(
    "postgres",
    DataDir {
        path: "/var/lib/postgresql/data",
        variable: "PGDATA",
        subdirectory: "pgdata",
    },
)];

/// Where `engine`'s image keeps the data it must initialise in an empty directory.
pub fn data_dir(engine: &str) -> Option<DataDir> {
    DATA_DIRS
        .iter()
        .find(|(e, _)| *e == engine)
        .map(|(_, d)| *d)
}

/// The program that marks a healthcheck as one engine's (`pg_isready` is PostgreSQL's client),
/// for a Compose file whose image muster does not know: `import` infers the engine from it. Each
/// is a program of its engine's default image (tested).
pub const ENGINE_CLIENTS: &[(&str, &str)] = &[
    ("pg_isready", "postgres"),
    ("redis-cli", "redis"),
    ("valkey-cli", "valkey"),
    ("mysqladmin", "mysql"),
    ("healthcheck.sh", "mariadb"),
    ("mongosh", "mongo"),
    ("rabbitmq-diagnostics", "rabbitmq"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_docker_refuses_are_found() {
        for good in [
            "postgres:17",
            "pgvector/pgvector:pg17",
            "docker.elastic.co/elasticsearch/elasticsearch:8.15.3",
            "Registry.Example.com:5000/team/app_v2:1.0-rc.1",
            "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(reference_problem(good), None, "{good}");
        }
        for (bad, says) in [
            ("MyApp:1", "capitals"),
            ("team/My-App", "capitals"),
            ("my app:1", "no spaces"),
            ("app:-1", "not a tag"),
            ("app:", "not a tag"),
            ("app@sha256:xyz", "not a digest"),
            ("team//app", "not a path component"),
        ] {
            let problem = reference_problem(bad).unwrap_or_default();
            assert!(problem.contains(says), "{bad}: {problem}");
        }
    }

    #[test]
    fn strips_registry_library_and_tag() {
        let r = ImageRef::parse("docker.elastic.co/elasticsearch/elasticsearch:8.15.3");
        assert_eq!(r.repository, "elasticsearch/elasticsearch");
        assert_eq!(r.tag, Some("8.15.3"));
        assert_eq!(
            ImageRef::parse("docker.io/library/postgres:17").repository,
            "postgres"
        );
        let local = ImageRef::parse("localhost:5000/app");
        assert_eq!((local.repository, local.tag), ("app", None));
        assert_eq!(ImageRef::parse("redis@sha256:abc").tag, None);
    }

    #[test]
    fn alpine_tags_lose_bash() {
        let image = ImageRef::parse("memcached:1.6-alpine");
        let facts = lookup(&image).unwrap();
        assert!(!facts.tools_for(&image).contains(&"bash"));
        assert!(
            facts
                .tools_for(&ImageRef::parse("memcached:1.6"))
                .contains(&"bash")
        );
    }

    #[test]
    fn the_first_variant_a_tag_names_decides() {
        let tools = |reference: &str| {
            let image = ImageRef::parse(reference);
            lookup(&image).unwrap().tools_for(&image)
        };
        assert!(tools("nginx:1.27").contains(&"curl"));
        assert!(tools("nginx:1.27-alpine").contains(&"curl"));
        assert!(!tools("nginx:1.27-alpine-slim").contains(&"curl"));
        assert!(tools("node:22").contains(&"curl"));
        assert_eq!(
            tools("node:22-bookworm-slim"),
            ["sh", "bash", "grep", "node"]
        );
        assert_eq!(tools("node:20-alpine"), ["sh", "grep", "wget", "node"]);
    }

    #[test]
    fn a_family_is_found_by_prefix_first_row_first() {
        let row = |reference: &str| lookup(&ImageRef::parse(reference)).map(|f| f.tools);
        assert_eq!(
            row("gcr.io/distroless/static-debian12:nonroot"),
            Some(&[][..])
        );
        assert_eq!(
            row("gcr.io/distroless/python3-debian12"),
            Some(&["python"][..])
        );
        assert_eq!(row("distrolessly/app"), None);
    }

    #[test]
    fn a_health_switch_is_on_by_env_or_flag() {
        let switch = HealthSwitch {
            env: "TRAEFIK_PING",
            flag: "--ping",
        };
        let no_env = |_: &str| None;
        assert!(!switch.is_on(no_env, &["traefik", "--api"]));
        assert!(switch.is_on(no_env, &["traefik", "--ping"]));
        assert!(switch.is_on(no_env, &["--ping=true"]));
        assert!(!switch.is_on(no_env, &["--ping=false"]));
        assert!(switch.is_on(|k| (k == "TRAEFIK_PING").then_some("TRUE"), &[]));
        assert!(!switch.is_on(|k| (k == "TRAEFIK_PING").then_some("false"), &[]));
    }

    #[test]
    fn every_client_is_a_program_of_its_engines_image() {
        for (client, engine) in ENGINE_CLIENTS {
            let facts = for_engine(engine).unwrap_or_else(|| panic!("no row for {engine}"));
            assert!(facts.tools.contains(client), "{engine}'s image lacks {client}");
        }
    }

    #[test]
    fn every_engine_has_one_default_image_that_maps_back_to_it() {
        for facts in IMAGES.iter().filter(|f| f.default_image.is_some()) {
            let image = ImageRef::parse(facts.default_image.unwrap());
            assert_eq!(lookup(&image).unwrap().engine, facts.engine, "{image:?}");
        }
    }
}
