//! `muster gen`: the Compose file (or the Swarm stack file, or the Kubernetes manifests), on
//! stdout or written atomically to `-o FILE`, or compared with it under `--check`.

use crate::config::Inputs;
use crate::emit::{self, Target};
use crate::error::Error;
use crate::pipeline::{self, Session};
use std::io::Write;
use std::path::Path;

/// Writes the output to `-o FILE`, or to `stdout` when there is none.
pub fn run(
    inputs: &Inputs,
    output: Option<&Path>,
    check: bool,
    target: Target,
    session: &mut Session,
    stdout: &mut dyn Write,
) -> Result<(), Error> {
    // `--check` without `--profile` checks the file against the profile it says it was made
    // for: a prod file in CI is a prod file, whatever the catalogue's default profile.
    let from_header = match (check, &inputs.profile, output) {
        (true, None, Some(path)) => std::fs::read_to_string(path)
            .ok()
            .and_then(|text| header_profile(&text).map(str::to_owned)),
        _ => None,
    };
    let with_header;
    let inputs = match &from_header {
        Some(profile) => {
            with_header = Inputs {
                profile: Some(profile.clone()),
                ..inputs.clone()
            };
            &with_header
        }
        None => inputs,
    };
    // Never freed: the process exits as soon as the output is written, and the system takes
    // its pages back at once, whereas freeing the stack map by map cost 5% of `muster gen`
    // (BENCHMARKS.md). `muster gen` runs once per process, so nothing accumulates.
    let mut stack = match pipeline::stack(inputs, session) {
        Ok(stack) => std::mem::ManuallyDrop::new(stack),
        Err(e) => {
            if let (Some(profile), Some(path)) = (&from_header, output) {
                session.summary = Some(format!(
                    "`--check` took profile `{profile}` from the header of {}; pass `--profile` \
                     to check it against another",
                    path.display()
                ));
            }
            return Err(e);
        }
    };
    if let Some(path) = output {
        stack.project.output = destination(&inputs.catalogue, path);
        crate::host::unrebased_paths(&stack, &session.sources, &mut session.diagnostics);
    }
    if target == Target::Kubernetes
        && let Some(dir) = output.filter(|p| crate::output::is_folder(p))
    {
        return folder(&stack, dir, check, session);
    }
    // A Compose file is written as it is produced: its emitter finds no problems, and the stack
    // is already valid. The other targets report what they cannot express while emitting, so
    // their text is complete, and checked, before any of it is written.
    let text = match target {
        Target::Compose => None,
        _ => Some(emit::emit(
            target,
            &stack,
            &session.sources,
            &mut session.diagnostics,
        )),
    };
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let write = |sink: &mut dyn Write| match &text {
        Some(text) => sink.write_all(text.as_bytes()),
        None => emit::compose::write(&stack, sink),
    };
    match (output, check) {
        (None, _) => crate::output::write_stdout(stdout, write),
        (Some(path), false) => {
            crate::output::write_atomic_with(path, write).map_err(Error::io("write", path))
        }
        (Some(path), true) => {
            let text = text.unwrap_or_else(|| emit::compose::emit(&stack));
            let current = match std::fs::read_to_string(path) {
                Ok(current) => current,
                // A diff that adds every line would say the same at length.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::Missing {
                        path: path.to_owned(),
                    });
                }
                Err(e) => return Err(Error::io("read", path)(e)),
            };
            if current == text {
                return Ok(());
            }
            if let (Some(theirs), Some(ours)) = (header_profile(&current), header_profile(&text))
                && theirs != ours
            {
                session.diagnostics.push(
                    crate::diagnostic::Diagnostic::warning(format!(
                        "{} was generated for profile {theirs}, and is checked against profile {ours}",
                        path.display()
                    ))
                    .with_note(format!(
                        "pass `--profile {theirs}` if that is the profile it is for"
                    )),
                );
            }
            let name = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&current, &text)
                .unified_diff()
                .header(&name, &format!("{name} (generated)"))
                .to_string();
            Err(Error::Stale {
                path: path.to_owned(),
                diff,
            })
        }
    }
}

/// `--target k8s -o DIR/`: one file per object and a `kustomization.yaml`, for
/// `kubectl apply -k DIR`. Files muster wrote there before and the stack no longer has are
/// removed, and said: `kubectl apply -k` leaves their objects on the cluster.
fn folder(
    stack: &crate::validate::Stack,
    dir: &Path,
    check: bool,
    session: &mut Session,
) -> Result<(), Error> {
    let manifests = emit::k8s::manifests(stack, &session.sources, &mut session.diagnostics);
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let files = manifests.files();
    if check {
        return match crate::output::diff_folder(dir, &files)? {
            None => Ok(()),
            Some(diff) => Err(Error::Stale {
                path: dir.to_owned(),
                diff,
            }),
        };
    }
    let removed = crate::output::write_folder(dir, &files)?;
    if !removed.is_empty() {
        session.diagnostics.push(
            crate::diagnostic::Diagnostic::warning(format!(
                "removed from {}, which muster wrote for objects the stack no longer has: {}",
                dir.display(),
                removed.join(", ")
            ))
            .with_note(
                "`kubectl apply -k` leaves their objects on the cluster: `kubectl delete` them, \
                 or apply with `--prune`",
            ),
        );
    }
    Ok(())
}

/// Where a file written to `output` goes, for the emitters to rebase its relative paths: they
/// point where they pointed from the catalogue.
pub(crate) fn destination(catalogue: &Path, output: &Path) -> crate::host_paths::Destination {
    let cwd = std::env::current_dir().unwrap_or_default();
    crate::host_paths::Destination::file(catalogue, output, &cwd)
}

/// The profile named by the header line muster writes at the top of every file (`# Generated by
/// muster from services.toml (profile: prod).`, or `(profile: prod, target: swarm)`).
fn header_profile(text: &str) -> Option<&str> {
    let first = text.lines().next()?;
    let rest = first.strip_prefix("# Generated by muster from ")?;
    let after = &rest[rest.rfind("(profile: ")? + "(profile: ".len()..];
    after.split([',', ')']).next()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_profile_from_the_header() {
        let header = |line: &str| super::header_profile(line).map(str::to_owned);
        assert_eq!(
            header("# Generated by muster from services.toml (profile: prod). Edit the catalogue"),
            Some("prod".to_owned())
        );
        assert_eq!(
            header("# Generated by muster from a (b).toml (profile: dev, target: swarm). Edit"),
            Some("dev".to_owned())
        );
        assert_eq!(header("name: shop"), None);
    }
}
