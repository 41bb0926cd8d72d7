//! Production stacks closed by default: what lets someone in where they do not belong. A port
//! Docker publishes is opened in the host's firewall by the engine itself, ahead of the ufw or
//! firewalld rules the host's owner wrote, so a datastore published on every interface is
//! reachable from wherever the host is; a container with the Docker socket, `privileged` or the
//! host's namespaces is the host.
//!
//! Every check reads the emitted body, so a key from a template or the `compose` table counts as
//! much as one the entry wrote; what an image does with its settings is its row's
//! [`Access`](crate::images::Access) in the image table.

use crate::compose_body::CommandRef;
use crate::diagnostic::Diagnostic;
use crate::images::{Access, AdminUi, AuthState, FileVariables, Known, Said, Switch};
use crate::model::Lint;
use crate::resolve::{Project, Service};
use crate::validate::StackService;
use crate::yaml::Value as Yaml;

/// The production lints of one service, each a finished diagnostic.
pub(super) fn lints(s: &StackService, project: &Project) -> Vec<Diagnostic> {
    let service = &s.rendered.service;
    let at_service = |d: Diagnostic| {
        d.at(
            project.catalogue_source,
            Some(service.name_span.clone()),
            "this service",
        )
    };
    let mut found = Vec::new();
    let said = said(s);
    let access = service.access;
    let ui = access
        .and_then(|a| a.admin_ui.as_ref())
        .filter(|ui| served(ui, service));
    for port in published(s) {
        if !port.every_interface {
            continue;
        }
        let at = |d: Diagnostic| match service.published.iter().find(|p| p.text == port.text) {
            Some(written) => d.at(
                written.source,
                Some(written.span.clone()),
                "published on every interface",
            ),
            None => at_service(d),
        };
        if let Some(ui) = ui.filter(|ui| ui.ports.iter().any(|p| port.container == Some(*p))) {
            let files = access.map_or(FileVariables::Convention, |a| a.files);
            if let Some(d) = admin_ui(service, ui, &port, &said, files, project) {
                found.push(at(d));
            }
        } else if service.traits.datastore {
            found.push(at(datastore_published(service, &port, project)));
        }
    }
    if service.traits.datastore
        && let Some(access) = access
        && let Some(d) = auth_off(service, access, &said)
    {
        found.push(at_service(d));
    }
    found.extend(docker_socket(s).map(at_service));
    found.extend(privileges(s).into_iter().map(at_service));
    found
}

/// A host port as the body publishes it.
struct Published {
    /// As written: `"5432:5432"`, or the long form's `published:target`.
    text: String,
    /// The container port, when it is one port (not a range, not interpolated).
    container: Option<u16>,
    /// No host address, or one that binds every interface (`0.0.0.0`, `::`).
    every_interface: bool,
}

/// The ports the body publishes, short or long syntax. One whose address Compose reads from the
/// environment without a default cannot be judged, and counts as bound to an interface.
fn published(s: &StackService) -> Vec<Published> {
    let Some(Yaml::Sequence(ports)) = s.rendered.body.get("ports") else {
        return Vec::new();
    };
    let every = |ip: Option<&str>| ip.is_none_or(|ip| matches!(ip, "0.0.0.0" | "::" | "[::]"));
    ports
        .iter()
        .filter_map(|port| match port {
            Yaml::String(text) => {
                let mapping = crate::ports::parse_interpolated(text).ok()??;
                let single = mapping.container.start() == mapping.container.end();
                Some(Published {
                    text: text.clone(),
                    container: single.then_some(*mapping.container.start()),
                    every_interface: every(mapping.host_ip.as_deref()),
                })
            }
            Yaml::Number(n) => Some(Published {
                text: n.to_string(),
                container: n.as_u64().and_then(|p| u16::try_from(p).ok()),
                every_interface: true,
            }),
            Yaml::Mapping(m) => {
                let text = |v: &Yaml| match v {
                    Yaml::String(s) => Some(s.clone()),
                    Yaml::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                let target = m.get("target").and_then(text)?;
                let ip = match m.get("host_ip").and_then(Yaml::as_str) {
                    Some(ip) => match crate::model::interpolation::with_defaults(ip) {
                        Ok(Some(ip)) => Some(ip),
                        _ => return None,
                    },
                    None => None,
                };
                let published = m.get("published").and_then(text);
                Some(Published {
                    text: match &published {
                        Some(p) => format!("{p}:{target}"),
                        None => target.clone(),
                    },
                    container: target.parse().ok(),
                    every_interface: every(ip.as_deref()),
                })
            }
            _ => None,
        })
        .collect()
}

/// What the service tells its image: the body's environment and command.
fn said(s: &StackService) -> Said<'_> {
    let body = &s.rendered.body;
    let mut said = Said {
        env_file: body.contains_key("env_file"),
        ..Said::default()
    };
    match body.get("environment") {
        Some(Yaml::Mapping(env)) => {
            for (k, v) in env {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    said.env.push((k, v));
                }
            }
        }
        Some(Yaml::Sequence(items)) => {
            for item in items.iter().filter_map(Yaml::as_str) {
                // `NAME` alone passes the host's value through: set, to an unknown value.
                let (k, v) = item.split_once('=').unwrap_or((item, "${}"));
                said.env.push((k, v));
            }
        }
        _ => {}
    }
    for command in [body.entrypoint(), body.command()].into_iter().flatten() {
        match command {
            CommandRef::Line(line) => said
                .words
                .extend(line.split_whitespace().map(|w| w.trim_matches(['"', '\'']))),
            CommandRef::Argv(words) => said.words.extend(words),
        }
    }
    said
}

/// Whether the image's tag serves the UI (RabbitMQ's `management` tags).
fn served(ui: &AdminUi, service: &Service) -> bool {
    let Some(tag) = ui.tag else { return true };
    let image = service.image.as_deref().unwrap_or_default();
    crate::images::ImageRef::parse(image)
        .tag
        .is_some_and(|t| t.contains(tag))
}

fn datastore_published(service: &Service, port: &Published, project: &Project) -> Diagnostic {
    let loopback = format!("127.0.0.1:{}", port.text);
    Diagnostic::warning(format!(
        "service `{}` publishes `{}` on every interface of the host in production profile `{}`: \
         Docker opens the port in the firewall ahead of the host's own rules, so whoever can \
         reach the host can reach `{}` directly",
        service.name, port.text, project.profile, service.name
    ))
    .with_lint(Lint::DatastorePublished)
    .with_note(format!(
        "write `{loopback}` for tools on the host (an SSH tunnel reaches it), or a private \
         interface's address; the stack's services reach it by name, without `ports`"
    ))
}

fn admin_ui(
    service: &Service,
    ui: &AdminUi,
    port: &Published,
    said: &Said,
    files: FileVariables,
    project: &Project,
) -> Option<Diagnostic> {
    let guard = match said.holds_any(ui.guarded_by, files) {
        Known::Yes | Known::Maybe => return None,
        Known::No => ui.guarded_by.first().and_then(|g| g.first()),
    };
    let loopback = format!("127.0.0.1:{}", port.text);
    let mut d = Diagnostic::warning(format!(
        "service `{}` publishes {} (`{}`) on every interface of the host in production profile \
         `{}`{}",
        service.name,
        ui.name,
        port.text,
        project.profile,
        match guard {
            Some(switch) => format!(
                " without credentials of your own ({}): anyone who reaches it can log in",
                shown(*switch)
            ),
            None => ": whoever reaches the host reaches a console that administers it".to_owned(),
        }
    ))
    .with_lint(Lint::AdminUiPublished)
    .with_note(format!(
        "write `{loopback}` and reach it through an SSH tunnel or a VPN, or leave it unpublished"
    ));
    if let Some(switch) = guard {
        d = d.with_note(format!(
            "or set {} to a password of your own (`${{...:?set it in .env}}`, or a secret)",
            shown(*switch)
        ));
    }
    Some(d)
}

fn auth_off(service: &Service, access: &Access, said: &Said) -> Option<Diagnostic> {
    let auth = access.auth.as_ref()?;
    let image = service.image.as_deref().unwrap_or_default();
    let tag = crate::images::ImageRef::parse(image).tag;
    let how = match auth.state(said, access.files, tag) {
        AuthState::On | AuthState::Unknown => return None,
        AuthState::Off(None) => format!(
            "image `{image}` lets clients in without credentials unless it is told otherwise, \
             and nothing here does"
        ),
        AuthState::Off(Some(switch)) => {
            format!(
                "{} turns off the authentication of image `{image}`",
                shown(switch)
            )
        }
    };
    Some(
        Diagnostic::warning(format!("service `{}`: {how}: {}", service.name, auth.open))
            .with_lint(Lint::AuthOff)
            .with_note(auth.fix),
    )
}

/// A switch as the user would write it.
fn shown(switch: Switch) -> String {
    match switch {
        Switch::Env { name, .. } => format!("`{name}`"),
        Switch::EnvIs { name, values } => {
            format!(
                "`{name} = \"{}\"`",
                values.first().copied().unwrap_or_default()
            )
        }
        Switch::Flag(flag) => format!("`{flag}`"),
        Switch::ConfigFile(suffix) => format!("a `*{suffix}` file"),
    }
}

/// The Docker socket's file name: `/var/run/docker.sock`, `/run/docker.sock`, a rootless
/// engine's `$XDG_RUNTIME_DIR/docker.sock`; the folders that hold it give it away as well.
const SOCKET: &str = "docker.sock";
const SOCKET_FOLDERS: &[&str] = &["/var/run", "/run"];

/// A bind mount of the Docker socket, read-only or not. muster's own autoheal service, the one
/// use it accepts, is added by the Compose emitter and never reaches the lints.
fn docker_socket(s: &StackService) -> Option<Diagnostic> {
    let Some(Yaml::Sequence(mounts)) = s.rendered.body.get("volumes") else {
        return None;
    };
    // A path, not a named volume that happens to be called `docker.sock`.
    let socket = |source: &str| {
        let source = source.trim_end_matches('/');
        source.contains('/')
            && (source.rsplit('/').next() == Some(SOCKET) || SOCKET_FOLDERS.contains(&source))
    };
    let mount = mounts.iter().find_map(|m| match m {
        Yaml::String(short) => {
            let source = short.split(':').next()?;
            socket(source).then(|| short.clone())
        }
        Yaml::Mapping(long) => {
            let source = long.get("source").and_then(Yaml::as_str)?;
            let target = long.get("target").and_then(Yaml::as_str).unwrap_or("?");
            socket(source).then(|| format!("{source}:{target}"))
        }
        _ => None,
    })?;
    let service = &s.rendered.service;
    Some(
        Diagnostic::warning(format!(
            "service `{}` mounts the Docker socket (`{mount}`): whoever controls the container \
             controls the engine, and through it the host (it can start a privileged container \
             that mounts `/`)",
            service.name
        ))
        .with_lint(Lint::DockerSocket)
        .with_note(
            "`:ro` does not change that: a read-only mount keeps the socket file from being \
             replaced, not requests from being sent through it",
        )
        .with_note(
            "give the tool a proxy that allows only the API calls it makes, or run it outside \
             the stack; `autoheal = true` in the profile is the one socket mount muster writes",
        ),
    )
}

/// `privileged`, `cap_add: [ALL]`, and the host's network, process and IPC namespaces.
fn privileges(s: &StackService) -> Vec<Diagnostic> {
    let body = &s.rendered.body;
    let name = &s.rendered.service.name;
    let mut found = Vec::new();
    let is = |key: &str, wanted: &str| {
        body.get(key).is_some_and(|v| match v {
            Yaml::Bool(b) => wanted == if *b { "true" } else { "false" },
            Yaml::String(text) => crate::model::interpolation::with_defaults(text)
                .ok()
                .flatten()
                .is_some_and(|t| t.eq_ignore_ascii_case(wanted)),
            _ => false,
        })
    };
    if is("privileged", "true") {
        found.push(
            Diagnostic::warning(format!(
                "service `{name}` is `privileged`: every capability and device, no seccomp or \
                 AppArmor profile; root in the container is root on the host"
            ))
            .with_lint(Lint::Privileged)
            .with_note(
                "add only the capabilities it needs (`cap_add = [\"NET_ADMIN\"]`) and the devices \
                 it uses (`devices`)",
            ),
        );
    }
    let all_caps = body
        .get("cap_add")
        .and_then(Yaml::as_sequence)
        .is_some_and(|caps| {
            caps.iter().filter_map(Yaml::as_str).any(|c| {
                let c = c.to_ascii_uppercase();
                c.strip_prefix("CAP_").unwrap_or(&c) == "ALL"
            })
        });
    if all_caps {
        found.push(
            Diagnostic::warning(format!(
                "service `{name}` adds every capability (`cap_add: [ALL]`): it may load kernel \
                 modules, trace the host's processes and mount file systems"
            ))
            .with_lint(Lint::Privileged)
            .with_note("add only the capabilities it needs (`cap_add = [\"NET_ADMIN\"]`)"),
        );
    }
    for (key, what) in [
        (
            "network_mode",
            "the host's network: it listens on every interface of the host, past Docker's port \
             publishing and the firewall rules it writes",
        ),
        (
            "pid",
            "the host's processes: it sees, traces and signals every one",
        ),
        ("ipc", "the host's shared memory and semaphores"),
    ] {
        if is(key, "host") {
            found.push(
                Diagnostic::warning(format!("service `{name}` shares {what} (`{key}: host`)"))
                    .with_lint(Lint::HostNamespace)
                    .with_note(format!(
                        "leave `{key}` out: the container gets a namespace of its own; publish the \
                     ports it serves instead"
                    )),
            );
        }
    }
    found
}
