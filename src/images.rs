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

    fn is_alpine(&self) -> bool {
        self.tag.is_some_and(|t| t.contains("alpine"))
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
    /// Programs on the default (Debian-based) tag's PATH that probes may use.
    pub tools: &'static [&'static str],
    /// The same for `-alpine` tags, where they differ: busybox replaces bash and coreutils.
    pub alpine_tools: Option<&'static [&'static str]>,
}

impl ImageFacts {
    pub fn tools_for(&self, image: &ImageRef) -> &'static [&'static str] {
        match self.alpine_tools {
            Some(tools) if image.is_alpine() => tools,
            _ => self.tools,
        }
    }
}

/// The known images. The first row of an engine gives that engine's default image.
pub static IMAGES: &[ImageFacts] = &[
    ImageFacts {
        repositories: &["postgres"],
        engine: Some("postgres"),
        default_image: Some("postgres:17"),
        port: Some(5432),
        health: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        alpine_tools: Some(&["sh", "grep", "wget", "pg_isready", "psql"]),
    },
    ImageFacts {
        repositories: &["pgvector/pgvector"],
        engine: Some("postgres"),
        default_image: None,
        port: Some(5432),
        health: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["mysql"],
        engine: Some("mysql"),
        default_image: Some("mysql:8.4"),
        port: Some(3306),
        health: None,
        tools: &["sh", "bash", "grep", "mysqladmin", "mysql"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["mariadb"],
        engine: Some("mariadb"),
        default_image: Some("mariadb:11.4"),
        port: Some(3306),
        health: None,
        tools: &["sh", "bash", "grep", "healthcheck.sh", "mariadb-admin"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["mongo"],
        engine: Some("mongo"),
        default_image: Some("mongo:7.0"),
        port: Some(27017),
        health: None,
        tools: &["sh", "bash", "grep", "mongosh"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["redis"],
        engine: Some("redis"),
        default_image: Some("redis:7.4"),
        port: Some(6379),
        health: None,
        tools: &["sh", "bash", "grep", "redis-cli"],
        alpine_tools: Some(&["sh", "grep", "wget", "redis-cli"]),
    },
    ImageFacts {
        repositories: &["valkey/valkey"],
        engine: Some("valkey"),
        default_image: Some("valkey/valkey:8.0"),
        port: Some(6379),
        health: None,
        tools: &["sh", "bash", "grep", "valkey-cli", "redis-cli"],
        alpine_tools: Some(&["sh", "grep", "wget", "valkey-cli", "redis-cli"]),
    },
    ImageFacts {
        repositories: &["memcached"],
        engine: Some("memcached"),
        default_image: Some("memcached:1.6"),
        port: Some(11211),
        health: None,
        tools: &["sh", "bash"],
        alpine_tools: Some(&["sh", "grep", "wget"]),
    },
    ImageFacts {
        repositories: &["edoburu/pgbouncer"],
        engine: Some("pgbouncer"),
        default_image: Some("edoburu/pgbouncer:v1.24.1-p1"),
        port: Some(5432),
        health: None,
        // Alpine-based on every tag (busybox: sh, grep, sed, wget), with postgresql-client.
        tools: &["sh", "grep", "sed", "wget", "pg_isready", "psql"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["elasticsearch", "elasticsearch/elasticsearch"],
        engine: Some("elasticsearch"),
        default_image: Some("docker.elastic.co/elasticsearch/elasticsearch:8.15.3"),
        port: Some(9200),
        health: None,
        tools: &["sh", "bash", "grep", "curl"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["opensearchproject/opensearch"],
        engine: Some("opensearch"),
        default_image: Some("opensearchproject/opensearch:2.18.0"),
        port: Some(9200),
        health: None,
        tools: &["sh", "bash", "grep", "curl"],
        alpine_tools: None,
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
        // The maintainers refused to add curl or wget (qdrant#3491, #4250): bash is the client.
        tools: &["sh", "bash", "grep"],
        alpine_tools: None,
    },
    ImageFacts {
        repositories: &["rabbitmq"],
        engine: Some("rabbitmq"),
        default_image: Some("rabbitmq:4.0-management"),
        port: Some(5672),
        health: None,
        tools: &["sh", "bash", "grep", "rabbitmq-diagnostics", "rabbitmqctl"],
        alpine_tools: Some(&["sh", "grep", "wget", "rabbitmq-diagnostics", "rabbitmqctl"]),
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
        tools: &["sh", "grep", "wget", "promtool"],
        alpine_tools: None,
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
        tools: &["sh", "grep", "curl", "wget"],
        alpine_tools: None,
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
        tools: &["sh", "grep", "wget"],
        alpine_tools: None,
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
        tools: &["sh", "grep", "wget"],
        alpine_tools: None,
    },
    ImageFacts {
        // python:3.x-slim, the base of the Django, FastAPI and model-serving services.
        repositories: &["python"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        tools: &["sh", "bash", "grep", "python"],
        alpine_tools: Some(&["sh", "grep", "wget", "python"]),
    },
    ImageFacts {
        repositories: &["nginx"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: None,
        tools: &["sh", "bash", "grep", "curl"],
        alpine_tools: Some(&["sh", "grep", "wget", "curl"]),
    },
];

/// The facts for an image reference, if muster knows its repository.
pub fn lookup(image: &ImageRef) -> Option<&'static ImageFacts> {
    IMAGES
        .iter()
        .find(|facts| facts.repositories.contains(&image.repository))
}

/// The facts for an engine's default image.
pub fn for_engine(engine: &str) -> Option<&'static ImageFacts> {
    IMAGES
        .iter()
        .find(|facts| facts.engine == Some(engine) && facts.default_image.is_some())
}

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
    fn every_engine_has_one_default_image_that_maps_back_to_it() {
        for facts in IMAGES.iter().filter(|f| f.default_image.is_some()) {
            let image = ImageRef::parse(facts.default_image.unwrap());
            assert_eq!(lookup(&image).unwrap().engine, facts.engine, "{image:?}");
        }
    }
}
