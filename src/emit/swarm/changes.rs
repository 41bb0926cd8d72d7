//! What `docker stack deploy` does with a Compose file that `docker compose up` would run
//! otherwise, key by key: the one table the Swarm emitter's warnings and the README's targets
//! table are made from. Each row names its source in docker/cli (`cli/compose/convert/*.go`,
//! `cli/compose/types/types.go`, `cli/compose/schema/data/config_schema_v3.14.json`,
//! `opts/port.go`) or swarmkit, read at docker/cli 28.
//!
//! Some rows only document what other code carries out in its own words (`emit/mod.rs` refuses a
//! build without an image for every target; `gpus_and_models`, `provider_labels`,
//! `escape_task_templates` and `refuse_unreadable_sources` in `mod.rs` write theirs): outside the
//! test that holds the README to this table nothing reads them, and the compiler is told so.
#![cfg_attr(
    not(any(test, feature = "internals")),
    expect(
        dead_code,
        reason = "rows read only by the README's table, which the tests build"
    )
)]

/// What becomes of a key or value in the stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Written in another form that Swarm reads.
    Rewritten,
    /// Left out of the stack file, with a warning.
    LeftOut,
    /// An error at generation: Swarm cannot run the service as asked.
    Refused,
}

impl Effect {
    pub fn word(self) -> &'static str {
        match self {
            Effect::Rewritten => "rewritten",
            Effect::LeftOut => "left out",
            Effect::Refused => "an error",
        }
    }
}

/// One Compose key or value that `docker stack deploy` drops or reads otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// The key (`container_name`) or the key and the value it is about (`ports` with a host
    /// address), as the warning and the README name it.
    pub what: &'static str,
    pub effect: Effect,
    /// What Swarm does with it, and so what the stack file says instead.
    pub swarm: &'static str,
    /// Where docker/cli or swarmkit says so.
    pub source: &'static str,
}

/// Keys `docker stack deploy` ignores (it prints "Ignoring unsupported options: ..."): docker/cli's
/// `types.UnsupportedProperties`, less `build` and `restart`, which have rows of their own.
pub const UNSUPPORTED: &[&str] = &[
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Keys that make `docker stack deploy` refuse the whole file: docker/cli's
/// `types.ForbiddenProperties` (`extends` is resolved before any file is written).
pub const FORBIDDEN: &[&str] = &[
    "volume_driver",
    "volumes_from",
    "cpu_quota",
    "cpu_shares",
    "cpuset",
    "mem_limit",
    "memswap_limit",
];

/// The service keys of docker/cli's stack file schema (v3.14). `docker stack deploy` refuses a
/// whole file for one key outside it.
pub const SCHEMA_KEYS: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "cgroupns_mode",
    "command",
    "configs",
    "container_name",
    "credential_spec",
    "depends_on",
    "deploy",
    "devices",
    "dns",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "external_links",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "network_mode",
    "networks",
    "oom_score_adj",
    "pid",
    "ports",
    "privileged",
    "read_only",
    "restart",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "volumes",
    "working_dir",
];

/// The keys of a long-syntax port the stack file schema has (`mode`, `target`, `published`,
/// `protocol`); Compose's `host_ip`, `name` and `app_protocol` make `docker stack deploy` refuse
/// the file.
pub const PORT_KEYS: &[&str] = &["mode", "target", "published", "protocol"];

pub const BUILD: Change = Change {
    what: "`build` beside `image`",
    effect: Effect::LeftOut,
    swarm: "each node pulls `image`; nothing builds it (build and push it first)",
    source: "docker/cli types.UnsupportedProperties (`build`)",
};
pub const BUILD_ONLY: Change = Change {
    what: "`build` without `image`",
    effect: Effect::Refused,
    swarm: "a node can only pull an image",
    source: "docker/cli types.UnsupportedProperties (`build`); convert.Service takes `image` alone",
};
pub const CONTAINER_NAME: Change = Change {
    what: "`container_name`",
    effect: Effect::LeftOut,
    swarm: "Swarm names each task `STACK_SERVICE.SLOT.ID` itself",
    source: "docker/cli types.DeprecatedProperties: \"Setting the container name is not supported.\"",
};
pub const DEPENDS_ON: Change = Change {
    what: "`depends_on`",
    effect: Effect::LeftOut,
    swarm: "every service starts at once; a bounded restart policy is spread over the chain below \
            its service",
    source: "docker/cli convert.Service writes no dependency into the ServiceSpec; the v3.14 schema \
             takes only the short list (docker/cli#3880)",
};
pub const RESTART: Change = Change {
    what: "`restart`",
    effect: Effect::Rewritten,
    swarm: "`deploy.restart_policy`: `always`, `unless-stopped` -> `any`; `on-failure:N` -> \
            `on-failure`, `max_attempts: N` with a `delay`; `\"no\"` -> `none` (Swarm's own default \
            is `any`)",
    source: "docker/cli convert.convertRestartPolicy",
};
pub const PROFILES: Change = Change {
    what: "`profiles` (Compose profiles)",
    effect: Effect::LeftOut,
    swarm: "the service is always deployed",
    source: "docker/cli config_schema_v3.14.json has no `profiles`",
};
pub const HOST_ADDRESS: Change = Change {
    what: "`ports` with a host address (`127.0.0.1:8080:80`)",
    effect: Effect::Rewritten,
    swarm: "the address is dropped: Swarm publishes the port on every interface of every node",
    source: "docker/cli opts.ConvertPortToPortConfig: \"ignoring IP-address ... service will \
             listen on '0.0.0.0'\"; swarm.PortConfig has no address",
};
pub const PORT_FIELDS: Change = Change {
    what: "`ports` entries with `host_ip`, `name` or `app_protocol`",
    effect: Effect::LeftOut,
    swarm: "those fields are left out; the port is published on every interface",
    source: "docker/cli config_schema_v3.14.json: a port has `mode`, `target`, `published`, \
             `protocol`",
};
pub const DNSRR_PORTS: Change = Change {
    what: "`ports` of a service with `deploy.endpoint_mode: dnsrr`",
    effect: Effect::Rewritten,
    swarm: "published in `mode: host` (on the node that runs the task), since the ingress mesh \
            needs a virtual IP",
    source: "swarmkit controlapi validateEndpointSpec: \"port published with ingress mode can't \
             be used with dnsrr mode\"",
};
pub const PROVIDER_LABELS: Change = Change {
    what: "`labels` a Swarm provider reads (`traefik.*`)",
    effect: Effect::Rewritten,
    swarm: "written under `deploy.labels`, the service's labels, where Traefik's Swarm provider \
            reads them (`labels` are the containers')",
    source: "docker/cli convert.Service: `labels` -> ContainerSpec.Labels, `deploy.labels` -> the \
             service's Annotations.Labels",
};
pub const UNSUPPORTED_KEYS: Change = Change {
    what: "`network_mode`, `links`, `privileged`, `devices`, ... (docker/cli's unsupported options)",
    effect: Effect::LeftOut,
    swarm: "ignored by `docker stack deploy`",
    source: "docker/cli types.UnsupportedProperties",
};
pub const FORBIDDEN_KEYS: Change = Change {
    what: "`mem_limit`, `cpu_shares`, `volumes_from`, ... (docker/cli's forbidden options)",
    effect: Effect::LeftOut,
    swarm: "`docker stack deploy` refuses the file: set `deploy.resources` for limits, a named \
            volume for sharing",
    source: "docker/cli types.ForbiddenProperties",
};
pub const EXPOSE: Change = Change {
    what: "`expose`",
    effect: Effect::LeftOut,
    swarm: "services on one network reach each other on every port",
    source: "docker/cli types.DeprecatedProperties (`expose`)",
};
pub const OTHER_KEYS: Change = Change {
    what: "keys the stack file schema lacks (`develop`, `post_start`, `annotations`, ...)",
    effect: Effect::LeftOut,
    swarm: "`docker stack deploy` refuses the file",
    source: "docker/cli config_schema_v3.14.json (`additionalProperties: false`)",
};
pub const GPUS: Change = Change {
    what: "`gpus`",
    effect: Effect::Rewritten,
    swarm: "a number of GPUs: `deploy.resources.reservations.generic_resources` of kind `gpu`; \
            `all` or `device_ids`: left out",
    source: "docker/cli convert.convertResources (generic resources); swarm has no device requests",
};
pub const MODELS: Change = Change {
    what: "`models`",
    effect: Effect::LeftOut,
    swarm: "Swarm has no model runner",
    source: "docker/cli config_schema_v3.14.json has no `models`",
};
pub const TEMPLATES: Change = Change {
    what: "`{{` in `environment`, `hostname`, `volumes`",
    effect: Effect::Rewritten,
    swarm: "written `{{\"{{\"}}`: Swarm expands these as Go templates",
    source: "docker/cli and swarmkit's template.ExpandContainerSpec",
};
pub const INTERPOLATION: Change = Change {
    what: "`${VAR}`",
    effect: Effect::Rewritten,
    swarm: "read from the environment of the shell that runs `docker stack deploy`, which reads \
            no `.env` (`set -a; . ./.env; set +a` first)",
    source: "docker/cli stack loader: interpolation from os.Environ",
};
pub const SECRET_SOURCES: Change = Change {
    what: "a secret or config from `environment` or `content`",
    effect: Effect::Refused,
    swarm: "`docker stack deploy` reads a secret's or config's `file` only",
    source: "docker/cli convert (file objects); docker/docs#23678",
};
pub const NAME: Change = Change {
    what: "top-level `name`",
    effect: Effect::LeftOut,
    swarm: "the stack is named on the command line (`docker stack deploy -c FILE NAME`)",
    source: "docker/cli config_schema_v3.14.json has no `name`",
};

/// Every row, in the order the README lists them.
pub const CHANGES: &[Change] = &[
    BUILD,
    BUILD_ONLY,
    CONTAINER_NAME,
    DEPENDS_ON,
    RESTART,
    PROFILES,
    HOST_ADDRESS,
    PORT_FIELDS,
    DNSRR_PORTS,
    PROVIDER_LABELS,
    GPUS,
    MODELS,
    TEMPLATES,
    INTERPOLATION,
    SECRET_SOURCES,
    EXPOSE,
    UNSUPPORTED_KEYS,
    FORBIDDEN_KEYS,
    OTHER_KEYS,
    NAME,
];

/// The table as the README has it, under "What Swarm changes".
pub fn markdown() -> String {
    let mut out = String::from(
        "| Compose | on Swarm | what `docker stack deploy` does | source |\n| --- | --- | --- | --- |\n",
    );
    for c in CHANGES {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.what,
            c.effect.word(),
            c.swarm.replace('|', "\\|"),
            c.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    /// The README's Swarm table is this table: a row changed here and not there fails.
    #[test]
    fn the_readme_has_the_table() {
        let readme = include_str!("../../../README.md");
        let table = super::markdown();
        assert!(
            readme.contains(&table),
            "README.md's table under \"What Swarm changes\" differs from src/emit/swarm/changes.rs; \
             paste this:\n{table}"
        );
    }
}
