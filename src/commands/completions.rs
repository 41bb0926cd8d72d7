//! Shell completion and `muster man`, generated from the clap definition itself, so that every
//! command and flag, and every value a flag takes, is in them as `--help` shows it.
//!
//! Completion is clap_complete's dynamic engine (`CompleteEnv`, the `unstable-dynamic`
//! feature), as jj and cargo's own completion use it: the shell's script is a few lines that
//! call `muster` back at each Tab (`COMPLETE=bash muster -- muster explain ""`), and muster
//! answers from the clap definition and, for the values only a project knows, from the files
//! found from the current folder: service names after `explain` and `doctor`, profile names
//! after `--profile`, kinds after `add`, as `gen` would find them (`-c`, `--profiles` and
//! `--templates` on the line being typed are honoured). Static scripts cannot know these. A
//! catalogue that does not parse yet (it is being written) completes no names, never an error.

use crate::config::Cli;
use crate::error::Error;
use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::Shells;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable that asks muster for completions instead of a run, as clap_complete names it.
const VAR: &str = "COMPLETE";

/// Answers a completion request and exits when the shell asks for one (`COMPLETE` is set);
/// otherwise returns, and the run goes on. Called before anything is written to stdout.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(command)
        .var(VAR)
        .complete();
}

/// The values that come from the project, by subcommand and argument id.
type Candidates = fn() -> Vec<CompletionCandidate>;
const DYNAMIC: &[(&str, &str, Candidates)] = &[
    ("explain", "name", services),
    ("doctor", "name", services),
    ("add", "kind", kinds),
    ("add", "depends_on", services),
    ("add", "profile_only", profiles),
    ("gen", "profile", profiles),
    ("check", "profile", profiles),
    ("explain", "profile", profiles),
    ("report", "profile", profiles),
    ("up", "profile", profiles),
    ("status", "profile", profiles),
    ("doctor", "profile", profiles),
    ("import", "profile", profiles),
    ("man", "command", subcommands),
];

/// The command line as clap defines it, with the project's values attached for completion.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    for &(sub, arg, candidates) in DYNAMIC {
        cmd = cmd.mut_subcommand(sub, |c| {
            c.mut_arg(arg, |a| a.add(ArgValueCandidates::new(candidates)))
        });
    }
    cmd
}

/// The script that makes `shell` complete muster: registration lines that call this binary
/// back at each Tab, as `COMPLETE=SHELL muster` prints them.
pub fn script(shell: clap_complete::Shell) -> Result<String, Error> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| Error::Usage(format!("no completion for {name}")))?;
    // The binary as it was run: a relative path is made absolute, so that the script works
    // from any folder; a bare name is found on PATH at each Tab, as the shell found it now.
    let argv0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| "muster".into());
    let mut path = PathBuf::from(&argv0);
    if path.components().count() > 1
        && let Ok(cwd) = std::env::current_dir()
    {
        path = cwd.join(path);
    }
    let mut out = Vec::new();
    completer
        .write_registration(VAR, "muster", "muster", &path.to_string_lossy(), &mut out)
        .map_err(Error::Stdout)?;
    Ok(String::from_utf8(out).expect("completion scripts are UTF-8"))
}

/// Where the line being completed finds its inputs: `-c`, `--profiles` and `--templates` as
/// typed on it, else as `gen` finds them from the current folder.
struct Project {
    catalogue: Option<PathBuf>,
    profiles: PathBuf,
    templates: PathBuf,
}

impl Project {
    fn of_the_line() -> Project {
        // The shell passes the words after `--`: `muster -- muster -c x.toml explain ""`.
        let words: Vec<OsString> = std::env::args_os()
            .skip_while(|a| a != "--")
            .skip(1)
            .collect();
        let flag = |long: &str, short: Option<&str>| -> Option<PathBuf> {
            let mut found = None;
            let mut words = words.iter().filter_map(|w| w.to_str());
            while let Some(w) = words.next() {
                if w == long || Some(w) == short {
                    found = words.next().map(PathBuf::from);
                } else if let Some(v) = w.strip_prefix(&format!("{long}=")) {
                    found = Some(PathBuf::from(v));
                }
            }
            found
        };
        let catalogue = flag("--catalogue", Some("-c")).or_else(crate::config::find_catalogue);
        let base = catalogue
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Project {
            profiles: flag("--profiles", None).unwrap_or_else(|| base.join("profiles")),
            templates: flag("--templates", None).unwrap_or_else(|| base.join("templates")),
            catalogue,
        }
    }
}

/// The catalogue's services, each with its kind as help.
fn services() -> Vec<CompletionCandidate> {
    let Some(path) = Project::of_the_line().catalogue else {
        return Vec::new();
    };
    let Some(table) = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return Vec::new();
    };
    let Some(services) = table.get("services").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    services
        .iter()
        .map(|(name, entry)| {
            let kind = entry.get("kind").and_then(toml::Value::as_str);
            CompletionCandidate::new(name).help(kind.map(|k| k.to_owned().into()))
        })
        .collect()
}

/// The built-in profiles and those of the project's profiles folder, with their descriptions.
fn profiles() -> Vec<CompletionCandidate> {
    let project = Project::of_the_line();
    let mut sources = crate::diagnostic::Sources::default();
    let mut diagnostics = crate::diagnostic::Diagnostics::default();
    let Ok(profiles) =
        crate::profile::Profiles::load(Some(&project.profiles), &mut sources, &mut diagnostics)
    else {
        return Vec::new();
    };
    profiles
        .iter()
        .map(|p| {
            let help = p.file.description.clone().map(Into::into);
            CompletionCandidate::new(&p.name).help(help)
        })
        .collect()
}

/// The built-in kinds and those of the project's templates folder, with their summaries.
fn kinds() -> Vec<CompletionCandidate> {
    let project = Project::of_the_line();
    let kinds = crate::kinds::Kinds::built_in();
    let kinds = kinds
        .clone()
        .with_user_templates(&project.templates)
        .unwrap_or(kinds);
    kinds
        .iter()
        .map(|k| CompletionCandidate::new(&k.name).help(Some(k.summary.to_owned().into())))
        .collect()
}

/// The subcommands, for `muster man COMMAND`.
fn subcommands() -> Vec<CompletionCandidate> {
    Cli::command()
        .get_subcommands()
        .map(|s| {
            let about = s.get_about().map(|a| a.to_string().into());
            CompletionCandidate::new(s.get_name()).help(about)
        })
        .collect()
}

/// The man page of muster (the synopsis, the global options, the subcommands), or of one
/// subcommand, named `muster-NAME` as git and cargo name theirs.
pub fn man(command: Option<&str>) -> Result<String, Error> {
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => {
            let names = || cli.get_subcommands().map(|s| s.get_name().to_owned());
            let sub = cli.find_subcommand(name).cloned().ok_or_else(|| {
                Error::Usage(format!(
                    "no subcommand `{name}`; man pages: {}",
                    names().collect::<Vec<_>>().join(", ")
                ))
            })?;
            // clap names commands with `&'static str` unless its `string` feature is on; one
            // short name, once per process, is not worth the feature.
            let page_name: &'static str = Box::leak(format!("muster-{name}").into_boxed_str());
            sub.name(page_name)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(Error::Stdout)?;
    Ok(String::from_utf8(out).expect("roff from UTF-8 help is UTF-8"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_dynamic_value_names_an_argument_there_is() {
        // `mut_arg` of an id that does not exist panics when the command is built.
        super::command().debug_assert();
    }

    #[test]
    fn attaching_values_keeps_the_positionals_in_their_places() {
        // `mut_arg` adds the argument again, last: a positional whose place came from the order
        // of the fields would move, and complete another's values.
        let places = |mut cmd: clap::Command| {
            cmd.build();
            let mut places: Vec<_> = cmd
                .get_subcommands()
                .flat_map(|s| {
                    s.get_positionals()
                        .map(|p| {
                            (
                                s.get_name().to_owned(),
                                p.get_id().to_string(),
                                p.get_index(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            places.sort();
            places
        };
        use clap::CommandFactory;
        assert_eq!(
            places(super::command()),
            places(crate::config::Cli::command())
        );
    }
}
