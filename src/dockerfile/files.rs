//! The Dockerfiles of the catalogue's builds, read once by the load stage (`pipeline::stack`)
//! and handed to resolve with the catalogue, so that resolve stays free of I/O: tests and the
//! fuzzer fill a [`Dockerfiles`] from text, as they give the catalogue's.
//!
//! A build's Dockerfile is where Compose and the builder look for it: `dockerfile` (default
//! `Dockerfile`) inside `context`, both relative to the catalogue's folder (the generated file
//! goes beside it: see the README's Catalogue section), an absolute `dockerfile` as it is. A
//! context that is a URL (a Git repository, a tarball) is the builder's to fetch, and a path
//! Compose fills from the environment is the environment's to say: muster reads neither.

use crate::spec::Build;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The Dockerfiles read for the builds, by where the catalogue says they are.
#[derive(Debug, Default)]
pub struct Dockerfiles {
    /// Whether the builds' contexts were read at all. A pipeline driven from text alone (a
    /// draft `import` checks, the fuzzer) has read none: its builds are unknown, not missing.
    read: bool,
    files: HashMap<PathBuf, Result<String, String>>,
}

/// Where a build's Dockerfile is, or why muster does not read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// Written in the catalogue (`dockerfile_inline`).
    Inline,
    /// A file, relative to the catalogue's folder.
    File(PathBuf),
    /// A context the builder fetches (`https://github.com/org/app.git#main`).
    Remote(String),
    /// A path Compose takes from the environment (`${APP_DIR}` with no default).
    FromEnvironment(String),
}

/// What the store holds for one build.
#[derive(Debug)]
pub(crate) enum Found<'a> {
    Text(&'a str),
    /// The file could not be read: the builder will not find it either.
    Unreadable {
        error: &'a str,
    },
    /// Nothing was read (see [`Dockerfiles`]).
    NotRead,
}

impl Dockerfiles {
    /// Reads the Dockerfile of every build in `builds`, relative to `dir` (the catalogue's
    /// folder); each file once.
    pub fn read<'a>(dir: &Path, builds: impl Iterator<Item = &'a Build>) -> Dockerfiles {
        let mut files = HashMap::new();
        for build in builds {
            if let Location::File(path) = location(build) {
                files.entry(path).or_insert_with_key(|path| {
                    std::fs::read_to_string(dir.join(path)).map_err(|e| e.to_string())
                });
            }
        }
        Dockerfiles { read: true, files }
    }

    // Only tests and the fuzz target build a store from text.
    #[cfg(any(test, feature = "internals"))]
    /// A store whose builds are read, with `text` as the Dockerfile of `build`: for a pipeline
    /// driven from text (tests, the fuzzer).
    pub fn insert(&mut self, build: &Build, text: String) {
        self.read = true;
        if let Location::File(path) = location(build) {
            self.files.insert(path, Ok(text));
        }
    }

    pub(crate) fn get(&self, path: &Path) -> Found<'_> {
        match self.files.get(path) {
            Some(Ok(text)) => Found::Text(text),
            Some(Err(error)) => Found::Unreadable { error },
            None if self.read => Found::Unreadable {
                error: "it was not read",
            },
            None => Found::NotRead,
        }
    }
}

/// Where `build`'s Dockerfile is.
pub(crate) fn location(build: &Build) -> Location {
    if build.dockerfile_inline.is_some() {
        return Location::Inline;
    }
    let defaulted = |text: &str| -> Result<String, String> {
        match crate::model::interpolation::with_defaults(text) {
            Ok(Some(value)) => Ok(value),
            _ => Err(text.to_owned()),
        }
    };
    let context = match defaulted(&build.context) {
        Ok(context) => context,
        Err(raw) => return Location::FromEnvironment(raw),
    };
    if is_remote(&context) {
        return Location::Remote(context);
    }
    let dockerfile = match build.dockerfile.as_deref().map(defaulted) {
        None => "Dockerfile".to_owned(),
        Some(Ok(dockerfile)) => dockerfile,
        Some(Err(raw)) => return Location::FromEnvironment(raw),
    };
    let dockerfile = Path::new(&dockerfile);
    Location::File(if dockerfile.is_absolute() {
        dockerfile.to_owned()
    } else {
        Path::new(&context).join(dockerfile)
    })
}

/// A context the builder fetches rather than reads from disk: a URL, or a Git address in one
/// of the forms Docker accepts (`git@host:org/repo`, `github.com/org/repo`).
fn is_remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.starts_with("github.com/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(context: &str, dockerfile: Option<&str>) -> Build {
        Build {
            context: context.to_owned(),
            dockerfile: dockerfile.map(str::to_owned),
            dockerfile_inline: None,
            target: None,
            args: None,
        }
    }

    #[test]
    fn the_dockerfile_is_found_where_compose_looks() {
        assert_eq!(
            location(&build("./web", None)),
            Location::File("./web/Dockerfile".into())
        );
        assert_eq!(
            location(&build("api", Some("docker/Dockerfile.prod"))),
            Location::File("api/docker/Dockerfile.prod".into())
        );
        assert_eq!(
            location(&build(".", Some("/srv/Dockerfile"))),
            Location::File("/srv/Dockerfile".into())
        );
        assert_eq!(
            location(&build("${APP:-./app}", None)),
            Location::File("./app/Dockerfile".into())
        );
        assert!(matches!(
            location(&build("${APP}", None)),
            Location::FromEnvironment(_)
        ));
        for remote in [
            "https://github.com/docker/welcome.git#main",
            "git@github.com:org/app.git",
            "github.com/org/app",
        ] {
            assert!(
                matches!(location(&build(remote, None)), Location::Remote(_)),
                "{remote}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_unreadable_and_an_unread_store_knows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("web")).unwrap();
        std::fs::write(dir.path().join("web/Dockerfile"), "FROM node:20-alpine\n").unwrap();
        let builds = [build("web", None), build("api", None)];
        let read = Dockerfiles::read(dir.path(), builds.iter());
        assert!(matches!(
            read.get(Path::new("web/Dockerfile")),
            Found::Text("FROM node:20-alpine\n")
        ));
        assert!(matches!(
            read.get(Path::new("api/Dockerfile")),
            Found::Unreadable { .. }
        ));
        assert!(matches!(
            Dockerfiles::default().get(Path::new("web/Dockerfile")),
            Found::NotRead
        ));
    }
}
