//! Engine inference: which engine a kind runs, from the `engine` key, a known image or the
//! kind's only engine; and where that engine's health endpoint is.

use crate::diagnostic::{Diagnostic, SourceId};
use crate::images::ImageFacts;
use crate::kinds::Kind;
use crate::model::ProbeStyle;
use toml::Spanned;

/// The engine: named by `engine`, read off a known image, or the kind's only engine.
pub(super) fn infer_engine(
    kind: &Kind,
    engine_key: Option<(&Spanned<String>, SourceId)>,
    image: Option<(&Spanned<String>, SourceId)>,
    image_facts: Option<&ImageFacts>,
) -> Result<Option<String>, Diagnostic> {
    let engines = kind.engines;
    if let Some((engine, source)) = engine_key {
        if engines.contains(&engine.get_ref().as_str()) {
            return Ok(Some(engine.get_ref().clone()));
        }
        let mut d = Diagnostic::error(format!(
            "`{}` is not an engine of kind `{}`",
            engine.get_ref(),
            kind.name
        ))
        .at(source, Some(engine.span()), "unknown engine");
        d = if engines.is_empty() {
            d.with_note(format!(
                "kind `{}` runs your own code; remove `engine`",
                kind.name
            ))
        } else {
            d.with_note(format!(
                "engines of `{}`: {}",
                kind.name,
                engines.join(", ")
            ))
        };
        if let Some(hint) = crate::suggest::did_you_mean(engine.get_ref(), engines.iter().copied())
        {
            d = d.with_note(hint);
        }
        return Err(d);
    }
    if engines.is_empty() {
        return Ok(None);
    }
    if let Some(engine) = image_facts.and_then(|f| f.engine) {
        if engines.contains(&engine) {
            return Ok(Some(engine.to_owned()));
        }
        let (image, source) = image.expect("facts come from an image");
        return Err(Diagnostic::error(format!(
            "image `{}` runs {engine}, which is not an engine of kind `{}`",
            image.get_ref(),
            kind.name
        ))
        .at(source, Some(image.span()), "this image")
        .with_note(format!(
            "engines of `{}`: {}",
            kind.name,
            engines.join(", ")
        )));
    }
    if let [only] = engines {
        return Ok(Some((*only).to_owned()));
    }
    let d = Diagnostic::error(format!(
        "cannot tell which {} engine this service runs",
        kind.name
    ))
    .with_note(format!(
        "set `engine` to one of: {}, or use an official image",
        engines.join(", ")
    ));
    Err(match image {
        Some((image, source)) => d.at(
            source,
            Some(image.span()),
            "muster does not know this image",
        ),
        None => d,
    })
}

/// Where the HTTP health endpoint is. An image whose health endpoint has a port of its own (an
/// admin port, like Jaeger's) keeps it; otherwise the endpoint follows the service port.
pub(super) fn health_endpoint(
    kind: &Kind,
    facts: Option<&ImageFacts>,
    port: Option<u16>,
    explicit_path: Option<String>,
) -> (Option<u16>, Option<String>) {
    let known = facts.and_then(|f| f.health.map(|h| (f.port, h)));
    match (known, explicit_path) {
        (Some((service_port, h)), path) => {
            let health_port = if Some(h.port) == service_port {
                port
            } else {
                Some(h.port)
            };
            (health_port, Some(path.unwrap_or_else(|| h.path.to_owned())))
        }
        (None, Some(path)) => (port, Some(path)),
        (None, None) if kind.probe == ProbeStyle::Http && kind.engines.is_empty() => {
            (port, Some(crate::kinds::DEFAULT_HEALTH_PATH.to_owned()))
        }
        (None, None) => (port, None),
    }
}
