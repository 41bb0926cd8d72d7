//! Host ports: two services publishing one host port would let Compose start the first and
//! fail on the second with "port is already allocated".

use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::render::Rendered;
use crate::resolve::PublishedPort;
use std::collections::HashMap;

/// A host port a service publishes, where it was written.
struct Published<'a> {
    service: &'a str,
    port: &'a PublishedPort,
}

/// Two services publishing one host port: Compose would start the first and fail on the second
/// with "port is already allocated". Each later mapping is reported against the first earlier
/// one it collides with.
pub fn check(services: &[Rendered], diagnostics: &mut Diagnostics) {
    check_replicas(services, diagnostics);
    let published: Vec<Published> = services
        .iter()
        .flat_map(|r| {
            r.service.published.iter().map(|port| Published {
                service: &r.service.name,
                port,
            })
        })
        .collect();
    for (later, earlier) in first_collisions(&published) {
        let (later, earlier) = (&published[later], &published[earlier]);
        diagnostics.push(
            Diagnostic::error(format!(
                "`{}` publishes host port {} that `{}` already publishes",
                later.service, later.port.text, earlier.service
            ))
            .at(
                later.port.source,
                Some(later.port.span.clone()),
                "published again here",
            )
            .with_label(Label::new(
                earlier.port.source,
                earlier.port.span.clone(),
                "first published here",
            )),
        );
    }
}

/// Replicas of one service publishing one host port: the first container takes it, and Compose
/// fails to start the others with "port is already allocated". A host range at least as long
/// as the replicas is Compose's way to give each its own.
fn check_replicas(services: &[Rendered], diagnostics: &mut Diagnostics) {
    for r in services {
        // A count from the environment without a default cannot be judged here.
        let replicas = r
            .service
            .replicas
            .as_ref()
            .and_then(crate::model::Count::value)
            .unwrap_or(1);
        if replicas < 2 {
            continue;
        }
        for port in &r.service.published {
            let Some(host) = &port.mapping.host else {
                continue;
            };
            let room = u32::from(*host.end()) - u32::from(*host.start()) + 1;
            if room >= replicas {
                continue;
            }
            diagnostics.push(
                Diagnostic::error(format!(
                    "`{}` runs {replicas} replicas, but publishes host port {} that only {} can take",
                    r.service.name,
                    port.text,
                    if room == 1 { "one".to_owned() } else { room.to_string() }
                ))
                .at(port.source, Some(port.span.clone()), "a fixed host port")
                .with_note(format!(
                    "publish a host range of {replicas} ports (`\"8000-{}:80\"`), only the \
                     container port (`\"80\"`, the engine picks free host ports), or put a \
                     proxy in front",
                    8000 + replicas - 1
                )),
            );
        }
    }
}

/// For each mapping that collides with an earlier one, its index and the earliest such one's.
///
/// Mappings are indexed by protocol and host port, so that each is compared only with those
/// claiming one of its ports: comparing every pair made validation quadratic in the number of
/// published ports. A range wider than [`WIDE`] ports is not indexed port by port; it is kept
/// aside and compared with every mapping.
fn first_collisions(published: &[Published]) -> Vec<(usize, usize)> {
    const WIDE: u32 = 256;
    let mut by_port: HashMap<(&str, u16), Vec<usize>> = HashMap::new();
    let mut wide: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    for (i, later) in published.iter().enumerate() {
        let Some(ports) = &later.port.mapping.host else {
            continue;
        };
        let protocol = later.port.mapping.protocol.as_str();
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
            .filter(|&e| published[e].port.mapping.collides_with(&later.port.mapping))
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
        let source = crate::diagnostic::Sources::default().add("catalogue", "");
        let ports: Vec<PublishedPort> = texts
            .iter()
            .map(|text| PublishedPort {
                mapping: crate::ports::parse(text).unwrap(),
                text: (*text).to_owned(),
                source,
                span: 0..0,
            })
            .collect();
        let published: Vec<Published> = ports
            .iter()
            .map(|port| Published { service: "s", port })
            .collect();
        let every_pair: Vec<(usize, usize)> = (0..published.len())
            .filter_map(|i| {
                (0..i)
                    .find(|&e| {
                        published[e]
                            .port
                            .mapping
                            .collides_with(&published[i].port.mapping)
                    })
                    .map(|e| (i, e))
            })
            .collect();
        assert_eq!(first_collisions(&published), every_pair);
        // The fixture must exercise collisions through the index and through the wide list.
        assert!(every_pair.contains(&(1, 0)) && every_pair.contains(&(9, 5)));
    }
}
