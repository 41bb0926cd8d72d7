//! What an image refuses to start without (`images::StartNeeds`), judged against what the
//! service gives it: its environment, its command, and what its Dockerfile sets. What muster
//! cannot see (an `env_file`, a value Compose interpolates, an entrypoint of the service's own)
//! is given the benefit of the doubt: the error is for a container that will certainly exit.

use super::Service;
use crate::diagnostic::Diagnostic;
use crate::images::StartNeeds;
use crate::spec::Command;
use crate::yaml::Value as Yaml;

/// What the service's image needs that the service does not give it, as an error message and
/// the key that would fix it.
pub(super) fn missing(
    service: &Service,
    needs: StartNeeds,
    dockerfile_env: &[String],
    image: &str,
) -> Option<Diagnostic> {
    // An entrypoint of the service's own never runs the image's initialisation.
    if service.entrypoint.is_some() || service.compose.get("entrypoint").is_some() {
        return None;
    }
    let command = command_words(service);
    match needs {
        StartNeeds::AnyVariable {
            vars,
            servers,
            unless_mounted,
        } => {
            let runs_server = match command.first() {
                None => true,
                Some(first) => first.starts_with('-') || servers.contains(&first.as_str()),
            };
            let mounted = unless_mounted.is_some_and(|path| {
                service.volumes.iter().any(|v| {
                    crate::volumes::target(v).is_ok_and(|t| t.trim_end_matches('/') == path)
                })
            });
            let env_file =
                !service.env_file.is_empty() || service.compose.get("env_file").is_some();
            if !runs_server || mounted || env_file {
                return None;
            }
            let given = vars.iter().any(|(name, wanted)| {
                dockerfile_env.iter().any(|n| n == name)
                    // A Compose secret sets the variable's file variable (`_FILE`) to its file.
                    || service
                        .secret_env
                        .iter()
                        .any(|s| s.variable == *name || s.file_variable == *name)
                    || env_value(service, name).is_some_and(|value| satisfies(&value, *wanted))
            });
            if given {
                return None;
            }
            let names: Vec<String> = vars
                .iter()
                .map(|(name, wanted)| match wanted {
                    Some(value) => format!("{name}={value}"),
                    None => (*name).to_owned(),
                })
                .collect();
            let (first, _) = vars[0];
            Some(
                Diagnostic::error(format!(
                    "service `{}`: image `{image}` does not start without {}: its entrypoint exits \
                     on an empty data folder, so the service never turns healthy",
                    service.name,
                    or_list(&names)
                ))
                .with_note(format!(
                    "set it in `env`, from your `.env`: `env = {{ {first} = \"${{{first}:?set it \
                     in .env}}\" }}`"
                )),
            )
        }
        StartNeeds::Command {
            first,
            program,
            example,
        } => {
            let words: Vec<&str> = command.iter().map(String::as_str).collect();
            let words = match words.as_slice() {
                [p, rest @ ..] if *p == program => rest,
                all => all,
            };
            if words.first() == Some(&first) {
                return None;
            }
            let runs = match command.is_empty() {
                true => format!("its own command, `{program}` alone, prints its help and exits"),
                false => format!("`{}` is not `{first} ...`", command.join(" ")),
            };
            Some(
                Diagnostic::error(format!(
                    "service `{}`: image `{image}` needs `{first} ...` as its command: {runs}",
                    service.name
                ))
                .with_note(format!("set `command = \"{example}\"`")),
            )
        }
    }
}

/// The service's command as words: the catalogue's, or the `compose` table's over it.
fn command_words(service: &Service) -> Vec<String> {
    match service.compose.get("command") {
        Some(Yaml::String(line)) => return line.split_whitespace().map(str::to_owned).collect(),
        Some(Yaml::Sequence(items)) => {
            return items
                .iter()
                .filter_map(Yaml::as_str)
                .map(str::to_owned)
                .collect();
        }
        _ => {}
    }
    match &service.command {
        Some(Command::Line(line)) => line.split_whitespace().map(str::to_owned).collect(),
        Some(Command::Argv(argv)) => argv.clone(),
        None => Vec::new(),
    }
}

/// The variable's value in `env`, or in the `compose` table's `environment` (a mapping or a
/// `NAME=value` list), that table winning.
fn env_value(service: &Service, name: &str) -> Option<String> {
    let passthrough = match service.compose.get("environment") {
        Some(Yaml::Mapping(map)) => map.get(name).map(|v| match v {
            Yaml::String(s) => s.clone(),
            Yaml::Null => String::new(),
            Yaml::Number(n) => n.to_string(),
            Yaml::Bool(b) => b.to_string(),
            _ => String::new(),
        }),
        Some(Yaml::Sequence(items)) => items.iter().filter_map(Yaml::as_str).find_map(|item| {
            match item.split_once('=') {
                Some((k, v)) if k == name => Some(v.to_owned()),
                // `- NAME` alone takes the value from the host's environment.
                None if item == name => Some(format!("${{{name}}}")),
                _ => None,
            }
        }),
        _ => None,
    };
    passthrough.or_else(|| service.env.get(name).cloned())
}

/// Whether `value` sets the variable as needed: non-empty (or exactly `wanted`). A value
/// Compose takes from the environment may well be right, and is not refused.
fn satisfies(value: &str, wanted: Option<&str>) -> bool {
    if crate::model::interpolation::interpolates(value) {
        return true;
    }
    match wanted {
        None => !value.is_empty(),
        Some(wanted) => value == wanted,
    }
}

fn or_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [rest @ .., last] => format!(
            "{} or `{last}`",
            rest.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
