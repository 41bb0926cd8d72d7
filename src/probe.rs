//! HTTP and TCP probes that run inside the image they check.
//!
//! The client is chosen from the image's tools (`images.rs`), never assumed: python-slim has no
//! curl, qdrant has neither curl nor wget, Prometheus has only busybox wget. Every builder returns
//! a Compose `test` list whose `$` are already doubled, so that Compose's interpolation hands the
//! container exactly the command written here.

use crate::model::ProbeStyle;
use std::fmt;

/// The client an HTTP probe runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpClient {
    Curl,
    Wget,
    /// busybox's wget applet, run as `busybox wget`: an image that has the busybox binary on
    /// PATH without a `wget` link (copied into a distroless image, say).
    BusyboxWget,
    Python,
    BashTcp,
    /// BusyBox wget that muster mounts into the container (`mounted_probe.rs`): the image needs
    /// nothing.
    Mounted,
}

/// `auto` prefers the clients that report HTTP errors most plainly, among those the image has;
/// the mounted one only where it has none, since it costs a mount (and on older targets a
/// service) the others do not.
const AUTO_ORDER: [HttpClient; 5] = [
    HttpClient::Curl,
    HttpClient::Wget,
    HttpClient::BusyboxWget,
    HttpClient::Python,
    HttpClient::BashTcp,
];

/// Whether `tools` hold a program one of the HTTP clients runs.
pub fn has_http_client(tools: &[&str]) -> bool {
    AUTO_ORDER.iter().any(|c| tools.contains(&c.program()))
}

impl HttpClient {
    pub fn name(self) -> &'static str {
        match self {
            HttpClient::Curl => "curl",
            HttpClient::Wget => "wget",
            HttpClient::BusyboxWget => "busybox-wget",
            HttpClient::Python => "python",
            HttpClient::BashTcp => "bash-tcp",
            HttpClient::Mounted => "mounted",
        }
    }

    /// The program the probe runs: one the image must have, except the mounted one.
    pub fn program(self) -> &'static str {
        match self {
            HttpClient::BashTcp => "bash",
            HttpClient::Mounted => crate::mounted_probe::PROGRAM,
            HttpClient::BusyboxWget => "busybox",
            other => other.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        AUTO_ORDER
            .into_iter()
            .chain([HttpClient::Mounted])
            .find(|c| c.name() == name)
    }
}

/// What the `probe` key may say: `auto`, each HTTP client by name, and `native`. The catalogue
/// checks, the schema and `choose` all read this list.
pub const REQUESTS: &[&str] = &[
    "auto", "curl", "wget", "python", "bash-tcp", "mounted", "native", "image",
];

/// How a service is probed, once the `probe` key, the kind and the image are taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The kind's template uses the engine's own client.
    Native,
    Http(HttpClient),
    None,
    /// No healthcheck from muster: the image's own `HEALTHCHECK`, if it declares one, runs.
    Image,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Probe::Native => f.write_str("native"),
            Probe::Http(c) => f.write_str(c.name()),
            Probe::None => f.write_str("none"),
            Probe::Image => f.write_str("image"),
        }
    }
}

/// Chooses the probe from the image's programs. `tools` is `None` where muster cannot tell them
/// (an image it does not know, a Dockerfile it cannot follow): `auto` then guesses python, the
/// base of the services this tool was made for, and resolve warns of the guess (lint
/// `unknown-image`) naming the `probe` to set. An image known to have no client gets the
/// mounted one.
pub fn choose(
    requested: Option<&str>,
    style: ProbeStyle,
    tools: Option<&[&str]>,
) -> Result<Probe, String> {
    let requested = requested.unwrap_or("auto");
    match (style, requested) {
        (_, "image") => Ok(Probe::Image),
        (ProbeStyle::None, "auto" | "native") => Ok(Probe::None),
        (ProbeStyle::None, other) => Err(format!(
            "probe = \"{other}\" has nothing to check: this kind runs to completion"
        )),
        (ProbeStyle::Native, "auto" | "native") => Ok(Probe::Native),
        (ProbeStyle::Native, other) => Err(format!(
            "probe = \"{other}\" does not apply: this kind is probed with its engine's own client; \
             use \"auto\", or set `healthcheck.test` to replace the probe"
        )),
        (ProbeStyle::Http, "native") => Err(
            "probe = \"native\" does not apply: this kind is probed over HTTP; use \"auto\", \
             \"curl\", \"wget\", \"python\", \"bash-tcp\" or \"mounted\""
                .to_owned(),
        ),
        (ProbeStyle::Http, "auto") => Ok(Probe::Http(match tools {
            None => HttpClient::Python,
            Some(tools) => AUTO_ORDER
                .into_iter()
                .find(|c| tools.contains(&c.program()))
                .unwrap_or(HttpClient::Mounted),
        })),
        (ProbeStyle::Http, name) => {
            let mut client =
                HttpClient::from_name(name).ok_or_else(|| format!("unknown probe \"{name}\""))?;
            // busybox runs its wget applet by name where the image has no `wget` link.
            if client == HttpClient::Wget
                && tools.is_some_and(|t| !t.contains(&"wget") && t.contains(&"busybox"))
            {
                client = HttpClient::BusyboxWget;
            }
            match tools {
                _ if client == HttpClient::Mounted => Ok(Probe::Http(client)),
                Some(tools) if !tools.contains(&client.program()) => {
                    let has = if tools.is_empty() {
                        "it has no shell and no programs muster knows of".to_owned()
                    } else {
                        format!("it has: {}", tools.join(", "))
                    };
                    let instead = match AUTO_ORDER
                        .into_iter()
                        .find(|c| tools.contains(&c.program()))
                    {
                        // busybox's applet is what `probe = "wget"` asks for there.
                        Some(HttpClient::BusyboxWget) => "probe = \"wget\" runs there".to_owned(),
                        Some(other) => format!("probe = \"{}\" runs there", other.name()),
                        None => "probe = \"mounted\" brings a client of muster's own".to_owned(),
                    };
                    Err(format!(
                        "probe = \"{name}\" cannot run: the image has no `{}` ({has}); {instead}",
                        client.program(),
                    ))
                }
                _ => Ok(Probe::Http(client)),
            }
        }
    }
}

/// A Compose `test` that fetches `http://127.0.0.1:PORT/PATH` and fails unless the answer is
/// 2xx. A redirect fails too where the client can say so (curl, python, bash): a health path that
/// redirects to a login page is not a health check. busybox wget always follows redirects and
/// has no option against it, so the wget and mounted probes do too. `127.0.0.1`, not `localhost`: busybox
/// wget tries `::1` first and does not fall back.
///
/// `timeout` bounds the client where it has a portable option for it; wget has none (Debian's
/// busybox crashes on `-T`), and there the healthcheck's own timeout stops the probe.
pub fn http_test(client: HttpClient, port: u16, path: &str, timeout: u64) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let timeout = timeout.max(1).to_string();
    let argv: Vec<String> = match client {
        // `-L --max-redirs 0` turns a redirect into an error; `-f` does the same for >= 400.
        HttpClient::Curl => [
            "curl",
            "-fsSL",
            "--max-redirs",
            "0",
            "-o",
            "/dev/null",
            "--max-time",
            &timeout,
            &url,
        ]
        .map(String::from)
        .into(),
        HttpClient::Wget => ["wget", "-q", "--spider", &url].map(String::from).into(),
        // The same busybox wget, from the program muster mounts: exec form, as the image may
        // have no shell to run a line.
        HttpClient::Mounted => [
            crate::mounted_probe::PROGRAM,
            "wget",
            "-q",
            "--spider",
            &url,
        ]
        .map(String::from)
        .into(),
        HttpClient::BusyboxWget => ["busybox", "wget", "-q", "--spider", &url]
            .map(String::from)
            .into(),
        // urlopen raises on >= 400 and on timeouts, and on 3xx once the redirect handler declines
        // to follow, so the exit status is the verdict. The URL is written as a JSON string,
        // which is also a valid Python string literal.
        HttpClient::Python => {
            let literal = serde_json::to_string(&url).expect("a string always serializes");
            let code = format!(
                "import urllib.request as u; \
                 h = type('NoRedirect', (u.HTTPRedirectHandler,), {{'redirect_request': lambda *a: None}}); \
                 u.build_opener(h).open({literal}, timeout={timeout})"
            );
            ["python", "-c", &code].map(String::from).into()
        }
        // Pure bash: no curl, wget or nc in the image. The status line must carry 200.
        HttpClient::BashTcp => {
            let script = format!(
                "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' {} >&3 && read -r -t {timeout} status <&3 && [[ $status == HTTP/*' 200'* ]]",
                shell_quote(path)
            );
            ["bash", "-c", &script].map(String::from).into()
        }
    };
    cmd(argv)
}

/// A Compose `test` that sends `send` over TCP and expects the first line of the answer to start
/// with `expect`, in pure bash (memcached's `version`, for instance).
pub fn tcp_test(port: u16, send: &str, expect: &str, timeout: u64) -> Vec<String> {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port} && printf '%s\\r\\n' {} >&3 && read -r -t {} line <&3 && [[ $line == {}* ]]",
        shell_quote(send),
        timeout.max(1),
        shell_quote(expect),
    );
    cmd(vec!["bash".into(), "-c".into(), script])
}

fn cmd(argv: Vec<String>) -> Vec<String> {
    std::iter::once("CMD".to_owned())
        .chain(argv.iter().map(|a| escape_dollars(a)))
        .collect()
}

/// Shell builtins and keywords: they need no program in the image.
const BUILTINS: &[&str] = &[
    "exec", "read", "printf", "echo", "test", "[", "[[", "true", "false", "exit", "cd", ":", "!",
];

/// The programs a Compose healthcheck `test` runs, as far as its text shows: the CMD's program,
/// or the first word of each command in a CMD-SHELL line (or a `sh -c`/`bash -c` script), which
/// is how muster checks a probe against the image it runs in.
pub fn programs<S: AsRef<str>>(test: &[S]) -> Vec<String> {
    let test: Vec<&str> = test.iter().map(AsRef::as_ref).collect();
    let mut found = Vec::new();
    match test.first().copied() {
        Some("CMD-SHELL") => shell_programs(test.get(1).copied().unwrap_or_default(), &mut found),
        Some("CMD") => {
            if let Some(&program) = test.get(1) {
                found.push(program.to_owned());
                let shell = matches!(program, "sh" | "bash" | "/bin/sh" | "/bin/bash");
                if shell && test.get(2).copied() == Some("-c") {
                    shell_programs(test.get(3).copied().unwrap_or_default(), &mut found);
                }
            }
        }
        _ => {}
    }
    found.sort();
    found.dedup();
    found
}

/// Reserved words that open or close a compound command (`if ...; then ...; fi`): the word after
/// an opening one is the command.
const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "{", "}",
];

/// First words of the commands in a shell line, skipping reserved words, builtins and variable
/// assignments.
/// Quotes are honoured, so a `|` or `;` inside a quoted argument does not start a command.
fn shell_programs(line: &str, found: &mut Vec<String>) {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let end_command = |words: &mut Vec<String>, found: &mut Vec<String>| {
        if let Some(first) = words
            .iter()
            .skip_while(|w| RESERVED.contains(&w.as_str()))
            .find(|w| !w.contains('='))
            && !BUILTINS.contains(&first.as_str())
        {
            found.push(first.clone());
        }
        words.clear();
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '|' | '&' | ';') => {
                if chars.peek() == Some(&c) {
                    chars.next();
                } else if c == '&' {
                    // A lone `&` is part of a redirection such as `>&3`.
                    word.push(c);
                    continue;
                }
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                end_command(&mut words, found);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    end_command(&mut words, found);
}

/// Quotes a word for POSIX sh: single quotes, with embedded single quotes closed and reopened.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Compose interpolates `$` in every value, healthchecks included; `$$` is a literal `$`.
pub fn escape_dollars(text: &str) -> String {
    text.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_what_the_image_has() {
        let http = ProbeStyle::Http;
        assert_eq!(
            choose(None, http, Some(&["sh", "bash"])),
            Ok(Probe::Http(HttpClient::BashTcp))
        );
        assert_eq!(
            choose(None, http, Some(&["wget", "curl"])),
            Ok(Probe::Http(HttpClient::Curl))
        );
        assert_eq!(
            choose(None, http, Some(&["sh", "wget"])),
            Ok(Probe::Http(HttpClient::Wget))
        );
        assert_eq!(
            choose(None, http, None),
            Ok(Probe::Http(HttpClient::Python))
        );
        // No client at all, with or without a shell: the mounted one.
        for none in [&[][..], &["sh"][..]] {
            assert_eq!(
                choose(None, http, Some(none)),
                Ok(Probe::Http(HttpClient::Mounted))
            );
        }
        assert_eq!(
            choose(None, http, Some(&["busybox"])),
            Ok(Probe::Http(HttpClient::BusyboxWget))
        );
        assert_eq!(
            choose(Some("wget"), http, Some(&["busybox"])),
            Ok(Probe::Http(HttpClient::BusyboxWget))
        );
        assert_eq!(
            http_test(HttpClient::BusyboxWget, 80, "/", 1)[..3],
            ["CMD", "busybox", "wget"]
        );
    }

    #[test]
    fn the_mounted_client_runs_in_any_image_when_asked_for() {
        for tools in [None, Some(&[][..]), Some(&["curl"][..])] {
            assert_eq!(
                choose(Some("mounted"), ProbeStyle::Http, tools),
                Ok(Probe::Http(HttpClient::Mounted))
            );
        }
        let test = http_test(HttpClient::Mounted, 8080, "/healthz", 4);
        assert_eq!(
            test,
            [
                "CMD",
                "/muster-probe/bin/busybox",
                "wget",
                "-q",
                "--spider",
                "http://127.0.0.1:8080/healthz"
            ]
        );
        assert!(choose(Some("mounted"), ProbeStyle::Native, None).is_err());
    }

    #[test]
    fn refuses_a_client_the_image_lacks() {
        let err = choose(Some("curl"), ProbeStyle::Http, Some(&["sh", "bash"])).unwrap_err();
        assert!(err.contains("has no `curl`"), "{err}");
        let err = choose(Some("wget"), ProbeStyle::Http, Some(&[])).unwrap_err();
        assert!(
            err.contains("no shell") && err.contains("\"mounted\""),
            "{err}"
        );
        assert!(choose(Some("curl"), ProbeStyle::Native, Some(&["curl"])).is_err());
        assert!(choose(Some("native"), ProbeStyle::Http, None).is_err());
    }

    #[test]
    fn container_variables_are_escaped_for_compose() {
        let test = http_test(HttpClient::BashTcp, 6333, "/readyz", 5);
        assert_eq!(&test[..3], ["CMD", "bash", "-c"]);
        assert!(test[3].contains("$$status"), "{}", test[3]);
        assert!(!test[3].replace("$$", "").contains('$'));
    }

    #[test]
    fn python_probe_quotes_the_url_as_a_literal() {
        let test = http_test(HttpClient::Python, 8000, "/a'b", 4);
        assert!(
            test[3].ends_with(r#".open("http://127.0.0.1:8000/a'b", timeout=4)"#),
            "{}",
            test[3]
        );
    }

    #[test]
    fn programs_are_read_from_every_probe_form() {
        let line = |s: &str| vec!["CMD-SHELL".to_owned(), s.to_owned()];
        assert_eq!(
            programs(&line("redis-cli -h 127.0.0.1 ping | grep -q PONG")),
            ["grep", "redis-cli"]
        );
        assert_eq!(programs(&line("A=1 curl -f x || exit 1")), ["curl"]);
        assert_eq!(programs(&line("echo 'a | b; c' && wget -q x")), ["wget"]);
        assert_eq!(
            programs(&line(
                "if [ -n x ]; then A=1 psql -c 1; elif true; then :; else pg_isready; fi"
            )),
            ["pg_isready", "psql"]
        );
        assert_eq!(
            programs(&http_test(HttpClient::BashTcp, 1, "/", 1)),
            ["bash"]
        );
        assert_eq!(programs(&tcp_test(1, "version", "VERSION", 1)), ["bash"]);
        assert_eq!(
            programs(&http_test(HttpClient::Python, 1, "/", 1)),
            ["python"]
        );
    }

    #[test]
    fn shell_quote_neutralises_metacharacters() {
        assert_eq!(shell_quote("/health"), "/health");
        assert_eq!(shell_quote("a b;c"), "'a b;c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
