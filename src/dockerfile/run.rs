//! What a `RUN` does to the programs a probe can use: packages installed and removed with the
//! package managers of Debian and Ubuntu (`apt-get`, `apt`), Alpine (`apk`, with `--virtual`
//! groups) and Red Hat (`dnf`, `yum`, `microdnf`), programs deleted with `rm`, linked with
//! `ln -s`, and busybox's applets installed with `busybox --install`.
//!
//! The script is read as a list of simple commands (split at `&&`, `||`, `;`, `|`, `&` and new
//! lines, quotes honoured); anything else it does is not a probe's concern. A here-document is
//! read as the script when the shell runs it (`RUN <<EOF`, `RUN bash <<EOF`), and skipped when
//! it is another program's input or a file's content (`RUN cat <<EOF > /etc/app.conf`).

use super::State;
use super::parse::Instruction;

/// Programs muster records in an image: the HTTP clients and shells probes run, and the engine
/// tools the kinds' templates call. A name outside this list is nothing a probe asks for.
const PROGRAMS: &[&str] = &[
    "curl",
    "wget",
    "busybox",
    "python",
    "python3",
    "bash",
    "sh",
    "grep",
    "nc",
    "node",
    "psql",
    "pg_isready",
    "redis-cli",
    "mysql",
    "mysqladmin",
    "pgrep",
];

/// The programs a package puts on PATH, by name, in the distributions' package managers.
const PACKAGES: &[(&str, &[&str])] = &[
    ("curl", &["curl"]),
    ("curl-minimal", &["curl"]),
    ("wget", &["wget"]),
    ("busybox", &["busybox"]),
    ("busybox-static", &["busybox"]),
    ("python3", &["python3"]),
    ("python3-minimal", &["python3"]),
    ("python-is-python3", &["python"]),
    ("bash", &["bash"]),
    ("netcat-openbsd", &["nc"]),
    ("netcat-traditional", &["nc"]),
    ("nmap-ncat", &["nc"]),
    ("nodejs", &["node"]),
    ("postgresql-client", &["psql", "pg_isready"]),
    ("redis-tools", &["redis-cli"]),
    ("redis", &["redis-cli"]),
    ("default-mysql-client", &["mysql", "mysqladmin"]),
    ("mariadb-client", &["mysql", "mysqladmin"]),
    ("procps", &["pgrep"]),
    ("procps-ng", &["pgrep"]),
];

/// The name muster records for `name`, when it is one it records.
pub(super) fn program(name: &str) -> Option<&'static str> {
    PROGRAMS.iter().copied().find(|p| *p == name)
}

/// The programs of a package, its version pin removed (`curl=8.5.0-r0`, `curl~8`).
fn package_programs(package: &str) -> &'static [&'static str] {
    let name = package
        .split(['=', '~', '<', '>'])
        .next()
        .unwrap_or(package);
    // Alpine and Debian name versioned clients `postgresql16-client`, `postgresql-client-16`.
    if name.starts_with("postgresql") && name.contains("-client") {
        return &["psql", "pg_isready"];
    }
    PACKAGES
        .iter()
        .find(|(p, _)| *p == name)
        .map_or(&[], |(_, programs)| programs)
}

/// The shells a here-document can be the script of.
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "/bin/sh",
    "/bin/bash",
    "/bin/ash",
];

pub(super) fn apply(instruction: &Instruction, state: &mut State) {
    if let Some(argv) = instruction.json_args() {
        command(&argv, state);
        return;
    }
    let script = instruction.args.as_str();
    let commands = simple_commands(script, state);
    let runs_heredoc = match commands.first() {
        None => true,
        Some(first) => {
            first.iter().all(|w| w.starts_with("<<"))
                || SHELLS.contains(&first.first().map(String::as_str).unwrap_or_default())
        }
    };
    for words in &commands {
        command(words, state);
    }
    if runs_heredoc {
        for heredoc in &instruction.heredocs {
            // A shebang names the interpreter: a script of another language installs nothing
            // muster can read.
            let interpreter = heredoc
                .content
                .strip_prefix("#!")
                .and_then(|l| l.lines().next())
                .unwrap_or("sh");
            if SHELLS
                .iter()
                .any(|s| interpreter.trim().ends_with(s.trim_start_matches("/bin/")))
            {
                for words in simple_commands(&heredoc.content, state) {
                    command(&words, state);
                }
            }
        }
    }
}

/// The script's simple commands, each a list of words with quotes removed and the stage's
/// variables expanded where it knows them.
fn simple_commands(script: &str, state: &State) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = script.chars().peekable();
    let flush_word = |word: &mut String, in_word: &mut bool, current: &mut Vec<String>| {
        if *in_word {
            current.push(expand_word(&std::mem::take(word), state));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                // An escaped new line joins lines; any other escaped character is itself.
                if let Some(n) = chars.next()
                    && n != '\n'
                {
                    word.push(n);
                    in_word = true;
                }
            }
            (None, '#') if !in_word => {
                // A comment runs to the end of the line.
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                flush_word(&mut word, &mut in_word, &mut current);
                commands.push(std::mem::take(&mut current));
            }
            (None, ';' | '&' | '|' | '\n' | '(' | ')') => {
                flush_word(&mut word, &mut in_word, &mut current);
                commands.push(std::mem::take(&mut current));
            }
            (None, c) if c.is_whitespace() => flush_word(&mut word, &mut in_word, &mut current),
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    flush_word(&mut word, &mut in_word, &mut current);
    commands.push(current);
    commands.retain(|c| !c.is_empty());
    commands
}

fn expand_word(word: &str, state: &State) -> String {
    if word.contains('$') {
        state.expanded(word).unwrap_or_else(|| word.to_owned())
    } else {
        word.to_owned()
    }
}

/// Reserved words and wrappers before the command itself.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "{", "}", "!", "sudo", "exec", "command",
    "time", "nice",
];

fn command(words: &[String], state: &mut State) {
    let mut words = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| PREFIXES.contains(w) || is_assignment(w))
        .peekable();
    let Some(first) = words.next() else {
        return;
    };
    let name = first.rsplit('/').next().unwrap_or(first);
    let rest: Vec<&str> = words.collect();
    match name {
        "apt-get" | "apt" | "aptitude" => {
            apt(&rest, state);
        }
        "apk" => apk(&rest, state),
        "dnf" | "yum" | "microdnf" | "tdnf" => rpm(&rest, state),
        // `busybox APPLET ...` runs the applet: the way a shell-less image runs one.
        "busybox" if rest.first().is_some_and(|w| !w.starts_with('-')) => {
            let applet: Vec<String> = rest.iter().map(|w| (*w).to_owned()).collect();
            command(&applet, state);
        }
        "busybox" if rest.first() == Some(&"--install") => {
            for applet in ["sh", "grep", "wget", "nc"] {
                if let Some(p) = program(applet) {
                    state.add(p);
                }
            }
        }
        "rm" => {
            for path in rest.iter().filter(|w| !w.starts_with('-')) {
                let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
                if state.on_path(folder) {
                    state.remove(name);
                }
            }
        }
        "ln" => {
            let operands: Vec<&str> = rest
                .iter()
                .copied()
                .filter(|w| !w.starts_with('-'))
                .collect();
            if let [target, link] = operands.as_slice() {
                let (folder, name) = link.rsplit_once('/').unwrap_or(("", link));
                let target_name = target.rsplit('/').next().unwrap_or(target);
                let linked = state.programs.contains(&target_name);
                if linked
                    && state.on_path(folder)
                    && let Some(p) = program(name)
                {
                    state.add(p);
                }
            }
        }
        _ => {}
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Operands of a package command: words that are not options, the values of the options that
/// take one skipped.
fn operands<'a>(words: &[&'a str], with_value: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for word in words {
        if skip {
            skip = false;
            continue;
        }
        if word.starts_with('-') {
            skip = with_value.contains(word);
            continue;
        }
        out.push(*word);
    }
    out
}

fn apt(words: &[&str], state: &mut State) {
    let operands = operands(
        words,
        &["-o", "-t", "--target-release", "-c", "--config-file"],
    );
    let Some((action, packages)) = operands.split_first() else {
        return;
    };
    match *action {
        "install" => packages
            .iter()
            .flat_map(|p| package_programs(p))
            .for_each(|p| state.add(p)),
        "remove" | "purge" => packages
            .iter()
            .flat_map(|p| package_programs(p))
            .for_each(|p| state.remove(p)),
        _ => {}
    }
}

fn apk(words: &[&str], state: &mut State) {
    let mut group: Option<String> = None;
    let mut iter = words.iter();
    let mut rest = Vec::new();
    while let Some(word) = iter.next() {
        match *word {
            "--virtual" | "-t" => group = iter.next().map(|g| (*g).to_owned()),
            w if w.starts_with("--virtual=") => group = Some(w["--virtual=".len()..].to_owned()),
            w => rest.push(w),
        }
    }
    let operands = operands(
        &rest,
        &[
            "-X",
            "--repository",
            "--repositories-file",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--keys-dir",
        ],
    );
    let Some((action, packages)) = operands.split_first() else {
        return;
    };
    match *action {
        "add" => {
            let added: Vec<&'static str> = packages
                .iter()
                .flat_map(|p| package_programs(p))
                .copied()
                .collect();
            // `apk add --virtual .deps curl` installs curl until `apk del .deps`.
            if let Some(name) = group {
                state.groups.push((name, added.clone()));
            }
            added.into_iter().for_each(|p| state.add(p));
        }
        "del" => {
            for package in packages {
                if let Some(i) = state.groups.iter().position(|(g, _)| g == package) {
                    let (_, programs) = state.groups.remove(i);
                    programs.into_iter().for_each(|p| state.remove(p));
                } else {
                    package_programs(package)
                        .iter()
                        .for_each(|p| state.remove(p));
                }
            }
        }
        _ => {}
    }
}

fn rpm(words: &[&str], state: &mut State) {
    let operands = operands(
        words,
        &[
            "--setopt",
            "--enablerepo",
            "--disablerepo",
            "--releasever",
            "-c",
            "--installroot",
        ],
    );
    let Some((action, packages)) = operands.split_first() else {
        return;
    };
    match *action {
        "install" | "reinstall" => packages
            .iter()
            .flat_map(|p| package_programs(p))
            .for_each(|p| state.add(p)),
        "remove" | "erase" | "autoremove" => packages
            .iter()
            .flat_map(|p| package_programs(p))
            .for_each(|p| state.remove(p)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Programs, follow};

    fn known(text: &str) -> Vec<&'static str> {
        let followed = follow(text, None, &[]).unwrap();
        match followed.facts.programs {
            Programs::Exactly(tools) | Programs::AtLeast(tools, _) | Programs::Likely(tools, _) => {
                tools.to_vec()
            }
        }
    }

    #[test]
    fn apt_apk_and_dnf_installs_add_their_programs() {
        let slim = "FROM python:3.12-slim\n";
        assert!(known(&format!("{slim}RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\n")).contains(&"curl"));
        assert!(known("FROM node:20-alpine\nRUN apk add --no-cache curl\n").contains(&"curl"));
        assert!(
            known("FROM rockylinux:9\nRUN dnf install -y --setopt=tsflags=nodocs wget\n")
                .contains(&"wget")
        );
        assert!(
            known("FROM x:1\nRUN microdnf install -y curl-minimal && microdnf clean all\n")
                .contains(&"curl")
        );
        assert!(
            known(&format!(
                "{slim}RUN [\"apt-get\", \"install\", \"-y\", \"wget\"]\n"
            ))
            .contains(&"wget")
        );
        // A variable the stage knows is expanded; a package muster does not map adds nothing.
        assert!(
            known("FROM alpine:3.20\nARG CLIENT=curl\nRUN apk add $CLIENT git\n").contains(&"curl")
        );
    }

    #[test]
    fn removals_undo_installs_in_order() {
        let text = "FROM python:3.12-slim\nRUN apt-get install -y curl && curl -o /x https://x && apt-get purge -y --auto-remove curl\n";
        assert!(!known(text).contains(&"curl"));
        let virtual_group = "FROM node:20-alpine\nRUN apk add --no-cache --virtual .fetch curl && curl -O x && apk del .fetch\n";
        assert!(!known(virtual_group).contains(&"curl"));
        let deleted = "FROM node:20-alpine\nRUN rm -f /usr/bin/wget\n";
        assert!(!known(deleted).contains(&"wget"));
        let reinstalled = "FROM node:20-alpine\nRUN apk del wget\nRUN apk add wget\n";
        assert!(known(reinstalled).contains(&"wget"));
    }

    #[test]
    fn heredocs_are_scripts_only_when_a_shell_runs_them() {
        let script = "FROM python:3.12-slim\nRUN <<EOF\nset -e\napt-get install -y curl\nEOF\n";
        assert!(known(script).contains(&"curl"));
        let bash = "FROM python:3.12-slim\nRUN bash <<EOF\napt-get install -y wget\nEOF\n";
        assert!(known(bash).contains(&"wget"));
        let file =
            "FROM python:3.12-slim\nRUN cat <<EOF > /etc/notes\napt-get install -y curl\nEOF\n";
        assert!(!known(file).contains(&"curl"));
        let python = "FROM python:3.12-slim\nRUN <<EOF\n#!/usr/bin/env python\nprint('apt-get install -y curl')\nEOF\n";
        assert!(!known(python).contains(&"curl"));
    }

    #[test]
    fn comments_quotes_and_wrappers_do_not_hide_commands() {
        let text = "FROM python:3.12-slim\nRUN set -eux; \\\n  DEBIAN_FRONTEND=noninteractive apt-get install -y 'wget' # not curl\n";
        let programs = known(text);
        assert!(
            programs.contains(&"wget") && !programs.contains(&"curl"),
            "{programs:?}"
        );
        assert!(
            known("FROM python:3.12-slim\nRUN if true; then apt-get install -y curl; fi\n")
                .contains(&"curl")
        );
    }

    #[test]
    fn copies_and_links_onto_path_count() {
        let copied = "FROM gcr.io/distroless/static-debian12\nCOPY --from=busybox:1.36-musl /bin/busybox /bin/\n";
        assert_eq!(known(copied), ["busybox"]);
        let off_path = "FROM gcr.io/distroless/static-debian12\nCOPY --from=busybox:1.36-musl /bin/busybox /busybox\n";
        assert!(known(off_path).is_empty());
        let path_env = "FROM gcr.io/distroless/static-debian12\nENV PATH=/tools:/usr/bin\nCOPY --from=curlimages/curl:8.10.1 /usr/bin/curl /tools/curl\n";
        assert_eq!(known(path_env), ["curl"]);
        let busybox = "FROM gcr.io/distroless/static-debian12\nCOPY --from=busybox:1.36-musl /bin/busybox /bin/busybox\n";
        let linked = format!(
            "{busybox}RUN [\"/bin/busybox\", \"ln\", \"-s\", \"/bin/busybox\", \"/bin/wget\"]\n"
        );
        assert_eq!(known(&linked), ["busybox", "wget"]);
        let unlinked = format!(
            "{busybox}RUN [\"/bin/busybox\", \"ln\", \"-s\", \"/bin/curl\", \"/bin/wget\"]\n"
        );
        assert_eq!(
            known(&unlinked),
            ["busybox"],
            "a link to a program the image lacks is none"
        );
        let installed =
            format!("{busybox}RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
        assert!(known(&installed).contains(&"wget"));
    }
}
