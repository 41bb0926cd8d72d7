//! muster refuses a value exactly when the Compose loader (`docker-compose config -q`, Compose
//! 2.40.3) refuses it: each value is given to both, muster in a catalogue entry and Compose in a
//! service written by hand, and their verdicts must agree. What muster accepts it also writes,
//! and the file it writes must pass the loader too.
//!
//! The loader runs with an empty environment, as on a machine without `.env`: a variable
//! without a default is then empty, which is what muster cannot judge and lets through.

mod common;

use common::Muster;

/// One value, as a catalogue line of `[services.web]` and as the YAML of the same key under
/// `services.web`.
struct Case {
    toml: String,
    yaml: String,
}

fn loader(yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yml");
    std::fs::write(&file, yaml).unwrap();
    let out = common::tool("docker-compose")
        .arg("-f")
        .arg(&file)
        .args(["config", "-q"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// muster's verdict on the entry, and when it accepts, the loader's verdict on what it wrote.
fn muster(entry: &str) -> (bool, String) {
    let catalogue = format!("[services.web]\nkind = \"http\"\nimage = \"nginx:1.27\"\n{entry}\n");
    let m = Muster::new().catalogue(&catalogue).args(&[
        "gen",
        "--profile",
        "prod",
        "-o",
        "compose.yml",
    ]);
    let run = m.run();
    if run.code != 0 {
        return (false, run.stderr);
    }
    let written = std::fs::read_to_string(m.path("compose.yml")).unwrap();
    let (ok, why) = loader(&written);
    assert!(ok, "muster wrote what Compose refuses:\n{written}\n{why}");
    (true, run.stderr)
}

/// Runs every case through both and lists each disagreement; `expect` is Compose's verdict as
/// the cases were written, so that a loader that changed its mind is seen too.
fn agree(cases: &[(Case, bool)]) {
    let mut wrong = Vec::new();
    for (case, expect) in cases {
        let yaml = format!("services:\n  web:\n    image: nginx:1.27\n{}\n", case.yaml);
        let (compose_ok, compose_says) = loader(&yaml);
        assert_eq!(
            compose_ok, *expect,
            "the loader's verdict on {:?} changed: {compose_says}",
            case.yaml
        );
        let (muster_ok, muster_says) = muster(&case.toml);
        if compose_ok != muster_ok {
            wrong.push(format!(
                "{}: Compose {}, muster {}\n{compose_says}{muster_says}",
                case.toml,
                verdict(compose_ok),
                verdict(muster_ok)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn verdict(ok: bool) -> &'static str {
    if ok { "accepts" } else { "refuses" }
}

/// TOML and YAML literal strings: no escapes, so the text is the value.
fn quoted(value: &str) -> String {
    assert!(!value.contains('\''), "{value}");
    format!("'{value}'")
}

#[test]
fn interpolation_in_any_string_is_refused_as_compose_refuses_it() {
    // Compose reads an operand eagerly, so one it cannot read is refused even where the
    // variable is set (`${A:?${}}`); braces end where compose-go's counting ends them.
    let refused = [
        "${",
        "${A:-",
        "${A",
        "${1X}",
        "${A:=x}",
        "${ A}",
        "${A:}",
        "${}",
        "${A:?${}}",
        "${A:+${B}",
    ];
    let accepted = [
        "$",
        "a$ b",
        "$1",
        "$-",
        "$$",
        "${A-x}",
        "${A:-}}",
        "$${A",
        "$A",
        "${A:-{}",
        "${A:-{x}}",
        "${A:-a}b}",
        "${A:-{}}",
    ];
    let mut cases = Vec::new();
    for (values, ok) in [(&refused[..], false), (&accepted[..], true)] {
        for v in values {
            let q = quoted(v);
            cases.push((
                Case {
                    toml: format!("env = {{ E = {q} }}"),
                    yaml: format!("    environment: {{ E: {q} }}"),
                },
                ok,
            ));
            cases.push((
                Case {
                    toml: format!("labels = {{ team = {q} }}"),
                    yaml: format!("    labels: {{ team: {q} }}"),
                },
                ok,
            ));
            cases.push((
                Case {
                    toml: format!("command = [\"nginx\", {q}]"),
                    yaml: format!("    command: [nginx, {q}]"),
                },
                ok,
            ));
            cases.push((
                Case {
                    toml: format!(
                        "compose = {{ working_dir = {} }}",
                        quoted(&format!("/w{v}"))
                    ),
                    yaml: format!("    working_dir: {}", quoted(&format!("/w{v}"))),
                },
                ok,
            ));
        }
    }
    agree(&cases);
}

/// Compose interpolates `retries` and `deploy.replicas` and then casts them to numbers; muster
/// judges the value at its defaults as Compose casts it. A variable without a default is left
/// out here: the loader, with no environment, casts "" and refuses, while muster cannot know.
#[test]
fn counts_are_interpolated_and_cast_as_compose_does() {
    let values = [
        ("3", true),
        ("+3", true),
        ("007", true),
        ("${R:-3}", true),
        ("${R-5}", true),
        ("${R:-${S:-2}}", true),
        ("${R:-three}", false),
        ("${R:-1.5}", false),
        (" 3", false),
        ("-1", false),
        ("${R:-3", false),
    ];
    let mut cases = Vec::new();
    for (v, ok) in values {
        let q = quoted(v);
        cases.push((
            Case {
                toml: format!("healthcheck = {{ retries = {q} }}"),
                yaml: format!("    healthcheck: {{ test: [CMD, 'true'], retries: {q} }}"),
            },
            ok,
        ));
        cases.push((
            Case {
                toml: format!("replicas = {q}"),
                yaml: format!("    deploy: {{ replicas: {q} }}"),
            },
            ok,
        ));
        cases.push((
            Case {
                toml: format!("compose = {{ healthcheck = {{ retries = {q} }} }}"),
                yaml: format!("    healthcheck: {{ test: [CMD, 'true'], retries: {q} }}"),
            },
            ok,
        ));
    }
    agree(&cases);
}

/// A `command` or `entrypoint` string is split by Compose into words (go-shellwords), which
/// refuses some strings a shell would take; muster refuses exactly those.
#[test]
fn command_strings_are_refused_as_compose_splits_them() {
    let refused = [
        "python man`ge.py",
        "echo (hi)",
        "echo $$(date",
        "echo \"a",
        "echo a\\",
        "x)",
        "echo $$((1+2))",
        "$$(a)(b)",
    ];
    let accepted = [
        "echo `date`",
        "echo $$(date)",
        "echo \"(x)\"",
        "echo \\(",
        "echo a; echo b",
        "a > b",
        "sh -c \"echo a; echo b\"",
    ];
    let mut cases = Vec::new();
    for (values, ok) in [(&refused[..], false), (&accepted[..], true)] {
        for v in values {
            let q = quoted(v);
            for key in ["command", "entrypoint"] {
                cases.push((
                    Case {
                        toml: format!("{key} = {q}"),
                        yaml: format!("    {key}: {q}"),
                    },
                    ok,
                ));
            }
        }
    }
    agree(&cases);
}

/// A service key muster passes through (`compose` table) is refused exactly when Compose does
/// not know it; `x-` keys are Compose's extensions and pass.
#[test]
fn service_keys_are_the_ones_compose_knows() {
    let cases: Vec<(Case, bool)> = [
        ("envioonment", false),
        ("mem_limt", false),
        ("x-team", true),
        ("mem_limit", true),
        ("use_api_socket", true),
        ("stop_signal", true),
    ]
    .into_iter()
    .map(|(key, ok)| {
        let value = match key {
            "use_api_socket" => "true",
            "mem_limit" | "mem_limt" => "'256m'",
            "stop_signal" => "'SIGTERM'",
            _ => "'x'",
        };
        (
            Case {
                toml: format!("compose = {{ {key} = {value} }}"),
                yaml: format!("    {key}: {value}"),
            },
            ok,
        )
    })
    .collect();
    agree(&cases);
}
