//! Probe tools: a healthcheck must call programs its image has.

use crate::compose_body::Healthcheck;
use crate::diagnostic::{Diagnostic, SourceId};
use crate::probe;
use crate::render::Rendered;

/// A healthcheck that calls a program its image does not have can never turn healthy. From a
/// built-in template that is an error; from the user's own `healthcheck.test` or template a
/// warning, since the user may know the image has more than the official one.
pub fn problem(
    rendered: &Rendered,
    healthcheck: &Healthcheck,
    catalogue: SourceId,
) -> Option<Diagnostic> {
    let service = &rendered.service;
    let tools = service.tools?;
    let users_probe = healthcheck.origin.is_users();
    // `CMD-SHELL` runs its line through `/bin/sh`: an image without one (distroless) runs only
    // the exec form.
    let shell = (healthcheck.test.first().copied() == Some("CMD-SHELL")).then(|| "sh".to_owned());
    let missing: Vec<String> = shell
        .into_iter()
        .chain(probe::programs(&healthcheck.test))
        .filter(|p| !tools.contains(&p.as_str()))
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
        Diagnostic::warning(message).with_code(crate::lint::PROBE_PROGRAM_MISSING)
    } else {
        Diagnostic::error(message)
            .with_note("set `healthcheck.test` to a probe the image can run, or use another tag")
    };
    Some(
        d.at(catalogue, Some(service.name_span.clone()), "this service")
            .with_note(note),
    )
}

/// A program named by a path outside the system's bin folders (`/app/healthcheck`, `/mailpit`):
/// the app's own binary, which no image's tool list can know of. The way to probe a shell-less
/// image, so a test of the user's that calls one is not warned about.
fn ships_with_the_app(program: &str) -> bool {
    const SYSTEM: &[&str] = &[
        "/bin/",
        "/sbin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/usr/local/bin/",
    ];
    program.starts_with('/') && !SYSTEM.iter().any(|dir| program.starts_with(dir))
}
