//! A `build`'s image, as its Dockerfile says it will be (`crate::dockerfile`), and the warnings
//! about what muster then assumes: a client it cannot see, a health path nobody named, a job
//! that runs the app's server.

use crate::diagnostic::{Diagnostic, SourceId};
use crate::dockerfile::{self, Followed, Found, Location};
use crate::images::ProbeFacts;
use crate::spec::Build;
use std::collections::HashMap;
use toml::Spanned;

/// Each build's Dockerfile followed once: services built from one context share it.
#[derive(Default)]
pub(super) struct Builds {
    followed: HashMap<Build, Result<Followed, String>>,
}

impl Builds {
    /// What `build` makes, or why the builder would refuse what muster read (an error at the
    /// `build`); a Dockerfile muster cannot read is a warning, the image's programs unknown.
    pub(super) fn follow(
        &mut self,
        build: &Build,
        dockerfiles: &dockerfile::Dockerfiles,
    ) -> Result<Followed, String> {
        if let Some(followed) = self.followed.get(build) {
            return followed.clone();
        }
        let followed = follow(build, dockerfiles);
        self.followed.insert(build.clone(), followed.clone());
        followed
    }
}

fn follow(build: &Build, dockerfiles: &dockerfile::Dockerfiles) -> Result<Followed, String> {
    let location = dockerfile::location(build);
    let text = match &location {
        Location::Inline => build.dockerfile_inline.as_deref().unwrap_or_default(),
        Location::File(path) => match dockerfiles.get(path) {
            Found::Text(text) => text,
            // Not an error: Compose writes and loads the file without reading the Dockerfile,
            // and a build context is often absent where the file is generated (CI, another
            // host). Whether it is there where the stack runs is the host's check
            // (`check --env-file`, `up`), which refuses it before Compose builds.
            Found::Unreadable { error } => {
                return Ok(unknown(&format!(
                    "its Dockerfile `{}` cannot be read here ({error})",
                    path.display()
                )));
            }
            Found::NotRead => return Ok(unknown("muster did not read its Dockerfile")),
        },
        Location::Remote(context) => {
            return Ok(unknown(&format!(
                "its build context `{context}` is remote, and muster does not fetch it"
            )));
        }
        Location::FromEnvironment(text) => {
            return Ok(unknown(&format!(
                "where its Dockerfile is comes from the environment (`{text}`)"
            )));
        }
    };
    // Compose fills `args` from the environment when it loads the file: a value with a default
    // is read at it, one without is the environment's to say.
    let args: Vec<(&str, Option<String>)> = build
        .args
        .iter()
        .flatten()
        .map(|(name, value)| {
            let value = crate::model::interpolation::with_defaults(&value.0)
                .ok()
                .flatten();
            (name.as_str(), value)
        })
        .collect();
    let args: Vec<(&str, Option<&str>)> = args.iter().map(|(n, v)| (*n, v.as_deref())).collect();
    dockerfile::follow(text, build.target.as_deref(), &args).map_err(|refused| refused.0)
}

fn unknown(reason: &str) -> Followed {
    Followed {
        facts: ProbeFacts::cannot_tell(reason),
        base_row: None,
        base: None,
        env: Vec::new(),
        sets_command: false,
    }
}

/// What the catalogue calls the build, for messages: its context, or its inline Dockerfile.
fn described(build: &Build) -> String {
    if build.dockerfile_inline.is_some() {
        "its `dockerfile_inline`".to_owned()
    } else {
        format!("`{}`", build.context)
    }
}

/// `probe = "auto"` for a build whose programs muster cannot tell falls back to python, as for
/// an image it does not know (`super::unknown_image_warning`), and says why it cannot tell.
pub(super) fn cannot_tell_warning(
    name: &str,
    build: &Spanned<Build>,
    source: SourceId,
    why: &str,
    health_path_set: bool,
) -> Diagnostic {
    let mut d = Diagnostic::warning(format!(
        "service `{name}`: muster cannot tell which programs the image built from {} has: {why}; \
         its probe assumes python (`python -c \"urllib.request...\"`)",
        described(build.get_ref())
    ))
    .with_lint(crate::model::Lint::UnknownImage)
    .at(source, Some(build.span()), "built from this")
    .with_note(
        "set `probe` to a client the image has: \"curl\", \"wget\" (busybox, in alpine images), \
         \"python\" or \"bash-tcp\" (bash's /dev/tcp); setting `probe` silences this warning",
    );
    if !health_path_set {
        d = d.with_note(format!(
            "and `health_path` unless the app serves `{}`",
            crate::kinds::DEFAULT_HEALTH_PATH
        ));
    }
    d.with_note(
        "an image with none of them (distroless, scratch) needs `healthcheck.test` in exec form, \
         such as [\"CMD\", \"/app/healthcheck\"], with a binary the app ships",
    )
}

/// An HTTP probe of the app's own code on a path nobody named.
pub(super) fn health_path_assumed(
    name: &str,
    at: (SourceId, std::ops::Range<usize>),
) -> Diagnostic {
    Diagnostic::warning(format!(
        "service `{name}`: no `health_path`, so its probe asks for `{}`, muster's default",
        crate::kinds::DEFAULT_HEALTH_PATH
    ))
    .with_lint(crate::model::Lint::HealthPathAssumed)
    .at(at.0, Some(at.1), "this runs your code")
    .with_note(
        "set `health_path` to a path your app answers with 2xx (`ready_path` too, if readiness \
         differs); an app that does not serve it never turns healthy",
    )
}

/// A job that runs whatever its image's CMD is.
pub(super) fn job_without_command(
    name: &str,
    build: &Spanned<Build>,
    source: SourceId,
    followed: Option<&Followed>,
) -> Diagnostic {
    let cmd = match followed {
        Some(f) if f.sets_command => "the CMD its Dockerfile sets",
        _ => "its base image's CMD",
    };
    Diagnostic::warning(format!(
        "service `{name}` is a job with no `command`: it runs {cmd}, usually the app's server, \
         which never exits, so whatever waits for it to complete never starts"
    ))
    .with_lint(crate::model::Lint::JobWithoutCommand)
    .at(source, Some(build.span()), "built from this")
    .with_note(
        "set `command` to the task (`command = \"python manage.py migrate --noinput\"`); if the \
         image's CMD is the task, allow the lint",
    )
}
