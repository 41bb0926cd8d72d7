//! Stage 5, emit: the validated stack as one Compose file.
//!
//! Services keep catalogue order, and their keys the conventional order render and validate gave
//! them (`key_order`). The file is written piece by piece from the stack's values: gathering them
//! into one document first would copy every service.

use crate::key_order;
use crate::mounted_probe;
use crate::validate::{Stack, StackService};
use crate::yaml::{Mapping, Value as Yaml};

use crate::yaml;

/// The image of the service that `autoheal = true` adds: pinned, as it holds the Docker socket.
const AUTOHEAL_IMAGE: &str = "willfarrell/autoheal:1.2.0";

pub fn emit(stack: &Stack) -> String {
    let mut out = Vec::new();
    write(stack, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the YAML writer writes text")
}

/// How much text is gathered before it is handed to the writer: enough that writing costs a
/// few system calls, not one per service.
const CHUNK: usize = 64 * 1024;

/// Writes the file to `sink` as it is produced, a few dozen services at a time, so that the
/// whole text is never held in memory: at 10,000 services it is 6 MB, and a string grown to
/// hold it would be 8 MB.
pub fn write(stack: &Stack, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = super::header(stack, None);
    if let Some(name) = &stack.project.name {
        yaml::write_entry(&mut out, "name", &Yaml::from(name.as_str()), 0);
    }
    if stack.services.is_empty() && !stack.project.autoheal {
        out.push_str("services: {}\n");
    } else {
        out.push_str("services:\n");
    }
    let delivery = mounted_probe::Delivery::for_compose(&stack.project.requires);
    let mut installer = false;
    for s in &stack.services {
        let name = &s.rendered.service.name;
        let keys = super::service_keys(stack, s);
        let healed = stack.project.autoheal && s.rendered.has_healthcheck();
        let mounted = mounted_probe::uses(&keys);
        if healed || mounted {
            let mut body = keys.into_owned();
            if healed {
                label(&mut body, "autoheal", "true");
            }
            if mounted {
                mounted_probe::add_to(&mut body, delivery, true);
                installer |= delivery == mounted_probe::Delivery::Volume;
            }
            yaml::write_mapping_entry(&mut out, name, &key_order::service(body), 2);
        } else {
            yaml::write_mapping_entry(&mut out, name, &keys, 2);
        }
        if out.len() >= CHUNK {
            sink.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    // A catalogue service of that name is taken to be the user's own autoheal.
    let users_autoheal = stack
        .services
        .iter()
        .any(|s| s.rendered.service.name == "autoheal");
    if stack.project.autoheal && !users_autoheal {
        yaml::write_mapping_entry(&mut out, "autoheal", &autoheal(), 2);
    }
    if installer {
        let installer = mounted_probe::compose_installer();
        yaml::write_mapping_entry(&mut out, mounted_probe::NAME, &installer, 2);
    }
    for (key, declared) in declarations(stack, installer) {
        if !declared.is_empty() {
            yaml::write_mapping_entry(&mut out, key, &declared, 0);
        }
    }
    // After the other declarations, and gated like them: a target before `models` has had
    // every binding refused or left out by `fit`.
    let models = models(stack);
    if !models.is_empty()
        && crate::features::lacking_top_level("models", &stack.project.requires).is_none()
    {
        yaml::write_mapping_entry(&mut out, "models", &models, 0);
    }
    sink.write_all(out.as_bytes())?;
    sink.flush()
}

/// The whole file around `services` as one value, for emitters that rework it (Swarm).
/// `probe_volume`: the services include the mounted probe's installer, whose volume is declared.
pub(super) fn document(stack: &Stack, services: Mapping, probe_volume: bool) -> Mapping {
    let mut doc = Mapping::new();
    if let Some(name) = &stack.project.name {
        doc.insert("name".into(), Yaml::from(name.as_str()));
    }
    doc.insert("services".into(), Yaml::Mapping(services));
    for (key, declared) in declarations(stack, probe_volume) {
        if !declared.is_empty() {
            doc.insert(key.into(), Yaml::Mapping(declared));
        }
    }
    doc
}

/// The top-level declarations, each left out when the declared Compose cannot read it
/// (`features::FEATURES`): `fit` has then left out the service keys that name it, and said so.
/// `probe_volume`: the mounted probe's volume is declared too, after the services' own.
pub(super) fn declarations(
    stack: &Stack,
    probe_volume: bool,
) -> impl Iterator<Item = (&'static str, Mapping)> {
    let requires = stack.project.requires;
    let mut sections = named_declarations(stack);
    if probe_volume {
        sections[0].1.insert(
            Yaml::from(mounted_probe::NAME),
            Yaml::Mapping(Mapping::new()),
        );
    }
    sections
        .into_iter()
        .filter(move |(key, _)| crate::features::lacking_top_level(key, &requires).is_none())
}

/// The top-level sections: every resource the catalogue declares, with its settings, in the
/// catalogue's order, then every other named volume and network the services use, with
/// Compose's defaults, in first-use order.
fn named_declarations(stack: &Stack) -> [(&'static str, Mapping); 4] {
    let resources = &stack.project.resources;
    // From the body, not the catalogue's keys: a volume the `compose` table mounts must be
    // declared too.
    let mut volumes = resources.section("volumes");
    used(&mut volumes, stack, |s| {
        mounted_volumes(s.rendered.body.get("volumes")).into_iter()
    });
    let mut networks = resources.section("networks");
    used(&mut networks, stack, |s| {
        s.rendered.body.networks().into_iter()
    });
    [
        ("volumes", volumes),
        ("networks", networks),
        (
            "secrets",
            super::rebased_section(stack, "secrets", secrets(stack)),
        ),
        (
            "configs",
            super::rebased_section(stack, "configs", resources.section("configs")),
        ),
    ]
}

/// The catalogue's secrets, then those muster declares for the files `env` secrets name, each
/// from its `file`.
fn secrets(stack: &Stack) -> Mapping {
    let mut secrets = stack.project.resources.section("secrets");
    for (name, file) in &stack.project.secret_files {
        let mut from = Mapping::new();
        from.insert("file".into(), Yaml::from(file.file.as_str()));
        secrets.insert(Yaml::from(name.as_str()), Yaml::Mapping(from));
    }
    secrets
}

/// The named volumes a service mounts, in the short syntax or the long one
/// (`{ type: volume, source: data, ... }`): Compose refuses to run either undeclared.
fn mounted_volumes(volumes: Option<&Yaml>) -> Vec<&str> {
    volumes
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|mount| match mount {
            Yaml::String(short) => crate::volumes::named_volume(short),
            Yaml::Mapping(m) if m.get("type").and_then(Yaml::as_str) == Some("volume") => {
                m.get("source").and_then(Yaml::as_str)
            }
            _ => None,
        })
        .collect()
}

/// The top-level `models`: each model of the catalogue's `[models]` a service of the stack is
/// bound to, in the catalogue's order. One used only by a service `only_in` left out is not
/// pulled for nothing.
fn models(stack: &Stack) -> Mapping {
    let used: std::collections::HashSet<&str> = stack
        .services
        .iter()
        .flat_map(|s| s.rendered.body.models())
        .collect();
    stack
        .project
        .models
        .iter()
        .filter(|(name, _)| used.contains(name.as_str()))
        .map(|(name, spec)| {
            let mut m = Mapping::new();
            m.insert("model".into(), Yaml::from(spec.model.get_ref().as_str()));
            if let Some(size) = spec.context_size {
                m.insert("context_size".into(), Yaml::from(u64::from(size)));
            }
            if let Some(flags) = &spec.runtime_flags {
                let flags = flags.iter().map(|f| Yaml::from(f.as_str())).collect();
                m.insert("runtime_flags".into(), Yaml::Sequence(flags));
            }
            (Yaml::from(name.as_str()), Yaml::Mapping(m))
        })
        .collect()
}

fn label(body: &mut Mapping, key: &str, value: &str) {
    let labels = body
        .entry("labels".into())
        .or_insert_with(|| Yaml::Mapping(Mapping::new()));
    if let Yaml::Mapping(labels) = labels {
        labels.insert(Yaml::from(key), Yaml::from(value));
    }
}

/// Docker restarts a container when it exits, never when it turns unhealthy (moby#28400). This
/// service watches the containers labelled `autoheal=true` and restarts those that turn so.
///
/// It mounts the Docker socket, the one socket mount muster writes (lint `docker-socket` never
/// sees it: the lints judge the catalogue's services). Read-only, as the README asks of anyone:
/// that keeps the socket file from being replaced, though not the API from being used, which the
/// real-engine test shows by the restart it still makes.
fn autoheal() -> Mapping {
    // `always`, whatever the profile says: a healer that stays down heals nothing.
    let text = format!(
        "image: {AUTOHEAL_IMAGE}
restart: always
environment:
  AUTOHEAL_CONTAINER_LABEL: autoheal
volumes:
  - /var/run/docker.sock:/var/run/docker.sock:ro
"
    );
    crate::yaml::from_str(&text).expect("the autoheal service is valid YAML")
}

/// Adds each name the services use that `out` does not declare yet, in first-use order.
fn used<'a, I: Iterator<Item = &'a str>>(
    out: &mut Mapping,
    stack: &'a Stack,
    names: impl Fn(&'a StackService) -> I,
) {
    for s in &stack.services {
        for name in names(s) {
            out.entry(Yaml::from(name))
                .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        }
    }
}
