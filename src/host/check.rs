//! The contract held against a host, before Compose is called: every required variable without
//! the value Compose needs, every file Compose or the engine would refuse to find, each at the
//! catalogue line that asks for it, all in one run (Compose stops at the first).
//!
//! What is refused is what Compose or the engine refuses, and no more: a variable is
//! interpolated as Compose interpolates it (an empty value passes `${X?}` and fails
//! `${X:?}`); `config -q` refuses a missing `env_file` or `label_file`, `up` a missing secret
//! or config file, a long-syntax bind source, a build context or its Dockerfile (when it
//! builds). A short-syntax bind source the engine creates, as an empty folder owned by root, is
//! a warning (lint `missing-bind-source`), and so is a `.env` git tracks.

use super::environment::{Environment, Origin};
use super::{Contract, HostFile, Place, Reader, Site};
use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceId, Sources};
use crate::host_paths::{self, HostPath};
use crate::model::Lint;
use crate::model::interpolation::{self, Missing};
use std::path::{Path, PathBuf};

/// Reports what the host lacks of `contract`. Relative paths are read from `base`, the
/// catalogue's folder (the file's paths, wherever it is written, point where they pointed from
/// there).
pub fn check(
    contract: &Contract,
    env: &Environment,
    base: &Path,
    sources: &Sources,
    diagnostics: &mut Diagnostics,
) {
    variables(contract, env, sources, diagnostics);
    for file in &contract.files {
        if let Some(d) = missing_file(file, env, base) {
            diagnostics.push(d);
        }
    }
}

/// One diagnostic per variable that lacks its value, at every site that reads it.
fn variables(
    contract: &Contract,
    env: &Environment,
    sources: &Sources,
    diagnostics: &mut Diagnostics,
) {
    let lookup = |name: &str| env.get(name);
    // Each missing variable, with the sites that refuse without it, and its first message.
    fn add<'c>(m: Missing, site: &'c Site, found: &mut Vec<(Missing, Vec<&'c Site>)>) {
        match found.iter_mut().find(|(f, _)| f.name == m.name) {
            Some((first, sites)) => {
                if first.message.is_empty() {
                    first.message = m.message;
                }
                sites.push(site);
            }
            None => found.push((m, vec![site])),
        }
    }
    let mut found: Vec<(Missing, Vec<&Site>)> = Vec::new();
    for value in &contract.interpolated {
        let mut here = Vec::new();
        // muster wrote the file, and refuses what Compose cannot interpolate.
        if interpolation::substitute(&value.text, &lookup, &mut here).is_err() {
            continue;
        }
        for m in here {
            add(m, &value.site, &mut found);
        }
    }
    for v in &contract.variables {
        for u in v.uses.iter().filter(|u| u.reader != Reader::Interpolation) {
            if env.get(&v.name).is_none() {
                let m = Missing {
                    name: v.name.clone(),
                    empty: false,
                    message: String::new(),
                };
                add(m, &u.site, &mut found);
            }
        }
    }
    for (m, sites) in found {
        diagnostics.push(missing_variable(&m, &sites, env, sources));
    }
}

fn missing_variable(
    m: &Missing,
    sites: &[&Site],
    env: &Environment,
    sources: &Sources,
) -> Diagnostic {
    let name = &m.name;
    let message = if m.empty {
        let from = match env.origin(name) {
            Some(Origin::File { source, line }) => {
                format!("{} (line {line})", sources.name(source))
            }
            _ => "the environment".to_owned(),
        };
        format!(
            "`{name}` is set but empty in {from}, and `${{{name}:?...}}` refuses an empty value"
        )
    } else {
        format!("required variable `{name}` has no value")
    };
    let mut d = Diagnostic::error(message);
    let mut placed = Vec::new();
    for site in sites {
        let Some(Place { source, span }) = &site.at else {
            continue;
        };
        if placed.contains(&(*source, span.clone())) {
            continue;
        }
        placed.push((*source, span.clone()));
        let text = format!("read by {}", site.describe());
        d = d.with_label(Label::new(*source, span.clone(), text));
    }
    if !m.message.is_empty() {
        d = d.with_note(format!("its message: {}", m.message));
    }
    let hint = match env.read.last() {
        Some((file, _)) => format!("set it in {} or in the environment", file.display()),
        None => "set it in the environment, or in a `.env` beside the generated file".to_owned(),
    };
    d.with_note(format!(
        "{hint}; `muster env --example` writes every variable the stack reads"
    ))
}

/// What Compose or the engine does with `file` missing, if anything.
fn missing_file(file: &HostFile, env: &Environment, base: &Path) -> Option<Diagnostic> {
    let kind = file.found.kind;
    if kind == HostPath::WatchPath || kind == (HostPath::EnvFile { required: false }) {
        return None;
    }
    // A short-syntax source from the environment may turn out to name a volume.
    if kind == HostPath::ShortBind && interpolation::interpolates(&file.found.path) {
        let lookup = |name: &str| env.get(name);
        let value = interpolation::substitute(&file.found.path, &lookup, &mut Vec::new()).ok()?;
        if !host_paths::is_host_source(&value) {
            return None;
        }
    }
    let path = resolve(&file.found.path, env, base)?;
    let written = &file.found.path;
    // Where it was looked for, when that is not plain from what was written.
    let looked = |path: &Path| {
        if host_paths::lexical(Path::new(written)) == path {
            String::new()
        } else {
            format!(" ({})", path.display())
        }
    };
    let site = &file.site;
    let at = |d: Diagnostic, label: &str| match &site.at {
        Some(Place { source, span }) => d.at(*source, Some(span.clone()), label),
        None => d,
    };
    if kind == HostPath::BuildContext {
        if !path.is_dir() {
            let d = Diagnostic::error(format!(
                "{}: the build context `{written}` does not exist{}",
                site.describe(),
                looked(&path)
            ));
            return Some(
                at(d, "built from here")
                    .with_note("Compose cannot build the image: \"unable to prepare context\""),
            );
        }
        let dockerfile = file.dockerfile.as_deref()?;
        let dockerfile_path = resolve(dockerfile, env, &path)?;
        if !dockerfile_path.is_file() {
            let d = Diagnostic::error(format!(
                "{}: the build context `{written}` has no `{dockerfile}`",
                site.describe()
            ));
            return Some(at(d, "built from here").with_note(format!(
                "the builder looks for {}; set `build = {{ context = \"{written}\", dockerfile = \"...\" }}` \
                 if the Dockerfile has another name",
                dockerfile_path.display()
            )));
        }
        return None;
    }
    if path.exists() {
        return None;
    }
    let what = kind.what();
    let (d, note) = match kind {
        HostPath::ShortBind | HostPath::LongBind { create: true } => (
            Diagnostic::warning(format!(
                "{}: the {what} `{written}` does not exist{}",
                site.describe(),
                looked(&path)
            ))
            .with_lint(Lint::MissingBindSource),
            "the engine creates it as an empty folder owned by root: a file meant for the \
             container arrives as a folder (and an image's file there refuses the mount)"
                .to_owned(),
        ),
        _ => (
            Diagnostic::error(format!(
                "{}: the {what} `{written}` does not exist{}",
                site.describe(),
                looked(&path)
            )),
            match kind {
                HostPath::EnvFile { .. } | HostPath::LabelFile | HostPath::ExtendsFile => {
                    "Compose refuses the file: \"not found\"".to_owned()
                }
                HostPath::LongBind { .. } => {
                    "the engine refuses the container: \"bind source path does not exist\"; \
                     `bind = { create_host_path = true }` makes it an empty folder instead"
                        .to_owned()
                }
                _ => "`up` refuses to start the services that use it".to_owned(),
            },
        ),
    };
    Some(at(d, "named here").with_note(note))
}

/// `written` as a path on the host: interpolated as Compose would, `~` at the home folder,
/// relative to `base`. `None` when a variable it reads is missing (reported as such) or it
/// names no local path.
fn resolve(written: &str, env: &Environment, base: &Path) -> Option<PathBuf> {
    let lookup = |name: &str| env.get(name);
    let mut missing = Vec::new();
    let text = interpolation::substitute(written, &lookup, &mut missing).ok()?;
    if !missing.is_empty() || text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('~') {
        let home = env.get("HOME").or_else(|| std::env::var("HOME").ok())?;
        return Some(PathBuf::from(home).join(rest.trim_start_matches('/')));
    }
    Some(host_paths::lexical(&base.join(text)))
}

/// A `.env` the stack reads that git tracks: its values are in the repository. Asked of git
/// itself (`git ls-files --error-unmatch`), in the file's folder; outside a checkout, or
/// without git, nothing is said.
pub fn tracked_env_files(files: &[(PathBuf, Option<SourceId>)], diagnostics: &mut Diagnostics) {
    for (path, source) in files {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let Some(name) = path.file_name() else {
            continue;
        };
        let tracked = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["ls-files", "--error-unmatch", "--"])
            .arg(name)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !tracked {
            continue;
        }
        let mut d = Diagnostic::warning(format!(
            "{} is tracked by git, and the stack reads its variables from it",
            path.display()
        ))
        .with_lint(Lint::TrackedEnvFile)
        .with_note(format!(
            "the values the stack keeps out of the file are in the repository: `git rm --cached {}`, \
             add it to .gitignore, and commit a `.env.example` (`muster env --example -o .env.example`) instead",
            path.display()
        ));
        if let Some(source) = source {
            d = d.at(*source, Some(0..0), "this file");
        }
        diagnostics.push(d);
    }
}

/// `required-without-message`: a `${NAME:?}` whose refusal will not say what the variable is
/// for. Said once per variable, at its first such use.
pub fn lints(contract: &Contract, diagnostics: &mut Diagnostics) {
    for v in &contract.variables {
        let Some(u) = v.uses.iter().find(|u| {
            u.reader == Reader::Interpolation
                && u.read.required
                && u.read.message.as_deref().is_none_or(str::is_empty)
        }) else {
            continue;
        };
        let name = &v.name;
        let operator = if u.read.or_empty { ":?" } else { "?" };
        let mut d = Diagnostic::warning(format!(
            "{}: `{}` requires `{name}` without saying why",
            u.site.describe(),
            u.read.expression
        ))
        .with_lint(Lint::RequiredWithoutMessage)
        .with_note(format!(
            "Compose refuses the file with only \"required variable {name} is missing a value\"; \
             write `${{{name}{operator}set {name} in .env: ...}}` to say what it is for"
        ));
        if let Some(Place { source, span }) = &u.site.at {
            d = d.at(*source, Some(span.clone()), "no message");
        }
        diagnostics.push(d);
    }
}
