//! The mounted probe: an HTTP client for an image that has none (distroless, `scratch`, static
//! Chainguard images), brought into the container by muster rather than expected of the image.
//!
//! The client is the statically linked BusyBox of the official `busybox` image's musl variant
//! (`CONFIG_STATIC=y` in docker-library/busybox's `musl/Dockerfile.builder`; the default glibc
//! variant is linked dynamically and would not run in `scratch`). Its `wget` applet probes as
//! the image's own busybox wget would: `wget -q --spider`, exit 1 on a 4xx or 5xx ("server
//! returned error"), redirects followed (busybox has no option against them). The program sits
//! at [`PROGRAM`] in every form, so the healthcheck is the same whichever way it arrives:
//!
//! - Compose 2.35 and Engine 28 or later: an image mount (`type: image`) of [`IMAGE`] at
//!   [`DIR`]; no other service, no start order. Compose pulls the image like a service's.
//! - an older declared target (`[project] requires`): a one-shot service, [`NAME`], copies the
//!   program into the named volume [`NAME`]; each probed service mounts it read-only and waits
//!   for it with `service_completed_successfully`.
//! - Swarm (no image mounts in swarmkit's `Mount.Type`, no `depends_on`): the same volume, filled
//!   on every node by a global service that copies the program and then idles, so that a node
//!   that joins later gets it too (a global *job* would not run there: swarmkit's job
//!   orchestrator watches services and tasks, not nodes).
//! - Kubernetes needs none of it: the kubelet runs `httpGet` itself.
//!
//! Which services get it is read from the body: a healthcheck whose program is [`PROGRAM`], so a
//! test of the user's own that calls it is served too.

use crate::model::version::Requires;
use crate::yaml::{Mapping, Value as Yaml};

/// The image that supplies the program, pinned by tag: docker-library rebuilds a tag for base
/// and security fixes, which a digest would shut out; `muster images` records the digest a host
/// pulled.
pub const IMAGE: &str = "busybox:1.37.0-musl";

/// The one-shot (or, in Swarm, idle) service and the volume, in the Compose project's namespace.
/// The catalogue may not use the name for a service or a volume while the probe is in use
/// (`validate`), so the two never clash.
pub const NAME: &str = "muster-probe";

/// Where the program's folder is mounted in a probed container.
pub const DIR: &str = "/muster-probe";

/// The program a probed container runs: BusyBox, called with the applet's name first.
pub const PROGRAM: &str = "/muster-probe/bin/busybox";

/// How the program reaches a probed container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An image mount of [`IMAGE`]: Compose 2.35 and Engine 28.
    ImageMount,
    /// The named volume [`NAME`], filled by a service of that name before the probed one starts.
    Volume,
}

impl Delivery {
    /// The delivery a Compose file for `requires` can use.
    pub fn for_compose(requires: &Requires) -> Delivery {
        match crate::features::lacking(crate::features::Gated::ImageMount, requires, true) {
            None => Delivery::ImageMount,
            Some(_) => Delivery::Volume,
        }
    }
}

/// Whether a service's Compose keys (`ComposeBody::mapping`) run the mounted program in a
/// healthcheck that is not disabled. Every emitter asks it of every service, so the keys are
/// scanned, not looked up: a lookup by `&str` builds and hashes a YAML string each time, which
/// at 10,000 services cost 25 M instructions (callgrind).
pub fn uses(keys: &Mapping) -> bool {
    fn entry<'m>(map: &'m Mapping, key: &str) -> Option<&'m Yaml> {
        map.iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }
    let Some(Yaml::Mapping(hc)) = entry(keys, "healthcheck") else {
        return false;
    };
    if entry(hc, "disable") == Some(&Yaml::Bool(true)) {
        return false;
    }
    match entry(hc, "test")
        .and_then(Yaml::as_sequence)
        .map(Vec::as_slice)
    {
        Some([cmd, program, ..]) => {
            cmd.as_str() == Some("CMD") && program.as_str() == Some(PROGRAM)
        }
        _ => false,
    }
}

/// The service's keys with the program mounted, and, for the volume, the dependency on the
/// service that fills it (`depends_on` is `false` for Swarm, which reads none). The caller puts
/// the keys in order (`key_order::service`) once it is done with them.
pub fn add_to(body: &mut Mapping, delivery: Delivery, depends_on: bool) {
    let mount = match delivery {
        Delivery::ImageMount => {
            let text = format!("type: image\nsource: {IMAGE}\ntarget: {DIR}\nread_only: true\n");
            Yaml::Mapping(crate::yaml::from_str(&text).expect("the image mount is valid YAML"))
        }
        Delivery::Volume => Yaml::from(format!("{NAME}:{DIR}:ro")),
    };
    let volumes = body
        .entry("volumes".into())
        .or_insert_with(|| Yaml::Sequence(Vec::new()));
    if let Yaml::Sequence(list) = volumes {
        list.push(mount);
    }
    if delivery == Delivery::Volume && depends_on {
        let mut condition = Mapping::new();
        condition.insert(
            "condition".into(),
            Yaml::from("service_completed_successfully"),
        );
        let deps = body
            .entry("depends_on".into())
            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        if let Yaml::Mapping(deps) = deps {
            deps.insert(Yaml::from(NAME), Yaml::Mapping(condition));
        }
    }
}

/// Copies the program in through a new name and renames it over the old one: a probe running
/// the old copy while `up` runs the service again keeps its inode, where copying over it would
/// fail with "text file busy".
const COPY: &str = "mkdir -p /muster-probe/bin && cp /bin/busybox /muster-probe/bin/busybox.new && mv -f /muster-probe/bin/busybox.new /muster-probe/bin/busybox";

/// The service that fills the volume for Compose: it runs once, before every probed service
/// (which waits for it to exit 0), with no network, and is not restarted.
pub fn compose_installer() -> Mapping {
    let text = format!(
        "image: {IMAGE}\ncommand: [\"sh\", \"-c\", \"{COPY}\"]\nrestart: \"no\"\n\
         volumes:\n  - {NAME}:{DIR}\nnetwork_mode: none\n"
    );
    crate::yaml::from_str(&text).expect("the installer is valid YAML")
}

/// The service that fills the volume on every Swarm node: Swarm has no start order, so it runs
/// on each node as a global service, copies, and then waits for its stop signal (`$$` is
/// Compose's escape for the shell's `$`).
pub fn swarm_installer() -> Mapping {
    let text = format!(
        "image: {IMAGE}\ncommand: [\"sh\", \"-c\", \"{COPY} && trap 'exit 0' TERM && while :; do sleep 3600 & wait $$!; done\"]\n\
         volumes:\n  - {NAME}:{DIR}\ndeploy:\n  mode: global\n"
    );
    crate::yaml::from_str(&text).expect("the installer is valid YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Mapping {
        crate::yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_service_uses_it_when_its_healthcheck_runs_the_program() {
        let probed = format!("healthcheck: {{test: [CMD, {PROGRAM}, wget, -q, x]}}\n");
        assert!(uses(&body(&probed)));
        assert!(!uses(&body("healthcheck: {test: [CMD, wget, -q, x]}\n")));
        let shell = format!("healthcheck: {{test: \"{PROGRAM} wget -q x\"}}\n");
        assert!(!uses(&body(&shell)), "a shell line needs a shell first");
        let disabled = format!("healthcheck: {{test: [CMD, {PROGRAM}], disable: true}}\n");
        assert!(!uses(&body(&disabled)));
    }

    #[test]
    fn the_volume_comes_with_the_dependency_on_its_installer() {
        let mut keys: Mapping =
            crate::yaml::from_str("image: app\nvolumes: [\"data:/data\"]\nhealthcheck: {}\n")
                .unwrap();
        add_to(&mut keys, Delivery::Volume, true);
        assert_eq!(
            crate::yaml::to_string(&crate::key_order::service(keys)),
            "image: app\nvolumes:\n  - data:/data\n  - muster-probe:/muster-probe:ro\n\
             depends_on:\n  muster-probe:\n    condition: service_completed_successfully\n\
             healthcheck: {}\n"
        );
        let mut swarm: Mapping = crate::yaml::from_str("image: app\n").unwrap();
        add_to(&mut swarm, Delivery::Volume, false);
        assert!(!swarm.contains_key("depends_on"));
    }

    #[test]
    fn an_image_mount_needs_no_other_service() {
        let mut keys: Mapping = crate::yaml::from_str("image: app\n").unwrap();
        add_to(&mut keys, Delivery::ImageMount, true);
        assert_eq!(
            crate::yaml::to_string(&keys),
            "image: app\nvolumes:\n  - type: image\n    source: busybox:1.37.0-musl\n    \
             target: /muster-probe\n    read_only: true\n"
        );
    }

    #[test]
    fn the_delivery_follows_the_declared_target() {
        let at = |text: &str| Delivery::for_compose(&Requires::parse_cli(text).unwrap());
        assert_eq!(at(""), Delivery::ImageMount);
        assert_eq!(at("compose=2.40,engine=28.0"), Delivery::ImageMount);
        assert_eq!(at("engine=26.1"), Delivery::Volume);
        assert_eq!(at("compose=2.34,engine=28.1"), Delivery::Volume);
    }
}
