//! Map: each service made an entry, its kind inferred (in [`super::infer`]), every Compose key
//! muster models moved onto its catalogue key, and the rest kept under `compose`.

use super::DraftEntry;
use super::read::{is_empty, pairs};
use crate::kinds::Kinds;
use crate::yaml::{Mapping, Value as Yaml};

impl DraftEntry {
    pub(super) fn new(name: &str, source: Mapping, kinds: &Kinds) -> Self {
        let mut entry = DraftEntry {
            name: name.to_owned(),
            kind: String::new(),
            reason: String::new(),
            guessed: false,
            keys: Mapping::new(),
            compose: Mapping::new(),
            depends_on: Vec::new(),
            dependency_options: indexmap::IndexMap::new(),
            source,
            notes: Vec::new(),
        };
        entry.infer_kind(kinds);
        entry.map_keys();
        entry.infer_template_inputs(kinds);
        entry
    }

    /// Moves every Compose key onto its catalogue key, or under `compose`.
    fn map_keys(&mut self) {
        let source = self.source.clone();
        for (key, value) in &source {
            let Some(key) = key.as_str() else { continue };
            match key {
                "image" | "restart" | "command" | "entrypoint" => self.set(key, value.clone()),
                "build" => self.build(value),
                "environment" => match pairs(value) {
                    Some(env) => self.set("env", Yaml::Mapping(env)),
                    None => {
                        self.notes.push(
                            "`environment` passes a host variable through (no value), which \
                             `env` cannot say: it is kept whole under `compose`"
                                .into(),
                        );
                        self.passthrough(key, &environment_list(value));
                    }
                },
                "labels" => match pairs(value) {
                    Some(labels) => self.set("labels", Yaml::Mapping(labels)),
                    None => self.passthrough(key, value),
                },
                "env_file" | "ports" => match strings(value) {
                    Some(list) => self.set(key, list),
                    None => self.passthrough(key, value),
                },
                "volumes" => self.volumes(value),
                "networks" => self.networks(value),
                "depends_on" => self.depends_on(value),
                "healthcheck" => self.healthcheck(value),
                "deploy" => {
                    let mut deploy = value.as_mapping().cloned().unwrap_or_default();
                    if let Some(replicas) = deploy.remove("replicas") {
                        self.set("replicas", replicas);
                    }
                    if !deploy.is_empty() {
                        self.passthrough(key, &Yaml::Mapping(deploy));
                    }
                }
                // Compose's profiles (which services `up` starts) are not muster's profiles:
                // the catalogue's own key for them.
                "profiles" => match strings(value) {
                    Some(list) => self.set("compose_profiles", list),
                    None => self.passthrough(key, value),
                },
                "gpus" => match gpus(value) {
                    Some(gpus) => self.set("gpus", gpus),
                    None => {
                        self.notes.push(
                            "`gpus` asks for more than one device request, which the \
                             catalogue's `gpus` cannot say: kept under `compose`"
                                .into(),
                        );
                        self.passthrough(key, value);
                    }
                },
                "models" => match models(value) {
                    Some(models) => self.set("models", models),
                    None => self.passthrough(key, value),
                },
                _ => self.passthrough(key, value),
            }
        }
    }

    fn passthrough(&mut self, key: &str, value: &Yaml) {
        self.compose.insert(Yaml::from(key), value.clone());
    }

    fn build(&mut self, value: &Yaml) {
        let Yaml::Mapping(build) = value else {
            self.set("build", value.clone());
            return;
        };
        let modelled = ["context", "dockerfile", "target", "args"];
        let extra = build
            .keys()
            .any(|k| !modelled.contains(&k.as_str().unwrap_or_default()));
        let mut table = Mapping::new();
        for key in modelled {
            match (key, build.get(key)) {
                ("args", Some(args)) => match pairs(args) {
                    Some(args) => {
                        table.insert("args".into(), Yaml::Mapping(args));
                    }
                    None => return self.passthrough("build", value),
                },
                (_, Some(v)) => {
                    table.insert(key.into(), v.clone());
                }
                _ => {}
            }
        }
        if extra {
            // The catalogue's `build` gives the context (a build needs one); the passthrough
            // replaces it whole with every setting.
            if let Some(context) = build.get("context") {
                self.set("build", context.clone());
            }
            self.passthrough("build", value);
        } else {
            self.set("build", Yaml::Mapping(table));
        }
    }

    fn volumes(&mut self, value: &Yaml) {
        let short: Option<Vec<Yaml>> = value
            .as_sequence()
            .map(|items| items.iter().map(short_volume).collect())
            .unwrap_or_default();
        match short {
            Some(list) => self.set("volumes", Yaml::Sequence(list)),
            None => {
                self.notes.push(
                    "`volumes` uses long-form options the short form cannot say (or a bind \
                     mount, which the short form would create when its folder is missing): kept \
                     under `compose`"
                        .into(),
                );
                self.passthrough("volumes", value);
            }
        }
    }

    fn networks(&mut self, value: &Yaml) {
        match value {
            Yaml::Sequence(_) => self.set("networks", value.clone()),
            Yaml::Mapping(m) => {
                let names: Vec<Yaml> = m.keys().cloned().collect();
                self.set("networks", Yaml::Sequence(names));
                if m.values().any(|v| !is_empty(v)) {
                    // `networks` declares them at the top level; the passthrough, merged last,
                    // replaces the list with the settings (null is `{}` there).
                    let settings = m
                        .iter()
                        .map(|(k, v)| {
                            let v = if v.is_null() {
                                Yaml::Mapping(Mapping::new())
                            } else {
                                v.clone()
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    self.passthrough("networks", &Yaml::Mapping(settings));
                }
            }
            _ => self.passthrough("networks", value),
        }
    }

    fn depends_on(&mut self, value: &Yaml) {
        match value {
            // The short form waits for the start only.
            Yaml::Sequence(items) => {
                self.depends_on = items
                    .iter()
                    .filter_map(Yaml::as_str)
                    .map(|t| (t.to_owned(), "service_started".to_owned()))
                    .collect();
            }
            Yaml::Mapping(m) => {
                let mut extra = Mapping::new();
                for (target, settings) in m {
                    let Some(target) = target.as_str() else {
                        continue;
                    };
                    let mut settings = settings.as_mapping().cloned().unwrap_or_default();
                    let condition = settings
                        .remove("condition")
                        .and_then(|c| c.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "service_started".to_owned());
                    self.depends_on.push((target.to_owned(), condition));
                    // `restart` and `required` are the catalogue's own, per dependency.
                    let mut options = Mapping::new();
                    for option in ["restart", "required"] {
                        if let Some(v @ Yaml::Bool(_)) = settings.get(option) {
                            options.insert(Yaml::from(option), v.clone());
                            settings.remove(option);
                        }
                    }
                    if !options.is_empty() {
                        self.dependency_options.insert(target.to_owned(), options);
                    }
                    if !settings.is_empty() {
                        extra.insert(Yaml::from(target), Yaml::Mapping(settings));
                    }
                }
                if !extra.is_empty() {
                    self.passthrough("depends_on", &Yaml::Mapping(extra));
                }
            }
            _ => self.passthrough("depends_on", value),
        }
    }

    fn healthcheck(&mut self, value: &Yaml) {
        let Some(hc) = value.as_mapping() else {
            return self.passthrough("healthcheck", value);
        };
        let mut table = Mapping::new();
        let mut extra = Mapping::new();
        for (key, v) in hc {
            match key.as_str().unwrap_or_default() {
                "test"
                    if v.as_sequence()
                        .and_then(|s| s.first())
                        .and_then(Yaml::as_str)
                        == Some("NONE") =>
                {
                    table.insert("disable".into(), Yaml::Bool(true));
                }
                "test" | "interval" | "timeout" | "retries" | "start_period" | "start_interval"
                | "disable" => {
                    table.insert(key.clone(), v.clone());
                }
                _ => {
                    extra.insert(key.clone(), v.clone());
                }
            }
        }
        if !table.is_empty() {
            self.set("healthcheck", Yaml::Mapping(table));
        }
        if !extra.is_empty() {
            self.passthrough("healthcheck", &Yaml::Mapping(extra));
        }
    }
}

/// Compose's `gpus` as the catalogue's: `"all"`, a count alone, or one device request's table;
/// `None` for what the catalogue cannot say (several requests, keys it does not know).
fn gpus(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::String(all) if all == "all" => Some(value.clone()),
        Yaml::Sequence(requests) => {
            let [Yaml::Mapping(request)] = requests.as_slice() else {
                return None;
            };
            let known = ["count", "device_ids", "driver", "capabilities", "options"];
            if request
                .keys()
                .any(|k| !known.contains(&k.as_str().unwrap_or_default()))
            {
                return None;
            }
            match (request.len(), request.get("count")) {
                (1, Some(count @ Yaml::Number(_))) => Some(count.clone()),
                _ => Some(Yaml::Mapping(request.clone())),
            }
        }
        _ => None,
    }
}

/// A service's `models` as the catalogue's: the list, or each model's variables.
fn models(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::Sequence(names) => names.iter().all(Yaml::is_string).then(|| value.clone()),
        Yaml::Mapping(bindings) => bindings
            .values()
            .all(|b| {
                b.is_null()
                    || b.as_mapping().is_some_and(|m| {
                        m.keys()
                            .all(|k| matches!(k.as_str(), Some("endpoint_var" | "model_var")))
                    })
            })
            .then(|| {
                Yaml::Mapping(
                    bindings
                        .iter()
                        .map(|(k, v)| {
                            let v = if v.is_null() {
                                Yaml::Mapping(Mapping::new())
                            } else {
                                v.clone()
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                )
            }),
        _ => None,
    }
}

/// A list of strings (numbers written as strings, as `ports: [8000]` means `"8000"`).
fn strings(value: &Yaml) -> Option<Yaml> {
    match value {
        Yaml::String(_) => Some(Yaml::Sequence(vec![value.clone()])),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| match i {
                Yaml::String(_) => Some(i.clone()),
                Yaml::Number(n) => Some(Yaml::from(n.to_string())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(Yaml::Sequence),
        _ => None,
    }
}

/// A volume in the short form, from either form; `None` for long-form options the short form
/// cannot say.
fn short_volume(item: &Yaml) -> Option<Yaml> {
    let Yaml::Mapping(m) = item else {
        return Some(item.clone());
    };
    let allowed = ["type", "source", "target", "read_only"];
    if m.keys()
        .any(|k| !allowed.contains(&k.as_str().unwrap_or_default()))
    {
        return None;
    }
    let kind = m.get("type").and_then(Yaml::as_str)?;
    let target = m.get("target").and_then(Yaml::as_str)?;
    let source = m.get("source").and_then(Yaml::as_str);
    // A long-syntax bind does not create a missing host folder, where the short one does
    // (`create_host_path`): it stays long.
    if kind != "volume" {
        return None;
    }
    let mut short = match source {
        Some(source) => format!("{source}:{target}"),
        None => target.to_owned(),
    };
    if m.get("read_only") == Some(&Yaml::Bool(true)) {
        short.push_str(":ro");
    }
    Some(Yaml::from(short))
}

/// `environment` in the list form, where a variable without a value (`API_KEY:` in the map
/// form) is the bare name, which Compose reads the same way: the host's value passed through.
/// TOML has no null, so the map form would lose the name.
fn environment_list(value: &Yaml) -> Yaml {
    let Yaml::Mapping(m) = value else {
        return value.clone();
    };
    Yaml::Sequence(
        m.iter()
            .filter_map(|(k, v)| {
                let k = super::read::scalar_string(k)?;
                let k = k.as_str()?;
                Some(Yaml::from(match super::read::scalar_string(v) {
                    Some(v) => format!("{k}={}", v.as_str().unwrap_or_default()),
                    None => k.to_owned(),
                }))
            })
            .collect(),
    )
}
