//! Healthcheck timing, as the body will run it (the catalogue's layers and the `compose` table).

use crate::compose_body::Healthcheck;
use crate::diagnostic::{Diagnostic, SourceId};
use crate::model::duration::DOCKER_DEFAULT_INTERVAL;
use crate::render::Rendered;

/// A timeout as long as the interval makes probes overlap: the engine starts the next one while
/// the last still runs. Pointed at the timeout where a catalogue layer set it, else at the
/// service (the `compose` table has no positions of its own).
pub fn timeout_problem(
    rendered: &Rendered,
    hc: &Healthcheck,
    catalogue: SourceId,
) -> Option<Diagnostic> {
    let service = &rendered.service;
    let timeout = hc.timeout?;
    let (interval_text, interval) = match hc.interval {
        Some(i) => (i.text, i.value),
        None => ("30s (Docker's default)", DOCKER_DEFAULT_INTERVAL),
    };
    if timeout.value < interval {
        return None;
    }
    let d = Diagnostic::error(format!(
        "service `{}`: healthcheck timeout {timeout} is not shorter than its interval {interval_text}",
        service.name
    ));
    let from_passthrough = service
        .compose
        .get("healthcheck")
        .is_some_and(|h| h.get("timeout").is_some());
    let d = match &service.healthcheck.timeout_at {
        Some((source, span)) if !from_passthrough => {
            d.at(*source, Some(span.clone()), "this timeout")
        }
        _ => d.at(catalogue, Some(service.name_span.clone()), "this service"),
    };
    Some(d.with_note(
        "a probe must finish before the next one starts; keep timeout well under interval",
    ))
}
