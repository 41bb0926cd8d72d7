//! Probe tools: a healthcheck must call programs its image has.

use crate::compose_body::Healthcheck;
use crate::diagnostic::{Diagnostic, SourceId};
use crate::probe;
use crate::render::Rendered;
use std::collections::HashMap;
use std::fmt::Write;

/// A healthcheck that calls a program its image does not have can never turn healthy. From a
/// built-in template that is an error; from the user's own `healthcheck.test` or template a
/// warning, since the user may know the image has more than the official one.
pub fn problem(
    rendered: &Rendered,
    healthcheck: &Healthcheck,
    catalogue: SourceId,
    programs: &mut Programs,
) -> Option<Diagnostic> {
    let service = &rendered.service;
    let tools: &[&str] = service.tools.as_deref()?;
    let users_probe = healthcheck.origin.is_users();
    // `CMD-SHELL` runs its line through `/bin/sh`: an image without one (distroless) runs only
    // the exec form.
    let shell = (healthcheck.test.first().copied() == Some("CMD-SHELL")).then_some("sh");
    let missing: Vec<&str> = shell
        .into_iter()
        .chain(programs.of(&healthcheck.test).iter().map(String::as_str))
        .filter(|p| !has(tools, p))
        .filter(|p| !(users_probe && ships_with_the_app(p)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let image = service.image.as_deref().unwrap_or("its engine's image");
    let message = format!(
        "the healthcheck of `{}` runs {}, which {image} does not have",
        service.name,
        missing
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let note = if tools.is_empty() {
        "the image has no shell and no programs muster knows of: only an exec-form test of a \
         binary the app ships can run"
            .to_owned()
    } else {
        format!("the image has: {}", tools.join(", "))
    };
    let d = if users_probe {
        Diagnostic::warning(message).with_lint(crate::model::Lint::ProbeProgramMissing)
    } else {
        Diagnostic::error(message)
            .with_note("set `healthcheck.test` to a probe the image can run, or use another tag")
    };
    Some(
        d.at(catalogue, Some(service.name_span.clone()), "this service")
            .with_note(note),
    )
}

/// The programs each distinct healthcheck test runs, read once: most services of a kind share
/// their probe, and reading a shell line word by word cost more than the rest of validation's
/// checks of the service.
#[derive(Default)]
pub struct Programs(HashMap<String, Vec<String>>);

impl Programs {
    fn of(&mut self, test: &[&str]) -> &[String] {
        // Each part with its length first, so that no two tests share a key.
        let mut key = String::new();
        for part in test {
            let _ = write!(key, "{}:{part}", part.len());
        }
        self.0.entry(key).or_insert_with(|| probe::programs(test))
    }
}

const SYSTEM_DIRS: &[&str] = &[
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
];

/// A program named by a path outside the system's bin folders (`/app/healthcheck`, `/mailpit`):
/// the app's own binary, which no image's tool list can know of. The way to probe a shell-less
/// image, so a test of the user's that calls one is not warned about.
fn ships_with_the_app(program: &str) -> bool {
    program.starts_with('/') && !SYSTEM_DIRS.iter().any(|dir| program.starts_with(dir))
}

/// Utilities every image with a shell has, as programs in /bin or /usr/bin: coreutils, an
/// essential package of every Debian and UBI image (python:*-slim is `FROM debian:*-slim`, and
/// its Dockerfile's own `RUN` lines call `echo`, `tr` and `[`), and busybox's applets in Alpine.
/// The exec form `["CMD", "true"]` needs `/bin/true`, not the shell's builtin.
const WITH_A_SHELL: &[&str] = &[
    "true", "false", "test", "[", "echo", "printf", "cat", "sleep", "env", "ls", "timeout", "kill",
    "head", "tail", "tr", "cut", "wc", "id",
];

/// Whether an image with `tools` has `program`, named bare or by its path in a system folder.
/// The mounted probe's program is in every container that runs it: the emitters mount it there.
fn has(tools: &[&str], program: &str) -> bool {
    if program == crate::mounted_probe::PROGRAM {
        return true;
    }
    let bare = SYSTEM_DIRS
        .iter()
        .find_map(|dir| program.strip_prefix(dir))
        .unwrap_or(program);
    tools.contains(&bare) || (tools.contains(&"sh") && WITH_A_SHELL.contains(&bare))
}
