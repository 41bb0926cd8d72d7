//! The stages run in order, from a catalogue path to a validated stack. Each stage reports what
//! it finds to the session's diagnostics and hands its own output type to the next, so that one
//! run reports every error it can find.

use crate::catalogue::Catalogue;
use crate::config::Inputs;
use crate::diagnostic::{Diagnostic, Diagnostics, Sources};
use crate::error::Error;
use crate::kinds::Kinds;
use crate::model::Lint;
use crate::profile::Profiles;
use crate::render::Renderer;
use crate::resolve;
use crate::validate::{self, Stack};

/// The errors one run shows at most, as one file's shape errors are bounded when it is read.
pub const MAX_ERRORS: usize = 50;

/// What a run read and what it found wrong, kept to print diagnostics at the end.
#[derive(Default)]
pub struct Session {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
    /// A closing line for stderr, after the diagnostics (`muster check`'s verdict).
    pub summary: Option<String>,
    /// The lints the catalogue and the command line allow.
    pub allowed: Vec<Lint>,
    /// The diagnostics went to stdout in a machine format (`check --format json`), so they are
    /// not drawn on stderr too.
    pub machine_output: bool,
    /// Diagnostics on stderr are coloured: for a command that draws one before it ends (`up`
    /// names a failed service at once).
    pub colored: bool,
}

impl Session {
    #[cfg(feature = "internals")]
    pub fn render_diagnostics(&self) -> String {
        self.sources.render(self.diagnostics.as_slice())
    }

    /// Whether `d` is a warning of a lint the team allows.
    pub fn allows(&self, d: &Diagnostic) -> bool {
        d.lint.is_some_and(|lint| self.allowed.contains(&lint))
    }

    /// Puts the diagnostics in the order of the files and lines they point at, and keeps the
    /// first [`MAX_ERRORS`] errors: past that many, the rest are most likely one mistake
    /// repeated, and the first ones are the ones to fix.
    pub fn order_diagnostics(&mut self) {
        // A span's start orders as its line and column do, without counting lines.
        self.diagnostics
            .sort_by_position(|d| d.labels.first().map(|l| (l.source, l.span.start)));
        self.diagnostics.bound_errors(MAX_ERRORS);
    }

    /// Drops the warnings of allowed lints, before they are shown or counted.
    pub fn drop_allowed(&mut self) {
        let allowed = &self.allowed;
        self.diagnostics
            .retain(|d| d.lint.is_none_or(|lint| !allowed.contains(&lint)));
    }
}

/// Load, resolve, render and validate, and fit for the target. `Err(Error::Invalid)` when any
/// stage found errors; every stage runs on what the earlier ones could make of the input, so
/// that one run reports every error (see [`build`]).
pub fn stack(inputs: &Inputs, session: &mut Session) -> Result<Stack, Error> {
    stack_reading(inputs, ReadLock::Yes, session)
}

/// [`stack`] without the lock file, for `muster images`, which writes it: the images it reads
/// replace the lock's facts, and a lock muster cannot read must not stop it writing a new one.
pub fn stack_without_lock(inputs: &Inputs, session: &mut Session) -> Result<Stack, Error> {
    stack_reading(inputs, ReadLock::No, session)
}

#[derive(PartialEq)]
enum ReadLock {
    Yes,
    No,
}

fn stack_reading(
    inputs: &Inputs,
    read_lock: ReadLock,
    session: &mut Session,
) -> Result<Stack, Error> {
    session.allowed.extend(inputs.allow.iter().cloned());
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let mut catalogue = Catalogue::load(&inputs.catalogue, sources, diagnostics)
        .map_err(Error::io("read the catalogue", &inputs.catalogue))?;
    // What `muster images` read from the images, beside the catalogue; resolve reads it with it.
    if read_lock == ReadLock::Yes {
        let lock_path = crate::lock::beside(&inputs.catalogue);
        let lock = crate::lock::Lock::load(&lock_path, sources, diagnostics)
            .map_err(Error::io("read the lock file", &lock_path))?;
        if let Some(catalogue) = &mut catalogue {
            catalogue.lock = lock;
        }
    }
    let profiles = Profiles::load(Some(&inputs.profiles_dir), sources, diagnostics)?;
    if let Some(catalogue) = &mut catalogue {
        catalogue.dockerfiles = read_dockerfiles(catalogue, &profiles);
    }
    let kinds = Kinds::built_in().with_user_templates(&inputs.templates_dir)?;
    if let Some(d) = crate::schema::stale_warning(&inputs.catalogue, &kinds) {
        diagnostics.push(d);
    }
    let stack = stages(
        catalogue,
        &profiles,
        &kinds,
        inputs.profile.as_deref(),
        inputs.provenance,
        session,
    );
    let stack = stack.map(|mut stack| {
        stack.project.requires = stack.project.requires.or(inputs.requires);
        crate::fit::fit(&mut stack, inputs.target, &mut session.diagnostics);
        stack
    });
    session.order_diagnostics();
    match stack {
        Some(stack) if !session.diagnostics.has_errors() => Ok(stack),
        _ => Err(Error::Invalid),
    }
}

/// The Dockerfiles of every build the catalogue and the profiles name, relative to the
/// catalogue's folder: part of the load stage, so that resolve reads no file.
pub fn read_dockerfiles(
    catalogue: &Catalogue,
    profiles: &Profiles,
) -> crate::dockerfile::Dockerfiles {
    let dir = catalogue
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let shared: Vec<&crate::spec::Build> = profiles.builds().collect();
    let merged = catalogue.merged_builds(&shared);
    crate::dockerfile::Dockerfiles::read(
        dir,
        catalogue
            .builds()
            .chain(shared.iter().copied())
            .chain(&merged),
    )
}

/// The stages after every input has been read: no I/O, so that tests and the fuzzer can drive
/// the whole pipeline from text. `catalogue` is `None` when it did not parse (already reported).
pub fn build(
    catalogue: Option<Catalogue>,
    profiles: &Profiles,
    kinds: &Kinds,
    profile: Option<&str>,
    provenance: resolve::Provenance,
    session: &mut Session,
) -> Result<Stack, Error> {
    let stack = stages(catalogue, profiles, kinds, profile, provenance, session);
    session.order_diagnostics();
    match stack {
        Some(stack) if !session.diagnostics.has_errors() => Ok(stack),
        _ => Err(Error::Invalid),
    }
}

/// Every stage, each on what the earlier ones made of the input, whatever they found wrong:
/// only what an earlier error makes meaningless is left out (a service whose table lost a key
/// is not resolved, and a dependency on it is no dependency on an unknown service). `None`
/// when there is nothing to run the later stages on: no catalogue, or no such profile.
fn stages(
    catalogue: Option<Catalogue>,
    profiles: &Profiles,
    kinds: &Kinds,
    profile: Option<&str>,
    provenance: resolve::Provenance,
    session: &mut Session,
) -> Option<Stack> {
    let catalogue = catalogue?;
    // An unknown name was refused where it is written.
    session.allowed.extend(
        catalogue
            .project
            .allow
            .iter()
            .flatten()
            .filter_map(|l| Lint::from_name(l.get_ref())),
    );
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    resolve::check_references(&catalogue, profiles, kinds, diagnostics);
    let profile_name = profile.map(str::to_owned).unwrap_or_else(|| {
        catalogue
            .project
            .default_profile
            .as_ref()
            .map_or_else(|| "dev".to_owned(), |p| p.get_ref().clone())
    });
    let chain = match profiles.chain(&profile_name) {
        Ok(chain) => chain,
        Err(d) => {
            diagnostics.push(d);
            return None;
        }
    };
    let renderer = Renderer::new(kinds, sources, diagnostics);
    let model = resolve::resolve(
        &catalogue,
        &resolve::Context {
            kinds,
            profiles: &chain,
            provenance,
        },
        diagnostics,
    );
    // Everything later stages need is in the model now; the parsed catalogue would otherwise
    // stay alive beside every rendered service.
    drop(catalogue);
    let rendered = renderer.render(model, sources, diagnostics);
    Some(validate::validate(rendered, sources, diagnostics))
}
