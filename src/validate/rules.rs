//! compose-go's rules that its schema cannot say, and the engine's refusals that Compose passes
//! on, on every body whoever wrote its keys (the catalogue, a profile, a template, the `compose`
//! table). Each rule names the Go function it mirrors.
//!
//! Rules on one value are data, keyed by the path they judge ([`VALUE_RULES`], as compose-go's
//! `validation.checks` maps a path to its checker); rules on a body as a whole and on the stack
//! follow. The references one service makes to another (`network_mode: service:vpn`, `links`,
//! `volumes_from`) are dependencies to Compose ([`implicit_dependencies`]): the graph judges them
//! with `depends_on`.

use super::origin::Locator;
use crate::diagnostic::{Diagnostic, Diagnostics, Label};
use crate::render::Rendered;
use crate::yaml::Value as Yaml;
use std::borrow::Cow;

/// A rule on one value: why Compose or the engine refuses it, and a note on what to write.
type Check = fn(&Yaml) -> Option<(String, &'static str)>;

/// Where under a body's key a rule's value is.
#[derive(Clone, Copy)]
enum Under {
    /// Every item of the key's list.
    Item,
    /// The key's own key of that name.
    Key(&'static str),
}

/// Rules on one value, by its path in the body.
const VALUE_RULES: &[(&str, Under, Check)] = &[
    ("extra_hosts", Under::Item, extra_host),
    ("healthcheck", Under::Key("interval"), healthcheck_duration),
    ("healthcheck", Under::Key("timeout"), healthcheck_duration),
    (
        "healthcheck",
        Under::Key("start_period"),
        healthcheck_duration,
    ),
    (
        "healthcheck",
        Under::Key("start_interval"),
        healthcheck_duration,
    ),
    ("ports", Under::Item, port_address),
];

/// compose-go `types.NewHostsList` and `HostsList.cleanup`: each entry is `HOST=IP` or
/// `HOST:IP`, cut at the first `=`, else the first `:` ("invalid additional host, missing IP"),
/// with a host name before it ("bad host name").
fn extra_host(value: &Yaml) -> Option<(String, &'static str)> {
    const NOTE: &str = "write `HOST=IP` (or `HOST:IP`), e.g. \"db.internal=10.0.0.5\"; \
                        `host-gateway` is the host's own address";
    let text = at_defaults(value)?;
    let Some((host, _)) = text.split_once('=').or_else(|| text.split_once(':')) else {
        return Some((
            format!("{text:?} has no address (Compose: \"invalid additional host, missing IP\")"),
            NOTE,
        ));
    };
    (host.is_empty() || host.contains([':', '='])).then(|| {
        (
            format!("{text:?} has no host name before its address (Compose: \"bad host name\")"),
            NOTE,
        )
    })
}

/// moby `daemon.validateHealthCheck`: a healthcheck duration, when set and not zero, is at least
/// a millisecond ("Interval in Healthcheck cannot be less than 1ms"); Compose passes it on and
/// the engine refuses the container at `up`.
fn healthcheck_duration(value: &Yaml) -> Option<(String, &'static str)> {
    let text = at_defaults(value)?;
    // A whole number of ms, s, m or h is zero or a millisecond at least: only a fraction or
    // ns/us/µs can be less, and only such a text is read.
    if !text.contains(['.', 'n', 'u', 'µ']) {
        return None;
    }
    let span = crate::model::duration::parse_interpolated(&text).ok()??;
    (!span.is_zero() && span < std::time::Duration::from_millis(1)).then(|| {
        (
            format!(
                "{text:?} is under a millisecond, which the engine refuses when it creates the \
                 container (\"cannot be less than 1ms\")"
            ),
            "write 1ms or more, or 0s for Docker's default",
        )
    })
}

/// compose-go `validation.checkIPAddress`: a published port's host address is an address.
fn port_address(value: &Yaml) -> Option<(String, &'static str)> {
    let ip = match value {
        Yaml::String(_) => {
            let text = at_defaults(value)?;
            match crate::ports::parse(&text) {
                Err(reason) if reason.contains("not an IP address") => {
                    return Some((
                        format!("{text:?}: {reason} (Compose: \"invalid ip address\")"),
                        "write an IPv4 or IPv6 address of the host, or leave it out to publish on every interface",
                    ));
                }
                _ => return None,
            }
        }
        Yaml::Mapping(long) => at_defaults(long.get("host_ip")?)?,
        _ => return None,
    };
    (!ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err()).then(|| {
        (
            format!("`host_ip` {ip:?} is not an IP address (Compose: \"invalid ip address\")"),
            "write an IPv4 or IPv6 address of the host, or leave it out to publish on every interface",
        )
    })
}

/// Some keys of a body, found in one pass over its entries: looking each of them up by name
/// hashed the name with yaml_serde's SipHash, a dozen times per service, which cost more than
/// the rules themselves.
struct Keys<'a, const N: usize> {
    names: &'static [&'static str; N],
    values: [Option<&'a Yaml>; N],
}

impl<'a, const N: usize> Keys<'a, N> {
    fn of(body: &'a crate::yaml::Mapping, names: &'static [&'static str; N]) -> Self {
        let mut values = [None; N];
        for (key, value) in body {
            if let Some(i) = key
                .as_str()
                .and_then(|k| names.iter().position(|n| *n == k))
            {
                values[i] = Some(value);
            }
        }
        Keys { names, values }
    }

    fn get(&self, key: &str) -> Option<&'a Yaml> {
        let i = self.names.iter().position(|n| *n == key);
        debug_assert!(i.is_some(), "`{key}` is not among the keys read");
        self.values[i?]
    }
}

/// A string value as Compose reads it, at its defaults; `None` when the environment decides.
fn at_defaults(value: &Yaml) -> Option<Cow<'_, str>> {
    let text = value.as_str()?;
    if !text.contains('$') {
        return Some(Cow::Borrowed(text));
    }
    crate::model::interpolation::with_defaults(text)
        .ok()
        .flatten()
        .map(Cow::Owned)
}

/// Every rule on the body of one service.
pub(super) fn check_body(
    rendered: &Rendered,
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) {
    let name = &rendered.service.name;
    let mut report = |path: Vec<String>, message: String, note: &str, locator: &mut Locator| {
        let place = locator.locate(rendered, &path);
        diagnostics.push(
            Diagnostic::error(format!("service `{name}`: {message}"))
                .at(place.source, Some(place.span), &place.label)
                .with_note(note.to_owned()),
        );
    };
    let body = Keys::of(
        rendered.body.mapping(),
        &[
            "extra_hosts",
            "healthcheck",
            "ports",
            "network_mode",
            "networks",
            "container_name",
        ],
    );
    for (key, under, check) in VALUE_RULES {
        let Some(value) = body.get(key) else {
            continue;
        };
        let found: Vec<(String, &Yaml)> = match (under, value) {
            (Under::Item, Yaml::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (i.to_string(), item))
                .collect(),
            // Read in order, not looked up: four durations of every healthcheck asked.
            (Under::Key(sub), Yaml::Mapping(map)) => map
                .iter()
                .find(|(k, _)| k.as_str() == Some(*sub))
                .map(|(_, v)| ((*sub).to_owned(), v))
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        for (below, value) in found {
            // A port of the catalogue's own `ports` was judged by load, where it is written.
            let typed_port = *key == "ports"
                && value
                    .as_str()
                    .is_some_and(|text| rendered.service.ports.iter().any(|p| p == text));
            if typed_port {
                continue;
            }
            if let Some((message, note)) = check(value) {
                let path = vec![(*key).to_owned(), below];
                let message = format!("`{}`: {message}", super::schema::dotted(&path));
                report(path, message, note, locator);
            }
        }
    }
    // compose-go `loader.checkConsistency`: "declares mutually exclusive `network_mode` and
    // `networks`".
    if body.get("network_mode").is_some()
        && body.get("networks").is_some_and(|n| {
            !matches!(n, Yaml::Null) && n.as_sequence().is_none_or(|s| !s.is_empty())
        })
    {
        report(
            vec!["network_mode".to_owned()],
            "`network_mode` together with `networks`, which Compose refuses (\"declares mutually \
             exclusive `network_mode` and `networks`\")"
                .to_owned(),
            "a service on another's network stack (`service:NAME`), the host's or none joins no \
             network of its own: drop one of them",
            locator,
        );
    }
    // compose-go `loader.checkConsistency`: "can't set container_name and deploy.replicas as
    // container name must be unique".
    if body.get("container_name").is_some() {
        let body = rendered.body.mapping();
        let replicas = replicas(body);
        if replicas.is_some_and(|r| r > 1) {
            let key = if body.contains_key("scale") {
                "scale"
            } else {
                "deploy.replicas"
            };
            report(
                vec!["container_name".to_owned()],
                format!(
                    "`container_name` with {key} {}, which Compose refuses (\"can't set \
                     container_name and {key} as container name must be unique\")",
                    replicas.unwrap_or_default()
                ),
                "a container name names one container: leave `container_name` out and let \
                 Compose name the replicas",
                locator,
            );
        }
    }
    mounts(rendered, locator, diagnostics);
}

/// `deploy.replicas` or `scale`, at its default, as compose-go's `GetScale` reads it.
pub(super) fn replicas(body: &crate::yaml::Mapping) -> Option<i64> {
    let count = |v: &Yaml| match v {
        Yaml::Number(n) => n.as_i64(),
        Yaml::String(_) => at_defaults(v)?.parse().ok(),
        _ => None,
    };
    body.get("scale")
        .and_then(count)
        .or_else(|| body.get("deploy")?.get("replicas").and_then(count))
}

/// compose-go `loader.checkConsistency`: no `tmpfs` on a container path that another `tmpfs` or
/// a mount of `volumes` takes ("target /data already mounted as services.web.tmpfs[0]"), after
/// `path.Clean`. Two mounts of `volumes` on one path are not refused: Compose keeps the last.
fn mounts(rendered: &Rendered, locator: &mut Locator, diagnostics: &mut Diagnostics) {
    let body = Keys::of(rendered.body.mapping(), &["tmpfs", "volumes"]);
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    let list = |key: &str| -> Vec<(usize, &Yaml)> {
        match body.get(key) {
            Some(Yaml::Sequence(items)) => items.iter().enumerate().collect(),
            Some(single @ Yaml::String(_)) if key == "tmpfs" => vec![(0, single)],
            _ => Vec::new(),
        }
    };
    for key in ["tmpfs", "volumes"] {
        for (i, item) in list(key) {
            let target = match item {
                Yaml::String(_) if key == "tmpfs" => {
                    at_defaults(item).map(|t| t.split(':').next().unwrap_or_default().to_owned())
                }
                Yaml::String(_) => at_defaults(item)
                    .and_then(|t| crate::volumes::target(&t).ok().map(str::to_owned)),
                Yaml::Mapping(long) => long
                    .get("target")
                    .and_then(at_defaults)
                    .map(Cow::into_owned),
                _ => None,
            };
            let Some(target) = target.map(|t| clean(&t)) else {
                continue;
            };
            let path = vec![key.to_owned(), i.to_string()];
            if let Some((_, first)) = seen.iter().find(|(t, _)| *t == target) {
                let first_place = locator.locate(rendered, first);
                let place = locator.locate(rendered, &path);
                diagnostics.push(
                    Diagnostic::error(format!(
                        "service `{}`: two mounts on `{target}`, which Compose refuses (\"target \
                         {target} already mounted\")",
                        rendered.service.name
                    ))
                    .at(place.source, Some(place.span), "mounted again here")
                    .with_label(Label::new(
                        first_place.source,
                        first_place.span,
                        "first mounted here",
                    )),
                );
            } else if key == "tmpfs" {
                // Mounts of `volumes` on one path are one to Compose: it keeps the last
                // (`override.EnforceUnicity`, by target) and the engine never sees two.
                seen.push((target, path));
            }
        }
    }
}

/// Go's `path.Clean` for an absolute container path: no `.`, `..`, repeated or trailing `/`.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// A service one body names as Compose's loader turns it into a dependency.
#[derive(Debug)]
pub(super) struct Implicit {
    pub target: String,
    /// The key that names it (`network_mode`, `links`, ...), for the message.
    pub key: &'static str,
    /// Where in the body.
    pub path: Vec<String>,
}

/// The services a body names outside `depends_on`, each a dependency to Compose (compose-go
/// `loader.Normalize`: `links`, `volumes_from` other than `container:`, and `network_mode`,
/// `ipc`, `pid`, `uts`, `cgroup` set to `service:NAME`, all `required: true`).
pub(super) fn implicit_dependencies(rendered: &Rendered) -> Vec<Implicit> {
    let body = Keys::of(
        rendered.body.mapping(),
        &[
            "links",
            "network_mode",
            "ipc",
            "pid",
            "uts",
            "cgroup",
            "volumes_from",
        ],
    );
    let mut found = Vec::new();
    let items = |key: &str| -> Vec<(usize, String)> {
        match body.get(key) {
            Some(Yaml::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i, at_defaults(v)?.into_owned())))
                .collect(),
            _ => Vec::new(),
        }
    };
    for (i, link) in items("links") {
        // `SERVICE:ALIAS`, or the service alone.
        let parts: Vec<&str> = link.split(':').collect();
        let target = if parts.len() == 2 {
            parts[0]
        } else {
            link.as_str()
        };
        found.push(Implicit {
            target: target.to_owned(),
            key: "links",
            path: vec!["links".to_owned(), i.to_string()],
        });
    }
    for key in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        let Some(value) = body.get(key).and_then(at_defaults) else {
            continue;
        };
        if let Some(target) = value.strip_prefix("service:") {
            found.push(Implicit {
                target: target.to_owned(),
                key,
                path: vec![key.to_owned()],
            });
        }
    }
    for (i, from) in items("volumes_from") {
        if from.starts_with("container:") {
            continue;
        }
        let target = from.split(':').next().unwrap_or_default();
        found.push(Implicit {
            target: target.to_owned(),
            key: "volumes_from",
            path: vec!["volumes_from".to_owned(), i.to_string()],
        });
    }
    found
}

/// compose-go `Project.CheckContainerNameUnicity`, which Compose runs before it creates
/// containers: no two services that run together take one `container_name` ("container name
/// ... is already in use by service ..."). Under Compose's profiles, only services some
/// selection runs together (`profiles.rs`).
pub(super) fn container_names(
    services: &[Rendered],
    locator: &mut Locator,
    diagnostics: &mut Diagnostics,
) {
    let mut named: Vec<(String, usize)> = Vec::new();
    let profiles: Vec<Vec<Cow<str>>> = services.iter().map(|r| r.body.compose_profiles()).collect();
    for (i, rendered) in services.iter().enumerate() {
        let Some(name) = rendered.body.get("container_name").and_then(at_defaults) else {
            continue;
        };
        let clash = named
            .iter()
            .find(|(n, j)| *n == name && super::profiles::together(&profiles[i], &profiles[*j]));
        if let Some((_, j)) = clash {
            let path = vec!["container_name".to_owned()];
            let first = locator.locate(&services[*j], &path);
            let place = locator.locate(rendered, &path);
            diagnostics.push(
                Diagnostic::error(format!(
                    "services `{}` and `{}` both take the container name {name:?}",
                    services[*j].service.name, rendered.service.name
                ))
                .at(place.source, Some(place.span), "taken again here")
                .with_label(Label::new(first.source, first.span, "first taken here"))
                .with_note(format!(
                    "Compose refuses to create them: \"container name {name:?} is already in use \
                     by service {}\"",
                    services[*j].service.name
                )),
            );
        } else {
            named.push((name.into_owned(), i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Yaml {
        crate::yaml::from_str(text).unwrap()
    }

    #[test]
    fn value_rules_refuse_what_compose_and_the_engine_refuse() {
        assert!(extra_host(&yaml("db.internal")).is_some());
        assert!(extra_host(&yaml("db.internal=10.0.0.5")).is_none());
        assert!(extra_host(&yaml("db.internal:host-gateway")).is_none());
        assert!(extra_host(&yaml("=10.0.0.5")).is_some());
        assert!(extra_host(&yaml("\"v6=::1\"")).is_none());
        assert!(healthcheck_duration(&yaml("500us")).is_some());
        assert!(healthcheck_duration(&yaml("0s")).is_none());
        assert!(healthcheck_duration(&yaml("1ms")).is_none());
        assert!(healthcheck_duration(&yaml("${I:-10us}")).is_some());
        assert!(port_address(&yaml("300.1.1.1:8080:80")).is_some());
        assert!(port_address(&yaml("{target: 80, host_ip: 300.1.1.1}")).is_some());
        assert!(port_address(&yaml("127.0.0.1:8080:80")).is_none());
        assert!(port_address(&yaml("${IP:-1.2.3.4}:8080:80")).is_none());
    }

    #[test]
    fn paths_are_cleaned_as_go_cleans_them() {
        assert_eq!(clean("/data/"), "/data");
        assert_eq!(clean("/a/./b/../c//"), "/a/c");
    }
}
