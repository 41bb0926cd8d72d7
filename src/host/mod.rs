//! The stack's contract with the machine it runs on: every variable Compose reads when it loads
//! the generated file, and every file and folder of the host it names, each with the catalogue
//! line that put it there. `muster env` lists the variables and writes a `.env.example`;
//! `muster check --env-file` and `muster up` hold the contract against an environment and the
//! disk before Compose is called ([`check`]).
//!
//! The contract is read from the file the target's emitter writes, parsed back, so that it is
//! what Compose reads: `docker compose config --variables` walks the same values
//! (`tests/host.rs` holds muster's list to Compose's). Paths are read from the file as written
//! for the catalogue's folder (stdout's form), which is where they point whatever `-o` rebases.
//!
//! - [`locate`]: the catalogue, profile or template line a value of the file came from;
//! - [`environment`]: the variables Compose would have, from the process and `.env` files;
//! - [`check`]: the contract against them;
//! - [`example`]: the `.env.example`.

pub mod check;
pub mod environment;
pub mod example;
pub mod locate;

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::emit::Target;
use crate::host_paths::{self, Found};
use crate::model::Lint;
use crate::model::interpolation;
use crate::validate::Stack;
use crate::yaml::{Mapping, Value as Yaml};
use locate::Locator;
use std::ops::Range;

/// Where a value was written: a catalogue, profile or template line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub source: SourceId,
    pub span: Range<usize>,
}

/// A value of the file, where it is: its service (none for a top-level key), its key path
/// within the service or the file (`environment.DB_URL`, `volumes[0]`, `secrets.pw.file`), and
/// where it was written.
#[derive(Debug, Clone)]
pub struct Site {
    pub service: Option<String>,
    pub key: String,
    pub at: Option<Place>,
}

impl Site {
    /// `service: key`, or the key alone for a top-level value.
    pub fn describe(&self) -> String {
        match &self.service {
            Some(service) => format!("{service}: {}", self.key),
            None => self.key.clone(),
        }
    }
}

/// How the stack reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `${NAME...}` or `$NAME` in a value, which Compose interpolates when it loads the file.
    Interpolation,
    /// A top-level secret's `environment`, whose value becomes the secret at `up`.
    Secret,
    /// A top-level config's `environment`.
    Config,
}

/// One place a variable is read.
#[derive(Debug, Clone)]
pub struct Use {
    pub site: Site,
    pub reader: Reader,
    /// What Compose reads there, for [`Reader::Interpolation`]; a required read for the others.
    pub read: interpolation::Use,
}

/// A variable the stack reads, with every place it reads it.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// Some use needs a value: Compose refuses the file, or a secret or config is empty,
    /// without one.
    pub required: bool,
    /// The first default a use gives, as written (Compose interpolates it in turn).
    pub default: Option<String>,
    /// The first message a required use gives.
    pub message: Option<String>,
    /// The name, or the environment variable of the container it fills, looks like a secret's.
    pub secret: bool,
    pub uses: Vec<Use>,
}

/// A value of the file that Compose interpolates, whole, for [`check`] to interpolate as
/// Compose does.
#[derive(Debug, Clone)]
pub struct Interpolated {
    pub site: Site,
    pub text: String,
}

/// A host path the file names, as the catalogue wrote it.
#[derive(Debug, Clone)]
pub struct HostFile {
    pub found: Found,
    pub site: Site,
    /// The build's Dockerfile, relative to the context unless absolute, for a build context
    /// (`None` with `dockerfile_inline`, which needs no file).
    pub dockerfile: Option<String>,
}

/// Everything the stack needs of its host.
#[derive(Debug, Clone, Default)]
pub struct Contract {
    /// In the order the file first reads each.
    pub variables: Vec<Variable>,
    pub interpolated: Vec<Interpolated>,
    pub files: Vec<HostFile>,
}

/// The file of `target` for `stack`, as its emitter writes it; what the emitter reports goes to
/// `diagnostics`, as `gen` reports it.
fn document(
    stack: &Stack,
    target: Target,
    sources: &Sources,
    diagnostics: &mut Diagnostics,
) -> Mapping {
    // Kubernetes writes one document per object; the Compose body is what it reads variables
    // from, through the Secret made from the same `.env`.
    if target == Target::Kubernetes {
        return kubernetes_reads(stack);
    }
    let text = match target {
        Target::Compose => crate::emit::compose::emit(stack),
        other => crate::emit::emit(other, stack, sources, diagnostics),
    };
    crate::yaml::from_str(&text).unwrap_or_default()
}

/// What the Kubernetes manifests read from the project's Secret: each service's `environment`,
/// `command` and `entrypoint` (`emit/k8s/containers.rs` writes `$(VAR)` references) and its
/// healthcheck's `test` (a shell probe reads the Secret's variable, `emit/k8s/probes.rs`);
/// elsewhere a variable is written at its default. `env_file` becomes the whole Secret.
fn kubernetes_reads(stack: &Stack) -> Mapping {
    let mut services = Mapping::new();
    for s in &stack.services {
        let body = s.rendered.body.mapping();
        let mut kept: Mapping = body
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), Some("environment" | "command" | "entrypoint")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(test) = body.get("healthcheck").and_then(|hc| hc.get("test")) {
            let mut hc = Mapping::new();
            hc.insert("test".into(), test.clone());
            kept.insert("healthcheck".into(), Yaml::Mapping(hc));
        }
        services.insert(
            Yaml::from(s.rendered.service.name.as_str()),
            Yaml::Mapping(kept),
        );
    }
    let mut doc = Mapping::new();
    doc.insert("services".into(), Yaml::Mapping(services));
    doc
}

impl Contract {
    /// The contract of `stack` generated for `target`, its paths as the catalogue wrote them
    /// whatever the stack's output destination (which is left as it was). What the target's
    /// emitter reports (Swarm's and Kubernetes') goes to `diagnostics`.
    pub fn of(
        stack: &mut Stack,
        target: Target,
        sources: &Sources,
        diagnostics: &mut Diagnostics,
    ) -> Contract {
        let output = std::mem::take(&mut stack.project.output);
        let doc = document(stack, target, sources, diagnostics);
        stack.project.output = output;
        let locator = Locator::new(stack, sources);
        let mut contract = Contract::default();
        let mut uses: Vec<Use> = Vec::new();
        for (key, value) in &doc {
            let Some(key) = key.as_str() else { continue };
            if key == "services"
                && let Yaml::Mapping(services) = value
            {
                for (name, body) in services {
                    let Some(name) = name.as_str() else { continue };
                    walk(body, "", &mut |path, text| {
                        contract.read_value(&locator, Some(name), path, text, &mut uses);
                    });
                    if let Yaml::Mapping(body) = body {
                        contract.read_files(&locator, Some(name), body, None);
                    }
                }
                continue;
            }
            walk(value, key, &mut |path, text| {
                contract.read_value(&locator, None, path, text, &mut uses);
            });
            if let Yaml::Mapping(declared) = value
                && matches!(key, "secrets" | "configs")
            {
                contract.read_files(&locator, None, declared, Some(key));
                for (name, spec) in declared {
                    let (Some(name), Some(variable)) = (
                        name.as_str(),
                        spec.get("environment").and_then(Yaml::as_str),
                    ) else {
                        continue;
                    };
                    let reader = if key == "secrets" {
                        Reader::Secret
                    } else {
                        Reader::Config
                    };
                    let key = format!("{key}.{name}.environment");
                    uses.push(Use {
                        site: Site {
                            at: locator.top_level(&key, variable),
                            service: None,
                            key,
                        },
                        reader,
                        read: interpolation::Use {
                            name: variable.to_owned(),
                            required: true,
                            or_empty: false,
                            default: None,
                            alternate: None,
                            message: None,
                            expression: variable.to_owned(),
                        },
                    });
                }
            }
        }
        contract.variables = gather(uses);
        contract
    }

    fn read_value(
        &mut self,
        locator: &Locator,
        service: Option<&str>,
        key: &str,
        text: &str,
        uses: &mut Vec<Use>,
    ) {
        // The file was written by muster, which refuses text Compose cannot interpolate.
        let Ok(found) = interpolation::uses(text) else {
            return;
        };
        if found.is_empty() {
            return;
        }
        let site = |needle: &str| Site {
            service: service.map(str::to_owned),
            key: key.to_owned(),
            at: match service {
                Some(service) => locator.in_service(service, key, needle),
                None => locator.top_level(key, needle),
            },
        };
        self.interpolated.push(Interpolated {
            site: site(text),
            text: text.to_owned(),
        });
        for read in found {
            uses.push(Use {
                site: site(&read.expression),
                reader: Reader::Interpolation,
                read,
            });
        }
    }

    fn read_files(
        &mut self,
        locator: &Locator,
        service: Option<&str>,
        keys: &Mapping,
        section: Option<&str>,
    ) {
        let found = match section {
            None => host_paths::in_service(keys),
            Some(section) => host_paths::in_section(section, keys),
        };
        for found in found {
            let key = match section {
                Some(section) => format!("{section}.{}", found.key),
                None => found.key.clone(),
            };
            let at = match service {
                Some(service) => locator.in_service(service, &key, &found.path),
                None => locator.top_level(&key, &found.path),
            };
            let dockerfile = match found.kind {
                host_paths::HostPath::BuildContext => match keys.get("build") {
                    Some(Yaml::Mapping(build)) if build.contains_key("dockerfile_inline") => None,
                    Some(Yaml::Mapping(build)) => Some(
                        build
                            .get("dockerfile")
                            .and_then(Yaml::as_str)
                            .unwrap_or("Dockerfile")
                            .to_owned(),
                    ),
                    _ => Some("Dockerfile".to_owned()),
                },
                _ => None,
            };
            self.files.push(HostFile {
                site: Site {
                    service: service.map(str::to_owned),
                    key,
                    at,
                },
                found,
                dockerfile,
            });
        }
    }
}

/// Calls `visit` with every string value under `value` and its key path.
fn walk(value: &Yaml, path: &str, visit: &mut dyn FnMut(&str, &str)) {
    match value {
        Yaml::String(text) => visit(path, text),
        Yaml::Mapping(m) => {
            for (k, v) in m {
                let key = match k {
                    Yaml::String(k) => k.clone(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                let path = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(v, &path, visit);
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), visit);
            }
        }
        Yaml::Tagged(tagged) => walk(&tagged.value, path, visit),
        _ => {}
    }
}

/// The uses grouped by variable, in the order each is first read.
fn gather(uses: Vec<Use>) -> Vec<Variable> {
    let mut variables: Vec<Variable> = Vec::new();
    for u in uses {
        let index = match variables.iter().position(|v| v.name == u.read.name) {
            Some(i) => i,
            None => {
                variables.push(Variable {
                    name: u.read.name.clone(),
                    required: false,
                    default: None,
                    message: None,
                    secret: crate::lint::looks_secret(&u.read.name),
                    uses: Vec::new(),
                });
                variables.len() - 1
            }
        };
        let v = &mut variables[index];
        v.required |= u.read.required;
        if v.default.is_none() {
            v.default.clone_from(&u.read.default);
        }
        if v.message.is_none() {
            v.message = u.read.message.clone().filter(|m| !m.is_empty());
        }
        // A variable that fills a secret-named variable of the container is a secret too
        // (`DATABASE_URL: postgres://app:${DB_PASS}@db/app` is not, `API_TOKEN: ${TOKEN}` is).
        v.secret |= u.reader != Reader::Interpolation
            || u.site
                .key
                .strip_prefix("environment.")
                .is_some_and(crate::lint::looks_secret);
        v.uses.push(u);
    }
    variables
}

/// `path-from-environment`: a relative path that interpolates, in a file written to another
/// folder than the catalogue's. Only Compose knows its value, so it stays as written, and reads
/// from the file's folder.
pub fn unrebased_paths(stack: &Stack, sources: &Sources, diagnostics: &mut Diagnostics) {
    if stack.project.output.rebase().is_none() {
        return;
    }
    // A short-syntax source is a path only when it starts like one (else a volume's name).
    let relative = |text: &str, kind: host_paths::HostPath| {
        let path = |value: &str| {
            host_paths::is_relative(value)
                && !value.is_empty()
                && (kind != host_paths::HostPath::ShortBind || host_paths::is_host_source(value))
        };
        interpolation::interpolates(text)
            && match interpolation::with_defaults(text) {
                Ok(Some(value)) => path(&value),
                // Text before the first variable that already makes it relative (`./${SUB}`).
                _ => {
                    let literal = &text[..text.find('$').unwrap_or(0)];
                    !literal.is_empty() && path(literal)
                }
            }
    };
    let mut locator = None;
    for s in &stack.services {
        let service = &s.rendered.service.name;
        for found in host_paths::in_service(s.rendered.body.mapping()) {
            if !relative(&found.path, found.kind) {
                continue;
            }
            let locator = locator.get_or_insert_with(|| Locator::new(stack, sources));
            let mut d = Diagnostic::warning(format!(
                "{service}: {}: the {} `{}` comes from the environment, and stays as written: \
                 Compose reads it from the generated file's folder, not from the catalogue's",
                found.key,
                found.kind.what(),
                found.path,
            ))
            .with_lint(Lint::PathFromEnvironment)
            .with_note(
                "give the variable an absolute path, or generate the file beside the catalogue",
            );
            if let Some(Place { source, span }) =
                locator.in_service(service, &found.key, &found.path)
            {
                d = d.at(source, Some(span), "from the environment");
            }
            diagnostics.push(d);
        }
    }
}
