//! The places of a Compose file that hold a path on the host, and how Compose reads each: the
//! one table that rebasing (`emit`, for `-o` into another folder) and the host checks (`host`:
//! does each file exist) both walk.
//!
//! compose-go 2.9.1 (`loader/paths.go`, Compose 2.40.3) resolves a relative path against the
//! folder of the file it reads: `build.context` (or a `build` string),
//! `build.additional_contexts.*`, `env_file`, `label_file`, `extends.file`,
//! `develop.watch[].path`, a bind mount's source, and the top-level `secrets.*.file` and
//! `configs.*.file`. `build.dockerfile` is read relative to the context, so it moves with it and
//! is never rewritten; a context that is a URL (`https://`, `git@`, `github.com/`, ...) or a
//! builder's own reference (`docker-image://`, `service:`) is not a path. `~` is the home folder
//! of whoever runs Compose, and an absolute path is the same from anywhere: both stay as written.

use crate::yaml::{Mapping, Value as Yaml};
use std::path::{Component, Path, PathBuf};

/// What a host path is for, which decides what Compose and the engine do when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPath {
    /// `build` or `build.context`: a folder holding the Dockerfile (`dockerfile` inside it, or
    /// absolute; `None` with `dockerfile_inline`, which needs no file).
    BuildContext,
    /// `build.additional_contexts.NAME`.
    AdditionalContext,
    /// `env_file`; `required: false` lets it be missing.
    EnvFile { required: bool },
    /// `label_file`.
    LabelFile,
    /// A short-syntax bind mount's source (`./conf:/etc/x:ro`); the engine makes a missing one
    /// an empty folder.
    ShortBind,
    /// A long-syntax bind mount (`type: bind`); a missing source is refused unless
    /// `bind.create_host_path` is true.
    LongBind { create: bool },
    /// `develop.watch[].path`, read by `docker compose watch` only.
    WatchPath,
    /// `extends.file`.
    ExtendsFile,
    /// The top-level `secrets.NAME.file`.
    SecretFile,
    /// The top-level `configs.NAME.file`.
    ConfigFile,
}

impl HostPath {
    /// The key's name as the user knows it, for messages.
    pub fn what(self) -> &'static str {
        match self {
            HostPath::BuildContext => "build context",
            HostPath::AdditionalContext => "additional build context",
            HostPath::EnvFile { .. } => "env_file",
            HostPath::LabelFile => "label_file",
            HostPath::ShortBind | HostPath::LongBind { .. } => "bind mount source",
            HostPath::WatchPath => "watch path",
            HostPath::ExtendsFile => "extends file",
            HostPath::SecretFile => "secret file",
            HostPath::ConfigFile => "config file",
        }
    }
}

/// One host path of a service or a top-level section, and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: HostPath,
    /// Its key within the service or section, as the user reads it (`volumes[0]`,
    /// `build.context`, `env_file[1].path`, `db_password.file`).
    pub key: String,
    /// The path as written.
    pub path: String,
    at: Vec<Step>,
    part: Part,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Which part of the string at [`Found::at`] is the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    /// The source of a short-syntax mount, `SOURCE:TARGET[:MODE]`.
    BeforeColon,
    /// The path of a list entry `NAME=PATH`.
    AfterEquals,
    /// Not written: a build without `context` builds the file's own folder, `.`.
    Implied,
}

/// Every host path of one service's Compose keys, in the order of its keys.
pub fn in_service(body: &Mapping) -> Vec<Found> {
    let mut found = Vec::new();
    let mut add = |kind, key: String, path: &str, at: Vec<Step>, part| {
        found.push(Found {
            kind,
            key,
            path: path.to_owned(),
            at,
            part,
        });
    };
    let step = |k: &str| Step::Key(k.to_owned());
    for (key, value) in body {
        let Some(key) = key.as_str() else { continue };
        match (key, value) {
            ("build", Yaml::String(context)) if is_local_context(context) => {
                let at = vec![step("build")];
                add(
                    HostPath::BuildContext,
                    "build".into(),
                    context,
                    at,
                    Part::Whole,
                );
            }
            ("build", Yaml::Mapping(build)) => {
                match build.get("context") {
                    Some(Yaml::String(context)) => {
                        if is_local_context(context) {
                            let at = vec![step("build"), step("context")];
                            add(
                                HostPath::BuildContext,
                                "build.context".into(),
                                context,
                                at,
                                Part::Whole,
                            );
                        }
                    }
                    Some(_) => {}
                    None => {
                        let at = vec![step("build"), step("context")];
                        add(
                            HostPath::BuildContext,
                            "build.context".into(),
                            ".",
                            at,
                            Part::Implied,
                        );
                    }
                }
                match build.get("additional_contexts") {
                    Some(Yaml::Mapping(contexts)) => {
                        for (name, path) in contexts {
                            let (Some(name), Some(path)) = (name.as_str(), path.as_str()) else {
                                continue;
                            };
                            if is_local_context(path) {
                                let at =
                                    vec![step("build"), step("additional_contexts"), step(name)];
                                let key = format!("build.additional_contexts.{name}");
                                add(HostPath::AdditionalContext, key, path, at, Part::Whole);
                            }
                        }
                    }
                    Some(Yaml::Sequence(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            let Some((_, path)) = item.as_str().and_then(|e| e.split_once('='))
                            else {
                                continue;
                            };
                            if is_local_context(path) {
                                let at = vec![
                                    step("build"),
                                    step("additional_contexts"),
                                    Step::Index(i),
                                ];
                                let key = format!("build.additional_contexts[{i}]");
                                add(
                                    HostPath::AdditionalContext,
                                    key,
                                    path,
                                    at,
                                    Part::AfterEquals,
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            ("env_file", Yaml::String(path)) => {
                let kind = HostPath::EnvFile { required: true };
                add(
                    kind,
                    "env_file".into(),
                    path,
                    vec![step("env_file")],
                    Part::Whole,
                );
            }
            ("env_file", Yaml::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Yaml::String(path) => {
                            let kind = HostPath::EnvFile { required: true };
                            let at = vec![step("env_file"), Step::Index(i)];
                            add(kind, format!("env_file[{i}]"), path, at, Part::Whole);
                        }
                        Yaml::Mapping(entry) => {
                            let Some(path) = entry.get("path").and_then(Yaml::as_str) else {
                                continue;
                            };
                            let required = entry.get("required") != Some(&Yaml::Bool(false));
                            let at = vec![step("env_file"), Step::Index(i), step("path")];
                            let key = format!("env_file[{i}].path");
                            add(HostPath::EnvFile { required }, key, path, at, Part::Whole);
                        }
                        _ => {}
                    }
                }
            }
            ("label_file", Yaml::String(path)) => {
                add(
                    HostPath::LabelFile,
                    "label_file".into(),
                    path,
                    vec![step("label_file")],
                    Part::Whole,
                );
            }
            ("label_file", Yaml::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(path) = item.as_str() {
                        let at = vec![step("label_file"), Step::Index(i)];
                        add(
                            HostPath::LabelFile,
                            format!("label_file[{i}]"),
                            path,
                            at,
                            Part::Whole,
                        );
                    }
                }
            }
            ("volumes", Yaml::Sequence(mounts)) => {
                for (i, mount) in mounts.iter().enumerate() {
                    match mount {
                        // `SOURCE:TARGET[:MODE]`; one part alone is an anonymous volume's target.
                        Yaml::String(short) => {
                            if let Some((source, _)) = split_short(short)
                                && (is_host_source(source)
                                    || crate::model::interpolation::interpolates(source))
                            {
                                let at = vec![step("volumes"), Step::Index(i)];
                                let key = format!("volumes[{i}]");
                                add(HostPath::ShortBind, key, source, at, Part::BeforeColon);
                            }
                        }
                        Yaml::Mapping(long)
                            if long.get("type").and_then(Yaml::as_str) == Some("bind") =>
                        {
                            let Some(source) = long.get("source").and_then(Yaml::as_str) else {
                                continue;
                            };
                            let create = long.get("bind").and_then(|b| b.get("create_host_path"))
                                == Some(&Yaml::Bool(true));
                            let at = vec![step("volumes"), Step::Index(i), step("source")];
                            let key = format!("volumes[{i}].source");
                            add(HostPath::LongBind { create }, key, source, at, Part::Whole);
                        }
                        _ => {}
                    }
                }
            }
            ("extends", Yaml::Mapping(extends)) => {
                if let Some(file) = extends.get("file").and_then(Yaml::as_str) {
                    let at = vec![step("extends"), step("file")];
                    add(
                        HostPath::ExtendsFile,
                        "extends.file".into(),
                        file,
                        at,
                        Part::Whole,
                    );
                }
            }
            ("develop", Yaml::Mapping(develop)) => {
                let Some(Yaml::Sequence(watch)) = develop.get("watch") else {
                    continue;
                };
                for (i, rule) in watch.iter().enumerate() {
                    if let Some(path) = rule.get("path").and_then(Yaml::as_str) {
                        let at = vec![step("develop"), step("watch"), Step::Index(i), step("path")];
                        let key = format!("develop.watch[{i}].path");
                        add(HostPath::WatchPath, key, path, at, Part::Whole);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The `file` of each secret or config of a top-level section (`secrets` or `configs`: each
/// name with its settings), its key being `NAME.file`.
pub fn in_section(section: &str, declared: &Mapping) -> Vec<Found> {
    let kind = match section {
        "secrets" => HostPath::SecretFile,
        "configs" => HostPath::ConfigFile,
        _ => return Vec::new(),
    };
    declared
        .iter()
        .filter_map(|(name, spec)| {
            let name = name.as_str()?;
            let path = spec.get("file")?.as_str()?;
            Some(Found {
                kind,
                key: format!("{name}.file"),
                path: path.to_owned(),
                at: vec![Step::Key(name.to_owned()), Step::Key("file".to_owned())],
                part: Part::Whole,
            })
        })
        .collect()
}

/// Writes `new` in the place of `found`'s path, in the mapping it was found in.
pub fn replace(root: &mut Mapping, found: &Found, new: &str) {
    let Some((last, parents)) = found.at.split_last() else {
        return;
    };
    let mut node: Option<&mut Yaml> = None;
    for step in parents {
        let next = match (node, step) {
            (None, Step::Key(k)) => root.get_mut(k.as_str()),
            (Some(Yaml::Mapping(m)), Step::Key(k)) => m.get_mut(k.as_str()),
            (Some(Yaml::Sequence(items)), Step::Index(i)) => items.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return };
        node = Some(next);
    }
    let slot = match (node, last) {
        (None, Step::Key(k)) => root.get_mut(k.as_str()),
        (Some(Yaml::Mapping(m)), Step::Key(k)) if found.part == Part::Implied => {
            m.insert(Yaml::from(k.as_str()), Yaml::from(new));
            return;
        }
        (Some(Yaml::Mapping(m)), Step::Key(k)) => m.get_mut(k.as_str()),
        (Some(Yaml::Sequence(items)), Step::Index(i)) => items.get_mut(*i),
        _ => None,
    };
    let Some(Yaml::String(text)) = slot else {
        return;
    };
    *text = match found.part {
        Part::Whole | Part::Implied => new.to_owned(),
        Part::BeforeColon => match split_short(text) {
            Some((_, rest)) => format!("{new}:{rest}"),
            None => return,
        },
        Part::AfterEquals => match text.split_once('=') {
            Some((name, _)) => format!("{name}={new}"),
            None => return,
        },
    };
}

/// Rewrites each host path of a service's keys (`section`: `None`) or of a top-level section
/// that `rewrite` gives a new form; the others stay as they are.
pub fn rewrite(
    keys: &mut Mapping,
    section: Option<&str>,
    rewrite: impl Fn(&Found) -> Option<String>,
) {
    let found = match section {
        None => in_service(keys),
        Some(section) => in_section(section, keys),
    };
    for f in &found {
        if let Some(new) = rewrite(f) {
            replace(keys, f, &new);
        }
    }
}

/// A short-syntax mount's source and the rest (`TARGET[:MODE]`), split at the first `:` that
/// is not inside a `${...}` (Compose interpolates before it splits). `None` for a target alone.
fn split_short(mount: &str) -> Option<(&str, &str)> {
    let bytes = mount.as_bytes();
    let mut depth = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => return Some((&mount[..i], &mount[i + 1..])),
            _ => {}
        }
    }
    None
}

/// A short-syntax source Compose reads as a host path rather than a volume's name (compose-go
/// `isFilePath`): it starts with `.`, `/` or `~`, or a Windows drive or pipe. One that
/// interpolates is known only once Compose has its value.
pub fn is_host_source(source: &str) -> bool {
    source.starts_with(['.', '/', '~', '\\']) || is_windows_absolute(source)
}

/// A context the builder reads from disk: not a URL, a Git address or a builder's reference.
pub fn is_local_context(context: &str) -> bool {
    const REMOTE: &[&str] = &[
        "https://",
        "http://",
        "git://",
        "ssh://",
        "github.com/",
        "git@",
    ];
    !(context.contains("://")
        || context.starts_with("service:")
        || REMOTE.iter().any(|p| context.starts_with(p)))
}

fn is_windows_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/')
}

/// A path Compose reads relative to the file's folder: neither absolute nor `~`, and not
/// taken from the environment (`${DATA_DIR}`), whose value muster cannot move.
pub fn is_relative(path: &str) -> bool {
    !(path.starts_with(['/', '~', '\\'])
        || is_windows_absolute(path)
        || crate::model::interpolation::interpolates(path))
}

/// Where the generated file goes, which decides how its relative paths are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Destination {
    /// Standard output: paths are written as the catalogue gives them, and the header says so.
    #[default]
    Stdout,
    /// A file; `Some` rebase when its folder is not the catalogue's.
    File(Option<Rebase>),
}

impl Destination {
    /// The destination of a file written to `output` from the catalogue at `catalogue`, both as
    /// the user named them (relative to the current folder `cwd`).
    pub fn file(catalogue: &Path, output: &Path, cwd: &Path) -> Destination {
        let folder = |p: &Path| match p.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Destination::File(Rebase::new(&folder(catalogue), &folder(output), cwd))
    }

    pub fn rebase(&self) -> Option<&Rebase> {
        match self {
            Destination::File(rebase) => rebase.as_ref(),
            Destination::Stdout => None,
        }
    }
}

/// Relative paths written for the catalogue's folder, rewritten for the folder of the file
/// that holds them, so that each still names the same place.
///
/// Both folders are taken as the user names them, lexically, without resolving symbolic links:
/// so does Compose, which joins a relative path to the absolute form of the `-f` path it was
/// given (Go's `filepath.Abs` and `Join` clean `..` as text). A file written through a linked
/// folder (`-o link/compose.yml`) is therefore right when Compose is given that same path, as
/// `muster up -o link/compose.yml` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebase {
    /// The catalogue's folder, absolute.
    from: PathBuf,
    /// The output's folder, absolute.
    to: PathBuf,
}

impl Rebase {
    /// The rebase from `catalogue_dir` to `output_dir` (either relative to `cwd`); `None` when
    /// they are the same folder, and paths stay as written.
    pub fn new(catalogue_dir: &Path, output_dir: &Path, cwd: &Path) -> Option<Rebase> {
        let from = lexical(&cwd.join(catalogue_dir));
        let to = lexical(&cwd.join(output_dir));
        (from != to).then_some(Rebase { from, to })
    }

    /// `path` (as the catalogue wrote it) as the output's folder reaches the same place; `None`
    /// when it needs no change (absolute, `~`, from the environment). Where the two folders
    /// share nothing below the root, the path is written absolute rather than climbing to `/`.
    pub fn path(&self, path: &str) -> Option<String> {
        if !is_relative(path) {
            return None;
        }
        let target = lexical(&self.from.join(path));
        let common = self
            .to
            .components()
            .zip(target.components())
            .take_while(|(a, b)| a == b)
            .count();
        // Only the root in common: `../../..` up to it says less than the absolute path.
        if common <= 1 {
            return Some(target.to_string_lossy().into_owned());
        }
        let ups = self.to.components().count() - common;
        let mut relative = PathBuf::new();
        for _ in 0..ups {
            relative.push("..");
        }
        relative.extend(target.components().skip(common));
        let text = relative.to_string_lossy().into_owned();
        Some(match text.as_str() {
            "" => ".".to_owned(),
            // A relative path written `./x` in the catalogue keeps the look; Compose reads
            // `x` and `./x` alike, and a short-syntax mount needs the `.` to be a path at all.
            t if !t.starts_with("..") => format!("./{t}"),
            _ => text,
        })
    }
}

/// `path` with `.` and `..` resolved as text, as Go's `filepath.Clean` does (`./a/../b` is
/// `b`; a relative path keeps the `..` it cannot resolve).
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let can_pop = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if can_pop {
                    out.pop();
                } else if !out.has_root() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_of(yaml: &str) -> Vec<Found> {
        in_service(&crate::yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn finds_every_path_compose_resolves() {
        let found = paths_of(
            "build: {context: ./web, dockerfile: ../Dockerfile, additional_contexts: {base: ../base, img: docker-image://alpine}}\n\
             env_file: [a.env, {path: ./b.env, required: false}]\n\
             label_file: ./labels\n\
             volumes: [\"./conf:/etc/x:ro\", \"data:/data\", \"/srv:/srv\", \"/anon\", {type: bind, source: ./src, target: /app}, {type: volume, source: v, target: /v}]\n\
             develop: {watch: [{path: ./src, action: sync, target: /app}]}\n",
        );
        let keys: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.key.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("build.context", "./web"),
                ("build.additional_contexts.base", "../base"),
                ("env_file[0]", "a.env"),
                ("env_file[1].path", "./b.env"),
                ("label_file", "./labels"),
                ("volumes[0]", "./conf"),
                ("volumes[2]", "/srv"),
                ("volumes[4].source", "./src"),
                ("develop.watch[0].path", "./src"),
            ]
        );
        assert_eq!(found[3].kind, HostPath::EnvFile { required: false });
        let interpolated = paths_of("volumes: [\"${DATA:-./data}:/data:ro\", \"${VOL}:/v\"]\n");
        let sources: Vec<&str> = interpolated.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(sources, ["${DATA:-./data}", "${VOL}"]);
        assert_eq!(found[7].kind, HostPath::LongBind { create: false });
        assert!(paths_of("build: https://github.com/org/app.git#main\n").is_empty());
    }

    #[test]
    fn rebased_paths_name_the_same_place() {
        let cwd = Path::new("/home/u/shop");
        let sibling = Rebase::new(Path::new("."), Path::new("../deploy"), cwd).unwrap();
        assert_eq!(sibling.path("./web").as_deref(), Some("../shop/web"));
        assert_eq!(sibling.path("../backend").as_deref(), Some("../backend"));
        assert_eq!(sibling.path("."), Some("../shop".into()));
        let child = Rebase::new(Path::new("."), Path::new("deploy"), cwd).unwrap();
        assert_eq!(child.path("web").as_deref(), Some("../web"));
        let parent = Rebase::new(Path::new("app"), Path::new("."), cwd).unwrap();
        assert_eq!(parent.path("./web").as_deref(), Some("./app/web"));
        assert_eq!(parent.path("..").as_deref(), Some("."));
        for kept in ["/srv/data", "~/data", "${DATA:-./data}", "C:\\data"] {
            assert_eq!(child.path(kept), None, "{kept}");
        }
        assert_eq!(lexical(Path::new("./.")), Path::new("."));
        assert_eq!(lexical(Path::new("a/../../b")), Path::new("../b"));
        // Nothing in common below the root: absolute.
        let far = Rebase::new(Path::new("."), Path::new("/tmp/out"), cwd).unwrap();
        assert_eq!(far.path("./web").as_deref(), Some("/home/u/shop/web"));
        assert_eq!(Rebase::new(Path::new("."), Path::new("./"), cwd), None);
    }

    #[test]
    fn a_rebased_short_mount_keeps_its_target_and_mode() {
        let mut body: Mapping = crate::yaml::from_str(
            "volumes: [\"./conf:/etc/x:ro\"]\nbuild: .\n\
             x-other: {build: {dockerfile: D}}\n",
        )
        .unwrap();
        let rebase = Rebase::new(Path::new("."), Path::new("deploy"), Path::new("/p")).unwrap();
        rewrite(&mut body, None, |f| rebase.path(&f.path));
        assert_eq!(
            crate::yaml::to_string(&body),
            "volumes:\n  - ../conf:/etc/x:ro\nbuild: ..\nx-other:\n  build:\n    dockerfile: D\n"
        );
        // A build without a context gains the one it had.
        let mut build: Mapping = crate::yaml::from_str("build: {dockerfile: D}\n").unwrap();
        rewrite(&mut build, None, |f| rebase.path(&f.path));
        assert_eq!(
            crate::yaml::to_string(&build),
            "build:\n  dockerfile: D\n  context: ..\n"
        );
    }
}
