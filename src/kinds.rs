//! Kinds: what a service is for, which engines can run it, and the template that turns it into
//! Compose keys. Built-in kinds are compiled in; a user's `templates/kinds/KIND.yml.j2` overrides
//! a built-in template or adds a kind of its own.

use crate::model::{KindTraits, ProbeStyle};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Kind {
    pub name: String,
    pub summary: &'static str,
    /// Engines this kind can run; empty for kinds that run the user's own code.
    pub engines: &'static [&'static str],
    pub probe: ProbeStyle,
    pub traits: KindTraits,
    pub default_port: Option<u16>,
    pub template: Template,
}

#[derive(Debug, Clone)]
pub struct Template {
    /// The name diagnostics show: `templates/kinds/db.yml.j2` (built-in) or the user's path.
    pub origin: TemplateOrigin,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOrigin {
    BuiltIn,
    User(PathBuf),
}

impl Template {
    pub fn display_name(&self, kind: &str) -> String {
        match &self.origin {
            TemplateOrigin::BuiltIn => format!("<built-in>/templates/kinds/{kind}.yml.j2"),
            TemplateOrigin::User(path) => path.display().to_string(),
        }
    }
}

struct BuiltIn {
    name: &'static str,
    summary: &'static str,
    engines: &'static [&'static str],
    probe: ProbeStyle,
    traits: KindTraits,
    default_port: Option<u16>,
    template: &'static str,
}

macro_rules! template {
    ($kind:literal) => {
        include_str!(concat!("../templates/kinds/", $kind, ".yml.j2"))
    };
}

/// Most kinds are none of the things [`KindTraits`] tells apart.
const PLAIN: KindTraits = KindTraits {
    runs_to_completion: false,
    stateful: false,
    slow_to_start: false,
    single_instance: false,
    datastore: false,
};
/// A server other services keep their data in, and reach over the network.
const DATASTORE: KindTraits = KindTraits {
    stateful: true,
    datastore: true,
    ..PLAIN
};

static BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "db",
        summary: "a database server",
        engines: &["postgres", "mysql", "mariadb", "mongo"],
        probe: ProbeStyle::Native,
        traits: DATASTORE,
        default_port: None,
        template: template!("db"),
    },
    BuiltIn {
        name: "cache",
        summary: "an in-memory cache or key-value store",
        engines: &["redis", "valkey", "memcached"],
        probe: ProbeStyle::Native,
        traits: DATASTORE,
        default_port: None,
        template: template!("cache"),
    },
    BuiltIn {
        name: "pool",
        summary: "a connection pooler in front of a database",
        engines: &["pgbouncer"],
        probe: ProbeStyle::Native,
        // Stateless itself, but whoever reaches it reaches the database behind it.
        traits: KindTraits {
            datastore: true,
            ..PLAIN
        },
        default_port: None,
        template: template!("pool"),
    },
    BuiltIn {
        name: "search",
        summary: "a search engine",
        engines: &["elasticsearch", "opensearch"],
        probe: ProbeStyle::Native,
        traits: KindTraits {
            slow_to_start: true,
            ..DATASTORE
        },
        default_port: None,
        template: template!("search"),
    },
    BuiltIn {
        name: "vector-db",
        summary: "a vector database",
        engines: &["qdrant"],
        probe: ProbeStyle::Http,
        traits: DATASTORE,
        default_port: None,
        template: template!("vector-db"),
    },
    BuiltIn {
        name: "broker",
        summary: "a message broker",
        engines: &["rabbitmq"],
        probe: ProbeStyle::Native,
        traits: DATASTORE,
        default_port: None,
        template: template!("broker"),
    },
    BuiltIn {
        name: "http",
        summary: "an HTTP service of your own (API, web app, gateway)",
        engines: &[],
        probe: ProbeStyle::Http,
        traits: PLAIN,
        default_port: Some(8000),
        template: template!("http"),
    },
    BuiltIn {
        name: "ai-model",
        summary: "an HTTP service that loads a model before it can answer",
        engines: &[],
        probe: ProbeStyle::Http,
        traits: KindTraits {
            slow_to_start: true,
            ..PLAIN
        },
        default_port: Some(8000),
        template: template!("ai-model"),
    },
    BuiltIn {
        name: "celery-worker",
        summary: "a Celery worker",
        engines: &[],
        probe: ProbeStyle::Native,
        traits: PLAIN,
        default_port: None,
        template: template!("celery-worker"),
    },
    BuiltIn {
        name: "beat",
        summary: "the Celery beat scheduler (run exactly one)",
        engines: &[],
        probe: ProbeStyle::Native,
        traits: KindTraits {
            single_instance: true,
            ..PLAIN
        },
        default_port: None,
        template: template!("beat"),
    },
    BuiltIn {
        name: "monitoring",
        summary: "metrics, logs, dashboards, tracing and their collectors",
        engines: &[
            "prometheus",
            "grafana",
            "jaeger",
            "loki",
            "tempo",
            "alloy",
            "promtail",
            "cadvisor",
            "node-exporter",
            "alertmanager",
            "otel-collector",
            "flower",
        ],
        probe: ProbeStyle::Http,
        traits: PLAIN,
        default_port: None,
        template: template!("monitoring"),
    },
    BuiltIn {
        name: "job",
        summary: "a one-shot task such as migrations; dependents wait for it to succeed",
        engines: &[],
        probe: ProbeStyle::None,
        traits: KindTraits {
            runs_to_completion: true,
            ..PLAIN
        },
        default_port: None,
        template: template!("job"),
    },
];

/// The built-in kinds' names, for messages written before the user's templates are read.
pub fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|b| b.name)
}

/// The kinds available to one catalogue: the built-ins, then the user's templates folder.
#[derive(Debug, Clone)]
pub struct Kinds {
    kinds: Vec<Kind>,
}

pub const TEMPLATE_SUFFIX: &str = ".yml.j2";

/// Where an HTTP kind running the user's own code answers health checks, unless `health_path`
/// says otherwise.
pub const DEFAULT_HEALTH_PATH: &str = "/health/live";

impl Kinds {
    pub fn built_in() -> Self {
        let kinds = BUILT_IN
            .iter()
            .map(|b| Kind {
                name: b.name.to_owned(),
                summary: b.summary,
                engines: b.engines,
                probe: b.probe,
                traits: b.traits,
                default_port: b.default_port,
                template: Template {
                    origin: TemplateOrigin::BuiltIn,
                    source: b.template.to_owned(),
                },
            })
            .collect();
        Kinds { kinds }
    }

    /// Adds or overrides kinds from `DIR/kinds/*.yml.j2`. A missing folder adds nothing: most
    /// catalogues need no templates of their own.
    pub fn with_user_templates(mut self, dir: &Path) -> Result<Self, crate::error::Error> {
        use crate::error::Error;
        let folder = dir.join("kinds");
        let files = crate::user_files::named_files(&folder, TEMPLATE_SUFFIX)
            .map_err(Error::io("read the templates folder", &folder))?;
        for (name, path) in files {
            let source =
                std::fs::read_to_string(&path).map_err(Error::io("read the template", &path))?;
            self.add_user_template(&name, &path, source);
        }
        Ok(self)
    }

    /// Adds the kind `name`, or replaces a built-in kind's template, with the template `source`
    /// read from `path` (already read: the fuzzer has no files).
    pub fn add_user_template(&mut self, name: &str, path: &Path, source: String) {
        let template = Template {
            source,
            origin: TemplateOrigin::User(path.to_owned()),
        };
        match self.kinds.iter_mut().find(|k| k.name == name) {
            Some(kind) => kind.template = template,
            None => self.kinds.push(Kind {
                name: name.to_owned(),
                summary: "a kind defined by your templates folder",
                engines: &[],
                probe: ProbeStyle::Http,
                // A template alone cannot say more; a user's template for a built-in
                // kind keeps that kind's traits above.
                traits: PLAIN,
                default_port: None,
                template,
            }),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.iter()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kinds.iter().map(|k| k.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_template_keeps_a_built_in_kinds_traits_and_a_new_kind_has_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("kinds")).unwrap();
        for name in ["job", "batch"] {
            let path = dir
                .path()
                .join("kinds")
                .join(format!("{name}{TEMPLATE_SUFFIX}"));
            std::fs::write(path, "{}\n").unwrap();
        }
        let kinds = Kinds::built_in().with_user_templates(dir.path()).unwrap();
        let job = kinds.get("job").unwrap();
        assert!(matches!(job.template.origin, TemplateOrigin::User(_)));
        assert!(job.traits.runs_to_completion);
        assert_eq!(kinds.get("batch").unwrap().traits, KindTraits::default());
    }
}
