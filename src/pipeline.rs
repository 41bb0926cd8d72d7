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
}

impl Session {
    pub fn render_diagnostics(&self) -> String {
        self.sources.render(self.diagnostics.as_slice())
    }

    /// Whether `d` is a warning of a lint the team allows.
    pub fn allows(&self, d: &Diagnostic) -> bool {
        d.lint.is_some_and(|lint| self.allowed.contains(&lint))
    }

    /// Drops the warnings of allowed lints, before they are shown or counted.
    pub fn drop_allowed(&mut self) {
        let allowed = &self.allowed;
        self.diagnostics
            .retain(|d| d.lint.is_none_or(|lint| !allowed.contains(&lint)));
    }
}

/// Load, resolve, render and validate. `Err(Error::Invalid)` when any stage found errors.
pub fn stack(inputs: &Inputs, session: &mut Session) -> Result<Stack, Error> {
    session.allowed.extend(inputs.allow.iter().cloned());
    let Session {
        sources,
        diagnostics,
        ..
    } = session;
    let catalogue = Catalogue::load(&inputs.catalogue, sources, diagnostics)
        .map_err(Error::io("read the catalogue", &inputs.catalogue))?;
    let profiles = Profiles::load(Some(&inputs.profiles_dir), sources, diagnostics)?;
    let kinds = Kinds::built_in().with_user_templates(&inputs.templates_dir)?;
    if let Some(d) = crate::schema::stale_warning(&inputs.catalogue, &kinds) {
        diagnostics.push(d);
    }
    let mut stack = build(
        catalogue,
        &profiles,
        &kinds,
        inputs.profile.as_deref(),
        inputs.provenance,
        session,
    )?;
    stack.project.requires = stack.project.requires.or(inputs.requires);
    crate::fit::fit(&mut stack, inputs.target, &mut session.diagnostics);
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    Ok(stack)
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
    let Some(catalogue) = catalogue else {
        return Err(Error::Invalid);
    };
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
            return Err(Error::Invalid);
        }
    };
    resolve::check_references(&catalogue, profiles, kinds, diagnostics);
    // A key dropped as wrong (reported by load) would come back from the later stages as
    // follow-on errors: a service without its `image`, a dependency on a service without its
    // `kind`. Those names above need no dropped key to be judged.
    if !catalogue.complete || !profiles.complete() {
        return Err(Error::Invalid);
    }
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
    let stack = validate::validate(rendered, sources, diagnostics);
    if diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    Ok(stack)
}
