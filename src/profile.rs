//! Profiles: the service keys a deployment varies (restart policy, healthcheck timing, logging,
//! per-kind settings), as TOML data. `dev` and `prod` are built in; a user's `profiles/NAME.toml`
//! overrides a built-in of the same name or adds a profile. `extends` layers one profile on another.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::spec::ServiceSpec;
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

static BUILT_IN: &[(&str, &str)] = &[
    ("dev", include_str!("../profiles/dev.toml")),
    ("prod", include_str!("../profiles/prod.toml")),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub description: Option<String>,
    pub extends: Option<Spanned<String>>,
    /// Restart containers that turn unhealthy, which Docker does only under Swarm: labels every
    /// service that has a healthcheck and adds a `willfarrell/autoheal` service (compose target).
    pub autoheal: Option<bool>,
    /// The profile runs the stack in production: `check`'s production lints (restart, pinned
    /// images, plain secrets, autoheal, ...) apply. The built-in `prod` sets it, so every
    /// profile that extends it does too, unless it says `production = false`.
    pub production: Option<bool>,
    /// Keys applied to every service.
    #[serde(default)]
    pub defaults: ServiceSpec,
    /// Keys applied to every service of one kind, over `defaults`.
    #[serde(default)]
    pub kinds: IndexMap<Spanned<String>, ServiceSpec>,
    /// Healthcheck timings of one service, measured by `muster tune`: over the catalogue's
    /// entry, as a measurement beats a guess.
    #[serde(default)]
    pub services: IndexMap<Spanned<String>, MeasuredTiming>,
    /// The figures behind `services`, as `muster tune --write` recorded them.
    pub measured: Option<Measured>,
}

/// `[services.NAME]` of a profile: only `healthcheck`, the keys `muster tune` measures.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredTiming {
    pub healthcheck: crate::spec::HealthcheckSpec,
    /// The same, as a layer the resolve stage stacks (filled when the profile is read).
    #[serde(skip)]
    pub layer: ServiceSpec,
}

/// What `muster tune` measured, and when.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Measured {
    /// The day of the measurement, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The profile the stack ran under while measured.
    pub profile: String,
    pub runs: u32,
    /// How each proposal follows from the figures.
    pub margin: String,
    /// Each run's time from the first container's creation to every service ready.
    #[serde(default)]
    pub ready_in: Vec<String>,
    #[serde(default)]
    pub services: IndexMap<String, Figures>,
}

/// One service's measured figures.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Each run's time from the container's start to its first passing probe.
    pub ready: Vec<String>,
    /// The slowest probe of all runs.
    pub slowest_probe: String,
    /// The most probes that failed before the first pass, in one run.
    pub failures_before_ready: u32,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub source: SourceId,
    pub file: ProfileFile,
}

/// Every profile a catalogue can name, loaded and syntax-checked but not yet chained.
#[derive(Debug, Default)]
pub struct Profiles {
    profiles: IndexMap<String, Profile>,
}

impl Profiles {
    /// The built-ins, then `dir/*.toml` over them. A file that does not parse is reported and
    /// left out; a missing folder adds nothing.
    pub fn load(
        dir: Option<&Path>,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> Result<Self, crate::error::Error> {
        use crate::error::Error;
        let mut profiles = Profiles::default();
        for (name, text) in BUILT_IN {
            let source = sources.add(format!("<built-in>/profiles/{name}.toml"), *text);
            profiles.insert(name, source, text, diagnostics);
        }
        let Some(dir) = dir else {
            return Ok(profiles);
        };
        let files = crate::user_files::named_files(dir, ".toml")
            .map_err(Error::io("read the profiles folder", dir))?;
        for (name, path) in files {
            let text =
                std::fs::read_to_string(&path).map_err(Error::io("read the profile", &path))?;
            profiles.add_text(&name, &path, text, sources, diagnostics);
        }
        Ok(profiles)
    }

    /// Adds the profile `name` read from `path` (its text already read: the fuzzer has no
    /// files), over a built-in of the same name.
    pub fn add_text(
        &mut self,
        name: &str,
        path: &Path,
        text: String,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) {
        let source = sources.add(path.display().to_string(), text);
        self.insert(name, source, sources.text(source), diagnostics);
    }

    /// Every `build` a profile's `[defaults]` or `[kinds.KIND]` writes.
    pub fn builds(&self) -> impl Iterator<Item = &crate::spec::Build> {
        self.profiles.values().flat_map(|p| {
            std::iter::once(&p.file.defaults)
                .chain(p.file.kinds.values())
                .filter_map(|spec| spec.build.as_ref().map(toml::Spanned::get_ref))
        })
    }

    fn insert(&mut self, name: &str, source: SourceId, text: &str, diagnostics: &mut Diagnostics) {
        match crate::collect::parse::<ProfileFile>(text, source, "profile", diagnostics) {
            // A key dropped as wrong (reported) is left out: the profile applies without it.
            Some(collected) => {
                let mut file = collected.value;
                for timing in file.services.values_mut() {
                    timing.layer.healthcheck = Some(timing.healthcheck.clone());
                }
                for spec in std::iter::once(&file.defaults).chain(file.kinds.values()) {
                    crate::spec::check::check_layer_keys(spec, "a profile", source, diagnostics);
                }
                crate::spec::check::check_layer(&file.defaults, source, diagnostics);
                for spec in file.kinds.values() {
                    crate::spec::check::check_layer(spec, source, diagnostics);
                }
                for timing in file.services.values() {
                    crate::spec::check::check_layer(&timing.layer, source, diagnostics);
                }
                self.profiles.insert(
                    name.to_owned(),
                    Profile {
                        name: name.to_owned(),
                        source,
                        file,
                    },
                );
            }
            None => {
                // Keep the name known, so that a catalogue naming it gets no second,
                // misleading "unknown profile" error.
                self.profiles.insert(
                    name.to_owned(),
                    Profile {
                        name: name.to_owned(),
                        source,
                        file: ProfileFile::default(),
                    },
                );
            }
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile and the ones it extends, base first, so later entries override earlier ones.
    pub fn chain(&self, name: &str) -> Result<Vec<&Profile>, Diagnostic> {
        let mut chain: Vec<&Profile> = Vec::new();
        let mut current = name;
        let mut asked_by: Option<(SourceId, &Spanned<String>)> = None;
        loop {
            let Some(profile) = self.profiles.get(current) else {
                let known: Vec<&str> = self.names().collect();
                let mut d = Diagnostic::error(format!("unknown profile `{current}`"))
                    .with_note(format!("known profiles: {}", known.join(", ")));
                if let Some(hint) = crate::suggest::did_you_mean(current, known.iter().copied()) {
                    d = d.with_note(hint);
                }
                if let Some((source, extends)) = asked_by {
                    d = d.at(source, Some(extends.span()), "extends this profile");
                }
                return Err(d);
            };
            if chain.iter().any(|p| p.name == profile.name) {
                let names: Vec<&str> = chain.iter().map(|p| p.name.as_str()).collect();
                let (source, extends) = asked_by.expect("a repeat is only reached through extends");
                return Err(Diagnostic::error(format!(
                    "profile `{}` extends itself through {} -> {}",
                    profile.name,
                    names.join(" -> "),
                    profile.name
                ))
                .at(source, Some(extends.span()), "this closes the cycle"));
            }
            chain.push(profile);
            match &profile.file.extends {
                Some(parent) => {
                    asked_by = Some((profile.source, parent));
                    current = parent.get_ref();
                }
                None => break,
            }
        }
        chain.reverse();
        Ok(chain)
    }
}
