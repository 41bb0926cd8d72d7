//! The images a stack runs, as the engine holds them: which image each service runs (Compose's
//! name for a build), and what `muster images` reads from one for the lock file.

use super::engine::{Engine, EngineError, Image, Inspected};
use crate::lock::Entry;
use crate::validate::Stack;
use std::path::Path;

/// One image the stack runs, and the services that run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub key: Key,
    /// What to ask the engine for: the reference, or the name Compose gives a build.
    pub reference: String,
    pub services: Vec<String>,
}

/// Where a subject's entry sits in the lock file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// `[images."REFERENCE"]`: a service's `image` (with or without a `build` beside it), or an
    /// engine's default image.
    Image(String),
    /// `[builds.SERVICE]`: a `build` without an `image`, which Compose names `PROJECT-SERVICE`.
    Build(String),
}

/// The Compose project name of a stack whose file sits beside the catalogue (where `muster up`
/// writes it): `[project] name`, else the catalogue's folder, as Compose derives it.
pub fn project_name(stack: &Stack, catalogue: &Path) -> String {
    let folder = std::fs::canonicalize(
        catalogue
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )
    .ok()
    .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
    .unwrap_or_default();
    stack
        .project
        .name
        .clone()
        .unwrap_or_else(|| super::plan::normalize_project_name(&folder))
}

/// Every image the stack runs, in catalogue order, each once.
pub fn subjects(stack: &Stack, project: &str) -> Vec<Subject> {
    let mut out: Vec<Subject> = Vec::new();
    for s in &stack.services {
        let service = &s.rendered.service;
        let (key, reference) = match &service.image {
            Some(image) => (Key::Image(image.clone()), image.clone()),
            None if service.build.is_some() => (
                Key::Build(service.name.clone()),
                // Compose's `api.GetImageNameOrDefault`: PROJECT, `-`, SERVICE.
                format!("{project}-{}", service.name),
            ),
            None => continue,
        };
        match out.iter_mut().find(|o| o.key == key) {
            Some(known) => known.services.push(service.name.clone()),
            None => out.push(Subject {
                key,
                reference,
                services: vec![service.name.clone()],
            }),
        }
    }
    out
}

/// The lock entry for `subject` read from the engine: its configuration and the programs on its
/// `PATH`; `None` when the engine holds no such image.
pub fn read(engine: &Engine, subject: &Subject) -> Result<Option<Entry>, EngineError> {
    let image = match engine.image(&subject.reference)? {
        Inspected::Found(image) => image,
        Inspected::Missing => return Ok(None),
    };
    let wanted = crate::images::probe_programs();
    let path = path_of(&image);
    let programs = engine.read_filesystem(&image.id, |tar| {
        super::image_fs::programs(tar, &path, &wanted)
    })?;
    Ok(Some(entry(subject, &image, &programs)))
}

/// The image's `PATH`, or the one Docker gives a container whose image sets none.
fn path_of(image: &Image) -> String {
    image
        .config
        .as_ref()
        .and_then(|c| c.env.as_ref())
        .and_then(|env| env.iter().find_map(|e| e.strip_prefix("PATH=")))
        .unwrap_or(super::image_fs::DEFAULT_PATH)
        .to_owned()
}

fn entry(subject: &Subject, image: &Image, programs: &[&str]) -> Entry {
    let config = image.config.clone().unwrap_or_default();
    let mut exposed: Vec<u16> = config
        .exposed_ports
        .iter()
        .flatten()
        .filter_map(|(port, _)| {
            let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
            (protocol == "tcp").then(|| number.parse().ok()).flatten()
        })
        .collect();
    exposed.sort_unstable();
    exposed.dedup();
    let mut repo_digests = image.repo_digests.clone().unwrap_or_default();
    repo_digests.sort();
    let mut platform = format!("{}/{}", image.os, image.architecture);
    if let Some(variant) = image.variant.as_deref().filter(|v| !v.is_empty()) {
        platform.push('/');
        platform.push_str(variant);
    }
    let mut programs: Vec<String> = programs.iter().map(|p| (*p).to_owned()).collect();
    programs.sort();
    Entry {
        image: matches!(subject.key, Key::Build(_)).then(|| subject.reference.clone()),
        id: image.id.clone(),
        repo_digests,
        platform,
        user: Some(config.user).filter(|u| !u.is_empty()),
        entrypoint: config.entrypoint.unwrap_or_default(),
        cmd: config.cmd.unwrap_or_default(),
        shell: config.shell.filter(|s| !s.is_empty()),
        exposed,
        healthcheck: config
            .healthcheck
            .map(|h| h.test)
            .filter(|test| !test.is_empty()),
        programs,
    }
}

/// An image ID's first 12 hex digits, as `docker images` shows it.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// A lock entry whose image the engine now holds under another ID.
#[derive(Debug)]
pub struct Stale {
    pub key: Key,
    pub reference: String,
    pub locked: String,
    pub now: String,
}

/// What comparing the lock with the engine found.
#[derive(Debug, Default)]
pub struct Compared {
    pub stale: Vec<Stale>,
    /// Entries the engine holds the same image for.
    pub current: usize,
    /// Entries whose image the engine does not hold: nothing to compare.
    pub absent: usize,
}

/// Compares each entry of `lock` the stack uses with the image the engine holds under its
/// reference now.
pub fn compare(
    engine: &Engine,
    lock: &crate::lock::Lock,
    subjects: &[Subject],
) -> Result<Compared, EngineError> {
    let mut compared = Compared::default();
    for subject in subjects {
        let locked = match &subject.key {
            Key::Image(reference) => lock.images.get(reference),
            Key::Build(service) => lock.builds.get(service),
        };
        let Some(locked) = locked else {
            continue;
        };
        match engine.image(&subject.reference)? {
            Inspected::Missing => compared.absent += 1,
            Inspected::Found(image) if image.id == locked.entry.id => compared.current += 1,
            Inspected::Found(image) => compared.stale.push(Stale {
                key: subject.key.clone(),
                reference: subject.reference.clone(),
                locked: locked.entry.id.clone(),
                now: image.id,
            }),
        }
    }
    Ok(compared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostics, Sources};
    use crate::pipeline::{self, Session};
    use crate::profile::Profiles;

    fn stack(catalogue: &str) -> Stack {
        let mut session = Session::default();
        let catalogue = crate::catalogue::Catalogue::parse(
            Path::new("services.toml"),
            catalogue.to_owned(),
            &mut session.sources,
            &mut session.diagnostics,
        );
        let profiles =
            Profiles::load(None, &mut Sources::default(), &mut Diagnostics::default()).unwrap();
        pipeline::build(
            catalogue,
            &profiles,
            &crate::kinds::Kinds::built_in(),
            Some("dev"),
            crate::resolve::Provenance::Skip,
            &mut session,
        )
        .expect("the catalogue is valid")
    }

    #[test]
    fn each_image_once_and_a_build_by_the_name_compose_gives_it() {
        let stack = stack(
            r#"
[services.web]
kind = "http"
build = "./web"

[services.admin]
kind = "http"
build = "./web"

[services.api]
kind = "http"
build = "./api"
image = "registry.example.com/shop/api:1.0"

[services.worker]
kind = "http"
image = "registry.example.com/shop/api:1.0"

[services.db]
kind = "db"
engine = "postgres"
env = { POSTGRES_PASSWORD = "${POSTGRES_PASSWORD:?set it}" }
"#,
        );
        let found: Vec<(Key, String, Vec<String>)> = subjects(&stack, "shop")
            .into_iter()
            .map(|s| (s.key, s.reference, s.services))
            .collect();
        let image = "registry.example.com/shop/api:1.0".to_owned();
        assert_eq!(
            found,
            [
                (
                    Key::Build("web".into()),
                    "shop-web".into(),
                    vec!["web".into()]
                ),
                (
                    Key::Build("admin".into()),
                    "shop-admin".into(),
                    vec!["admin".into()]
                ),
                (
                    Key::Image(image.clone()),
                    image,
                    vec!["api".into(), "worker".into()]
                ),
                // An engine's default image is what the service runs.
                (
                    Key::Image("postgres:17".into()),
                    "postgres:17".into(),
                    vec!["db".into()]
                ),
            ]
        );
    }
}
