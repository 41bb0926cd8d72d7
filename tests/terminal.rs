//! What muster does in a real terminal: colour on a TTY and none in a pipe or under `NO_COLOR`,
//! the catalogue found from a subfolder, and shell completion as a user presses Tab. Each test
//! drives the real binary in bash inside tmux, on a server of its own, and reads the screen back
//! with its escape sequences (`capture-pane -e`): a fake TTY would prove only that muster asks
//! the question, not what a terminal shows.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A shell in a tmux session of its own, in `dir`, with the test's `muster` first on PATH.
struct Terminal {
    socket: String,
}

/// Bash without the user's rc files.
const BASH: &[&str] = &["bash", "--norc", "--noprofile"];
/// Zsh without the user's rc files; its completion system is started by the test.
const ZSH: &[&str] = &["zsh", "-f"];

impl Terminal {
    fn new(dir: &Path) -> Terminal {
        Terminal::with_shell(dir, BASH)
    }

    fn with_shell(dir: &Path, shell: &[&str]) -> Terminal {
        for program in ["tmux", shell[0]] {
            let found = std::env::var_os("PATH")
                .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
                .unwrap_or(false);
            assert!(found, "`{program}` is not on PATH: run `bash .ci/install`");
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let terminal = Terminal {
            socket: format!("muster-test-{}-{n}", std::process::id()),
        };
        let bin = Path::new(env!("CARGO_BIN_EXE_muster")).parent().unwrap();
        let path = format!(
            "PATH={}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut args = vec![
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "60",
            "-c",
            dir.to_str().unwrap(),
            // A plain prompt, and no user's rc file, so that the screen holds only muster.
            "env",
            "-u",
            "NO_COLOR",
            &path,
            "PS1=$ ",
            "TERM=xterm-256color",
        ];
        args.extend(shell);
        let out = terminal.tmux(&args);
        assert!(out.status.success(), "tmux: {out:?}");
        terminal
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Types `text` as it is, without tmux reading key names or options in it.
    fn type_text(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "0", "-l", "--", text])
                .status
                .success()
        );
    }

    /// The screen, with colour escapes.
    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-e", "-J", "-t", "0"]);
        String::from_utf8(out.stdout).expect("the screen is UTF-8")
    }

    /// Waits until the screen, its colour and attribute escapes left out, shows `needle` (zsh
    /// draws the space after a completed word in bold).
    fn wait_for_text(&self, needle: &str) -> String {
        self.wait_until(needle, |screen| plain(screen).contains(needle))
    }

    /// Waits until the screen shows `needle`, and returns the screen.
    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |screen| screen.contains(needle))
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the screen never showed {what:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `line` as a user would, with Enter, and returns what it printed and its exit code.
    /// The screen is cleared first; the end marker is computed by the shell, so the typed line
    /// itself never matches it.
    fn run(&self, line: &str) -> (String, i32) {
        self.keys(&["clear", "Enter"]);
        std::thread::sleep(Duration::from_millis(100));
        self.type_text(&format!("{line}; echo \"<<done:$((0+$?))>>\""));
        self.keys(&["Enter"]);
        let screen = self.wait_until("<<done:N>>", |s| end_marker(s).is_some());
        let (at, code) = end_marker(&screen).unwrap();
        let output = &screen[..at];
        let after_command = output.split_once('\n').map_or(output, |(_, rest)| rest);
        (after_command.to_owned(), code)
    }
}

/// `screen` without its escape sequences (`ESC [ ... letter`).
fn plain(screen: &str) -> String {
    let mut out = String::with_capacity(screen.len());
    let mut chars = screen.chars();
    while let Some(c) = chars.next() {
        if c == ESC {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Where the shell printed `<<done:CODE>>`, and CODE. The typed line shows `<<done:$((...`,
/// never a digit after the colon.
fn end_marker(screen: &str) -> Option<(usize, i32)> {
    screen.match_indices("<<done:").find_map(|(at, m)| {
        let rest = &screen[at + m.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let code = digits.parse().ok()?;
        rest[digits.len()..].starts_with(">>").then_some((at, code))
    })
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// A prod catalogue with one warning (`unpinned-image`) and one error-free service.
const WARNS: &str = "[project]\nallow = [\"no-autoheal\"]\n\n[services.db]\nkind = \"db\"\nimage = \"postgres\"\nenv = { POSTGRES_PASSWORD = \"${PG_PASSWORD}\" }\n";

const ESC: char = '\x1b';

#[test]
fn diagnostics_are_coloured_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("services.toml"), WARNS).unwrap();
    let terminal = Terminal::new(dir.path());

    let (screen, code) = terminal.run("muster check --profile prod");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("unpinned-image"), "{screen}");
    // codespan-reporting draws the severity in bold yellow and the gutter in cyan.
    assert!(screen.contains(ESC), "no colour on a terminal:\n{screen:?}");

    for plain in [
        "NO_COLOR=1 muster check --profile prod",
        "muster check --profile prod 2>&1 | cat",
        "muster --color never check --profile prod",
    ] {
        let (screen, _) = terminal.run(plain);
        assert!(screen.contains("unpinned-image"), "{plain}:\n{screen}");
        assert!(
            !screen.contains(ESC),
            "`{plain}` coloured its output:\n{screen:?}"
        );
    }
    // Asked for, colour goes through a pipe and overrides NO_COLOR.
    let (screen, _) =
        terminal.run("NO_COLOR=1 muster --color always check --profile prod 2>&1 | cat");
    assert!(
        screen.contains(ESC),
        "--color always was ignored:\n{screen:?}"
    );
}

#[test]
fn the_catalogue_is_found_from_a_subfolder_and_its_absence_explained() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop");
    std::fs::create_dir_all(project.join("services/api")).unwrap();
    std::fs::write(project.join("services.toml"), WARNS).unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    // An app's folder, whose Dockerfile the starter catalogue's `build = "."` reads.
    std::fs::write(
        dir.path().join("elsewhere/Dockerfile"),
        "FROM python:3.12-slim\n",
    )
    .unwrap();
    let terminal = Terminal::new(dir.path());

    let (screen, code) =
        terminal.run("cd shop/services/api && muster --color never check --profile prod");
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("┌─ ../../services.toml:4:11"),
        "the warning does not point into the parent's catalogue:\n{screen}"
    );
    assert!(
        screen.contains("checked 1 service under profile prod"),
        "{screen}"
    );

    let (screen, code) = terminal.run("cd ../../../elsewhere && muster gen");
    assert_eq!(code, 3, "{screen}");
    assert!(
        screen.contains("no services.toml in") && screen.contains("or any folder above it"),
        "{screen}"
    );
    assert!(screen.contains("run `muster init`"), "{screen}");

    let (screen, code) = terminal.run("muster init && muster --color never check");
    assert_eq!(code, 0, "{screen}");
    for line in [
        "wrote services.toml",
        "wrote muster.schema.json",
        "  muster check ",
        "  muster gen -o docker-compose.yml ",
        "checked 2 services under profile dev",
    ] {
        assert!(screen.contains(line), "{line:?} missing:\n{screen}");
    }
}

#[test]
fn bash_completes_commands_flags_and_lint_names() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::new(dir.path());
    let (screen, code) = terminal.run("source <(muster completions bash)");
    assert_eq!(code, 0, "{screen}");

    terminal.keys(&["clear", "Enter"]);
    terminal.type_text("muster che");
    terminal.keys(&["Tab"]);
    terminal.wait_for("muster check ");

    terminal.type_text("--all");
    terminal.keys(&["Tab"]);
    terminal.wait_for("muster check --allow ");

    // The lint names come from the same list `--list-lints` prints.
    terminal.type_text("no-auto");
    terminal.keys(&["Tab"]);
    terminal.wait_for("muster check --allow no-autoheal");
    terminal.keys(&["C-u"]);

    terminal.type_text("muster gen --target ");
    terminal.keys(&["Tab", "Tab"]);
    let screen = terminal.wait_for("swarm");
    assert!(
        screen.contains("compose") && screen.contains("k8s"),
        "{screen}"
    );
}

/// A project whose names only its files know: services, a profile of its own, a kind of its
/// own.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("services.toml"),
        "[services.postgres]\nkind = \"db\"\nimage = \"postgres:17\"\n\n\
         [services.payments]\nkind = \"http\"\nbuild = \".\"\n\n\
         [services.mailpit]\nkind = \"http\"\nimage = \"axllent/mailpit:v1.21\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("profiles/staging.toml"),
        "description = \"the staging host\"\nextends = \"prod\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("templates/kinds")).unwrap();
    std::fs::write(
        dir.path().join("templates/kinds/mailer.yml.j2"),
        "image: {{ service.image }}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("deploy/scripts")).unwrap();
    dir
}

/// What a user sees pressing Tab after `muster explain`, `--profile` and `add`: the project's
/// own names, found from a subfolder as `gen` finds the catalogue.
fn completes_the_projects_names(terminal: &Terminal) {
    terminal.keys(&["clear", "Enter"]);
    terminal.type_text("muster explain pa");
    terminal.keys(&["Tab"]);
    terminal.wait_for_text("muster explain payments ");
    terminal.keys(&["C-u"]);

    terminal.type_text("muster explain ");
    terminal.keys(&["Tab", "Tab"]);
    let screen = terminal.wait_for_text("mailpit");
    assert!(
        screen.contains("postgres") && screen.contains("payments"),
        "{screen}"
    );
    terminal.keys(&["C-c"]);

    terminal.keys(&["clear", "Enter"]);
    terminal.type_text("muster gen --profile st");
    terminal.keys(&["Tab"]);
    terminal.wait_for_text("muster gen --profile staging ");
    terminal.keys(&["C-u"]);

    terminal.type_text("muster add mai");
    terminal.keys(&["Tab"]);
    terminal.wait_for_text("muster add mailer ");
    terminal.keys(&["C-u"]);

    terminal.type_text("muster check --allow no-auto");
    terminal.keys(&["Tab"]);
    terminal.wait_for_text("muster check --allow no-autoheal");
    terminal.keys(&["C-u"]);
}

#[test]
fn bash_completes_the_projects_services_profiles_and_kinds() {
    let dir = project();
    let terminal = Terminal::new(&dir.path().join("deploy/scripts"));
    let (screen, code) = terminal.run("source <(muster completions bash)");
    assert_eq!(code, 0, "{screen}");
    completes_the_projects_names(&terminal);
}

#[test]
fn zsh_completes_the_projects_services_profiles_and_kinds() {
    let dir = project();
    let terminal = Terminal::with_shell(&dir.path().join("deploy/scripts"), ZSH);
    let (screen, code) =
        terminal.run("autoload -U compinit && compinit -u && source <(muster completions zsh)");
    assert_eq!(code, 0, "{screen}");
    completes_the_projects_names(&terminal);
}

#[test]
fn completions_for_every_shell_and_the_man_page_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = common::Muster::new()
            .args(&["completions", shell])
            .run()
            .success();
        // The script calls muster back at each Tab, asking for the shell's own answer.
        assert!(
            run.stdout.contains("COMPLETE") && run.stdout.contains(shell),
            "{shell}: {}",
            run.stdout
        );
        // The answer muster gives that shell for `muster check --allow no-a`.
        let answer = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["--", "muster", "check", "--allow", "no-a"])
            .env("COMPLETE", shell)
            .env("_CLAP_COMPLETE_INDEX", "3")
            .output()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer.stdout);
        assert!(answer.contains("no-autoheal"), "{shell}: {answer}");
    }
    let run = common::Muster::new().args(&["man"]).run().success();
    assert!(run.stdout.contains(".TH muster 1"), "not a man page");
    // man itself reads it back: a roff error would show as a warning or a missing section.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("muster.1");
    std::fs::write(&page, &run.stdout).unwrap();
    let man = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("`man` is on PATH (bash .ci/install installs man-db)");
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success(), "{man:?}");
    assert!(
        man.stderr.is_empty(),
        "man warned: {}",
        String::from_utf8_lossy(&man.stderr)
    );
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS"] {
        assert!(text.contains(section), "no {section} in:\n{text}");
    }

    // Each subcommand has a page of its own, with its options.
    let run = common::Muster::new()
        .args(&["man", "check"])
        .run()
        .success();
    assert!(run.stdout.contains(".TH muster-check 1"), "{}", run.stdout);
    std::fs::write(&page, &run.stdout).unwrap();
    let man = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.stderr.is_empty(),
        "man warned: {}",
        String::from_utf8_lossy(&man.stderr)
    );
    for flag in ["--list-lints", "--format", "--deny-warnings"] {
        assert!(text.contains(flag), "no {flag} in:\n{text}");
    }
    common::Muster::new()
        .args(&["man", "chek"])
        .run()
        .failure(2)
        .says("no subcommand `chek`; man pages: gen, check");
}
