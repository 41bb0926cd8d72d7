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
    let missing: Vec<String> = probe::programs(&healthcheck.test)
        .into_iter()
        .filter(|p| !tools.contains(&p.as_str()))
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
    let note = format!("the image has: {}", tools.join(", "));
    let d = if users_probe {
        Diagnostic::warning(message)
    } else {
        Diagnostic::error(message)
            .with_note("set `healthcheck.test` to a probe the image can run, or use another tag")
    };
    Some(
        d.at(catalogue, Some(service.name_span.clone()), "this service")
            .with_note(note),
    )
}
