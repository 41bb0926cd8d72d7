//! What the source does not say outright: a service's kind (and engine) from its image,
//! command and healthcheck, and the port, path, Celery app and HTTP client its probe uses.

use super::DraftEntry;
use crate::images::{self, ImageRef};
use crate::kinds::Kinds;
use crate::model::ProbeStyle;
use crate::probe;
use crate::yaml::Value as Yaml;

impl DraftEntry {
    /// The source's healthcheck test as a list: a plain string is `CMD-SHELL`.
    fn test_argv(&self) -> Option<Vec<String>> {
        self.test().map(|t| match t {
            Yaml::String(s) => vec!["CMD-SHELL".to_owned(), s.clone()],
            other => strings_of(other),
        })
    }

    /// The kind, and the engine where the image does not tell it.
    pub(super) fn infer_kind(&mut self, kinds: &Kinds) {
        let image = self.source.get("image").and_then(Yaml::as_str);
        let command = text_of(self.source.get("command"));
        let test = text_of(self.test());
        let restart = self.source.get("restart").and_then(Yaml::as_str);
        let engine_kind = |engine: &str| kinds.iter().find(|k| k.engines.contains(&engine));
        let image_engine = image.and_then(|i| images::lookup(&ImageRef::parse(i))?.engine);
        let (kind, reason, guessed) = if let (Some(engine), Some(kind)) =
            (image_engine, image_engine.and_then(engine_kind))
        {
            let reason = format!("image `{}` runs {engine}", image.unwrap_or_default());
            (kind.name.clone(), reason, false)
        } else if let Some(kind) = celery_kind(&command, &test)
            // The Celery kinds write a command: without one in the source, the image's own
            // would be replaced.
            && self.source.contains_key("command")
        {
            (kind.to_owned(), "its command runs Celery".to_owned(), false)
        } else if is_one_shot(&command) {
            (
                "job".to_owned(),
                "its command runs migrations, once".to_owned(),
                false,
            )
        } else if self.test().is_none()
            && matches!(restart, Some(r) if r == "no" || r.starts_with("on-failure"))
        {
            (
                "job".to_owned(),
                format!(
                    "guessed from `restart: {}` and no healthcheck",
                    restart.unwrap_or_default()
                ),
                true,
            )
        } else if let Some((engine, kind)) =
            probe_engine(&test).and_then(|e| Some((e, engine_kind(e)?)))
        {
            self.set("engine", Yaml::from(engine));
            (
                kind.name.clone(),
                format!("guessed from its healthcheck, which runs {engine}'s client"),
                true,
            )
        } else if self.test_argv().as_deref().and_then(http_client).is_some() {
            // Model servers need a long start_period; the built-in profiles give one to
            // `ai-model` and not to `http`.
            let start = self
                .source
                .get("healthcheck")
                .and_then(|h| h.get(crate::model::HealthKey::StartPeriod.name()))
                .and_then(Yaml::as_str)
                .and_then(|d| crate::model::duration::parse(d).ok());
            if start.is_some_and(|s| s.as_secs() >= 60) {
                (
                    "ai-model".to_owned(),
                    "guessed from an HTTP healthcheck with a start_period of a minute or more \
                     (a model loading)"
                        .to_owned(),
                    true,
                )
            } else {
                (
                    "http".to_owned(),
                    "guessed from its HTTP healthcheck".to_owned(),
                    true,
                )
            }
        } else {
            (
                "http".to_owned(),
                "guessed: nothing in the image, command or healthcheck tells what it is".to_owned(),
                true,
            )
        };
        self.kind = kind;
        self.reason = reason;
        self.guessed = guessed;
    }

    /// What the kind's template needs to render the source's probe: the port and path the
    /// probe targets, the Celery app, the HTTP client. Each is set only where it differs from
    /// what muster would assume.
    pub(super) fn infer_template_inputs(&mut self, kinds: &Kinds) {
        let Some(kind) = kinds.get(&self.kind) else {
            return;
        };
        let image = self
            .source
            .get("image")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        let image_ref = image.as_deref().map(ImageRef::parse);
        let engine = self
            .keys
            .get("engine")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        let facts = image_ref
            .as_ref()
            .and_then(images::lookup)
            .or_else(|| engine.as_deref().and_then(images::for_engine));
        let test = self.test_argv();
        let test_text = test.as_deref().map(|t| t.join(" ")).unwrap_or_default();
        let command = text_of(self.source.get("command"));
        if let Some(app) = celery_app(&command).or_else(|| celery_app(&test_text))
            && app != "config"
        {
            self.set("app", Yaml::from(app));
        }
        // An image whose health endpoint has a port of its own (Jaeger's) keeps it whatever the
        // service port is; elsewhere the probe's port is the service's.
        let fixed_health_port = facts
            .and_then(|f| f.health.map(|h| Some(h.port) != f.port))
            .unwrap_or(false);
        let default_port = facts.and_then(|f| f.port).or(kind.default_port);
        if let Some(port) = probe_port(&test_text)
            && !fixed_health_port
            && Some(port) != default_port
        {
            self.set("port", Yaml::from(u64::from(port)));
        }
        if kind.probe != ProbeStyle::Http {
            return;
        }
        let default_path = facts.and_then(|f| f.health.map(|h| h.path)).or(kind
            .engines
            .is_empty()
            .then_some(crate::kinds::DEFAULT_HEALTH_PATH));
        if let Some(path) = probe_path(&test_text)
            && Some(path.as_str()) != default_path
        {
            self.set("health_path", Yaml::from(path));
        }
        let tools = match (&image_ref, facts) {
            (Some(r), Some(f)) => Some(f.tools_for(r)),
            _ => None,
        };
        let auto = probe::choose(None, kind.probe, tools).ok();
        if let Some(client) = test.as_deref().and_then(http_client)
            && auto.map(|p| p.to_string()).as_deref() != Some(client)
        {
            self.set("probe", Yaml::from(client));
        }
    }
}

fn text_of(value: Option<&Yaml>) -> String {
    match value {
        Some(Yaml::String(s)) => s.clone(),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(Yaml::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn strings_of(value: &Yaml) -> Vec<String> {
    value
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_str)
        .map(str::to_owned)
        .collect()
}

fn celery_kind(command: &str, test: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let celery = words.iter().any(|w| w.ends_with("celery"));
    if celery && words.contains(&"beat") {
        Some("beat")
    } else if celery && words.contains(&"worker") || test.contains("inspect ping") {
        Some("celery-worker")
    } else {
        None
    }
}

/// The Celery app of `celery -A APP`, `--app APP` or `--app=APP`.
fn celery_app(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(app) = w.strip_prefix("--app=") {
            return Some(app.to_owned());
        }
        matches!(*w, "-A" | "--app")
            .then(|| words.get(i + 1).map(|a| (*a).to_owned()))
            .flatten()
    })
}

/// Commands that run once and exit: migrations and their kin.
fn is_one_shot(command: &str) -> bool {
    [
        "manage.py migrate",
        "alembic upgrade",
        "flask db upgrade",
        "rails db:migrate",
        "prisma migrate",
    ]
    .iter()
    .any(|c| command.contains(c))
}

/// The engine whose client a healthcheck runs, for images muster does not know.
fn probe_engine(test: &str) -> Option<&'static str> {
    images::ENGINE_CLIENTS
        .iter()
        .find(|(client, _)| test.contains(client))
        .map(|(_, engine)| *engine)
}

/// The HTTP client of a probe, by muster's `probe` names.
fn http_client(test: &[String]) -> Option<&'static str> {
    let text = test.join(" ");
    let programs = probe::programs(test);
    let has = |p: &str| programs.iter().any(|q| q == p);
    if has("curl") && text.contains("http") {
        Some("curl")
    } else if has("wget") && text.contains("http") {
        Some("wget")
    } else if (has("python") || has("python3")) && text.contains("urllib") {
        Some("python")
    } else if has("bash") && text.contains("/dev/tcp") && text.contains("GET ") {
        Some("bash-tcp")
    } else {
        None
    }
}

/// The port a probe targets: in its URL, its `/dev/tcp` path, or a `-p`/`-P`/`--port` flag.
fn probe_port(test: &str) -> Option<u16> {
    let after = |marker: &str| {
        test.split(marker).nth(1).and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    };
    [
        "127.0.0.1:",
        "localhost:",
        "/dev/tcp/127.0.0.1/",
        "/dev/tcp/localhost/",
    ]
    .iter()
    .find_map(|m| after(m))
    .or_else(|| {
        let words: Vec<&str> = test.split_whitespace().collect();
        words.windows(2).find_map(|w| {
            matches!(w[0], "-p" | "-P" | "--port")
                .then(|| w[1].trim_matches(['"', '\'']).parse().ok())
                .flatten()
        })
    })
}

/// The path of a probe's URL.
fn probe_path(test: &str) -> Option<String> {
    let rest = test.split("://").nth(1)?;
    let path_start = rest.find('/')?;
    let path: String = rest[path_start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !"\"'".contains(*c))
        .collect();
    Some(path)
}
