//! The lock file, `muster.lock` beside the catalogue: what `muster images` read from the images a
//! stack runs, each by its ID, so that the probe is chosen from what an image holds rather than
//! from what muster remembers of its name. A team commits it.
//!
//! The pipeline reads it at load time (`pipeline::stack`) and hands it to resolve with the
//! catalogue; resolve takes an entry's facts over the image table (`resolve`), and `muster check`
//! compares each entry's ID with the image the engine holds now (`commands/check.rs`).
//!
//! The format is TOML, written only by muster (`render`), in one order (references and service
//! names sorted, keys in the order of [`Entry`]), so that the same images give the same bytes:
//!
//! ```toml
//! version = 1
//!
//! [images."node:20-alpine"]           # an image the catalogue names, by its reference
//! id = "sha256:…"                      # the image's ID: the digest of its configuration
//! repo_digests = ["node@sha256:…"]     # where it was pulled from; none for a local build
//! platform = "linux/amd64"
//! user = "node"
//! entrypoint = ["docker-entrypoint.sh"]
//! cmd = ["node"]
//! exposed = [3000]                     # EXPOSE, TCP ports
//! programs = ["busybox", "node", "sh", "wget"]
//!
//! [builds.api]                         # a service's own build (`build` without `image`)
//! image = "shop-api"                   # the name Compose gave it: PROJECT-SERVICE
//! id = "sha256:…"
//! …
//! ```

use crate::diagnostic::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::images::{ImageHealthcheck, ProbeFacts, Programs, Tools};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The lock file's name, in the catalogue's folder.
pub const FILE_NAME: &str = "muster.lock";

/// The format this muster reads and writes.
pub const VERSION: u32 = 1;

/// The lock file of the catalogue at `catalogue`.
pub fn beside(catalogue: &Path) -> PathBuf {
    catalogue
        .parent()
        .map(|dir| dir.join(FILE_NAME))
        .unwrap_or_else(|| PathBuf::from(FILE_NAME))
}

/// What `muster images` found in one image. Field order is the file's key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// For a build: the name Compose gave the image it built (`PROJECT-SERVICE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image ID (`docker image inspect`'s `Id`), which changes whenever the image does.
    pub id: String,
    /// The registry digests the engine has for it; none for an image built here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// `os/architecture[/variant]`.
    pub platform: String,
    /// `USER`, when the image sets one: probes run as it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// `SHELL`, when the image sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// The TCP ports it declares (`EXPOSE`), ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed: Vec<u16>,
    /// Its own `HEALTHCHECK` test, as the image declares it (`["NONE"]` when it turns one off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
    /// The programs of [`crate::images::probe_programs`] on its `PATH`, sorted: every program
    /// muster may probe with, found or not; no other.
    pub programs: Vec<String>,
}

impl Entry {
    /// The facts resolve chooses a probe from; a program muster does not look for is the reason
    /// the entry cannot be read.
    fn facts(&self) -> Result<ProbeFacts, String> {
        let programs = self
            .programs
            .iter()
            .map(|p| {
                crate::images::probe_program(p)
                    .ok_or_else(|| format!("`{p}` is not a program muster looks for in an image"))
            })
            .collect::<Result<Vec<&'static str>, String>>()?;
        let healthcheck = match self.healthcheck.as_deref() {
            None | Some([]) => ImageHealthcheck::Off,
            Some([none]) if none == "NONE" => ImageHealthcheck::Off,
            Some(_) => ImageHealthcheck::Declared,
        };
        Ok(ProbeFacts {
            programs: Programs::Exactly(Tools::Owned(programs)),
            user: self.user.clone().filter(|u| !u.is_empty()),
            shell: self.shell.clone(),
            exposed: self.exposed.clone(),
            healthcheck,
        })
    }
}

/// The file as written: one table of images by reference, one of builds by service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: Spanned<u32>,
    #[serde(default)]
    images: IndexMap<String, Spanned<Entry>>,
    #[serde(default)]
    builds: IndexMap<String, Spanned<Entry>>,
}

/// One entry as read: what it says, where, and the facts it gives.
#[derive(Debug, Clone)]
pub struct Locked {
    pub entry: Entry,
    /// The entry's table in the lock file.
    pub span: Range<usize>,
    pub facts: ProbeFacts,
}

/// The lock file, read.
#[derive(Debug, Clone)]
pub struct Lock {
    pub path: PathBuf,
    pub source: SourceId,
    /// By the reference the catalogue's `image` names.
    pub images: IndexMap<String, Locked>,
    /// By the name of a service with a `build` and no `image`.
    pub builds: IndexMap<String, Locked>,
}

impl Lock {
    /// Reads the lock file at `path`, if there is one. What is wrong with it is reported to
    /// `diagnostics` as errors at its lines, and `None` returned: a lock muster cannot read in
    /// full must not half-decide the probes.
    pub fn load(
        path: &Path,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> std::io::Result<Option<Lock>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Self::parse(path, text, sources, diagnostics))
    }

    /// Parses the text of the lock file at `path`, as [`Lock::load`] does after reading it.
    pub fn parse(
        path: &Path,
        text: String,
        sources: &mut Sources,
        diagnostics: &mut Diagnostics,
    ) -> Option<Lock> {
        let source = sources.add(path.display().to_string(), text);
        let collected = crate::collect::parse::<LockFile>(
            sources.text(source),
            source,
            "lock file",
            diagnostics,
        )?;
        // A key dropped as wrong was reported; the rest is still read, for its errors too.
        let incomplete = !collected.dropped.is_empty();
        let file = collected.value;
        if *file.version.get_ref() != VERSION {
            diagnostics.push(
                Diagnostic::error(format!(
                    "{FILE_NAME} is of version {}, and this muster reads version {VERSION}",
                    file.version.get_ref()
                ))
                .at(source, Some(file.version.span()), "this version")
                .with_note("run `muster images` to write it again"),
            );
            return None;
        }
        let mut unreadable = false;
        let mut read = |table: IndexMap<String, Spanned<Entry>>| -> IndexMap<String, Locked> {
            table
                .into_iter()
                .filter_map(|(key, entry)| {
                    let span = entry.span();
                    let entry = entry.into_inner();
                    match entry.facts() {
                        Ok(facts) => Some((key, Locked { entry, span, facts })),
                        Err(why) => {
                            unreadable = true;
                            diagnostics.push(
                                Diagnostic::error(format!("{FILE_NAME}: {why}"))
                                    .at(source, Some(span), "in this entry")
                                    .with_note("run `muster images` to write it again"),
                            );
                            None
                        }
                    }
                })
                .collect()
        };
        let images = read(file.images);
        let builds = read(file.builds);
        (!unreadable && !incomplete).then(|| Lock {
            path: path.to_owned(),
            source,
            images,
            builds,
        })
    }

    /// The entry for a service: by its `image`, or, for a `build` without one, by its name.
    pub fn entry_for(&self, service: &str, image: Option<&str>) -> Option<&Locked> {
        match image {
            Some(reference) => self.images.get(reference),
            None => self.builds.get(service),
        }
    }
}

/// The lock file's text for these entries: a header that says what it is, then the entries in
/// sorted order.
pub fn render(images: &BTreeMap<String, Entry>, builds: &BTreeMap<String, Entry>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        version: u32,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        images: &'a BTreeMap<String, Entry>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        builds: &'a BTreeMap<String, Entry>,
    }
    let body = toml::to_string(&Out {
        version: VERSION,
        images,
        builds,
    })
    .expect("the lock's entries are TOML");
    format!(
        "# What `muster images` read from the images this stack runs, by image ID. Commit it:\n\
         # `muster gen` and `muster check` take these facts over muster's own table, and\n\
         # `muster check` says when the engine holds another image under a reference.\n\
         # Written by muster; run `muster images` again rather than editing it.\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(programs: &[&str]) -> Entry {
        Entry {
            image: None,
            id: "sha256:0123".to_owned(),
            repo_digests: Vec::new(),
            platform: "linux/amd64".to_owned(),
            user: Some("node".to_owned()),
            entrypoint: vec!["docker-entrypoint.sh".to_owned()],
            cmd: vec!["node".to_owned()],
            shell: None,
            exposed: vec![3000],
            healthcheck: None,
            programs: programs.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    fn parse(text: &str) -> (Option<Lock>, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let lock = Lock::parse(
            Path::new("muster.lock"),
            text.to_owned(),
            &mut Sources::default(),
            &mut diagnostics,
        );
        (lock, diagnostics)
    }

    #[test]
    fn what_render_writes_reads_back_as_the_same_facts() {
        let images =
            BTreeMap::from([("node:20-alpine".to_owned(), entry(&["node", "sh", "wget"]))]);
        let mut api = entry(&[]);
        api.image = Some("shop-api".to_owned());
        api.healthcheck = Some(vec!["NONE".to_owned()]);
        let builds = BTreeMap::from([("api".to_owned(), api.clone())]);
        let text = render(&images, &builds);
        let (lock, diagnostics) = parse(&text);
        assert!(!diagnostics.has_errors(), "{diagnostics:?}\n{text}");
        let lock = lock.unwrap();
        let node = &lock.entry_for("web", Some("node:20-alpine")).unwrap().facts;
        assert_eq!(
            node.programs.exactly().unwrap().as_ref(),
            ["node", "sh", "wget"]
        );
        assert_eq!(node.user.as_deref(), Some("node"));
        assert_eq!(node.exposed, [3000]);
        let built = lock.entry_for("api", None).unwrap();
        assert_eq!(built.entry, api);
        assert!(built.facts.programs.exactly().unwrap().is_empty());
        assert_eq!(built.facts.healthcheck, ImageHealthcheck::Off);
        assert!(lock.entry_for("web", None).is_none());
        // The same entries, the same bytes.
        assert_eq!(render(&images, &builds), text);
    }

    #[test]
    fn an_unreadable_lock_is_an_error_at_its_line_and_decides_nothing() {
        let (lock, d) = parse("version = 2\n");
        assert!(lock.is_none() && d.has_errors());
        let text = render(
            &BTreeMap::from([("x:1".to_owned(), entry(&["sh", "telnet"]))]),
            &BTreeMap::new(),
        );
        let (lock, d) = parse(&text);
        assert!(lock.is_none());
        assert!(format!("{d:?}").contains("`telnet` is not a program muster looks for"));
        let (lock, d) = parse("version = 1\n[images.\"x:1\"]\nid = \"sha256:1\"\n");
        assert!(lock.is_none() && d.has_errors(), "missing keys are refused");
    }
}
