//! What muster knows about the images it generates services for: which engine an image runs, the
//! port it listens on, where its health endpoint is, and which programs exist inside it.
//!
//! The tool lists are the ground truth probes are chosen from (see `probe.rs`) and checked
//! against (see the `probe_tools` tests): a probe that calls a program its image lacks can never
//! turn healthy. Facts come from the images' Dockerfiles, as collected in the project's
//! healthcheck reference.

/// An image reference split into the parts muster reasons about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The repository path without the registry host: `postgres`, `qdrant/qdrant`,
    /// `elasticsearch/elasticsearch` (from `docker.elastic.co/...`).
    pub repository: &'a str,
    pub tag: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(reference: &'a str) -> Self {
        let without_digest = reference.split('@').next().unwrap_or(reference);
        // A tag follows the last `:` only when no `/` comes after it; otherwise that `:` belongs
        // to a registry port (`localhost:5000/app`).
        let (name, tag) = match without_digest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
            _ => (without_digest, None),
        };
        // The first component is a registry host when it looks like one (Docker's own rule).
        let repository = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                rest
            }
            _ => name,
        };
        let repository = repository.strip_prefix("library/").unwrap_or(repository);
        ImageRef { repository, tag }
    }
}

/// Why Docker would refuse `reference` ("invalid reference format"), if it would: a path in
/// lower case, components of letters, digits and `.`, `_`, `-` separators, an optional
/// registry host first, a tag of up to 128 word characters, dots and dashes, or a digest.
pub fn reference_problem(reference: &str) -> Option<String> {
    if reference.is_empty() || reference.chars().any(char::is_whitespace) {
        return Some("an image reference has no spaces".to_owned());
    }
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && !digest.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        })
    {
        return Some(format!(
            "`@{digest}` is not a digest (`@sha256:` and its hex)"
        ));
    }
    let (path, tag) = match name.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (name, None),
    };
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Some(format!(
                "`{tag}` is not a tag: letters, digits, `_`, `.` and `-`, up to 128"
            ));
        }
    }
    let mut components: Vec<&str> = path.split('/').collect();
    // The first component is a registry host when it looks like one, and may have capitals.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost")
    {
        components.remove(0);
    }
    for component in components {
        let valid = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Some(if component.chars().any(|c| c.is_ascii_uppercase()) {
                format!("`{component}` has capitals: an image's path is lower case")
            } else {
                format!(
                    "`{component}` is not a path component: lower-case letters, digits and `.`, `_`, `-` between them"
                )
            });
        }
    }
    None
}

/// An HTTP endpoint that reports health, on a port that may differ from the service port
/// (Jaeger's admin port, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthEndpoint {
    pub port: u16,
    pub path: &'static str,
}

/// A setting without which an image does not serve its health endpoint (Traefik's `/ping`,
/// Keycloak's `/health/ready`): an environment variable set to `true`, or a flag in `command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSwitch {
    pub env: &'static str,
    pub flag: &'static str,
}

impl HealthSwitch {
    /// Whether the service's environment or command turns the endpoint on. A configuration file
    /// can do it too, which muster cannot read: a switch that is off is a warning, not an error.
    pub fn is_on<'a>(&self, env: impl Fn(&str) -> Option<&'a str>, command: &[&str]) -> bool {
        env(self.env).is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || command
                .iter()
                .any(|word| *word == self.flag || word.strip_prefix(self.flag) == Some("=true"))
    }
}

/// Who an image lets in: what turns its authentication on or off, which variables its
/// entrypoint reads from a file (so that a Compose secret can give them), and which of its ports
/// serves a management UI. Read by the production lints and by `env = { X = { secret = ... } }`.
#[derive(Debug)]
pub struct Access {
    pub auth: Option<Auth>,
    pub files: FileVariables,
    pub admin_ui: Option<AdminUi>,
}

impl Access {
    /// Nothing recorded: no authentication muster knows of, the `_FILE` convention for secrets,
    /// no management UI.
    pub const UNRECORDED: Access = Access {
        auth: None,
        files: FileVariables::Convention,
        admin_ui: None,
    };
}

/// How an image's authentication is turned on, as its documentation or entrypoint says.
#[derive(Debug)]
pub struct Auth {
    /// Whether it is on when the service says nothing about it.
    pub default: AuthDefault,
    /// Each group, wholly set, turns it on.
    pub on: &'static [&'static [Switch]],
    /// Each of these turns it off, unless a group of `on` is set.
    pub off: &'static [Switch],
    /// What anyone who reaches the port can do while it is off.
    pub open: &'static str,
    /// What to write to turn it on.
    pub fix: &'static str,
}

/// Whether an image's authentication is on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDefault {
    On,
    Off,
    /// On from this major version of the tag (Elasticsearch 8); a tag muster cannot read a
    /// version from (`latest`, none) counts as the newest.
    OnFromMajor(u32),
}

/// One setting an image reads from the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// A variable with a value (from `env`, from a secret through its file variable, or from
    /// the environment Compose interpolates), other than one of `not`: the image's own default
    /// credential, which is no secret.
    Env {
        name: &'static str,
        not: &'static [&'static str],
    },
    /// A variable set to one of `values` (any case), as Compose reads it with every variable at
    /// its default.
    EnvIs {
        name: &'static str,
        values: &'static [&'static str],
    },
    /// A word of the command or entrypoint: `--flag` or `--flag=...`.
    Flag(&'static str),
    /// A word ending in this suffix names a configuration file, which muster cannot read: it
    /// may say anything.
    ConfigFile(&'static str),
}

/// Which of an image's variables its entrypoint reads from a file, for Compose secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileVariables {
    /// Not recorded: the image runs your own program (a language's base image, or a build), or
    /// muster has not read its entrypoint. `NAME_FILE`, the official images' convention, is
    /// written; the program must read it.
    Convention,
    /// The entrypoint reads each of `names` (a final `*` covers every name it begins) from the
    /// file that the variable named with `suffix` names; an empty list: none. `instead` says what
    /// gives such an image a secret.
    Listed {
        names: &'static [&'static str],
        suffix: &'static str,
        instead: Option<&'static str>,
    },
}

impl FileVariables {
    /// The variable that names the file `name`'s value is read from, or `None` when the image
    /// reads `name` from no file.
    pub fn file_variable(&self, name: &str) -> Option<String> {
        match self {
            FileVariables::Convention => Some(format!("{name}_FILE")),
            FileVariables::Listed { names, suffix, .. } => names
                .iter()
                .any(|n| match n.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => *n == name,
                })
                .then(|| format!("{name}{suffix}")),
        }
    }
}

/// A management UI an image serves: whoever reaches it administers the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminUi {
    /// What it is, for messages.
    pub name: &'static str,
    /// The container ports it answers on.
    pub ports: &'static [u16],
    /// The tags that serve it contain this (`management`); `None`: every tag.
    pub tag: Option<&'static str>,
    /// Each group, wholly set, puts it behind credentials of the user's own (Grafana's admin
    /// password); none: it is not to face the network, whatever guards it.
    pub guarded_by: &'static [&'static [Switch]],
}

/// What a service says that an image's switches read: its environment, as the emitted body has
/// it, the words of its command and entrypoint, and whether an `env_file` may say more.
#[derive(Debug, Default)]
pub struct Said<'a> {
    pub env: Vec<(&'a str, &'a str)>,
    pub words: Vec<&'a str>,
    pub env_file: bool,
}

/// Whether a switch is set, as far as muster can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Yes,
    No,
    /// An `env_file`, a configuration file or a variable without a default may set it.
    Maybe,
}

impl Said<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    /// Whether `switch` is set, with `files` telling which variable holds a file's name.
    pub fn holds(&self, switch: Switch, files: FileVariables) -> Known {
        let unset = if self.env_file {
            Known::Maybe
        } else {
            Known::No
        };
        match switch {
            Switch::Env { name, not } => {
                let from_file = files
                    .file_variable(name)
                    .and_then(|f| self.value(&f))
                    .is_some_and(|v| !v.is_empty());
                match self.value(name) {
                    _ if from_file => Known::Yes,
                    Some(v) => match crate::model::interpolation::with_defaults(v) {
                        // A variable without a default: the environment Compose reads has it.
                        Ok(None) | Err(_) => Known::Yes,
                        Ok(Some(v)) if v.is_empty() => unset,
                        Ok(Some(v)) if crate::model::interpolation::interpolates(&v) => Known::Yes,
                        Ok(Some(v)) => {
                            if not.iter().any(|n| n.eq_ignore_ascii_case(&v)) {
                                Known::No
                            } else {
                                Known::Yes
                            }
                        }
                    },
                    None => unset,
                }
            }
            Switch::EnvIs { name, values } => match self.value(name) {
                Some(v) => match crate::model::interpolation::with_defaults(v) {
                    Ok(Some(v)) if values.iter().any(|w| w.eq_ignore_ascii_case(&v)) => Known::Yes,
                    Ok(Some(_)) => Known::No,
                    Ok(None) | Err(_) => Known::Maybe,
                },
                None => unset,
            },
            Switch::Flag(flag) => {
                let set = self.words.iter().any(|w| {
                    *w == flag || w.strip_prefix(flag).is_some_and(|r| r.starts_with('='))
                });
                if set { Known::Yes } else { Known::No }
            }
            Switch::ConfigFile(suffix) => {
                if self.words.iter().any(|w| w.ends_with(suffix)) {
                    Known::Maybe
                } else {
                    Known::No
                }
            }
        }
    }

    /// Whether every switch of `group` is set.
    pub fn holds_all(&self, group: &[Switch], files: FileVariables) -> Known {
        group
            .iter()
            .map(|s| self.holds(*s, files))
            .fold(Known::Yes, |all, one| match (all, one) {
                (Known::No, _) | (_, Known::No) => Known::No,
                (Known::Maybe, _) | (_, Known::Maybe) => Known::Maybe,
                _ => Known::Yes,
            })
    }

    /// Whether any group of `groups` is wholly set.
    pub fn holds_any(&self, groups: &[&[Switch]], files: FileVariables) -> Known {
        groups
            .iter()
            .map(|g| self.holds_all(g, files))
            .fold(Known::No, |any, one| match (any, one) {
                (Known::Yes, _) | (_, Known::Yes) => Known::Yes,
                (Known::Maybe, _) | (_, Known::Maybe) => Known::Maybe,
                _ => Known::No,
            })
    }
}

/// Whether an image's authentication is on, for a service that says `said`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    On,
    /// Off: by the image's default (`None`), or by this switch.
    Off(Option<Switch>),
    /// A file or the environment muster cannot read decides.
    Unknown,
}

impl Auth {
    /// The state of the authentication of an image tagged `tag`.
    pub fn state(&self, said: &Said, files: FileVariables, tag: Option<&str>) -> AuthState {
        match said.holds_any(self.on, files) {
            Known::Yes => return AuthState::On,
            Known::Maybe => return AuthState::Unknown,
            Known::No => {}
        }
        let mut maybe = false;
        for switch in self.off {
            match said.holds(*switch, files) {
                Known::Yes => return AuthState::Off(Some(*switch)),
                Known::Maybe => maybe = true,
                Known::No => {}
            }
        }
        let on = match self.default {
            AuthDefault::On => true,
            AuthDefault::Off => false,
            AuthDefault::OnFromMajor(major) => tag
                .and_then(|t| t.split(['.', '-']).next())
                .and_then(|m| m.trim_start_matches('v').parse::<u32>().ok())
                .is_none_or(|m| m >= major),
        };
        match (on, maybe) {
            (true, true) => AuthState::Unknown,
            (true, false) => AuthState::On,
            (false, _) => AuthState::Off(None),
        }
    }
}

/// The tools of some of an image's tags, where they differ from the newest tag's.
#[derive(Debug)]
pub struct Variant {
    pub tags: Tags,
    pub tools: &'static [&'static str],
    /// Why these tags' tools are what most platforms' images hold but not all (a program in
    /// the amd64 image only): the probe chosen from them is then a guess, and says so.
    pub unsure: Option<&'static str>,
}

/// Which tags a [`Variant`] describes.
#[derive(Debug, Clone, Copy)]
pub enum Tags {
    /// Tags whose name contains this (`alpine`, `slim`, `debug`).
    Containing(&'static str),
    /// Release tags from `from` (inclusive) up to `until` (exclusive): version numbers
    /// (`3.5.1`, `v3.5`, `3.5.1-amd64`) compared as numbers, MinIO's `RELEASE.2023-10-25T...`
    /// stamps as text. `latest`, no tag and a tag of another form are none of them: they get
    /// the row's own tools, the newest release's.
    Between {
        from: Option<&'static str>,
        until: Option<&'static str>,
    },
}

/// How a release tag sorts.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Release<'a> {
    Version([u64; 3]),
    Stamp(&'a str),
}

fn release(tag: &str) -> Option<Release<'_>> {
    if let Some(stamp) = tag.strip_prefix("RELEASE.") {
        return Some(Release::Stamp(stamp));
    }
    let digits = tag.strip_prefix('v').unwrap_or(tag);
    let end = digits
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(digits.len());
    let mut version = [0; 3];
    let mut parts = digits[..end].split('.').filter(|p| !p.is_empty());
    for slot in &mut version {
        match parts.next() {
            Some(part) => *slot = part.parse().ok()?,
            None => break,
        }
    }
    (end > 0 && digits.starts_with(|c: char| c.is_ascii_digit()))
        .then_some(Release::Version(version))
}

impl Tags {
    // Only tests try every variant.
    #[cfg(any(test, feature = "internals"))]
    /// A tag these tags include, for tests that try every variant: `1.0-alpine`, a range's
    /// first release (or one far before it).
    pub fn example(&self) -> String {
        match self {
            Tags::Containing(part) => format!("1.0-{part}"),
            Tags::Between {
                from: Some(from), ..
            } => (*from).to_owned(),
            Tags::Between { until, .. } => match until.map(release) {
                Some(Some(Release::Stamp(_))) => "RELEASE.2020-01-01T00-00-00Z".to_owned(),
                _ => "0.1.0".to_owned(),
            },
        }
    }

    pub fn matches(&self, tag: &str) -> bool {
        match self {
            Tags::Containing(part) => tag.contains(part),
            Tags::Between { from, until } => {
                let Some(at) = release(tag) else {
                    return false;
                };
                // Bounds of another form (a version against a stamp) never match.
                let after =
                    from.is_none_or(|f| release(f).is_some_and(|f| same_form(&f, &at) && at >= f));
                let before =
                    until.is_none_or(|u| release(u).is_some_and(|u| same_form(&u, &at) && at < u));
                after && before
            }
        }
    }
}

fn same_form(a: &Release, b: &Release) -> bool {
    matches!(
        (a, b),
        (Release::Version(_), Release::Version(_)) | (Release::Stamp(_), Release::Stamp(_))
    )
}

/// One known image family.
#[derive(Debug)]
pub struct ImageFacts {
    /// Repository paths (registry stripped) that this row describes.
    pub repositories: &'static [&'static str],
    /// The engine it runs, for images that run one of muster's engines.
    pub engine: Option<&'static str>,
    /// The reference muster uses when an engine is named without an image.
    pub default_image: Option<&'static str>,
    pub port: Option<u16>,
    pub health: Option<HealthEndpoint>,
    /// What must be set for `health` to answer at all, where the image does not serve it by
    /// default.
    pub health_switch: Option<HealthSwitch>,
    /// Programs on the default tag's PATH that probes may use. Empty for an image without a shell
    /// (distroless): only an exec-form test of a binary the app ships can run there.
    pub tools: &'static [&'static str],
    /// Where a model server keeps the weights it downloads, for the `model_cache` volume.
    pub model_cache: Option<&'static str>,
    /// Who the image lets in, and how.
    pub access: Access,
    /// Tags whose tools differ, most specific first (`alpine-slim` before `alpine`): busybox
    /// replaces bash and coreutils, a slim tag drops curl.
    pub variants: &'static [Variant],
    /// What the image refuses to start without.
    pub start: Option<StartNeeds>,
}

/// What an image's entrypoint refuses to start without: the container exits at once, so the
/// service never turns healthy and whatever waits for it never starts.
#[derive(Debug, Clone, Copy)]
pub enum StartNeeds {
    /// One of `vars` set: a name alone to any non-empty value, a name with a value to exactly
    /// it. Checked only when the service runs one of `servers` (the image's own CMD, or a
    /// command starting with one of them or with a `-` flag, which the entrypoint hands to the
    /// server): another program skips the initialisation that needs them.
    AnyVariable {
        vars: &'static [(&'static str, Option<&'static str>)],
        servers: &'static [&'static str],
        /// A container folder whose contents can stand in for the variables (a backup the
        /// entrypoint restores), which muster cannot see into.
        unless_mounted: Option<&'static str>,
    },
    /// A command whose first word is `first` (after `program`, which the entrypoint puts in
    /// front of a command without it); `example` is a command that works.
    Command {
        first: &'static str,
        program: &'static str,
        example: &'static str,
    },
}

impl ImageFacts {
    pub fn tools_for(&self, image: &ImageRef) -> &'static [&'static str] {
        self.variant_for(image).map_or(self.tools, |v| v.tools)
    }

    /// The first variant whose tags include `image`'s.
    pub fn variant_for(&self, image: &ImageRef) -> Option<&'static Variant> {
        let tag = image.tag.unwrap_or_default();
        let variants: &'static [Variant] = self.variants;
        variants.iter().find(|v| v.tags.matches(tag))
    }
}

/// Program names on an image's PATH. Static: muster asks only about the programs it can probe
/// with and the engines' own tools, so every name it records is one of its own tables'.
pub type Tools = std::borrow::Cow<'static, [&'static str]>;

/// What muster knows of the image a service runs, wherever it learned it: a row of [`IMAGES`]
/// (with its tag's variant), a Dockerfile (its base's row and what its stages add or remove), or
/// a lock-file entry read from the image itself. The probe is chosen from this alone, so each
/// source of facts produces one and nothing downstream asks where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFacts {
    /// The programs a probe may call.
    pub programs: Programs,
    /// The user the container runs as (`USER`), where the image sets one; probes run as it.
    pub user: Option<String>,
    /// The image's `SHELL` in exec form, where it sets one: a `CMD-SHELL` test runs through it
    /// instead of `/bin/sh -c`.
    pub shell: Option<Vec<String>>,
    /// The container ports the image declares (`EXPOSE`), in the order declared.
    pub exposed: Vec<u16>,
    pub healthcheck: ImageHealthcheck,
}

/// Which programs an image has, as far as muster can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Programs {
    /// These and no other program a probe could use: an empty list is an image without a shell
    /// or a client (distroless, scratch).
    Exactly(Tools),
    /// At least these (installed or copied by a Dockerfile muster followed), on a base whose
    /// other programs muster cannot tell, for the reason given. Nothing at all is known when the
    /// list is empty.
    AtLeast(Tools, CannotTell),
    /// These on most platforms, not on all, as the reason says (a tag range whose amd64 image
    /// alone has curl): the probe is chosen from them, and said to be a guess.
    Likely(Tools, CannotTell),
}

/// Why muster cannot tell which programs an image has: a sentence fragment that completes
/// "muster cannot tell which programs the image has: ..." (`it does not know image `x:1``,
/// `the Dockerfile's base `${BASE}` has no default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotTell(pub String);

/// The image's own `HEALTHCHECK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageHealthcheck {
    /// Not recorded: the table does not say (its rows describe tools, not healthchecks).
    #[default]
    Unknown,
    /// The image declares one (`HEALTHCHECK CMD ...`): it runs unless the service replaces it.
    Declared,
    /// It has none: never declared, or turned off (`HEALTHCHECK NONE`).
    Off,
}

impl ProbeFacts {
    /// Facts with nothing known but `programs`.
    pub fn of(programs: Programs) -> Self {
        ProbeFacts {
            programs,
            user: None,
            shell: None,
            exposed: Vec::new(),
            healthcheck: ImageHealthcheck::Unknown,
        }
    }

    /// A table row's facts for `image`, its tag's variant applied.
    pub fn from_table(facts: &'static ImageFacts, image: &ImageRef) -> Self {
        let tools = Tools::Borrowed(facts.tools_for(image));
        Self::of(match facts.variant_for(image).and_then(|v| v.unsure) {
            None => Programs::Exactly(tools),
            Some(why) => Programs::Likely(tools, CannotTell(why.to_owned())),
        })
    }

    /// Nothing known, for `reason`.
    pub fn cannot_tell(reason: impl Into<String>) -> Self {
        Self::of(Programs::AtLeast(
            Tools::Borrowed(&[]),
            CannotTell(reason.into()),
        ))
    }
}

impl Programs {
    // Read by the Dockerfile reader's tests.
    #[cfg(any(test, feature = "internals"))]
    /// The programs known, or likely, to be there.
    pub fn known(&self) -> &[&'static str] {
        match self {
            Programs::Exactly(tools) | Programs::AtLeast(tools, _) | Programs::Likely(tools, _) => {
                tools
            }
        }
    }

    /// The whole list, when muster knows it.
    pub fn exactly(&self) -> Option<&Tools> {
        match self {
            Programs::Exactly(tools) => Some(tools),
            Programs::AtLeast(..) | Programs::Likely(..) => None,
        }
    }

    /// Why muster cannot tell the whole list, when it cannot.
    pub fn cannot_tell(&self) -> Option<&CannotTell> {
        match self {
            Programs::Exactly(_) => None,
            Programs::AtLeast(_, why) | Programs::Likely(_, why) => Some(why),
        }
    }
}

/// Programs a probe may run that no row below needs to list: the HTTP clients and shells (and
/// the names they go by: busybox, python3, nc), looked for in every image.
const CLIENTS: &[&str] = &[
    "sh", "bash", "busybox", "curl", "wget", "python", "python3", "nc", "node", "grep",
];

/// Every program muster may look for in an image: [`CLIENTS`] and each program a row of
/// [`IMAGES`] lists, sorted. `muster images` records which of these an image has, and a lock file
/// may name no other.
pub fn probe_programs() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = CLIENTS
        .iter()
        .copied()
        .chain(IMAGES.iter().flat_map(|row| {
            row.tools
                .iter()
                .chain(row.variants.iter().flat_map(|v| v.tools.iter()))
                .copied()
        }))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// `name` as one of [`probe_programs`], if it is one.
pub fn probe_program(name: &str) -> Option<&'static str> {
    probe_programs().into_iter().find(|p| *p == name)
}

// Who each image lets in. Each fact names the Dockerfile, entrypoint or documentation it comes
// from; an image whose entrypoint muster has not read keeps `Access::UNRECORDED`.

/// The postgres entrypoint's `file_env` variables (docker-library/postgres
/// docker-entrypoint.sh: `file_env 'POSTGRES_PASSWORD'`, `POSTGRES_USER`, `POSTGRES_DB`,
/// `POSTGRES_INITDB_ARGS`). Its authentication is refused without a password and turned off only
/// by `POSTGRES_HOST_AUTH_METHOD=trust`, which lint `trust-auth` names; `pgvector/pgvector` is
/// built FROM it.
const POSTGRES_ACCESS: Access = Access {
    auth: None,
    files: FileVariables::Listed {
        names: &[
            "POSTGRES_PASSWORD",
            "POSTGRES_USER",
            "POSTGRES_DB",
            "POSTGRES_INITDB_ARGS",
        ],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// MySQL refuses to start without one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD or
/// MYSQL_RANDOM_ROOT_PASSWORD; any non-empty MYSQL_ALLOW_EMPTY_PASSWORD alone leaves root, on host
/// `%`, without a password. `file_env` reads MYSQL_ROOT_HOST, MYSQL_DATABASE, MYSQL_USER,
/// MYSQL_PASSWORD, MYSQL_ROOT_PASSWORD. [docker-library/mysql: docker-entrypoint.sh]
const MYSQL_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::On,
        on: &[
            &[Switch::Env {
                name: "MYSQL_ROOT_PASSWORD",
                not: &[],
            }],
            &[Switch::Env {
                name: "MYSQL_RANDOM_ROOT_PASSWORD",
                not: &[],
            }],
        ],
        off: &[Switch::Env {
            name: "MYSQL_ALLOW_EMPTY_PASSWORD",
            not: &[],
        }],
        open: "root logs in from any host without a password",
        fix: "set MYSQL_ROOT_PASSWORD (or MYSQL_RANDOM_ROOT_PASSWORD) instead of \
              MYSQL_ALLOW_EMPTY_PASSWORD",
    }),
    files: FileVariables::Listed {
        names: &[
            "MYSQL_ROOT_HOST",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
        ],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// MariaDB as MySQL, under both prefixes: `_mariadb_file_env` reads MYSQL_X and MARIADB_X (and
/// their `_FILE`), `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD` defaults to MYSQL_ALLOW_EMPTY_PASSWORD.
/// [MariaDB/mariadb-docker: docker-entrypoint.sh]
const MARIADB_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::On,
        on: &[
            &[Switch::Env {
                name: "MARIADB_ROOT_PASSWORD",
                not: &[],
            }],
            &[Switch::Env {
                name: "MYSQL_ROOT_PASSWORD",
                not: &[],
            }],
            &[Switch::Env {
                name: "MARIADB_ROOT_PASSWORD_HASH",
                not: &[],
            }],
            &[Switch::Env {
                name: "MARIADB_RANDOM_ROOT_PASSWORD",
                not: &[],
            }],
            &[Switch::Env {
                name: "MYSQL_RANDOM_ROOT_PASSWORD",
                not: &[],
            }],
        ],
        off: &[
            Switch::Env {
                name: "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                not: &[],
            },
            Switch::Env {
                name: "MYSQL_ALLOW_EMPTY_PASSWORD",
                not: &[],
            },
        ],
        open: "root logs in from any host without a password",
        fix: "set MARIADB_ROOT_PASSWORD (or MARIADB_RANDOM_ROOT_PASSWORD) instead of \
              MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
    }),
    files: FileVariables::Listed {
        names: &[
            "MARIADB_ROOT_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "MARIADB_PASSWORD",
            "MYSQL_PASSWORD",
            "MARIADB_USER",
            "MYSQL_USER",
            "MARIADB_DATABASE",
            "MYSQL_DATABASE",
            "MARIADB_ROOT_HOST",
            "MYSQL_ROOT_HOST",
            "MARIADB_PASSWORD_HASH",
            "MARIADB_ROOT_PASSWORD_HASH",
            "MARIADB_REPLICATION_USER",
            "MARIADB_REPLICATION_PASSWORD",
            "MARIADB_REPLICATION_PASSWORD_HASH",
            "MARIADB_MASTER_HOST",
            "MARIADB_MASTER_PORT",
            "MARIADB_USER_HOST",
        ],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// mongod runs without access control unless the entrypoint adds `--auth`, which it does when
/// both root variables are set (`file_env` reads them). [docker-library/mongo:
/// docker-entrypoint.sh, `_mongod_hack_ensure_arg '--auth'`]
const MONGO_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::Off,
        on: &[
            &[
                Switch::Env {
                    name: "MONGO_INITDB_ROOT_USERNAME",
                    not: &[],
                },
                Switch::Env {
                    name: "MONGO_INITDB_ROOT_PASSWORD",
                    not: &[],
                },
            ],
            &[Switch::Flag("--auth")],
            &[Switch::Flag("--keyFile")],
            &[Switch::ConfigFile(".conf")],
        ],
        off: &[],
        open: "anyone who reaches port 27017 reads and writes every database",
        fix: "set MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD (the entrypoint then \
              adds --auth)",
    }),
    files: FileVariables::Listed {
        names: &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// Redis and Valkey: no password unless the command sets one, and the images turn protected
/// mode off ("unnecessary in context of Docker"); the entrypoint takes a first argument ending
/// in `.conf` as a configuration file, and reads no variable at all. [docker-library/redis:
/// Dockerfile.template, docker-entrypoint.sh; valkey-io/valkey-container: Dockerfile.template]
const REDIS_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::Off,
        on: &[
            &[Switch::Flag("--requirepass")],
            &[Switch::Flag("--aclfile")],
            &[Switch::ConfigFile(".conf")],
        ],
        off: &[],
        open: "anyone who reaches port 6379 reads and writes every key, and can rewrite the \
               server's configuration",
        fix: "add `\"--requirepass\", \"${REDIS_PASSWORD:?set it in .env}\"` to `command`, and \
              `REDISCLI_AUTH = \"${REDIS_PASSWORD:?...}\"` to `env` for the probe",
    }),
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: Some(
            "pass the password in `command` (`--requirepass ${REDIS_PASSWORD:?...}`), or mount \
             a configuration file that sets `requirepass` and name it as the command's first \
             argument",
        ),
    },
    admin_ui: None,
};

/// Memcached has no authentication in the official image (SASL needs a build with it), nor any
/// variable: keep it unpublished. [docker-library/memcached: Dockerfile]
const MEMCACHED_ACCESS: Access = Access {
    auth: None,
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// edoburu's entrypoint writes `auth_type = ${AUTH_TYPE:-md5}`: `trust` and `any` let every
/// client in; it reads DB_PASSWORD and DATABASE_URL from the environment only.
/// [edoburu/docker-pgbouncer: entrypoint.sh]
const PGBOUNCER_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::On,
        on: &[],
        off: &[Switch::EnvIs {
            name: "AUTH_TYPE",
            values: &["trust", "any"],
        }],
        open: "every client is let through to the database without a password",
        fix: "set AUTH_TYPE = \"scram-sha-256\"",
    }),
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// Elasticsearch turns security on by default from 8.0 (off before); a setting is an
/// environment variable by its own name or as `ES_SETTING_` in capitals. ELASTIC_PASSWORD and
/// KEYSTORE_PASSWORD are read from `_FILE`. [elastic.co: Configure Elasticsearch with Docker;
/// Elasticsearch 8.0 release notes, "security on by default"]
const ELASTICSEARCH_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::OnFromMajor(8),
        on: &[
            &[Switch::EnvIs {
                name: "xpack.security.enabled",
                values: &["true"],
            }],
            &[Switch::EnvIs {
                name: "ES_SETTING_XPACK_SECURITY_ENABLED",
                values: &["true"],
            }],
        ],
        off: &[
            Switch::EnvIs {
                name: "xpack.security.enabled",
                values: &["false"],
            },
            Switch::EnvIs {
                name: "ES_SETTING_XPACK_SECURITY_ENABLED",
                values: &["false"],
            },
        ],
        open: "anyone who reaches port 9200 reads, writes and deletes every index",
        fix: "leave `xpack.security.enabled` on (Elasticsearch 8's default; `\"true\"` before 8) \
              and set ELASTIC_PASSWORD",
    }),
    files: FileVariables::Listed {
        names: &["ELASTIC_PASSWORD", "KEYSTORE_PASSWORD"],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// OpenSearch's security plugin is on unless DISABLE_SECURITY_PLUGIN=true (or the setting
/// `plugins.security.disabled`); it reads OPENSEARCH_INITIAL_ADMIN_PASSWORD from the environment
/// only. [opensearch.org: Docker installation, "Disable security"]
const OPENSEARCH_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::On,
        on: &[],
        off: &[
            Switch::EnvIs {
                name: "DISABLE_SECURITY_PLUGIN",
                values: &["true"],
            },
            Switch::EnvIs {
                name: "plugins.security.disabled",
                values: &["true"],
            },
        ],
        open: "anyone who reaches port 9200 reads, writes and deletes every index",
        fix: "remove DISABLE_SECURITY_PLUGIN and set OPENSEARCH_INITIAL_ADMIN_PASSWORD",
    }),
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// Qdrant is "unsecured by default": an API key turns authentication on
/// (`QDRANT__SERVICE__API_KEY`); `/`, `/healthz`, `/readyz` and `/livez` answer without it, so
/// the probe needs none. [qdrant.tech: Security; qdrant/qdrant: src/actix/mod.rs
/// `api_key_whitelist`]
const QDRANT_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::Off,
        on: &[
            &[Switch::Env {
                name: "QDRANT__SERVICE__API_KEY",
                not: &[],
            }],
            &[Switch::Env {
                name: "QDRANT__SERVICE__READ_ONLY_API_KEY",
                not: &[],
            }],
        ],
        off: &[],
        open: "anyone who reaches port 6333 reads, writes and deletes every collection",
        fix: "set QDRANT__SERVICE__API_KEY = \"${QDRANT_API_KEY:?set it in .env}\" (clients send \
              it as the `api-key` header)",
    }),
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: None,
};

/// RabbitMQ's default user is guest/guest unless RABBITMQ_DEFAULT_USER and _PASS are set. Since
/// 3.9 the image's entrypoint exits when RABBITMQ_DEFAULT_PASS_FILE (or _USER_FILE) is set
/// ("deprecated environment variables detected"). The `management` tags serve the management
/// UI on 15672. [docker-library/rabbitmq: docker-entrypoint.sh, Dockerfile-management.template;
/// rabbitmq.com: Access Control, "guest"]
const RABBITMQ_ACCESS: Access = Access {
    auth: Some(Auth {
        default: AuthDefault::Off,
        on: &[&[
            Switch::Env {
                name: "RABBITMQ_DEFAULT_USER",
                not: &["guest"],
            },
            Switch::Env {
                name: "RABBITMQ_DEFAULT_PASS",
                not: &["guest"],
            },
        ]],
        off: &[],
        open: "the broker keeps its default user guest/guest, whose password everyone knows",
        fix: "set RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS = \
              \"${RABBITMQ_PASSWORD:?set it in .env}\"",
    }),
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: Some(
            "the image's entrypoint exits when RABBITMQ_DEFAULT_PASS_FILE is set; put \
             `default_pass` in a configuration file under /etc/rabbitmq/conf.d/ and mount that \
             as a secret (`compose.secrets` with a `target`)",
        ),
    },
    admin_ui: Some(AdminUi {
        name: "RabbitMQ's management UI",
        ports: &[15672],
        tag: Some("management"),
        guarded_by: &[],
    }),
};

/// Grafana's admin is admin/admin unless GF_SECURITY_ADMIN_PASSWORD says otherwise (the first
/// login only suggests changing it); its run.sh reads every `GF_*` variable from the file named
/// by `GF_*__FILE`. [grafana/grafana: packaging/docker/run.sh; grafana.com: Configure a Grafana
/// Docker image]
const GRAFANA_ACCESS: Access = Access {
    auth: None,
    files: FileVariables::Listed {
        names: &["GF_*"],
        suffix: "__FILE",
        instead: None,
    },
    admin_ui: Some(AdminUi {
        name: "Grafana",
        ports: &[3000],
        tag: None,
        guarded_by: &[&[Switch::Env {
            name: "GF_SECURITY_ADMIN_PASSWORD",
            not: &["admin"],
        }]],
    }),
};

/// pgAdmin administers the databases it is given; PGADMIN_DEFAULT_PASSWORD is read from
/// PGADMIN_DEFAULT_PASSWORD_FILE. [pgadmin-org/pgadmin4: pkg/docker/entrypoint.sh,
/// docs/en_US/container_deployment.rst]
const PGADMIN_ACCESS: Access = Access {
    auth: None,
    files: FileVariables::Listed {
        names: &["PGADMIN_DEFAULT_PASSWORD"],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: Some(AdminUi {
        name: "pgAdmin",
        ports: &[80, 443],
        tag: None,
        guarded_by: &[],
    }),
};

/// Flower lets anyone in unless basic auth or OAuth is configured, by option or by its
/// `FLOWER_` variable; it reads no variable from a file. [mher/flower: flower/options.py
/// (`basic_auth`, `auth`), flower/command.py (`ENV_VAR_PREFIX = 'FLOWER_'`)]
const FLOWER_ACCESS: Access = Access {
    auth: None,
    files: FileVariables::Listed {
        names: &[],
        suffix: "_FILE",
        instead: None,
    },
    admin_ui: Some(AdminUi {
        name: "Flower",
        ports: &[5555],
        tag: None,
        guarded_by: &[
            &[Switch::Env {
                name: "FLOWER_BASIC_AUTH",
                not: &[],
            }],
            &[Switch::Flag("--basic_auth")],
            &[Switch::Flag("--basic-auth")],
            &[Switch::Env {
                name: "FLOWER_AUTH",
                not: &[],
            }],
            &[Switch::Flag("--auth")],
        ],
    }),
};

/// The known images. The first row of an engine gives that engine's default image.
pub static IMAGES: &[ImageFacts] = &[
    // The entrypoint initialises an empty data folder only with a superuser password or
    // `POSTGRES_HOST_AUTH_METHOD=trust`, and exits 1 otherwise ("Database is uninitialized and
    // superuser password is not specified"). [docker-library/postgres: 17/bookworm/
    // docker-entrypoint.sh (docker_verify_minimum_env, file_env)]
    ImageFacts {
        repositories: &["postgres"],
        engine: Some("postgres"),
        default_image: Some("postgres:17"),
        port: Some(5432),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        model_cache: None,
        access: POSTGRES_ACCESS,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "pg_isready", "psql"],
            unsure: None,
        }],
        start: Some(StartNeeds::AnyVariable {
            vars: &[
                ("POSTGRES_PASSWORD", None),
                ("POSTGRES_PASSWORD_FILE", None),
                ("POSTGRES_HOST_AUTH_METHOD", Some("trust")),
            ],
            servers: &["postgres"],
            unless_mounted: None,
        }),
    },
    ImageFacts {
        repositories: &["pgvector/pgvector"],
        engine: Some("postgres"),
        default_image: None,
        port: Some(5432),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "pg_isready", "psql"],
        model_cache: None,
        access: POSTGRES_ACCESS,
        variants: &[],
        start: Some(StartNeeds::AnyVariable {
            vars: &[
                ("POSTGRES_PASSWORD", None),
                ("POSTGRES_PASSWORD_FILE", None),
                ("POSTGRES_HOST_AUTH_METHOD", Some("trust")),
            ],
            servers: &["postgres"],
            unless_mounted: None,
        }),
    },
    // An empty data folder is initialised only with one of the root password settings.
    // [docker-library/mysql: 8.4/docker-entrypoint.sh (docker_verify_minimum_env)]
    ImageFacts {
        repositories: &["mysql"],
        engine: Some("mysql"),
        default_image: Some("mysql:8.4"),
        port: Some(3306),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "mysqladmin", "mysql"],
        model_cache: None,
        access: MYSQL_ACCESS,
        variants: &[],
        start: Some(StartNeeds::AnyVariable {
            vars: &[
                ("MYSQL_ROOT_PASSWORD", None),
                ("MYSQL_ROOT_PASSWORD_FILE", None),
                ("MYSQL_ALLOW_EMPTY_PASSWORD", None),
                ("MYSQL_RANDOM_ROOT_PASSWORD", None),
            ],
            servers: &["mysqld"],
            unless_mounted: None,
        }),
    },
    // An empty data folder is initialised only with one of the root password settings (each
    // MYSQL_ name stands in for its MARIADB_ one), unless /docker-entrypoint-initdb.d holds a
    // backup to restore. [MariaDB/mariadb-docker: 11.4/docker-entrypoint.sh
    // (docker_verify_minimum_env, docker_setup_env, _mariadb_file_env)]
    ImageFacts {
        repositories: &["mariadb"],
        engine: Some("mariadb"),
        default_image: Some("mariadb:11.4"),
        port: Some(3306),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "healthcheck.sh", "mariadb-admin"],
        model_cache: None,
        access: MARIADB_ACCESS,
        variants: &[],
        start: Some(StartNeeds::AnyVariable {
            vars: &[
                ("MARIADB_ROOT_PASSWORD", None),
                ("MARIADB_ROOT_PASSWORD_FILE", None),
                ("MYSQL_ROOT_PASSWORD", None),
                ("MYSQL_ROOT_PASSWORD_FILE", None),
                ("MARIADB_ROOT_PASSWORD_HASH", None),
                ("MARIADB_ROOT_PASSWORD_HASH_FILE", None),
                ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", None),
                ("MYSQL_ALLOW_EMPTY_PASSWORD", None),
                ("MARIADB_RANDOM_ROOT_PASSWORD", None),
                ("MYSQL_RANDOM_ROOT_PASSWORD", None),
            ],
            servers: &["mariadbd", "mysqld"],
            unless_mounted: Some("/docker-entrypoint-initdb.d"),
        }),
    },
    ImageFacts {
        repositories: &["mongo"],
        engine: Some("mongo"),
        default_image: Some("mongo:7.0"),
        port: Some(27017),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "mongosh"],
        model_cache: None,
        access: MONGO_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["redis"],
        engine: Some("redis"),
        default_image: Some("redis:7.4"),
        port: Some(6379),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "redis-cli"],
        model_cache: None,
        access: REDIS_ACCESS,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "redis-cli"],
            unsure: None,
        }],
        start: None,
    },
    ImageFacts {
        repositories: &["valkey/valkey"],
        engine: Some("valkey"),
        default_image: Some("valkey/valkey:8.0"),
        port: Some(6379),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "valkey-cli", "redis-cli"],
        model_cache: None,
        access: REDIS_ACCESS,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "valkey-cli", "redis-cli"],
            unsure: None,
        }],
        start: None,
    },
    ImageFacts {
        repositories: &["memcached"],
        engine: Some("memcached"),
        default_image: Some("memcached:1.6"),
        port: Some(11211),
        health: None,
        health_switch: None,
        tools: &["sh", "bash"],
        model_cache: None,
        access: MEMCACHED_ACCESS,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget"],
            unsure: None,
        }],
        start: None,
    },
    ImageFacts {
        repositories: &["edoburu/pgbouncer"],
        engine: Some("pgbouncer"),
        default_image: Some("edoburu/pgbouncer:v1.24.1-p1"),
        port: Some(5432),
        health: None,
        health_switch: None,
        // Alpine-based on every tag (busybox: sh, grep, sed, wget), with postgresql-client.
        tools: &["sh", "grep", "sed", "wget", "pg_isready", "psql"],
        model_cache: None,
        access: PGBOUNCER_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["elasticsearch", "elasticsearch/elasticsearch"],
        engine: Some("elasticsearch"),
        default_image: Some("docker.elastic.co/elasticsearch/elasticsearch:8.15.3"),
        port: Some(9200),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        access: ELASTICSEARCH_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["opensearchproject/opensearch"],
        engine: Some("opensearch"),
        default_image: Some("opensearchproject/opensearch:2.18.0"),
        port: Some(9200),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        access: OPENSEARCH_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["qdrant/qdrant"],
        engine: Some("qdrant"),
        default_image: Some("qdrant/qdrant:v1.12.4"),
        port: Some(6333),
        health: Some(HealthEndpoint {
            port: 6333,
            path: "/readyz",
        }),
        health_switch: None,
        // The maintainers refused to add curl or wget (qdrant#3491, #4250): bash is the client.
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        access: QDRANT_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["rabbitmq"],
        engine: Some("rabbitmq"),
        default_image: Some("rabbitmq:4.0-management"),
        port: Some(5672),
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "rabbitmq-diagnostics", "rabbitmqctl"],
        model_cache: None,
        access: RABBITMQ_ACCESS,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "rabbitmq-diagnostics", "rabbitmqctl"],
            unsure: None,
        }],
        start: None,
    },
    ImageFacts {
        repositories: &["prom/prometheus"],
        engine: Some("prometheus"),
        default_image: Some("prom/prometheus:v2.55.1"),
        port: Some(9090),
        health: Some(HealthEndpoint {
            port: 9090,
            path: "/-/healthy",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "promtool"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &[
            "grafana/grafana",
            "grafana/grafana-oss",
            "grafana/grafana-enterprise",
        ],
        engine: Some("grafana"),
        default_image: Some("grafana/grafana:11.3.1"),
        port: Some(3000),
        health: Some(HealthEndpoint {
            port: 3000,
            path: "/api/health",
        }),
        health_switch: None,
        tools: &["sh", "grep", "curl", "wget"],
        model_cache: None,
        access: GRAFANA_ACCESS,
        variants: &[],
        start: None,
    },
    ImageFacts {
        // Jaeger v2: the health check extension listens on its own port.
        repositories: &["jaegertracing/jaeger"],
        engine: Some("jaeger"),
        default_image: Some("jaegertracing/jaeger:2.1.0"),
        port: Some(16686),
        health: Some(HealthEndpoint {
            port: 13133,
            path: "/status",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    ImageFacts {
        // Jaeger v1 (retired upstream, jaeger#7702): the admin port serves health.
        repositories: &["jaegertracing/all-in-one"],
        engine: Some("jaeger"),
        default_image: None,
        port: Some(16686),
        health: Some(HealthEndpoint {
            port: 14269,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    ImageFacts {
        // python:3.x-slim, the base of the Django, FastAPI and model-serving services.
        repositories: &["python"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "python"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "python"],
            unsure: None,
        }],
        start: None,
    },
    // nginx: the Debian tag installs curl with nginx and keeps it; `alpine` adds curl back
    // ("to make registering on DNS SD easier"); `alpine-slim` has busybox wget only. The default
    // server answers `/` with its welcome page. [nginxinc/docker-nginx: mainline/debian/Dockerfile,
    // mainline/alpine/Dockerfile, mainline/alpine-slim/Dockerfile]
    ImageFacts {
        repositories: &["nginx"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 80,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[
            Variant {
                tags: Tags::Containing("alpine-slim"),
                tools: &["sh", "grep", "wget"],
                unsure: None,
            },
            Variant {
                tags: Tags::Containing("alpine"),
                tools: &["sh", "grep", "wget", "curl"],
                unsure: None,
            },
        ],
        start: None,
    },
    // Apache httpd: Debian slim with only its libraries (wget is a build dependency, purged);
    // the alpine tag has busybox. `/` serves the default "It works!" page.
    // [docker-library/httpd: 2.4/Dockerfile, 2.4/alpine/Dockerfile]
    ImageFacts {
        repositories: &["httpd"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 80,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget"],
            unsure: None,
        }],
        start: None,
    },
    // Caddy: alpine (busybox wget); curl is installed only from 2.11 on, so it is left out and
    // every tag gets wget. Sites have no health endpoint of their own; the admin API, on
    // localhost:2019 unless the config moves it, always mounts `/metrics` and accepts the host
    // `127.0.0.1:2019`. [caddyserver/caddy-docker: 2.11/alpine/Dockerfile, Dockerfile.tmpl
    // (#435 added curl); caddyserver/caddy: admin.go (DefaultAdminListen, allowedOrigins),
    // modules/metrics/adminmetrics.go]
    ImageFacts {
        repositories: &["caddy"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 2019,
            path: "/metrics",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "caddy"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Traefik: alpine (busybox wget). `/ping` answers on the `traefik` entry point (8080) only
    // when ping is enabled (`--ping`, `TRAEFIK_PING=true` or `ping:` in the static config).
    // [traefik/traefik-library-image: v3.7/alpine/Dockerfile, entrypoint.sh;
    // doc.traefik.io/traefik/operations/ping]
    ImageFacts {
        repositories: &["traefik"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 8080,
            path: "/ping",
        }),
        health_switch: Some(HealthSwitch {
            env: "TRAEFIK_PING",
            flag: "--ping",
        }),
        tools: &["sh", "grep", "wget", "traefik"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // MinIO: ubi9-micro (since RELEASE.2023-11-01T01-57-10Z; ubi-minimal with microdnf's curl
    // before) holding minio, mc and, from RELEASE.2024-03-30T09-41-56Z, a static curl copied in
    // from the build stage: for amd64 only until RELEASE.2024-09-13T20-26-02Z added arm64 and
    // ppc64le (never s390x). The entrypoint is `#!/bin/sh` and runs `minio` with the command's
    // words, so the command must start `server` (or `minio server`): the image's CMD, `minio`
    // alone, prints its help and exits. Liveness is `/minio/health/live` on the S3 port.
    // [minio/minio: Dockerfile.release at 3aa3d9cf1 (#18329, ubi-micro), 72c7845f7 (#19383,
    // static curl), 7f35f74f1, e36b1146d (#20424, all architectures); dockerscripts/
    // docker-entrypoint.sh, download-static-curl.sh; cmd/healthcheck-router.go]
    ImageFacts {
        repositories: &["minio/minio"],
        engine: None,
        default_image: None,
        port: Some(9000),
        health: Some(HealthEndpoint {
            port: 9000,
            path: "/minio/health/live",
        }),
        health_switch: None,
        tools: &["sh", "curl", "minio", "mc"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[
            Variant {
                tags: Tags::Between {
                    from: None,
                    until: Some("RELEASE.2023-11-01T01-57-10Z"),
                },
                tools: &["sh", "curl", "minio", "mc"],
                unsure: None,
            },
            Variant {
                tags: Tags::Between {
                    from: Some("RELEASE.2023-11-01T01-57-10Z"),
                    until: Some("RELEASE.2024-03-30T09-41-56Z"),
                },
                tools: &["sh", "minio", "mc"],
                unsure: None,
            },
            Variant {
                tags: Tags::Between {
                    from: Some("RELEASE.2024-03-30T09-41-56Z"),
                    until: Some("RELEASE.2024-09-13T20-26-02Z"),
                },
                tools: &["sh", "curl", "minio", "mc"],
                unsure: Some(
                    "its releases from 2024-03-30 to 2024-09-12 have curl in the amd64 image \
                     only; on arm64 the probe fails (a release from 2024-09-13 on has it there too)",
                ),
            },
        ],
        start: Some(StartNeeds::Command {
            first: "server",
            program: "minio",
            example: "server /data --console-address :9001",
        }),
    },
    // Ollama: ubuntu:24.04 with ca-certificates and GPU libraries only: no curl or wget, bash
    // is the client. `/` answers 200 "Ollama is running". [ollama/ollama: Dockerfile (last
    // stage), server/routes.go]
    ImageFacts {
        repositories: &["ollama/ollama"],
        engine: None,
        default_image: None,
        port: Some(11434),
        health: Some(HealthEndpoint {
            port: 11434,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "ollama"],
        // `docker run -v ollama:/root/.ollama` in Ollama's Docker instructions; its default
        // OLLAMA_MODELS is `$HOME/.ollama/models`, and the image runs as root.
        model_cache: Some("/root/.ollama"),
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // vLLM's OpenAI server: nvidia/cuda ubuntu22.04 with curl, wget and python3 (no `python`),
    // `vllm serve` on 8000, whose `/health` fails once the engine is dead.
    // [vllm-project/vllm: docker/Dockerfile (vllm-base, vllm-openai); its API router's
    // `@router.get("/health")`]
    ImageFacts {
        repositories: &["vllm/vllm-openai"],
        engine: None,
        default_image: None,
        port: Some(8000),
        health: Some(HealthEndpoint {
            port: 8000,
            path: "/health",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "python3"],
        // vLLM downloads from the Hugging Face hub into HF_HOME, `/root/.cache/huggingface` as
        // root: its Docker deployment page mounts `~/.cache/huggingface` there.
        model_cache: Some("/root/.cache/huggingface"),
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // MailHog: alpine:3 (busybox wget) running as user mailhog; the UI on 8025 serves `/`.
    // [mailhog/MailHog: Dockerfile, vendor/github.com/mailhog/MailHog-UI/web/web.go]
    ImageFacts {
        repositories: &["mailhog/mailhog"],
        engine: None,
        default_image: None,
        port: Some(8025),
        health: Some(HealthEndpoint {
            port: 8025,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "MailHog"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Mailpit: alpine (busybox wget), the binary at `/mailpit`, off PATH. `/readyz` on 8025 is
    // what its own HEALTHCHECK (`/mailpit readyz`) asks; `MP_WEBROOT` moves it.
    // [axllent/mailpit: Dockerfile, server/server.go, cmd/readyz.go]
    ImageFacts {
        repositories: &["axllent/mailpit"],
        engine: None,
        default_image: None,
        port: Some(8025),
        health: Some(HealthEndpoint {
            port: 8025,
            path: "/readyz",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Keycloak: ubi9-micro with Java and bash, no curl (keycloak#17438, #39373: not to be
    // added); its docs give a bash `/dev/tcp` check (keycloak#38131). Since 25 the health
    // endpoints are on the management port 9000, and only with `health-enabled`.
    // [keycloak/keycloak: quarkus/container/Dockerfile; keycloak.org/observability/health]
    ImageFacts {
        repositories: &["keycloak/keycloak"],
        engine: None,
        default_image: None,
        port: Some(8080),
        health: Some(HealthEndpoint {
            port: 9000,
            path: "/health/ready",
        }),
        health_switch: Some(HealthSwitch {
            env: "KC_HEALTH_ENABLED",
            flag: "--health-enabled",
        }),
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // pgAdmin: python:3-alpine with bash added (busybox sh, grep, wget), gunicorn on 80 (443 with
    // TLS); `/misc/ping` answers "PING". [pgadmin-org/pgadmin4: Dockerfile, web/pgadmin/misc/
    // __init__.py `ping`]
    ImageFacts {
        repositories: &["dpage/pgadmin4"],
        engine: None,
        default_image: None,
        port: Some(80),
        health: Some(HealthEndpoint {
            port: 80,
            path: "/misc/ping",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "wget", "python"],
        model_cache: None,
        access: PGADMIN_ACCESS,
        variants: &[],
        start: None,
    },
    // Node: the default tag is buildpack-deps (curl, wget); `slim` installs curl and wget to
    // fetch node, then purges them; alpine deletes its curl build dependency, leaving busybox.
    // The app's port and health path are its own. [nodejs/docker-node: 22/bookworm/Dockerfile,
    // 22/bookworm-slim/Dockerfile, 22/alpine3.23/Dockerfile; docker-library/buildpack-deps:
    // debian/bookworm/curl/Dockerfile]
    ImageFacts {
        repositories: &["node"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "node"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[
            Variant {
                tags: Tags::Containing("alpine"),
                tools: &["sh", "grep", "wget", "node"],
                unsure: None,
            },
            Variant {
                tags: Tags::Containing("slim"),
                tools: &["sh", "bash", "grep", "node"],
                unsure: None,
            },
        ],
        start: None,
    },
    // Go: buildpack-deps:*-scm (curl, wget) or alpine (busybox wget), for `go run` in dev; a Go
    // app ships FROM distroless or scratch instead. [docker-library/golang: 1.27/bookworm/
    // Dockerfile, 1.27/alpine3.24/Dockerfile]
    ImageFacts {
        repositories: &["golang"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "go"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Containing("alpine"),
            tools: &["sh", "grep", "wget", "go"],
            unsure: None,
        }],
        start: None,
    },
    // Grafana Loki: alpine (busybox) before 3.2.0, distroless `:debug` (busybox on PATH, `sh`
    // linked) from 3.2.0, distroless `static:nonroot` from 3.6.0: no shell and no client. Ready
    // is `/ready` on 3100. From 3.7.0 the binary probes itself (`loki -health
    // -health.url=...`). [grafana/loki: cmd/loki/Dockerfile at v3.1.0, v3.2.0, v3.5.0, v3.6.0
    // (f2ba692f76, "remove busybox"); cmd/loki/health.go; pkg/loki/loki.go ("/ready")]
    ImageFacts {
        repositories: &["grafana/loki"],
        engine: Some("loki"),
        default_image: Some("grafana/loki:3.5.12"),
        port: Some(3100),
        health: Some(HealthEndpoint {
            port: 3100,
            path: "/ready",
        }),
        health_switch: None,
        tools: &[],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Between {
                from: None,
                until: Some("3.6.0"),
            },
            tools: &["sh", "grep", "wget"],
            unsure: None,
        }],
        start: None,
    },
    // Grafana Tempo: alpine before 2.8.0, distroless `static-debian12:debug` in 2.8 and 2.9,
    // plain distroless `static-debian12` from 2.10.0. `/ready` on 3200, the default
    // `server.http-listen-port`. [grafana/tempo: cmd/tempo/Dockerfile at v2.7.0, v2.8.0,
    // v2.10.0; cmd/tempo/app/config.go; cmd/tempo/app/app.go ("/ready")]
    ImageFacts {
        repositories: &["grafana/tempo"],
        engine: Some("tempo"),
        default_image: Some("grafana/tempo:2.9.5"),
        port: Some(3200),
        health: Some(HealthEndpoint {
            port: 3200,
            path: "/ready",
        }),
        health_switch: None,
        tools: &[],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Between {
                from: None,
                until: Some("2.10.0"),
            },
            tools: &["sh", "grep", "wget"],
            unsure: None,
        }],
        start: None,
    },
    // Grafana Alloy: ubuntu noble with ca-certificates, libsystemd0 and tzdata: bash, no curl or
    // wget. Its HTTP server listens on 127.0.0.1:12345 unless `--server.http.listen-addr` says
    // otherwise, which an in-container probe reaches. [grafana/alloy: Dockerfile (final stage);
    // internal/alloycli/cmd_run.go; internal/service/http/http.go ("/-/ready")]
    ImageFacts {
        repositories: &["grafana/alloy"],
        engine: Some("alloy"),
        default_image: Some("grafana/alloy:v1.18.1"),
        port: Some(12345),
        health: Some(HealthEndpoint {
            port: 12345,
            path: "/-/ready",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "alloy"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Promtail (retired from Loki's repository in 2026; its last images stay in use): debian
    // slim, then ubuntu noble from 3.5, with libsystemd and tzdata only: bash, no curl or wget.
    // `/ready` on 9080, the image's config's `http_listen_port`. [grafana/loki:
    // clients/cmd/promtail/Dockerfile and promtail-docker-config.yaml at 572df0168f^;
    // clients/pkg/promtail/server/server.go]
    ImageFacts {
        repositories: &["grafana/promtail"],
        engine: Some("promtail"),
        default_image: Some("grafana/promtail:3.5.12"),
        port: Some(9080),
        health: Some(HealthEndpoint {
            port: 9080,
            path: "/ready",
        }),
        health_switch: None,
        tools: &["sh", "bash", "grep", "promtail"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // cAdvisor: alpine (busybox wget), `/healthz` on 8080; the image's own HEALTHCHECK asks the
    // same. [google/cadvisor: deploy/Dockerfile, deploy/healthcheck.sh]
    ImageFacts {
        repositories: &["cadvisor/cadvisor", "google/cadvisor"],
        engine: Some("cadvisor"),
        default_image: Some("gcr.io/cadvisor/cadvisor:v0.56.2"),
        port: Some(8080),
        health: Some(HealthEndpoint {
            port: 8080,
            path: "/healthz",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "cadvisor"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Node exporter: quay.io/prometheus/busybox (sh, wget), as user nobody; the landing page at
    // `/` answers 200. [prometheus/node_exporter: Dockerfile, node_exporter.go]
    ImageFacts {
        repositories: &["prom/node-exporter", "prometheus/node-exporter"],
        engine: Some("node-exporter"),
        default_image: Some("prom/node-exporter:v1.9.1"),
        port: Some(9100),
        health: Some(HealthEndpoint {
            port: 9100,
            path: "/",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "node_exporter"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Alertmanager: quay.io/prometheus/busybox, `/-/healthy` on 9093. [prometheus/alertmanager:
    // Dockerfile; httpserver/httpserver.go]
    ImageFacts {
        repositories: &["prom/alertmanager", "prometheus/alertmanager"],
        engine: Some("alertmanager"),
        default_image: Some("prom/alertmanager:v0.28.1"),
        port: Some(9093),
        health: Some(HealthEndpoint {
            port: 9093,
            path: "/-/healthy",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "amtool", "alertmanager"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // The OpenTelemetry Collector (core, contrib, k8s): FROM scratch with the binary alone. Its
    // health_check extension answers on 13133 when the configuration enables it (the images'
    // own configuration does; a mounted one must say `extensions: [health_check]` too). No
    // default image: nothing inside can run a probe muster writes. [open-telemetry/
    // opentelemetry-collector-releases: distributions/otelcol{,-contrib}/Dockerfile,
    // config.yaml]
    ImageFacts {
        repositories: &[
            "otel/opentelemetry-collector",
            "otel/opentelemetry-collector-contrib",
            "otel/opentelemetry-collector-k8s",
        ],
        engine: Some("otel-collector"),
        default_image: None,
        port: Some(4317),
        health: Some(HealthEndpoint {
            port: 13133,
            path: "/",
        }),
        health_switch: None,
        tools: &[],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Flower, Celery's monitor: python:alpine (busybox wget, python), `/healthcheck` on 5555.
    // [mher/flower: Dockerfile, flower/urls.py]
    ImageFacts {
        repositories: &["mher/flower"],
        engine: Some("flower"),
        default_image: Some("mher/flower:2.0.1"),
        port: Some(5555),
        health: Some(HealthEndpoint {
            port: 5555,
            path: "/healthcheck",
        }),
        health_switch: None,
        tools: &["sh", "grep", "wget", "python"],
        model_cache: None,
        access: FLOWER_ACCESS,
        variants: &[],
        start: None,
    },
    // Eclipse Temurin: ubuntu tags install curl and wget ("required for historical reasons"),
    // alpine tags only busybox wget, ubi tags wget. The app's port and path are its own.
    // [adoptium/containers: 21/jre/ubuntu/noble/Dockerfile, 21/jre/alpine/3.23/Dockerfile,
    // 21/jre/ubi/ubi9-minimal/Dockerfile]
    ImageFacts {
        repositories: &["eclipse-temurin"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "java"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[
            Variant {
                tags: Tags::Containing("alpine"),
                tools: &["sh", "grep", "wget", "java"],
                unsure: None,
            },
            Variant {
                tags: Tags::Containing("ubi"),
                tools: &["sh", "wget", "java"],
                unsure: None,
            },
        ],
        start: None,
    },
    // Ruby: the default tags are buildpack-deps (curl, wget); slim installs wget to fetch Ruby
    // and purges it with the other build dependencies; alpine has busybox wget.
    // [docker-library/ruby: 3.3/bookworm/Dockerfile, 3.3/slim-bookworm/Dockerfile,
    // 3.3/alpine3.23/Dockerfile]
    ImageFacts {
        repositories: &["ruby"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep", "curl", "wget", "ruby"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[
            Variant {
                tags: Tags::Containing("slim"),
                tools: &["sh", "bash", "grep", "ruby"],
                unsure: None,
            },
            Variant {
                tags: Tags::Containing("alpine"),
                tools: &["sh", "grep", "wget", "ruby"],
                unsure: None,
            },
        ],
        start: None,
    },
    // The distributions' own images, the bases of most Dockerfiles: Debian and Ubuntu have bash
    // and neither curl nor wget; Alpine and busybox have busybox's sh and wget.
    // [debuerreotype/docker-debian-artifacts: Dockerfile (FROM scratch, the minbase rootfs);
    // docker-library/official-images: library/ubuntu; alpinelinux/docker-alpine: Dockerfile
    // (FROM scratch, the minirootfs); docker-library/busybox: latest/glibc/Dockerfile]
    ImageFacts {
        repositories: &["debian", "ubuntu"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "bash", "grep"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["alpine"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "grep", "wget"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    ImageFacts {
        repositories: &["busybox"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["sh", "grep", "wget", "nc", "busybox"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[],
        start: None,
    },
    // Distroless python3: no shell, `/usr/bin/python` linked to the interpreter, so the python
    // probe (exec form) runs. `:debug` tags add busybox on PATH. [GoogleContainerTools/
    // distroless: README.md, python3/python.bzl, static/static.bzl]
    ImageFacts {
        repositories: &["distroless/python3*"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &["python"],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Containing("debug"),
            tools: &["sh", "grep", "wget", "python"],
            unsure: None,
        }],
        start: None,
    },
    // Every other distroless image (static, base, cc, java, nodejs): no shell and no client, so
    // no probe muster writes can run; `:debug` tags add busybox (sh, wget) on PATH.
    // [GoogleContainerTools/distroless: README.md, static/static.bzl, base/testdata/debug.yaml]
    ImageFacts {
        repositories: &["distroless/*"],
        engine: None,
        default_image: None,
        port: None,
        health: None,
        health_switch: None,
        tools: &[],
        model_cache: None,
        access: Access::UNRECORDED,
        variants: &[Variant {
            tags: Tags::Containing("debug"),
            tools: &["sh", "grep", "wget"],
            unsure: None,
        }],
        start: None,
    },
];

/// A server that may demand a password its probe's client then has to send, and how to tell:
/// the probe pipes the reply into `grep` (`redis-cli ping` exits 0 on a refusal), so its output
/// hides the refusal and the live diagnosis asks the server itself.
#[derive(Debug)]
pub struct PasswordCheck {
    pub engine: &'static str,
    /// The command that asks the server with no password, `{port}` standing for its port.
    pub ping: &'static [&'static str],
    /// What the server answers a client that sent none.
    pub refusal: &'static str,
    /// Where the client reads the password from: never argv, where `ps` would show it.
    pub env: &'static str,
}

/// The servers [`PasswordCheck`] knows. valkey-cli, forked from redis-cli, kept its
/// `REDISCLI_AUTH`.
pub static PASSWORD_CHECKS: &[PasswordCheck] = &[
    PasswordCheck {
        engine: "redis",
        ping: &["redis-cli", "-h", "127.0.0.1", "-p", "{port}", "ping"],
        refusal: "NOAUTH",
        env: "REDISCLI_AUTH",
    },
    PasswordCheck {
        engine: "valkey",
        ping: &["valkey-cli", "-h", "127.0.0.1", "-p", "{port}", "ping"],
        refusal: "NOAUTH",
        env: "REDISCLI_AUTH",
    },
];

/// How to tell whether `engine`'s server wants a password, where muster knows.
pub fn password_check(engine: &str) -> Option<&'static PasswordCheck> {
    PASSWORD_CHECKS.iter().find(|c| c.engine == engine)
}

/// The facts for an image reference, if muster knows its repository. A repository written with a
/// final `*` covers a family named by prefix (`distroless/static-debian12`, `-debian13`, ...);
/// the first row that matches wins.
pub fn lookup(image: &ImageRef) -> Option<&'static ImageFacts> {
    IMAGES.iter().find(|facts| {
        facts
            .repositories
            .iter()
            .any(|r| match r.strip_suffix('*') {
                Some(prefix) => image.repository.starts_with(prefix),
                None => *r == image.repository,
            })
    })
}

/// The facts for an engine's default image.
pub fn for_engine(engine: &str) -> Option<&'static ImageFacts> {
    IMAGES
        .iter()
        .find(|facts| facts.engine == Some(engine) && facts.default_image.is_some())
}

/// Where an engine's image keeps its data, when it refuses to initialise a data directory that
/// is not empty: a fresh Kubernetes claim has `lost+found` at its root, so the manifest points the
/// variable at a subdirectory of the mount instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataDir {
    /// The mount point the image's documentation gives for its volume.
    pub path: &'static str,
    /// The variable that moves the data directory.
    pub variable: &'static str,
    /// The subdirectory of `path` it is moved to.
    pub subdirectory: &'static str,
}

/// The engines whose image needs an empty data directory. PostgreSQL's initdb refuses a
/// non-empty one ("directory exists but is not empty"); the postgres image's documentation
/// (docker-library/docs, postgres, PGDATA) recommends PGDATA in a subdirectory of the mount for
/// exactly the `lost+found` of a mounted file system.
const DATA_DIRS: &[(&str, DataDir)] = &[(
    "postgres",
    DataDir {
        path: "/var/lib/postgresql/data",
        variable: "PGDATA",
        subdirectory: "pgdata",
    },
)];

/// Where `engine`'s image keeps the data it must initialise in an empty directory.
pub fn data_dir(engine: &str) -> Option<DataDir> {
    DATA_DIRS
        .iter()
        .find(|(e, _)| *e == engine)
        .map(|(_, d)| *d)
}

/// The program that marks a healthcheck as one engine's (`pg_isready` is PostgreSQL's client),
/// for a Compose file whose image muster does not know: `import` infers the engine from it. Each
/// is a program of its engine's default image (tested).
pub const ENGINE_CLIENTS: &[(&str, &str)] = &[
    ("pg_isready", "postgres"),
    ("redis-cli", "redis"),
    ("valkey-cli", "valkey"),
    ("mysqladmin", "mysql"),
    ("healthcheck.sh", "mariadb"),
    ("mongosh", "mongo"),
    ("rabbitmq-diagnostics", "rabbitmq"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_docker_refuses_are_found() {
        for good in [
            "postgres:17",
            "pgvector/pgvector:pg17",
            "docker.elastic.co/elasticsearch/elasticsearch:8.15.3",
            "Registry.Example.com:5000/team/app_v2:1.0-rc.1",
            "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(reference_problem(good), None, "{good}");
        }
        for (bad, says) in [
            ("MyApp:1", "capitals"),
            ("team/My-App", "capitals"),
            ("my app:1", "no spaces"),
            ("app:-1", "not a tag"),
            ("app:", "not a tag"),
            ("app@sha256:xyz", "not a digest"),
            ("team//app", "not a path component"),
        ] {
            let problem = reference_problem(bad).unwrap_or_default();
            assert!(problem.contains(says), "{bad}: {problem}");
        }
    }

    #[test]
    fn strips_registry_library_and_tag() {
        let r = ImageRef::parse("docker.elastic.co/elasticsearch/elasticsearch:8.15.3");
        assert_eq!(r.repository, "elasticsearch/elasticsearch");
        assert_eq!(r.tag, Some("8.15.3"));
        assert_eq!(
            ImageRef::parse("docker.io/library/postgres:17").repository,
            "postgres"
        );
        let local = ImageRef::parse("localhost:5000/app");
        assert_eq!((local.repository, local.tag), ("app", None));
        assert_eq!(ImageRef::parse("redis@sha256:abc").tag, None);
    }

    #[test]
    fn alpine_tags_lose_bash() {
        let image = ImageRef::parse("memcached:1.6-alpine");
        let facts = lookup(&image).unwrap();
        assert!(!facts.tools_for(&image).contains(&"bash"));
        assert!(
            facts
                .tools_for(&ImageRef::parse("memcached:1.6"))
                .contains(&"bash")
        );
    }

    #[test]
    fn the_first_variant_a_tag_names_decides() {
        let tools = |reference: &str| {
            let image = ImageRef::parse(reference);
            lookup(&image).unwrap().tools_for(&image)
        };
        assert!(tools("nginx:1.27").contains(&"curl"));
        assert!(tools("nginx:1.27-alpine").contains(&"curl"));
        assert!(!tools("nginx:1.27-alpine-slim").contains(&"curl"));
        assert!(tools("node:22").contains(&"curl"));
        assert_eq!(
            tools("node:22-bookworm-slim"),
            ["sh", "bash", "grep", "node"]
        );
        assert_eq!(tools("node:20-alpine"), ["sh", "grep", "wget", "node"]);
    }

    #[test]
    fn a_family_is_found_by_prefix_first_row_first() {
        let row = |reference: &str| lookup(&ImageRef::parse(reference)).map(|f| f.tools);
        assert_eq!(
            row("gcr.io/distroless/static-debian12:nonroot"),
            Some(&[][..])
        );
        assert_eq!(
            row("gcr.io/distroless/python3-debian12"),
            Some(&["python"][..])
        );
        assert_eq!(row("distrolessly/app"), None);
    }

    #[test]
    fn a_health_switch_is_on_by_env_or_flag() {
        let switch = HealthSwitch {
            env: "TRAEFIK_PING",
            flag: "--ping",
        };
        let no_env = |_: &str| None;
        assert!(!switch.is_on(no_env, &["traefik", "--api"]));
        assert!(switch.is_on(no_env, &["traefik", "--ping"]));
        assert!(switch.is_on(no_env, &["--ping=true"]));
        assert!(!switch.is_on(no_env, &["--ping=false"]));
        assert!(switch.is_on(|k| (k == "TRAEFIK_PING").then_some("TRUE"), &[]));
        assert!(!switch.is_on(|k| (k == "TRAEFIK_PING").then_some("false"), &[]));
    }

    #[test]
    fn every_client_is_a_program_of_its_engines_image() {
        for (client, engine) in ENGINE_CLIENTS {
            let facts = for_engine(engine).unwrap_or_else(|| panic!("no row for {engine}"));
            assert!(facts.tools.contains(client), "{engine}'s image lacks {client}");
        }
    }

    #[test]
    fn authentication_follows_the_tag_the_default_and_the_switches() {
        let es = ELASTICSEARCH_ACCESS.auth.as_ref().unwrap();
        let said = |env: &[(&'static str, &'static str)], env_file: bool| Said {
            env: env.to_vec(),
            words: Vec::new(),
            env_file,
        };
        let state = |said: &Said, tag| es.state(said, ELASTICSEARCH_ACCESS.files, tag);
        let nothing = said(&[], false);
        assert_eq!(state(&nothing, Some("8.15.3")), AuthState::On);
        assert_eq!(state(&nothing, Some("latest")), AuthState::On);
        assert_eq!(state(&nothing, Some("7.17.25")), AuthState::Off(None));
        let on = said(&[("xpack.security.enabled", "true")], false);
        assert_eq!(state(&on, Some("7.17.25")), AuthState::On);
        // Compose reads the variable at its default when the environment has none.
        let off = said(
            &[("xpack.security.enabled", "${ES_SECURITY:-false}")],
            false,
        );
        assert!(matches!(
            state(&off, Some("8.15.3")),
            AuthState::Off(Some(_))
        ));
        let unknown = said(&[("xpack.security.enabled", "${ES_SECURITY}")], false);
        assert_eq!(state(&unknown, Some("8.15.3")), AuthState::Unknown);

        let redis = REDIS_ACCESS.auth.as_ref().unwrap();
        let words = |words: &[&'static str]| Said {
            words: words.to_vec(),
            ..Said::default()
        };
        let redis_state = |said: &Said| redis.state(said, REDIS_ACCESS.files, Some("7.4"));
        assert_eq!(redis_state(&words(&["redis-server"])), AuthState::Off(None));
        assert_eq!(
            redis_state(&words(&["redis-server", "--requirepass=x"])),
            AuthState::On
        );
        assert_eq!(
            redis_state(&words(&["redis-server", "/etc/redis.conf"])),
            AuthState::Unknown
        );

        // A password from a secret's file counts; one only an env_file may hold is unknown.
        let mongo = MONGO_ACCESS.auth.as_ref().unwrap();
        let user = ("MONGO_INITDB_ROOT_USERNAME", "root");
        let from_file = said(
            &[user, ("MONGO_INITDB_ROOT_PASSWORD_FILE", "/run/secrets/m")],
            false,
        );
        assert_eq!(
            mongo.state(&from_file, MONGO_ACCESS.files, None),
            AuthState::On
        );
        let env_file = said(&[user], true);
        assert_eq!(
            mongo.state(&env_file, MONGO_ACCESS.files, None),
            AuthState::Unknown
        );
        assert_eq!(
            mongo.state(&said(&[user], false), MONGO_ACCESS.files, None),
            AuthState::Off(None)
        );
    }

    #[test]
    fn every_engine_has_one_default_image_that_maps_back_to_it() {
        for facts in IMAGES.iter().filter(|f| f.default_image.is_some()) {
            let image = ImageRef::parse(facts.default_image.unwrap());
            assert_eq!(lookup(&image).unwrap().engine, facts.engine, "{image:?}");
        }
    }
}
