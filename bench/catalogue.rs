//! A deterministic catalogue of any size, shaped like the platforms muster is written for.
//!
//! Services come in blocks of 20 that mix every built-in kind roughly as a real platform does:
//! a few data services, mostly HTTP and model services, workers, a scheduler, a migration job.
//! Engines rotate from one service of a kind to the next, so every template branch renders. A
//! service depends on the latest earlier service of each kind it needs (an HTTP service also on
//! the previous HTTP service, which makes a chain as long as the catalogue for the cycle check to
//! walk), so the graph is acyclic by construction and every name resolves.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// The Dockerfile of every build: python-slim, the base the Jinja2 baseline's probes assume
/// (python), which muster now reads rather than assumes.
const DOCKERFILE: &str =
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"gunicorn\", \"app:app\"]\n";

/// Writes the Dockerfile of each build `catalogue` names (contexts `../X`, relative to a
/// catalogue one folder below `root`), once each.
pub fn write_dockerfiles(root: &Path, catalogue: &str) {
    for line in catalogue.lines() {
        let Some(rest) = line.strip_prefix("build = ") else {
            continue;
        };
        let quoted = |after: &str| -> Option<String> {
            let start = rest.find(after)? + after.len();
            let end = rest[start..].find('"')?;
            Some(rest[start..start + end].to_owned())
        };
        let (context, dockerfile) = if rest.starts_with('"') {
            (quoted("\""), None)
        } else {
            (quoted("context = \""), quoted("dockerfile = \""))
        };
        let Some(context) = context.and_then(|c| c.strip_prefix("../").map(str::to_owned)) else {
            continue;
        };
        let path = root
            .join(context)
            .join(dockerfile.as_deref().unwrap_or("Dockerfile"));
        if !path.exists() {
            std::fs::create_dir_all(path.parent().expect("a context folder"))
                .expect("create a build context");
            std::fs::write(path, DOCKERFILE).expect("write a Dockerfile");
        }
    }
}

/// The kinds of one block, in catalogue order. The first ten make the 10-service catalogue,
/// so even that one has dependencies of every condition.
const BLOCK: [&str; 20] = [
    "db",
    "cache",
    "job",
    "http",
    "pool",
    "ai-model",
    "broker",
    "celery-worker",
    "search",
    "vector-db",
    "beat",
    "monitoring",
    "http",
    "db",
    "cache",
    "ai-model",
    "http",
    "celery-worker",
    "ai-model",
    "http",
];

/// The kinds a service of each kind depends on (the latest earlier one of each).
fn needs(kind: &str) -> &'static [&'static str] {
    match kind {
        "job" | "pool" => &["db"],
        "http" => &["pool", "cache", "job", "http"],
        "ai-model" => &["vector-db", "cache", "db"],
        "celery-worker" => &["broker", "cache", "job"],
        "beat" => &["broker", "job"],
        "monitoring" => &["monitoring"],
        _ => &[],
    }
}

/// The catalogue of `services` services, as TOML text.
pub fn generate(services: usize) -> String {
    let mut out = String::from("[project]\nname = \"bench\"\n");
    let mut latest: HashMap<&str, String> = HashMap::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for i in 0..services {
        let kind = BLOCK[i % BLOCK.len()];
        let nth = seen.entry(kind).or_default();
        let name = format!("{kind}-{i:05}");
        let _ = write!(out, "\n[services.{name}]\nkind = \"{kind}\"\n");
        body(&mut out, kind, *nth, i, &latest);
        *nth += 1;
        let deps: Vec<&str> = needs(kind)
            .iter()
            .filter_map(|k| latest.get(k).map(String::as_str))
            .collect();
        if kind == "celery-worker" {
            // The table form, with conditions asked for rather than inferred.
            let table: Vec<String> = deps
                .iter()
                .map(|d| {
                    let condition = if d.starts_with("job-") {
                        "completed"
                    } else {
                        "healthy"
                    };
                    format!("\"{d}\" = \"{condition}\"")
                })
                .collect();
            let _ = writeln!(out, "depends_on = {{ {} }}", table.join(", "));
        } else if !deps.is_empty() {
            let list: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
            let _ = writeln!(out, "depends_on = [{}]", list.join(", "));
        }
        latest.insert(kind, name);
    }
    out
}

/// The keys of the `nth` service of its kind, `i`th in the catalogue: images, env, volumes and
/// ports as people write them.
fn body(out: &mut String, kind: &str, nth: usize, i: usize, latest: &HashMap<&str, String>) {
    // Every block starts with a database, so any later service has one to point at.
    let db = latest.get("db").map_or("", String::as_str);
    let lines: Vec<String> = match kind {
        "db" => match nth % 4 {
            0 => vec![
                "image = \"postgres:17\"".into(),
                format!(
                    "env = {{ POSTGRES_DB = \"app{i}\", POSTGRES_USER = \"app{i}\", POSTGRES_PASSWORD = \"${{PG_PASSWORD_{i}:?set it in .env}}\" }}"
                ),
                format!("volumes = [\"pgdata{i}:/var/lib/postgresql/data\"]"),
            ],
            1 => vec![
                "image = \"mysql:8.4\"".into(),
                format!(
                    "env = {{ MYSQL_DATABASE = \"app{i}\", MYSQL_ROOT_PASSWORD = \"${{MYSQL_PASSWORD_{i}:?set it in .env}}\" }}"
                ),
                format!("volumes = [\"mysqldata{i}:/var/lib/mysql\"]"),
            ],
            2 => vec![
                "image = \"mariadb:11.4\"".into(),
                format!(
                    "env = {{ MARIADB_ROOT_PASSWORD = \"${{MARIADB_PASSWORD_{i}:?set it in .env}}\" }}"
                ),
                format!("volumes = [\"mariadbdata{i}:/var/lib/mysql\"]"),
            ],
            _ => vec![
                "image = \"mongo:7.0\"".into(),
                format!("volumes = [\"mongodata{i}:/data/db\"]"),
            ],
        },
        "cache" => match nth % 3 {
            0 => vec![
                "image = \"redis:7.4\"".into(),
                "command = [\"redis-server\", \"--appendonly\", \"yes\"]".into(),
                format!("volumes = [\"redisdata{i}:/data\"]"),
            ],
            1 => vec!["image = \"valkey/valkey:8.0\"".into()],
            _ => vec!["image = \"memcached:1.6\"".into()],
        },
        "job" => vec![
            "build = \"../backend\"".into(),
            "command = \"python manage.py migrate --noinput\"".into(),
            "env_file = [\".env\"]".into(),
        ],
        "pool" => vec![
            "image = \"edoburu/pgbouncer:v1.24.1-p1\"".into(),
            "port = 6432".into(),
            format!(
                "env = {{ DB_HOST = \"{db}\", LISTEN_PORT = \"6432\", POOL_MODE = \"transaction\" }}"
            ),
        ],
        "http" if nth.is_multiple_of(3) => vec![
            "image = \"nginx:1.27\"".into(),
            "port = 80".into(),
            "health_path = \"/healthz\"".into(),
            format!("ports = [\"{}:80\"]", 10000 + i),
            "networks = [\"edge\"]".into(),
        ],
        "http" => vec![
            format!("build = \"../services/api{i}\""),
            "ready_path = \"/health/ready\"".into(),
            "env_file = [\".env\"]".into(),
            format!(
                "env = {{ DATABASE_URL = \"postgres://{db}:5432/app\", WORKERS = 4, DEBUG = false }}"
            ),
            format!("labels = {{ \"com.example.team\" = \"team{}\" }}", nth % 7),
            "networks = [\"edge\", \"internal\"]".into(),
            "profiles.prod = { replicas = 2 }".into(),
        ],
        "ai-model" => vec![
            format!("build = {{ context = \"../models/m{i}\", dockerfile = \"Dockerfile.gpu\" }}"),
            format!("port = {}", 8001 + i % 100),
            "volumes = [\"models:/models:ro\"]".into(),
            format!("env = {{ MODEL_NAME = \"m{i}\", HF_HUB_OFFLINE = \"1\" }}"),
        ],
        "broker" => vec![
            "image = \"rabbitmq:4.0-management\"".into(),
            format!(
                "env = {{ RABBITMQ_DEFAULT_USER = \"app\", RABBITMQ_DEFAULT_PASS = \"${{RABBITMQ_PASSWORD_{i}:?set it in .env}}\" }}"
            ),
            format!("volumes = [\"rabbitmqdata{i}:/var/lib/rabbitmq\"]"),
        ],
        "celery-worker" => vec![
            "build = \"../backend\"".into(),
            format!("app = \"proj{}.celery:app\"", nth % 5),
            "env_file = [\".env\"]".into(),
        ],
        "search" => match nth % 3 {
            0 => vec![
                "image = \"docker.elastic.co/elasticsearch/elasticsearch:8.15.3\"".into(),
                "env = { \"discovery.type\" = \"single-node\", ELASTIC_PASSWORD = \"${ELASTIC_PASSWORD:?set it in .env}\" }".into(),
            ],
            1 => vec![
                "image = \"docker.elastic.co/elasticsearch/elasticsearch:8.15.3\"".into(),
                "env = { \"discovery.type\" = \"single-node\", \"xpack.security.enabled\" = \"false\" }".into(),
            ],
            _ => vec![
                "image = \"opensearchproject/opensearch:2.18.0\"".into(),
                "env = { \"discovery.type\" = \"single-node\", OPENSEARCH_INITIAL_ADMIN_PASSWORD = \"${OPENSEARCH_PASSWORD:?set it in .env}\" }".into(),
            ],
        },
        "vector-db" => vec![
            "image = \"qdrant/qdrant:v1.12.4\"".into(),
            format!("volumes = [\"qdrantdata{i}:/qdrant/storage\"]"),
        ],
        "beat" => vec!["build = \"../backend\"".into()],
        "monitoring" => match nth % 3 {
            0 => vec![
                "image = \"prom/prometheus:v2.55.1\"".into(),
                "volumes = [\"./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro\"]"
                    .into(),
            ],
            1 => vec!["image = \"grafana/grafana:11.3.1\"".into()],
            _ => vec!["image = \"jaegertracing/jaeger:2.1.0\"".into()],
        },
        other => unreachable!("BLOCK has no kind {other}"),
    };
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
}
