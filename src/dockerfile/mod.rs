//! What the image a `build` makes will hold, read from its Dockerfile as BuildKit builds it:
//! the stage that is built (the build's `target`, else the last), its `FROM` chain through
//! earlier stages down to a base image, the `ARG`s before the first `FROM` (their defaults, or
//! the catalogue's `args`) expanded in `FROM` as BuildKit's shell lexer expands them
//! (`$A`, `${A}`, `${A:-x}`, `${A-x}`, `${A:+x}`, `${A+x}`, `${A:?}`), and what each stage of the
//! chain does that a probe needs: programs installed or removed by `RUN` (apt-get, apt, apk,
//! dnf, yum, microdnf), copied in by `COPY`/`ADD`, the `HEALTHCHECK`, `EXPOSE`, `USER`, `SHELL`
//! and `ENV`. The base's programs come from the image table (`images.rs`); the result is the
//! same [`ProbeFacts`] a table row or a lock-file entry gives.
//!
//! Sources: moby/buildkit `frontend/dockerfile/parser` (the syntax, in `parse.rs`),
//! `frontend/dockerfile/instructions/parse.go` (each instruction's arguments),
//! `frontend/dockerfile/dockerfile2llb/convert.go` (stages, `target`, global `ARG`s in `FROM`,
//! stage names case-insensitive) and `frontend/dockerfile/shell/lex.go` (the expansions).
//!
//! No I/O here: `files.rs` reads the Dockerfiles in the load stage, and resolve calls
//! [`follow`] with their text.

mod files;
mod parse;
mod run;

use crate::images::{
    self, CannotTell, ImageFacts, ImageHealthcheck, ImageRef, ProbeFacts, Programs,
};
pub use files::Dockerfiles;
pub(crate) use files::{Found, Location, location};
use parse::Instruction;

/// What a Dockerfile's built stage will be, as far as muster follows it.
#[derive(Debug, Clone)]
pub(crate) struct Followed {
    pub facts: ProbeFacts,
    /// The table's row of the image the built stage's chain starts from, when muster knows it.
    pub base_row: Option<&'static ImageFacts>,
    /// The base image as written after expansion (`python:3.12-slim`), `None` for `scratch` or
    /// a base muster cannot tell.
    pub base: Option<String>,
    /// The variables a stage of the chain sets with `ENV`.
    pub env: Vec<String>,
    /// Whether a stage of the chain sets `CMD` or `ENTRYPOINT`, replacing the base's.
    pub sets_command: bool,
}

/// The builder refuses the build outright: an error at the catalogue's `build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub String);

/// The Dockerfile `text` built at `target` (else its last stage) with the build arguments
/// `args` (the catalogue's, which override the `ARG` defaults).
pub(crate) fn follow(
    text: &str,
    target: Option<&str>,
    args: &[(&str, Option<&str>)],
) -> Result<Followed, Refused> {
    let file = match parse::parse(text) {
        Ok(file) => file,
        Err(e) => {
            let frontend = file_syntax(text)
                .map(|s| format!(" (its `# syntax={s}` frontend may read it)"))
                .unwrap_or_default();
            return Ok(cannot_follow(format!(
                "muster cannot read its Dockerfile{frontend}: {e}"
            )));
        }
    };
    let Some(first_from) = file.instructions.iter().position(|i| i.keyword == "from") else {
        return Ok(cannot_follow("its Dockerfile has no `FROM`".to_owned()));
    };
    // Only `ARG` may come before the first `FROM`; its values are what `FROM` may use.
    let mut global: Vec<(String, Option<String>)> = Vec::new();
    for instruction in &file.instructions[..first_from] {
        if instruction.keyword != "arg" {
            return Ok(cannot_follow(format!(
                "its Dockerfile has `{}` before the first `FROM` (line {})",
                instruction.keyword.to_ascii_uppercase(),
                instruction.line
            )));
        }
        for (name, default) in arg_words(&instruction.args) {
            let value = match args.iter().find(|(k, _)| *k == name) {
                Some((_, v)) => v.map(str::to_owned),
                None => match default {
                    Some(d) => expand(&d, &global).ok(),
                    None => None,
                },
            };
            global.retain(|(k, _)| *k != name);
            global.push((name, value));
        }
    }
    let stages = stages(&file.instructions[first_from..]);
    if let Some(unknown) = file
        .instructions
        .iter()
        .find(|i| !KNOWN_INSTRUCTIONS.contains(&i.keyword.as_str()))
    {
        return Ok(cannot_follow(format!(
            "its Dockerfile has an instruction muster does not know, `{}` (line {})",
            unknown.keyword.to_ascii_uppercase(),
            unknown.line
        )));
    }
    let built = match target {
        Some(target) => stages
            .iter()
            .position(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(target))
            })
            .ok_or_else(|| {
                let names: Vec<&str> = stages.iter().filter_map(|s| s.name.as_deref()).collect();
                Refused(if names.is_empty() {
                    format!(
                        "target stage `{target}` is not in the Dockerfile: its stages have no names"
                    )
                } else {
                    format!(
                        "target stage `{target}` is not in the Dockerfile (its stages: {})",
                        names.join(", ")
                    )
                })
            })?,
        None => stages.len() - 1,
    };
    let reader = Reader {
        stages: &stages,
        global: &global,
        args,
    };
    let state = reader.stage(built, 0);
    Ok(state.into_followed())
}

/// Facts that say only why muster cannot tell.
fn cannot_follow(reason: String) -> Followed {
    Followed {
        facts: ProbeFacts::cannot_tell(reason),
        base_row: None,
        base: None,
        env: Vec::new(),
        sets_command: false,
    }
}

fn file_syntax(text: &str) -> Option<String> {
    let first = text
        .lines()
        .next()?
        .trim_start()
        .strip_prefix('#')?
        .trim_start();
    let (key, value) = first.split_once('=')?;
    key.trim()
        .eq_ignore_ascii_case("syntax")
        .then(|| value.trim().to_owned())
}

/// The instructions BuildKit's Dockerfile frontend knows (`instructions/parse.go`).
const KNOWN_INSTRUCTIONS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// One `FROM` and the instructions up to the next.
struct Stage<'a> {
    /// Its `AS` name, lower case: BuildKit compares stage names without case.
    name: Option<String>,
    /// The image word as written (`python:${PY}-slim`, `build`).
    from: String,
    from_line: usize,
    body: &'a [Instruction],
}

fn stages(instructions: &[Instruction]) -> Vec<Stage<'_>> {
    let mut out: Vec<Stage> = Vec::new();
    let mut start = 0;
    for (i, instruction) in instructions.iter().enumerate().skip(1) {
        if instruction.keyword == "from" {
            out.push(stage(&instructions[start], &instructions[start + 1..i]));
            start = i;
        }
    }
    out.push(stage(&instructions[start], &instructions[start + 1..]));
    out
}

fn stage<'a>(from: &Instruction, body: &'a [Instruction]) -> Stage<'a> {
    let words = parse::words(&from.args);
    let name = match words.as_slice() {
        [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
        _ => None,
    };
    Stage {
        name,
        from: words.first().cloned().unwrap_or_default(),
        from_line: from.line,
        body,
    }
}

/// The platform arguments BuildKit defines for `FROM` without a declaration: their values are
/// the builder's, which muster does not know.
const PLATFORM_ARGS: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

struct Reader<'a, 'b> {
    stages: &'a [Stage<'b>],
    global: &'a [(String, Option<String>)],
    /// The build's arguments; `None` for one Compose fills from the environment.
    args: &'a [(&'a str, Option<&'a str>)],
}

impl Reader<'_, '_> {
    /// The state after stage `index`: its base's, then each of its instructions.
    fn stage(&self, index: usize, depth: usize) -> State {
        let stage = &self.stages[index];
        let mut state = match expand(&stage.from, self.global) {
            Err(Unexpanded::Unset(name)) if PLATFORM_ARGS.contains(&name.as_str()) => {
                State::cannot_tell(format!(
                    "its Dockerfile's base `{}` (line {}) depends on the builder's platform \
                     (`{name}`)",
                    stage.from, stage.from_line
                ))
            }
            Err(Unexpanded::Unset(name))
                if self.args.iter().any(|(k, v)| *k == name && v.is_none()) =>
            {
                State::cannot_tell(format!(
                    "its Dockerfile's base `{}` (line {}) takes `args.{name}` from the \
                     environment",
                    stage.from, stage.from_line
                ))
            }
            Err(Unexpanded::Unset(name)) => State::cannot_tell(format!(
                "its Dockerfile's base `{}` (line {}) has no value: `ARG {name}` has no default \
                 and the build's `args` do not set it",
                stage.from, stage.from_line
            )),
            Err(Unexpanded::Unsupported(what)) => State::cannot_tell(format!(
                "its Dockerfile's base `{}` (line {}) uses {what}, which muster does not expand",
                stage.from, stage.from_line
            )),
            Ok(image) => {
                let earlier = self.stages[..index].iter().rposition(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&image))
                });
                match earlier {
                    // Stages can only build on earlier ones, so the depth is bounded by the
                    // number of stages; the bound guards the recursion all the same.
                    Some(i) if depth < self.stages.len() => {
                        let mut inherited = self.stage(i, depth + 1);
                        inherited.vars.retain(|v| v.env);
                        inherited
                    }
                    _ => State::from_image(&image, stage.from_line),
                }
            }
        };
        for instruction in stage.body {
            state.apply(instruction, self);
        }
        state
    }

    /// `ARG NAME` inside a stage takes the build's argument, else its own default, else the
    /// global `ARG` of that name.
    fn stage_arg(&self, name: &str, default: Option<String>) -> Option<String> {
        if let Some((_, v)) = self.args.iter().find(|(k, _)| *k == name) {
            return v.map(str::to_owned);
        }
        default.or_else(|| {
            self.global
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.clone())
        })
    }
}

/// A variable a stage can expand: an `ARG` (this stage's only) or an `ENV` (inherited).
#[derive(Debug, Clone)]
struct Var {
    name: String,
    value: String,
    env: bool,
}

/// What the stages add up to, instruction by instruction.
#[derive(Debug, Clone)]
struct State {
    /// Programs known to be there.
    programs: Vec<&'static str>,
    /// Why the list is not the whole story, when it is not.
    partial: Option<CannotTell>,
    base_row: Option<&'static ImageFacts>,
    base: Option<String>,
    user: Option<String>,
    shell: Option<Vec<String>>,
    exposed: Vec<u16>,
    healthcheck: ImageHealthcheck,
    vars: Vec<Var>,
    env_names: Vec<String>,
    /// Folders on PATH: the usual ones, and those an `ENV PATH=` adds.
    path: Vec<String>,
    sets_command: bool,
    /// `apk add --virtual NAME pkgs...`: what `apk del NAME` removes.
    groups: Vec<(String, Vec<&'static str>)>,
}

const DEFAULT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

impl State {
    fn empty() -> State {
        State {
            programs: Vec::new(),
            partial: None,
            base_row: None,
            base: None,
            user: None,
            shell: None,
            exposed: Vec::new(),
            healthcheck: ImageHealthcheck::Unknown,
            vars: Vec::new(),
            env_names: Vec::new(),
            path: DEFAULT_PATH.iter().map(|p| (*p).to_owned()).collect(),
            sets_command: false,
            groups: Vec::new(),
        }
    }

    fn cannot_tell(reason: String) -> State {
        State {
            partial: Some(CannotTell(reason)),
            ..State::empty()
        }
    }

    fn from_image(image: &str, line: usize) -> State {
        if image.eq_ignore_ascii_case("scratch") {
            return State {
                healthcheck: ImageHealthcheck::Off,
                ..State::empty()
            };
        }
        let reference = ImageRef::parse(image);
        match images::lookup(&reference) {
            Some(row) => State {
                programs: row.tools_for(&reference).to_vec(),
                base_row: Some(row),
                base: Some(image.to_owned()),
                ..State::empty()
            },
            None => State {
                base: Some(image.to_owned()),
                ..State::cannot_tell(format!(
                    "its Dockerfile's base `{image}` (line {line}) is an image muster does not know"
                ))
            },
        }
    }

    fn into_followed(self) -> Followed {
        let programs: images::Tools = self.programs.into();
        Followed {
            facts: ProbeFacts {
                programs: match self.partial {
                    None => Programs::Exactly(programs),
                    Some(why) => Programs::AtLeast(programs, why),
                },
                user: self.user,
                shell: self.shell,
                exposed: self.exposed,
                healthcheck: self.healthcheck,
            },
            base_row: self.base_row,
            base: self.base,
            env: self.env_names,
            sets_command: self.sets_command,
        }
    }

    fn add(&mut self, program: &'static str) {
        if !self.programs.contains(&program) {
            self.programs.push(program);
        }
    }

    fn remove(&mut self, program: &str) {
        self.programs.retain(|p| *p != program);
    }

    fn var_list(&self) -> Vec<(String, Option<String>)> {
        self.vars
            .iter()
            .map(|v| (v.name.clone(), Some(v.value.clone())))
            .collect()
    }

    /// `text` with the stage's variables expanded; unknown ones leave the text unknown.
    fn expanded(&self, text: &str) -> Option<String> {
        expand(text, &self.var_list()).ok()
    }

    fn set_var(&mut self, name: &str, value: String, env: bool) {
        self.vars.retain(|v| v.name != name);
        self.vars.push(Var {
            name: name.to_owned(),
            value,
            env,
        });
    }

    fn apply(&mut self, instruction: &Instruction, reader: &Reader) {
        match instruction.keyword.as_str() {
            "arg" => {
                for (name, default) in arg_words(&instruction.args) {
                    let default = default.and_then(|d| self.expanded(&d));
                    match reader.stage_arg(&name, default) {
                        Some(value) => self.set_var(&name, value, false),
                        None => self.vars.retain(|v| v.name != name),
                    }
                }
            }
            "env" => {
                for (name, value) in env_pairs(&instruction.args) {
                    let value = self.expanded(&value).unwrap_or(value);
                    if name == "PATH" {
                        self.path = value.split(':').map(str::to_owned).collect();
                    }
                    if !self.env_names.contains(&name) {
                        self.env_names.push(name.clone());
                    }
                    self.set_var(&name, value, true);
                }
            }
            "run" => run::apply(instruction, self),
            "copy" | "add" => self.copy(instruction),
            "healthcheck" => {
                let args = instruction.args.trim_start();
                let word = args.split_whitespace().next().unwrap_or_default();
                self.healthcheck = if word.eq_ignore_ascii_case("none") {
                    ImageHealthcheck::Off
                } else {
                    ImageHealthcheck::Declared
                };
            }
            "expose" => {
                for word in instruction.args.split_whitespace() {
                    let Some(word) = self.expanded(word) else {
                        continue;
                    };
                    let (port, protocol) = word.split_once('/').unwrap_or((&word, "tcp"));
                    let first = port.split('-').next().unwrap_or(port);
                    if let (Ok(port), true) =
                        (first.parse::<u16>(), protocol.eq_ignore_ascii_case("tcp"))
                        && !self.exposed.contains(&port)
                    {
                        self.exposed.push(port);
                    }
                }
            }
            "user" => self.user = self.expanded(instruction.args.trim()),
            "shell" => self.shell = instruction.json_args(),
            "cmd" | "entrypoint" => self.sets_command = true,
            _ => {}
        }
    }

    /// `COPY`/`ADD` of a program into a folder on PATH: a static curl or busybox copied from
    /// another image or stage (`COPY --from=busybox:1.36-musl /bin/wget /usr/bin/wget`).
    fn copy(&mut self, instruction: &Instruction) {
        let words: Vec<String> = match instruction.json_args() {
            Some(words) => words,
            None => parse::words(&instruction.args)
                .into_iter()
                .map(|w| unquoted(&w))
                .collect(),
        };
        let Some((dest, sources)) = words.split_last() else {
            return;
        };
        let Some(dest) = self.expanded(dest) else {
            return;
        };
        let into_folder = dest.ends_with('/') || sources.len() > 1 || self.on_path(&dest);
        for source in sources {
            let target = if into_folder {
                format!("{}/{}", dest.trim_end_matches('/'), basename(source))
            } else {
                dest.clone()
            };
            let (folder, name) = target.rsplit_once('/').unwrap_or(("", &target));
            if self.on_path(folder)
                && let Some(program) = run::program(name)
            {
                self.add(program);
            }
        }
    }

    fn on_path(&self, folder: &str) -> bool {
        let folder = folder.trim_end_matches('/');
        self.path.iter().any(|p| p.trim_end_matches('/') == folder)
    }
}

fn basename(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.rsplit('/').next().unwrap_or(path)
}

fn unquoted(word: &str) -> String {
    let bytes = word.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        word[1..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

/// `ARG A B=1 C="x y"`: each name and its default.
fn arg_words(args: &str) -> Vec<(String, Option<String>)> {
    parse::words(args)
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, default)) => (name.to_owned(), Some(unquoted(default))),
            None => (word, None),
        })
        .collect()
}

/// `ENV A=1 B="x y"`, or the old `ENV A value with spaces`.
fn env_pairs(args: &str) -> Vec<(String, String)> {
    let words = parse::words(args);
    match words.first() {
        Some(first) if !first.contains('=') => {
            let rest = args.trim_start()[first.len()..].trim();
            vec![(first.clone(), unquoted(rest))]
        }
        _ => words
            .into_iter()
            .filter_map(|w| {
                let (k, v) = w.split_once('=')?;
                Some((k.to_owned(), unquoted(v)))
            })
            .collect(),
    }
}

/// Why a word could not be expanded.
#[derive(Debug, PartialEq, Eq)]
enum Unexpanded {
    /// A variable without a value, and no default in the expansion.
    Unset(String),
    /// An expansion muster does not follow (`${A#pattern}`, `${A/x/y}`).
    Unsupported(String),
}

/// `word` with `$NAME`, `${NAME}` and `${NAME<op>word}` expanded from `vars` (a `None` value is
/// declared but unset), as BuildKit's lexer does; an unset variable without a default is an
/// error, since the result would be a different word than the Dockerfile meant.
fn expand(word: &str, vars: &[(String, Option<String>)]) -> Result<String, Unexpanded> {
    let lookup = |name: &str| -> Option<&str> {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    };
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find(['$', '\\']) {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if rest.as_bytes()[at] == b'\\' {
            // An escaped character stands for itself.
            let mut chars = after.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        }
        if let Some(inner) = after.strip_prefix('{') {
            let close = inner
                .find('}')
                .ok_or_else(|| Unexpanded::Unsupported("an unclosed `${`".to_owned()))?;
            let body = &inner[..close];
            rest = &inner[close + 1..];
            let name_end = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            let (name, op) = body.split_at(name_end);
            let value = lookup(name);
            let (colon, op) = match op.strip_prefix(':') {
                Some(op) => (true, op),
                None => (false, op),
            };
            let unset = value.is_none() || (colon && value == Some(""));
            let replaced = match op.chars().next() {
                None => value
                    .map(str::to_owned)
                    .ok_or_else(|| Unexpanded::Unset(name.to_owned()))?,
                Some('-') if unset => expand(&op[1..], vars)?,
                Some('-') => value.unwrap_or_default().to_owned(),
                Some('+') if unset => String::new(),
                Some('+') => expand(&op[1..], vars)?,
                Some('?') if unset => return Err(Unexpanded::Unset(name.to_owned())),
                Some('?') => value.unwrap_or_default().to_owned(),
                Some(other) => {
                    return Err(Unexpanded::Unsupported(format!("`${{{name}{other}...}}`")));
                }
            };
            out.push_str(&replaced);
        } else {
            let name_end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_end == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..name_end];
            out.push_str(lookup(name).ok_or_else(|| Unexpanded::Unset(name.to_owned()))?);
            rest = &after[name_end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(text: &str) -> Programs {
        follow(text, None, &[]).unwrap().facts.programs
    }

    fn exactly(text: &str) -> Vec<&'static str> {
        match programs(text) {
            Programs::Exactly(tools) => tools.to_vec(),
            other => panic!("not exactly known: {other:?}"),
        }
    }

    #[test]
    fn the_base_rows_programs_follow_the_tag() {
        assert_eq!(
            exactly("FROM node:20-alpine\n"),
            ["sh", "grep", "wget", "node"]
        );
        assert_eq!(
            exactly("FROM python:3.12-slim\n"),
            ["sh", "bash", "grep", "python"]
        );
        assert_eq!(exactly("FROM scratch\nCOPY app /app\n"), Vec::<&str>::new());
    }

    #[test]
    fn args_before_from_take_defaults_then_the_builds_args() {
        let text = "ARG NODE=20\nARG VARIANT=alpine\nFROM node:${NODE}-${VARIANT}\n";
        let followed = follow(text, None, &[]).unwrap();
        assert_eq!(followed.base.as_deref(), Some("node:20-alpine"));
        let followed = follow(text, None, &[("VARIANT", Some("bookworm-slim"))]).unwrap();
        assert_eq!(followed.base.as_deref(), Some("node:20-bookworm-slim"));
        assert!(!followed.facts.programs.known().contains(&"wget"));
        // `${A:-x}` and `$A` forms.
        let text = "ARG TAG\nFROM python:${TAG:-3.12-slim}\n";
        assert_eq!(
            follow(text, None, &[]).unwrap().base.as_deref(),
            Some("python:3.12-slim")
        );
    }

    #[test]
    fn an_arg_without_a_value_in_from_cannot_be_followed() {
        let followed = follow("ARG BASE\nFROM ${BASE}\nRUN apk add curl\n", None, &[]).unwrap();
        let why = followed.facts.programs.cannot_tell().unwrap();
        assert!(why.0.contains("`ARG BASE` has no default"), "{why:?}");
        // What the stage installs is still known.
        assert_eq!(followed.facts.programs.known(), ["curl"]);
        let platform = follow("FROM app-${TARGETARCH}\n", None, &[]).unwrap();
        assert!(
            platform
                .facts
                .programs
                .cannot_tell()
                .unwrap()
                .0
                .contains("platform"),
            "{platform:?}"
        );
    }

    #[test]
    fn stages_chain_and_the_target_picks_one() {
        let text = "FROM golang:1.23 AS build\nRUN go build -o /app .\n\
                    FROM gcr.io/distroless/static-debian12 AS runtime\nCOPY --from=build /app /app\n\
                    FROM runtime AS debug\nCOPY --from=busybox:1.36-musl /bin/wget /usr/bin/wget\n";
        assert_eq!(exactly(text), ["wget"]);
        let runtime = follow(text, Some("RUNTIME"), &[]).unwrap();
        assert_eq!(runtime.facts.programs, Programs::Exactly(Vec::new().into()));
        let build = follow(text, Some("build"), &[]).unwrap();
        assert!(build.facts.programs.known().contains(&"curl"));
        let refused = follow(text, Some("prod"), &[]).unwrap_err();
        assert!(refused.0.contains("build, runtime, debug"), "{refused:?}");
    }

    #[test]
    fn a_stage_built_on_another_keeps_its_env_and_drops_its_args() {
        let text = "FROM alpine:3.20 AS base\nARG PORT=1\nENV APP_PORT=8080\n\
                    FROM base\nEXPOSE ${APP_PORT} ${PORT}\n";
        let followed = follow(text, None, &[]).unwrap();
        assert_eq!(followed.facts.exposed, [8080]);
        assert_eq!(followed.env, ["APP_PORT"]);
    }

    #[test]
    fn healthcheck_expose_user_shell_and_cmd_are_kept() {
        let text = "FROM python:3.12-slim\nEXPOSE 8000/tcp 53/udp 9000-9002\nUSER app:app\n\
                    SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
                    HEALTHCHECK --interval=5s CMD python -c 'print(1)'\nCMD [\"gunicorn\"]\n";
        let followed = follow(text, None, &[]).unwrap();
        let facts = &followed.facts;
        assert_eq!(facts.exposed, [8000, 9000]);
        assert_eq!(facts.user.as_deref(), Some("app:app"));
        assert_eq!(facts.shell.as_ref().unwrap()[0], "/bin/bash");
        assert_eq!(facts.healthcheck, ImageHealthcheck::Declared);
        assert!(followed.sets_command);
        let off = follow(&format!("{text}HEALTHCHECK NONE\n"), None, &[]).unwrap();
        assert_eq!(off.facts.healthcheck, ImageHealthcheck::Off);
    }

    #[test]
    fn what_muster_cannot_read_is_said_not_guessed() {
        for (text, says) in [
            ("RUN echo\n", "no `FROM`"),
            ("FROM a\nFROB x\n", "`FROB`"),
            ("FROM alpine\nRUN <<EOF\nnever ends\n", "unterminated"),
            ("FROM internal.example.com/base:1\n", "does not know"),
        ] {
            let followed = follow(text, None, &[]).unwrap();
            let why = followed.facts.programs.cannot_tell().expect(text);
            assert!(why.0.contains(says), "{text}: {why:?}");
        }
    }

    #[test]
    fn expansion_follows_buildkits_lexer() {
        let vars = vec![
            ("A".to_owned(), Some("a".to_owned())),
            ("E".to_owned(), Some(String::new())),
            ("U".to_owned(), None),
        ];
        let ok = |w: &str| expand(w, &vars).unwrap();
        assert_eq!(ok("$A-${A}"), "a-a");
        assert_eq!(ok("${E:-d} ${E-d} ${U-d}"), "d  d");
        assert_eq!(ok("${A:+x}${E:+y}${E+z}"), "xz");
        assert_eq!(ok(r"\$A $"), "$A $");
        assert_eq!(expand("${U}", &vars), Err(Unexpanded::Unset("U".into())));
        assert_eq!(expand("${E:?}", &vars), Err(Unexpanded::Unset("E".into())));
        assert!(matches!(
            expand("${A#a}", &vars),
            Err(Unexpanded::Unsupported(_))
        ));
    }
}
