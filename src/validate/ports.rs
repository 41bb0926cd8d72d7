//! Host ports: two services publishing one host port would let Compose start the first and
//! fail on the second with "port is already allocated". The ports are read from the bodies, so
//! a port a template or the `compose` table publishes counts as much as the catalogue's own.

use super::origin::Locator;
use crate::diagnostic::{Diagnostic, Diagnostics, Label, SourceId};
use crate::render::Rendered;
use crate::yaml::Value as Yaml;
use std::collections::HashMap;
use std::ops::Range;

/// A host port a service publishes, where it was written.
struct Published {
    /// The service's index.
    service: usize,
    mapping: crate::ports::Mapping,
    text: String,
    /// The item's index in the body's `ports`.
    item: usize,
    /// Where the catalogue wrote it, for a port of its typed `ports`.
    written: Option<(SourceId, Range<usize>)>,
}

/// Two services publishing one host port: Compose would start the first and fail on the second
/// with "port is already allocated". Each later mapping is reported against the first earlier
/// one it collides with that some `--profile` selection runs with it (`profiles.rs`).
pub(super) fn check(services: &[Rendered], locator: &mut Locator, diagnostics: &mut Diagnostics) {
    let published: Vec<Published> = services
        .iter()
        .enumerate()
        .flat_map(|(i, r)| published(i, r))
        .collect();
    check_replicas(services, &published, locator, diagnostics);
    let profiles: Vec<_> = services.iter().map(|r| r.body.compose_profiles()).collect();
    let together = |a: &Published, b: &Published| {
        a.service == b.service
            || super::profiles::together(&profiles[a.service], &profiles[b.service])
    };
    for (later, earlier) in first_collisions(&published, together) {
        let (later, earlier) = (&published[later], &published[earlier]);
        let (source, span) = place(later, services, locator);
        let (first_source, first_span) = place(earlier, services, locator);
        diagnostics.push(
            Diagnostic::error(format!(
                "`{}` publishes host port {} that `{}` already publishes",
                services[later.service].service.name,
                later.text,
                services[earlier.service].service.name
            ))
            .at(source, Some(span), "published again here")
            .with_label(Label::new(first_source, first_span, "first published here")),
        );
    }
}

/// Host ports two services publish that only Compose's profiles keep apart: Swarm deploys every
/// service whatever its profiles, and refuses the second ("port ... is already in use by
/// service ..."). Each as the later service, the earlier one and the port.
pub(crate) fn apart_only_by_profiles<'s>(
    services: &[&'s Rendered],
) -> Vec<(&'s str, &'s str, String)> {
    let published: Vec<Published> = services
        .iter()
        .enumerate()
        .flat_map(|(i, r)| published(i, r))
        .collect();
    let profiles: Vec<_> = services.iter().map(|r| r.body.compose_profiles()).collect();
    let apart = |a: &Published, b: &Published| {
        a.service != b.service
            && !super::profiles::together(&profiles[a.service], &profiles[b.service])
    };
    first_collisions(&published, apart)
        .into_iter()
        .map(|(later, earlier)| {
            let (later, earlier) = (&published[later], &published[earlier]);
            (
                services[later.service].service.name.as_str(),
                services[earlier.service].service.name.as_str(),
                later.text.clone(),
            )
        })
        .collect()
}

/// The host ports of one body, short syntax or long, as Compose reads them; a port from the
/// environment is not judged.
fn published(service: usize, rendered: &Rendered) -> Vec<Published> {
    let Some(Yaml::Sequence(items)) = rendered.body.get("ports") else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(item, value)| {
            let (mapping, text) = match value {
                // A port from the environment is the environment's to choose, even with a
                // default: two of them are never called a collision.
                Yaml::String(text) if text.contains('$') => return None,
                Yaml::String(text) => (crate::ports::parse(text).ok()?, text.clone()),
                Yaml::Mapping(long) => long_syntax(long)?,
                _ => return None,
            };
            mapping.host.as_ref()?;
            let written = rendered
                .service
                .published
                .iter()
                .find(|p| p.text == text)
                .map(|p| (p.source, p.span.clone()));
            Some(Published {
                service,
                mapping,
                text,
                item,
                written,
            })
        })
        .collect()
}

/// A long-syntax port (`{target: 80, published: "8080", host_ip: ..., protocol: udp}`) as a
/// mapping, and its text for messages.
fn long_syntax(long: &crate::yaml::Mapping) -> Option<(crate::ports::Mapping, String)> {
    let text = |key: &str| -> Option<String> {
        match long.get(key)? {
            Yaml::Number(n) => Some(n.to_string()),
            Yaml::String(v) if v.contains('$') => None,
            Yaml::String(v) => Some(v.clone()),
            _ => None,
        }
    };
    let published = text("published")?;
    let target = text("target")?;
    let mut short = format!("{published}:{target}");
    if let Some(ip) = text("host_ip") {
        short = if ip.contains(':') {
            format!("[{ip}]:{short}")
        } else {
            format!("{ip}:{short}")
        };
    }
    if let Some(protocol) = text("protocol") {
        short = format!("{short}/{protocol}");
    }
    let mapping = crate::ports::parse(&short).ok()?;
    Some((mapping, short))
}

fn place(p: &Published, services: &[Rendered], locator: &mut Locator) -> (SourceId, Range<usize>) {
    if let Some(written) = &p.written {
        return written.clone();
    }
    let found = locator.locate(
        &services[p.service],
        &["ports".to_owned(), p.item.to_string()],
    );
    (found.source, found.span)
}

/// Replicas of one service publishing one host port: the first container takes it, and Compose
/// fails to start the others with "port is already allocated". A host range at least as long
/// as the replicas is Compose's way to give each its own.
fn check_replicas(
    services: &[Rendered],
    published: &[Published],
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) {
    for port in published {
        let r = &services[port.service];
        // A count from the environment without a default cannot be judged here.
        let replicas = super::rules::replicas(r.body.mapping()).unwrap_or(1);
        if replicas < 2 {
            continue;
        }
        let Some(host) = &port.mapping.host else {
            continue;
        };
        let room = i64::from(*host.end()) - i64::from(*host.start()) + 1;
        if room >= replicas {
            continue;
        }
        let (source, span) = place(port, services, locator);
        diagnostics.push(
            Diagnostic::error(format!(
                "`{}` runs {replicas} replicas, but publishes host port {} that only {} can take",
                r.service.name,
                port.text,
                if room == 1 {
                    "one".to_owned()
                } else {
                    room.to_string()
                }
            ))
            .at(source, Some(span), "a fixed host port")
            .with_note(format!(
                "publish a host range of {replicas} ports (`\"8000-{}:80\"`), only the \
                 container port (`\"80\"`, the engine picks free host ports), or put a \
                 proxy in front",
                8000 + replicas - 1
            )),
        );
    }
}

/// For each mapping that collides with an earlier one, its index and the earliest such one's.
///
/// Mappings are indexed by protocol and host port, so that each is compared only with those
/// claiming one of its ports: comparing every pair made validation quadratic in the number of
/// published ports. A range wider than [`WIDE`] ports is not indexed port by port; it is kept
/// aside and compared with every mapping.
fn first_collisions(
    published: &[Published],
    together: impl Fn(&Published, &Published) -> bool,
) -> Vec<(usize, usize)> {
    const WIDE: u32 = 256;
    let mut by_port: HashMap<(&str, u16), Vec<usize>> = HashMap::new();
    let mut wide: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for (i, later) in published.iter().enumerate() {
        let Some(ports) = &later.mapping.host else {
            continue;
        };
        let protocol = later.mapping.protocol.as_str();
        let is_wide = u32::from(*ports.end()) - u32::from(*ports.start()) >= WIDE;
        let candidates: Vec<usize> = if is_wide {
            (0..i).collect()
        } else {
            ports
                .clone()
                .filter_map(|port| by_port.get(&(protocol, port)))
                .flatten()
                .chain(&wide)
                .copied()
                .collect()
        };
        if let Some(earlier) = candidates
            .into_iter()
            .filter(|&e| {
                together(&published[e], later) && published[e].mapping.collides_with(&later.mapping)
            })
            .min()
        {
            found.push((i, earlier));
        }
        if is_wide {
            wide.push(i);
        } else {
            for port in ports.clone() {
                by_port.entry((protocol, port)).or_default().push(i);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexed search finds, for every mapping, the earliest earlier one a comparison of
    /// every pair finds.
    #[test]
    fn collisions_are_those_every_pair_compared_would_find() {
        let texts = [
            "8000:80",
            "127.0.0.1:8000:80",
            "8000:80/udp",
            "7990-8010:80-100",
            "9000:90",
            "1-65535:1-65535/udp",
            "10.0.0.1:9000:90",
            "80",
            "9000:91",
            "53:53/udp",
            "8005:85",
        ];
        let published: Vec<Published> = texts
            .iter()
            .enumerate()
            .map(|(item, text)| Published {
                service: 0,
                mapping: crate::ports::parse(text).unwrap(),
                text: (*text).to_owned(),
                item,
                written: None,
            })
            .collect();
        let every_pair: Vec<(usize, usize)> = (0..published.len())
            .filter_map(|i| {
                (0..i)
                    .find(|&e| published[e].mapping.collides_with(&published[i].mapping))
                    .map(|e| (i, e))
            })
            .collect();
        assert_eq!(first_collisions(&published, |_, _| true), every_pair);
        // The fixture must exercise collisions through the index and through the wide list.
        assert!(every_pair.contains(&(1, 0)) && every_pair.contains(&(9, 5)));
    }
}
